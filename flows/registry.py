"""Every flow's recipe, once, for both runners: Prefect (flows/prefect_flows.py: each step a task, results
as artifacts) and APScheduler (flows/scheduler.py: steps called directly, results as files and log lines).

A recipe is a thin list of steps from flows/jobs.py. What differs between the runners — how a step is run,
where the status and reports are shown — is the Runner they pass in.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import date, datetime
from pathlib import Path
from typing import Any, Protocol, TypeVar

from fuquan.errors import FuquanError
from fuquan.policy import FLOWS
from fuquan.workdays import WorkCalendar

from . import jobs
from .context import Context
from .dispatch import RunReport
from .jobs import Snapshot

T = TypeVar("T")
REPORT_KIND = {"monthly-status": "monthly", "quarterly-analysis": "quarterly", "annual-evaluation": "annual"}


class Runner(Protocol):
    def step(self, name: str, fn: Callable[[], T], *, network: bool = False) -> T:
        """Run one step (a Prefect task, or a plain call); `network` steps get retries and a timeout."""
        ...

    def progress(self, percent: float) -> None: ...

    def publish_status(self, snap: Snapshot, report: RunReport) -> None: ...

    def publish_report(self, data: Any, files: Any) -> None: ...

    def log(self, message: str) -> None: ...


@dataclass(frozen=True)
class Options:
    """What a run of any flow may be told; each recipe reads what it needs."""

    today: date | None = None  # None: the plan's today by the clock
    period: str | None = None
    force: bool = False
    config: Path | None = None
    scheduled: bool = False  # a tick of a schedule (workdays_only applies), not a run asked for by hand


def _today(ctx: Context, opts: Options) -> tuple[date, datetime]:
    now = ctx.now()
    return opts.today or now.date(), now


def deadline_check(r: Runner, ctx: Context, opts: Options) -> dict[str, int]:
    day, now = _today(ctx, opts)
    snap = r.step("evaluate-status", lambda: jobs.evaluate(ctx, day))
    for warning in snap.warnings:
        r.log(warning)
    # On a 月报 due date the month closes: as of the real date (the clock), whatever day was asked for.
    r.step("close-months", lambda: jobs.close_months(ctx, ctx.today()))
    r.progress(40)
    report = r.step("send-reminders", lambda: jobs.send_reminders(ctx, day, now, force=opts.force), network=True)
    r.progress(80)
    r.step("publish-status", lambda: r.publish_status(snap, report))
    r.progress(100)
    sent = sum(o.result == "sent" for o in report.outcomes)
    r.log(f"{day}: 到期提醒 {report.due} 条, 本次发送 {sent} 条")
    if report.stopped:
        raise FuquanError(report.stopped)
    return {"rows": len(snap.rows), "due": report.due, "sent": sent}


def report_run(kind: str) -> Callable[[Runner, Context, Options], str]:
    def recipe(r: Runner, ctx: Context, opts: Options) -> str:
        day, now = _today(ctx, opts)
        data, files = r.step("build-report", lambda: jobs.build_report(ctx, kind, opts.period, day))
        r.step("publish-report", lambda: r.publish_report(data, files))
        r.step("send-summary", lambda: jobs.send_summary(ctx, data, now), network=True)
        r.log(f"{data.title}: {files.markdown}")
        return f"{data.title}{' (未关账)' if data.provisional else ''}"

    return recipe


def sync_plan(r: Runner, ctx: Context, opts: Options) -> str:
    config = opts.config or ctx.settings.config
    plan, text = r.step("check-plan-file", lambda: jobs.read_plan_file(config))
    report = r.step("load-yaml-into-database", lambda: jobs.sync(ctx, plan, text, "fuquan (sync-plan)"))
    r.log(f"{config}: {plan.district} {plan.year} 年度 {report.summary()}")
    return report.summary()


RECIPES: dict[str, Callable[[Runner, Context, Options], Any]] = {
    "sync-plan": sync_plan, "deadline-check": deadline_check,
    **{name: report_run(kind) for name, kind in REPORT_KIND.items()},
}
assert set(RECIPES) == set(FLOWS), "every flow of fuquan.policy.FLOWS has a recipe"


def run(name: str, r: Runner, ctx: Context, opts: Options) -> Any:
    """Run flow `name` for the context's plan. A scheduled tick of a `workdays_only` schedule does nothing on
    a day off (China's calendar, 调休 included)."""
    if opts.scheduled and name != "sync-plan":
        schedule = next((s for s in ctx.plan.plan.schedules if s.name == name), None)
        day = opts.today or ctx.today()
        if schedule and schedule.workdays_only and not WorkCalendar(ctx.plan.plan.calendar).is_workday(day):
            r.log(f"{day} 不是工作日, {name} 按计划只在工作日运行, 本次跳过")
            return f"{day} 不是工作日, 跳过"
    return RECIPES[name](r, ctx, opts)
