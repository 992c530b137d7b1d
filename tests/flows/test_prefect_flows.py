"""Flows under one prefect_test_harness: assert on the artifacts' content and on what was sent."""

import json
from pathlib import Path

import httpx
import pytest

from fuquan.plans.loader import load_plan
from models.db import make_engine, transaction
from models.sync import sync_plan
from tests import dbs
from tests.conftest import REAL_CONFIG
from tests.flows.test_dispatch import CHANNEL, ZHUANBAN, plan_yaml
from tests.slack_server import TOKEN, FakeSlack
from usecases.settings import Settings


@pytest.fixture
def env(tmp_path: Path, monkeypatch: pytest.MonkeyPatch, prefect_harness):  # type: ignore[no-untyped-def]
    monkeypatch.setenv("FUQUAN_DATABASE_URL", dbs.fresh_url(tmp_path))
    monkeypatch.setenv("FUQUAN_NOTIFY_FILE", str(tmp_path / "notifications.md"))
    monkeypatch.delenv("SLACK_BOT_TOKEN", raising=False)
    return tmp_path


def load(path: Path) -> int:
    engine = make_engine(Settings.from_env().database_url)
    with transaction(engine) as s:
        report = sync_plan(s, load_plan(path))
    engine.dispose()
    return report.plan_id


def artifacts(key: str) -> list[dict]:  # type: ignore[type-arg]
    """Every version of an artifact, newest first, straight from the API. (Prefect 3.8.8's own
    Artifact.get sends `offset: null`, which its server rejects with 422.)"""
    from prefect.settings import PREFECT_API_URL

    body = {"artifacts": {"key": {"any_": [key]}}, "sort": "CREATED_DESC", "limit": 50, "offset": 0}
    resp = httpx.post(f"{PREFECT_API_URL.value()}/artifacts/filter", json=body, timeout=30)
    resp.raise_for_status()
    return resp.json()  # type: ignore[no-any-return]


def data(key: str):  # type: ignore[no-untyped-def]
    found = artifacts(key)
    assert found, key
    raw = found[0]["data"]
    return json.loads(raw) if found[0]["type"] == "table" else raw


def rows(key: str) -> list[dict[str, str]]:
    """The rows of the first Markdown table of an artifact, by its header."""
    lines = [line for line in data(key).splitlines() if line.startswith("|")]
    cells = [[c.strip() for c in line.strip("|").split("|")] for line in lines]
    return [dict(zip(cells[0], r, strict=True)) for r in cells[2:]]


def versions(key: str) -> int:
    return len(artifacts(key))


def test_deadline_check_publishes_the_dashboard_and_sends_once(env, monkeypatch) -> None:  # type: ignore[no-untyped-def]
    from flows.prefect_flows import deadline_check

    with FakeSlack(set(CHANNEL.values()) | {ZHUANBAN}) as slack:
        monkeypatch.setenv("SLACK_BOT_TOKEN", TOKEN)
        monkeypatch.setenv("FUQUAN_SLACK_API_URL", slack.url)
        plan_id = load(plan_yaml(env))
        result = deadline_check(today="2023-04-28", force=True)
        assert result == {"rows": 118, "due": 162, "sent": 19, "shown": 0, "undelivered": 0, "skipped": None}
        assert len(slack.keys()) == 19
        key = f"fuquan-p{plan_id}-2023"
        status = rows(f"{key}-status")
        assert [r["序号"] for r in status] == [str(n) for n in range(1, 16)]  # every task, one page
        assert status[0] == {"序号": "1", "任务": "确定承接事项", "状态": "🔴 逾期", "截止": "03-31", "红/黄/绿": "17/0/0",
                             "已完成": "0/17", "最久逾期": "20"}
        overdue = rows(f"{key}-overdue")
        assert overdue[0] == {"单位": "**区委编办**", "任务": "1 确定承接事项", "逾期(工作日)": "20", "尚缺": "未登记完成"}
        assert {r["结果"] for r in rows(f"{key}-sent")} == {"已发出"} and rows(f"{key}-sent")[0]["渠道"].startswith("Slack C0")
        assert "已签 0 / 55" in data(f"{key}-letters")
        board = data(key)  # 今日督办: the plan's bare key
        assert "🔴 红 41" in board and "今日提醒: 已发出 19 条。" in board and "#### 逾期最久的 10 项 (共 41 项" in board
        assert "| 六郎镇 | 1 确定承接事项 | 03-31 | 20 | 未登记完成 |" in board and "#### 按镇" in data(f"{key}-rollups")
        assert artifacts(key)[0]["description"] == board  # the UI's page for the key shows the latest description
        # the same day again: nothing more is sent, the board still says what went out today, and gains a version
        again = deadline_check(today="2023-04-28", force=True)
        assert again["sent"] == 0 and len(slack.keys()) == 19
        assert len(rows(f"{key}-sent")) == 19 and "今日提醒: 已发出 19 条。" in data(key)
        assert versions(f"{key}-status") == versions(key) == 2


