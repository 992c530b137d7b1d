"""Prefect flows: thin recipes over flows/jobs.py, one task per step (never one per row).

Artifacts have stable keys (fuquan-p<plan>-<year>-<what>: lowercase, digits and dashes), so every
run adds a version the 专班 can page through; their content is Chinese. Only `send-reminders`
touches the network: it alone has retries and a timeout. No token is ever a parameter.
"""

from __future__ import annotations

from datetime import date, datetime
from typing import Any, cast
from uuid import UUID
from zoneinfo import ZoneInfo

from prefect import Flow, flow, get_run_logger, task
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
from .reporting import ReportFiles
from .reporting_data import ReportData


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
    close_months(plan["plan_id"], day)  # on a 月报 due date the month closes and is frozen
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


@task(name="close-months", cache_policy=NO_CACHE)
def close_months(plan_id: int, today: date) -> list[str]:
    return jobs.close_months(plan_id, today)


@task(name="build-report", cache_policy=NO_CACHE)
def build_report(plan_id: int, kind: str, period: str | None, today: date) -> tuple[ReportData, ReportFiles]:
    return jobs.build_report(plan_id, kind, period, today)


@task(name="send-summary", retries=2, retry_delay_seconds=60, timeout_seconds=300, cache_policy=NO_CACHE)
def send_summary(plan_id: int, data: ReportData, now: datetime) -> int:
    return len(jobs.send_summary(plan_id, data, now).outcomes)


@task(name="publish-report", cache_policy=NO_CACHE)
def publish_report(plan: dict[str, Any], data: ReportData, files: ReportFiles) -> None:
    what = {"monthly": "monthly", "quarterly": "quarter", "annual": "annual"}[data.kind]
    create_markdown_artifact(files.markdown.read_text(encoding="utf-8"), key=_key(plan, f"{what}-report"),
                             description=f"{data.title} (Markdown 通报; Excel 与图表: {files.excel.parent})")
    create_table_artifact(tables.score_table(data) or [{"说明": "本期没有到期事项"}], key=_key(plan, f"{what}-scores"),
                          description=f"{data.title}: 各单位得分与失分原因")


def _report_flow(kind: str, today: str | None, period: str | None, year: int | None, district: str | None) -> str:
    plan = load_plan(year, district)
    day, now = _today(plan, today)
    close_months(plan["plan_id"], day)
    data, files = build_report(plan["plan_id"], kind, period, day)
    publish_report(plan, data, files)
    send_summary(plan["plan_id"], data, now)
    return f"{data.title}{' (未关账)' if data.provisional else ''}"


@flow(name="monthly-status", on_failure=[notify_failure], on_crashed=[notify_failure])
def monthly_status(today: str | None = None, period: str | None = None, year: int | None = None,
                   district: str | None = None) -> str:
    """月度情况收集 (任务 14): 关账冻结、未报送的镇、与上月相比的变化, 生成通报、Excel 和图表。"""
    return _report_flow("monthly", today, period, year, district)


@flow(name="quarterly-analysis", on_failure=[notify_failure], on_crashed=[notify_failure])
def quarterly_analysis(today: str | None = None, period: str | None = None, year: int | None = None,
                       district: str | None = None) -> str:
    """季度综合分析: 上一季度各单位、各镇的按时率、逾期和得分。"""
    return _report_flow("quarterly", today, period, year, district)


@flow(name="annual-evaluation", on_failure=[notify_failure], on_crashed=[notify_failure])
def annual_evaluation(today: str | None = None, period: str | None = None, year: int | None = None,
                      district: str | None = None) -> str:
    """年度总结评估 (任务 15): 各镇得分排名与失分原因。"""
    return _report_flow("annual", today, period, year, district)


FLOWS: dict[str, Flow[..., Any]] = {"deadline-check": deadline_check, "sync-plan": sync_plan, "monthly-status": monthly_status,
         "quarterly-analysis": quarterly_analysis, "annual-evaluation": annual_evaluation}
