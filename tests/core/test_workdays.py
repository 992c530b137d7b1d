from datetime import date

from fuquan.dates.workdays import WorkCalendar


def test_make_up_sunday_and_may_day_holidays_2023() -> None:
    cal = WorkCalendar()
    assert cal.is_workday(date(2023, 4, 23))  # Sunday, 调休 make-up day
    assert not cal.is_workday(date(2023, 4, 29)) and not cal.is_workday(date(2023, 5, 3))  # 五一
    assert cal.is_workday(date(2023, 5, 6))  # Saturday, make-up day
    # (04-21, 05-08]: 04-23, 24-28, 05-04, 05, 06, 08 → 10 working days
    assert cal.between(date(2023, 4, 21), date(2023, 5, 8)) == 10
    assert cal.between(date(2023, 5, 8), date(2023, 4, 21)) == -10
    assert cal.add(date(2023, 4, 28), 1) == date(2023, 5, 4)
    assert cal.add(date(2023, 5, 4), -1) == date(2023, 4, 28)
    assert [cal.is_workday(date(2023, 4, d)) for d in (29, 30)] + [cal.is_workday(date(2023, 5, d)) for d in (1, 2, 3, 4)] == [False] * 5 + [True]
    assert cal.warnings == []


def test_uncovered_year_falls_back_to_weekdays_and_warns_once() -> None:
    cal = WorkCalendar()
    assert cal.is_workday(date(2031, 1, 1))  # a Wednesday; the real calendar would say 元旦
    assert not cal.is_workday(date(2031, 1, 4))  # Saturday
    assert cal.between(date(2031, 1, 1), date(2031, 1, 8)) == 5
    assert cal.warnings == ["注意: 2031 年的法定节假日与调休安排尚未收录, 该年按周一至周五计算工作日; 请按国务院办公厅当年的通知在计划文件中加上 calendar: 段"]
