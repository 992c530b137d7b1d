"""Task-level summaries over the ledger's rows, and the grouping keys for roll-ups. Pure.

A task's colour is its worst share's: one red unit makes the task red. Its due date is the earliest
due among shares not yet done (the one that matters next), else the latest.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import date
from typing import Any

from fuquan.tracking.judge import (
    COLOURS,
    DONE,
    DONE_LATE,
    FINISHED,
    GREEN,
    ONGOING,
    PENDING,
    RED,
    YELLOW,
    RollUp,
    roll_up,
)
from fuquan.tracking.ledger import Row

__all__ = ["COLOURS", "DONE", "DONE_LATE", "GREEN", "ONGOING", "PENDING", "RED", "YELLOW",
           "TaskSummary", "summarise", "rollups", "BY"]

WORST_FIRST = (RED, YELLOW, GREEN, PENDING, ONGOING, DONE_LATE, DONE)


@dataclass(frozen=True)
class TaskSummary:
    no: int
    text: str
    deadline_text: str
    colour: str
    due: date | None
    rollup: RollUp
    title: str = ""  # the task's short title (Task.title)

    def as_dict(self) -> dict[str, Any]:
        return {"no": self.no, "text": self.text, "short": self.title, "deadline_text": self.deadline_text,
                "colour": self.colour,
                "due": self.due.isoformat() if self.due else None, **self.rollup.as_dict(), "key": str(self.no)}


def summarise(rows: list[Row]) -> list[TaskSummary]:
    by_task: dict[int, list[Row]] = {}
    for r in rows:
        by_task.setdefault(r.task_no, []).append(r)
    out = []
    for no, rs in sorted(by_task.items()):
        colour = min((r.judgement.colour for r in rs), key=WORST_FIRST.index)
        open_dues = [r.judgement.due for r in rs if r.judgement.due and r.judgement.colour not in FINISHED]
        all_dues = [r.judgement.due for r in rs if r.judgement.due]
        due = min(open_dues) if open_dues else max(all_dues) if all_dues else None
        rollup = roll_up((str(no), r.judgement) for r in rs)[0]
        out.append(TaskSummary(no, rs[0].task_text, rs[0].deadline_text, colour, due, rollup, rs[0].title))
    return out


BY: dict[str, Callable[[Row], str | None]] = {
    "unit": lambda r: r.unit,
    "town": lambda r: r.unit if r.unit_kind == "town" else None,
    "task": lambda r: str(r.task_no),
}


def rollups(rows: list[Row], by: str) -> list[RollUp]:
    key = BY[by]
    return roll_up((k, r.judgement) for r in rows if (k := key(r)) is not None)
