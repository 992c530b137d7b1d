"""A plan is (district, year): two counties and two years in one database, and every command either names
the plan it acted on or refuses, listing the plans — never "the latest" (non-negotiable 7)."""

import json
from pathlib import Path

import pytest

from flows import scheduler as sched
from tests import dbs
from tests.conftest import REAL_CONFIG, ROOT

QINGSHAN = ROOT / "tests" / "plans" / "qingshan-2024.yaml"
Q, W = "某市青山县", "芜湖市湾沚区"


@pytest.fixture
def three(run, tmp_path: Path, monkeypatch: pytest.MonkeyPatch):  # type: ignore[no-untyped-def]
    """湾沚区 2023, 青山县 2024 and 青山县 2027 (the 2024 file rolled on) in one database."""
    q2027 = tmp_path / "qingshan-2027.yaml"
    q2027.write_text(QINGSHAN.read_text(encoding="utf-8").replace("2024", "2027"), encoding="utf-8")
    for path in (REAL_CONFIG, QINGSHAN, q2027):
        assert run("sync", "--config", str(path)).code == 0
    monkeypatch.setenv("FUQUAN_CONFIG", str(tmp_path / "no-such-plan.yaml"))  # no plan file to decide
    return run, q2027


def test_without_a_choice_commands_refuse_and_list_the_plans(three, db_url) -> None:  # type: ignore[no-untyped-def]
    run, _ = three
    before = dbs.fingerprint(db_url)
    for args in (("status", "--today", "2024-04-01"), ("letters", "--today", "2024-04-01"),
                 ("report", "submit", "青山镇", "--month", "2024-03", "--on", "2024-03-20", "--today", "2024-04-01"),
                 ("remind", "--dry-run", "--today", "2024-04-01"), ("reminders", "log")):
        r = run(*args)
        assert r.code == 1 and f"有 3 个计划符合条件: {Q} 2024、{Q} 2027、{W} 2023" in r.err, (args, r.err)
    r = run("status", "--district", Q, "--today", "2024-04-01")
    assert r.code == 1 and f"有 2 个计划符合条件: {Q} 2024、{Q} 2027" in r.err
    assert dbs.fingerprint(db_url) == before


def test_the_plan_file_in_use_decides_when_nothing_else_does(three, monkeypatch) -> None:  # type: ignore[no-untyped-def]
    run, q2027 = three
    monkeypatch.setenv("FUQUAN_CONFIG", str(q2027))
    data = json.loads(run("status", "--today", "2027-04-01", "--json").out)
    assert (data["district"], data["year"]) == (Q, 2027)


def test_records_go_to_the_plan_named_and_say_so(three) -> None:  # type: ignore[no-untyped-def]
    run, _ = three
    r = run("report", "submit", "青山镇", "--month", "2024-03", "--on", "2024-03-20", "--today", "2024-04-01",
            "--district", Q, "--year", "2024")
    assert r.code == 0 and r.out.startswith(f"{Q} 2024 年度: 已登记月报: 青山镇 2024-03")

    def reported(year: int) -> list[str]:
        out = run("status", "--district", Q, "--year", str(year), "--today", f"{year}-04-01", "--task", "15", "--json").out
        return [x["colour"] for x in json.loads(out)["rows"] if x["unit"] == "青山镇" and x["label"] == f"月报 {year}-03"]

    assert reported(2024) == ["已完成"] and reported(2027) == ["红"]  # the other year untouched
    wrong = run("report", "submit", "青山镇", "--month", "2024-03", "--on", "2024-03-20", "--today", "2024-04-01",
                "--district", Q, "--year", "2027")
    assert wrong.code == 1 and "月份 2024-03 不在计划年度 2027 内" in wrong.err


def test_the_scheduler_runs_the_plan_of_its_file(three, db_url) -> None:  # type: ignore[no-untyped-def]
    run, q2027 = three
    r = run("scheduler", "--once", "--config", str(q2027))
    assert r.code == 0, r.err
    s = sched.build(db_url, "Asia/Shanghai")
    s.start(paused=True)
    try:
        assert {tuple(j.args) for j in s.get_jobs()} == {(name, Q, 2027) for name in
                                                          ("deadline-check", "monthly-status", "quarterly-analysis",
                                                           "annual-evaluation", "backup")}
    finally:
        s.shutdown(wait=False)
