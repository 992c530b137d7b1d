from datetime import date

import pytest

from fuquan.dates.deadline import Deadline, due_dates, parse_deadline
from fuquan.errors import DeadlineError

Y = 2023

# (phrase, kind, due, start, rule) — every form the plan's 完成时限 column uses or clerks will write.
CASES = [
    # X月底前 and friends
    ("3月底前", "date", "2023-03-31", None, None),
    ("4月底前", "date", "2023-04-30", None, None),
    ("5月底前", "date", "2023-05-31", None, None),
    ("6月底前", "date", "2023-06-30", None, None),
    ("2月底前", "date", "2023-02-28", None, None),
    ("12月底前", "date", "2023-12-31", None, None),
    ("4月底以前", "date", "2023-04-30", None, None),
    ("4月底之前", "date", "2023-04-30", None, None),
    ("4月底", "date", "2023-04-30", None, None),
    ("4月末", "date", "2023-04-30", None, None),
    ("4月份", "date", "2023-04-30", None, None),
    ("4月内", "date", "2023-04-30", None, None),
    ("4月底前完成", "date", "2023-04-30", None, None),
    ("原则上于4月底前完成", "date", "2023-04-30", None, None),
    ("5月底前报送", "date", "2023-05-31", None, None),
    ("于5月底前", "date", "2023-05-31", None, None),
    (" 4月底前 ", "date", "2023-04-30", None, None),
    ("4月底前。", "date", "2023-04-30", None, None),
    ("4 月 底 前", "date", "2023-04-30", None, None),
    # 旬
    ("6月中旬前", "date", "2023-06-20", None, None),
    ("6月上旬前", "date", "2023-06-10", None, None),
    ("6月下旬前", "date", "2023-06-30", None, None),
    ("2月下旬前", "date", "2023-02-28", None, None),
    ("6月中旬", "date", "2023-06-20", None, None),
    ("6月上旬以前", "date", "2023-06-10", None, None),
    ("6月中旬前完成", "date", "2023-06-20", None, None),
    # X月X日前
    ("4月30日前", "date", "2023-04-30", None, None),
    ("4月30日以前", "date", "2023-04-30", None, None),
    ("4月15号前", "date", "2023-04-15", None, None),
    ("4月15日", "date", "2023-04-15", None, None),
    ("2月28日前", "date", "2023-02-28", None, None),
    # explicit and relative years
    ("2023年10月底前", "date", "2023-10-31", None, None),
    ("2024年3月底前", "date", "2024-03-31", None, None),
    ("2024年2月29日前", "date", "2024-02-29", None, None),
    ("次年3月底前", "date", "2024-03-31", None, None),
    ("明年6月底前", "date", "2024-06-30", None, None),
    ("次年1月15日前", "date", "2024-01-15", None, None),
    ("当年12月底前", "date", "2023-12-31", None, None),
    ("二〇二四年三月底前", "date", "2024-03-31", None, None),
    # year parts
    ("年底前", "date", "2023-12-31", None, None),
    ("年底", "date", "2023-12-31", None, None),
    ("年末前", "date", "2023-12-31", None, None),
    ("年内", "date", "2023-12-31", None, None),
    ("年内完成", "date", "2023-12-31", None, None),
    ("2024年底前", "date", "2024-12-31", None, None),
    ("次年年底前", "date", "2024-12-31", None, None),
    ("一季度", "date", "2023-03-31", None, None),
    ("第一季度", "date", "2023-03-31", None, None),
    ("二季度末", "date", "2023-06-30", None, None),
    ("三季度", "date", "2023-09-30", None, None),
    ("四季度前", "date", "2023-12-31", None, None),
    ("1季度", "date", "2023-03-31", None, None),
    ("上半年", "date", "2023-06-30", None, None),
    ("下半年", "date", "2023-12-31", None, None),
    ("上半年完成", "date", "2023-06-30", None, None),
    ("次年上半年", "date", "2024-06-30", None, None),
    # Chinese numerals, full-width digits, traditional characters, invisible characters
    ("三月底前", "date", "2023-03-31", None, None),
    ("十月底前", "date", "2023-10-31", None, None),
    ("十二月底前", "date", "2023-12-31", None, None),
    ("十一月十五日前", "date", "2023-11-15", None, None),
    ("四月三十日前", "date", "2023-04-30", None, None),
    ("六月二十日前", "date", "2023-06-20", None, None),
    ("３月底前", "date", "2023-03-31", None, None),
    ("１２月３１日前", "date", "2023-12-31", None, None),
    ("\ufeff3月底前", "date", "2023-03-31", None, None),
    ("3月\u200b底前", "date", "2023-03-31", None, None),
    ("六月中旬前", "date", "2023-06-20", None, None),
    # ranges
    ("4月至6月", "range", "2023-06-30", "2023-04-01", None),
    ("4月到6月", "range", "2023-06-30", "2023-04-01", None),
    ("4至6月", "range", "2023-06-30", "2023-04-01", None),
    ("4月1日—4月10日", "range", "2023-04-10", "2023-04-01", None),
    ("4月1日-4月10日", "range", "2023-04-10", "2023-04-01", None),
    ("4月1日～4月10日", "range", "2023-04-10", "2023-04-01", None),
    ("4月1日至10日", "range", "2023-04-10", "2023-04-01", None),
    ("4月中旬至5月底", "range", "2023-05-31", "2023-04-11", None),
    ("四月至六月", "range", "2023-06-30", "2023-04-01", None),
    ("10月至次年3月", "range", "2024-03-31", "2023-10-01", None),
    # recurring
    ("每月20日前", "recurring", None, None, {"freq": "monthly", "day": 20}),
    ("每月20号前", "recurring", None, None, {"freq": "monthly", "day": 20}),
    ("每月二十日前", "recurring", None, None, {"freq": "monthly", "day": 20}),
    ("每月5日前报送", "recurring", None, None, {"freq": "monthly", "day": 5}),
    ("每月底前", "recurring", None, None, {"freq": "monthly", "day": 0}),
    ("每月末", "recurring", None, None, {"freq": "monthly", "day": 0}),
    ("每月中旬前", "recurring", None, None, {"freq": "monthly", "day": 20}),
    ("每季度末", "recurring", None, None, {"freq": "quarterly", "day": 0}),
    ("每季度", "recurring", None, None, {"freq": "quarterly", "day": 0}),
    ("每半年", "recurring", None, None, {"freq": "half_yearly", "day": 0}),
    ("每周五前", "recurring", None, None, {"freq": "weekly", "weekday": 5}),
    ("每周五", "recurring", None, None, {"freq": "weekly", "weekday": 5}),
    ("每週五前", "recurring", None, None, {"freq": "weekly", "weekday": 5}),
    ("每周一", "recurring", None, None, {"freq": "weekly", "weekday": 1}),
    ("每周日前", "recurring", None, None, {"freq": "weekly", "weekday": 7}),
    ("每星期三前", "recurring", None, None, {"freq": "weekly", "weekday": 3}),
    ("每年3月底前", "recurring", None, None, {"freq": "yearly", "day": 0, "month": 3}),
    ("每年12月15日前", "recurring", None, None, {"freq": "yearly", "day": 15, "month": 12}),
    ("每年底", "recurring", None, None, {"freq": "yearly", "day": 0, "month": 12}),
    # a start, then what it starts: with a comma, 、 or nothing between, the same deadline
    ("自6月起每月10日前报送", "recurring", None, "2023-06-01", {"freq": "monthly", "day": 10}),
    ("自6月起，每月10日前报送", "recurring", None, "2023-06-01", {"freq": "monthly", "day": 10}),
    ("自6月起、每月10日前报送", "recurring", None, "2023-06-01", {"freq": "monthly", "day": 10}),
    ("自6月起；每月10日前报送", "recurring", None, "2023-06-01", {"freq": "monthly", "day": 10}),
    ("自6月起，按月报送", "recurring", None, "2023-06-01", {"freq": "monthly", "day": 0}),
    ("从2023年6月起，每季度末前报送", "recurring", None, "2023-06-01", {"freq": "quarterly", "day": 0}),
    ("从2024年1月起，每季度末前报送", "recurring", None, "2024-01-01", {"freq": "quarterly", "day": 0}),
    ("自7月起，每月5日前", "recurring", None, "2023-07-01", {"freq": "monthly", "day": 5}),
    ("7月起，每周五前", "recurring", None, "2023-07-01", {"freq": "weekly", "weekday": 5}),
    ("6月开始，每月底前报送", "recurring", None, "2023-06-01", {"freq": "monthly", "day": 0}),
    ("自今年5月起，每月20日前", "recurring", None, "2023-05-01", {"freq": "monthly", "day": 20}),
    ("2023年起，每年底前", "recurring", None, "2023-01-01", {"freq": "yearly", "day": 0, "month": 12}),
    ("自6月起，9月底前完成", "range", "2023-09-30", "2023-06-01", None),
    ("自6月起9月底前完成", "range", "2023-09-30", "2023-06-01", None),
    ("自6月起，至9月底", "range", "2023-09-30", "2023-06-01", None),
    ("自6月起，7月至9月", "range", "2023-09-30", "2023-07-01", None),
    ("自8月起，7月至9月", "range", "2023-09-30", "2023-08-01", None),
    # a start alone is ongoing from then, whatever follows that names no time
    ("自今年5月起", "ongoing", None, "2023-05-01", None),
    ("自今年5月起，", "ongoing", None, "2023-05-01", None),
    ("自5月起，持续推进", "ongoing", None, "2023-05-01", None),
    ("自5月起，全面推开", "ongoing", None, "2023-05-01", None),
    # open kinds
    ("持续推进", "ongoing", None, None, None),
    ("常态化", "ongoing", None, None, None),
    ("常态化推进", "ongoing", None, None, None),
    ("长期坚持", "ongoing", None, None, None),
    ("長期堅持", "ongoing", None, None, None),
    ("持續推進", "ongoing", None, None, None),
    ("按省级部署", "per_higher_level", None, None, None),
    ("按省級部署", "per_higher_level", None, None, None),
    ("按上级要求", "per_higher_level", None, None, None),
    ("根据省市部署", "per_higher_level", None, None, None),
    ("结合工作实际确定", "to_be_decided", None, None, None),
    ("結合工作實際確定", "to_be_decided", None, None, None),
    ("另行通知", "to_be_decided", None, None, None),
    ("立即", "immediate", None, None, None),
    ("即时", "immediate", None, None, None),
]


