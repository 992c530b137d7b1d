"""Read functions: the session is passed in; each returns models or core facts, never raw rows to print."""

from __future__ import annotations

import json
from dataclasses import dataclass
from datetime import date
from typing import Any

from sqlalchemy import func
from sqlmodel import Session, col, select

from fuquan.errors import FuquanError, LookupFailed
from fuquan.policy import Channels, ReminderPolicy, Weights

from .items import ExamSittingRow, ExamTownRow, LetterRow, MonthlyReportRow, TrainingDoneRow, TrainingPlanRow
from .tables import AssignmentRow, PlanRow, TaskRow, UnitRow


def find_plan(session: Session, *, year: int | None = None, district: str | None = None) -> PlanRow:
    """The plan for (district, year); either may be omitted when the database holds only one match.
    Without a year the latest plan year wins."""
    rows = list(session.exec(select(PlanRow).order_by(col(PlanRow.year).desc(), PlanRow.district)))
    known = [f"{r.district} {r.year}" for r in rows]
    match = [r for r in rows if (year is None or r.year == year) and (district is None or r.district == district)]
    if not rows:
        raise FuquanError("数据库中还没有计划; 请先运行 fuquan sync 载入 config/tasks.yaml")
    if not match:
        raise LookupFailed("计划", f"{district or ''} {year or ''}".strip(), known)
    if year is None:
        match = [r for r in match if r.year == match[0].year]
    if len({r.district for r in match}) > 1:
        raise LookupFailed("计划(请用 --district 指明)", "", known)
    return match[0]


def counts_by_table(session: Session, plan_id: int) -> dict[str, int]:
    """Active rows per table, for `fuquan sync` output and tests."""
    units = session.exec(select(func.count()).select_from(UnitRow).where(UnitRow.plan_id == plan_id, UnitRow.active)).one()
    tasks = session.exec(select(func.count()).select_from(TaskRow).where(TaskRow.plan_id == plan_id, TaskRow.active)).one()
    assignments = session.exec(
        select(func.count()).select_from(AssignmentRow).join(TaskRow, TaskRow.id == AssignmentRow.task_id)  # type: ignore[arg-type]
        .where(TaskRow.plan_id == plan_id, AssignmentRow.active)).one()
    return {"units": units, "tasks": tasks, "assignments": assignments}


@dataclass(frozen=True)
class LetterGrid:
    task: int
    departments: tuple[str, ...]
    towns: tuple[str, ...]
    rows: dict[tuple[str, str], LetterRow]
    today: date

    def signed(self, dept: str, town: str) -> bool:
        r = self.rows.get((dept, town))
        return bool(r and r.signed_on and r.signed_on <= self.today)

    def drafted(self, dept: str, town: str) -> bool:
        r = self.rows.get((dept, town))
        return bool(r and r.drafted_on and r.drafted_on <= self.today)

    @property
    def n_signed(self) -> int:
        return sum(self.signed(d, t) for d in self.departments for t in self.towns)

    @property
    def n_total(self) -> int:
        return len(self.departments) * len(self.towns)


def letter_grid(session: Session, plan: PlanRow, today: date, task_no: int | None = None) -> LetterGrid:
    """The department × town grid of 承接确认书 for the task tracked by letters (two queries)."""
    from .records import PlanIndex

    idx = PlanIndex(session, plan)
    no = idx.tracked("letters", task_no)
    depts, towns = idx.tracks[no].letters or ((), ())
    name = {u.id: u.name for u in idx.units.values()}
    rows = {(name[r.department_id], name[r.town_id]): r
            for r in session.exec(select(LetterRow).where(LetterRow.task_id == idx.task(no).id))}
    return LetterGrid(no, depts, towns, rows, today)


def training_table(session: Session, plan: PlanRow) -> list[dict[str, Any]]:
    """Per department: plan filed, and per town the completion date (one row per department × town)."""
    names = {u.id: u.name for u in session.exec(select(UnitRow).where(UnitRow.plan_id == plan.id))}
    task_ids = [t.id for t in session.exec(select(TaskRow).where(TaskRow.plan_id == plan.id))]
    filed = {(p.task_id, p.department_id): p.filed_on
             for p in session.exec(select(TrainingPlanRow).where(col(TrainingPlanRow.task_id).in_(task_ids)))}
    done = session.exec(select(TrainingDoneRow).where(col(TrainingDoneRow.task_id).in_(task_ids))
                        .order_by(col(TrainingDoneRow.department_id), col(TrainingDoneRow.town_id)))
    return [{"department": names[d.department_id], "town": names[d.town_id], "completed_on": d.completed_on,
             "plan_filed_on": filed.get((d.task_id, d.department_id))} for d in done]


def exam_table(session: Session, plan: PlanRow) -> list[dict[str, Any]]:
    names = {u.id: u.name for u in session.exec(select(UnitRow).where(UnitRow.plan_id == plan.id))}
    task_ids = [t.id for t in session.exec(select(TaskRow).where(TaskRow.plan_id == plan.id))]
    towns = {(e.task_id, e.town_id): e for e in session.exec(select(ExamTownRow).where(col(ExamTownRow.task_id).in_(task_ids)))}
    out = []
    for s in session.exec(select(ExamSittingRow).where(col(ExamSittingRow.task_id).in_(task_ids))
                          .order_by(col(ExamSittingRow.town_id), col(ExamSittingRow.exam_on))):
        t = towns.get((s.task_id, s.town_id))
        out.append({"town": names[s.town_id], "exam_on": s.exam_on, "candidates": s.candidates, "sat": s.sat,
                    "passed": s.passed, "pre_training_on": t.pre_training_on if t else None,
                    "certified_on": t.certified_on if t else None})
    return out


def monthly_figures(session: Session, plan: PlanRow) -> list[dict[str, Any]]:
    """Every 月报: town, period, submitted date, figures."""
    names = {u.id: u.name for u in session.exec(select(UnitRow).where(UnitRow.plan_id == plan.id))}
    task_ids = [t.id for t in session.exec(select(TaskRow).where(TaskRow.plan_id == plan.id))]
    stmt = (select(MonthlyReportRow).where(col(MonthlyReportRow.task_id).in_(task_ids))
            .order_by(col(MonthlyReportRow.period), col(MonthlyReportRow.town_id)))
    return [{"town": names[m.town_id], "period": m.period, "submitted_on": m.submitted_on,
             "figures": json.loads(m.figures)} for m in session.exec(stmt)]


@dataclass(frozen=True)
class PlanSettings:
    policy: ReminderPolicy
    channels: Channels
    weights: Weights


def settings_of(plan: PlanRow) -> PlanSettings:
    """The reminder policy, channel map and score weights a sync stored on the plan."""
    raw = json.loads(plan.settings or "{}")
    return PlanSettings(ReminderPolicy.from_dict(raw.get("reminders", {})), Channels.from_dict(raw.get("channels", {})),
                        Weights(**raw.get("evaluation", {})))
