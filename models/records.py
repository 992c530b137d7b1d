"""Recording progress: one function per kind of fact, each writing an audit row per changed field.

Callers pass the session (one transaction per command or per import) and the StoredPlan read once for
the run; names resolve through its Plan. Values are checked by fuquan.tracking.progress before anything is written.
"""

from __future__ import annotations

import itertools
from collections.abc import Callable
from datetime import date
from typing import Any

from sqlmodel import Session, SQLModel, select

from fuquan.dates.deadline import owed_periods
from fuquan.dates.deadline_model import report_months
from fuquan.errors import InvalidValue, NotApplicable
from fuquan.tracking import progress
from fuquan.tracking.actor import Actor
from fuquan.tracking.states import Progress

from .items import (
    AuditRow,
    ExamSittingRow,
    ExamTownRow,
    LetterRow,
    MonthlyReportRow,
    PeriodStatusRow,
    TrainingDoneRow,
    TrainingPlanRow,
    TrainingSessionRow,
)
from .stored import StoredPlan
from .tables import AssignmentRow, utcnow

FIELD_LABEL = {"signed_on": "签订日期", "drafted_on": "起草日期", "filed_on": "报送日期", "completed_on": "完成日期",
               "submitted_on": "报送日期", "figures": "月报指标", "candidates": "应考人数", "sat": "实考人数",
               "passed": "通过人数", "pre_training_on": "考前培训日期", "certified_on": "证件换领日期"}
TEXT_LABEL = {"note": "备注", "evidence": "佐证材料", "doc_no": "文号", "signed_by": "签订人", "status": "状态"}


def for_each_member(fn: Callable[..., Any], session: Session, sp: StoredPlan, actor: Actor, today: date,
                    **kw: Any) -> list[dict[str, str]]:
    """`fn` once per unit meant: a group named as department, town or unit (区级执法单位, 各镇) stands for each
    of its members. Returns the units of each record written ({"department": …, "town": …})."""
    keys = [k for k in ("department", "town", "unit") if isinstance(kw.get(k), str)]
    combos = [dict(zip(keys, c, strict=True)) for c in itertools.product(*(sp.plan.members(kw[k]) for k in keys))]
    written = []
    for combo in combos:
        try:
            fn(session, sp, actor, today, **{**kw, **combo})
        except NotApplicable:
            if len(combos) == 1:
                raise
            continue  # a group covers the cells that apply
        written.append(combo)
    return written


def _past(sp: StoredPlan, d: date | None, today: date, label: str) -> None:
    """A date of something done: not after today, not before the year before the plan's (fuquan.tracking.progress)."""
    progress.done_date(d, today, sp.plan.year, label)


def _fmt(v: Any) -> str | None:
    return None if v is None else v.isoformat() if isinstance(v, date) else str(v)


def upsert(session: Session, model: type[SQLModel], key: dict[str, Any], values: dict[str, Any],
           actor: Actor, ref: str, *, plan_id: int | None) -> SQLModel:
    """Insert or update the row identified by `key`, auditing every field that changes. Free text is checked
    here, once for every kind of record (UTF-8, no control characters, bounded)."""
    progress.text(actor.by, "登记人")
    for k, v in values.items():
        if isinstance(v, str):
            progress.text(v, TEXT_LABEL.get(k, k))
    stmt = select(model)
    for k, v in key.items():
        stmt = stmt.where(getattr(model, k) == v)
    row = session.exec(stmt).first()
    if row is None:
        row = model(**key, **values)
        session.add(row)
        changed = {k: (None, v) for k, v in values.items() if v is not None}
    else:
        changed = {k: (getattr(row, k), v) for k, v in values.items() if getattr(row, k) != v}
        # What this corrects (a status moving on is progress, not a correction): a command says so, an import
        # refuses without --replace — a late 月报 re-imported as on time must never happen silently.
        replaced = [f"{TEXT_LABEL.get(k, FIELD_LABEL.get(k, k))} {_fmt(old)} → {_fmt(new)}"
                    for k, (old, new) in changed.items() if old is not None and k != "status"]
        if replaced and not actor.replace:
            raise InvalidValue(f"将改变已有记录 {ref}: {'; '.join(replaced)}; {actor.how_to_replace}")
        session.info.setdefault("replaced", []).extend(f"{ref} {r}" for r in replaced)
        for k, (_, v) in changed.items():
            setattr(row, k, v)
    session.add_all(AuditRow(plan_id=plan_id, by=actor.by, source=actor.source, entity=str(model.__tablename__), ref=ref,
                             field=k, old=_fmt(old), new=_fmt(new)) for k, (old, new) in changed.items())
    return row


