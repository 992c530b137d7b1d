"""Prefect flows: the recipes of flows/registry.py, each step a Prefect task (never one per row).

What the 专班 sees is Chinese: runs are named by what and which day ("每日检查 2023-04-28"), steps by what they
do ("发送提醒"), and each step logs its outcome in words. Artifacts have stable keys (fuquan-p<plan>-<year>…:
lowercase, digits and dashes), so every run adds a version; their content and descriptions are Chinese, and
every table is Markdown (all rows on one page, at most 7 columns). The 今日督办 board (reports/board.py) has the
plan's bare key and is the board itself in both its content and its description (the V2 UI's page for a key
shows the latest description, so that page is always today's board). Only network steps (sending) have
retries and a timeout. No token is ever a parameter: each flow run builds its context from its own environment.
"""

from __future__ import annotations

import warnings
from collections.abc import Callable
from datetime import date, datetime
from pathlib import Path
from typing import Any, TypeVar
from uuid import UUID

from prefect import Flow, flow, get_run_logger, task
from prefect.artifacts import create_markdown_artifact
from prefect.cache_policies import NO_CACHE
from prefect.context import FlowRunContext
from prefect.settings import PREFECT_API_URL

from fuquan.plans.policy import FLOWS
from fuquan.tracking.judge import RED
from models.db import reading
from reports import board, render, status
from usecases.context import Context, open_context

from . import registry
from .dispatch import RunReport
from .failure import notify_failure
from .jobs import Snapshot
from .prefect_env import artifact_path, board_key, board_path, site_url
from .registry import STEPS, TITLES, Options

T = TypeVar("T")


class PrefectRunner:
    def __init__(self, ctx: Context, what: str) -> None:
        self.ctx, self.what = ctx, what
        p = ctx.stored  # none yet for a sync
        self.prefix = board_key(p.id, p.plan.year) if p else "fuquan"

    def step(self, name: str, fn: Callable[[], T], *, network: bool = False) -> T:
        options: dict[str, Any] = {"retries": 2, "retry_delay_seconds": 60, "timeout_seconds": 900} if network else {}
        return task(name=STEPS[name], task_run_name=STEPS[name], cache_policy=NO_CACHE, **options)(fn)()

    def log(self, message: str) -> None:
        get_run_logger().info(message)

    def publish_status(self, snap: Snapshot, report: RunReport) -> None:
        with reading(self.ctx.engine) as session:
            sent = status.sent_on(session, snap.plan_id, snap.today)
        late = any(r.judgement.colour == RED for r in snap.rows)
        of = f"{snap.district} {snap.year} 年度, 截至 {snap.today}"
        details = [
            ("各任务状态", "status", status.status_markdown_table(snap)),
            ("逾期清单 (按单位)", "overdue", status.markdown_table(status.overdue_rows(snap)) if late else "无逾期事项。"),
            (f"按{snap.words.towns}和单位", "rollups", board.rollup_tables(snap)),
            ("承接确认书", "letters", status.letters_markdown(snap)),
            ("今日提醒记录", "sent", status.markdown_table(status.sent_rows(sent)) if sent else "今天没有发送提醒。"),
        ]
        links = [(label, artifact_path(self._publish(f"{self.prefix}-{what}", text, f"{label} · {of}")))
                 for label, what, text in details]
        s = self.ctx.settings
        web = f"{s.web_url.rstrip('/')}/office/board" if s.link_secret is not None else None
        text = board.markdown(snap, sent, report.stopped or report.skipped, links, web)
        self._publish(self.prefix, text, text)
        if api := PREFECT_API_URL.value():
            self.log(f"今日督办: {site_url(api)}{board_path(snap.plan_id, snap.year)}")

    def publish_report(self, data: Any, files: Any) -> None:
        what = {"monthly": "monthly", "quarterly": "quarter", "annual": "annual"}[data.kind]
        self._publish(f"{self.prefix}-{what}-report", files.markdown.read_text(encoding="utf-8"),
                      f"{data.title} (Markdown 通报; Excel 与图表在 {files.excel.parent})")
        self._publish(f"{self.prefix}-{what}-scores", status.scores_markdown(render.score_table(data)),
                      f"{data.title}: 各单位得分与失分原因")

    @staticmethod
    def _publish(key: str, markdown: str, description: str) -> UUID:
        return create_markdown_artifact(markdown, key=key, description=description)  # type: ignore[return-value]


