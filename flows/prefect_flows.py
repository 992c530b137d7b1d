"""Prefect flows: thin recipes over flows/jobs.py, one task per step (never one per row).

Artifacts have stable keys (fuquan-p<plan>-<year>-<what>: lowercase, digits and dashes), so every
run adds a version the 专班 can page through; their content is Chinese. Only `send-reminders`
touches the network: it alone has retries and a timeout. No token is ever a parameter.
"""

from __future__ import annotations

from datetime import date, datetime, timedelta
from typing import Any, cast
from uuid import UUID
from zoneinfo import ZoneInfo

from prefect import Flow, flow, get_run_logger, tags, task
from prefect.artifacts import (
    create_markdown_artifact,
    create_progress_artifact,
    create_table_artifact,
    update_progress_artifact,
)
from prefect.cache_policies import NO_CACHE

from fuquan.errors import FuquanError

from . import jobs, tables
from .dispatch import RunReport
from .failure import notify_failure
from .jobs import Snapshot


def _key(s: Snapshot | dict[str, Any], what: str) -> str:
    plan_id, year = (s.plan_id, s.year) if isinstance(s, Snapshot) else (s["plan_id"], s["year"])
    return f"fuquan-p{plan_id}-{year}-{what}"


@task(name="load-plan", cache_policy=NO_CACHE)
def load_plan(year: int | None, district: str | None) -> dict[str, Any]:
    p = jobs.plan_row(year, district)
    return {"plan_id": p.id, "district": p.district, "year": p.year, "timezone": p.timezone}


@task(name="evaluate-status", cache_policy=NO_CACHE)
def evaluate_status(plan_id: int, today: date) -> Snapshot:
    snap = jobs.evaluate(plan_id, today)
    for warning in snap.warnings:
        get_run_logger().warning(warning)
    return snap


@task(name="send-reminders", retries=2, retry_delay_seconds=60, timeout_seconds=900, cache_policy=NO_CACHE)
def send_reminders(plan_id: int, today: date, now: datetime, force: bool) -> RunReport:
    return jobs.send_reminders(plan_id, today, now, force=force)


@task(name="publish-status", cache_policy=NO_CACHE)
def publish_status(snap: Snapshot, report: RunReport | None) -> None:
    create_table_artifact(tables.status_table(snap), key=_key(snap, "status"),
                          description=f"{snap.district} {snap.year} 年度各任务状态 (截至 {snap.today})")
    create_table_artifact(tables.overdue_table(snap.rows) or [{"说明": "无逾期事项"}], key=_key(snap, "overdue"),
                          description=f"逾期清单: 单位、任务、逾期工作日 (截至 {snap.today})")
    create_markdown_artifact(tables.letters_markdown(snap), key=_key(snap, "letters"),
                             description="承接确认书 部门×镇 签订表")
    if report is not None:
        sent = tables.sent_table(report) or [{"说明": report.skipped or "今天没有需要发送的提醒"}]
        create_table_artifact(sent, key=_key(snap, "sent"), description=f"{snap.today} 提醒发给了谁")


def _today(plan: dict[str, Any], today: str | None) -> tuple[date, datetime]:
    now = datetime.now(ZoneInfo(plan["timezone"]))
    return (date.fromisoformat(today) if today else now.date()), now


@flow(name="deadline-check", on_failure=[notify_failure], on_crashed=[notify_failure])
def deadline_check(today: str | None = None, year: int | None = None, district: str | None = None,
                   force: bool = False) -> dict[str, int]:
    """每日进度检查: 计算红黄绿, 发送到期/逾期提醒, 更新看板。"""
    plan = load_plan(year, district)
    day, now = _today(plan, today)
    progress = cast(UUID, create_progress_artifact(0.0, key=_key(plan, "progress"), description=f"{day} 每日检查进度"))
    snap = evaluate_status(plan["plan_id"], day)
    update_progress_artifact(progress, 40.0)
    report = send_reminders(plan["plan_id"], day, now, force)
    update_progress_artifact(progress, 80.0)
    publish_status(snap, report)
    update_progress_artifact(progress, 100.0)
    if report.stopped:
        raise FuquanError(report.stopped)
    return {"rows": len(snap.rows), "due": report.due, "sent": sum(o.result == "sent" for o in report.outcomes)}


