from datetime import date

import pytest

from fuquan.dates.workdays import WorkCalendar
from fuquan.tracking.judge import DONE, DONE_LATE, GREEN, ONGOING, PENDING, RED, YELLOW, all_done, judge, roll_up

DUE = date(2023, 4, 28)  # a Friday before 五一


@pytest.mark.parametrize(("today", "done", "colour", "late", "days_late", "left"), [
    (date(2023, 4, 28), None, YELLOW, 0, 0, 0),            # due today
    (date(2023, 4, 25), None, YELLOW, 0, 0, 3),            # exactly the warning window (3 working days)
    (date(2023, 4, 23), None, GREEN, 0, 0, 5),             # on the make-up Sunday: 24–28 are left
    (date(2023, 4, 29), None, RED, 0, 1, None),            # holiday: past due, no working day lost yet
    (date(2023, 5, 4), None, RED, 1, 6, None),             # one working day late, across 五一
    (date(2023, 5, 6), None, RED, 3, 8, None),             # make-up Saturday counts
    (date(2023, 5, 10), date(2023, 4, 27), DONE, 0, 0, None),
    (date(2023, 5, 10), date(2023, 4, 28), DONE, 0, 0, None),
    (date(2023, 5, 10), date(2023, 5, 4), DONE_LATE, 1, 6, None),
    (date(2023, 5, 1), date(2023, 5, 4), RED, 0, 3, None),  # done later than "today": not done yet
])
def test_boundaries(today: date, done: date | None, colour: str, late: int, days_late: int, left: int | None) -> None:
    j = judge(DUE, done, today, WorkCalendar(), 3)
    assert (j.colour, j.workdays_late, j.days_late, j.workdays_left) == (colour, late, days_late, left)


def test_open_kinds_are_never_red() -> None:
    cal = WorkCalendar()
    assert judge(None, None, date(2030, 1, 1), cal, 3, "ongoing").colour == ONGOING
    assert judge(None, None, date(2030, 1, 1), cal, 3, "per_higher_level").colour == PENDING
    assert judge(None, date(2023, 5, 1), date(2030, 1, 1), cal, 3, "ongoing").colour == DONE


def test_all_done_needs_every_item_by_today() -> None:
    t = date(2023, 5, 1)
    assert all_done([date(2023, 4, 1), date(2023, 4, 20)], t) == date(2023, 4, 20)
    assert all_done([date(2023, 4, 1), None], t) is None
    assert all_done([date(2023, 4, 1), date(2023, 5, 2)], t) is None
    assert all_done([], t) is None


def test_roll_up_counts_percent_and_lateness() -> None:
    cal, t = WorkCalendar(), date(2023, 5, 10)
    pairs = [("甲镇", judge(DUE, None, t, cal, 3)), ("甲镇", judge(DUE, date(2023, 4, 1), t, cal, 3)),
             ("甲镇", judge(None, None, t, cal, 3, "ongoing")), ("乙镇", judge(date(2023, 5, 31), None, t, cal, 3))]
    a, b = roll_up(pairs)
    assert (a.key, a.counts[RED], a.counts[DONE], a.counts[ONGOING], a.total, a.done) == ("甲镇", 1, 1, 1, 3, 1)
    assert a.percent == 50.0 and a.workdays_late_max == a.workdays_late_sum == 6
    assert (b.key, b.counts[GREEN], b.percent) == ("乙镇", 1, 0.0)
