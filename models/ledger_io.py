"""Read plans' shares and recorded items into the core's ledger types.

One query per table for any number of plans (`plan_id IN …`, items joined to their task), reading plain
columns rather than ORM objects: the daily sweep of a province's hundred county plans, or a nation's
thousands, costs the same dozen queries per batch as one plan does. Single-plan callers use the same path.
"""

from __future__ import annotations

import gc
from collections.abc import Callable, Iterable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import date
from typing import Any

from sqlalchemy import Select, bindparam, func, or_, select
from sqlmodel import Session, col

from fuquan.dates.workdays import WorkCalendar
from fuquan.plans.plan import Task
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
        with no_cycle_collection():
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


@contextmanager
def no_cycle_collection() -> Iterator[None]:
    """Python's cyclic garbage collector held off while a ledger is read or judged: both make hundreds of thousands
    of small objects that form no cycles, and the collector, run every 700 allocations, walked the ever larger
    heap — 13 % of judging a province. Anything it would have found is collected when it runs again. (Process-wide:
    another thread's cycles wait meanwhile too, freed by reference counting as ever; nested uses are harmless.)"""
    was = gc.isenabled()
    gc.disable()
    try:
        yield
    finally:
        if was:
            gc.enable()


def _cols(*columns: Any) -> Select[Any]:
    return select(*columns)  # (SQLModel's fields are typed as values, which select()'s overloads refuse)


def _q(session: Session, stmt: Any, values: dict[str, Any] | None = None) -> Iterator[Any]:
    """Plain rows (no ORM objects to build), fetched in blocks: iterating a result directly costs one DBAPI
    fetchone() per row, which at a province's 60,000 rows was as much as the database's own work."""
    for block in session.connection().execute(stmt, values or {}).partitions(FETCH):
        yield from block


# Statements are built once per shape and reused with bound values: building a SELECT (its clauses, its cache
# key) cost a third of a unit page's CPU when it was done a dozen times per request. `ids` (the plans), `unit` (one
# unit's page), `with_tasks` (a town's 月报 collector shares) and `tasks` (the tasks asked about) are bound values.
_IDS: Any = bindparam("ids", expanding=True)
_UNIT: Any = bindparam("unit")
_WITH: Any = bindparam("with_tasks", expanding=True)
_TASKS: Any = bindparam("tasks", expanding=True)
_STMTS: dict[tuple[object, ...], Any] = {}


def _stmt(key: tuple[object, ...], build: Callable[[], Any]) -> Any:
    stmt = _STMTS.get(key)
    if stmt is None:
        stmt = _STMTS.setdefault(key, build())
    return stmt


def _of_plans(model: Any, tasks: bool) -> list[Any]:
    """The conditions every read shares: the item's task is an active task of the plans (and one of `tasks`)."""
    return [col(TaskRow.plan_id).in_(_IDS), col(TaskRow.active)] + ([col(model.task_id).in_(_TASKS)] if tasks else [])


def _shares_stmt(per_unit: bool, tasks: bool) -> Any:
    def build() -> Any:
        stmt = (_cols(AssignmentRow.task_id, AssignmentRow.unit_id, AssignmentRow.role, AssignmentRow.status,
                      AssignmentRow.completed_on)
                .join(TaskRow, col(TaskRow.id) == AssignmentRow.task_id)
                .where(*_of_plans(AssignmentRow, tasks), col(AssignmentRow.active))
                .order_by(col(AssignmentRow.task_id), col(AssignmentRow.position)))
        if per_unit:
            stmt = stmt.where(or_(col(AssignmentRow.unit_id) == _UNIT, col(AssignmentRow.task_id).in_(_WITH)))
        return stmt
    return _stmt(("shares", per_unit, tasks), build)


