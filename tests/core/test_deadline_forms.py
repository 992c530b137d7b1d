"""The forms of 完成时限 real task lists use beyond the shipped plan's (test_deadline.py has those): times of day,
〇 years, numeric dates, ranges with years, starts, nested and frequency recurrences, open kinds of every level,
a date followed by what is to be achieved, compound deadlines — and a generated round of variants that never
crashes and never gives a date for a phrase that must be refused."""

from __future__ import annotations

import re
from datetime import date
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from fuquan.dates.deadline import due_dates, parse_deadline
from fuquan.errors import DeadlineError
from tests.core.test_deadline import CASES, REJECTED

Y = 2024
Part = tuple[str, str | None, str | None, dict[str, Any] | None, str | None]  # kind, due, start, rule, time

FORMS: list[tuple[Any, ...]] = [
    # dates, with explicit and relative years, 旬, lead words
    ("2024年6月30日前", "date", "2024-06-30", None, None, None),
    ("2024年12月31日前完成", "date", "2024-12-31", None, None, None),
    ("2024年底前", "date", "2024-12-31", None, None, None),
    ("2025年6月底前", "date", "2025-06-30", None, None, None),
    ("2024年第一季度", "date", "2024-03-31", None, None, None),
    ("2024年第二季度末", "date", "2024-06-30", None, None, None),
    ("2024年三季度", "date", "2024-09-30", None, None, None),
    ("第四季度", "date", "2024-12-31", None, None, None),
    ("今年底前", "date", "2024-12-31", None, None, None),
    ("今年6月底前", "date", "2024-06-30", None, None, None),
    ("本年度内", "date", "2024-12-31", None, None, None),
    ("2024年度", "date", "2024-12-31", None, None, None),
    ("2024年内", "date", "2024-12-31", None, None, None),
    ("2024年12月", "date", "2024-12-31", None, None, None),
    ("12月份", "date", "2024-12-31", None, None, None),
    ("9月中旬以前", "date", "2024-09-20", None, None, None),
    ("10月下旬", "date", "2024-10-31", None, None, None),
    ("3月中下旬", "date", "2024-03-31", None, None, None),
    ("5月上中旬", "date", "2024-05-20", None, None, None),
    ("11月30日前", "date", "2024-11-30", None, None, None),
    ("截至2024年底", "date", "2024-12-31", None, None, None),
    ("截止2024年11月30日", "date", "2024-11-30", None, None, None),
    ("到2025年底", "date", "2025-12-31", None, None, None),
    ("至2024年12月底", "date", "2024-12-31", None, None, None),
    ("力争2024年底前完成", "date", "2024-12-31", None, None, None),
    ("确保6月底前完成", "date", "2024-06-30", None, None, None),
    ("原则上不晚于9月30日", "date", "2024-09-30", None, None, None),
    ("最迟于11月底前", "date", "2024-11-30", None, None, None),
    ("不迟于10月15日", "date", "2024-10-15", None, None, None),
    ("于2024年3月15日前", "date", "2024-03-15", None, None, None),
    ("在3月15日前", "date", "2024-03-15", None, None, None),
    ("3月15日之前", "date", "2024-03-15", None, None, None),
    # numeric dates, times of day, weekday notes, 〇 and full-width years
    ("2024.6.30", "date", "2024-06-30", None, None, None),
    ("2024/6/30", "date", "2024-06-30", None, None, None),
    ("2024-06-30", "date", "2024-06-30", None, None, None),
    ("6.30前", "date", "2024-06-30", None, None, None),
    ("2024年6月30日24时前", "date", "2024-06-30", None, None, "24:00"),
    ("10月20日下午下班前", "date", "2024-10-20", None, None, "下午下班"),
    ("6月5日上午10:00前", "date", "2024-06-05", None, None, "10:00"),
    ("4月30日17时前", "date", "2024-04-30", None, None, "17:00"),
    ("4月30日17:00前", "date", "2024-04-30", None, None, "17:00"),
    ("5月6日（周一）前", "date", "2024-05-06", None, None, None),
    ("二〇二四年十二月三十一日前", "date", "2024-12-31", None, None, None),
    ("二○二四年六月底前", "date", "2024-06-30", None, None, None),
    ("２０２４年６月底前", "date", "2024-06-30", None, None, None),
    ("二〇二五年一月", "date", "2025-01-31", None, None, None),
    # ranges and starts
    ("2024年3月—6月", "range", "2024-06-30", "2024-03-01", None, None),
    ("2024年3月至6月", "range", "2024-06-30", "2024-03-01", None, None),
    ("2024年3月-2024年12月", "range", "2024-12-31", "2024-03-01", None, None),
    ("3-5月", "range", "2024-05-31", "2024-03-01", None, None),
    ("3～5月", "range", "2024-05-31", "2024-03-01", None, None),
    ("4月中旬至5月上旬", "range", "2024-05-10", "2024-04-11", None, None),
    ("2024年10月至2025年3月", "range", "2025-03-31", "2024-10-01", None, None),
    ("2024—2025年", "range", "2025-12-31", "2024-01-01", None, None),
    ("2024年至2026年", "range", "2026-12-31", "2024-01-01", None, None),
    ("2024年4月1日至4月30日", "range", "2024-04-30", "2024-04-01", None, None),
    ("4月1日—30日", "range", "2024-04-30", "2024-04-01", None, None),
    ("自2024年4月起至2024年12月止", "range", "2024-12-31", "2024-04-01", None, None),
    ("从2024年5月开始至10月结束", "range", "2024-10-31", "2024-05-01", None, None),
    ("即日起至2024年6月30日", "date", "2024-06-30", None, None, None),
    ("即日起至6月底", "date", "2024-06-30", None, None, None),
    ("2024年起", "ongoing", None, "2024-01-01", None, None),
    ("2024年1月1日起", "ongoing", None, "2024-01-01", None, None),
    ("自5月起", "ongoing", None, "2024-05-01", None, None),
    ("从今年起", "ongoing", None, "2024-01-01", None, None),
    # recurrences: by day, by frequency (due at the period's end), nested, several days
    ("2024年6月起每月10日前报送", "recurring", None, "2024-06-01", {"freq": "monthly", "day": 10}, None),
    ("每月10日前", "recurring", None, None, {"freq": "monthly", "day": 10}, None),
    ("每月月底前", "recurring", None, None, {"freq": "monthly", "day": 0}, None),
    ("每月25日前报送上月情况", "recurring", None, None, {"freq": "monthly", "day": 25}, None),
    ("每月末前报送", "recurring", None, None, {"freq": "monthly", "day": 0}, None),
    ("每月上旬", "recurring", None, None, {"freq": "monthly", "day": 10}, None),
    ("每月下旬前", "recurring", None, None, {"freq": "monthly", "day": 0}, None),
    ("每月15日前报送本月进展", "recurring", None, None, {"freq": "monthly", "day": 15}, None),
    ("按月报送", "recurring", None, None, {"freq": "monthly", "day": 0}, None),
    ("按季度报送", "recurring", None, None, {"freq": "quarterly", "day": 0}, None),
    ("每季度结束前", "recurring", None, None, {"freq": "quarterly", "day": 0}, None),
    ("每季度末前报送", "recurring", None, None, {"freq": "quarterly", "day": 0}, None),
    ("每季度第一个月10日前", "recurring", None, None, {"freq": "quarterly", "day": 10, "month": 1}, None),
    ("每季度首月5日前报送上季度工作情况", "recurring", None, None, {"freq": "quarterly", "day": 5, "month": 1}, None),
    ("每季度末月20日前", "recurring", None, None, {"freq": "quarterly", "day": 20, "month": 3}, None),
    ("每季度最后1个月25日前", "recurring", None, None, {"freq": "quarterly", "day": 25, "month": 3}, None),
    ("每个季度第三个月的15日前", "recurring", None, None, {"freq": "quarterly", "day": 15, "month": 3}, None),
    ("每季度报送1次", "recurring", None, None, {"freq": "quarterly", "day": 0}, None),
    ("每季度至少开展1次", "recurring", None, None, {"freq": "quarterly", "day": 0}, None),
    ("每半年报送一次", "recurring", None, None, {"freq": "half_yearly", "day": 0}, None),
    ("每半年度", "recurring", None, None, {"freq": "half_yearly", "day": 0}, None),
    ("每年一次", "recurring", None, None, {"freq": "yearly", "day": 0, "month": 12}, None),
    ("每年开展一次评估", "recurring", None, None, {"freq": "yearly", "day": 0, "month": 12}, None),
    ("每年12月底前", "recurring", None, None, {"freq": "yearly", "day": 0, "month": 12}, None),
    ("每年11月30日前", "recurring", None, None, {"freq": "yearly", "day": 30, "month": 11}, None),
    ("每年6月和12月", "compound", [("recurring", None, None, {"freq": "yearly", "day": 0, "month": 6}, None), ("recurring", None, None, {"freq": "yearly", "day": 0, "month": 12}, None)]),
    ("每年一季度", "recurring", None, None, {"freq": "yearly", "day": 0, "month": 3}, None),
    ("每年上半年", "recurring", None, None, {"freq": "yearly", "day": 0, "month": 6}, None),
    ("每年度", "recurring", None, None, {"freq": "yearly", "day": 0, "month": 12}, None),
    ("每周五下午5点前", "recurring", None, None, {"freq": "weekly", "weekday": 5}, "17:00"),
    ("每周一上午10点前", "recurring", None, None, {"freq": "weekly", "weekday": 1}, "10:00"),
    ("每个星期五", "recurring", None, None, {"freq": "weekly", "weekday": 5}, None),
    ("每周报送一次", "recurring", None, None, {"freq": "weekly", "weekday": 7}, None),
    ("每周三中午12点前", "recurring", None, None, {"freq": "weekly", "weekday": 3}, "12:00"),
    ("每月5日、20日前", "compound", [("recurring", None, None, {"freq": "monthly", "day": 5}, None), ("recurring", None, None, {"freq": "monthly", "day": 20}, None)]),
    ("每月10日、25日", "compound", [("recurring", None, None, {"freq": "monthly", "day": 10}, None), ("recurring", None, None, {"freq": "monthly", "day": 25}, None)]),
    ("每年3月、9月", "compound", [("recurring", None, None, {"freq": "yearly", "day": 0, "month": 3}, None), ("recurring", None, None, {"freq": "yearly", "day": 0, "month": 9}, None)]),
    # open kinds in the words of every level
    ("持续推进", "ongoing", None, None, None, None),
    ("长期坚持", "ongoing", None, None, None, None),
    ("长期", "ongoing", None, None, None, None),
    ("常态化开展", "ongoing", None, None, None, None),
    ("持续开展", "ongoing", None, None, None, None),
    ("全年", "ongoing", None, None, None, None),
    ("贯穿全年", "ongoing", None, None, None, None),
    ("动态调整", "ongoing", None, None, None, None),
    ("动态更新", "ongoing", None, None, None, None),
    ("长效管理", "ongoing", None, None, None, None),
    ("常年开展", "ongoing", None, None, None, None),
    ("持之以恒", "ongoing", None, None, None, None),
    ("按省统一部署", "per_higher_level", None, None, None, None),
    ("按照省委省政府统一部署", "per_higher_level", None, None, None, None),
    ("根据国家统一部署", "per_higher_level", None, None, None, None),
    ("按市委市政府要求", "per_higher_level", None, None, None, None),
    ("按县委县政府统一安排", "per_higher_level", None, None, None, None),
    ("根据上级要求", "per_higher_level", None, None, None, None),
    ("按上级部署要求执行", "per_higher_level", None, None, None, None),
    ("按照区财政统一部署执行", "per_higher_level", None, None, None, None),
    ("根据省、市统一部署", "per_higher_level", None, None, None, None),
    ("按照中央和省委要求", "per_higher_level", None, None, None, None),
    ("另行通知", "to_be_decided", None, None, None, None),
    ("另行安排", "to_be_decided", None, None, None, None),
    ("另行确定", "to_be_decided", None, None, None, None),
    ("时间另定", "to_be_decided", None, None, None, None),
    ("适时开展", "to_be_decided", None, None, None, None),
    ("视情况而定", "to_be_decided", None, None, None, None),
    ("根据工作需要", "to_be_decided", None, None, None, None),
    ("根据工作进展确定", "to_be_decided", None, None, None, None),
    ("待定", "to_be_decided", None, None, None, None),
    ("立即", "immediate", None, None, None, None),
    ("立即整改", "immediate", None, None, None, None),
    ("立行立改", "immediate", None, None, None, None),
    ("即知即改", "immediate", None, None, None, None),
    ("立查立改", "immediate", None, None, None, None),
    ("边查边改", "immediate", None, None, None, None),
    ("第一时间上报", "immediate", None, None, None, None),
    ("及时", "immediate", None, None, None, None),
    ("及时更新", "immediate", None, None, None, None),
    ("随时", "immediate", None, None, None, None),
    ("即日起", "immediate", None, None, None, None),
    # a date and what is to be achieved
    ("年底前实现全覆盖", "date", "2024-12-31", None, None, None),
    ("年内见成效", "date", "2024-12-31", None, None, None),
    ("年内开工", "date", "2024-12-31", None, None, None),
    ("6月底前基本完成", "date", "2024-06-30", None, None, None),
    ("2024年底前全面完成", "date", "2024-12-31", None, None, None),
    ("6月底前建立工作机制", "date", "2024-06-30", None, None, None),
    ("9月底前出台实施细则", "date", "2024-09-30", None, None, None),
    ("3月底前完成摸底调查", "date", "2024-03-31", None, None, None),
    ("年底前初见成效", "date", "2024-12-31", None, None, None),
    ("10月底前完成验收", "date", "2024-10-31", None, None, None),
    # compound deadlines: a date then a recurrence, batches, stages, lists
    ("5月底前完成，此后每月10日前报送", "compound", [("date", "2024-05-31", None, None, None), ("recurring", None, "2024-06-01", {"freq": "monthly", "day": 10}, None)]),
    ("3月底前启动，6月底前完成", "compound", [("date", "2024-03-31", None, None, None), ("date", "2024-06-30", None, None, None)]),
    ("6月底前完成首批，年底前全部完成", "compound", [("date", "2024-06-30", None, None, None), ("date", "2024-12-31", None, None, None)]),
    ("分两批：6月底前、9月底前", "compound", [("date", "2024-06-30", None, None, None), ("date", "2024-09-30", None, None, None)]),
    ("分三个阶段：3月底前、6月底前、9月底前", "compound", [("date", "2024-03-31", None, None, None), ("date", "2024-06-30", None, None, None), ("date", "2024-09-30", None, None, None)]),
    ("第一阶段：3月底前；第二阶段：6月底前；第三阶段：12月底前", "compound", [("date", "2024-03-31", None, None, None), ("date", "2024-06-30", None, None, None), ("date", "2024-12-31", None, None, None)]),
    ("5月、11月", "compound", [("date", "2024-05-31", None, None, None), ("date", "2024-11-30", None, None, None)]),
    ("6月底和12月底", "compound", [("date", "2024-06-30", None, None, None), ("date", "2024-12-31", None, None, None)]),
    ("于6月底和7月底", "compound", [("date", "2024-06-30", None, None, None), ("date", "2024-07-31", None, None, None)]),
    ("3月底前完成，长期坚持", "date", "2024-03-31", None, None, None),
    ("持续推进，每季度报送进展", "recurring", None, None, {"freq": "quarterly", "day": 0}, None),
    ("6月底前（第一批），9月底前（第二批）", "compound", [("date", "2024-06-30", None, None, None), ("date", "2024-09-30", None, None, None)]),
    ("2024年上半年完成试点，下半年全面推开", "compound", [("date", "2024-06-30", None, None, None), ("date", "2024-12-31", None, None, None)]),
    ("6月底前完成60%以上，年底前全部完成", "compound", [("date", "2024-06-30", None, None, None), ("date", "2024-12-31", None, None, None)]),
    ("9月底前完成招标，12月底前开工建设", "compound", [("date", "2024-09-30", None, None, None), ("date", "2024-12-31", None, None, None)]),
    ("2024年至2025年，每年底前", "compound", [("range", "2025-12-31", "2024-01-01", None, None), ("recurring", None, None, {"freq": "yearly", "day": 0, "month": 12}, None)]),
    ("6月底前完成百分之六十", "date", "2024-06-30", None, None, None),
    ("10月20日17时", "date", "2024-10-20", None, None, "17:00"),
    ("2024年起每年", "recurring", None, "2024-01-01", {"freq": "yearly", "day": 0, "month": 12}, None),
    ("每年12月底前完成年度评估", "recurring", None, None, {"freq": "yearly", "day": 0, "month": 12}, None),
    ("2024年6月底前（长期坚持）", "date", "2024-06-30", None, None, None),
    ("2024年第三季度前", "date", "2024-09-30", None, None, None),
    ("1-6月", "range", "2024-06-30", "2024-01-01", None, None),
    ("4月底前完成排查，5月起每月20日前报送整改情况", "compound", [("date", "2024-04-30", None, None, None), ("recurring", None, "2024-05-01", {"freq": "monthly", "day": 20}, None)]),
    # a start clause, then a comma or 、: it starts the next clause that names a time
    ("自6月起，每月5日、20日前", "compound", [("recurring", None, "2024-06-01", {"freq": "monthly", "day": 5}, None), ("recurring", None, "2024-06-01", {"freq": "monthly", "day": 20}, None)]),
    ("6月起、每月10日、25日前", "compound", [("recurring", None, "2024-06-01", {"freq": "monthly", "day": 10}, None), ("recurring", None, "2024-06-01", {"freq": "monthly", "day": 25}, None)]),
    ("自4月起，5月底前完成，此后每月10日前报送", "compound", [("range", "2024-05-31", "2024-04-01", None, None), ("recurring", None, "2024-06-01", {"freq": "monthly", "day": 10}, None)]),
    ("自6月起，此后每月10日前报送", "recurring", None, "2024-06-01", {"freq": "monthly", "day": 10}, None),
    ("从2024年6月起，每季度首月15日前报送", "recurring", None, "2024-06-01", {"freq": "quarterly", "day": 15, "month": 1}, None),
    ("自2024年7月起，每周五下午5点前", "recurring", None, "2024-07-01", {"freq": "weekly", "weekday": 5}, "17:00"),
    ("自6月起，7月、9月底前", "compound", [("range", "2024-07-31", "2024-06-01", None, None), ("range", "2024-09-30", "2024-06-01", None, None)])]

