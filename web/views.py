"""What the pages show, in the plan's words: a unit's rows (task, period, due, colour, what is missing, where its
feedback and extension stand) and the 专班's queues. Templates live in web/templates (Jinja2, autoescaped)."""

from __future__ import annotations

from datetime import date, timedelta
from typing import Any

from jinja2 import Environment, PackageLoader, select_autoescape

from fuquan.plans.policy import LABELS, platform_of
from fuquan.tracking.judge import FINISHED, RED, YELLOW
from fuquan.tracking.ledger import Row
from reports.status import DOT
from usecases.board import Board
from usecases.pages import OfficePage, UnitPage

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


def _items(r: Row, figures: tuple[str, ...]) -> list[dict[str, Any]]:
    """What a tracked row still owes, each with the fields its kind asks for (web/forms.py reads them back)."""
    return [{"key": i.key, "label": i.label, "kind": i.kind, "figures": figures if i.kind == "report" else (),
             "doc_no": i.kind == "letter", "counts": i.kind == "exam"} for i in r.owed]


def _row(r: Row, titles: dict[int, str], figures: tuple[str, ...], today: date, closed: bool) -> dict[str, Any]:
    j, open_ = r.judgement, not r.judgement.colour.finished and not closed
    items = _items(r, figures) if r.tracked else []
    return {"task": r.task_no, "title": r.title or titles.get(r.task_no, ""), "period": r.period, "label": r.label,
            "due": j.due, "colour": DOT.get(j.colour, j.colour), "css": CSS.get(j.colour, ""), "state": _state(r),
            "missing": "、".join(r.missing[:6]) + (f" 等 {len(r.missing)} 项" if len(r.missing) > 6 else ""),
            "review": r.review, "extension": r.extension, "tracked": r.tracked, "owed": items,
            "report": r.role == "report", "answerable": open_ and (bool(items) or not r.tracked),
            "extendable": open_ and j.due is not None and j.due >= today and r.extension != "待批",
            "deadline": r.deadline_text, "min_date": (j.due + timedelta(days=1)).isoformat() if j.due else ""}


def _lines(rs: list[Any], titles: dict[int, str]) -> list[str]:
    """A reminder's lines, each once: a message may hold the same task twice (a repeat beside its first)."""
    lines = (f"任务{r.task_no} {titles.get(r.task_no, '')} · {KIND.get(r.kind, r.kind)}" + (
        f" (截止 {r.due})" if r.due else "") for r in rs)
    return list(dict.fromkeys(lines))


def unit_values(view: UnitPage, today: date) -> dict[str, Any]:
    sp = view.plan
    titles = {t.no: t.title for t in sp.plan.tasks}
    closed = bool(view.closed)
    rows = [_row(r, titles, sp.plan.report_figures, today, closed) for r in view.rows]
    task_no = {tid: no for no, tid in sp.task_ids.items()}
    reminders = [{"id": m.id, "day": m.day, "title": m.title, "lines": _lines(rs, titles)} for m, rs in view.reminders]
    feedback = [{"task": task_no.get(f.task_id), "period": f.period, "status": f.status, "note": f.note, "state": f.state,
                 "reason": f.reason, "by": f.decided_by, "on": f.submitted_on,
                 "files": [view.files[i] for i in f.evidence if i in view.files]} for f in view.feedback]
    extensions = [_ext(e, task_no, sp.names, titles, today) for e in view.extensions]
    return {"plan": sp, "unit": view.unit, "rows": rows, "has_period": any(r["label"] for r in rows),
            "reminders": reminders, "feedback": feedback, "extensions": extensions, "closed": view.closed,
            "to_decide": [_ext(e, task_no, sp.names, titles, today) for e in view.to_decide],
            "towns_word": sp.plan.words.towns, "review": sp.plan.answers.review, "today": today.isoformat()}


