"""What every write of a use case checks first, in its own transaction: the plan year is still open."""

from __future__ import annotations

from sqlmodel import Session

from fuquan.errors import PlanClosed
from models.stored import StoredPlan, closed_now


def open_plan(session: Session, sp: StoredPlan) -> None:
    """Refuse a write to a closed plan year. Read from the database in the write's own transaction, so a plan
    closed a moment ago (by another process, after this one read its plan) is closed here too."""
    if note := closed_now(session, sp.id):
        raise PlanClosed(f"{sp.label} 计划{note}, 不再登记新的进展、反馈或延期; 如需继续请先 fuquan plan reopen")
