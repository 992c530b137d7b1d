"""The status rule for one due thing as of a day, and roll-ups of many. Pure.

    已完成    done on or before its due date          逾期完成  done after it
    绿        not done, more than N working days left  黄        not done, N or fewer working days left
    红        not done, past due (working and calendar days late are both given)
    持续      ongoing work (持续推进, 立即): never red    待定      no date yet (按省级部署, 结合工作实际确定)

Something completed after `today` is not done as of `today`: history can be viewed on any date.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import date
from typing import Any

from fuquan.dates.workdays import WorkCalendar
from fuquan.tracking.states import Colour

# the colours by their old names (fuquan.tracking.states.Colour is the one definition)
DONE, DONE_LATE, GREEN, YELLOW, RED, ONGOING, PENDING = (Colour.DONE, Colour.DONE_LATE, Colour.GREEN, Colour.YELLOW,
                                                         Colour.RED, Colour.ONGOING, Colour.PENDING)
COLOURS = (RED, YELLOW, GREEN, DONE_LATE, DONE, ONGOING, PENDING)
FINISHED = (DONE, DONE_LATE)


@dataclass(frozen=True)
class Judgement:
    colour: Colour
    due: date | None
    completed_on: date | None = None
    workdays_late: int = 0
    days_late: int = 0
    workdays_left: int | None = None

    def as_dict(self) -> dict[str, Any]:
        return {
            "colour": self.colour,
            "due": self.due.isoformat() if self.due else None,
            "completed_on": self.completed_on.isoformat() if self.completed_on else None,
            "workdays_late": self.workdays_late, "days_late": self.days_late,
            "workdays_left": self.workdays_left,
        }


def judge(due: date | None, completed_on: date | None, today: date, cal: WorkCalendar,
          warn_workdays: int, kind: str = "date") -> Judgement:
    if completed_on is not None and completed_on <= today:
        if due is None or completed_on <= due:
            return Judgement(DONE, due, completed_on)
        return Judgement(DONE_LATE, due, completed_on, cal.between(due, completed_on), (completed_on - due).days)
    if kind in ("ongoing", "immediate"):
        return Judgement(ONGOING, due)
    if due is None:
        return Judgement(PENDING, None)
    if today > due:
        return Judgement(RED, due, None, cal.between(due, today), (today - due).days)
    left = cal.between(today, due)
    return Judgement(YELLOW if left <= warn_workdays else GREEN, due, None, workdays_left=left)


def all_done(dates: Iterable[date | None], today: date) -> date | None:
    """When the last of several items was done, or None if any is not done as of `today`."""
    seen = list(dates)
    if not seen or any(d is None or d > today for d in seen):
        return None
    return max(d for d in seen if d is not None)


@dataclass
class RollUp:
    key: str
    counts: dict[str, int] = field(default_factory=lambda: dict.fromkeys(COLOURS, 0))
    workdays_late_max: int = 0
    workdays_late_sum: int = 0

    @property
    def total(self) -> int:
        return sum(self.counts.values())

    @property
    def done(self) -> int:
        return self.counts[DONE] + self.counts[DONE_LATE]

    @property
    def percent(self) -> float | None:
        """Share done of what has a finish line; open kinds count neither way (None: nothing to finish)."""
        base = self.total - self.counts[ONGOING] - self.counts[PENDING]
        return round(100 * self.done / base, 1) if base else None

    def add(self, j: Judgement) -> None:
        self.counts[j.colour] += 1
        if j.colour == RED:
            self.workdays_late_max = max(self.workdays_late_max, j.workdays_late)
            self.workdays_late_sum += j.workdays_late

    def as_dict(self) -> dict[str, Any]:
        return {"key": self.key, "counts": self.counts, "total": self.total, "done": self.done,
                "percent": self.percent, "workdays_late_max": self.workdays_late_max,
                "workdays_late_sum": self.workdays_late_sum}


def roll_up(pairs: Iterable[tuple[str, Judgement]]) -> list[RollUp]:
    out: dict[str, RollUp] = {}
    for key, j in pairs:
        out.setdefault(key, RollUp(key)).add(j)
    return list(out.values())
