"""A department × town matrix may mark cells that do not apply (县农业农村局 hands no powers to a 街道): they
count neither as missing nor as done, in the grid, the status and the reports."""

import json

import pytest

from tests.conftest import ROOT

QINGSHAN = ROOT / "tests" / "plans" / "qingshan-2024.yaml"
T = ("--year", "2024", "--today", "2024-05-06")


@pytest.fixture
def loaded(run):  # type: ignore[no-untyped-def]
    assert run("sync", "--config", str(QINGSHAN)).code == 0
    return run


def test_cells_that_do_not_apply_are_neither_missing_nor_done(loaded, tmp_path) -> None:  # type: ignore[no-untyped-def]
    grid = json.loads(loaded("letters", *T, "--json").out)
    off = [(c["department"], c["town"]) for c in grid["cells"] if not c["applies"]]
    assert off == [("县农业农村局", "城关街道"), ("县农业农村局", "青峰街道")]
    assert grid["signed"] + grid["unsigned"] == 6 * 16 - 2
    one = loaded("letter", "sign", "县农业农村局", "城关街道", "--on", "2024-03-20", *T)
    assert one.code == 1 and "县农业农村局 与 城关街道 不签承接确认书 (计划中标为不适用)" in one.err
    r = loaded("letter", "sign", "县级执法部门", "城关街道", "--on", "2024-03-20", *T)
    assert r.code == 0 and "已登记承接确认书签订 5 份" in r.out, r.out
    rows = json.loads(loaded("status", *T, "--task", "2", "--json").out)["rows"]
    town = next(x for x in rows if x["unit"] == "城关街道")
    assert town["colour"] == "已完成" and town["missing"] == []
    farm = next(x for x in rows if x["unit"] == "县农业农村局")
    assert not any("街道" in m for m in farm["missing"]) and len(farm["missing"]) == 14
    out = json.loads(loaded("report", "monthly", "--period", "2024-04", *T, "--out", str(tmp_path), "--json").out)
    assert out["provisional"] is True