REFUSED = [
    ("每月初", "周期写法"),  # the first days of a month: which day is not said
    ("月底前", "可用写法"),  # which month?
    ("年中", "可用写法"),
    ("当月", "可用写法"),
    ("本月内", "可用写法"),  # the month of what: the notice's issue, the task's start?
    ("尽快", "可用写法"),
    ("近期", "可用写法"),
    ("择机", "可用写法"),
    ("春节前", "可用写法"),
    ("汛期前", "可用写法"),
    ("元旦前", "可用写法"),
    ("3月底前后完成", "可用写法"),
    ("6月底左右", "可用写法"),
    ("约6月底", "可用写法"),
    ("6月底或7月初", "可用写法"),
    ("信息形成或者变更之日起20个工作日内", "可用写法"),  # counted from an event: no date to give
    ("部门预算经本级财政部门批复后20日内公开", "可用写法"),
    ("每季度结束后10日内", "周期写法"),
    ("次月5日前", "可用写法"),
    ("每两个月", "周期写法"),
    ("每旬", "周期写法"),
    ("每日", "周期写法"),
    ("每天下午5点前", "周期写法"),
    ("6月5日25时前", "时刻 25时 不存在"),
    ("6月5日下午5:75前", "不存在"),
    ("2024年10月前", "歧义"),
    ("10月前完成", "歧义"),
    ("每季度第4个月10日前", "周期写法"),
    ("每季度末10日前", "周期写法"),  # the 10th of its last month, or 10 days before its end?
    ("半年", "可用写法"),
    ("每年13月", "月份 13 不存在"),
    ("2024年2月30日前", "2024年2月30日不存在"),
    ("按时完成", "可用写法"),
    ("按计划推进", "可用写法"),
    ("5月底前完成，此后每两周报送", "周期写法"),
    ("分两批：6月底前、9月底左右", "可用写法"),
    ("4月至5月至6月", "一个起点和一个终点"),
    ("2024年6月至2024年3月", "早于起点"),
]


