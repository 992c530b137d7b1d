"""Status of each task as of a given day (pure; `today` is always passed in, never read).

Colours: 红 overdue, 黄 due within the warning window, 绿 on track, 已完成 every assignment done,
持续 for ongoing/immediate work, 待定 for dates a higher level or the 专班 has yet to set.
Open kinds are never red. A recurring task is judged on the period that is due next.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date
from typing import Any

from .deadline import Deadline, due_dates

DONE, RED, YELLOW, GREEN, ONGOING, PENDING = "已完成", "红", "黄", "绿", "持续", "待定"
ORDER = (RED, YELLOW, GREEN, ONGOING, PENDING, DONE)


@dataclass(frozen=True)
class TaskFacts:
    no: int
    text: str
    deadline: Deadline
    lead_unit: str
    assignees: int
    done: int


@dataclass(frozen=True)
class TaskStatus:
    facts: TaskFacts
    state: str
    due: date | None
    days_left: int | None  # negative: days overdue

    @property
    def days_overdue(self) -> int:
        return -self.days_left if self.days_left is not None and self.days_left < 0 else 0

    def as_dict(self) -> dict[str, Any]:
        f = self.facts
        return {
            "no": f.no, "text": f.text, "deadline": f.deadline.as_dict(), "lead_unit": f.lead_unit,
            "state": self.state, "due": self.due.isoformat() if self.due else None,
            "days_left": self.days_left, "days_overdue": self.days_overdue,
            "assignees": f.assignees, "done": f.done,
        }


def current_due(deadline: Deadline, today: date, plan_year: int) -> date | None:
    """The due date that matters today: the date itself, or a recurring rule's next period.
    Periods stop with the plan year; after it, the last period is the one judged."""
    if deadline.kind in ("date", "range"):
        return deadline.due
    if deadline.kind == "recurring":
        periods = due_dates(deadline, date(plan_year, 1, 1), date(plan_year, 12, 31))
        return next((d for d in periods if d >= today), periods[-1] if periods else None)
    return None


def task_status(facts: TaskFacts, today: date, plan_year: int, *, warn_days: int = 5) -> TaskStatus:
    d = facts.deadline
    due = current_due(d, today, plan_year)
    days_left = (due - today).days if due else None
    if facts.assignees and facts.done >= facts.assignees and d.kind != "recurring":
        state = DONE
    elif d.kind in ("ongoing", "immediate"):
        state = ONGOING
    elif due is None or days_left is None:
        state = PENDING
    elif days_left < 0:
        state = RED
    elif days_left <= warn_days:
        state = YELLOW
    else:
        state = GREEN
    return TaskStatus(facts, state, due, days_left)


def plan_status(facts: list[TaskFacts], today: date, plan_year: int, *, warn_days: int = 5) -> list[TaskStatus]:
    return [task_status(f, today, plan_year, warn_days=warn_days) for f in sorted(facts, key=lambda f: f.no)]


def counts(statuses: list[TaskStatus]) -> dict[str, int]:
    return {s: sum(1 for x in statuses if x.state == s) for s in ORDER}
