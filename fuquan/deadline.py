"""The deadline language: a 完成时限 phrase + the plan year → a Deadline. Pure, no I/O.

Kinds:
  date       one due date (3月底前, 6月中旬前, 2023年10月底前, 年底前, 一季度, 次年3月底前)
  range      a start and an end (4月至6月, 4月1日—4月10日); due = end
  recurring  one due date per period (每月20日前, 每季度末, 每周五前, 每年3月底前)
  ongoing / per_higher_level / to_be_decided / immediate
             open kinds: never overdue (持续推进, 按省级部署, 结合工作实际确定, 立即)

An unknown phrase raises DeadlineError naming it: we never guess a date for the 专班.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from datetime import date
from typing import Any

from .calendar_math import month_end, period_end
from .errors import DeadlineError
from .text import arabic_numerals, clean

OPEN_KINDS = ("ongoing", "per_higher_level", "to_be_decided", "immediate")
KIND_LABEL = {
    "date": "定期", "range": "时段", "recurring": "周期",
    "ongoing": "持续推进", "per_higher_level": "按上级部署",
    "to_be_decided": "待定", "immediate": "立即",
}

_OPEN_PHRASES = {
    "ongoing": ("持续推进", "持续开展", "持续", "常态化", "常态化推进", "常态化开展",
                "长期坚持", "长期", "长期推进", "持续跟进"),
    "per_higher_level": ("按省级部署", "按省级要求", "按上级要求", "按上级部署", "根据省市部署",
                         "根据省、市级部署", "根据省市级部署", "按省市部署", "根据上级部署",
                         "根据省级部署", "按省市要求", "按市级部署", "根据市级部署"),
    "to_be_decided": ("结合工作实际确定", "根据工作实际确定", "视情况确定", "另行通知", "待定",
                      "另行确定", "视工作进展确定"),
    "immediate": ("立即", "即时", "立即执行", "立即开展", "马上", "即日起"),
}
_OPEN = {p: kind for kind, phrases in _OPEN_PHRASES.items() for p in phrases}
_WEEKDAY = {"1": 1, "2": 2, "3": 3, "4": 4, "5": 5, "6": 6, "7": 7, "日": 7, "天": 7, "末": 7}


@dataclass(frozen=True)
class Recurrence:
    """freq: monthly | quarterly | half_yearly | yearly | weekly.
    day: day of month (or 0 for the period's end); weekday: 1=Mon … 7=Sun; month: for yearly."""

    freq: str
    day: int = 0
    weekday: int | None = None
    month: int | None = None

    def as_dict(self) -> dict[str, Any]:
        shown = {k: v for k, v in self.__dict__.items() if v is not None}
        if self.freq == "weekly":
            shown.pop("day")
        return shown


@dataclass(frozen=True)
class Deadline:
    text: str
    kind: str
    due: date | None = None
    start: date | None = None
    rule: Recurrence | None = field(default=None)

    @classmethod
    def from_parts(cls, text: str, kind: str, due: date | None, start: date | None,
                   rule: dict[str, Any] | None) -> Deadline:
        """Rebuild a parsed deadline from what the database stored."""
        return cls(text, kind, due, start, Recurrence(**rule) if rule else None)

    @property
    def label(self) -> str:
        return KIND_LABEL[self.kind]

    def as_dict(self) -> dict[str, Any]:
        return {
            "text": self.text,
            "kind": self.kind,
            "due": self.due.isoformat() if self.due else None,
            "start": self.start.isoformat() if self.start else None,
            "rule": self.rule.as_dict() if self.rule else None,
        }


# Words that carry no date: 原则上于4月底前完成 means 4月底前.
_LEAD = re.compile(r"^(原则上|须|需|要|应|务必|在|于|截至|截止)+")
_TAIL = re.compile(r"(完成|报送|办结|到位|落实|实现|上报|提交|交|止|为止)+$")
_BEFORE = re.compile(r"(以前|之前|前)$")
_YEAR = r"(?:(?P<y>\d{4})年|(?P<next>次年|明年|下一年|翌年)|(?:当年|本年|今年))?"
_DAY = re.compile(rf"^{_YEAR}(?P<m>\d{{1,2}})月(?:(?P<d>\d{{1,2}})[日号])?(?P<part>底|末|上旬|中旬|下旬|份|内|份内)?$")
_YEAR_PART = re.compile(rf"^{_YEAR}(?:第)?(?:(?P<q>[1-4])季度|(?P<h>上半年|下半年)|(?P<end>年底|年末|年内|全年|底))(?:末|底)?$")
_RANGE_SEP = re.compile(r"\s*(?:至|到|—+|–|―|~|-)\s*")


def parse_deadline(text: str, year: int) -> Deadline:
    """Parse one 完成时限 phrase against the plan year."""
    norm = _normalise(text)
    if not norm:
        raise DeadlineError(text, "完成时限为空")
    if norm in _OPEN:
        return Deadline(text, _OPEN[norm])
    if norm.startswith("每"):
        return Deadline(text, "recurring", rule=_recurrence(text, norm[1:]))
    parts = _RANGE_SEP.split(norm)
    if len(parts) == 2 and all(parts):
        start, end = _range(text, parts[0], parts[1], year)
        return Deadline(text, "range", due=end, start=start)
    if len(parts) > 2:
        raise DeadlineError(text, "时段只能有一个起点和一个终点")
    return Deadline(text, "date", due=_point(text, norm, year, end=True))


def _normalise(text: str) -> str:
    s = arabic_numerals(clean(text))
    s = re.sub(r"[\s,,。.;;、]+$", "", s)
    s = re.sub(r"\s+", "", s)
    s = _TAIL.sub("", _LEAD.sub("", s))
    if re.search(r"\d月份?(以前|之前|前)$", s):
        # "4月前" reads as "before April" to some and "by April's end" to others: ask, don't guess.
        raise DeadlineError(text, "“X月前”有歧义, 请写作 X月底前 或 X月1日前")
    return _BEFORE.sub("", s)


def _point(text: str, s: str, year: int, *, end: bool) -> date:
    """One point in time; `end` picks the last day of a period (4月 → 04-30) or the first (04-01)."""
    if m := _DAY.match(s):
        y = _year(m, year)
        month = _check_month(text, int(m["m"]))
        part = m["part"]
        if m["d"]:
            if part in ("上旬", "中旬", "下旬"):
                raise DeadlineError(text, "日期与上/中/下旬不能同时出现")
            return _make_date(text, y, month, int(m["d"]))
        if part in ("上旬", "中旬", "下旬"):
            # 上旬 ends the 10th, 中旬 the 20th, 下旬 the month's end; a range starts at 1/11/21.
            if end:
                return date(y, month, 10) if part == "上旬" else date(y, month, 20) if part == "中旬" else month_end(y, month)
            return date(y, month, {"上旬": 1, "中旬": 11, "下旬": 21}[part])
        return month_end(y, month) if end else date(y, month, 1)
    if m := _YEAR_PART.match(s):
        y = _year(m, year)
        if m["q"]:
            first, last = 3 * int(m["q"]) - 2, 3 * int(m["q"])
        elif m["h"]:
            first, last = (1, 6) if m["h"] == "上半年" else (7, 12)
        else:
            first, last = 1, 12
        return month_end(y, last) if end else date(y, first, 1)
    raise DeadlineError(text, _hint(s))


def _range(text: str, a: str, b: str, year: int) -> tuple[date, date]:
    # 4月1日至10日 / 4至6月: the side that omits the month or the 月 borrows from the other.
    if re.fullmatch(r"\d{1,2}[日号]", b) and (m := _DAY.match(a)) and m["d"]:
        b = f"{m['m']}月{b}"
    if re.fullmatch(r"\d{1,2}", a) and "月" in b:
        a = f"{a}月"
    start = _point(text, a, year, end=False)
    end = _point(text, b, year, end=True)
    if end < start:
        raise DeadlineError(text, f"时段终点 {end} 早于起点 {start}")
    return start, end


def _recurrence(text: str, s: str) -> Recurrence:
    if m := re.fullmatch(r"月(?:(\d{1,2})[日号]|(底|末)|(上旬|中旬|下旬))?", s):
        if m[1]:
            day = int(m[1])
            if not 1 <= day <= 31:
                raise DeadlineError(text, f"每月 {day} 日不存在")
            return Recurrence("monthly", day=day)
        if m[3]:
            return Recurrence("monthly", day={"上旬": 10, "中旬": 20, "下旬": 0}[m[3]])
        return Recurrence("monthly")
    if m := re.fullmatch(r"季度(?:末|底|结束)?|季", s):
        return Recurrence("quarterly")
    if re.fullmatch(r"半年(?:末|底)?", s):
        return Recurrence("half_yearly")
    if m := re.fullmatch(r"(?:周|星期|礼拜)([1-7日天末])", s):
        return Recurrence("weekly", weekday=_WEEKDAY[m[1]])
    if m := re.fullmatch(r"年(?:(\d{1,2})月(?:(\d{1,2})[日号]|底|末)?|底|末)", s):
        month = _check_month(text, int(m[1])) if m[1] else 12
        day = int(m[2]) if m[2] else 0
        if day:
            _make_date(text, 2024, month, day)  # validates against a leap year
        return Recurrence("yearly", day=day, month=month)
    raise DeadlineError(text, "周期写法应为 每月X日前、每月底前、每季度末、每半年、每周X前 或 每年X月X日前")


def _year(m: re.Match[str], year: int) -> int:
    if m["y"]:
        return int(m["y"])
    return year + 1 if m["next"] else year


def _check_month(text: str, month: int) -> int:
    if not 1 <= month <= 12:
        raise DeadlineError(text, f"月份 {month} 不存在")
    return month


def _make_date(text: str, y: int, month: int, day: int) -> date:
    try:
        return date(y, month, day)
    except ValueError:
        raise DeadlineError(text, f"{y}年{month}月{day}日不存在") from None


def _hint(s: str) -> str:
    return ("可用写法: X月底前、X月上/中/下旬前、X月X日前、YYYY年X月底前、年底前、一季度、上半年、"
            "次年X月底前、每月X日前、每季度末、每周X前、4月至6月、持续推进、按省级部署、结合工作实际确定、立即")


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


def owed_periods(deadline: Deadline, issued: date, year: int) -> list[str]:
    """The periods a recurring deadline owes from the plan's issue to the year's end, by label (2024Q1 …)."""
    assert deadline.rule is not None
    return [period_label(deadline.rule.freq, d) for d in due_dates(deadline, issued, date(year, 12, 31))]


def due_dates(deadline: Deadline, first: date, last: date) -> list[date]:
    """Every due date of `deadline` within [first, last]; recurring rules give one per period."""
    if deadline.kind in ("date", "range"):
        assert deadline.due is not None
        return [deadline.due] if first <= deadline.due <= last else []
    if deadline.rule is None:
        return []
    return [d for d in period_end(deadline.rule.freq, deadline.rule.day, deadline.rule.weekday,
                                  deadline.rule.month, first, last)]