def _part(d: Any) -> Part:
    return (d.kind, d.due.isoformat() if d.due else None, d.start.isoformat() if d.start else None,
            d.rule.as_dict() if d.rule else None, d.time)


def test_the_tables_hold_at_least_250_phrases() -> None:
    assert len(CASES) + len(FORMS) >= 250
    assert len({row[0] for row in FORMS}) == len(FORMS)


@pytest.mark.parametrize("row", FORMS, ids=[row[0] for row in FORMS])
def test_form(row: tuple[Any, ...]) -> None:
    d = parse_deadline(row[0], Y)
    assert d.text == row[0]
    if row[1] == "compound":
        assert d.kind == "compound" and [_part(p) for p in d.parts] == [tuple(p) for p in row[2]]
    else:
        assert _part(d) == row[1:]


@pytest.mark.parametrize(("text", "reason"), REFUSED)
def test_refused_naming_the_phrase(text: str, reason: str) -> None:
    with pytest.raises(DeadlineError) as e:
        parse_deadline(text, Y)
    assert reason in str(e.value) and f"“{text}”" in str(e.value)


def test_a_compound_deadline_is_due_at_every_date_of_every_part() -> None:
    d = parse_deadline("5月底前完成，此后每月10日前报送", Y)
    assert due_dates(d, date(2024, 1, 1), date(2024, 9, 30)) == [
        date(2024, 5, 31), date(2024, 6, 10), date(2024, 7, 10), date(2024, 8, 10), date(2024, 9, 10)]
    assert d.label_of(date(2024, 6, 10)) == "2024-06-10"
    three = parse_deadline("每月5日、15日、25日前", Y)
    assert due_dates(three, date(2024, 2, 1), date(2024, 2, 29)) == [date(2024, 2, 5), date(2024, 2, 15), date(2024, 2, 25)]
    nested = parse_deadline("每季度首月15日前", Y)
    assert due_dates(nested, date(2024, 1, 1), date(2024, 12, 31)) == [
        date(2024, 1, 15), date(2024, 4, 15), date(2024, 7, 15), date(2024, 10, 15)]