def _ext(e: Any, task_no: dict[int, int], names: dict[int, str], titles: dict[int, str], today: date) -> dict[str, Any]:
    return {"id": e.id, "late": e.state == "待批" and e.reply_by < today, "task": task_no.get(e.task_id), "title": titles.get(task_no.get(e.task_id, 0), ""), "unit": names.get(e.unit_id, ""), "period": e.period,
            "due": e.due, "new_due": e.new_due, "reason": e.reason, "state": e.state, "reply_by": e.reply_by,
            "by": e.decided_by, "decision_reason": e.decision_reason, "asked_on": e.asked_on}


def _waiting(rows: list[Any]) -> str:
    """Who a message reached and has not answered from it: 未回应: 王芳、李强 (钉钉). Where the platform reports
    read status (the chase's repeat in DingTalk): 未读: 王芳 (钉钉); 已读未签收: 李强 (钉钉), the unread first."""
    by: dict[tuple[str, str], list[str]] = {}
    for r in rows:
        state = "未回应" if r.checked_at is None else "已读未签收" if r.read_at is not None else "未读"
        by.setdefault((state, LABELS.get(platform_of(r.platform), r.platform)), []).append(r.person_name)
    order = ("未读", "未回应", "已读未签收")  # who most needs chasing first
    return "; ".join(f"{state}: {'、'.join(names)} ({where})"
                     for (state, where), names in sorted(by.items(), key=lambda kv: order.index(kv[0][0])))


def office_values(view: OfficePage, today: date) -> dict[str, Any]:
    sp = view.plan
    task_no = {tid: no for no, tid in sp.task_ids.items()}
    titles = {t.no: t.title for t in sp.plan.tasks}
    unacked: dict[int, dict[str, Any]] = {}
    for r, m, days in view.unacked:
        entry = unacked.setdefault(m.id or 0, {"unit": m.recipient, "title": m.title, "day": m.day, "days": days,
                                               "tasks": [], "waiting": _waiting(view.waiting.get(m.id or 0, []))})
        if r.task_no not in entry["tasks"]:
            entry["tasks"].append(r.task_no)
    feedback = [{"id": f.id, "unit": sp.names.get(f.unit_id, ""), "task": task_no.get(f.task_id),
                 "title": titles.get(task_no.get(f.task_id, 0), ""), "period": f.period, "status": f.status,
                 "note": f.note, "on": f.submitted_on, "files": [view.files[i] for i in f.evidence if i in view.files]}
                for f in view.feedback]
    # (an extension has a new due date, feedback has none: told apart without importing models)
    decided = [{"what": "延期" if hasattr(d, "new_due") else "反馈", "unit": sp.names.get(d.unit_id, ""),
                "task": task_no.get(d.task_id), "state": d.state, "by": d.decided_by, "at": d.decided_at,
                "reason": getattr(d, "decision_reason" if hasattr(d, "new_due") else "reason")} for d in view.decided]
    for entry in unacked.values():
        entry["tasks"] = [f"任务{n}" for n in sorted(entry["tasks"])]
    # one message is one 提醒, however many items it names: counted as the unit's page and `status` count them
    return {"plan": sp, "unacked": sorted(unacked.values(), key=lambda e: -e["days"]), "feedback": feedback,
            "unacked_units": len({e["unit"] for e in unacked.values()}), "unacked_reminders": len(unacked),
            "closed": view.plan.closed,
            "extensions": [_ext(e, task_no, sp.names, titles, today) for e in view.extensions], "decided": decided,
            "by": sp.plan.answers.extensions_by}


def board_values(b: Board, plan: Any, *, screen: bool, desk: bool, here: str) -> dict[str, Any]:
    """The board's page: the totals, the overdue table (on a 大屏 the worst 20), the by-town and by-unit tables."""
    return {"plan": plan, "today": b.today, "traffic": b.traffic, "done": sum(t.rollup.done for t in b.tasks),
            "late": b.late, "late_all": b.late_all, "late_units": b.late_units, "worst": b.worst,
            "by_unit": b.by_unit, "by_town": b.by_town, "tasks": b.tasks, "units": b.units, "towns": b.towns,
            "towns_word": plan.plan.words.towns, "filters": b.filters, "waiting": b.waiting, "todo": sum(b.waiting[:2]),
            "screen": screen, "desk": desk, "here": here, "limit": 20 if screen else 500}