def test_the_table_is_big_enough() -> None:
    assert len(CASES) >= 80


@pytest.mark.parametrize(("text", "kind", "due", "start", "rule"), CASES)
def test_phrase(text: str, kind: str, due: str | None, start: str | None, rule: dict | None) -> None:
    d = parse_deadline(text, Y).as_dict()
    assert {k: d[k] for k in ("text", "kind", "due", "start", "rule")} == \
        {"text": text, "kind": kind, "due": due, "start": start, "rule": rule}


REJECTED = [
    ("", "为空"),
    ("   ", "为空"),
    ("尽快", "可用写法"),
    ("下周", "可用写法"),
    ("哈哈", "可用写法"),
    ("4月前", "歧义"),
    ("4月份前", "歧义"),
    ("13月底前", "月份 13 不存在"),
    ("0月底前", "月份 0 不存在"),
    ("2月30日前", "2023年2月30日不存在"),
    ("2023年2月29日前", "2023年2月29日不存在"),
    ("4月31日前", "2023年4月31日不存在"),
    ("6月10日中旬前", "不能同时出现"),
    ("6月至4月", "早于起点"),
    ("4月至5月至6月", "一个起点和一个终点"),
    ("每月32日前", "每月 32 日不存在"),
    ("每两周", "周期写法"),
    ("每周八", "周期写法"),
    ("五季度", "可用写法"),
    ("3月底前后", "可用写法"),
    ("自6月起，5月底前", "早于起点"),
    ("自10月起，7月至9月", "早于起点"),
    ("自6月起、7月起", "只能有一个起点"),
    ("自6月起7月起每月10日前", "只能有一个起点"),
]