def test_a_parsed_deadline_round_trips_through_its_dict() -> None:
    from fuquan.dates.deadline_model import Deadline

    for row in FORMS:
        d = parse_deadline(row[0], Y)
        assert Deadline.from_dict(d.as_dict()) == d


def test_a_phrase_too_long_to_be_a_deadline_is_refused() -> None:
    with pytest.raises(DeadlineError, match="过长"):
        parse_deadline("6月底前" * 100, Y)


# ── generated variants ───────────────────────────────────────────────────────────────────────────────────────
_FULL = str.maketrans("0123456789:()-~,;", "０１２３４５６７８９：（）－～，；")
_TRADITIONAL = str.maketrans({"周": "週", "个": "個", "续": "續", "进": "進", "长": "長", "坚": "堅", "实": "實",
                              "县": "縣", "级": "級", "时": "時", "报": "報", "开": "開", "导": "導", "门": "門",
                              "阶": "階", "段": "段", "后": "後", "场": "場", "统": "統", "现": "現"})
_NUMERAL = "〇一二三四五六七八九"


def _chinese(m: re.Match[str]) -> str:
    n = m.group(0)
    if len(n) == 4:
        return "".join(_NUMERAL[int(c)] for c in n)  # 2024 → 二〇二四
    v = int(n)
    if v >= 100 or (len(n) > 1 and n[0] == "0"):
        return n
    tens, ones = divmod(v, 10)
    return ("" if tens == 0 else ("十" if tens == 1 else _NUMERAL[tens] + "十")) + (_NUMERAL[ones] if ones or not tens else "")


