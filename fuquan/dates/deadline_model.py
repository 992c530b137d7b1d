"""What a parsed 完成时限 is, and the due dates it gives. Pure; the grammar that builds it is deadline.py.

A deadline has one kind:
  date       one due date (3月底前, 6月中旬前, 2023年10月底前, 年底前, 一季度, 次年3月底前)
  range      a start and an end (4月至6月, 4月1日—4月10日); due = end
  recurring  one due date per period (每月20日前, 每季度首月15日前, 每周五前, 每年3月底前)
  compound   several parts, each one of the kinds above (5月底前完成，此后每月10日前报送; 6月底前、9月底前):
             every due date of every part is its own due date
  ongoing / per_higher_level / to_be_decided / immediate
             open kinds: never overdue (持续推进, 按省级部署, 另行通知, 立即); `ongoing` may carry a start (2024年起)
A time of day (下午5:30前, 上午下班前) is kept for display: the due date is still that day.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, timedelta
from typing import Any

from fuquan.dates.calendar_math import period_end

OPEN_KINDS = ("ongoing", "per_higher_level", "to_be_decided", "immediate")
KIND_LABEL = {
    "date": "定期", "range": "时段", "recurring": "周期", "compound": "分期",
    "ongoing": "持续推进", "per_higher_level": "按上级部署",
    "to_be_decided": "待定", "immediate": "立即",
}
FREQ_LABEL = {"monthly": "每月", "quarterly": "每季度", "half_yearly": "每半年", "yearly": "每年", "weekly": "每周"}


@dataclass(frozen=True)
class Recurrence:
    """freq: monthly | quarterly | half_yearly | yearly | weekly.
    day: day of month (0 = the month's end); weekday: 1=Mon … 7=Sun;
    month: the month within the period (yearly: 1–12; quarterly: 1–3; half-yearly: 1–6), None = its last month."""

    freq: str
    day: int = 0
    weekday: int | None = None
    month: int | None = None

    def as_dict(self) -> dict[str, Any]:
        shown = {k: v for k, v in self.__dict__.items() if v is not None}
        if self.freq == "weekly":
            shown.pop("day")
        return shown

    def describe(self) -> str:
        """In words, for tables: 每月20日, 每季度第1个月15日, 每周三, 每年3月末."""
        if self.freq == "weekly":
            return f"每周{'一二三四五六日'[(self.weekday or 7) - 1]}"
        day = f"{self.day}日" if self.day else "末"
        if self.freq == "monthly":
            return f"每月{day}"
        if self.freq == "yearly":
            return f"每年{self.month or 12}月{day}"
        if not self.month:
            return f"{FREQ_LABEL[self.freq]}末" if not self.day else f"{FREQ_LABEL[self.freq]}末月{day}"
        return f"{FREQ_LABEL[self.freq]}第{self.month}个月{day}"


@dataclass(frozen=True)
class Deadline:
    text: str
    kind: str
    due: date | None = None
    start: date | None = None
    rule: Recurrence | None = None
    time: str | None = None  # 17:30, 12:00, 上午下班: shown, not judged
    parts: tuple[Deadline, ...] = ()

    @classmethod
    def from_parts(cls, text: str, kind: str, due: date | None, start: date | None,
                   rule: dict[str, Any] | None) -> Deadline:
        """Rebuild a deadline stored by a version that kept only these columns."""
        return cls(text, kind, due, start, Recurrence(**rule) if rule else None)

    @classmethod
    def from_dict(cls, d: dict[str, Any]) -> Deadline:
        """The inverse of as_dict (what the database stores whole)."""
        day = lambda k: date.fromisoformat(d[k]) if d.get(k) else None  # noqa: E731
        return cls(d["text"], d["kind"], day("due"), day("start"), Recurrence(**d["rule"]) if d.get("rule") else None,
                   d.get("time"), tuple(cls.from_dict(p) for p in d.get("parts") or ()))

    @property
    def label(self) -> str:
        return KIND_LABEL[self.kind]

    @property
    def periodic(self) -> bool:
        """Owed at several due dates, each recorded on its own (`task set --period`)."""
        return self.kind in ("recurring", "compound")

    def as_dict(self) -> dict[str, Any]:
        return {
            "text": self.text,
            "kind": self.kind,
            "due": self.due.isoformat() if self.due else None,
            "start": self.start.isoformat() if self.start else None,
            "rule": self.rule.as_dict() if self.rule else None,
            "time": self.time,
            "parts": [p.as_dict() for p in self.parts],
        }

    def dates(self) -> list[date]:
        """Every date written in the deadline (for the years a plan reaches)."""
        own = [d for d in (self.due, self.start) if d]
        return own + [d for p in self.parts for d in p.dates()]

    def describe(self) -> str:
        """The due date(s) in words, for tables: 2024-05-31 17:30; 每月10日 (2024-06-01 起); 分期: …"""
        if self.kind == "compound":
            return "; ".join(p.describe() for p in self.parts)
        when = f" {self.time}" if self.time else ""
        since = f" ({self.start} 起)" if self.start and self.kind != "range" else ""
        if self.rule:
            return f"{self.rule.describe()}{when}{since}"
        if self.due:
            return f"{self.start} 至 {self.due}{when}" if self.kind == "range" else f"{self.due}{when}"
        return f"{self.label}{since}"

    def label_of(self, due: date) -> str:
        """How one due date of a periodic deadline is named (what `task set --period` takes)."""
        if self.kind == "recurring" and self.rule:
            return period_label(self.rule.freq, due)
        return due.isoformat()


def period_label(freq: str, due: date) -> str:
    """How a period of a recurring task is written (as report periods are): 2024-03, 2024Q1, 2024H1, 2024,
    2024W05 — from its due date."""
    if freq == "monthly":
        return f"{due:%Y-%m}"
    if freq == "quarterly":
        return f"{due.year}Q{(due.month - 1) // 3 + 1}"
    if freq == "half_yearly":
        return f"{due.year}H{1 if due.month <= 6 else 2}"
    if freq == "weekly":
        year, week, _ = due.isocalendar()
        return f"{year}W{week:02d}"
    return f"{due.year}"


def has_monthly(deadline: Deadline) -> bool:
    """A monthly recurrence, alone or as a part of a compound deadline (what 月报 tracking follows)."""
    parts = deadline.parts if deadline.kind == "compound" else (deadline,)
    return any(p.kind == "recurring" and p.rule is not None and p.rule.freq == "monthly" for p in parts)


def report_months(deadline: Deadline, issued: date, year: int, covers: str = "当月") -> list[tuple[str, date]]:
    """(month covered YYYY-MM, its due date) for every 月报 of the plan year: the monthly parts of the deadline
    (`每月10日前`, or a compound's `此后每月10日前 …`), due from the plan's issue; a report due on the 10th covers
    its own month (当月) or the month before (上月), as the plan says. Only months within the plan year count: under
    上月, December's report falls due in January."""
    monthly = [p for p in (deadline.parts if deadline.kind == "compound" else (deadline,))
               if p.kind == "recurring" and p.rule is not None and p.rule.freq == "monthly"]
    last = date(year + 1, 1, 31) if covers == "上月" else date(year, 12, 31)
    out: dict[str, date] = {}
    for part in monthly:
        for due in due_dates(part, issued, last):
            covered = due.replace(day=1) - timedelta(days=1) if covers == "上月" else due
            if covered.year == year:
                out.setdefault(f"{covered:%Y-%m}", due)
    return sorted(out.items(), key=lambda m: m[1])


def owed_periods(deadline: Deadline, issued: date, year: int) -> list[str]:
    """The periods a periodic deadline owes from the plan's issue to the year's end, by label (2024Q1 …)."""
    return [deadline.label_of(d) for d in due_dates(deadline, issued, date(year, 12, 31))]


def due_dates(deadline: Deadline, first: date, last: date) -> list[date]:
    """Every due date of `deadline` within [first, last]: one per period of a recurring rule (from its start,
    when it has one), every part's of a compound."""
    if deadline.kind == "compound":
        return sorted({d for p in deadline.parts for d in due_dates(p, first, last)})
    if deadline.kind in ("date", "range"):
        assert deadline.due is not None
        return [deadline.due] if first <= deadline.due <= last else []
    if deadline.rule is None:
        return []
    r = deadline.rule
    return list(period_end(r.freq, r.day, r.weekday, r.month, max(first, deadline.start or first), last))
