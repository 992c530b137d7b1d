"""A month whose previous month the daily run never closed is compared with that month as of its close day,
computed and not stored, and says so; with no such day in the plan's life nothing is called new; once the
daily run has closed last month the comparison reads its snapshot (issue: the first 通报 called ~180 items
newly overdue, some late since May)."""

from __future__ import annotations

import json
import re
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest

import usecases.context
from flows import scheduler
from tests import dbs
from tests.conftest import ROOT

PLANS = ROOT / "tests" / "plans"


@dataclass(frozen=True)
class County:
    plan: Path
    district: str
    year: int
    town: str
    period: str  # the month reported on
    today: str
    prev_close: str  # last month's close day
    daily_run: datetime  # a real moment just after last month's close day
    early: str  # a month whose previous month closed before the plan was issued
    old_task: int  # overdue since long before last month closed


TZ = ZoneInfo("Asia/Shanghai")
COUNTIES = [
    County(PLANS / "lianhe-2025.yaml", "某市莲河县", 2025, "莲河镇", "2025-07", "2025-07-15", "2025-06-10",
           datetime(2025, 6, 12, 9, 5, tzinfo=TZ), "2025-04", 1),
    County(PLANS / "qingshan-2024.yaml", "某市青山县", 2024, "青山镇", "2024-07", "2024-07-30", "2024-06-25",
           datetime(2024, 6, 26, 9, 5, tzinfo=TZ), "2024-03", 1),
]


def section(text: str, head: str) -> str:
    return text.split(f"## {head}", 1)[1].split("\n## ", 1)[0]


def listed(compare: str, head: str) -> dict[int, set[tuple[str, str]]]:
    """The list under **<head> N 项:** as task → {(label, unit)}: grouped by kind of unit, one line per unit
    (`- unit: 任务N「简称」[ label、label]; 任务M「…」`), each unit on one line only."""
    if f"**{head}" not in compare:
        return {}
    block = compare.split(f"**{head}", 1)[1].split("\n**", 1)[0]
    out: dict[int, set[tuple[str, str]]] = {}
    units: set[str] = set()
    for line in block.splitlines()[1:]:
        if not line.startswith("- "):
            assert line == "" or re.fullmatch(r"\S+ \(\d+ 个\):", line), line
            continue
        unit, items = line[2:].split(": ", 1)
        assert unit not in units, f"{unit} on two lines"
        units.add(unit)
        for item in items.split("; "):
            m = re.fullmatch(r"任务(\d+)「[^」]+」(?: (.+))?", item)
            assert m, item
            out.setdefault(int(m[1]), set()).update((label, unit) for label in (m[2] or "").split("、"))
    return out


def overdue_table(text: str, year: str) -> dict[tuple[int, str, str], str]:
    """§五 逾期事项, a table per kind of unit and a row per unit: (task, label, unit) → due date."""
    out = {}
    for line in section(text, "五、逾期事项").splitlines():
        if not line.startswith("| ") or line.startswith("| 单位 |"):
            continue
        unit, count, items = (c.strip() for c in line.strip("|").split("|"))
        for item in items.split("; "):
            m = re.fullmatch(r"任务(\d+)「[^」]+」(?: (.+))? \((\d+)月(\d+)日到期, 逾期 \d+ 个工作日\)", item)
            assert m, item
            out[(int(m[1]), m[2] or "", unit)] = f"{year}-{int(m[3]):02d}-{int(m[4]):02d}"
        assert len(items.split("; ")) == int(count)
    return out


@pytest.fixture
def clock(monkeypatch: pytest.MonkeyPatch) -> list[datetime]:
    now = [datetime(2000, 1, 3, 9, 5, tzinfo=TZ)]
    monkeypatch.setattr(usecases.context, "system_clock", lambda: now[0])
    return now


@pytest.mark.parametrize("c", COUNTIES, ids=lambda c: c.plan.stem)
def test_an_unclosed_last_month_is_computed_at_its_close_day_and_a_closed_one_read(  # type: ignore[no-untyped-def]
        c: County, run, db_url, clock, tmp_path, monkeypatch, capsys) -> None:
    monkeypatch.setenv("FUQUAN_NOTIFY_FILE", str(tmp_path / "n.md"))
    monkeypatch.setenv("FUQUAN_DATA_DIR", str(tmp_path / "data"))
    assert run("sync", "--config", str(c.plan)).code == 0
    y, m = c.period.split("-")
    prev = f"{y}-{int(m) - 1:02d}"
    for args in (("letter", "sign", "县级执法部门", c.town, "--on", f"{prev}-28"),  # after last month closed
                 ("report", "submit", c.town, "--month", prev, "--on", f"{prev}-05", "--figure", "审批办件量=10"),
                 ("report", "submit", c.town, "--month", c.period, "--on", f"{c.period}-05", "--figure", "审批办件量=12")):
        assert run(*args, "--today", c.today).code == 0, args
    out = str(tmp_path / "out")

    def report(period: str) -> tuple[dict, str]:  # type: ignore[type-arg]
        r = run("report", "monthly", "--period", period, "--today", c.today, "--out", out, "--json")
        assert r.code == 0, r.err
        data = json.loads(r.out)
        return data, Path(data["markdown"]).read_text(encoding="utf-8")

    data, text = report(c.period)
    compare = section(text, "三、与上月相比")
    assert f"上月未关账, 对比按上月 ({int(prev[5:])}月) 关账日 {c.prev_close[5:]} 的数据计算" in compare
    new, late = listed(compare, "新完成"), listed(compare, "新增逾期")
    assert new[2] == {("", c.town)}  # its letters, all signed after last month closed
    due = overdue_table(text, y)
    assert any(task == c.old_task for task, _, _ in due) and c.old_task not in late
    assert late and all(due[(task, label, unit)] >= c.prev_close for task, items in late.items()
                        for label, unit in items)  # nothing late by last month's close day is "new"
    assert ("", c.town) not in late.get(13 if c.year == 2025 else 15, set())  # its 月报 came in time
    assert f"| {c.town} | 审批办件量 | 10 | 12 | +2 |" in compare and "新报" not in compare
    assert dbs.rows(db_url, "SELECT period FROM month_snapshot") == []  # a report writes nothing

    _, early = report(c.early)
    compare = section(early, "三、与上月相比")
    assert "上月无数据" in compare and "本计划尚未印发" in compare
    assert "**新" not in compare and "新报" not in compare and not listed(compare, "新增逾期")

    clock[0] = c.daily_run  # the daily run closes every month up to last month, as of the real date
    scheduler.run_scheduled("deadline-check", c.district, c.year)
    capsys.readouterr()
    assert (prev,) in dbs.rows(db_url, "SELECT period FROM month_snapshot")
    # a completion recorded after last month closed, dated before: the snapshot still has it late
    assert run("task", "set", str(c.old_task), "县委编办", "已完成", "--on", f"{prev}-01", "--today", c.today).code == 0
    _, text = report(c.period)
    compare = section(text, "三、与上月相比")
    assert "未关账" not in compare and "计算" not in compare
    assert ("", "县委编办") in listed(compare, "新完成")[c.old_task]