ORDER = ["numerals", "traditional", "full", "spaces", "stop", "invisible"]


def _variant(text: str, how: list[str]) -> str:
    for h in sorted(how, key=ORDER.index):  # numerals before full-width digits, spaces last
        if h == "full":
            text = text.translate(_FULL)
        elif h == "traditional":
            text = text.translate(_TRADITIONAL)
        elif h == "numerals" and ":" not in text and "." not in text and "/" not in text and "-" not in text:
            text = re.sub(r"[0-9]+", _chinese, text)
        elif h == "spaces":
            text = f" {text[:1]} {text[1:]}\u3000"
        elif h == "stop":
            text += "。"
        elif h == "invisible":
            text = "\ufeff" + text[:1] + "\u200b" + text[1:]
    return text


VARIANTS = st.lists(st.sampled_from(ORDER),
                    max_size=4, unique=True)
READ = [row for row in FORMS] + [(c[0], c[1], c[2], c[3], c[4], None) for c in CASES]


@settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(row=st.sampled_from(READ), how=VARIANTS)
def test_a_variant_of_a_read_phrase_reads_the_same(row: tuple[Any, ...], how: list[str]) -> None:
    text = _variant(row[0], how)
    expected = parse_deadline(row[0], Y)
    got = parse_deadline(text, Y)
    assert (got.kind, _part(got)[1:], [_part(p) for p in got.parts]) == \
        (expected.kind, _part(expected)[1:], [_part(p) for p in expected.parts]), text


NOT_READ = [r[0] for r in REFUSED] + [r[0] for r in REJECTED if r[0].strip()]


@settings(max_examples=300, deadline=None)
@given(text=st.sampled_from(NOT_READ), how=VARIANTS, lead=st.sampled_from(["", "原则上", "力争于", "于", "确保"]))
def test_a_variant_of_a_refused_phrase_is_still_refused(text: str, how: list[str], lead: str) -> None:
    with pytest.raises(DeadlineError):
        parse_deadline(lead + _variant(text, how), Y)


_ALPHABET = "0123456789〇一二三四五六七八九十年月日号底末前后内旬上中下季度半周星期每至到起从自—-~、，；：()此后并按省市县部署持续推进立即另行通知次明今第首个的1次报送完成全覆盖左右初时点午班"


@settings(max_examples=500, deadline=None)
@given(text=st.text(alphabet=_ALPHABET, max_size=30))
def test_any_text_gives_a_deadline_or_a_named_refusal_never_a_crash(text: str) -> None:
    try:
        d = parse_deadline(text, Y)
    except DeadlineError as e:
        assert f"“{text}”" in str(e)
        return
    for day in d.dates():
        assert 1900 < day.year < 10000