@pytest.mark.parametrize(("text", "reason"), REJECTED)
def test_rejected_with_named_phrase(text: str, reason: str) -> None:
    with pytest.raises(DeadlineError) as e:
        parse_deadline(text, Y)
    assert reason in str(e.value)
    assert f"“{text}”" in str(e.value)


def test_original_text_is_kept_for_display() -> None:
    assert parse_deadline("３月底前", Y).text == "３月底前"


def test_plan_year_moves_every_date() -> None:
    assert parse_deadline("3月底前", 2024).due == date(2024, 3, 31)
    assert parse_deadline("2月底前", 2024).due == date(2024, 2, 29)
    assert parse_deadline("次年3月底前", 2027).due == date(2028, 3, 31)


def test_from_parts_round_trips() -> None:
    d = parse_deadline("每月20日前", Y)
    again = Deadline.from_parts(d.text, d.kind, d.due, d.start, d.rule.as_dict() if d.rule else None)
    assert again == d


@pytest.mark.parametrize(("text", "first", "last", "expected"), [
    ("每月20日前", date(2023, 4, 1), date(2023, 7, 31),
     [date(2023, 4, 20), date(2023, 5, 20), date(2023, 6, 20), date(2023, 7, 20)]),
    ("每月底前", date(2024, 1, 1), date(2024, 3, 31), [date(2024, 1, 31), date(2024, 2, 29), date(2024, 3, 31)]),
    ("每月31日前", date(2023, 2, 1), date(2023, 4, 30), [date(2023, 2, 28), date(2023, 3, 31), date(2023, 4, 30)]),
    ("每季度末", date(2023, 1, 1), date(2023, 12, 31),
     [date(2023, 3, 31), date(2023, 6, 30), date(2023, 9, 30), date(2023, 12, 31)]),
    ("每半年", date(2023, 1, 1), date(2023, 12, 31), [date(2023, 6, 30), date(2023, 12, 31)]),
    ("每周五前", date(2023, 4, 24), date(2023, 5, 7), [date(2023, 4, 28), date(2023, 5, 5)]),
    ("每年3月底前", date(2023, 1, 1), date(2024, 12, 31), [date(2023, 3, 31), date(2024, 3, 31)]),
    ("4月底前", date(2023, 1, 1), date(2023, 12, 31), [date(2023, 4, 30)]),
    ("4月底前", date(2023, 5, 1), date(2023, 12, 31), []),
    ("持续推进", date(2023, 1, 1), date(2023, 12, 31), []),
])
def test_due_dates_one_per_period(text: str, first: date, last: date, expected: list[date]) -> None:
    assert due_dates(parse_deadline(text, Y), first, last) == expected


