"""Recording progress: one function per kind of fact, each writing an audit row per changed field.

Callers pass the session (one transaction per command or per import) and a PlanIndex that resolves
names to rows once. Values are checked by fuquan.progress before anything is written.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from datetime import date
from typing import Any

from sqlmodel import Session, SQLModel, col, select

from fuquan import progress
from fuquan.errors import InvalidValue, LookupFailed
from fuquan.plan import Track
from fuquan.text import name_key

from .items import (
    AuditRow,
    ExamSittingRow,
    ExamTownRow,
    LetterRow,
    MonthlyReportRow,
    TrainingDoneRow,
    TrainingPlanRow,
    TrainingSessionRow,
)
from .tables import AssignmentRow, GroupMemberRow, GroupRow, PlanRow, TaskRow, UnitRow, utcnow

KIND_LABEL = {"letters": "承接确认书", "training": "岗前培训", "exams": "法律知识考试", "monthly_reports": "月报"}


@dataclass(frozen=True)
class Actor:
    by: str
    source: str = "cli"


class PlanIndex:
    """Names → rows for one plan, read in three queries."""

    def __init__(self, session: Session, plan: PlanRow) -> None:
        self.plan = plan
        self.units = {u.name: u for u in session.exec(select(UnitRow).where(UnitRow.plan_id == plan.id, UnitRow.active))}
        self.tasks = {t.no: t for t in session.exec(select(TaskRow).where(TaskRow.plan_id == plan.id, TaskRow.active))}
        self.tracks = {no: Track.from_dict(json.loads(t.track)) for no, t in self.tasks.items()}
        self.figures = tuple(json.loads(plan.report_figures))
        by_id = {u.id: u.name for u in self.units.values()}
        stmt = (select(GroupRow.name, GroupMemberRow.unit_id).join(GroupMemberRow, GroupMemberRow.group_id == GroupRow.id)  # type: ignore[arg-type]
                .where(GroupRow.plan_id == plan.id, GroupRow.active).order_by(col(GroupMemberRow.position)))
        self.groups: dict[str, list[str]] = {}
        for group, unit_id in session.exec(stmt):
            self.groups.setdefault(group, []).append(by_id[unit_id])

    def expand(self, name: str) -> list[str]:
        """A group name (区级执法单位) → its members; a unit name → itself."""
        group = next((g for g in self.groups if name_key(g) == name_key(name)), None)
        return list(self.groups[group]) if group else [name]

    def task(self, no: int) -> TaskRow:
        if no not in self.tasks:
            raise LookupFailed("任务", str(no), [str(n) for n in sorted(self.tasks)])
        return self.tasks[no]

    def tracked(self, kind: str, no: int | None = None) -> int:
        """The task tracked by `kind` (letters, training, …); `no` picks one when several are."""
        have = [n for n, t in sorted(self.tracks.items()) if getattr(t, kind)]
        if no is not None:
            if no not in have:
                raise LookupFailed(f"{KIND_LABEL[kind]}任务", str(no), [str(n) for n in have])
            return no
        if len(have) != 1:
            raise LookupFailed(f"{KIND_LABEL[kind]}任务 (请用 --task 指明)", "", [str(n) for n in have])
        return have[0]

    def unit(self, name: str, among: tuple[str, ...] | None = None, what: str = "单位") -> UnitRow:
        pool = among if among is not None else tuple(self.units)
        found = next((n for n in pool if name_key(n) == name_key(name)), None)
        if found is None or found not in self.units:
            raise LookupFailed(what, name, list(pool))
        return self.units[found]


def _fmt(v: Any) -> str | None:
    return None if v is None else v.isoformat() if isinstance(v, date) else str(v)


def upsert(session: Session, model: type[SQLModel], key: dict[str, Any], values: dict[str, Any],
           actor: Actor, ref: str, *, plan_id: int | None) -> SQLModel:
    """Insert or update the row identified by `key`, auditing every field that changes."""
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
        for k, (_, v) in changed.items():
            setattr(row, k, v)
    session.add_all(AuditRow(plan_id=plan_id, by=actor.by, source=actor.source, entity=str(model.__tablename__), ref=ref,
                             field=k, old=_fmt(old), new=_fmt(new)) for k, (old, new) in changed.items())
    return row


def sign_letter(session: Session, idx: PlanIndex, actor: Actor, today: date, *, task_no: int | None,
                department: str, town: str, signed_on: date | None, drafted_on: date | None = None,
                doc_no: str | None = None, signed_by: str | None = None) -> LetterRow:
    no = idx.tracked("letters", task_no)
    depts, towns = idx.tracks[no].letters or ((), ())
    d, t = idx.unit(department, depts, "部门"), idx.unit(town, towns, "镇")
    progress.not_future(signed_on, today, "签订日期")
    progress.not_future(drafted_on, today, "起草日期")
    values = {"signed_on": signed_on, "drafted_on": drafted_on, "doc_no": doc_no, "signed_by": signed_by}
    values = {k: v for k, v in values.items() if v is not None}
    return upsert(session, LetterRow, {"task_id": idx.task(no).id, "department_id": d.id, "town_id": t.id},  # type: ignore[return-value]
                  values, actor, f"任务{no}/{d.name}/{t.name}", plan_id=idx.plan.id)


def file_training_plan(session: Session, idx: PlanIndex, actor: Actor, today: date, *, task_no: int | None,
                       department: str, filed_on: date) -> SQLModel:
    no = idx.tracked("training", task_no)
    d = idx.unit(department, (idx.tracks[no].training or ((), ()))[0], "部门")
    progress.not_future(filed_on, today, "报送日期")
    return upsert(session, TrainingPlanRow, {"task_id": idx.task(no).id, "department_id": d.id},
                  {"filed_on": filed_on}, actor, f"任务{no}/{d.name}/培训指导计划", plan_id=idx.plan.id)


def add_training_session(session: Session, idx: PlanIndex, actor: Actor, today: date, *, task_no: int | None,
                         department: str, held_on: date, form: str, attendees: int, towns: list[str],
                         note: str | None = None) -> TrainingSessionRow:
    no = idx.tracked("training", task_no)
    depts, all_towns = idx.tracks[no].training or ((), ())
    d = idx.unit(department, depts, "部门")
    names = [idx.unit(t, all_towns, "镇").name for t in towns]
    progress.not_future(held_on, today, "培训日期")
    progress.training_form(form)
    if attendees < 0:
        raise InvalidValue(f"参训人数不能为负数: {attendees}")
    row = TrainingSessionRow(task_id=idx.task(no).id or 0, department_id=d.id or 0, held_on=held_on, form=form,
                             attendees=attendees, towns=json.dumps(names, ensure_ascii=False), note=note)
    session.add(row)
    session.add(AuditRow(plan_id=idx.plan.id, by=actor.by, source=actor.source, entity="training_session",
                         ref=f"任务{no}/{d.name}/{'、'.join(names)}", field="held_on", new=held_on.isoformat()))
    return row


def complete_training(session: Session, idx: PlanIndex, actor: Actor, today: date, *, task_no: int | None,
                      department: str, town: str, completed_on: date) -> SQLModel:
    no = idx.tracked("training", task_no)
    depts, towns = idx.tracks[no].training or ((), ())
    d, t = idx.unit(department, depts, "部门"), idx.unit(town, towns, "镇")
    progress.not_future(completed_on, today, "完成日期")
    return upsert(session, TrainingDoneRow, {"task_id": idx.task(no).id, "department_id": d.id, "town_id": t.id},
                  {"completed_on": completed_on}, actor, f"任务{no}/{d.name}/{t.name}", plan_id=idx.plan.id)


def record_exam(session: Session, idx: PlanIndex, actor: Actor, today: date, *, task_no: int | None, town: str,
                exam_on: date, candidates: int | None = None, sat: int | None = None,
                passed: int | None = None) -> SQLModel:
    """Schedule a sitting (no results yet) or record its results; the date may be in the future
    only while no results are given."""
    no = idx.tracked("exams", task_no)
    t = idx.unit(town, idx.tracks[no].exams or (), "镇")
    progress.exam_counts(candidates, sat, passed)
    if sat is not None:
        progress.not_future(exam_on, today, "考试日期")
    values = {k: v for k, v in {"candidates": candidates, "sat": sat, "passed": passed}.items() if v is not None}
    return upsert(session, ExamSittingRow, {"task_id": idx.task(no).id, "town_id": t.id, "exam_on": exam_on},
                  values, actor, f"任务{no}/{t.name}/考试{exam_on}", plan_id=idx.plan.id)


def set_exam_town(session: Session, idx: PlanIndex, actor: Actor, today: date, *, task_no: int | None, town: str,
                  pre_training_on: date | None = None, certified_on: date | None = None) -> SQLModel:
    no = idx.tracked("exams", task_no)
    t = idx.unit(town, idx.tracks[no].exams or (), "镇")
    progress.not_future(pre_training_on, today, "考前培训日期")
    progress.not_future(certified_on, today, "证件换领日期")
    values = {k: v for k, v in {"pre_training_on": pre_training_on, "certified_on": certified_on}.items() if v}
    return upsert(session, ExamTownRow, {"task_id": idx.task(no).id, "town_id": t.id}, values, actor, f"任务{no}/{t.name}", plan_id=idx.plan.id)


def submit_report(session: Session, idx: PlanIndex, actor: Actor, today: date, *, task_no: int | None, town: str,
                  period: str, submitted_on: date, figures: dict[str, Any]) -> SQLModel:
    no = idx.tracked("monthly_reports", task_no)
    t = idx.unit(town, idx.tracks[no].monthly_reports or (), "镇")
    period = progress.period(period)
    progress.not_future(submitted_on, today, "报送日期")
    clean = progress.figures(figures, idx.figures)
    return upsert(session, MonthlyReportRow, {"task_id": idx.task(no).id, "town_id": t.id, "period": period},
                  {"submitted_on": submitted_on, "figures": json.dumps(clean, ensure_ascii=False)},
                  actor, f"任务{no}/{t.name}/{period}", plan_id=idx.plan.id)


def set_task_status(session: Session, idx: PlanIndex, actor: Actor, today: date, *, task_no: int, unit: str,
                    status: str, completed_on: date | None = None, note: str | None = None,
                    evidence: str | None = None, extended_due: date | None = None, reason: str | None = None,
                    approved_by: str | None = None) -> AssignmentRow:
    task = idx.task(task_no)
    rows = {a.unit_id: a for a in session.exec(select(AssignmentRow).where(AssignmentRow.task_id == task.id,
                                                                           AssignmentRow.active))}
    owners = tuple(u.name for u in idx.units.values() if u.id in rows)
    u = idx.unit(unit, owners, f"任务 {task_no} 的责任单位")
    progress.task_state(status, completed_on, extended_due, reason)
    progress.not_future(completed_on, today, "完成日期")
    values: dict[str, Any] = {"status": status, "completed_on": completed_on if status == "已完成" else None}
    for k, v in (("note", note), ("evidence", evidence), ("extended_due", extended_due),
                 ("extension_reason", reason), ("extension_approved_by", approved_by)):
        if v is not None:
            values[k] = v
    row = upsert(session, AssignmentRow, {"task_id": task.id, "unit_id": u.id}, values, actor, f"任务{task_no}/{u.name}", plan_id=idx.plan.id)
    row.updated_at = utcnow()  # type: ignore[attr-defined]
    return row  # type: ignore[return-value]
