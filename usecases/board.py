"""The 专班's board in the web app: who is late, with what, since when — the same rows and counts as `fuquan status`
(usecases.reads.status_rows, fuquan.tracking.status.summarise: computed once, shown three ways), filtered by unit,
town or task on request.

A town filter keeps the town's own shares and the departments' shares that owe something for that town (a
承接确认书 both sign, a training held there), so a town's drill-down shows everything holding it up.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date

from fuquan.plans.plan import UNIT_KINDS
from fuquan.tracking.judge import COLOURS, GREEN, RED, YELLOW, RollUp
from fuquan.tracking.ledger import Row
from fuquan.tracking.states import Colour, Extension, Review
from fuquan.tracking.status import TaskSummary, rollups, summarise
from models import answer_io as io
from models.db import reading

from .context import Context
from .reads import status_rows


@dataclass(frozen=True)
class Late:
    """One overdue share (or period of one) on the board."""

    unit: str
    task_no: int
    title: str
    label: str
    due: date | None
    days: int  # working days late
    missing: tuple[str, ...]


@dataclass(frozen=True)
class Filters:
    unit: str = ""
    town: str = ""
    task: int | None = None

    @property
    def any(self) -> bool:
        return bool(self.unit or self.town or self.task is not None)


@dataclass(frozen=True)
class Board:
    today: date
    totals: dict[Colour, int]  # every colour: shares (and periods) as `fuquan status` counts them
    late: list[Late]  # worst first, filtered
    late_all: int  # overdue, unfiltered
    late_units: int
    worst: int  # the longest, in working days
    by_unit: list[RollUp]
    by_town: list[RollUp]
    tasks: list[TaskSummary]
    units: list[str]
    towns: list[str]
    filters: Filters
    waiting: tuple[int, int, int] = (0, 0, 0)  # feedback to review, extensions to decide, units not acknowledged

    @property
    def traffic(self) -> dict[Colour, int]:
        return {c: self.totals[c] for c in (RED, YELLOW, GREEN)}


def board(ctx: Context, today: date, filters: Filters = Filters()) -> Board:
    rows = status_rows(ctx, today).rows
    tasks = summarise(rows)
    totals = {c: sum(t.rollup.counts[c] for t in tasks) for c in COLOURS}
    red = [r for r in rows if r.judgement.colour == RED]
    names = ctx.plan.plan.units
    towns = [u.name for u in names if UNIT_KINDS.get(u.kind) == "town"]
    shown = sorted((r for r in red if _kept(r, filters)), key=lambda r: (-r.judgement.workdays_late, r.unit, r.task_no))
    sp = ctx.plan
    with reading(ctx.engine) as session:
        waiting = (len(io.feedback_of(session, sp.id, states=[Review.WAITING])),
                   len(io.extensions_of(session, sp.id, states=[Extension.ASKED])),
                   len({r.recipient for r, _m in io.unacknowledged(session, sp.id)}))
    return Board(today, totals, [_late(r) for r in shown], len(red), len({r.unit for r in red}),
                 max((r.judgement.workdays_late for r in red), default=0), rollups(rows, "unit"), rollups(rows, "town"),
                 tasks, [u.name for u in names], towns, filters, waiting)


def _kept(r: Row, f: Filters) -> bool:
    if f.unit and r.unit != f.unit:
        return False
    if f.task is not None and r.task_no != f.task:
        return False
    return not f.town or r.unit == f.town or any(i.town == f.town for i in r.owed)


def _late(r: Row) -> Late:
    return Late(r.unit, r.task_no, r.title or r.task_text, r.label, r.judgement.due, r.judgement.workdays_late,
                r.missing)