# A plan that starts in June: a recurrence started in June is owed from June, with a comma, 、 or nothing after 起.
STARTED = [
    ("自6月起，每月10日前报送", 2025, [date(2025, m, 10) for m in range(6, 13)]),
    ("自6月起每月10日前报送", 2025, [date(2025, m, 10) for m in range(6, 13)]),
    ("自6月起、每月10日前报送", 2025, [date(2025, m, 10) for m in range(6, 13)]),
    ("从2025年6月起，每季度末前报送", 2025, [date(2025, 6, 30), date(2025, 9, 30), date(2025, 12, 31)]),
    ("自7月起，每月5日前", 2025, [date(2025, m, 5) for m in range(7, 13)]),
    ("自6月起，每月5日、20日前", 2025, sorted(date(2025, m, d) for m in range(6, 13) for d in (5, 20))),
    ("自6月起，9月底前完成", 2025, [date(2025, 9, 30)]),
    ("5月底前完成，此后每月10日前报送", 2025, [date(2025, 5, 31)] + [date(2025, m, 10) for m in range(6, 13)]),
    ("自4月起，5月底前完成，此后每月10日前报送", 2025,
     [date(2025, 5, 31)] + [date(2025, m, 10) for m in range(6, 13)]),
    ("自今年5月起", 2025, []),
]


@pytest.mark.parametrize(("text", "year", "expected"), STARTED)
def test_a_start_before_a_comma_starts_the_next_clause(text: str, year: int, expected: list[date]) -> None:
    assert due_dates(parse_deadline(text, year), date(year, 1, 1), date(year, 12, 31)) == expected


def test_a_start_reads_the_same_with_a_comma_a_pause_or_nothing() -> None:
    bare = parse_deadline("自6月起每月10日前报送", 2025)
    for text in ("自6月起，每月10日前报送", "自6月起、每月10日前报送", "自6月起；每月10日前报送"):
        got = parse_deadline(text, 2025)
        assert (got.kind, got.start, got.rule) == (bare.kind, date(2025, 6, 1), bare.rule), text
