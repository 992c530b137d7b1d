"""Next year's plan: explicit years within a year of the plan's move on (in every way they are written), farther
ones and document numbers stay and are listed, `issued` is set aside for the clerk; and a deadline left a year
behind is caught."""

from datetime import date

import pytest

from fuquan.errors import InvalidValue
from fuquan.plans.loader import parse_plan
from fuquan.plans.plan_roll import ISSUED_NOTE, due_before_year, roll
from tests.conftest import SMALL_PLAN

PLAN = SMALL_PLAN.replace("  title: 测试方案", "  title: 测试区2023年镇赋权工作方案  # 2023年4月印发").replace(
    "    deadline: 4月底前\n", '    deadline: "2023年10月底前"\n').replace(
    "    text: 月报\n", "    text: 贯彻皖政〔2022〕112号, 到2035年建成, 二〇二三年度、2023-2024年滚动推进\n")


def test_years_move_and_every_edit_is_listed() -> None:
    r = roll(PLAN, 2024)
    plan = parse_plan(r.text)
    assert (plan.year, plan.issued, plan.title) == (2024, date(2024, 1, 1), "测试区2024年镇赋权工作方案")
    assert plan.task(2).deadline.text == "2024年10月底前" and plan.task(2).deadline.due == date(2024, 10, 31)
    assert plan.task(3).text == "贯彻皖政〔2022〕112号, 到2035年建成, 二〇二四年度、2024-2025年滚动推进"
    assert [(c.what, c.old, c.new) for c in r.changes] == [
        ("方案名称", "测试区2023年镇赋权工作方案", "测试区2024年镇赋权工作方案"), ("计划年度", "2023", "2024"),
        ("印发日期", "2023-04-18", f"2024-01-01 ({ISSUED_NOTE})"), ("任务 2 完成时限", '"2023年10月底前"', '"2024年10月底前"'),
        ("任务 3 内容", "贯彻皖政〔2022〕112号, 到2035年建成, 二〇二三年度、2023-2024年滚动推进",
         "贯彻皖政〔2022〕112号, 到2035年建成, 二〇二四年度、2024-2025年滚动推进")]
    assert r.review == ["第 29 行 任务 3 内容: 2035 年不在计划年度前后, 未改动", "第 2 行 (注释, 未改动): # 2023年4月印发"]
    assert f"  issued: 2024-01-01  # {ISSUED_NOTE}\n" in r.text
    changed = {c.line for c in r.changes}
    assert [n for n, (a, b) in enumerate(zip(PLAN.splitlines(), r.text.splitlines(), strict=True), 1) if a != b] == \
           sorted(changed)


def test_an_issue_date_given_is_written_without_a_note_and_the_same_year_is_refused() -> None:
    r = roll(PLAN, 2024, issued=date(2024, 3, 1))
    assert "  issued: 2024-03-01\n" in r.text and ISSUED_NOTE not in r.text
    with pytest.raises(InvalidValue, match="新年度与原计划相同"):
        roll(PLAN, 2023)


def test_a_deadline_left_a_year_behind_is_caught_with_its_place() -> None:
    stale = PLAN.replace("  year: 2023", "  year: 2024").replace("issued: 2023-04-18", "issued: 2024-01-05")
    problems = due_before_year(parse_plan(stale, "x.yaml"), stale)
    assert [p.render() for p in problems] == [
        "x.yaml:25:15: 任务 2: 完成时限 “2023年10月底前” 的截止日期 2023-10-31 在计划年度 2024 年之前; "
        "是否沿用上一年度的计划时漏改了年份? (fuquan plan new 会把年份一并顺延)"]
    assert due_before_year(parse_plan(PLAN), PLAN) == []
