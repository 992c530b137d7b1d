"""The year's holidays, entered by the 专班: a plan's `calendar:` block covers a year the calendar package lacks
(2027) — reminders skip its holidays and go out on its make-up working days; without it, check and sync warn."""

import json

import pytest

from tests import dbs
from tests.conftest import ROOT

QINGSHAN = ROOT / "tests" / "plans" / "qingshan-2024.yaml"
BLOCK = """calendar:
  2027:
    holidays: [2027-01-01, 2027-10-01~2027-10-07]
    workdays: [2027-09-26, 2027-10-09]
"""


@pytest.fixture
def plan_2027(tmp_path):  # type: ignore[no-untyped-def]
    def write(block: str = "") -> str:
        text = QINGSHAN.read_text(encoding="utf-8").replace("2024", "2027")
        path = tmp_path / f"qingshan-2027-{len(block)}.yaml"
        path.write_text(text.replace("\nunits:\n", f"\n{block}units:\n", 1) if block else text, encoding="utf-8")
        return str(path)

    return write


def remind(run, day: str) -> dict:  # type: ignore[no-untyped-def, type-arg]
    return json.loads(run("remind", "--dry-run", "--json", "--today", day, "--now", f"{day}T09:05").out)  # type: ignore[no-any-return]


def test_without_a_calendar_block_check_and_sync_warn(run, plan_2027) -> None:  # type: ignore[no-untyped-def]
    path = plan_2027()
    for cmd in (("plan", "check"), ("sync",)):
        r = run(*cmd, "--config", path)
        assert r.code == 0 and "2027 年的法定节假日与调休安排尚未收录" in r.err and "calendar:" in r.err
    assert remind(run, "2027-10-04")["skipped"] is None  # 国庆 counted as a working day: what the block fixes


def test_a_calendar_block_skips_its_holidays_and_sends_on_its_make_up_days(run, plan_2027) -> None:  # type: ignore[no-untyped-def]
    path = plan_2027(BLOCK)
    check = run("plan", "check", "--config", path)
    assert check.code == 0 and "尚未收录" not in check.err
    assert run("sync", "--config", path).code == 0
    assert "不是工作日" in remind(run, "2027-10-04")["skipped"]  # a Monday of the 国庆 holiday
    assert "不是工作日" in remind(run, "2027-01-01")["skipped"]
    sunday = remind(run, "2027-09-26")  # the make-up Sunday
    assert sunday["skipped"] is None and sunday["messages"]
    status = run("status", "--today", "2027-10-08", "--json")
    assert status.code == 0 and json.loads(status.out)["calendar_warnings"] == []


@pytest.mark.parametrize("entry, said", [
    ("holidays: [2027-02-30]", "“2027-02-30” 应为日期 YYYY-MM-DD 或日期段"),
    ("holidays: [2026-12-31~2027-01-02]", "“2026-12-31~2027-01-02” 不在 2027 年内"),
    ("holidays: [2027-10-09]\n    workdays: [2027-10-09]", "2027-10-09 既写在放假日期又写在调休上班日期中"),
])
def test_a_bad_calendar_entry_is_named_with_its_line(run, plan_2027, db_url, entry, said) -> None:  # type: ignore[no-untyped-def]
    path = plan_2027(f"calendar:\n  2027:\n    {entry}\n")
    before = dbs.fingerprint(db_url)
    r = run("sync", "--config", path)
    assert r.code == 1 and said in r.err and f"{path}:" in r.err
    assert dbs.fingerprint(db_url) == before
