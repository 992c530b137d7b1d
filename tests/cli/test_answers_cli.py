"""Answering back from the CLI, on both counties' plans: `task set … 申请延期` on one period of a recurring task
(granted at once with --approved-by, else waiting for the 专班), `plan close` / `plan reopen`, and what the send
log says of a reminder that was only shown on the console."""

from __future__ import annotations

import json
import os
from dataclasses import dataclass

import pytest

from tests import dbs
from tests.conftest import ROOT

PLANS = ROOT / "tests" / "plans"


@dataclass(frozen=True)
class Plan:
    file: str
    label: str  # how every command names the plan
    task: int  # a recurring task (each period owed and judged on its own)
    unit: str  # a unit that answers for it …
    neighbour: str  # … and another that does too
    period: str  # a period not yet due on `today`
    due: str  # …its due date
    earlier: str  # a period before it
    earlier_due: str
    today: str
    new_due: str
    workday: str  # a working day for reminders, within the send window at 09:05
    untracked: tuple[int, str]  # a share whose status is set directly (task, unit)


PLANS_BY_NAME = {
    # 月报 of 每月20日前: each town answers for its own months
    "wanzhi": Plan("wanzhi-2023.yaml", "芜湖市湾沚区 2023 年度", 14, "湾沚镇", "六郎镇", "2023-06", "2023-06-20", "2023-05",
                   "2023-05-20", "2023-06-01", "2023-06-30", "2023-04-28", (4, "区委编办")),
    # 每季度末: each department owes every quarter
    "qingshan": Plan("qingshan-2024.yaml", "某市青山县 2024 年度", 10, "县司法局", "县自然资源局", "2024Q2", "2024-06-30",
                     "2024Q1", "2024-03-31", "2024-06-20", "2024-07-15", "2024-03-11", (16, "县委编办")),
}


@pytest.fixture(params=list(PLANS_BY_NAME), ids=list(PLANS_BY_NAME))
def plan(request) -> Plan:  # type: ignore[no-untyped-def]
    return PLANS_BY_NAME[request.param]


@pytest.fixture
def cli(run, plan: Plan, tmp_path, monkeypatch):  # type: ignore[no-untyped-def]
    """The plan synced into the test's database; reminders go to the console only."""
    for var in [k for k in os.environ if k == "SLACK_BOT_TOKEN" or k.startswith("FUQUAN_WEBHOOK_")]:
        monkeypatch.delenv(var)
    monkeypatch.setenv("FUQUAN_NOTIFY_FILE", str(tmp_path / "notifications.md"))
    assert run("sync", "--config", str(PLANS / plan.file)).code == 0
    return run


def due_of(cli, plan: Plan, unit: str, period: str) -> tuple[str, str]:  # type: ignore[no-untyped-def]
    """(due, extension) of one unit's row for one period, as `status --json` shows it."""
    r = cli("status", "--today", plan.today, "--task", str(plan.task), "--json")
    assert r.code == 0, r.err
    row = next(x for x in json.loads(r.out)["rows"] if (x["unit"], x["period"]) == (unit, period))
    return row["due"], row["extension"]


def extend(cli, plan: Plan, *more: str):  # type: ignore[no-untyped-def]
    return cli("task", "set", str(plan.task), plan.unit, "申请延期", "--new-due", plan.new_due, "--reason", "材料待审定",
               "--period", plan.period, "--today", plan.today, *more)


def test_an_approved_extension_moves_exactly_that_periods_due(cli, plan: Plan) -> None:  # type: ignore[no-untyped-def]
    assert due_of(cli, plan, plan.unit, plan.period) == (plan.due, "")
    r = extend(cli, plan, "--approved-by", "李明", "--operator", "张三")
    assert (r.code, r.err) == (0, ""), r.err
    assert r.out.strip() == (f"{plan.label}: 已登记延期 (批准人 李明): {plan.unit} 任务{plan.task} {plan.period} "
                             f"截止日期延至 {plan.new_due}")
    assert due_of(cli, plan, plan.unit, plan.period) == (plan.new_due, "")
    # the unit's other periods and the other units' same period keep their dates
    assert due_of(cli, plan, plan.unit, plan.earlier) == (plan.earlier_due, "")
    assert due_of(cli, plan, plan.neighbour, plan.period) == (plan.due, "")


def test_an_extension_without_approval_waits_for_the_office(cli, plan: Plan, db_url) -> None:  # type: ignore[no-untyped-def]
    r = extend(cli, plan)
    assert r.code == 0 and r.out.startswith(f"{plan.label}: 延期申请已提交, 工作专班将于 "), r.out
    assert due_of(cli, plan, plan.unit, plan.period) == (plan.due, "待批")
    # one request waits at a time: a second is refused and writes nothing
    before = dbs.fingerprint(db_url)
    again = extend(cli, plan)
    assert again.code == 1 and f"任务{plan.task}/{plan.unit}/{plan.period} 已有一份待批的延期申请" in again.err
    assert dbs.fingerprint(db_url) == before


