"""What the pages show, in the plan's words: a unit's rows (task, period, due, colour, what is missing, where its
feedback and extension stand) and the 专班's queues. Templates live in web/templates (Jinja2, autoescaped)."""

from __future__ import annotations

from datetime import date, timedelta
from typing import Any

from jinja2 import Environment, PackageLoader, select_autoescape

from fuquan.tracking.judge import FINISHED, RED, YELLOW
from fuquan.tracking.ledger import Row
from models.answers import FeedbackRow
from reports.status import DOT
from usecases.answers import OfficePage, UnitPage

_ENV = Environment(loader=PackageLoader("web", "templates"), autoescape=select_autoescape(default=True),
                   trim_blocks=True, lstrip_blocks=True)
KIND = {"overdue": "已逾期", "before": "即将到期", "escalation": "请督促", "nudge": "请报送进展", "again": "未签收, 再次提醒",
        "unacked": "未签收"}
CSS = {RED: "red", YELLOW: "yellow"}


def render(template: str, **values: Any) -> str:
    return _ENV.get_template(template).render(**values)


def _state(r: Row) -> str:
    j = r.judgement
    if j.colour == RED:
        return f"逾期 {j.workdays_late} 个工作日"
    if j.workdays_left is not None and j.colour not in FINISHED:
        return f"剩 {j.workdays_left} 个工作日"
    return ""


def unit_values(view: UnitPage, today: date) -> dict[str, Any]:
    sp = view.plan
    titles = {t.no: t.title for t in sp.plan.tasks}
    rows = [{"task": r.task_no, "title": r.title or titles.get(r.task_no, ""), "period": r.label
             if r.role != "report" else "", "label": r.label, "due": r.judgement.due, "colour": DOT.get(r.judgement.colour,
             r.judgement.colour), "css": CSS.get(r.judgement.colour, ""), "state": _state(r),
             "missing": "、".join(r.missing[:6]) + (f" 等 {len(r.missing)} 项" if len(r.missing) > 6 else ""),
             "review": r.review, "extension": r.extension, "open": r.judgement.colour not in FINISHED,
             "report": r.role == "report" and r.judgement.colour not in FINISHED,
             "answerable": r.role != "report" and r.judgement.colour not in FINISHED,
             "extendable": r.role != "report" and r.judgement.due is not None and r.judgement.due >= today
             and r.judgement.colour not in FINISHED and r.extension != "待批", "deadline": r.deadline_text,
             "min_date": (r.judgement.due + timedelta(days=1)).isoformat() if r.judgement.due else ""}
            for r in view.rows]
    task_no = {tid: no for no, tid in sp.task_ids.items()}
    reminders = [{"id": m.id, "day": m.day, "title": m.title, "lines": [
        f"任务{r.task_no} {titles.get(r.task_no, '')} · {KIND.get(r.kind, r.kind)}" + (f" (截止 {r.due})" if r.due else "")
        for r in rs]} for m, rs in view.reminders]
    feedback = [{"task": task_no.get(f.task_id), "period": f.period, "status": f.status, "note": f.note, "state": f.state,
                 "reason": f.reason, "by": f.decided_by, "on": f.submitted_on,
                 "files": [view.files[i] for i in f.evidence if i in view.files]} for f in view.feedback]
    extensions = [_ext(e, task_no, sp.names, titles, today) for e in view.extensions]
    return {"plan": sp, "unit": view.unit, "rows": rows, "has_period": any(r["period"] for r in rows), "reminders": reminders, "feedback": feedback,
            "extensions": extensions, "to_decide": [_ext(e, task_no, sp.names, titles, today) for e in view.to_decide],
            "towns_word": sp.plan.words.towns, "review": sp.plan.answers.review}


def _ext(e: Any, task_no: dict[int, int], names: dict[int, str], titles: dict[int, str], today: date) -> dict[str, Any]:
    return {"id": e.id, "late": e.state == "待批" and e.reply_by < today, "task": task_no.get(e.task_id), "title": titles.get(task_no.get(e.task_id, 0), ""), "unit": names.get(e.unit_id, ""), "period": e.period,
            "due": e.due, "new_due": e.new_due, "reason": e.reason, "state": e.state, "reply_by": e.reply_by,
            "by": e.decided_by, "decision_reason": e.decision_reason, "asked_on": e.asked_on}


def office_values(view: OfficePage, today: date) -> dict[str, Any]:
    sp = view.plan
    task_no = {tid: no for no, tid in sp.task_ids.items()}
    titles = {t.no: t.title for t in sp.plan.tasks}
    unacked: dict[int, dict[str, Any]] = {}
    for r, m, days in view.unacked:
        entry = unacked.setdefault(m.id or 0, {"unit": m.recipient, "title": m.title, "day": m.day, "days": days,
                                               "tasks": []})
        if r.task_no not in entry["tasks"]:
            entry["tasks"].append(r.task_no)
    feedback = [{"id": f.id, "unit": sp.names.get(f.unit_id, ""), "task": task_no.get(f.task_id),
                 "title": titles.get(task_no.get(f.task_id, 0), ""), "period": f.period, "status": f.status,
                 "note": f.note, "on": f.submitted_on, "files": [view.files[i] for i in f.evidence if i in view.files]}
                for f in view.feedback]
    decided = [{"what": "反馈" if isinstance(d, FeedbackRow) else "延期", "unit": sp.names.get(d.unit_id, ""),
                "task": task_no.get(d.task_id), "state": d.state, "by": d.decided_by, "at": d.decided_at,
                "reason": d.reason if isinstance(d, FeedbackRow) else d.decision_reason} for d in view.decided]
    for entry in unacked.values():
        entry["tasks"] = [f"任务{n}" for n in sorted(entry["tasks"])]
    return {"plan": sp, "unacked": sorted(unacked.values(), key=lambda e: -e["days"]), "feedback": feedback,
            "unacked_reminders": len(view.unacked),
            "extensions": [_ext(e, task_no, sp.names, titles, today) for e in view.extensions], "decided": decided,
            "by": sp.plan.answers.extensions_by}