@flow(name="sync-plan", on_failure=[notify_failure])
def sync_plan(config: str = "config/tasks.yaml") -> str:
    """校验计划配置并载入数据库 (单一事务)。"""
    report = task(name="load-yaml-into-database", cache_policy=NO_CACHE)(jobs.sync)(config)
    create_markdown_artifact(f"# 计划同步\n\n{config}: {report.summary()}", key=f"fuquan-p{report.plan_id}-sync",
                             description="计划配置同步结果")
    return report.summary()


@flow(name="monthly-status", on_failure=[notify_failure], on_crashed=[notify_failure])
def monthly_status(today: str | None = None, year: int | None = None, district: str | None = None) -> dict[str, int]:
    """月度情况收集 (任务 14): 本月各镇月报报送情况和全部任务状态。"""
    plan = load_plan(year, district)
    day, _ = _today(plan, today)
    snap = evaluate_status(plan["plan_id"], day)
    month = [r for r in snap.rows if r.label == f"月报 {day:%Y-%m}"]
    table = [{"镇": r.unit, "月份": f"{day:%Y-%m}", "截止日期": r.judgement.due.isoformat() if r.judgement.due else "—",
              "状态": tables.DOT[r.judgement.colour],
              "报送日期": r.judgement.completed_on.isoformat() if r.judgement.completed_on else "未报送"} for r in month]
    create_table_artifact(table or [{"说明": "本月没有需要报送的月报"}], key=_key(snap, "monthly"),
                          description=f"{day:%Y年%m月} 各镇月报报送情况")
    publish_status(snap, None)
    return {"towns": len(month), "reported": sum(r.judgement.completed_on is not None for r in month)}


def _period_end(day: date, months: int) -> date:
    """The last day of the quarter (months=3) or year (months=12) that ended before `day`."""
    first_of_period = date(day.year, ((day.month - 1) // months) * months + 1, 1)
    return first_of_period - timedelta(days=1)


@flow(name="quarterly-analysis", on_failure=[notify_failure], on_crashed=[notify_failure])
def quarterly_analysis(today: str | None = None, year: int | None = None, district: str | None = None) -> str:
    """季度综合分析: 上一季度末各单位、各镇的完成情况与逾期。"""
    plan = load_plan(year, district)
    day, _ = _today(plan, today)
    end = _period_end(day, 3)
    snap = evaluate_status(plan["plan_id"], end)
    label = f"{end.year}年第{(end.month - 1) // 3 + 1}季度"
    create_table_artifact(tables.rollup_table(snap.by_unit, "单位"), key=_key(snap, "quarter-units"),
                          description=f"{label} 各单位完成情况 (截至 {end})")
    create_table_artifact(tables.rollup_table(snap.by_town, "镇"), key=_key(snap, "quarter-towns"),
                          description=f"{label} 各镇完成情况 (截至 {end})")
    return label


@flow(name="annual-evaluation", on_failure=[notify_failure], on_crashed=[notify_failure])
def annual_evaluation(today: str | None = None, year: int | None = None, district: str | None = None) -> str:
    """年度总结评估 (任务 15): 计划年度末各单位、各镇的完成率与逾期情况。"""
    plan = load_plan(year, district)
    day, _ = _today(plan, today)
    end = min(_period_end(day, 12), date(plan["year"], 12, 31)) if day.year > plan["year"] else day
    snap = evaluate_status(plan["plan_id"], end)
    create_table_artifact(tables.rollup_table(snap.by_unit, "单位"), key=_key(snap, "annual-units"),
                          description=f"{plan['year']} 年度各单位评估 (截至 {end})")
    create_table_artifact(tables.rollup_table(snap.by_town, "镇"), key=_key(snap, "annual-towns"),
                          description=f"{plan['year']} 年度各镇评估 (截至 {end})")
    return f"{plan['year']} 年度"


FLOWS: dict[str, Flow[..., Any]] = {"deadline-check": deadline_check, "sync-plan": sync_plan, "monthly-status": monthly_status,
         "quarterly-analysis": quarterly_analysis, "annual-evaluation": annual_evaluation}


def run_now(name: str, tag_list: list[str], **params: Any) -> Any:
    with tags(*tag_list):
        return FLOWS[name](**params)
