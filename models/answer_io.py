"""Reading and writing what units send back (models/answers.py). Every function takes the session and the
unit it acts for: a row of another unit is "not found", never another unit's data.

Writes audit rows like every other record (who, when, from where: `Actor.source` holds the address).
"""

from __future__ import annotations

from collections.abc import Iterable
from datetime import date, datetime
from typing import Any

from sqlalchemy import bindparam
from sqlalchemy import select as sa_select
from sqlalchemy.dialects import postgresql, sqlite
from sqlmodel import Session, col, select

from fuquan.answers.rules import ASKED, PENDING_REVIEW
from fuquan.errors import NotYours
from fuquan.plans.policy import ZHUANBAN
from fuquan.tracking.actor import Actor

from .answers import AckRow, EvidenceRow, ExtensionRow, FeedbackRow, FormUseRow, UnitLinkRow
from .items import AuditRow
from .outbox import SENT, MessageRow, ReminderRow
from .stored import StoredPlan
from .tables import PlanRow, utcnow


def audit(session: Session, sp: StoredPlan, actor: Actor, *, entity: str, ref: str, field: str,
          old: Any = None, new: Any = None) -> None:
    session.add(AuditRow(plan_id=sp.id, by=actor.by, source=actor.source, entity=entity, ref=ref, field=field,
                         old=None if old is None else str(old), new=None if new is None else str(new)))


_GENERATION: Any = sa_select(col(UnitLinkRow.generation)).where(col(UnitLinkRow.plan_id) == bindparam("plan"),
                                                                  col(UnitLinkRow.holder) == bindparam("holder"))


def generation(session: Session, plan_id: int, holder: str) -> int:
    """The current generation of `holder`'s links (every request checks it: one column, a statement built once)."""
    found = session.connection().execute(_GENERATION, {"plan": plan_id, "holder": holder}).first()
    return int(found[0]) if found else 1


_VISIT: Any = sa_select(col(PlanRow.content_hash), col(PlanRow.closed_at), col(PlanRow.closed_by),
                        _GENERATION.scalar_subquery()).where(
    col(PlanRow.id) == bindparam("plan"))


def version_and_generation(session: Session, plan_id: int, holder: str) -> tuple[tuple[Any, ...], int] | None:
    """The plan's version (its content hash and closing: usecases.links_door.PlanCache) and `holder`'s link
    generation, in one round trip: every request of the web app asks both. None: no such plan."""
    found = session.connection().execute(_VISIT, {"plan": plan_id, "holder": holder}).first()
    return None if found is None else ((found[0], found[1], found[2]), int(found[3] or 1))


def rotate(session: Session, plan_id: int, holder: str, now: datetime) -> int:
    row = session.exec(select(UnitLinkRow).where(UnitLinkRow.plan_id == plan_id, UnitLinkRow.holder == holder)).first()
    if row is None:
        row = UnitLinkRow(plan_id=plan_id, holder=holder, generation=1)
    row.generation, row.rotated_at = row.generation + 1, now
    session.add(row)
    return row.generation


_FIRST_USE = {name: dialect.insert(FormUseRow.__table__)  # type: ignore[attr-defined]
              .values(nonce=bindparam("nonce"), at=bindparam("at"))
              .on_conflict_do_nothing(index_elements=["nonce"]).returning(FormUseRow.__table__.c.id)  # type: ignore[attr-defined]
              for name, dialect in (("postgresql", postgresql), ("sqlite", sqlite))}


def first_use(session: Session, nonce: str) -> bool:
    """Record a form's one-time nonce: False when it was used before (the same form sent twice records once).
    One statement (not a read, a savepoint and an insert: four round trips on PostgreSQL for every answer); a
    concurrent insert of the same nonce is waited for, and when it commits this one inserts nothing."""
    stmt = _FIRST_USE[session.get_bind().dialect.name]
    return session.connection().execute(stmt, {"nonce": nonce, "at": utcnow()}).first() is not None


