"""Honest pictures (issue 28): the completion heat map paints work not yet due grey, with a legend entry 未到期 —
never dark red at 0 % — and the monthly 通报 groups its long lists by unit (新增逾期, 逾期事项) in the plan's words,
with no column that is empty in every row."""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import date
from pathlib import Path

import matplotlib.pyplot as plt
import numpy as np
import pytest
from matplotlib.colors import to_rgba

from fuquan.tracking.judge import FINISHED, GREEN, YELLOW
from models.db import make_engine, reading
from models.stored import find_plan, read_plan
from reports import charts, gather, render
from reports.gather import ReportData
from tests.conftest import ROOT

PLANS = ROOT / "tests" / "plans"


@dataclass(frozen=True)
class County:
    plan: Path
    town: str
    period: str  # the month reported on
    today: str
    towns: str  # the plan's word for its towns, as the 通报 heads them
    departments: str


COUNTIES = [
    County(PLANS / "lianhe-2025.yaml", "大坪乡", "2025-07", "2025-07-15", "各乡镇", "县级部门"),
    County(PLANS / "qingshan-2024.yaml", "青山镇", "2024-07", "2024-07-30", "各乡镇（街道）", "县级部门"),
]


@pytest.fixture(params=COUNTIES, ids=lambda c: c.plan.stem)
def month(request: pytest.FixtureRequest, run, db_url, tmp_path, monkeypatch) -> tuple[County, ReportData]:  # type: ignore[no-untyped-def]
    """The month's report data, one town's letters signed and one 月报 in, the month before computed (not closed)."""
    c: County = request.param
    monkeypatch.setenv("FUQUAN_NOTIFY_FILE", str(tmp_path / "n.md"))
    monkeypatch.setenv("FUQUAN_DATA_DIR", str(tmp_path / "data"))
    assert run("sync", "--config", str(c.plan)).code == 0
    assert run("letter", "sign", "县级执法部门", c.town, "--on", f"{c.period}-01", "--today", c.today).code == 0
    assert run("report", "submit", c.town, "--month", c.period, "--on", f"{c.period}-05", "--today", c.today).code == 0
    engine = make_engine(db_url)
    with reading(engine) as s:
        sp = read_plan(s, find_plan(s))
    d = gather.monthly(engine, sp, c.period, date.fromisoformat(c.today))
    engine.dispose()
    return c, d


def test_the_colour_map_keeps_grey_for_cells_that_are_no_rate() -> None:
    grey, red = to_rgba(charts.NOT_DUE), charts.cell_colour(0.0)
    assert charts.cell_colour(None) == grey and charts.cell_colour(float("nan")) == to_rgba(charts.NO_LINE)
    assert red != grey and red[0] > 0.5 > red[1]  # 0 % is the scale's dark red: only for work owed and not done
    green = charts.cell_colour(100.0)
    assert green[1] > max(green[0], green[2])  # all done: green


def test_not_yet_due_tasks_are_grey_with_a_legend_entry(month: tuple[County, ReportData]) -> None:
    _, d = month
    last = d.history[-1][1]
    rows = {no: [r for r in d.rows if r.task_no == no] for no in last}
    not_due = [no for no, v in last.items() if v is None]
    assert not_due  # (tasks due later in the year: 10月底前, 年底前)
    for no in not_due:  # nothing of theirs fell due and stayed open by the as-of date
        assert all(r.judgement.colour in (GREEN, YELLOW) or r.judgement.colour in FINISHED and r.judgement.due
                   and r.judgement.due > d.as_of for r in rows[no] if r.judgement.due)
    owed = [no for no, v in last.items() if v is not None]
    assert any(last[no] == 0 for no in owed)  # work owed and not done is still 0 %, on the scale

    fig = charts.completion_figure(d)
    try:
        ax = fig.axes[0]
        pixels = ax.images[0].get_array()
        tasks = sorted({no for _, per_task in d.history for no in per_task})
        j = len(d.history) - 1
        for no in not_due:
            assert tuple(pixels[tasks.index(no), j]) == pytest.approx(to_rgba(charts.NOT_DUE))
        for no in owed:
            assert tuple(pixels[tasks.index(no), j]) == pytest.approx(charts.cell_colour(last[no]))
        texts = {(round(t.get_position()[0]), round(t.get_position()[1])): t.get_text() for t in ax.texts}
        assert all(texts[(j, tasks.index(no))] == "未到期" for no in not_due)
        legend = ax.get_legend()
        assert [t.get_text() for t in legend.get_texts()][0] == "未到期"
        assert to_rgba(legend.legend_handles[0].get_facecolor()) == to_rgba(charts.NOT_DUE)
    finally:
        plt.close(fig)


def test_the_heat_map_png_is_drawn(month: tuple[County, ReportData], tmp_path: Path) -> None:
    _, d = month
    charts.write_charts(d, tmp_path, "m")
    image = plt.imread(tmp_path / "m-completion.png")
    grey = np.array(to_rgba(charts.NOT_DUE))[:3]
    assert (np.abs(image[..., :3] - grey).max(axis=-1) < 0.01).sum() > 500  # grey cells, painted


def tables(text: str) -> list[list[list[str]]]:
    """Every Markdown table: its rows (the header first) as cells."""
    out: list[list[list[str]]] = []
    for block in re.split(r"\n\s*\n", text):
        lines = [line for line in block.splitlines() if line.startswith("|")]
        if lines:
            out.append([[c.strip() for c in line.strip("|").split("|")] for line in lines if not line.startswith("|---")])
    return out


def test_no_column_is_empty_in_every_row(month: tuple[County, ReportData]) -> None:
    _, d = month
    text = render.markdown(d)
    found = tables(text)
    assert len(found) >= 4
    for head, *rows in found:
        for i, name in enumerate(head):
            assert any(r[i] for r in rows), f"column {name} is empty in every row"
    assert "| 事项 |" not in text  # the column only a recurring task fills, and none did here


def test_new_overdue_and_overdue_are_grouped_by_unit(month: tuple[County, ReportData]) -> None:
    c, d = month
    text = render.markdown(d)
    assert d.diff is not None and len(d.diff.overdue) > 10
    block = text.split("**新增逾期", 1)[1].split("\n## ", 1)[0].split("**月报指标变化", 1)[0]
    assert f"**新增逾期 {len(d.diff.overdue)} 项:**" in text
    kinds = {r.unit: r.unit_kind for r in d.rows}
    heading, seen = "", {}
    for line in block.splitlines()[1:]:
        if m := re.fullmatch(r"(\S+) \((\d+) 个\):", line):
            heading = m[1]
        elif line.startswith("- "):
            unit, items = line[2:].split(": ", 1)
            assert unit not in seen and "、" not in unit  # one line per unit
            assert heading == (c.towns if kinds[unit] == "town" else c.departments)
            seen[unit] = items
    assert set(seen) == {ch.unit for ch in d.diff.overdue}
    for ch in d.diff.overdue:  # every newly overdue item on its unit's line
        assert re.search(rf"任务{ch.task}「[^」]+」", seen[ch.unit]) and ch.label in seen[ch.unit]

    overdue = text.split("## 五、逾期事项", 1)[1]
    assert f"### {c.towns} (逾期 " in overdue and f"### {c.departments} (逾期 " in overdue
    late = [r for r in d.rows if r.judgement.colour == "红"]
    rows = [row for t in tables(overdue) for row in t[1:]]
    assert sorted(r[0] for r in rows) == sorted({r.unit for r in late})  # a row per unit, not per item
    assert sum(int(r[1]) for r in rows) == len(late)