@pytest.mark.parametrize(("more", "message"), [
    (("--period", "2024"), "没有“2024”这一期"),
    (("--on", "2024-06-01"), "申请延期不用 --on"),
])
def test_a_request_that_cannot_be_asked_is_refused(cli, plan: Plan, db_url, more, message) -> None:  # type: ignore[no-untyped-def]
    before = dbs.fingerprint(db_url)
    r = extend(cli, plan, *more)  # (argparse keeps the last --period)
    assert r.code == 1 and r.err.startswith("错误: ") and message in r.err, r.err
    assert dbs.fingerprint(db_url) == before


def test_extension_flags_belong_to_an_extension(cli, plan: Plan) -> None:  # type: ignore[no-untyped-def]
    task, unit = plan.untracked
    r = cli("task", "set", str(task), unit, "进行中", "--new-due", plan.new_due, "--today", plan.today)
    assert (r.code, r.err) == (1, "错误: --new-due 只用于申请延期; 状态为 进行中 时请去掉它\n")
    r = cli("task", "set", str(plan.task), plan.unit, "申请延期", "--period", plan.period, "--today", plan.today)
    assert (r.code, r.err) == (1, "错误: 申请延期须填写 --new-due 和 --reason (新的截止日期和理由)\n")


def test_a_closed_plan_sends_and_records_nothing_until_reopened(cli, plan: Plan, db_url) -> None:  # type: ignore[no-untyped-def]
    day, task, unit = plan.workday, *plan.untracked
    now = ("--today", day, "--now", f"{day}T09:05")
    closed = cli("plan", "close", "--note", "年度工作已总结", "--today", day, "--operator", "王五")
    assert closed.code == 0 and closed.out.startswith(f"{plan.label}: 已关闭。"), closed.err
    # no reminder is sent, and the run says why
    data = json.loads(cli("remind", *now, "--json").out)
    assert data["messages"] == [] and data["outcomes"] == []
    assert data["skipped"] == f"{plan.label} 计划已于 {day} 由 王五 关闭, 不再发送提醒 (恢复: fuquan plan reopen)"
    assert json.loads(cli("reminders", "log", "--json").out) == []
    # status still reads
    assert cli("status", "--today", day).code == 0
    # no record is taken
    before = dbs.fingerprint(db_url)
    r = cli("task", "set", str(task), unit, "已完成", "--on", day, "--today", day)
    assert r.code == 1 and r.err == (f"错误: {plan.label} 计划已于 {day} 由 王五 关闭, 不再登记新的进展、反馈或延期; "
                                     "如需继续请先 fuquan plan reopen\n")
    assert extend(cli, plan).code == 1
    assert dbs.fingerprint(db_url) == before
    again = cli("plan", "close", "--today", day)
    assert (again.code, again.err) == (1, f"错误: {plan.label} 已于 {day} 由 王五 关闭, 无需再关闭\n")
    # reopened: records and reminders again
    opened = cli("plan", "reopen", "--today", day)
    assert (opened.code, opened.out) == (0, f"{plan.label}: 已重新打开, 恢复提醒和单位反馈\n")
    assert cli("task", "set", str(task), unit, "已完成", "--on", day, "--today", day).code == 0
    sent = json.loads(cli("remind", *now, "--json").out)
    assert sent["skipped"] is None and sent["outcomes"]
    assert cli("plan", "reopen", "--today", day).err == f"错误: {plan.label} 没有关闭, 无需重新打开\n"


def test_the_send_log_says_a_console_reminder_was_only_shown(cli, plan: Plan) -> None:  # type: ignore[no-untyped-def]
    day = plan.workday
    assert cli("remind", "--today", day, "--now", f"{day}T09:05").code == 0
    log = json.loads(cli("reminders", "log", "--json").out)
    assert log and {e["delivery"] for e in log} == {"仅显示, 未发出"} and {e["result"] for e in log} == {"sent"}
    assert set(log[0]) == {"at", "day", "recipient", "channel", "result", "error_code", "detail", "message_key",
                           "status", "delivery"}
    table = cli("reminders", "log").out
    assert "仅显示, 未发出" in table and "已发送" not in table and "已发出" not in table


def test_a_year_ended_with_open_work_tells_the_office_once(cli, plan: Plan) -> None:  # type: ignore[no-untyped-def]
    """After the plan's year, open work keeps being reminded until the 专班 closes the plan or carries the work over;
    the daily run says so to the 专班 once (issue 25: a 2023 plan nagged in 2026 with no way to stop it)."""
    year = int(plan.today[:4])
    day = f"{year + 1}-01-05"  # a working day in the next year
    for _ in range(2):
        r = cli("remind", "--today", day, "--now", f"{day}T09:05", "--json", "--force")
        assert r.code == 0, r.err
    text = open(os.environ["FUQUAN_NOTIFY_FILE"], encoding="utf-8").read()  # the console channel's file
    assert text.count(f"{year} 年度计划已结束") == 1 and "fuquan plan close --district" in text
    # once closed, nothing more
    assert cli("plan", "close", "--today", day).code == 0
    r = cli("remind", "--today", day, "--now", f"{day}T09:05", "--json", "--force")
    assert json.loads(r.out)["messages"] == []