def _day(parameters: dict[str, Any], started: datetime | None) -> str:
    """The day a run is about, for its name: the day asked for, else the day it was due to start (local time)."""
    return str(parameters.get("period") or parameters.get("today")
               or f"{(started or datetime.now()).astimezone():%Y-%m-%d}")


def _run_name(name: str) -> Callable[[], str]:
    def named() -> str:
        ctx = FlowRunContext.get()
        run = ctx.flow_run if ctx else None
        return f"{TITLES[name]} {_day((ctx.parameters if ctx else None) or {}, run.expected_start_time if run else None)}"

    return named


def _rename(name: str, day: date, period: str | None) -> None:
    """The plan's own day (its time zone, not the machine's) once the plan is known, if the name said another."""
    ctx = FlowRunContext.get()
    wanted = f"{TITLES[name]} {period or day}"
    if ctx and ctx.flow_run and ctx.flow_run.name != wanted:
        ctx.client.set_flow_run_name(ctx.flow_run.id, wanted)
        ctx.flow_run.name = wanted


def _scheduled() -> bool:
    """Whether this run was created by Prefect's scheduler (a schedule's tick) rather than asked for by hand."""
    ctx = FlowRunContext.get()
    return bool(ctx and ctx.flow_run and ctx.flow_run.auto_scheduled)


def _run(name: str, *, today: str | None, year: int | None, district: str | None, period: str | None, force: bool,
         config: str | None, now: str | None = None) -> Any:
    opts = Options(today=date.fromisoformat(today) if today else None, period=period, force=force,
                   config=Path(config) if config else None, scheduled=_scheduled(),
                   now=datetime.fromisoformat(now) if now else None)
    with open_context() as ctx:
        if name != "sync-plan":  # a sync reads its plan from the file, not the database
            ctx = ctx.choose(year, district)
            _rename(name, opts.today or ctx.today(), period)
        return registry.run(name, PrefectRunner(ctx, name), ctx, opts)


def _make(name: str) -> Flow[..., Any]:
    def run(today: str | None = None, year: int | None = None, district: str | None = None,
            period: str | None = None, force: bool = False, config: str | None = None, now: str | None = None) -> Any:
        # `now`: a replay's moment (ISO, with its zone), so quiet hours are judged at it, not at the wall clock
        return _run(name, today=today, year=year, district=district, period=period, force=force, config=config,
                    now=now)

    run.__name__ = run.__qualname__ = name.replace("-", "_")
    return flow(name=name, description=f"{TITLES[name]}: {FLOWS[name]}", flow_run_name=_run_name(name),
                on_failure=[notify_failure], on_crashed=[notify_failure])(run)


# One Prefect flow per entry of fuquan.plans.policy.FLOWS, each also a module attribute (deploy's entrypoints
# name them: flows/prefect_flows.py:deadline_check).
PREFECT_FLOWS: dict[str, Flow[..., Any]] = {name: _make(name) for name in FLOWS}
globals().update({f.fn.__name__: f for f in PREFECT_FLOWS.values()})


class _Quiet(PrefectRunner):
    def log(self, message: str) -> None:
        pass  # (no flow run to log to)


def publish_board(ctx: Context) -> None:
    """Today's 今日督办 board, published when the schedules are served: the address `fuquan serve` prints works from
    minute one, not only after the first daily check (09:00 on a working day)."""
    from . import jobs

    snap = jobs.evaluate(ctx, ctx.today())
    runner = _Quiet(ctx, "serve")
    with warnings.catch_warnings():
        # Prefect 3.8 deprecates artifacts made outside a run (still supported); revisit when the pin moves
        warnings.filterwarnings("ignore", "Artifact creation outside", FutureWarning)
        runner.publish_status(snap, RunReport(snap.today, "serve"))
