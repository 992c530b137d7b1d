"""Reminder policy and unit → channel mapping, as read from the plan's YAML. Pure data.

Channels hold no secrets: a Slack channel ID, or the NAME of a robot webhook whose URL and signing
secret live in the environment (FUQUAN_WEBHOOK_<NAME>, FUQUAN_WEBHOOK_<NAME>_SECRET).
"""

from __future__ import annotations

from dataclasses import asdict, dataclass, field, replace
from datetime import time
from typing import Any

ZHUANBAN = "专班"


@dataclass(frozen=True)
class ReminderPolicy:
    before_due: tuple[int, ...] = (5, 2, 0)  # working days before the due date
    overdue_every: int = 3  # working days between overdue reminders
    escalate_after: int = 5  # working days overdue before the lead unit and the 专班 are told too
    ongoing_every: int = 20  # working days between progress nudges for open-ended work
    send_at: str = "09:00"
    quiet_after: str = "18:00"
    overrides: dict[int, dict[str, Any]] = field(default_factory=dict)
    report_ask_day: int = 10  # on this day of a period's month each town is asked for its 月报

    def for_task(self, no: int) -> ReminderPolicy:
        o = self.overrides.get(no)
        if not o:
            return self
        changes: dict[str, Any] = {k: tuple(v) if k == "before_due" else v for k, v in o.items()}
        return replace(self, **changes)

    def quiet(self, t: time) -> bool:
        """Outside [send_at, quiet_after): reminders wait for office hours."""
        return not (time.fromisoformat(self.send_at) <= t < time.fromisoformat(self.quiet_after))

    def as_dict(self) -> dict[str, Any]:
        d = asdict(self)
        d["before_due"] = list(self.before_due)
        d["overrides"] = {str(k): v for k, v in self.overrides.items()}
        return d

    @classmethod
    def from_dict(cls, d: dict[str, Any]) -> ReminderPolicy:
        d = dict(d)
        d["before_due"] = tuple(d.get("before_due", (5, 2, 0)))
        d["overrides"] = {int(k): v for k, v in d.get("overrides", {}).items()}
        return cls(**d)


@dataclass(frozen=True)
class Destination:
    kind: str  # slack | dingtalk | wecom
    target: str  # Slack channel ID, or webhook NAME (never a URL)

    def label(self) -> str:
        return {"slack": "Slack", "dingtalk": "钉钉", "wecom": "企业微信"}[self.kind] + f" {self.target}"


@dataclass(frozen=True)
class Channels:
    zhuanban: Destination | None = None
    units: dict[str, Destination] = field(default_factory=dict)

    def of(self, recipient: str) -> tuple[Destination | None, bool]:
        """Where a recipient's messages go, and whether that is the 专班 standing in for it."""
        if recipient == ZHUANBAN:
            return self.zhuanban, False
        if recipient in self.units:
            return self.units[recipient], False
        return self.zhuanban, True

    def as_dict(self) -> dict[str, Any]:
        return {"zhuanban": asdict(self.zhuanban) if self.zhuanban else None,
                "units": {k: asdict(v) for k, v in self.units.items()}}

    @classmethod
    def from_dict(cls, d: dict[str, Any]) -> Channels:
        z = d.get("zhuanban")
        return cls(Destination(**z) if z else None, {k: Destination(**v) for k, v in d.get("units", {}).items()})


FLOWS = ("sync-plan", "deadline-check", "monthly-status", "quarterly-analysis", "annual-evaluation")
DEFAULT_SCHEDULES = {
    "deadline-check": ("0 9 * * *", True),  # daily 09:00; the run itself skips non-working days
    "monthly-status": ("0 9 15 * *", False),  # before the 20th (task 14)
    "quarterly-analysis": ("0 9 1 1,4,7,10 *", False),  # the quarter just ended
    "annual-evaluation": ("0 10 5 1 *", False),  # the year just ended
}


@dataclass(frozen=True)
class Schedule:
    """One definition for both runners: Prefect deployments (`fuquan serve`) and APScheduler."""

    name: str  # a flow name, e.g. deadline-check
    cron: str  # five fields, in the plan's time zone
    workdays_only: bool = False

    def as_dict(self) -> dict[str, Any]:
        return asdict(self)


@dataclass(frozen=True)
class Weights:
    on_time: float = 50
    completion: float = 30
    reports: float = 20
    late_penalty: float = 0.5  # points per working day late
    late_penalty_cap: float = 20

    def as_dict(self) -> dict[str, float]:
        return dict(self.__dict__)
