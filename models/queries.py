"""Read functions: the session is passed in; each returns models or core facts, never raw rows to print."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date

from sqlalchemy import func
from sqlmodel import Session, col, select

from fuquan.errors import FuquanError, LookupFailed

from .items import LetterRow
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