def test_non_working_day_updates_the_dashboard_but_sends_nothing(env) -> None:  # type: ignore[no-untyped-def]
    from flows.prefect_flows import deadline_check

    plan_id = load(REAL_CONFIG)
    result = deadline_check(today="2023-04-29")  # 五一 holiday (Saturday)
    assert result["sent"] == 0 and result["skipped"].startswith("2023-04-29 不是工作日")
    assert data(f"fuquan-p{plan_id}-2023-sent") == "今天没有发送提醒。"
    assert "今日提醒: 没有发送提醒; 本次运行: 2023-04-29 不是工作日" in data(f"fuquan-p{plan_id}-2023")
    assert rows(f"fuquan-p{plan_id}-2023-status")[1]["状态"] == "🟡 临近"
    assert not (env / "notifications.md").exists()


def test_monthly_quarterly_annual_publish_their_tables(env, monkeypatch) -> None:  # type: ignore[no-untyped-def]
    from flows.prefect_flows import annual_evaluation, deadline_check, monthly_status, quarterly_analysis

    plan_id = load(REAL_CONFIG)
    monkeypatch.chdir(env)  # reports are written under ./data/reports
    assert monthly_status(today="2023-05-15") == "2023年5月情况通报 (未关账)"
    report = data(f"fuquan-p{plan_id}-2023-monthly-report")
    assert "尚未关账" in report and "**未报送: 湾沚镇、六郎镇、陶辛镇、红杨镇、花桥镇。**" in report
    assert (env / "data" / "reports" / "芜湖市湾沚区-2023" / "monthly-2023-05-preview.xlsx").exists()
    deadline_check(today="2023-05-22")  # the daily run closes every month whose day has come by the real clock
    assert monthly_status(today="2023-05-22") == "2023年5月情况通报"  # closed on the 20th
    assert "已于 2023-05-20 关账" in data(f"fuquan-p{plan_id}-2023-monthly-report")
    assert quarterly_analysis(today="2023-07-01") == "2023年第2季度综合分析"
    scores = rows(f"fuquan-p{plan_id}-2023-quarter-scores")
    assert scores[0]["名次"] == "1" and {"单位", "得分", "失分原因"} <= set(scores[0]) and len(scores[0]) <= 7
    assert any("按时完成率" in head for head in scores[0])
    assert annual_evaluation(today="2024-01-05", year=2023) == "2023年度总结评估"
    assert "各镇得分排名" in data(f"fuquan-p{plan_id}-2023-annual-report")
    summaries = (env / "notifications.md").read_text(encoding="utf-8")
    assert summaries.count("2023年5月情况通报") == 2  # the provisional and the closed report, once each


def test_a_failing_flow_tells_the_zhuanban(env) -> None:  # type: ignore[no-untyped-def]
    from flows.prefect_flows import deadline_check

    state = deadline_check(today="2023-04-28", return_state=True)  # no plan loaded: it must fail
    assert state.is_failed()
    text = (env / "notifications.md").read_text(encoding="utf-8")
    assert "【赋权督办系统】每日检查 (deadline-check) 运行失败" in text and "数据库中还没有计划" in text


def test_the_county_plan_runs_through_the_flows_beside_another(env) -> None:  # type: ignore[no-untyped-def]
    """Two plans in the database: each flow acts on the plan it is given, in that plan's words."""
    from flows.prefect_flows import deadline_check, quarterly_analysis

    load(REAL_CONFIG)
    plan_id = load(Path(__file__).resolve().parents[1] / "plans" / "qingshan-2024.yaml")
    result = deadline_check(today="2024-04-01", year=2024, district="某市青山县", force=True)
    assert result["rows"] > 0 and result["sent"] > 0
    status = rows(f"fuquan-p{plan_id}-2024-status")
    assert len(status) == 16 and status[9]["截止"] == "03-31" and status[9]["状态"] == "🔴 逾期"  # Q1 missed
    board = data(f"fuquan-p{plan_id}-2024")
    assert "#### 逾期最久的" in board and "湾沚" not in board and "镇赋权" not in board
    assert "#### 按乡镇（街道）" in data(f"fuquan-p{plan_id}-2024-rollups")
    text = (env / "notifications.md").read_text(encoding="utf-8")
    assert "【某市青山县乡镇（街道）赋权督办】" in text and "湾沚" not in text
    assert quarterly_analysis(today="2024-04-02", year=2024, district="某市青山县") == "2024年第1季度综合分析"
    assert "各乡镇（街道）得分排名" in data(f"fuquan-p{plan_id}-2024-quarter-report")


def test_the_board_is_published_when_the_schedules_are_served(env) -> None:  # type: ignore[no-untyped-def]
    """Issue 28: the 今日督办 address `make run` printed opened Prefect's error page until the first daily check (09:00
    on a working day). `fuquan serve` publishes it at start, short, with the web board's address."""
    from datetime import UTC, datetime

    from flows.prefect_flows import publish_board
    from usecases.context import open_context

    plan_id = load(Path(__file__).resolve().parents[1] / "plans" / "lianhe-2025.yaml")
    key = f"fuquan-p{plan_id}-2025"
    assert artifacts(key) == []
    settings = Settings.from_env()
    with open_context(settings, clock=lambda: datetime(2025, 7, 1, 1, 0, tzinfo=UTC)) as ctx:
        publish_board(ctx.choose(2025, "某市莲河县"))
    board = data(key)
    assert board.startswith("**今日督办** · 某市莲河县 2025 年度") and "截至 2025-07-01" in board
    assert "#### 逾期最久的 10 项" in board and "今日提醒: 没有发送提醒" in board and "湾沚" not in board
    assert ("网页督办看板" in board) == (settings.link_secret is not None)
