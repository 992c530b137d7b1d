"""What the unit's and the 专班's pages read: one read each, in one transaction, limited to the unit."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date

from sqlmodel import Session

from fuquan.tracking.ledger import Row
from fuquan.tracking.states import Extension, Review
from models import answer_io as io
from models import reach
from models.answers import EvidenceRow, ExtensionRow, FeedbackRow
from models.db import reading
from models.ledger_io import load_ledger
from models.outbox import MessageRow, ReminderRow
from models.reach import ReachRow
from models.stored import StoredPlan

from .context import Context


@dataclass
class UnitPage:
    plan: StoredPlan
    unit: str
    rows: list[Row]
    reminders: list[tuple[MessageRow, list[ReminderRow]]]
    feedback: list[FeedbackRow]
    extensions: list[ExtensionRow]
    to_decide: list[ExtensionRow] = field(default_factory=list)  # partners' requests, when leads decide
    files: dict[int, EvidenceRow] = field(default_factory=dict)

    @property
    def closed(self) -> str | None:
        """The plan year was closed: the page is read-only."""
        return self.plan.closed


@dataclass
class OfficePage:
    plan: StoredPlan
    unacked: list[tuple[ReminderRow, MessageRow, int]]  # with working days since it was sent
    feedback: list[FeedbackRow]
    extensions: list[ExtensionRow]
    decided: list[FeedbackRow | ExtensionRow]
    files: dict[int, EvidenceRow] = field(default_factory=dict)
    # message id → the contact persons it reached in DingTalk / WeCom who have not answered from it
    waiting: dict[int, list[ReachRow]] = field(default_factory=dict)


def unit_rows(ctx: Context, unit: str, today: date, task_no: int | None = None) -> list[Row]:
    """A unit's rows as its page shows them: its shares, and a town's 月报 months (of task `task_no` only, given:
    a row is judged from its own task's records, so one answer need not read the others')."""
    with reading(ctx.engine) as session:
        return unit_rows_in(session, ctx.plan, unit, today, task_no)


def unit_rows_in(session: Session, sp: StoredPlan, unit: str, today: date, task_no: int | None = None) -> list[Row]:
    reports = tuple(sp.task_ids[t.no] for t in sp.plan.tasks if unit in (t.track.monthly_reports or ()))
    only = None if task_no is None else (sp.task_ids[task_no],)
    ledger = load_ledger(session, sp, unit_id=sp.unit_ids[unit], with_tasks=reports, tasks=only)
    return [r for r in ledger.rows(today, sp.plan.work_calendar()) if r.unit == unit]


def unit_page(ctx: Context, unit: str, today: date) -> UnitPage:
    sp = ctx.plan
    uid = sp.unit_ids[unit]
    with reading(ctx.engine) as session:  # (one read: its rows and its answers as of one moment)
        rows = unit_rows_in(session, sp, unit, today)
        page = UnitPage(sp, unit, rows, io.open_reminders(session, sp.id, unit), io.feedback_of(session, sp.id, unit_id=uid),
                        io.extensions_of(session, sp.id, unit_id=uid))
        if sp.plan.answers.extensions_by == "牵头单位":
            led = [sp.task_ids[t.no] for t in sp.plan.tasks if sp.plan.lead(t) == unit]
            page.to_decide = [e for e in io.extensions_of(session, sp.id, task_ids=led, states=[Extension.ASKED])
                              if e.unit_id != uid]
        page.files = _files(session, sp.id, page.feedback)
    return page


def office_page(ctx: Context, today: date) -> OfficePage:
    sp, cal = ctx.plan, ctx.plan.plan.work_calendar()
    with reading(ctx.engine) as session:
        unacked = [(r, m, cal.between(m.day, today)) for r, m in io.unacknowledged(session, sp.id)]
        feedback = io.feedback_of(session, sp.id, states=[Review.WAITING])
        asked = io.extensions_of(session, sp.id, states=[Extension.ASKED])
        decided: list[FeedbackRow | ExtensionRow] = [
            *io.feedback_of(session, sp.id, states=[Review.ACCEPTED, Review.RETURNED]),
            *io.extensions_of(session, sp.id, states=[Extension.GRANTED, Extension.REFUSED])]
        decided.sort(key=lambda r: r.decided_at or r.at, reverse=True)
        page = OfficePage(sp, unacked, feedback, asked, decided[:30], _files(session, sp.id, feedback + [
            d for d in decided if isinstance(d, FeedbackRow)]), reach.waiting(session, sp.id, {m.id or 0 for _, m, _ in unacked}))
    return page


def _files(session: Session, plan_id: int, feedback: list[FeedbackRow]) -> dict[int, EvidenceRow]:
    return io.evidence_of(session, plan_id, {i for f in feedback for i in f.evidence})
