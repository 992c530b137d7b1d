"""督办单 as stored: the slips a plan issued, and issuing one. A number is the next after the highest the plan ever
issued that year, so none is given twice or reused; the table's unique keys hold that (and one slip a unit a
day) even against two runs at once, which the plan's write lock already keeps apart."""

from __future__ import annotations

from datetime import date, datetime
from typing import Any

from sqlalchemy import func
from sqlmodel import Session, col, select

from .tables import SlipRow


def slip_of(session: Session, plan_id: int, unit_id: int, day: date) -> SlipRow | None:
    """The slip `unit_id` was issued for `day`, if any."""
    return session.exec(select(SlipRow).where(SlipRow.plan_id == plan_id, SlipRow.unit_id == unit_id,
                                              SlipRow.day == day)).first()


def next_number(session: Session, plan_id: int, year: int) -> int:
    top = session.exec(select(func.max(SlipRow.number)).where(SlipRow.plan_id == plan_id, SlipRow.year == year)).one()
    return int(top or 0) + 1


def issue(session: Session, *, plan_id: int, year: int, unit_id: int, day: date, level: str, answer_by: date,
          items: list[dict[str, Any]], now: datetime, by: str) -> SlipRow:
    """A new slip with the next number of `year` (the year it is dated in); the caller checked `slip_of` first."""
    row = SlipRow(plan_id=plan_id, year=year, number=next_number(session, plan_id, year), unit_id=unit_id,
                  day=day, level=level, answer_by=answer_by, items=items, issued_at=now, by=by)
    session.add(row)
    session.flush()  # the unique keys are checked here, inside the caller's transaction
    return row



def latest_by_unit(session: Session, plan_id: int, before: date) -> dict[int, SlipRow]:
    """Each unit's most recent slip of a day before `before`."""
    rows = session.exec(select(SlipRow).where(SlipRow.plan_id == plan_id, SlipRow.day < before)
                        .order_by(col(SlipRow.day), col(SlipRow.number))).all()
    return {r.unit_id: r for r in rows}
