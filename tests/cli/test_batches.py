"""A tracked task whose deadline comes in batches (分两批：6月底前、9月底前) is read one way everywhere (issue 26): by
the k-th of n dates, k/n of its items (rounded up) are due, one row per batch — so the first batch can be late, and
the quarter each batch falls in counts it once."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from tests.conftest import ROOT

PLAN = (ROOT / "tests" / "plans" / "lianhe-2025.yaml").read_text(encoding="utf-8").replace(
    "    deadline: 4月30日前\n    units: [县委编办, 县司法局, 县级执法部门, 各乡镇]",
    "    deadline: 分两批：6月底前、9月底前\n    units: [县委编办, 县司法局, 县级执法部门, 各乡镇]")


@pytest.fixture
def batches(run, tmp_path: Path, monkeypatch: pytest.MonkeyPatch):  # type: ignore[no-untyped-def]
    assert "分两批" in PLAN
    path = tmp_path / "lianhe.yaml"
    path.write_text(PLAN, encoding="utf-8")
    monkeypatch.setenv("FUQUAN_CONFIG", str(path))
    assert run("sync").code == 0
    return run


def _rows(run, today: str, unit: str = "莲河镇") -> dict[str, dict]:  # type: ignore[no-untyped-def,type-arg]
    r = run("status", "--json", "--today", today)
    assert r.code == 0, r.err
    return {x["period"]: x for x in json.loads(r.out)["rows"] if x["task"] == 2 and x["unit"] == unit}


def test_the_first_batch_is_late_when_its_share_is_not_done(batches) -> None:  # type: ignore[no-untyped-def]
    rows = _rows(batches, "2025-07-01")
    assert set(rows) == {"2025-06-30", "2025-09-30"}  # before: one row, 绿 due 09-30, the first batch never late
    assert rows["2025-06-30"]["colour"] == "红" and rows["2025-09-30"]["colour"] == "绿"
    assert rows["2025-06-30"]["missing"][0].startswith("第1批应完成 4/8 项, 已完成 0 项")


def test_signing_the_first_batchs_share_finishes_it_and_not_the_second(batches) -> None:  # type: ignore[no-untyped-def]
    departments = [m for m in _rows(batches, "2025-07-01")["2025-09-30"]["missing"][1:]]
    for label in departments[:4]:
        r = batches("letter", "sign", label.removesuffix("承接确认书"), "莲河镇", "--on", "2025-06-20", "--today", "2025-07-01")
        assert r.code == 0, r.err
    rows = _rows(batches, "2025-07-01")
    assert rows["2025-06-30"]["colour"] == "已完成" and rows["2025-06-30"]["completed_on"] == "2025-06-20"
    assert rows["2025-09-30"]["colour"] == "绿" and len(rows["2025-09-30"]["missing"]) == 1 + 4


def test_each_quarter_counts_its_own_batch(batches, tmp_path) -> None:  # type: ignore[no-untyped-def]
    for quarter, _due in (("2025Q2", "2025-06-30"), ("2025Q3", "2025-09-30")):
        r = batches("report", "quarterly", "--period", quarter, "--today", "2025-10-15", "--out", str(tmp_path / quarter))
        assert r.code == 0, r.err
    # the ledger's one row per batch is what every report counts: the Q2 analysis scores the 06-30 batch only
    rows = _rows(batches, "2025-10-15")
    assert {p: r["due"] for p, r in rows.items()} == {"2025-06-30": "2025-06-30", "2025-09-30": "2025-09-30"}


def test_the_plan_may_say_whose_items_fall_in_which_batch(run, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:  # type: ignore[no-untyped-def]
    text = PLAN.replace("        not_applicable: {县交通运输局: [大坪乡, 茶山乡]}",
                        "        not_applicable: {县交通运输局: [大坪乡, 茶山乡]}\n      batches: [[大坪乡, 茶山乡], [莲河镇]]")
    path = tmp_path / "lianhe.yaml"
    path.write_text(text, encoding="utf-8")
    monkeypatch.setenv("FUQUAN_CONFIG", str(path))
    assert run("plan", "check").code == 0 and run("sync").code == 0
    town = _rows(run, "2025-07-01")
    assert set(town) == {"2025-09-30"}  # 莲河镇 signs in the second batch only: nothing of it is late on 07-01
    dept = _rows(run, "2025-07-01", "县市场监督管理局")
    assert dept["2025-06-30"]["colour"] == "红" and dept["2025-06-30"]["missing"][0].startswith("第1批应完成 2/2 项")
    wrong = path.read_text(encoding="utf-8").replace("batches: [[大坪乡, 茶山乡], [莲河镇]]", "batches: [[大坪乡]]")
    path.write_text(wrong, encoding="utf-8")
    r = run("plan", "check")
    assert r.code == 1 and "batches 列了 1 批" in r.err and "有 2 个日期" in r.err