def sign_letter(session: Session, sp: StoredPlan, actor: Actor, today: date, *, task_no: int | None,
                department: str, town: str, signed_on: date | None, drafted_on: date | None = None,
                doc_no: str | None = None, signed_by: str | None = None) -> LetterRow:
    task = sp.plan.tracked("letters", task_no)
    no, (depts, towns) = task.no, task.track.letters or ((), ())
    (d, d_id), (t, t_id) = sp.unit_id(department, depts, "部门"), sp.town_id(town, towns)
    if not task.track.applies("letters", d, t):
        raise NotApplicable(f"{d} 与 {t} 不签承接确认书 (计划中标为不适用)")
    _past(sp, signed_on, today, "签订日期")
    _past(sp, drafted_on, today, "起草日期")
    values = {"signed_on": signed_on, "drafted_on": drafted_on, "doc_no": doc_no, "signed_by": signed_by}
    values = {k: v for k, v in values.items() if v is not None}
    return upsert(session, LetterRow, {"task_id": sp.task_id(no), "department_id": d_id, "town_id": t_id},  # type: ignore[return-value]
                  values, actor, f"任务{no}/{d}/{t}", plan_id=sp.id)


def file_training_plan(session: Session, sp: StoredPlan, actor: Actor, today: date, *, task_no: int | None,
                       department: str, filed_on: date) -> SQLModel:
    task = sp.plan.tracked("training", task_no)
    d, d_id = sp.unit_id(department, (task.track.training or ((), ()))[0], "部门")
    _past(sp, filed_on, today, "报送日期")
    return upsert(session, TrainingPlanRow, {"task_id": sp.task_id(task.no), "department_id": d_id},
                  {"filed_on": filed_on}, actor, f"任务{task.no}/{d}/培训指导计划", plan_id=sp.id)


def add_training_session(session: Session, sp: StoredPlan, actor: Actor, today: date, *, task_no: int | None,
                         department: str, held_on: date, form: str, attendees: int, towns: list[str],
                         note: str | None = None) -> TrainingSessionRow:
    task = sp.plan.tracked("training", task_no)
    no, (depts, all_towns) = task.no, task.track.training or ((), ())
    d, d_id = sp.unit_id(department, depts, "部门")
    names = list(dict.fromkeys(sp.plan.pick(m, all_towns, sp.plan.words.towns) for t in towns for m in sp.plan.members(t)))
    _past(sp, held_on, today, "培训日期")
    progress.training_form(form, sp.plan.words.training_forms)
    if attendees <= 0:
        raise InvalidValue(f"参训人次应大于 0, 实为 {attendees} (没有人参加的培训不必登记)")
    progress.count(attendees, "参训人次")
    if note is not None:
        progress.text(note, "备注")
    # A session has no number of its own: it is what it says (who, when, how, which towns, how many). The same
    # sheet imported twice, or a command run twice, records it once.
    same = session.exec(select(TrainingSessionRow).where(
        TrainingSessionRow.task_id == sp.task_id(no), TrainingSessionRow.department_id == d_id,
        TrainingSessionRow.held_on == held_on, TrainingSessionRow.form == form,
        TrainingSessionRow.attendees == attendees)).all()
    for row in same:
        if list(row.towns) == names:
            return upsert(session, TrainingSessionRow, {"id": row.id}, {"note": note} if note else {}, actor,  # type: ignore[return-value]
                          f"任务{no}/{d}/{'、'.join(names)}", plan_id=sp.id)
    row = TrainingSessionRow(task_id=sp.task_id(no), department_id=d_id, held_on=held_on, form=form,
                             attendees=attendees, towns=names, note=note)
    session.add(row)
    session.add(AuditRow(plan_id=sp.id, by=actor.by, source=actor.source, entity="training_session",
                         ref=f"任务{no}/{d}/{'、'.join(names)}", field="held_on", new=held_on.isoformat()))
    return row


def complete_training(session: Session, sp: StoredPlan, actor: Actor, today: date, *, task_no: int | None,
                      department: str, town: str, completed_on: date) -> SQLModel:
    task = sp.plan.tracked("training", task_no)
    depts, towns = task.track.training or ((), ())
    (d, d_id), (t, t_id) = sp.unit_id(department, depts, "部门"), sp.town_id(town, towns)
    if not task.track.applies("training", d, t):
        raise NotApplicable(f"{d} 不对 {t} 开展岗前培训 (计划中标为不适用)")
    _past(sp, completed_on, today, "完成日期")
    return upsert(session, TrainingDoneRow, {"task_id": sp.task_id(task.no), "department_id": d_id, "town_id": t_id},
                  {"completed_on": completed_on}, actor, f"任务{task.no}/{d}/{t}", plan_id=sp.id)


def record_exam(session: Session, sp: StoredPlan, actor: Actor, today: date, *, task_no: int | None, town: str,
                exam_on: date, candidates: int | None = None, sat: int | None = None,
                passed: int | None = None) -> SQLModel:
    """Schedule a sitting (no results yet) or record its results; the date may be in the future
    only while no results are given."""
    no = sp.plan.tracked("exams", task_no).no
    t, t_id = sp.town_id(town, sp.plan.task(no).track.exams or ())
    progress.exam_counts(candidates, sat, passed)
    if sat is not None:
        _past(sp, exam_on, today, "考试日期")
    progress.in_plan_years(exam_on, sp.plan.year, "考试日期")
    values = {k: v for k, v in {"candidates": candidates, "sat": sat, "passed": passed}.items() if v is not None}
    return upsert(session, ExamSittingRow, {"task_id": sp.task_id(no), "town_id": t_id, "exam_on": exam_on},
                  values, actor, f"任务{no}/{t}/考试{exam_on}", plan_id=sp.id)


