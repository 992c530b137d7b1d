"""The whole path for a county nobody here has seen (莲河县: 九镇十二乡, no 街道; issue 26), from its notice to next
year: import (the pasted text; the Word and Excel forms are tests/core/test_notice_draft.py) → a draft `plan check`
and `sync` refuse while it has 待核对 marks → the county's checked plan (tests/plans/lianhe-2025.yaml) → check → sync
→ status in its own words → a template filled and imported → reminders → monthly, quarterly and annual reports →
next year's plan."""

from __future__ import annotations

import json

import pytest
from openpyxl import load_workbook

from tests import dbs
from tests.conftest import ROOT

NOTICE = ROOT / "tests" / "data" / "notices" / "lianhe-2025.txt"
LIKE = ROOT / "tests" / "plans" / "qingshan-2024.yaml"
# the county's plan as its clerk checks it from the notice: the 月报 task as written ("5月底前完成，此后每月10日前报送",
# each report covering the month before) and the letters in two batches
CHECKED = (ROOT / "tests" / "plans" / "lianhe-2025.yaml").read_text(encoding="utf-8").replace(
    "    deadline: 每月10日前\n    units: [县委编办, 县司法局, 各乡镇]",
    "    deadline: 5月底前完成，此后每月10日前报送\n    units: [县委编办, 县司法局, 各乡镇]").replace(
    "    deadline: 4月30日前\n    units: [县委编办, 县司法局, 县级执法部门, 各乡镇]",
    "    deadline: 分两批：6月底前、9月底前\n    units: [县委编办, 县司法局, 县级执法部门, 各乡镇]").replace(
    "  ask_day: 3 ", "  covers: 上月\n  ask_day: 3 ")


def test_a_draft_with_marks_is_listed_by_check_and_refused_by_sync(run, tmp_path, db_url) -> None:  # type: ignore[no-untyped-def]
    draft = tmp_path / "draft.yaml"
    r = run("plan", "import", str(NOTICE), "--like", str(LIKE), "--out", str(draft))
    assert r.code == 0, r.err
    marks = [no for no, line in enumerate(draft.read_text(encoding="utf-8").splitlines(), 1) if "# 待核对" in line]
    assert marks
    check = run("plan", "check", "--config", str(draft))
    assert check.code == 1
    for no in marks:  # every mark, with its line (before: 计划配置无误, the marks never mentioned)
        assert f"{draft}:{no}:" in check.err
    before = dbs.fingerprint(db_url)
    sync = run("sync", "--config", str(draft))
    assert sync.code == 1 and "待核对" in sync.err and "删去这条" in sync.err
    assert dbs.fingerprint(db_url) == before  # nothing loaded, no 各乡镇 "town"


def test_the_checked_plan_runs_from_status_to_next_year(run, tmp_path, monkeypatch: pytest.MonkeyPatch) -> None:  # type: ignore[no-untyped-def]
    assert CHECKED.count("分两批") == 1 and "此后每月10日前" in CHECKED and "covers: 上月" in CHECKED
    plan = tmp_path / "lianhe-2025.yaml"
    plan.write_text(CHECKED, encoding="utf-8")
    monkeypatch.setenv("FUQUAN_CONFIG", str(plan))
    monkeypatch.setenv("FUQUAN_DATA_DIR", str(tmp_path / "data"))
    monkeypatch.setenv("FUQUAN_NOTIFY_FILE", str(tmp_path / "notifications.md"))
    assert run("plan", "check").code == 0
    assert run("sync").code == 0
    # status, by town, in the plan's own word for its towns: 乡镇 (镇 and 乡, no 街道) — never 乡镇（街道）
    status = run("status", "--by", "town", "--today", "2025-06-30")
    assert status.code == 0 and "乡镇（街道）" not in status.out + status.err
    rows = json.loads(run("status", "--json", "--today", "2025-07-01").out)["rows"]
    assert any(r["unit"] == "大坪乡" for r in rows)
    # the 月报 months as the notice names them, each covering the month before; the letters' first batch late
    months = {r["period"]: r["due"] for r in rows if r["task"] == 13 and r["unit"] == "莲河镇"}
    assert months == {"2025-05": "2025-06-10", "2025-06": "2025-07-10"}
    batches = {r["period"]: r["colour"] for r in rows if r["task"] == 2 and r["unit"] == "莲河镇"}
    assert batches == {"2025-06-30": "红", "2025-09-30": "绿"}
    # a template, filled as a town would, imported
    sheet = tmp_path / "letters.xlsx"
    assert run("template", "letters", "--out", str(sheet)).code == 0
    wb = load_workbook(sheet)
    ws = wb.active
    assert "乡镇（街道）" not in " ".join(str(c.value or "") for c in ws[2])
    header = [c.value for c in ws[2]]
    filled = 0
    for row in ws.iter_rows(min_row=3):
        if row[header.index("乡镇")].value == "莲河镇":
            row[header.index("签订日期")].value = "2025-04-20"
            filled += 1
    assert filled
    wb.save(sheet)
    imported = run("import", str(sheet), "--today", "2025-07-01")
    assert imported.code == 0, imported.err
    after = json.loads(run("status", "--json", "--today", "2025-07-01").out)["rows"]
    assert {r["period"]: r["colour"] for r in after if r["task"] == 2 and r["unit"] == "莲河镇"} == {
        "2025-06-30": "已完成", "2025-09-30": "已完成"}  # every letter of the town signed 04-20: both batches done
    # reminders, in the county's words
    submitted = run("report", "submit", "莲河镇", "--month", "2025-06", "--on", "2025-07-01", "--today", "2025-07-01")
    assert submitted.code == 0, submitted.err  # June's figures, due 07-10 (上月)
    remind = run("remind", "--dry-run", "--today", "2025-07-01", "--now", "2025-07-01T09:05")
    assert remind.code == 0 and "莲河县" in remind.out and "湾沚" not in remind.out and "乡镇（街道）" not in remind.out
    # the month's, the quarter's and the year's reports
    for kind, period in (("monthly", "2025-06"), ("quarterly", "2025Q2"), ("annual", "2025")):
        r = run("report", kind, "--period", period, "--today", "2026-01-20", "--out", str(tmp_path / kind))
        assert r.code == 0, r.err
        text = next((tmp_path / kind).glob("*.md")).read_text(encoding="utf-8")
        assert "莲河县" in text and "湾沚" not in text and "乡镇（街道）" not in text
    # next year
    nxt = tmp_path / "lianhe-2026.yaml"
    r = run("plan", "new", "--from", str(plan), "--year", "2026", "--out", str(nxt))
    assert r.code == 0, r.err
    assert run("plan", "check", "--config", str(nxt)).code == 0
