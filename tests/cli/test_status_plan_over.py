"""`fuquan status` past the plan's last day (what `make run` shows first): it says which date it used and
gives the command for the plan as it stood at its end."""

import json

from cli.common import clock_today
from tests.conftest import SMALL_PLAN

NEXT_YEAR = SMALL_PLAN + """\
  - no: 4
    section: 一
    text: 总结评估
    deadline: 次年3月底前
    units: [区委编办]
"""


def test_a_finished_plan_year_is_explained_with_the_year_end_command(run, write_plan) -> None:  # type: ignore[no-untyped-def]
    assert run("sync", "--config", str(write_plan())).code == 0
    today = clock_today()  # any real date from 2024 on
    r = run("status")
    assert r.code == 0, r.err
    assert f"测试区 2023 年度 · 截至 {today} · 按任务" in r.out
    assert r.out.endswith(f"说明: 测试区 2023 年度计划已于 2023-12-31 结束; 上表按今天 ({today}) 计算, 未完成的事项都算作逾期到今天。\n"
                          "看计划结束时的情况: fuquan status --today 2023-12-31\n")
    assert "说明" not in run("status", "--today", "2023-12-31").out  # a date asked for needs no explaining
    assert "说明" not in run("status", "--json").out and json.loads(run("status", "--json").out)["year"] == 2023


def test_the_plan_ends_at_its_last_due_date_and_the_command_keeps_the_options(run, write_plan) -> None:  # type: ignore[no-untyped-def]
    assert run("sync", "--config", str(write_plan(NEXT_YEAR))).code == 0
    r = run("status", "--year", "2023", "--by", "unit")
    assert r.code == 0, r.err
    assert r.out.splitlines()[-1] == ("看计划结束时的情况: fuquan status --today 2024-03-31 --district 测试区 --year 2023 "
                                      "--by unit")
    assert "测试区 2023 年度计划已于 2024-03-31 结束" in r.out
