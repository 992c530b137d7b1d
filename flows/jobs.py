"""The steps every runner shares — Prefect flows, the APScheduler runner and `fuquan run` — as plain
functions that take ids and dates and return plain data (no sessions or clients cross a step).

    evaluate(plan_id, today)                 → Snapshot: task summaries, rows, the letter grid
    send_reminders(plan_id, today, now)      → RunReport (outbox, notifiers)
    publish tables (flows/tables.py)         → what the 专班 sees (artifacts or Markdown files)
"""

from __future__ import annotations

import os
from dataclasses import dataclass, field
from datetime import date, datetime
from pathlib import Path

from fuquan.errors import LookupFailed
from fuquan.judge import RollUp
from fuquan.ledger import Row
from fuquan.loader import load_plan
from fuquan.status import TaskSummary, rollups, summarise
from models.db import make_engine, reading, transaction
from models.ledger_io import plan_rows
from models.queries import LetterGrid, find_plan, letter_grid
from models.sync import SyncReport, sync_plan
from models.tables import PlanRow
from notifications.router import Router

from . import reporting, reporting_data
from .dispatch import RunReport, run_reminders


@dataclass
class Snapshot:
    plan_id: int
    district: str
    year: int
    today: date
    tasks: list[TaskSummary]
    rows: list[Row]
    by_unit: list[RollUp]
    by_town: list[RollUp]
    letters: LetterGrid | None
    warnings: list[str] = field(default_factory=list)


def plan_row(year: int | None = None, district: str | None = None) -> PlanRow:
    engine = make_engine()
    try:
        with reading(engine) as session:
            return find_plan(session, year=year, district=district)
    finally:
        engine.dispose()


def sync(config: str) -> SyncReport:
    plan = load_plan(config)
    text = Path(config).read_text(encoding="utf-8-sig")
    engine = make_engine()
    try:
        with transaction(engine) as session:
            return sync_plan(session, plan, source_text=text, by="fuquan (scheduled sync)")
    finally:
        engine.dispose()


def evaluate(plan_id: int, today: date) -> Snapshot:
    engine = make_engine()
    try:
        with reading(engine) as session:
            plan = session.get(PlanRow, plan_id)
            assert plan is not None
            rows, cal = plan_rows(session, plan, today)
            try:
                grid: LetterGrid | None = letter_grid(session, plan, today)
            except LookupFailed:
                grid = None  # this plan tracks no letters
    finally:
        engine.dispose()
    return Snapshot(plan_id, plan.district, plan.year, today, summarise(rows), rows, rollups(rows, "unit"),
                    rollups(rows, "town"), grid, cal.warnings)


def send_reminders(plan_id: int, today: date, now: datetime, *, force: bool = False) -> RunReport:
    notify_file = Path(os.environ.get("FUQUAN_NOTIFY_FILE") or Path("data") / "notifications.md")
    engine = make_engine()
    try:
        return run_reminders(engine, plan_id, today=today, now=now, router=Router(console_file=notify_file),
                             force=force)
    finally:
        engine.dispose()


def close_months(plan_id: int, today: date) -> list[str]:
    engine = make_engine()
    try:
        return reporting_data.close_months(engine, plan_id, today)
    finally:
        engine.dispose()


def build_report(plan_id: int, kind: str, period: str | None, today: date,
                 out: Path = Path("data") / "reports") -> tuple[reporting_data.ReportData, reporting.ReportFiles]:
    engine = make_engine()
    try:
        if kind == "monthly":
            data = reporting_data.monthly(engine, plan_id, period, today)
        else:
            data = reporting_data.analysis(engine, plan_id, kind, period, today)
    finally:
        engine.dispose()
    return data, reporting.write(data, out)


def send_summary(plan_id: int, data: reporting_data.ReportData, now: datetime) -> RunReport:
    notify_file = Path(os.environ.get("FUQUAN_NOTIFY_FILE") or Path("data") / "notifications.md")
    engine = make_engine()
    try:
        return reporting.send_summary(engine, plan_id, data, Router(console_file=notify_file), now)
    finally:
        engine.dispose()
