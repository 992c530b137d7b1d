"""Working days by China's official calendar, 调休 make-up days included (chinese-calendar), extended and
overridden by the plan file's `calendar:` block (the State Council's notice for a year the package lacks).

Where the block lists a day, it wins; else the package decides; a year neither covers is counted Monday–Friday
and the calendar says so once per year through `warnings`, so the CLI can print it and a flow can log it.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date, timedelta
from functools import lru_cache
from typing import Any

import chinese_calendar


@dataclass(frozen=True)
class PlanCalendar:
    """The plan file's `calendar:` block: per year, the holidays and the 调休 make-up working days."""

    holidays: frozenset[date] = frozenset()
    workdays: frozenset[date] = frozenset()
    years: frozenset[int] = field(default_factory=frozenset)

    def as_dict(self) -> dict[str, Any]:
        return {str(y): {"holidays": sorted(d.isoformat() for d in self.holidays if d.year == y),
                         "workdays": sorted(d.isoformat() for d in self.workdays if d.year == y)}
                for y in sorted(self.years)}

    @classmethod
    def from_dict(cls, d: dict[str, Any]) -> PlanCalendar:
        days = lambda k: frozenset(date.fromisoformat(x) for v in d.values() for x in v[k])  # noqa: E731
        return cls(days("holidays"), days("workdays"), frozenset(int(y) for y in d))


HOLIDAY_NAMES = {"New Year's Day": "元旦", "Spring Festival": "春节", "Tomb-sweeping Day": "清明节",
                 "Labour Day": "劳动节", "Dragon Boat Festival": "端午节", "National Day": "国庆节",
                 "Mid-autumn Festival": "中秋节", "Anti-Fascist 70th Day": "抗战胜利70周年纪念日"}


def fallback_warning(year: int) -> str:
    """What to say of a year whose holidays neither the calendar package nor the plan's `calendar:` knows."""
    return (f"注意: {year} 年的法定节假日与调休安排尚未收录, 该年按周一至周五计算工作日; "
            "请按国务院办公厅当年的通知在计划文件中加上 calendar: 段")


@lru_cache(maxsize=256)
def covered_by_package(year: int) -> bool:
    try:
        chinese_calendar.is_workday(date(year, 6, 1))
    except NotImplementedError:
        return False
    return True


class WorkCalendar:
    def __init__(self, plan: PlanCalendar | None = None,
                 tables: tuple[dict[date, bool], dict[int, list[int]]] | None = None) -> None:
        """`tables`: the day and year tables of another calendar of the same plan block, to share (calendar_for);
        what this one was asked about (its warnings) stays its own."""
        self.plan = plan or PlanCalendar()
        self._cache: dict[date, bool] = tables[0] if tables else {}
        # year → working days up to and including each day
        self._cumulative: dict[int, list[int]] = tables[1] if tables else {}
        self.fallback_years: set[int] = set()

    @property
    def warnings(self) -> list[str]:
        return [fallback_warning(y) for y in sorted(self.fallback_years)]

    def is_workday(self, d: date) -> bool:
        self._note(d.year)
        hit = self._cache.get(d)
        if hit is None:
            if d in self.plan.workdays or d in self.plan.holidays:
                hit = d in self.plan.workdays
            else:
                try:
                    hit = bool(chinese_calendar.is_workday(d))
                except NotImplementedError:
                    hit = d.weekday() < 5
            self._cache[d] = hit
        return hit

    def _note(self, year: int) -> None:
        """A year asked about whose holidays nobody knows (the plan's block covers its own years: no warning)."""
        if year not in self.fallback_years and year not in self.plan.years and not covered_by_package(year):
            self.fallback_years.add(year)

    def between(self, start: date, end: date) -> int:
        """Working days in (start, end]; negative when end is before start.
        between(due, today) is how many working days late; between(today, due) how many are left.
        O(1) after a year's table is built: a sweep asks this for every share, at province scale."""
        if end < start:
            return -self.between(end, start)
        for year in range(start.year, end.year + 1):
            self._note(year)  # (the tables may have been built by another calendar sharing them)
        first, last = self._year(start.year), self._year(end.year)
        if start.year == end.year:
            return last[_yday(end)] - first[_yday(start)]
        middle = sum(self._year(y)[-1] for y in range(start.year + 1, end.year))
        return first[-1] - first[_yday(start)] + middle + last[_yday(end)]

    def _year(self, year: int) -> list[int]:
        table = self._cumulative.get(year)
        if table is None:
            day, n, table = date(year, 1, 1), 0, []
            while day.year == year:
                n += self.is_workday(day)
                table.append(n)
                day += timedelta(days=1)
            self._cumulative[year] = table
        return table

    def add(self, d: date, n: int) -> date:
        """The n-th working day after d (n > 0) or before it (n < 0); n = 0 gives d itself."""
        step = 1 if n >= 0 else -1
        left = abs(n)
        while left:
            d += timedelta(days=step)
            if self.is_workday(d):
                left -= 1
        return d

    def last_before(self, d: date) -> date:
        """The last working day on or before d (a due date on a holiday is met on the working day before it)."""
        while not self.is_workday(d):
            d -= timedelta(days=1)
        return d

    def day_off_name(self, d: date) -> str:
        """What a day off is called in a message: the holiday's name when the calendar package knows it
        (劳动节), else 节假日 for a day the plan's `calendar:` block lists, else 周六/周日."""
        try:
            holiday, name = chinese_calendar.get_holiday_detail(d)
        except NotImplementedError:
            holiday, name = False, None
        if holiday and name in HOLIDAY_NAMES:
            return HOLIDAY_NAMES[name]
        if d in self.plan.holidays:
            return "节假日"
        return "周六" if d.weekday() == 5 else "周日" if d.weekday() == 6 else "休息日"



def _yday(d: date) -> int:
    # by ordinals, not d.timetuple().tm_yday: a sweep asks this twice per judged share, and building the
    # time tuple cost four times what the rest of between() does
    return d.toordinal() - _jan1(d.year)


@lru_cache(maxsize=256)
def _jan1(year: int) -> int:
    return date(year, 1, 1).toordinal()


def calendar_for(plan: PlanCalendar) -> WorkCalendar:
    """A working-day calendar of a plan's `calendar:` block whose tables are built once per process and shared:
    building a year costs milliseconds, and a web request or a report should not pay for it again. Each
    caller gets its own instance, so its warnings are about what it asked."""
    return WorkCalendar(plan, _tables(plan))


@lru_cache(maxsize=64)
def _tables(plan: PlanCalendar) -> tuple[dict[date, bool], dict[int, list[int]]]:
    return {}, {}
