"""Prefect flows: the recipes of flows/registry.py, each step a Prefect task (never one per row).

Artifacts have stable keys (fuquan-p<plan>-<year>-<what>: lowercase, digits and dashes), so every run adds a
version the 专班 can page through; their content is Chinese. Only network steps (sending) have retries and
a timeout. No token is ever a parameter: each flow run builds its context from its own environment.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import date
from pathlib import Path
from typing import Any, TypeVar, cast
from uuid import UUID

from prefect import Flow, flow, get_run_logger, task
from prefect.artifacts import (
    create_markdown_artifact,
    create_progress_artifact,
    create_table_artifact,
    update_progress_artifact,
)
from prefect.cache_policies import NO_CACHE
from prefect.context import FlowRunContext

from fuquan.policy import FLOWS
from reports import render, status

from . import jobs, registry
from .context import Context, open_context
from .dispatch import RunReport
from .failure import notify_failure
from .jobs import Snapshot
from .registry import Options

T = TypeVar("T")


class PrefectRunner:
    def __init__(self, ctx: Context, what: str) -> None:
        self.ctx, self.what = ctx, what
        p = ctx.stored  # none yet for a sync
        self.prefix = f"fuquan-p{p.id}-{p.plan.year}" if p else "fuquan"
        self.bar: UUID | None = None

    def step(self, name: str, fn: Callable[[], T], *, network: bool = False) -> T:
        options: dict[str, Any] = {"retries": 2, "retry_delay_seconds": 60, "timeout_seconds": 900} if network else {}
        return task(name=name, cache_policy=NO_CACHE, **options)(fn)()

    def progress(self, percent: float) -> None:
        if self.bar is None:
            self.bar = cast(UUID, create_progress_artifact(0.0, key=f"{self.prefix}-progress",
                                                           description=f"{self.ctx.plan.label} {self.what} 进度"))
        update_progress_artifact(self.bar, percent)

    def log(self, message: str) -> None:
        get_run_logger().info(message)

    def publish_status(self, snap: Snapshot, report: RunReport) -> None:
        key = self.prefix
        create_table_artifact(status.status_table(snap), key=f"{key}-status",
                              description=f"{snap.district} {snap.year} 年度各任务状态 (截至 {snap.today})")
        create_table_artifact(status.overdue_table(snap.rows) or [{"说明": "无逾期事项"}], key=f"{key}-overdue",
                              description=f"逾期清单: 单位、任务、逾期工作日 (截至 {snap.today})")
        create_markdown_artifact(status.letters_markdown(snap), key=f"{key}-letters",
                                 description=f"承接确认书 部门×{snap.words.towns} 签订表")
        sent = status.sent_table(jobs.sent(report)) or [{"说明": report.skipped or "今天没有需要发送的提醒"}]
        create_table_artifact(sent, key=f"{key}-sent", description=f"{snap.today} 提醒发给了谁")

    def publish_report(self, data: Any, files: Any) -> None:
        what = {"monthly": "monthly", "quarterly": "quarter", "annual": "annual"}[data.kind]
        create_markdown_artifact(files.markdown.read_text(encoding="utf-8"), key=f"{self.prefix}-{what}-report",
                                 description=f"{data.title} (Markdown 通报; Excel 与图表: {files.excel.parent})")
        create_table_artifact(render.score_table(data) or [{"说明": "本期没有到期事项"}], key=f"{self.prefix}-{what}-scores",
                              description=f"{data.title}: 各单位得分与失分原因")


def _scheduled() -> bool:
    """Whether this run was created by Prefect's scheduler (a schedule's tick) rather than asked for by hand."""
    ctx = FlowRunContext.get()
    return bool(ctx and ctx.flow_run and ctx.flow_run.auto_scheduled)


def _run(name: str, today: str | None, year: int | None, district: str | None, period: str | None, force: bool,
         config: str | None) -> Any:
    opts = Options(date.fromisoformat(today) if today else None, period, force, Path(config) if config else None,
                   _scheduled())
    with open_context() as ctx:
        if name != "sync-plan":  # a sync reads its plan from the file, not the database
            ctx = ctx.choose(year, district)
        return registry.run(name, PrefectRunner(ctx, name), ctx, opts)


def _make(name: str) -> Flow[..., Any]:
    def run(today: str | None = None, year: int | None = None, district: str | None = None,
            period: str | None = None, force: bool = False, config: str | None = None) -> Any:
        return _run(name, today, year, district, period, force, config)

    run.__name__ = run.__qualname__ = name.replace("-", "_")
    return flow(name=name, description=FLOWS[name], on_failure=[notify_failure],
                on_crashed=[notify_failure])(run)


# One Prefect flow per entry of fuquan.policy.FLOWS, each also a module attribute (deploy's entrypoints
# name them: flows/prefect_flows.py:deadline_check).
PREFECT_FLOWS: dict[str, Flow[..., Any]] = {name: _make(name) for name in FLOWS}
globals().update({f.fn.__name__: f for f in PREFECT_FLOWS.values()})