def load_ledgers(session: Session, plans: list[StoredPlan], *, unit_id: int | None = None,
                 with_tasks: tuple[int, ...] = (), tasks: tuple[int, ...] | None = None) -> dict[int, Ledger]:
    """Every plan's shares and records; with `unit_id`, that unit's shares only, plus every share of the task ids
    `with_tasks` (a unit's own page: a town's 月报 rows come from its collector's share); with `tasks` (task ids),
    those tasks' only. The records are still the plan's, since a department's share is judged from every town's
    items."""
    with no_cycle_collection():
        return _load_ledgers(session, plans, unit_id=unit_id, with_tasks=with_tasks, tasks=tasks)


def _load_ledgers(session: Session, plans: list[StoredPlan], *, unit_id: int | None,
                  with_tasks: tuple[int, ...], tasks: tuple[int, ...] | None) -> dict[int, Ledger]:
    out = {p.id: Ledger(p) for p in plans}
    ids = list(out)
    task_of: dict[int, tuple[int, int]] = {}  # task id → (plan id, task no)
    for p in plans:
        task_of.update({tid: (p.id, no) for no, tid in p.task_ids.items()})
    # what every share of a task repeats, looked up once per task, not once per share (the short title is
    # computed: a province's 1,500 tasks have 22,300 shares)
    of_task = {tid: (t.no, t.text, t.deadline, t.track, t.title) for p in plans for t in p.plan.tasks
               if (tid := p.task_ids.get(t.no)) is not None}
    kinds = {p.id: p.kinds for p in plans}
    asked = set(of_task) if tasks is None else set(tasks)
    tracked = _tracked(t for p in plans for t in p.plan.tasks if p.task_ids.get(t.no) in asked)
    values: dict[str, Any] = {"ids": ids, "unit": unit_id, "with_tasks": list(with_tasks), "tasks": list(tasks or ())}
    for tid, uid, role, status, completed_on in _q(session, _shares_stmt(unit_id is not None, tasks is not None), values):
        pid = task_of[tid][0]
        no, text, deadline, track, title = of_task[tid]
        unit = out[pid].stored.names[uid]
        out[pid].shares.append(Share(no, text, deadline, track, unit, kinds[pid][unit], role, status, completed_on,
                                     title))
    for ledger in out.values():
        ledger.shares.sort(key=lambda s: s.task_no)
    names = plans[0].names if len(plans) == 1 else {uid: n for p in plans for uid, n in p.names.items()}
    mode = "" if unit_id is None else "dept" if plans[0].plan.unit(names[unit_id]).kind == "department" else "town"
    _records(session, values, task_of, names, out, mode=mode, tasks=tasks is not None, unit_id=unit_id, tracked=tracked)
    if unit_id is not None:
        for ledger in out.values():
            ledger.only = names[unit_id]
    return out


def _tracked(tasks: Iterable[Task]) -> frozenset[str]:
    """Which kinds of item the tasks are judged from (fuquan.tracking.ledger reads records of these kinds only): an
    item table no task tracks is not read. A unit's page of a plan tracking only letters reads 5 fewer tables."""
    kinds = set()
    for t in tasks:
        kinds |= {k for k in ("letters", "training", "exams", "monthly_reports") if getattr(t.track, k)}
    return frozenset(kinds)


def _only(mode: str) -> dict[Any, Any]:
    """For one unit's page (`mode` dept or town), the item rows its rows are judged from: a town's own items; a
    department's own letters and training (its 月报 collecting reads every town's reports)."""
    if not mode:
        return {}
    mine: dict[Any, Any] = {LetterRow: LetterRow.department_id == _UNIT, TrainingPlanRow: TrainingPlanRow.department_id == _UNIT,
                            TrainingDoneRow: TrainingDoneRow.department_id == _UNIT,
                            PeriodStatusRow: PeriodStatusRow.unit_id == _UNIT}
    if mode == "town":
        mine |= {LetterRow: LetterRow.town_id == _UNIT, TrainingDoneRow: TrainingDoneRow.town_id == _UNIT,
                 ExamSittingRow: ExamSittingRow.town_id == _UNIT, ExamTownRow: ExamTownRow.town_id == _UNIT,
                 MonthlyReportRow: MonthlyReportRow.town_id == _UNIT}
    return mine