def open_reminders(session: Session, plan_id: int, recipient: str) -> list[tuple[MessageRow, list[ReminderRow]]]:
    """Messages sent to `recipient` with a reminder not yet acknowledged, newest first."""
    stmt = (select(ReminderRow, MessageRow).join(MessageRow, col(MessageRow.id) == ReminderRow.message_id)
            .outerjoin(AckRow, col(AckRow.reminder_id) == ReminderRow.id)
            .where(ReminderRow.plan_id == plan_id, ReminderRow.recipient == recipient, MessageRow.status == SENT,
                   col(AckRow.id).is_(None))
            .order_by(col(MessageRow.id).desc(), col(ReminderRow.id)))
    out: dict[int, tuple[MessageRow, list[ReminderRow]]] = {}
    for r, m in session.exec(stmt):
        out.setdefault(m.id or 0, (m, []))[1].append(r)
    return list(out.values())


def acknowledge(session: Session, sp: StoredPlan, actor: Actor, unit: str, message_id: int, now: datetime) -> int:
    """签收 every reminder of one message sent to `unit`, with the first reminder a repeat stands for and the repeat
    of a first reminder (a 签收 on the first card must not leave its repeat open on the desk).
    Returns how many were newly acknowledged: 0 when they all were already."""
    msg = session.get(MessageRow, message_id)
    if msg is None or msg.plan_id != sp.id or msg.recipient != unit or msg.status != SENT:
        raise NotYours("提醒")
    reminders = list(session.exec(select(ReminderRow).where(ReminderRow.message_id == message_id)))
    keys = [r.key.removeprefix("again|") if r.key.startswith("again|") else f"again|{r.key}" for r in reminders]
    for i in range(0, len(keys), 500):  # (by the unique index on (plan, key))
        reminders += list(session.exec(select(ReminderRow).where(
            ReminderRow.plan_id == sp.id, col(ReminderRow.key).in_(keys[i:i + 500]), ReminderRow.recipient == unit)))
    done = set(session.exec(select(AckRow.reminder_id).where(
        col(AckRow.reminder_id).in_([r.id for r in reminders]))))
    new = [r for r in reminders if r.id not in done]
    for r in new:
        session.add(AckRow(plan_id=sp.id, reminder_id=r.id or 0, unit_id=sp.unit_ids[unit], at=now, by=actor.by,
                           source=actor.source))
    if new:
        audit(session, sp, actor, entity="ack", ref=f"{unit}/{msg.title}", field="签收", new=f"{len(new)} 条提醒")
    return len(new)


def unacknowledged(session: Session, plan_id: int,
                   dest_kind: str | None = None) -> list[tuple[ReminderRow, MessageRow]]:
    """Every sent reminder to a unit (not the 专班) that nobody has acknowledged, oldest first (those sent through
    `dest_kind` only, given)."""
    stmt = (select(ReminderRow, MessageRow).join(MessageRow, col(MessageRow.id) == ReminderRow.message_id)
            .outerjoin(AckRow, col(AckRow.reminder_id) == ReminderRow.id)
            .where(ReminderRow.plan_id == plan_id, MessageRow.status == SENT, ReminderRow.recipient != ZHUANBAN,
                   col(ReminderRow.kind).in_(("before", "overdue", "nudge", "again")), col(AckRow.id).is_(None))
            .order_by(col(MessageRow.day), col(ReminderRow.id)))
    if dest_kind is not None:
        stmt = stmt.where(MessageRow.dest_kind == dest_kind)
    return list(session.exec(stmt))  # type: ignore[arg-type]


def add_evidence(session: Session, sp: StoredPlan, unit_id: int, stored: tuple[str, str, int, str]) -> EvidenceRow:
    """A 佐证 file of the unit: (sha256, kind, size, sanitised name) as usecases.evidence.store kept it."""
    sha, kind, size, name = stored
    row = EvidenceRow(plan_id=sp.id, unit_id=unit_id, sha256=sha, kind=kind, size=size, name=name)
    session.add(row)
    session.flush()
    return row


def evidence(session: Session, plan_id: int, evidence_id: int, unit_id: int | None) -> EvidenceRow:
    """A 佐证 file of the plan; of `unit_id` only, unless None (the 专班)."""
    row = session.get(EvidenceRow, evidence_id)
    if row is None or row.plan_id != plan_id or (unit_id is not None and row.unit_id != unit_id):
        raise NotYours("佐证材料")
    return row


