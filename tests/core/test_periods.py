"""Per-period obligations: a recurring task without tracked items is owed once per period by each unit it
names; a missed period stays red, naming it, until recorded (the 青山县 plan's quarterly 案卷评查, task 10)."""

import json

import pytest

from tests.conftest import ROOT

QINGSHAN = ROOT / "tests" / "plans" / "qingshan-2024.yaml"
Y = ("--year", "2024")


@pytest.fixture
def loaded(run):  # type: ignore[no-untyped-def]
    assert run("sync", "--config", str(QINGSHAN)).code == 0
    return run


def quarters(run, today: str, unit: str = "县司法局") -> dict[str, str]:  # type: ignore[no-untyped-def]
    out = run("status", *Y, "--today", today, "--task", "10", "--json").out
    return {r["label"]: r["colour"] for r in json.loads(out)["rows"] if r["unit"] == unit}


def test_a_missed_quarter_stays_red_and_one_done_covers_only_its_own(loaded) -> None:  # type: ignore[no-untyped-def]
    assert quarters(loaded, "2024-03-29") == {"2024Q1": "黄"}
    assert quarters(loaded, "2024-04-01") == {"2024Q1": "红", "2024Q2": "绿"}  # was 绿 "due 06-30"
    r = loaded("task", "set", "10", "县司法局", "已完成", "--on", "2024-04-03", "--period", "2024Q1", *Y, "--today", "2024-04-03")
    assert r.code == 0 and "已更新任务 10 — 县司法局 2024Q1: 已完成" in r.out
    assert quarters(loaded, "2024-07-03") == {"2024Q1": "逾期完成", "2024Q2": "红", "2024Q3": "绿"}
    assert quarters(loaded, "2024-07-03", "县自然资源局")["2024Q1"] == "红"  # each unit owes its own


def test_recording_a_recurring_task_needs_its_period(loaded) -> None:  # type: ignore[no-untyped-def]
    r = loaded("task", "set", "10", "县司法局", "已完成", "--on", "2024-04-03", *Y, "--today", "2024-04-03")
    assert r.code == 1 and "请用 --period 指明是哪一期; 可登记的期: 2024Q1、2024Q2、2024Q3、2024Q4" in r.err
    r = loaded("task", "set", "10", "县司法局", "已完成", "--on", "2024-04-03", "--period", "2024-03", *Y, "--today", "2024-04-03")
    assert r.code == 1 and "“2024-03” 不是其中之一" in r.err
    r = loaded("task", "set", "3", "县委编办", "已完成", "--on", "2024-04-03", "--period", "2024Q1", *Y, "--today", "2024-04-03")
    assert r.code == 1 and "不是周期性任务" in r.err


def test_reminders_and_roll_ups_count_periods(loaded) -> None:  # type: ignore[no-untyped-def]
    plan = json.loads(loaded("remind", "--dry-run", "--json", *Y, "--today", "2024-04-09", "--now", "2024-04-09T09:05").out)
    lines = [m["text"] for m in plan["messages"] if m["recipient"] == "县司法局"][0]
    assert "任务10「案卷评查」 2024Q1 逾期" in lines
    tasks = json.loads(loaded("status", *Y, "--today", "2024-07-03", "--json").out)["tasks"]
    ten = next(t for t in tasks if t["no"] == 10)
    assert ten["total"] == 7 * 3 and ten["counts"]["红"] == 7 * 2  # 7 units × (Q1, Q2 overdue; Q3 next)
