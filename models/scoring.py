"""Score adjustments (`score_adjustment`, migration 0010): a leader's points for a unit in a quarter or a year, with
the reason, who and when. Written once and never changed: undoing one is another entry with the opposite points,
so the record and every table that shows it keep both."""

from __future__ import annotations

from datetime import UTC, datetime

from sqlmodel import Session, col, select

from fuquan.tracking.actor import Actor
from fuquan.tracking.scores import Adjustment

from .items import AuditRow
from .stored import StoredPlan, local_day
from .tables import ScoreAdjustmentRow


def add_adjustment(session: Session, sp: StoredPlan, *, unit: str, period: str, points: float, reason: str,
                   actor: Actor, at: datetime) -> Adjustment:
    """One entry and its audit row (who, from where, what). `unit` is a unit of the plan by its canonical name."""
    at = at.astimezone(UTC)  # stored in UTC: SQLite keeps no offset, and local_day reads it back as UTC
    row = ScoreAdjustmentRow(plan_id=sp.id, unit_id=sp.unit_ids[unit], period=period, points=points, reason=reason,
                             by=actor.by, at=at)
    session.add(row)
    # the audit row by hand, not answer_io.audit: its moment is the entry's own (a replay's --today included)
    session.add(AuditRow(plan_id=sp.id, at=at, by=actor.by, source=actor.source, entity="score_adjustment",
                         ref=f"{unit}/{period}", field="得分调整", new=f"{points:+g} 分: {reason}"))
    return _adjustment(sp, row)


def adjustments(session: Session, sp: StoredPlan, periods: tuple[str, ...] | None = None) -> list[Adjustment]:
    """The plan's entries in the order they were made; only those of `periods` when given."""
    stmt = select(ScoreAdjustmentRow).where(ScoreAdjustmentRow.plan_id == sp.id)
    if periods is not None:
        stmt = stmt.where(col(ScoreAdjustmentRow.period).in_(periods))
    return [_adjustment(sp, r) for r in session.exec(stmt.order_by(col(ScoreAdjustmentRow.id)))]


def _adjustment(sp: StoredPlan, row: ScoreAdjustmentRow) -> Adjustment:
    return Adjustment(sp.names.get(row.unit_id, str(row.unit_id)), row.period, row.points, row.reason, row.by,
                      local_day(row.at, sp.plan.timezone))
