"""Calendar arithmetic for deadlines (pure): month ends and the due dates of recurring rules.

Working days (调休) live in workdays.py; this module knows only the Gregorian calendar.
"""

from __future__ import annotations

from collections.abc import Iterator
from datetime import date, timedelta

from dateutil.relativedelta import relativedelta
from dateutil.rrule import MONTHLY, WEEKLY, YEARLY, rrule


def month_end(year: int, month: int) -> date:
    return date(year, month, 1) + relativedelta(months=1, days=-1)


def _month_day(year: int, month: int, day: int) -> date:
    """Day `day` of the month, clamped to its end (每月31日 falls on 2-28 in February); 0 = the end."""
    end = month_end(year, month)
    return end if day == 0 or day > end.day else date(year, month, day)


def period_end(freq: str, day: int, weekday: int | None, month: int | None,
               first: date, last: date) -> Iterator[date]:
    """Due dates of a recurring rule that fall within [first, last], in order."""
    if freq == "weekly":
        assert weekday is not None
        # dateutil counts Monday as 0; our rule counts it as 1 like 周一.
        yield from (d.date() for d in rrule(WEEKLY, byweekday=weekday - 1, dtstart=first, until=last))
        return
    step = {"monthly": 1, "quarterly": 3, "half_yearly": 6, "yearly": 12}[freq]
    start = date(first.year, 1, 1) if freq != "monthly" else date(first.year, first.month, 1)
    for anchor in rrule(MONTHLY if freq != "yearly" else YEARLY, interval=step if freq != "yearly" else 1,
                        dtstart=start, until=last + timedelta(days=31)):
        y = anchor.year
        if freq == "monthly":
            due = _month_day(y, anchor.month, day)
        elif freq == "yearly":
            due = _month_day(y, month or 12, day)
        else:  # quarter / half-year: its `month` (1 = the first), else its last month; the day, else the end
            due = _month_day(y, anchor.month + (month or step) - 1, day)
        if first <= due <= last:
            yield due