def set_exam_town(session: Session, sp: StoredPlan, actor: Actor, today: date, *, task_no: int | None, town: str,
                  pre_training_on: date | None = None, certified_on: date | None = None) -> SQLModel:
    no = sp.plan.tracked("exams", task_no).no
    t, t_id = sp.town_id(town, sp.plan.task(no).track.exams or ())
    _past(sp, pre_training_on, today, "考前培训日期")
    _past(sp, certified_on, today, "证件换领日期")
    values = {k: v for k, v in {"pre_training_on": pre_training_on, "certified_on": certified_on}.items() if v}
    return upsert(session, ExamTownRow, {"task_id": sp.task_id(no), "town_id": t_id}, values, actor, f"任务{no}/{t}",
                  plan_id=sp.id)


def submit_report(session: Session, sp: StoredPlan, actor: Actor, today: date, *, task_no: int | None, town: str,
                  period: str, submitted_on: date, figures: dict[str, Any]) -> SQLModel:
    task = sp.plan.tracked("monthly_reports", task_no)
    t, t_id = sp.town_id(town, task.track.monthly_reports or ())
    period = progress.period(period, sp.plan.year)
    # the months the task's 月报 cover (the month due in, or the month before: monthly_report.covers)
    owed = [m for m, _ in report_months(task.deadline, sp.plan.issued, sp.plan.year, task.track.covers)]
    if period not in owed:
        said = "当月" if task.track.covers == "当月" else "上月 (次月报送)"
        raise InvalidValue(f"月份 {period} 不是任务 {task.no} 的报送期 (计划印发后的报送期: {owed[0] if owed else '无'} 至 "
                           f"{owed[-1] if owed else '无'}; 每期月报报{said}的情况)")
    _past(sp, submitted_on, today, "报送日期")
    clean = progress.figures(figures, sp.plan.report_figures, sp.plan.decimal_figures)
    return upsert(session, MonthlyReportRow, {"task_id": sp.task_id(task.no), "town_id": t_id, "period": period},
                  {"submitted_on": submitted_on, "figures": clean}, actor, f"任务{task.no}/{t}/{period}", plan_id=sp.id)


def set_task_status(session: Session, sp: StoredPlan, actor: Actor, today: date, *, task_no: int, unit: str,
                    status: str, completed_on: date | None = None, note: str | None = None,
                    evidence: str | None = None, period: str | None = None) -> SQLModel:
    """An untracked share's (or one period's) status. An extension is not a status: it is an extension request
    (models/answers.py), asked and decided through usecases.answers."""
    task = sp.plan.task(task_no)
    owners = [a.unit for a in sp.plan.assignees(task)]
    u, u_id = sp.unit_id(unit, owners, f"任务 {task_no} 的责任单位")
    if how := task.track.recorded_by(u):
        # its status follows from the items recorded: a status set here would say "已更新" and change nothing
        raise InvalidValue(f"任务 {task_no} 中 {u} 的完成情况按{how}自动判断, 请登记这些事项; "
                           f"task set 对它只用于申请延期")
    state = progress.task_state(status, completed_on)
    _past(sp, completed_on, today, "完成日期")
    done = completed_on if state == Progress.DONE else None
    extra = {k: v for k, v in (("note", note), ("evidence", evidence)) if v is not None}
    if task.deadline.periodic and not task.track.monthly_reports:
        # owed once per period: which one is being recorded must be said
        owed = owed_periods(task.deadline, sp.plan.issued, sp.plan.year)
        if period not in owed:
            said = f"“{period}” 不是其中之一" if period else "请用 --period 指明是哪一期"
            raise InvalidValue(f"任务 {task_no} 按期完成 ({task.deadline.text}), {said}; 可登记的期: {'、'.join(owed)}")
        return upsert(session, PeriodStatusRow, {"task_id": sp.task_id(task_no), "unit_id": u_id, "period": period},
                      {"status": state.value, "completed_on": done, **extra}, actor, f"任务{task_no}/{u}/{period}",
                      plan_id=sp.id)
    if period:
        raise InvalidValue(f"任务 {task_no} 不是周期性任务, 不需要 --period")
    row = upsert(session, AssignmentRow, {"task_id": sp.task_id(task_no), "unit_id": u_id},
                 {"status": state.value, "completed_on": done, **extra}, actor, f"任务{task_no}/{u}", plan_id=sp.id)
    row.updated_at = utcnow()  # type: ignore[attr-defined]
    return row
