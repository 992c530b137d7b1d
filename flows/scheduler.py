"""The same schedules without a Prefect server: APScheduler 3 with its job store in the tracker's
database.

Choices, each for a measured APScheduler default that would bite:
  coalesce=True, misfire_grace_time=None
      a run missed while the machine was down happens once when it comes back (the default grace of
      1 s silently dropped it; without coalescing, every missed day would run in a burst)
  max_instances=1
      never two runs of one job at once
  fixed job ids, added only when missing or changed
      `add_job` without an id duplicates the job at every start; `replace_existing` on an unchanged
      job would reset its next run time and lose the missed run
The job itself is a module-level function referenced by name, with the flow's name and the plan's
(district, year) as arguments (the job store pickles the reference, not code); what is due is computed
from the database when it runs, through the same recipes as the Prefect flows (flows/registry.py). One
scheduler per job store.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from datetime import datetime
from typing import Any, TypeVar
from zoneinfo import ZoneInfo

from apscheduler.executors.pool import ThreadPoolExecutor
from apscheduler.jobstores.sqlalchemy import SQLAlchemyJobStore
from apscheduler.schedulers.background import BackgroundScheduler
from apscheduler.schedulers.base import BaseScheduler
from apscheduler.triggers.cron import CronTrigger

from fuquan.plans.policy import Schedule
from reports import status
from reports.files import write_text
from usecases.context import Clock, Context, open_context

from . import jobs, registry
from .dispatch import RunReport
from .jobs import Snapshot

log = logging.getLogger("fuquan.scheduler")
JOB_TABLE = "apscheduler_jobs"
T = TypeVar("T")


def build(db_url: str, timezone: str, cls: type[BaseScheduler] = BackgroundScheduler) -> BaseScheduler:
    return cls(jobstores={"default": SQLAlchemyJobStore(url=db_url, tablename=JOB_TABLE)},
               executors={"default": ThreadPoolExecutor(4)},
               job_defaults={"coalesce": True, "max_instances": 1, "misfire_grace_time": None},
               timezone=ZoneInfo(timezone))


def install(scheduler: BaseScheduler, schedules: list[Schedule], timezone: str, plan: tuple[str, int],
            func: str = "flows.scheduler:run_scheduled") -> list[str]:
    """Make the job store hold exactly these schedules of `plan` (district, year); call between
    start(paused=True) and resume(). Returns what changed, for the log."""
    changes = []
    wanted = {s.name: crontab_trigger(s.cron, timezone) for s in schedules}
    for job in scheduler.get_jobs():
        if job.id not in wanted:
            scheduler.remove_job(job.id)
            changes.append(f"删除 {job.id}")
    for name, trigger in wanted.items():
        job = scheduler.get_job(name)
        args = [name, *plan]
        if job is not None and str(job.trigger) == str(trigger) and job.func_ref == func and list(job.args) == args:
            continue  # unchanged: keep its next run time, so a missed run is caught up
        scheduler.add_job(func, trigger, id=name, name=name, args=args, replace_existing=True)
        changes.append(f"{'更新' if job else '新增'} {name}")
    return changes


_DOW = ("sun", "mon", "tue", "wed", "thu", "fri", "sat", "sun")


def crontab_trigger(cron: str, timezone: str) -> CronTrigger:
    """The cron expression as crontab means it. APScheduler 3 reads a numeric day of week as 0 = Monday
    (crontab, Prefect and the plan file: 0 or 7 = Sunday), so numbers in that field become names first."""
    fields = cron.split()

    def days(item: str) -> list[str]:
        base, _, step = item.partition("/")
        if base == "*" and not step:
            return ["*"]
        lo, _, hi = ("0-6" if base == "*" else base).partition("-")
        first = int(lo) if lo.isdigit() else _DOW.index(lo)
        last = (int(hi) if hi.isdigit() else _DOW.index(hi)) if hi else (6 if step else first)
        return [_DOW[d] for d in range(first, last + 1, int(step or 1))]

    if fields[4] != "*":
        fields[4] = ",".join(dict.fromkeys(d for item in fields[4].lower().split(",") for d in days(item)))
    return CronTrigger.from_crontab(" ".join(fields), timezone=ZoneInfo(timezone))


def next_runs(scheduler: BaseScheduler) -> dict[str, datetime | None]:
    return {job.id: job.next_run_time for job in scheduler.get_jobs()}


class PlainRunner:
    """The Runner of a tick without Prefect: steps are plain calls, the status goes to a Markdown file under
    the data folder, everything else to the log."""

    def __init__(self, ctx: Context) -> None:
        self.ctx = ctx

    def step(self, name: str, fn: Callable[[], T], *, network: bool = False) -> T:
        return fn()

    def log(self, message: str) -> None:
        log.info(message)

    def publish_status(self, snap: Snapshot, report: RunReport) -> None:
        out = self.ctx.reports_dir / f"status-{snap.today}.md"
        write_text(out, status.status_markdown(snap, jobs.sent(report), report.skipped))
        log.info("%s: %s", snap.today, out)

    def publish_report(self, data: Any, files: Any) -> None:
        pass  # the files are written; the summary goes to the 专班 as its own step


def run_scheduled(name: str, district: str, year: int, *, clock: Clock | None = None) -> Any:
    """What a scheduled tick does: the recipe of that flow for the plan (district, year), no Prefect server."""
    with open_context(clock=clock) as ctx:
        ctx = ctx.choose(year, district)
        return registry.run(name, PlainRunner(ctx), ctx, registry.Options(scheduled=True))
