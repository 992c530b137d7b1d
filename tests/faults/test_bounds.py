"""Dates, numbers and settings within sane bounds at the door, and no single record able to stop a run
(issue: one date disables everything). Each case on the test's own database, SQLite or PostgreSQL."""

import json

import pytest

from tests import dbs
from tests.conftest import REAL_CONFIG, SMALL_PLAN
from tests.faults import FIGURES

T = ("--today", "2023-06-01")


@pytest.fixture
def loaded(run):  # type: ignore[no-untyped-def]
    assert run("sync", "--config", str(REAL_CONFIG)).code == 0
    return run


@pytest.mark.parametrize("args, code, said", [
    (("task", "set", "5", "区委编办", "申请延期", "--new-due", "9999-12-31", "--reason", "x"), 2, "日期 9999-12-31 不在 2000–2100 年之间"),
    (("task", "set", "5", "区委编办", "申请延期", "--new-due", "2030-12-31", "--reason", "x"), 1,
     "新的截止日期 2030-12-31 超出计划年度 2023 的范围"),
    (("task", "set", "5", "区委编办", "已完成", "--on", "1999-05-01"), 2, "日期 1999-05-01 不在 2000–2100 年之间"),
    (("letter", "sign", "区水务局", "湾沚镇", "--on", "2019-04-25"), 1, "签订日期 2019-04-25 早于计划年度 2023 年"),
    (("report", "submit", "湾沚镇", "--month", "2025-01", "--on", "2023-05-19"), 1, "月份 2025-01 不在计划年度 2023 内"),
    (("exam", "schedule", "湾沚镇", "--on", "2026-01-01"), 1, "考试日期 2026-01-01 不在计划年度"),
    (("report", "submit", "湾沚镇", "--month", "2023-02", "--on", "2023-05-19"), 1,
     "月份 2023-02 不是任务 14 的报送期 (计划印发后的报送期: 2023-04 至 2023-12; 每期月报报当月的情况)"),
    (("training", "session", "区水务局", "--on", "2023-05-01", "--form", "集中培训", "--towns", "湾沚镇",
      "--attendees", "0"), 1, "参训人次应大于 0"),
])
def test_far_dates_are_refused_and_change_nothing(loaded, db_url, args, code, said) -> None:  # type: ignore[no-untyped-def]
    before = dbs.fingerprint(db_url)
    r = loaded(*args, *T)
    assert r.code == code and said in r.err and "Traceback" not in r.err
    assert dbs.fingerprint(db_url) == before


def test_one_bad_stored_date_is_skipped_and_named_not_fatal(loaded, db_url) -> None:  # type: ignore[no-untyped-def]
    # as an older version (or a hand edit) could have left it: straight into the database
    dbs.execute(db_url, "INSERT INTO extension (plan_id, task_id, unit_id, period, due, new_due, reason, state, asked_on, "
                        "reply_by, at, by, source) SELECT t.plan_id, t.id, u.id, '', '2023-06-20', '9999-12-31', 'x', "
                        "'批准', '2023-06-01', '2023-06-01', CURRENT_TIMESTAMP, 'x', 'cli' FROM task t, unit u "
                        "WHERE t.no = 5 AND u.name = '区委编办'")
    status = loaded("status", "--json", *T)
    assert status.code == 0, status.err
    assert "任务5 区委编办 的日期无法计算" in status.err
    rows = json.loads(status.out)["rows"]
    assert not any(r["task"] == 5 and r["unit"] == "区委编办" for r in rows) and len(rows) > 100
    remind = loaded("remind", "--dry-run", "--json", *T, "--now", "2023-06-01T09:05")
    assert remind.code == 0 and "任务5 区委编办 的日期无法计算" in remind.err
    FIGURES.append("bounds: a 9999-12-31 in the database skipped by status and remind, the rest judged")


@pytest.mark.parametrize("change, said", [
    (("timezone: Asia/Shanghai", "timezone: Mars/Base"), "“Mars/Base” 不是有效的时区名称"),
    (("timezone: Asia/Shanghai", "timezone: ../../etc/localtime"), "不是有效的时区名称"),
    (("units:\n", "evaluation: {weights: {on_time: 0, completion: 0, reports: 0}}\nunits:\n"), "三项权重不能都为 0"),
    (("units:\n", "evaluation: {weights: {on_time: .inf}}\nunits:\n"), "超出范围: “inf”"),
    (("units:\n", "schedules: {deadline-check: {cron: \"99 99 * * *\"}}\nunits:\n"), "cron 的“分”字段 “99” 不对"),
    (("units:\n", "schedules: {monthly-status: {cron: \"0 9 32 * *\"}}\nunits:\n"), "cron 的“日”字段 “32” 不对"),
    (("units:\n", "reminders: {before_due: [-5]}\nunits:\n"), "超出范围"),
    (("  - no: 3\n", "  - no: 100000000000000000000\n"), "序号(no) 超出范围"),
])
def test_bad_settings_fail_plan_check_with_their_line(run, write_plan, db_url, change, said) -> None:  # type: ignore[no-untyped-def]
    text = SMALL_PLAN.replace("issued: 2023-04-18\n", "issued: 2023-04-18\n  timezone: Asia/Shanghai\n")
    path = write_plan(text.replace(*change, 1))
    before = dbs.fingerprint(db_url)
    for cmd in (("plan", "check"), ("sync",)):
        r = run(*cmd, "--config", str(path))
        assert r.code == 1 and said in r.err and f"{path}:" in r.err, (cmd, r.err)
    assert dbs.fingerprint(db_url) == before
