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
        between(due, today) is how many working days late; between(today, due) how many are left."""
        if end < start:
            return -self.between(end, start)
        return sum(1 for i in range(1, (end - start).days + 1) if self.is_workday(start + timedelta(days=i)))

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
