"""Reminders delivered to persons (DingTalk work notices, WeCom app messages), one row per person and message:
who was sent it, and whether and how they answered from it. A button press names only our id of the message
(DingTalk's outTrackId, WeCom's task_id) and the person; this table finds the message, its unit, and the
person's name for the audit; the 专班's desk reads from it who has not answered yet."""

from __future__ import annotations

from collections.abc import Iterable
from datetime import datetime

from sqlalchemy import UniqueConstraint
from sqlmodel import Field, Session, SQLModel, col, select

from .tables import _ts


class ReachRow(SQLModel, table=True):
    __tablename__ = "card_reach"
    __table_args__ = (UniqueConstraint("platform", "track", "person_id", name="uq_card_reach_person"),)
    id: int | None = Field(default=None, primary_key=True)
    plan_id: int = Field(foreign_key="plan.id", index=True)
    message_id: int = Field(foreign_key="message.id", index=True)
    platform: str  # dingtalk | wecom
    track: str = Field(index=True)  # our id of the message on the platform (notifications.base.track_id)
    unit: str
    person_id: str  # their DingTalk userId / WeCom UserID
    person_name: str
    sent_at: datetime = Field(sa_column=_ts())
    answered_at: datetime | None = Field(default=None, sa_column=_ts(nullable=True))
    action: str | None = None  # ack | feedback | extension: the first button they pressed
    # where the platform reports read status (DingTalk's robot 1:1 messages, 0013): when it last answered, and
    # when this person read the message (None: not read, as of checked_at)
    checked_at: datetime | None = Field(default=None, sa_column=_ts(nullable=True))
    read_at: datetime | None = Field(default=None, sa_column=_ts(nullable=True))


def record_sent(session: Session, *, plan_id: int, message_id: int, platform: str, track: str, unit: str,
                people: Iterable[tuple[str, str]], now: datetime) -> None:
    """The persons (id, name) a message went to; a message re-sent after an uncertain send adds nobody twice."""
    have = set(session.exec(select(ReachRow.person_id).where(ReachRow.platform == platform, ReachRow.track == track)))
    for pid, name in people:
        if pid not in have:
            session.add(ReachRow(plan_id=plan_id, message_id=message_id, platform=platform, track=track, unit=unit,
                                 person_id=pid, person_name=name, sent_at=now))


def reached(session: Session, platform: str, track: str, person_id: str) -> ReachRow | None:
    """The row saying that message reached that person, if it did."""
    return session.exec(select(ReachRow).where(ReachRow.platform == platform, ReachRow.track == track,
                                               ReachRow.person_id == person_id)).first()


def answered(session: Session, row: ReachRow, action: str, now: datetime) -> None:
    if row.answered_at is None:
        row.answered_at, row.action = now, action
        session.add(row)


def waiting(session: Session, plan_id: int, message_ids: Iterable[int]) -> dict[int, list[ReachRow]]:
    """Message id → the persons it reached who have not answered from it."""
    ids = list(message_ids)
    out: dict[int, list[ReachRow]] = {}
    for i in range(0, len(ids), 500):
        stmt = select(ReachRow).where(ReachRow.plan_id == plan_id, col(ReachRow.message_id).in_(ids[i:i + 500]),
                                      col(ReachRow.answered_at).is_(None)).order_by(col(ReachRow.id))
        for r in session.exec(stmt):
            out.setdefault(r.message_id, []).append(r)
    return out


def not_read(session: Session, plan_id: int, platform: str, message_ids: Iterable[int], *,
             checked: bool = False) -> list[ReachRow]:
    """The persons these messages reached who have not read them (as the platform last said, with `checked`: those
    it was asked about at least once), in the order they were reached."""
    ids = list(message_ids)
    out: list[ReachRow] = []
    for i in range(0, len(ids), 500):
        stmt = select(ReachRow).where(ReachRow.plan_id == plan_id, ReachRow.platform == platform,
                                      col(ReachRow.message_id).in_(ids[i:i + 500]), col(ReachRow.read_at).is_(None))
        if checked:
            stmt = stmt.where(col(ReachRow.checked_at).is_not(None))
        out += session.exec(stmt.order_by(col(ReachRow.id)))
    return out


def mark_reads(session: Session, plan_id: int, platform: str, reads: dict[int, dict[str, datetime | None]],
               now: datetime) -> None:
    """What the platform said of each message (id → person id → when they read it, None: not yet): every person
    not yet read is checked now, and those it says read are marked so."""
    for row in not_read(session, plan_id, platform, reads):
        row.checked_at = now
        row.read_at = reads[row.message_id].get(row.person_id)
        session.add(row)
