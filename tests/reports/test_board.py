"""今日督办 (reports/board.py) and the detail tables under it (reports/status.py), from real plans synced into a
fresh database: what comes first, the plan's own words, tables no wider than 7 columns, and what was sent said
as it was (a reminder only shown on the screen is not "sent")."""

import re
from datetime import date
from pathlib import Path

import pytest

from fuquan.plans.loader import load_plan
from models.db import make_engine, reading, transaction
from models.stored import find_plan, read_plan
from models.sync import sync_plan
from reports import board, status
from reports.status import Sent, Snapshot
from tests import dbs
from tests.conftest import REAL_CONFIG, ROOT

QINGSHAN = ROOT / "tests" / "plans" / "qingshan-2024.yaml"


def snap(tmp_path: Path, plan: Path, day: date) -> Snapshot:
    engine = make_engine(dbs.fresh_url(tmp_path))
    try:
        with transaction(engine) as s:
            sync_plan(s, load_plan(plan))
        with reading(engine) as s:
            return status.snapshot(s, read_plan(s, find_plan(s)), day)
    finally:
        engine.dispose()


@pytest.fixture
def wanzhi(tmp_path: Path) -> Snapshot:
    return snap(tmp_path, REAL_CONFIG, date(2023, 4, 28))


def tables(markdown: str) -> list[list[str]]:
    """The header row of every Markdown table."""
    lines = markdown.splitlines()
    return [[c.strip() for c in line.strip("|").split("|")] for i, line in enumerate(lines)
            if line.startswith("|") and (i == 0 or not lines[i - 1].startswith("|"))]


def test_the_board_is_short_and_says_who_is_late_first(wanzhi: Snapshot) -> None:
    """The Prefect board is short: the totals, the worst ten overdue items, the web board's link; the by-town and
    by-unit tables are a detail table (issue 28: the board was 4.4 screens of prose)."""
    text = board.markdown(wanzhi, [], links=[("各任务状态", "/v2/artifacts/artifact/x")],
                          web="https://fuquan.example.gov.cn/office/board")
    red = sum(r.judgement.colour == "红" for r in wanzhi.rows)
    assert text.startswith("**今日督办** · 芜湖市湾沚区 2023 年度镇赋权 · 截至 2023-04-28\n\n### 🔴 红 ")
    assert f"### {board.headline(wanzhi)}" in text and board.headline(wanzhi).startswith(f"🔴 红 {red}　🟡 黄 ")
    order = [text.index(h) for h in ("### 🔴", "[网页督办看板](https://fuquan.example.gov.cn/office/board)",
                                      "详细: [各任务状态](/v2/artifacts/artifact/x)", "#### 逾期最久的 10 项")]
    assert order == sorted(order)
    assert f"#### 逾期最久的 10 项 (共 {red} 项, 其余见逾期清单和网页看板)" in text
    worst = tables(text.split("#### 逾期最久的")[1])
    assert worst == [["单位", "任务", "截止", "逾期(工作日)", "尚缺"]]
    lines = [line for line in text.split("#### 逾期最久的")[1].splitlines() if line.startswith("| ") and "---" not in line][1:]
    assert len(lines) == 10 and lines[0].startswith("| 六郎镇 | 1 确定承接事项 | 03-31 | 20 | 未登记完成 |")
    days = [int(line.split("|")[4]) for line in lines]
    assert days == sorted(days, reverse=True)
    assert f"**逾期 {red} 项, 涉及 18 个单位, 最久 20 个工作日。**" in text
    assert "#### 按镇" not in text and len(text.splitlines()) < 40
    town_table = board.rollup_tables(wanzhi).split("#### 按镇")[1]
    assert "| 湾沚镇 | 3 | 3 | 2 | 0/9 | 20 |" in town_table
    assert all(len(head) <= 7 for head in tables(text))


def test_what_was_sent_is_said_as_it_was(wanzhi: Snapshot) -> None:
    sent = [Sent("区委编办", "控制台", "sent", None, "console"), Sent("湾沚镇", "控制台", "sent", None),
            Sent("区水务局", "Slack C1", "sent", None, "slack"),
            Sent("区司法局", "Slack C2", "failed", "channel_not_found", "slack")]
    text = board.markdown(wanzhi, sent)
    assert "今日提醒: 已发出 1 条 · 仅显示, 未发出 2 条 · 未能发送 1 条。" in text
    assert "- **仅显示, 未发出 2 条** (没有配置 Slack 或钉钉/企业微信机器人" in text and ": 区委编办、湾沚镇" in text
    assert "- **发送失败**: 区司法局 · Slack C2 (channel_not_found)" in text
    assert [r["结果"] for r in status.sent_rows(sent)] == ["仅显示, 未发出", "仅显示, 未发出", "已发出", "发送失败"]
    quiet = board.markdown(wanzhi, [], "当前为免打扰时段 (发送时间 09:00–18:00), 不发送提醒")
    assert "今日提醒: 没有发送提醒; 本次运行: 当前为免打扰时段 (发送时间 09:00–18:00), 不发送提醒。" in quiet


def test_the_detail_tables_fit_beside_the_side_panel(wanzhi: Snapshot) -> None:
    rows = status.status_rows(wanzhi)
    assert len(rows) == 15 and list(rows[0])[:3] == ["序号", "任务", "状态"] and len(rows[0]) <= 7
    assert rows[0]["任务"] == "确定承接事项" and rows[0]["状态"] == "🔴 逾期"
    overdue = status.overdue_rows(wanzhi)
    assert [r["单位"] for r in overdue[:4]] == ["**区委编办**", "", "", "**湾沚镇**"]  # grouped by unit
    assert [r["逾期(工作日)"] for r in overdue[:3]] == [20, 20, 7]
    letters = status.letters_markdown(wanzhi)
    assert tables(letters) == [["部门", "已签", "未签", "起草中"]]  # not a column per town
    assert "各镇已签: 湾沚镇 0/11 · 六郎镇 0/11" in letters
    scores = [{"类别": "镇", "名次": 1, "单位": "湾沚镇", "得分": 90.0, "按时完成率": "90%", "完成率": "95%",
               "月报按时率": "100%", "逾期工作日": 2, "失分原因": "—"}]
    assert tables(status.scores_markdown(scores)) == [["名次", "单位", "得分", "按时完成率 / 完成率 / 月报按时率",
                                                       "逾期工作日", "失分原因"]]
    assert "| 1 | 湾沚镇 | 90.0 | 90% / 95% / 100% | 2 | — |" in status.scores_markdown(scores)


def test_a_county_board_is_in_the_countys_words(tmp_path: Path) -> None:
    county = snap(tmp_path, QINGSHAN, date(2024, 4, 1))
    text = board.markdown(county, []) + board.rollup_tables(county)
    assert "#### 按乡镇（街道）" in text and "#### 按单位 (乡镇（街道）见上表)" in text
    assert "某市青山县 2024 年度乡镇（街道）赋权" in text
    assert not re.search("湾沚|镇赋权|区级|各镇", text)
    assert all(len(head) <= 7 for head in tables(text))
