"""Working days by China's official calendar, 调休 make-up days included (chinese-calendar).

For a year the library does not cover yet (it raises for it), Monday–Friday is used and the
calendar says so once per year through `warnings`, so the CLI can print it and a flow can log it.
"""

from __future__ import annotations

from datetime import date, timedelta

import chinese_calendar


class WorkCalendar:
    def __init__(self) -> None:
        self._cache: dict[date, bool] = {}
        self._cumulative: dict[int, list[int]] = {}  # year → working days up to and including each day
        self.fallback_years: set[int] = set()

    @property
    def warnings(self) -> list[str]:
        return [f"注意: {y} 年的法定节假日与调休安排尚未收录, 该年按周一至周五计算工作日"
                for y in sorted(self.fallback_years)]

    def is_workday(self, d: date) -> bool:
        hit = self._cache.get(d)
        if hit is None:
            try:
                hit = bool(chinese_calendar.is_workday(d))
            except NotImplementedError:
                self.fallback_years.add(d.year)
                hit = d.weekday() < 5
            self._cache[d] = hit
        return hit

    def between(self, start: date, end: date) -> int:
        """Working days in (start, end]; negative when end is before start.
        between(due, today) is how many working days late; between(today, due) how many are left.
        O(1) after a year's table is built: a sweep asks this for every share, at province scale."""
        if end < start:
            return -self.between(end, start)
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

    def on_or_after(self, d: date) -> date:
        while not self.is_workday(d):
            d += timedelta(days=1)
        return d


def _yday(d: date) -> int:
    return d.timetuple().tm_yday - 1
