"""Frozen monthly snapshots: once a month is closed its snapshot is stored as written and never
recomputed, so later edits (a late 月报, a corrected date) cannot change what was reported."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import JSON, UniqueConstraint
from sqlmodel import Field, Session, SQLModel, select

from .tables import _ts, utcnow


class MonthSnapshotRow(SQLModel, table=True):
    __tablename__ = "month_snapshot"
    __table_args__ = (UniqueConstraint("plan_id", "period"),)
    id: int | None = Field(default=None, primary_key=True)
    plan_id: int = Field(foreign_key="plan.id", index=True)
    period: str  # YYYY-MM
    content: dict[str, Any] = Field(sa_type=JSON)  # written by fuquan.tracking.scores.freeze
    closed_at: datetime = Field(default_factory=utcnow, sa_column=_ts())


def get_snapshot(session: Session, plan_id: int, period: str) -> dict[str, Any] | None:
    row = session.exec(select(MonthSnapshotRow).where(MonthSnapshotRow.plan_id == plan_id,
                                                      MonthSnapshotRow.period == period)).first()
    return row.content if row else None


def save_snapshot(session: Session, plan_id: int, period: str, content: dict[str, Any]) -> bool:
    """Store a snapshot unless one exists (first close wins). Returns whether it was written."""
    if get_snapshot(session, plan_id, period) is not None:
        return False
    session.add(MonthSnapshotRow(plan_id=plan_id, period=period, content=content))
    return True
