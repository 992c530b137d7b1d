"""Read functions: the session is passed in; each returns models or core facts, never raw rows to print."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date
from typing import Any

from sqlalchemy import func
from sqlmodel import Session, col, select

from fuquan.plans.plan import Track

from .items import ExamSittingRow, ExamTownRow, LetterRow, MonthlyReportRow, TrainingDoneRow, TrainingPlanRow
from .stored import StoredPlan
from .tables import AssignmentRow, TaskRow, UnitRow


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
    track: Track  # its not_applicable cells count neither way

    def applies(self, dept: str, town: str) -> bool:
        return self.track.applies("letters", dept, town)

    def signed(self, dept: str, town: str) -> bool:
        r = self.rows.get((dept, town))
        return bool(r and r.signed_on and r.signed_on <= self.today)

    def drafted(self, dept: str, town: str) -> bool:
        r = self.rows.get((dept, town))
        return bool(r and r.drafted_on and r.drafted_on <= self.today)

    def of_department(self, dept: str) -> str:
        """'signed/owed' across a department's row, cells that do not apply left out."""
        towns = [t for t in self.towns if self.applies(dept, t)]
        return f"{sum(self.signed(dept, t) for t in towns)}/{len(towns)}"

    def of_town(self, town: str) -> str:
        depts = [d for d in self.departments if self.applies(d, town)]
        return f"{sum(self.signed(d, town) for d in depts)}/{len(depts)}"

    @property
    def n_signed(self) -> int:
        return sum(self.signed(d, t) for d in self.departments for t in self.towns if self.applies(d, t))

    @property
    def n_total(self) -> int:
        return sum(self.applies(d, t) for d in self.departments for t in self.towns)


def letter_grid(session: Session, sp: StoredPlan, today: date, task_no: int | None = None) -> LetterGrid:
    """The department × town grid of 承接确认书 for the task tracked by letters (one query)."""
    task = sp.plan.tracked("letters", task_no)
    depts, towns = task.track.letters or ((), ())
    name = sp.names
    rows = {(name[r.department_id], name[r.town_id]): r
            for r in session.exec(select(LetterRow).where(LetterRow.task_id == sp.task_id(task.no)))}
    return LetterGrid(task.no, depts, towns, rows, today, task.track)


def training_table(session: Session, sp: StoredPlan) -> list[dict[str, Any]]:
    """Per department: plan filed, and per town the completion date (one row per department × town)."""
    task_ids = list(sp.task_ids.values())
    filed = {(p.task_id, p.department_id): p.filed_on
             for p in session.exec(select(TrainingPlanRow).where(col(TrainingPlanRow.task_id).in_(task_ids)))}
    done = session.exec(select(TrainingDoneRow).where(col(TrainingDoneRow.task_id).in_(task_ids))
                        .order_by(col(TrainingDoneRow.department_id), col(TrainingDoneRow.town_id)))
    return [{"department": sp.names[d.department_id], "town": sp.names[d.town_id], "completed_on": d.completed_on,
             "plan_filed_on": filed.get((d.task_id, d.department_id))} for d in done]


def exam_table(session: Session, sp: StoredPlan) -> list[dict[str, Any]]:
    task_ids = list(sp.task_ids.values())
    towns = {(e.task_id, e.town_id): e for e in session.exec(select(ExamTownRow).where(col(ExamTownRow.task_id).in_(task_ids)))}
    out = []
    for s in session.exec(select(ExamSittingRow).where(col(ExamSittingRow.task_id).in_(task_ids))
                          .order_by(col(ExamSittingRow.town_id), col(ExamSittingRow.exam_on))):
        t = towns.get((s.task_id, s.town_id))
        out.append({"town": sp.names[s.town_id], "exam_on": s.exam_on, "candidates": s.candidates, "sat": s.sat,
                    "passed": s.passed, "pre_training_on": t.pre_training_on if t else None,
                    "certified_on": t.certified_on if t else None})
    return out


def monthly_figures(session: Session, sp: StoredPlan) -> list[dict[str, Any]]:
    """Every 月报: town, period, submitted date, figures."""
    stmt = (select(MonthlyReportRow).where(col(MonthlyReportRow.task_id).in_(list(sp.task_ids.values())))
            .order_by(col(MonthlyReportRow.period), col(MonthlyReportRow.town_id)))
    return [{"town": sp.names[m.town_id], "period": m.period, "submitted_on": m.submitted_on,
             "figures": m.figures} for m in session.exec(stmt)]