def evidence_of(session: Session, plan_id: int, ids: Iterable[int]) -> dict[int, EvidenceRow]:
    """The 佐证 files of the plan with these ids, in one query."""
    stmt = select(EvidenceRow).where(EvidenceRow.plan_id == plan_id, col(EvidenceRow.id).in_(list(ids)))
    return {row.id or 0: row for row in session.exec(stmt)}


def feedback_of(session: Session, plan_id: int, *, unit_id: int | None = None,
                states: Iterable[str] | None = None) -> list[FeedbackRow]:
    stmt = select(FeedbackRow).where(FeedbackRow.plan_id == plan_id)
    if unit_id is not None:
        stmt = stmt.where(FeedbackRow.unit_id == unit_id)
    if states is not None:
        stmt = stmt.where(col(FeedbackRow.state).in_(list(states)))
    return list(session.exec(stmt.order_by(col(FeedbackRow.id).desc())))


def feedback_waiting(session: Session, plan_id: int, task_id: int, unit_id: int, period: str) -> bool:
    return session.exec(select(FeedbackRow.id).where(
        FeedbackRow.plan_id == plan_id, FeedbackRow.task_id == task_id, FeedbackRow.unit_id == unit_id,
        FeedbackRow.period == period, FeedbackRow.state == PENDING_REVIEW)).first() is not None


def extensions_of(session: Session, plan_id: int, *, unit_id: int | None = None, task_ids: Iterable[int] | None = None,
                  states: Iterable[str] | None = None) -> list[ExtensionRow]:
    stmt = select(ExtensionRow).where(ExtensionRow.plan_id == plan_id)
    if unit_id is not None:
        stmt = stmt.where(ExtensionRow.unit_id == unit_id)
    if task_ids is not None:
        stmt = stmt.where(col(ExtensionRow.task_id).in_(list(task_ids)))
    if states is not None:
        stmt = stmt.where(col(ExtensionRow.state).in_(list(states)))
    return list(session.exec(stmt.order_by(col(ExtensionRow.id).desc())))


def open_extension(session: Session, plan_id: int, task_id: int, unit_id: int, period: str) -> ExtensionRow | None:
    return session.exec(select(ExtensionRow).where(
        ExtensionRow.plan_id == plan_id, ExtensionRow.task_id == task_id, ExtensionRow.unit_id == unit_id,
        ExtensionRow.period == period, ExtensionRow.state == ASKED)).first()


# built once each and run with bound values (building a statement per call was a unit page's main CPU cost)
_PLANS: Any = bindparam("plans", expanding=True)
_UNIT: Any = bindparam("unit")
_STATES: dict[tuple[str, bool], Any] = {}


def _states_stmt(which: str, per_unit: bool) -> Any:
    stmt = _STATES.get((which, per_unit))
    if stmt is None:
        row: Any = FeedbackRow if which == "feedback" else ExtensionRow
        extra = [col(row.state)] if which == "feedback" else [col(row.state), col(row.new_due)]
        stmt = (sa_select(col(row.task_id), col(row.unit_id), col(row.period), *extra)
                .where(col(row.plan_id).in_(_PLANS)).order_by(col(row.id)))
        if per_unit:
            stmt = stmt.where(col(row.unit_id) == _UNIT)
        stmt = _STATES.setdefault((which, per_unit), stmt)
    return stmt


def review_states(session: Session, plan_ids: list[int], unit_id: int | None = None) -> dict[tuple[int, int, str], str]:
    """(task id, unit id, period) → the state of its latest feedback (of one unit's only, given `unit_id`)."""
    rows = session.connection().execute(_states_stmt("feedback", unit_id is not None), {"plans": plan_ids, "unit": unit_id})
    return {(t, u, p): s for t, u, p, s in rows}


def extension_states(session: Session, plan_ids: list[int], unit_id: int | None = None) -> list[tuple[int, int, str, str, date]]:
    """(task id, unit id, period, state, new due) of every extension request (of one unit's), oldest first."""
    rows = session.connection().execute(_states_stmt("extension", unit_id is not None), {"plans": plan_ids, "unit": unit_id})
    return [tuple(r) for r in rows]  # type: ignore[misc]

