"""月报 as a county's notice writes it (issue 26): a compound deadline ("5月底前完成，此后每月10日前报送") is tracked by
the months it names, a start written with a comma ("自6月起，每月10日前报送") is kept, and the plan says which month a
report covers — the month it is due in (当月) or the month before (上月) — for status, `report submit --month`, the
template and the month's close."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from openpyxl import load_workbook

from tests.conftest import ROOT

LIANHE = (ROOT / "tests" / "plans" / "lianhe-2025.yaml").read_text(encoding="utf-8")
COMPOUND = "5月底前完成，此后每月10日前报送"


@pytest.fixture
def plan_file(tmp_path: Path, monkeypatch: pytest.MonkeyPatch):  # type: ignore[no-untyped-def]
    def make(deadline: str, covers: str | None) -> Path:
        path = _plan(tmp_path, deadline, covers)
        monkeypatch.setenv("FUQUAN_CONFIG", str(path))  # the plan every command chooses
        return path
    return make


def _plan(tmp_path: Path, deadline: str, covers: str | None) -> Path:
    text = LIANHE.replace("    deadline: 每月10日前\n    units: [县委编办, 县司法局, 各乡镇]",
                          f"    deadline: {deadline}\n    units: [县委编办, 县司法局, 各乡镇]")
    assert deadline in text
    if covers:
        text = text.replace("  ask_day: 3 ", f"  covers: {covers}\n  ask_day: 3 ")
    path = tmp_path / "lianhe.yaml"
    path.write_text(text, encoding="utf-8")
    return path


def _months(run, today: str) -> dict[str, str]:  # type: ignore[no-untyped-def]
    r = run("status", "--json", "--today", today)
    assert r.code == 0, r.err
    rows = [x for x in json.loads(r.out)["rows"] if x["unit"] == "莲河镇" and x["task"] == 13]
    assert all(x["role"] == "report" for x in rows)  # a town's 月报 share: its months only
    return {x["period"]: x["due"] for x in rows}


def test_a_compound_deadline_is_tracked_by_its_months_covering_the_month_before(run, plan_file) -> None:  # type: ignore[no-untyped-def]
    plan_file(COMPOUND, "上月")
    assert run("plan", "check").code == 0  # before: 月报跟踪需要周期性完成时限
    assert run("sync").code == 0
    # due 06-10 for May, 07-10 for June; the one-off 05-31 is not a month of its own
    assert _months(run, "2025-07-15") == {"2025-05": "2025-06-10", "2025-06": "2025-07-10",
                                                  "2025-07": "2025-08-10"}
    ok = run("report", "submit", "莲河镇", "--month", "2025-06", "--on", "2025-07-08",
             "--today", "2025-07-15")
    assert ok.code == 0, ok.err  # June's figures, filed in July: before, refused or labelled July
    assert _months(run, "2025-07-15")["2025-06"] == "2025-07-10"
    status = json.loads(run("status", "--json", "--today", "2025-07-15").out)
    june = next(x for x in status["rows"] if x["unit"] == "莲河镇" and x["period"] == "2025-06")
    assert june["colour"] == "已完成"
    early = run("report", "submit", "莲河镇", "--month", "2025-04", "--on", "2025-06-08",
                "--today", "2025-07-15")
    assert early.code == 1 and "月份 2025-04 不是任务 13 的报送期" in early.err and "上月" in early.err


def test_the_month_template_lists_the_months_covered(run, plan_file) -> None:  # type: ignore[no-untyped-def]
    plan = plan_file(COMPOUND, "上月")
    assert run("sync").code == 0
    out = plan.parent / "reports.xlsx"
    r = run("template", "reports", "--out", str(out))
    assert r.code == 0, r.err
    ws = load_workbook(out).active
    months = sorted({str(row[1]) for row in ws.iter_rows(min_row=3, values_only=True) if row[1]})
    assert months[0] == "2025-05" and months[-1] == "2025-12" and "2025-04" not in months


@pytest.mark.parametrize("deadline", ["自6月起，每月10日前报送", "自6月起每月10日前报送", "自6月起、每月10日前报送"])
def test_a_start_written_with_a_comma_is_kept(run, plan_file, deadline) -> None:  # type: ignore[no-untyped-def]
    plan_file(deadline, None)
    assert run("sync").code == 0
    months = _months(run, "2025-07-15")
    assert sorted(months) == ["2025-06", "2025-07", "2025-08"] and months["2025-06"] == "2025-06-10"
    # before: April and May were owed (and red) in a plan whose reports start in June