def _items(session: Session, model: Any, *, names: tuple[str, ...], values: dict[str, Any], mode: str,
           tasks: bool) -> Iterator[Any]:
    """Rows of an item table whose task is an active task of one of the plans (and, for one unit's page, its own)."""
    def build() -> Any:
        only = _only(mode)
        stmt = (_cols(model.task_id, *(getattr(model, n) for n in names)).join(TaskRow, col(TaskRow.id) == model.task_id)
                .where(*_of_plans(model, tasks)))
        return stmt.where(only[model]) if model in only else stmt
    return iter(_q(session, _stmt((model.__name__, names, mode, tasks), build), values))


def _held_stmt(mode: str, tasks: bool) -> Any:
    def build() -> Any:
        only = _only(mode)
        return (_cols(ExamSittingRow.task_id, ExamSittingRow.town_id, func.min(ExamSittingRow.exam_on))
                .join(TaskRow, col(TaskRow.id) == ExamSittingRow.task_id)
                .where(*_of_plans(ExamSittingRow, tasks), col(ExamSittingRow.sat).is_not(None),
                       *([only[ExamSittingRow]] if ExamSittingRow in only else []))
                .group_by(col(ExamSittingRow.task_id), col(ExamSittingRow.town_id)))
    return _stmt(("held", mode, tasks), build)


def _records(session: Session, values: dict[str, Any], tasks_of: dict[int, tuple[int, int]], name: dict[int, str],
             out: dict[int, Ledger], *, mode: str, tasks: bool, unit_id: int | None, tracked: frozenset[str]) -> None:
    of_task = {tid: (out[pid].records, no) for tid, (pid, no) in tasks_of.items()}
    rec = of_task.__getitem__  # task id → (its plan's records, task no): a dict lookup per item row, no Python call
    k: dict[str, Any] = {"values": values, "mode": mode, "tasks": tasks}

    if "letters" in tracked:
        for tid, dept, town, signed in _items(session, LetterRow, names=("department_id", "town_id", "signed_on"), **k):
            if signed:
                r, no = rec(tid)
                r.letters[(no, name[dept], name[town])] = signed
    if "training" in tracked:
        for tid, dept, filed in _items(session, TrainingPlanRow, names=("department_id", "filed_on"), **k):
            r, no = rec(tid)
            r.training_plans[(no, name[dept])] = filed
        for tid, dept, town, done in _items(session, TrainingDoneRow, names=("department_id", "town_id", "completed_on"), **k):
            r, no = rec(tid)
            r.training_done[(no, name[dept], name[town])] = done
    if "exams" in tracked:
        for tid, town, first in _q(session, _held_stmt(mode, tasks), values):
            r, no = rec(tid)
            r.exams_held[(no, name[town])] = first
        for tid, town, certified in _items(session, ExamTownRow, names=("town_id", "certified_on"), **k):
            if certified:
                r, no = rec(tid)
                r.certified[(no, name[town])] = certified
    if "monthly_reports" in tracked:
        for tid, town, period, submitted in _items(session, MonthlyReportRow, names=("town_id", "period", "submitted_on"), **k):
            r, no = rec(tid)
            r.reports[(no, name[town], period)] = submitted
    for tid, unit, period, status, done in _items(session, PeriodStatusRow,
                                                  names=("unit_id", "period", "status", "completed_on"), **k):
        if status == "已完成" and done:
            r, no = rec(tid)
            r.periods[(no, name[unit], period)] = done
    ids = values["ids"]
    for (tid, unit, period), state in review_states(session, ids, unit_id).items():
        if tid in tasks_of:
            r, no = rec(tid)
            r.reviews[(no, name[unit], period)] = state
    for tid, unit, period, state, new_due in extension_states(session, ids, unit_id):
        if tid in tasks_of:
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
                with_tasks: tuple[int, ...] = (), tasks: tuple[int, ...] | None = None) -> Ledger:
    return load_ledgers(session, [plan], unit_id=unit_id, with_tasks=with_tasks, tasks=tasks)[plan.id]
