"""What the commands show: each read in one read-only transaction, handed back as plain values, so the CLI (and
any other door) reads the database without importing `models/` itself.

    table_counts     units, tasks and assignments of a plan (`fuquan sync`)
    status_rows      the ledger judged on a day, with what the reader should be warned of (`fuquan status`)
    letters          the department × town grid of 承接确认书 (`fuquan letters`)
    send_log         the reminders' send log, newest first, each line with its one word of delivery
    prepare_database the database and its schema made ready (the scheduler's job store shares it)
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, date, datetime

from sqlalchemy.engine import Engine

from fuquan.tracking.ledger import Row
from fuquan.tracking.states import Delivery
from models import outbox
from models.db import make_engine, reading
from models.ledger_io import load_ledger
from models.queries import LetterGrid, counts_by_table, letter_grid
from notifications.router import CONSOLE

from .context import Context


def table_counts(engine: Engine, plan_id: int) -> dict[str, int]:
    with reading(engine) as session:
        return counts_by_table(session, plan_id)


@dataclass(frozen=True)
class Status:
    rows: list[Row]
    warnings: list[str]  # calendar fallbacks and shares that could not be judged
    calendar_warnings: list[str]  # the fallbacks alone (years whose holidays nobody knows)


def status_rows(ctx: Context, today: date) -> Status:
    cal = ctx.plan.plan.work_calendar()
    with reading(ctx.engine) as session:
        ledger = load_ledger(session, ctx.plan)
    rows = ledger.rows(today, cal)
    # the calendar's warnings are about what this instance was asked: read them off the one that judged
    return Status(rows, ledger.warnings(cal), list(cal.warnings))


def letters(ctx: Context, today: date, task_no: int | None = None) -> LetterGrid:
    with reading(ctx.engine) as session:
        return letter_grid(session, ctx.plan, today, task_no)


@dataclass(frozen=True)
class SendLine:
    """One attempt to send one message, as the send log recorded it."""

    at: datetime  # UTC, aware
    day: date
    recipient: str
    channel: str
    result: str  # sent | reconciled | retry | unknown | failed
    error_code: str | None
    detail: str | None
    message_key: str
    status: str  # the message's state now (pending, sent, …)
    console: bool  # its destination is the console: printed and filed, nobody was sent anything

    @property
    def delivery(self) -> Delivery:
        return Delivery.of(self.result, self.console)


def send_log(ctx: Context, *, day: date | None = None, limit: int = 200) -> list[SendLine]:
    with reading(ctx.engine) as session:
        rows = outbox.send_log(session, ctx.plan.id, day=day, limit=limit)
        # SQLite hands timestamps back naive (written in UTC). Console: the same test as reports/status.py's Sent.shown_only: the message's kind, or the console's own target
        return [SendLine(log.at if log.at.tzinfo else log.at.replace(tzinfo=UTC), msg.day, msg.recipient,
                         log.channel, log.result, log.error_code, log.detail, msg.key, msg.status,
                         msg.dest_kind == CONSOLE.kind or log.channel == CONSOLE.target)
                for log, msg in rows]


def prepare_database(url: str) -> None:
    """Create the database and bring its schema up to date, then let go of it."""
    make_engine(url).dispose()

