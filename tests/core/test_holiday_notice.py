"""Reading the State Council's holiday notice as published: the 2024–2026 notices give exactly the calendar
package's days, odd but real wordings are read, and a line that cannot be read is refused by its number."""

from datetime import date, timedelta

import chinese_calendar
import pytest

from fuquan.dates.holiday_notice import into_plan, parse_notice, render_block
from fuquan.errors import InvalidValue
from fuquan.plans.loader import parse_plan
from tests.conftest import ROOT, SMALL_PLAN

NOTICES = ROOT / "tests" / "data" / "holiday_notices"
TITLE = "国务院办公厅关于{}年部分节假日安排的通知\n"


def notice_text(year: int) -> str:
    return (NOTICES / f"{year}.txt").read_text(encoding="utf-8")


def days_of(year: int) -> list[date]:
    first = date(year, 1, 1)
    return [first + timedelta(days=n) for n in range((date(year + 1, 1, 1) - first).days)]


@pytest.mark.parametrize("year", [2024, 2025, 2026])
def test_each_published_notice_gives_exactly_the_packages_working_days(year: int) -> None:
    block = render_block(parse_notice(notice_text(year)))
    cal = parse_plan(SMALL_PLAN.replace("\nunits:\n", f"\n{block}units:\n", 1)).calendar  # the block as a plan reads it
    assert cal.years == {year}
    differ = [d for d in days_of(year)
              if (d in cal.workdays or (d not in cal.holidays and d.weekday() < 5)) != chinese_calendar.is_workday(d)]
    assert differ == []


def test_the_2025_notice_names_its_six_festivals_and_the_block_carries_them() -> None:
    notice = parse_notice(notice_text(2025))
    assert notice.year == 2025 and notice.title == "国务院办公厅关于2025年部分节假日安排的通知"
    assert [f.name for f in notice.festivals] == ["元旦", "春节", "清明节", "劳动节", "端午节", "国庆节、中秋节"]
    assert [f.line for f in notice.festivals] == [5, 6, 7, 8, 9, 10]
    assert "      - 2025-05-31~2025-06-02  # 端午节\n" in render_block(notice)  # a range across a month end
    assert "      - 2025-01-01             # 元旦\n" in render_block(notice)  # 放假1天，不调休


def test_traditional_full_width_and_chinese_numeral_wording_is_read() -> None:
    text = ("國務院辦公廳關於二〇二七年部分節假日安排的通知\n"
            "一、元旦：１月１日（週五）至３日（週日）放假，共３天。\n"
            "二、春节：2月5日（农历除夕，周五）至13日（农历正月初八，周六）放假调休，共9天。\n"
            "三、國慶節：九月二十九日至十月六日放假調休，共八天。九月二十六日（星期日）、十月九日（星期六）上班。\n")
    notice = parse_notice(text)
    assert notice.year == 2027
    assert sorted(notice.workdays) == [date(2027, 9, 26), date(2027, 10, 9)]
    assert min(notice.holidays) == date(2027, 1, 1) and len(notice.holidays) == 3 + 9 + 8
    assert date(2027, 9, 30) in notice.holidays and date(2027, 10, 6) in notice.holidays


def test_a_notice_reaching_into_the_year_before_fills_that_years_entry_too() -> None:
    text = TITLE.format(2019) + "一、元旦：2018年12月30日至2019年1月1日放假调休，共3天。2018年12月29日（星期六）上班。\n"
    notice = parse_notice(text)
    assert notice.years == [2018, 2019]
    for d in (date(2018, 12, 29), date(2018, 12, 30), date(2018, 12, 31), date(2019, 1, 1)):
        assert (d in notice.workdays) == chinese_calendar.is_workday(d)
    assert "  2018:\n    holidays:\n      - 2018-12-30~2018-12-31  # 元旦\n" in render_block(notice)


def test_year_may_be_given_when_the_title_was_not_pasted() -> None:
    body = "一、元旦：1月1日放假，与周末连休。\n"
    assert parse_notice(body, 2024).holidays == {date(2024, 1, 1)}
    with pytest.raises(InvalidValue, match="没有找到通知标题里的年份.*--year"):
        parse_notice(body)
    with pytest.raises(InvalidValue, match="是 2024 年的通知.*与指定的 2025 年不一致"):
        parse_notice(TITLE.format(2024) + body, 2025)


@pytest.mark.parametrize("line, said", [
    ("二、春节：二月中旬放假。", "第 3 行 “二、春节：二月中旬放假。”: 看不懂 “2月中旬放假”"),
    ("2月10日至17日放假调休，共8天。", "第 3 行 “2月10日至17日放假调休，共8天。”: 看不出是哪个节日"),
    ("二、春节：2月10日至17日放假调休，共7天。", "第 3 行 “二、春节：2月10日至17日放假调休，共7天。”: 2024-02-10 至 2024-02-17 共 8 天, 通知写的是 7 天"),
    ("二、春节：2月10日（周五）至17日放假。", "第 3 行 “二、春节：2月10日（周五）至17日放假。”: 2024-02-10 是周六, 通知写的是周五"),
    ("二、春节：2月30日放假。", "第 3 行 “二、春节：2月30日放假。”: 2024 年没有 2月30日"),
    ("二、春节：2月10日至17日放假。周末上班。", "看不懂上班日期 “周末”"),
    ("二、春节：2月17日至10日放假。", "放假的止日 2024-02-10 早于起日 2024-02-17"),
    ("二、春节：", "第 3 行 “二、春节：”: 看不出是哪个节日的什么安排"),
    ("二、春节：2月10日至17日放假。1月1日（周一）上班。", "第 3 行: 2024-01-01 已在第 2 行写为放假, 这里又写为上班"),
])
def test_a_line_that_cannot_be_read_is_refused_by_its_number(line: str, said: str) -> None:
    text = TITLE.format(2024) + "一、元旦：1月1日放假，与周末连休。\n" + line + "\n"
    with pytest.raises(InvalidValue) as e:
        parse_notice(text, source="通知.txt")
    assert str(e.value).startswith("通知.txt ") and said in str(e.value)


def test_a_text_without_any_arrangement_is_refused() -> None:
    with pytest.raises(InvalidValue, match="没有找到任何放假安排"):
        parse_notice(TITLE.format(2024) + "各省、自治区、直辖市人民政府：\n节假日期间，要妥善安排好值班。\n")


def test_into_plan_replaces_the_year_keeps_other_years_and_leaves_every_other_byte() -> None:
    old = "calendar: {2026: {holidays: [2026-01-01]}, 2027: {holidays: [2027-03-03]}}\n"
    plan = SMALL_PLAN.replace("\nunits:\n", f"\n{old}units:\n", 1)
    new, replaced = into_plan(plan, parse_notice(notice_text(2026)))
    assert replaced
    head, tail = plan.split(old)
    assert new.startswith(head) and new.endswith(tail)
    cal = parse_plan(new).calendar
    assert cal.years == {2026, 2027} and date(2027, 3, 3) in cal.holidays  # another year, kept
    assert len([d for d in cal.holidays if d.year == 2026]) == 33 and date(2026, 2, 14) in cal.workdays
