"""A month closes only when its day has come by the real clock, in the daily run: previews, a typo'd
`--today` or a bad period never freeze anything, and the official May 通报 names a town that filed on 05-19
as on time whatever ran before (issue: months frozen before they close)."""

import json
from datetime import date, datetime
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest

import usecases.context
from flows import scheduler
from tests import dbs
from tests.conftest import REAL_CONFIG

TZ = ZoneInfo("Asia/Shanghai")


@pytest.fixture
def clock(monkeypatch: pytest.MonkeyPatch) -> list[datetime]:
    """The real clock every context reads (usecases.context.system_clock), set by the test."""
    now = [datetime(2023, 5, 2, 9, 5, tzinfo=TZ)]
    monkeypatch.setattr(usecases.context, "system_clock", lambda: now[0])
    return now


def snapshots(url: str) -> list[tuple[str]]:
    return dbs.rows(url, "SELECT period FROM month_snapshot ORDER BY period")


def test_previews_and_bad_periods_write_nothing_and_may_stays_honest(run, db_url, clock, tmp_path, monkeypatch,  # type: ignore[no-untyped-def]
                                                                   capsys) -> None:  # type: ignore[no-untyped-def]
    monkeypatch.setenv("FUQUAN_NOTIFY_FILE", str(tmp_path / "n.md"))
    monkeypatch.setenv("FUQUAN_DATA_DIR", str(tmp_path / "data"))
    assert run("sync", "--config", str(REAL_CONFIG)).code == 0
    before = dbs.fingerprint(db_url)
    out = str(tmp_path / "out")
    for args in (("monthly", "--today", "2023-12-31"), ("monthly", "--period", "2023-05", "--today", "2024-01-10"),
                 ("annual", "--today", "2099-01-01"), ("quarterly", "--period", "2023Q2", "--today", "2023-12-31")):
        r = run("report", *args, "--out", out, "--json")
        assert r.code == 0, (args, r.err)
        assert json.loads(r.out)["provisional"] is (args[0] == "monthly"), args
    bad = run("report", "monthly", "--period", "2023-13", "--today", "2023-12-31", "--out", out)
    assert bad.code == 1 and "月份应写作 YYYY-MM" in bad.err
    far = run("report", "monthly", "--today", "2400-01-01", "--out", out)
    assert far.code == 2 and "日期 2400-01-01 不在 2000–2100 年之间" in far.err
    assert dbs.fingerprint(db_url) == before and snapshots(db_url) == []  # previews wrote nothing
    assert not (Path(out) / "monthly-2023-05.md").exists()  # nor took the official file's name

    assert run("report", "submit", "湾沚镇", "--month", "2023-05", "--on", "2023-05-19", "--today", "2023-05-19",
               "--figure", "审批办件量=12").code == 0
    clock[0] = datetime(2023, 5, 22, 9, 5, tzinfo=TZ)  # the daily run of 05-22 closes May (due 05-20)
    scheduler.run_scheduled("deadline-check", "芜湖市湾沚区", 2023)
    capsys.readouterr()  # (the run's reminders, printed to the console)
    assert snapshots(db_url) == [("2023-04",), ("2023-05",)]
    may = run("report", "monthly", "--period", "2023-05", "--today", "2023-05-25", "--out", out, "--json")
    data = json.loads(may.out)
    assert data["provisional"] is False and "湾沚镇" not in data["missing_reports"]
    text = Path(data["markdown"]).read_text(encoding="utf-8")
    assert data["markdown"].endswith("monthly-2023-05.md") and "已于 2023-05-20 关账" in text


def test_a_daily_run_for_a_far_day_closes_only_what_the_real_date_allows(run, db_url, clock, tmp_path, monkeypatch) -> None:  # type: ignore[no-untyped-def]
    from flows import registry
    from tests.flows.test_registry import Recorder
    from usecases.context import open_context

    monkeypatch.setenv("FUQUAN_DATA_DIR", str(tmp_path / "data"))
    assert run("sync", "--config", str(REAL_CONFIG)).code == 0
    clock[0] = datetime(2023, 6, 21, 9, 5, tzinfo=TZ)
    with open_context() as ctx:
        ctx = ctx.choose(2023)
        registry.run("deadline-check", Recorder(), ctx, registry.Options(today=date(2030, 1, 1)))
    assert snapshots(db_url) == [("2023-04",), ("2023-05",), ("2023-06",)]  # not July–December


def test_a_monthly_report_after_the_plan_year_reports_its_december(run, tmp_path) -> None:  # type: ignore[no-untyped-def]
    assert run("sync", "--config", str(REAL_CONFIG)).code == 0
    r = run("report", "monthly", "--today", "2024-01-15", "--out", str(tmp_path), "--json")
    assert r.code == 0 and json.loads(r.out)["period"] == "2023-12"
    bad = run("report", "monthly", "--period", "2022-05", "--today", "2023-06-01", "--out", str(tmp_path))
    assert bad.code == 1 and "月份 2022-05 不在计划年度 2023 内" in bad.err
