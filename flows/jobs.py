"""The steps every runner shares — Prefect flows, the APScheduler runner, `fuquan run` and the CLI's own
commands — as plain functions of the runtime context (flows/context.py). flows/registry.py strings them
into recipes.

    read_plan_file(config), sync(ctx, …)   → validate the YAML, then load it in one transaction
    evaluate(ctx, today)                   → Snapshot: task summaries, rows, the letter grid
    send_reminders(ctx, today, now)        → RunReport (outbox, notifiers)
    close_months(ctx, today)               → the months frozen now
    build_report(ctx, kind, period, today) → the report's data and files
    send_summary(ctx, data, now)           → RunReport (one message to the 专班 per report)
    backup(ctx, keep)                      → today's archive written (once) and old ones rotated out
"""

from __future__ import annotations

from datetime import date, datetime
from pathlib import Path

from fuquan.errors import PlanError
from fuquan.plans.loader import load_plan
from fuquan.plans.plan import Plan
from fuquan.plans.plan_roll import due_before_year
from fuquan.plans.plan_text import review_marks
from models.db import reading, transaction
from models.sync import SyncReport, sync_plan
from reports import gather, render
from reports.status import Sent, Snapshot, snapshot
from usecases import slips
from usecases.context import Context
from usecases.daily_backup import Kept, daily_backup
from usecases.slips import Slip

from .dispatch import RunReport, run_reminders, send_to_zhuanban


def read_plan_file(config: Path) -> tuple[Plan, str]:
    """The plan file validated, and its text: done before the database is even opened, so that a bad file
    changes nothing (not even creates the database)."""
    try:
        plan = load_plan(config)  # (a missing or unreadable file: its own clear error)
    except PlanError as e:  # with every 待核对 a draft still carries, so one run shows all that is left
        try:
            marks = review_marks(config.read_text(encoding="utf-8-sig"), str(config))
        except (OSError, UnicodeDecodeError):
            marks = []  # the loader's own problem says why
        raise PlanError(e.problems + marks) from None
    text = config.read_text(encoding="utf-8-sig")
    if stale := due_before_year(plan, text):  # a plan copied from last year with a date left behind
        raise PlanError(stale)
    if marks := review_marks(text, str(config)):  # a draft from a notice nobody has checked yet
        raise PlanError(marks)
    return plan, text


def sync(ctx: Context, plan: Plan, text: str, by: str) -> SyncReport:
    with transaction(ctx.engine) as session:
        return sync_plan(session, plan, source_text=text, by=by)


def evaluate(ctx: Context, today: date) -> Snapshot:
    with reading(ctx.engine) as session:
        return snapshot(session, ctx.plan, today)


def send_reminders(ctx: Context, today: date, now: datetime, *, force: bool = False) -> RunReport:
    return run_reminders(ctx, today=today, now=now, force=force)


def close_months(ctx: Context, today: date) -> list[str]:
    return gather.close_months(ctx.engine, ctx.plan, today)


def build_report(ctx: Context, kind: str, period: str | None, today: date,
                 out: Path | None = None) -> tuple[gather.ReportData, render.ReportFiles]:
    if kind == "monthly":
        data = gather.monthly(ctx.engine, ctx.plan, period, today)
    else:
        data = gather.analysis(ctx.engine, ctx.plan, kind, period, today)
    return data, render.write(data, out or ctx.reports_dir)


def send_summary(ctx: Context, data: gather.ReportData, now: datetime) -> RunReport:
    """Queue the summary under a key unique to this report, then deliver it; a re-run sends nothing."""
    report = RunReport(data.as_of, f"report:{data.kind}:{data.period}")
    key = f"summary|{data.kind}|{data.period}|{'provisional' if data.provisional else 'final'}"
    send_to_zhuanban(ctx, report, now, kind="summary", keys=[key], message=lambda _fresh: render.summary(data))
    return report


def sent(report: RunReport) -> list[Sent]:
    """A reminder run as the 专班's "what was sent to whom" table shows it."""
    return [Sent(o.recipient, o.destination, o.result, o.code) for o in report.outcomes]


def daily_slips(ctx: Context, now: datetime) -> list[Slip]:
    """督办单 of the daily run, when the plan's `reminders: slips: daily` asks (off by default)."""
    return slips.daily_slips(ctx, now=now)


def backup(ctx: Context, keep: int) -> Kept:
    """The whole installation (every plan in the database), not only the context's plan."""
    return daily_backup(ctx.settings, day=ctx.today(), keep=keep, clock=ctx.clock, say=lambda _line: None)
