"""Read plans' shares and recorded items into the core's ledger types.

One query per table for any number of plans (`plan_id IN …`, items joined to their task), reading plain
columns rather than ORM objects: the daily sweep of a province's hundred county plans, or a nation's
thousands, costs the same dozen queries per batch as one plan does. Single-plan callers use the same path.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field
from datetime import date
from typing import Any

from sqlalchemy import Select, func, or_, select
from sqlmodel import Session, col

from fuquan.dates.workdays import WorkCalendar
from fuquan.tracking.ledger import Context, Records, Row, Share, evaluate
from fuquan.tracking.states import Extension

from .answer_io import extension_states, review_states
from .items import (
    ExamSittingRow,
    ExamTownRow,
    LetterRow,
    MonthlyReportRow,
    PeriodStatusRow,
    TrainingDoneRow,
    TrainingPlanRow,
)
from .stored import StoredPlan, read_plans
from .tables import AssignmentRow, PlanRow, TaskRow

BATCH = 200  # plans per round of queries: bounds memory at nation scale
FETCH = 2000  # rows per fetchmany()


@dataclass
class Ledger:
    stored: StoredPlan
    shares: list[Share] = field(default_factory=list)
    records: Records = field(default_factory=Records)
    skipped: list[str] = field(default_factory=list)  # of the last rows(): shares that could not be judged
    only: str | None = None  # read for one unit's page: its rows only

    def rows(self, today: date, cal: WorkCalendar) -> list[Row]:
        p = self.stored.plan
        ctx = Context(today, p.year, p.issued, cal, p.warn_workdays, only=self.only)
        rows = evaluate(self.shares, self.records, ctx)
        self.skipped = ctx.skipped
        return rows

    def warnings(self, cal: WorkCalendar) -> list[str]:
        """What the people running a command should be told: calendar fallbacks and skipped shares."""
        return cal.warnings + self.skipped

    @property
    def leads(self) -> dict[int, str | None]:
        """Task number → its single lead unit (None: a group leads)."""
        return {t.no: self.stored.plan.lead(t) for t in self.stored.plan.tasks}


def _cols(*columns: Any) -> Select[Any]:
    return select(*columns)  # (SQLModel's fields are typed as values, which select()'s overloads refuse)


def _q(session: Session, stmt: Any) -> Iterator[Any]:
    """Plain rows (no ORM objects to build), fetched in blocks: iterating a result directly costs one DBAPI
    fetchone() per row, which at a province's 60,000 rows was as much as the database's own work."""
    for block in session.connection().execute(stmt).partitions(FETCH):
        yield from block


def load_ledgers(session: Session, plans: list[StoredPlan], *, unit_id: int | None = None,
                 with_tasks: tuple[int, ...] = ()) -> dict[int, Ledger]:
    """Every plan's shares and records; with `unit_id`, that unit's shares only, plus every share of the task ids
    `with_tasks` (a unit's own page: a town's 月报 rows come from its collector's share). The records are still
    the plan's, since a department's share is judged from every town's items."""
    out = {p.id: Ledger(p) for p in plans}
    ids = list(out)
    tasks: dict[int, tuple[int, int]] = {}  # task id → (plan id, task no)
    for p in plans:
        tasks.update({tid: (p.id, no) for no, tid in p.task_ids.items()})
    # what every share of a task repeats, looked up once per task, not once per share (the short title is
    # computed: a province's 1,500 tasks have 22,300 shares)
    of_task = {tid: (t.no, t.text, t.deadline, t.track, t.title) for p in plans for t in p.plan.tasks
               if (tid := p.task_ids.get(t.no)) is not None}
    kinds = {p.id: {u.name: u.kind for u in p.plan.units} for p in plans}
    stmt = (_cols(AssignmentRow.task_id, AssignmentRow.unit_id, AssignmentRow.role, AssignmentRow.status,
                   AssignmentRow.completed_on)
            .join(TaskRow, col(TaskRow.id) == AssignmentRow.task_id)
            .where(col(TaskRow.plan_id).in_(ids), col(TaskRow.active), col(AssignmentRow.active))
            .order_by(col(AssignmentRow.task_id), col(AssignmentRow.position)))
    if unit_id is not None:
        stmt = stmt.where(or_(col(AssignmentRow.unit_id) == unit_id, col(AssignmentRow.task_id).in_(with_tasks)))
    for tid, uid, role, status, completed_on in _q(session, stmt):
        pid = tasks[tid][0]
        no, text, deadline, track, title = of_task[tid]
        unit = out[pid].stored.names[uid]
        out[pid].shares.append(Share(no, text, deadline, track, unit, kinds[pid][unit], role, status, completed_on,
                                     title))
    for ledger in out.values():
        ledger.shares.sort(key=lambda s: s.task_no)
    names = {uid: n for p in plans for uid, n in p.names.items()}
    only = _only(unit_id, plans[0].plan.unit(names[unit_id]).kind != "department") if unit_id is not None else {}
    _records(session, ids, tasks, names, out, only=only, unit_id=unit_id)
    if unit_id is not None:
        for ledger in out.values():
            ledger.only = names[unit_id]
    return out


def _only(unit_id: int, town: bool) -> dict[Any, Any]:
    """For one unit's page, the item rows its rows are judged from: a town's own items; a department's own
    letters and training (its 月报 collecting reads every town's reports)."""
    mine: dict[Any, Any] = {LetterRow: LetterRow.department_id == unit_id, TrainingPlanRow: TrainingPlanRow.department_id == unit_id,
                            TrainingDoneRow: TrainingDoneRow.department_id == unit_id,
                            PeriodStatusRow: PeriodStatusRow.unit_id == unit_id}
    if town:
        mine |= {LetterRow: LetterRow.town_id == unit_id, TrainingDoneRow: TrainingDoneRow.town_id == unit_id,
                 ExamSittingRow: ExamSittingRow.town_id == unit_id, ExamTownRow: ExamTownRow.town_id == unit_id,
                 MonthlyReportRow: MonthlyReportRow.town_id == unit_id}
    return mine


def _items(session: Session, model: Any, ids: list[int], *columns: Any, only: dict[Any, Any]) -> Iterator[Any]:
    """Rows of an item table whose task is an active task of one of the plans (and, for one unit's page, its own)."""
    stmt = (_cols(model.task_id, *columns).join(TaskRow, col(TaskRow.id) == model.task_id)
            .where(col(TaskRow.plan_id).in_(ids), col(TaskRow.active)))
    if model in only:
        stmt = stmt.where(only[model])
    return iter(_q(session, stmt))


def _records(session: Session, ids: list[int], tasks: dict[int, tuple[int, int]], name: dict[int, str],
             out: dict[int, Ledger], *, only: dict[Any, Any], unit_id: int | None) -> None:
    of_task = {tid: (out[pid].records, no) for tid, (pid, no) in tasks.items()}
    rec = of_task.__getitem__  # task id → (its plan's records, task no): a dict lookup per item row, no Python call

    for tid, dept, town, signed in _items(session, LetterRow, ids, LetterRow.department_id, LetterRow.town_id,
                                          LetterRow.signed_on, only=only):
        if signed:
            r, no = rec(tid)
            r.letters[(no, name[dept], name[town])] = signed
    for tid, dept, filed in _items(session, TrainingPlanRow, ids, TrainingPlanRow.department_id, TrainingPlanRow.filed_on, only=only):
        r, no = rec(tid)
        r.training_plans[(no, name[dept])] = filed
    for tid, dept, town, done in _items(session, TrainingDoneRow, ids, TrainingDoneRow.department_id,
                                        TrainingDoneRow.town_id, TrainingDoneRow.completed_on, only=only):
        r, no = rec(tid)
        r.training_done[(no, name[dept], name[town])] = done
    held = (_cols(ExamSittingRow.task_id, ExamSittingRow.town_id, func.min(ExamSittingRow.exam_on))
            .join(TaskRow, col(TaskRow.id) == ExamSittingRow.task_id)
            .where(col(TaskRow.plan_id).in_(ids), col(TaskRow.active), col(ExamSittingRow.sat).is_not(None),
                   *([only[ExamSittingRow]] if ExamSittingRow in only else []))
            .group_by(col(ExamSittingRow.task_id), col(ExamSittingRow.town_id)))
    for tid, town, first in _q(session, held):
        r, no = rec(tid)
        r.exams_held[(no, name[town])] = first
    for tid, town, certified in _items(session, ExamTownRow, ids, ExamTownRow.town_id, ExamTownRow.certified_on, only=only):
        if certified:
            r, no = rec(tid)
            r.certified[(no, name[town])] = certified
    for tid, town, period, submitted in _items(session, MonthlyReportRow, ids, MonthlyReportRow.town_id,
                                               MonthlyReportRow.period, MonthlyReportRow.submitted_on, only=only):
        r, no = rec(tid)
        r.reports[(no, name[town], period)] = submitted
    for tid, unit, period, status, done in _items(session, PeriodStatusRow, ids, PeriodStatusRow.unit_id,
                                                  PeriodStatusRow.period, PeriodStatusRow.status,
                                                  PeriodStatusRow.completed_on, only=only):
        if status == "已完成" and done:
            r, no = rec(tid)
            r.periods[(no, name[unit], period)] = done
    for (tid, unit, period), state in review_states(session, ids, unit_id).items():
        if tid in tasks:
            r, no = rec(tid)
            r.reviews[(no, name[unit], period)] = state
    for tid, unit, period, state, new_due in extension_states(session, ids, unit_id):
        if tid in tasks:
            r, no = rec(tid)
            r.extensions[(no, name[unit], period)] = state
            if state == Extension.GRANTED:  # the latest granted one holds (a later request may still wait)
                r.extended[(no, name[unit], period)] = new_due


def sweep(session: Session, plans: Iterable[PlanRow], *, batch: int = BATCH) -> Iterator[Ledger]:
    """Every plan's ledger, `batch` plans per round of queries."""
    pending: list[PlanRow] = []
    for plan in plans:
        pending.append(plan)
        if len(pending) == batch:
            yield from load_ledgers(session, list(read_plans(session, pending).values())).values()
            pending = []
    if pending:
        yield from load_ledgers(session, list(read_plans(session, pending).values())).values()


def load_ledger(session: Session, plan: StoredPlan, *, unit_id: int | None = None,
                with_tasks: tuple[int, ...] = ()) -> Ledger:
    return load_ledgers(session, [plan], unit_id=unit_id, with_tasks=with_tasks)[plan.id]
