"""Read one plan's shares and recorded items into the core's ledger types: a query per table."""

from __future__ import annotations

import json
from datetime import date

from sqlalchemy import func
from sqlmodel import Session, col, select

from fuquan.deadline import Deadline
from fuquan.ledger import Context, Records, Row, Share, evaluate
from fuquan.plan import Track
from fuquan.workdays import WorkCalendar

from .items import ExamSittingRow, ExamTownRow, LetterRow, MonthlyReportRow, TrainingDoneRow, TrainingPlanRow
from .tables import AssignmentRow, GroupRow, PlanRow, TaskRow, UnitRow


def load_ledger(session: Session, plan: PlanRow) -> tuple[list[Share], Records]:
    units = {u.id: u for u in session.exec(select(UnitRow).where(UnitRow.plan_id == plan.id))}
    tasks = {t.id: t for t in session.exec(select(TaskRow).where(TaskRow.plan_id == plan.id, TaskRow.active))}
    no = {tid: t.no for tid, t in tasks.items()}
    shares = []
    deadlines = {tid: Deadline.from_parts(t.deadline_text, t.deadline_kind, t.due, t.start,
                                          json.loads(t.rule) if t.rule else None) for tid, t in tasks.items()}
    tracks = {tid: Track.from_dict(json.loads(t.track)) for tid, t in tasks.items()}
    stmt = (select(AssignmentRow).where(col(AssignmentRow.task_id).in_(list(tasks)), AssignmentRow.active)
            .order_by(col(AssignmentRow.task_id), col(AssignmentRow.position)))
    for a in session.exec(stmt):
        t, u = tasks[a.task_id], units[a.unit_id]
        shares.append(Share(t.no, t.text, deadlines[a.task_id], tracks[a.task_id], u.name, u.kind, a.role,
                            a.status, a.completed_on, a.extended_due))
    shares.sort(key=lambda s: s.task_no)
    return shares, _records(session, [t for t in tasks if t is not None], {k: v for k, v in no.items() if k is not None},
                            {i: u.name for i, u in units.items()})


def _records(session: Session, task_ids: list[int], no: dict[int, int], name: dict[int | None, str]) -> Records:
    rec = Records()
    for r in session.exec(select(LetterRow).where(col(LetterRow.task_id).in_(task_ids))):
        if r.signed_on:
            rec.letters[(no[r.task_id], name[r.department_id], name[r.town_id])] = r.signed_on
    for p in session.exec(select(TrainingPlanRow).where(col(TrainingPlanRow.task_id).in_(task_ids))):
        rec.training_plans[(no[p.task_id], name[p.department_id])] = p.filed_on
    for d in session.exec(select(TrainingDoneRow).where(col(TrainingDoneRow.task_id).in_(task_ids))):
        rec.training_done[(no[d.task_id], name[d.department_id], name[d.town_id])] = d.completed_on
    held = (select(ExamSittingRow.task_id, ExamSittingRow.town_id, func.min(ExamSittingRow.exam_on))
            .where(col(ExamSittingRow.task_id).in_(task_ids), col(ExamSittingRow.sat).is_not(None))
            .group_by(col(ExamSittingRow.task_id), col(ExamSittingRow.town_id)))
    for tid, town, first in session.exec(held):
        rec.exams_held[(no[tid], name[town])] = first
    for e in session.exec(select(ExamTownRow).where(col(ExamTownRow.task_id).in_(task_ids))):
        if e.certified_on:
            rec.certified[(no[e.task_id], name[e.town_id])] = e.certified_on
    for m in session.exec(select(MonthlyReportRow).where(col(MonthlyReportRow.task_id).in_(task_ids))):
        rec.reports[(no[m.task_id], name[m.town_id], m.period)] = m.submitted_on
    return rec


def load_leads(session: Session, plan: PlanRow) -> dict[int, str | None]:
    """Each task's lead unit, or None where the first-named is a group (no single unit to escalate to)."""
    groups = set(session.exec(select(GroupRow.name).where(GroupRow.plan_id == plan.id)))
    tasks = session.exec(select(TaskRow.no, TaskRow.units).where(TaskRow.plan_id == plan.id, TaskRow.active))
    return {no: (first if (first := json.loads(units)[0]) not in groups else None) for no, units in tasks}


def plan_rows(session: Session, plan: PlanRow, today: date) -> tuple[list[Row], WorkCalendar]:
    """Every share of `plan` judged as of `today`, and the calendar used (for its warnings)."""
    shares, records = load_ledger(session, plan)
    cal = WorkCalendar()
    return evaluate(shares, records, Context(today, plan.year, plan.issued, cal, plan.warn_workdays)), cal
