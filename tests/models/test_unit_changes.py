"""Units change over a year (机构改革): a renamed department keeps every letter it signed, and a department
removed from the plan never makes a command crash — its history stays in the database, inactive."""

import json

import pytest

from tests.conftest import REAL_CONFIG

T = ("--today", "2023-06-01")
OLD, NEW = "区水务局", "区水利局"


@pytest.fixture
def signed(run, tmp_path):  # type: ignore[no-untyped-def]
    assert run("sync", "--config", str(REAL_CONFIG)).code == 0
    for town in ("湾沚镇", "六郎镇"):
        assert run("letter", "sign", OLD, town, "--on", "2023-04-25", *T).code == 0
    assert run("training", "plan", OLD, "--on", "2023-04-10", *T).code == 0
    return run


def grid(run) -> dict:  # type: ignore[no-untyped-def, type-arg]
    r = run("letters", *T, "--json")
    assert r.code == 0, r.err
    return json.loads(r.out)  # type: ignore[no-any-return]


def test_a_rename_with_former_names_keeps_the_letters(signed, write_plan) -> None:  # type: ignore[no-untyped-def]
    text = REAL_CONFIG.read_text(encoding="utf-8").replace(f"{{name: {OLD}, kind: 部门}}",
                                                           f"{{name: {NEW}, kind: 部门, former_names: [{OLD}]}}")
    text = text.replace(f"区卫生健康委, {OLD}]", f"区卫生健康委, {NEW}]")
    r = signed("sync", "--config", str(write_plan(text, "renamed.yaml")))
    assert r.code == 0 and "更新单位 1" in r.out, r.out + r.err
    cells = {(c["department"], c["town"]): c["signed"] for c in grid(signed)["cells"]}
    assert cells[(NEW, "湾沚镇")] and cells[(NEW, "六郎镇")] and (OLD, "湾沚镇") not in cells
    again = signed("sync", "--config", str(write_plan(text, "renamed.yaml")))
    assert "无变化" in again.out  # the rename happened once


def test_a_former_name_that_is_still_a_unit_is_refused(run, write_plan) -> None:  # type: ignore[no-untyped-def]
    text = REAL_CONFIG.read_text(encoding="utf-8").replace(
        "{name: 区城市管理局, kind: 部门}", f"{{name: 区城市管理局, kind: 部门, former_names: [{OLD}]}}")
    r = run("plan", "check", "--config", str(write_plan(text)))
    assert r.code == 1 and f"曾用名 “{OLD}” 仍是现有单位的名称" in r.err


def test_removing_a_department_with_records_never_crashes(signed, write_plan, tmp_path) -> None:  # type: ignore[no-untyped-def]
    text = REAL_CONFIG.read_text(encoding="utf-8").replace(f"  - {{name: {OLD}, kind: 部门}}\n", "")
    text = text.replace(f"区卫生健康委, {OLD}]", "区卫生健康委]")
    r = signed("sync", "--config", str(write_plan(text, "removed.yaml")))
    assert r.code == 0 and "停用单位 1" in r.out, r.out + r.err
    assert OLD not in grid(signed)["departments"]
    for args in (("status", *T), ("status", "--by", "unit", *T), ("remind", "--dry-run", *T),
                 ("report", "monthly", "--period", "2023-05", *T, "--out", str(tmp_path / "r")),
                 ("report", "annual", *T, "--out", str(tmp_path / "r"))):
        out = signed(*args)
        assert out.code == 0 and "Traceback" not in out.err, (args, out.err[-800:])
    # putting it back brings its history back with it
    assert signed("sync", "--config", str(REAL_CONFIG)).code == 0
    cells = {(c["department"], c["town"]): c["signed"] for c in grid(signed)["cells"]}
    assert cells[(OLD, "湾沚镇")] and cells[(OLD, "六郎镇")]
