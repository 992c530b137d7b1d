"""The outbox: reminders are recorded before they are sent and marked after, so none is lost and
none is sent twice.

    reminder    one row per reminder identity (unique per plan) → the message that carries it
    message     one grouped message per recipient and day (a later run that finds more due the same
                day adds another); status pending → sending → sent, or back to pending/unknown
    send_log    every attempt: when, channel, result, error code (never a secret)

Claiming is a short write transaction (SQLite: BEGIN IMMEDIATE), so two runs at once never both
claim a message. A message left `sending` by a run that died, or `unknown` after an uncertain send,
is reconciled (looked for at the channel) before it is sent again.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from datetime import UTC, date, datetime, timedelta
from typing import Any

from sqlalchemy import JSON, DateTime, Index, String, UniqueConstraint, any_, bindparam, func, insert
from sqlalchemy.dialects.postgresql import ARRAY
from sqlmodel import Field, Session, SQLModel, col, select

from fuquan.tracking.states import SendResult

from .tables import _ts, utcnow

PENDING, SENDING, SENT, UNKNOWN = "pending", "sending", "sent", "unknown"


class MessageRow(SQLModel, table=True):
    __tablename__ = "message"
    # Since schema 0002: enqueue counts a recipient's messages of the day on every grouped message.
    __table_args__ = (Index("ix_message_plan_day_recipient", "plan_id", "day", "recipient"),)
    id: int | None = Field(default=None, primary_key=True)
    plan_id: int = Field(foreign_key="plan.id", index=True)
    key: str = Field(unique=True)
    day: date = Field(index=True)
    recipient: str
    forwarded_for: str | None = None  # the unit a 专班 message stands in for
    dest_kind: str  # console | slack | dingtalk | wecom
    dest_target: str  # channel ID or webhook NAME, never a URL
    title: str
    body: dict[str, Any] = Field(sa_type=JSON)  # fuquan.words.messages.Message.as_dict(), to re-render on a retry
    status: str = Field(default=PENDING, index=True)
    attempts: int = 0
    claimed_by: str | None = None
    claimed_at: datetime | None = Field(default=None, sa_type=DateTime(timezone=True))  # type: ignore[call-overload]
    sent_at: datetime | None = Field(default=None, sa_type=DateTime(timezone=True))  # type: ignore[call-overload]
    external_id: str | None = None
    last_error: str | None = None
    created_at: datetime = Field(default_factory=utcnow, sa_column=_ts())


class ReminderRow(SQLModel, table=True):
    __tablename__ = "reminder"
    __table_args__ = (UniqueConstraint("plan_id", "key"),)  # (also the index of every lookup by plan: 0012)
    id: int | None = Field(default=None, primary_key=True)
    plan_id: int = Field(foreign_key="plan.id")
    key: str
    message_id: int = Field(foreign_key="message.id", index=True)
    task_no: int
    about: str
    recipient: str
    kind: str
    stage: str
    due: date | None = None


class SendLogRow(SQLModel, table=True):
    __tablename__ = "send_log"
    id: int | None = Field(default=None, primary_key=True)
    message_id: int = Field(foreign_key="message.id", index=True)
    at: datetime = Field(default_factory=utcnow, sa_column=_ts())
    run: str
    channel: str
    result: str  # sent | reconciled | retry | unknown | failed
    error_code: str | None = None
    detail: str | None = None


def known_keys(session: Session, plan_id: int, keys: Iterable[str]) -> set[str]:
    wanted = list(keys)
    if session.get_bind().dialect.name == "postgresql":
        # One array parameter, which PostgreSQL looks up by hash: a list of 500 parameters it compared one by one
        # with each of the plan's rows (0.1–0.6 s a query under the mixed load, 9.6 s for one department's 7,505
        # reminders, all inside the plan's write lock while the towns waited to answer).
        stmt = select(ReminderRow.key).where(ReminderRow.plan_id == plan_id,
                                             col(ReminderRow.key) == any_(bindparam("keys", wanted, type_=ARRAY(String))))
        return set(session.exec(stmt))
    found: set[str] = set()
    for i in range(0, len(wanted), 500):  # stay under SQLite's parameter limit
        stmt = select(ReminderRow.key).where(ReminderRow.plan_id == plan_id, col(ReminderRow.key).in_(wanted[i:i + 500]))
        found.update(session.exec(stmt))
    return found


def enqueue(session: Session, plan_id: int, day: date, recipient: str, reminders: list[dict[str, object]],
            *, dest_kind: str, dest_target: str, forwarded_for: str | None, title: str, body: dict[str, object],
            now: datetime | None = None) -> MessageRow:
    """Record one grouped message and its reminders (the caller has dropped keys already known); `now` is the
    run's own clock (injected in tests and replays), else the system's."""
    n = session.exec(select(func.count()).select_from(MessageRow).where(
        MessageRow.plan_id == plan_id, MessageRow.day == day, MessageRow.recipient == recipient)).one()
    msg = MessageRow(plan_id=plan_id, key=f"{plan_id}:{day}:{recipient}:{n + 1}", day=day, recipient=recipient,
                     forwarded_for=forwarded_for, dest_kind=dest_kind, dest_target=dest_target, title=title,
                     body=body, created_at=(now or utcnow()).astimezone(UTC))
    session.add(msg)
    session.flush()
    # one executemany of plain rows: building 30,000 ORM objects cost a reminder run a third of its time
    if reminders:
        session.connection().execute(insert(ReminderRow), [{"plan_id": plan_id, "message_id": msg.id or 0, **r}
                                                           for r in reminders])
    return msg


def claim(session: Session, plan_id: int, run: str, now: datetime, *, lease: timedelta,
          is_dead: Callable[[str], bool] = lambda _run: False, only: list[int] | None = None,
          settle: timedelta = timedelta(seconds=20)) -> list[tuple[MessageRow, bool]]:
    """Take every message this run may send: (message, in_doubt). A `sending` message whose claim is
    older than the lease, or whose claiming run is dead and whose last request has had time to settle
    (a request in flight when its process died may still land), is in doubt, like an `unknown` one."""
    stmt = select(MessageRow).where(MessageRow.plan_id == plan_id,
                                    col(MessageRow.status).in_([PENDING, UNKNOWN, SENDING])).order_by(col(MessageRow.id))
    if only is not None:
        stmt = stmt.where(col(MessageRow.id).in_(only))
    now = now.astimezone(UTC)  # stored naive in UTC by SQLite; compare like with like
    taken = []
    for m in session.exec(stmt):
        age = now - aware(m.claimed_at) if m.claimed_at is not None else lease
        stale = m.status == SENDING and (age >= lease or (age >= settle and is_dead(m.claimed_by or "")))
        if m.status == SENDING and not stale:
            continue  # another run is sending it right now
        taken.append((m, m.status != PENDING))
        m.status, m.claimed_by, m.claimed_at, m.attempts = SENDING, run, now, m.attempts + 1
    return taken


def finish(session: Session, message_id: int, run: str, channel: str, *, result: SendResult,
           external_id: str | None = None, code: str | None = None, detail: str | None = None,
           now: datetime | None = None) -> None:
    """Record one attempt and move the message on: sent/reconciled → sent; unknown → unknown (look
    before re-sending); anything else → pending, retried on the next run."""
    m = session.get(MessageRow, message_id)
    assert m is not None
    m.status = SENT if result.delivered else UNKNOWN if result == SendResult.UNKNOWN else PENDING
    m.claimed_by = m.claimed_by if m.status == SENT else None
    if m.status == SENT:
        m.sent_at, m.external_id, m.last_error = now or utcnow(), external_id, None
    else:
        m.last_error = f"{code}: {detail}" if detail else code
    session.add(SendLogRow(message_id=message_id, run=run, channel=channel, result=result, error_code=code, detail=detail))


def log_attempt(session: Session, message_id: int, run: str, channel: str, *, result: str, code: str | None) -> None:
    session.add(SendLogRow(message_id=message_id, run=run, channel=channel, result=result, error_code=code))


def release(session: Session, claimed: list[tuple[int, bool]]) -> None:
    """Hand claimed messages back untried (the run stopped first), keeping whether they were in doubt."""
    for message_id, in_doubt in claimed:
        m = session.get(MessageRow, message_id)
        if m is not None and m.status == SENDING:
            m.status, m.claimed_by, m.attempts = UNKNOWN if in_doubt else PENDING, None, max(0, m.attempts - 1)


def stuck(session: Session, plan_id: int, *, before: datetime, attempts: int = 3) -> list[MessageRow]:
    """Messages still `unknown` after `attempts` tries, queued before `before`: no longer a passing fault."""
    stmt = select(MessageRow).where(MessageRow.plan_id == plan_id, MessageRow.status == UNKNOWN,
                                    col(MessageRow.attempts) >= attempts)
    # compared here, not in SQL: SQLite hands the timestamps back naive (they were written in UTC)
    return [m for m in session.exec(stmt.order_by(col(MessageRow.id))) if aware(m.created_at) <= before]


def send_log(session: Session, plan_id: int, *, day: date | None = None, limit: int = 200) -> list[tuple[SendLogRow, MessageRow]]:
    stmt = select(SendLogRow, MessageRow).join(MessageRow, MessageRow.id == SendLogRow.message_id).where(  # type: ignore[arg-type]
        MessageRow.plan_id == plan_id)
    if day is not None:
        stmt = stmt.where(MessageRow.day == day)
    return list(session.exec(stmt.order_by(col(SendLogRow.id).desc()).limit(limit)))


def aware(t: datetime) -> datetime:
    # SQLite hands timestamps back naive; they were written in UTC.
    return t if t.tzinfo else t.replace(tzinfo=UTC)
