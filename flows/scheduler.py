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
The job itself is a module-level function referenced by name (the job store pickles the reference,
not code); what is due is computed from the database when it runs. One scheduler per job store.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from datetime import datetime
from zoneinfo import ZoneInfo

from apscheduler.executors.pool import ThreadPoolExecutor
from apscheduler.jobstores.sqlalchemy import SQLAlchemyJobStore
from apscheduler.schedulers.background import BackgroundScheduler
from apscheduler.schedulers.base import BaseScheduler
from apscheduler.triggers.cron import CronTrigger

from fuquan.policy import Schedule

log = logging.getLogger("fuquan.scheduler")
JOB_TABLE = "apscheduler_jobs"


def build(db_url: str, timezone: str, cls: type[BaseScheduler] = BackgroundScheduler) -> BaseScheduler:
    return cls(jobstores={"default": SQLAlchemyJobStore(url=db_url, tablename=JOB_TABLE)},
               executors={"default": ThreadPoolExecutor(4)},
               job_defaults={"coalesce": True, "max_instances": 1, "misfire_grace_time": None},
               timezone=ZoneInfo(timezone))


def install(scheduler: BaseScheduler, schedules: list[Schedule], timezone: str,
            func: str = "flows.scheduler:run_scheduled") -> list[str]:
    """Make the job store hold exactly these schedules; call between start(paused=True) and resume().
    Returns what changed, for the log."""
    changes = []
    wanted = {s.name: CronTrigger.from_crontab(s.cron, timezone=ZoneInfo(timezone)) for s in schedules}
    for job in scheduler.get_jobs():
        if job.id not in wanted:
            scheduler.remove_job(job.id)
            changes.append(f"删除 {job.id}")
    for name, trigger in wanted.items():
        job = scheduler.get_job(name)
        if job is not None and str(job.trigger) == str(trigger) and job.func_ref == func:
            continue  # unchanged: keep its next run time, so a missed run is caught up
        scheduler.add_job(func, trigger, id=name, name=name, args=[name], replace_existing=True)
        changes.append(f"{'更新' if job else '新增'} {name}")
    return changes


def next_runs(scheduler: BaseScheduler) -> dict[str, datetime | None]:
    return {job.id: job.next_run_time for job in scheduler.get_jobs()}


def run_scheduled(name: str, *, clock: Callable[[], datetime] | None = None) -> None:
    """What a scheduled tick does: the plain job behind the flow of that name (no Prefect server)."""
    from pathlib import Path

    from . import jobs, tables

    plan = jobs.plan_row()
    now = (clock or (lambda: datetime.now(ZoneInfo(plan.timezone))))()
    today = now.date()
    if name == "deadline-check":
        snap = jobs.evaluate(plan.id or 0, today)
        jobs.close_months(plan.id or 0, today)
        report = jobs.send_reminders(plan.id or 0, today, now)
        out = Path("data") / "reports" / f"status-{today}.md"
        out.parent.mkdir(parents=True, exist_ok=True)
        out.write_text(tables.status_markdown(snap, report), encoding="utf-8")
        log.info("deadline-check %s: %d reminders due, report %s", today, report.due, out)
    else:
        kind = {"monthly-status": "monthly", "quarterly-analysis": "quarterly", "annual-evaluation": "annual"}[name]
        jobs.close_months(plan.id or 0, today)
        data, files = jobs.build_report(plan.id or 0, kind, None, today)
        jobs.send_summary(plan.id or 0, data, now)
        log.info("%s %s: %s", name, today, files.markdown)
