"""Gathering what a report needs, and closing months. Plain Python shared by `fuquan report` and
the monthly-status / quarterly-analysis / annual-evaluation flows.

A month closes on its 月报 due date (task 14: the 20th). Closing freezes a snapshot as of that day; the first
close wins and later runs read it back unchanged. Only the daily run closes months, as of the real date
(flows/registry.py): never a report, and never a `--today` given by hand — a month frozen before its day
had come would list a town that then reports on time as missing, for ever. A report of a month not yet
closed is a preview: it is gathered like the real one, marked as such, and writes nothing. A month is compared
with last month's snapshot or, when the daily run never closed last month, with last month computed as of its
close day (the same `freeze`, not stored; the 通报 says so).
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from datetime import date, timedelta
from typing import Any

from dateutil.relativedelta import relativedelta
from sqlalchemy.engine import Engine
from sqlmodel import Session

from fuquan.dates.deadline import Deadline
from fuquan.dates.deadline_model import has_monthly, report_months
from fuquan.errors import FuquanError, InvalidValue, LookupFailed
from fuquan.plans.plan import Task, Words
from fuquan.plans.policy import Weights
from fuquan.tracking import progress
from fuquan.tracking.judge import FINISHED, ONGOING, PENDING
from fuquan.tracking.ledger import Row
from fuquan.tracking.scores import Adjustment, Diff, Score, adjust, freeze, month_diff, score_units
from fuquan.tracking.status import TaskSummary, summarise
from models.db import reading, transaction
from models.ledger_io import Ledger, load_ledger
from models.queries import LetterGrid, exam_table, letter_grid, monthly_figures, training_table
from models.scoring import adjustments
from models.snapshots import get_snapshot, save_snapshot
from models.stored import StoredPlan


@dataclass
class ReportData:
    kind: str  # monthly | quarterly | annual
    title: str
    period: str
    district: str
    year: int
    as_of: date
    provisional: bool
    tasks: list[TaskSummary]
    rows: list[Row]
    letters: LetterGrid | None
    training: list[dict[str, Any]]
    exams: list[dict[str, Any]]
    reports: list[dict[str, Any]]
    figure_names: tuple[str, ...]
    words: Words
    scores: list[Score]
    weights: Weights
    scored_from: date | None = None  # the scores count the items due from this day to `as_of`
    # month ends, then as_of → task → % done of what had fallen due (None: nothing had yet)
    history: list[tuple[date, dict[int, float | None]]] = field(default_factory=list)
    snapshot: dict[str, Any] | None = None
    diff: Diff | None = None
    unscored: list[Adjustment] = field(default_factory=list)  # adjustments of units with nothing due in the period


def _report_task(sp: StoredPlan) -> Task | None:
    """The task tracked by 月报 (task 14 in the 2023 plan): its deadline has monthly parts."""
    return next((t for t in sp.plan.tasks if t.track.monthly_reports and has_monthly(t.deadline)), None)


def close_day(deadline: Deadline, period: str, covers: str = "当月") -> date:
    """The day month `period` closes: the due date of the 月报 that covers it (that month's, or — when a report
    covers the month before — the next month's), else the month's last day."""
    year = int(period[:4])
    due = dict(report_months(deadline, date(year, 1, 1), year, covers)).get(period)
    return due or date.fromisoformat(f"{period}-01") + relativedelta(months=1, days=-1)


def _common(session: Session, sp: StoredPlan, ledger: Ledger, as_of: date) -> dict[str, Any]:
    rows = ledger.rows(as_of, sp.plan.work_calendar())
    try:
        grid: LetterGrid | None = letter_grid(session, sp, as_of)
    except LookupFailed:
        grid = None
    p = sp.plan
    return {"rows": rows, "tasks": summarise(rows), "letters": grid, "training": training_table(session, sp),
            "exams": exam_table(session, sp), "reports": monthly_figures(session, sp),
            "figure_names": p.report_figures, "weights": p.weights, "district": p.district, "year": p.year,
            "words": p.words}


def _history(sp: StoredPlan, ledger: Ledger, until: date) -> list[tuple[date, dict[int, float | None]]]:
    """Completion by task at each month end since the plan was issued, the last point being `until`
    itself (a report as of the 20th ends on the 20th, not at the end of the month before)."""
    out, cal = [], sp.plan.work_calendar()
    day = date(sp.plan.issued.year, sp.plan.issued.month, 1) + relativedelta(months=1, days=-1)
    while True:
        day = min(day, until)
        out.append((day, _owed(ledger.rows(day, cal), day)))
        if day == until:
            return out
        day = date(day.year, day.month, 1) + relativedelta(months=2, days=-1)


def _owed(rows: list[Row], day: date) -> dict[int, float | None]:
    """Per task, the % done of what had fallen due by `day`; None when nothing had yet. Work not yet owed is
    neither failed nor done: counted as 0 % it painted a task due in December dark red all year, and a 月报
    task whose months so far all came in looked a quarter done. Tasks with no finish line (持续, 待定) are absent."""
    owed: dict[int, list[bool]] = {}
    for r in rows:
        j = r.judgement
        if j.due is None or j.colour in (ONGOING, PENDING):
            continue
        got = owed.setdefault(r.task_no, [])
        if j.due <= day:  # due that very day counts: a month's column owes what fell due in it (as the 通报 does)
            got.append(j.colour in FINISHED)
    return {no: round(100 * sum(got) / len(got), 1) if got else None for no, got in owed.items()}


def close_months(engine: Engine, sp: StoredPlan, today: date) -> list[str]:
    """Freeze every month of the plan year whose closing day has passed by `today` (the real date) and that
    has no snapshot yet."""
    task = _report_task(sp)
    if task is None:
        return []
    towns = task.track.monthly_reports or ()
    closed = []
    period, last = f"{sp.plan.issued:%Y-%m}", min(f"{today:%Y-%m}", f"{sp.plan.year}-12")
    while period <= last:
        day = close_day(task.deadline, period, task.track.covers)
        if day <= today:
            with transaction(engine, plan=sp.id) as session:
                if get_snapshot(session, sp.id, period) is None:
                    rows = load_ledger(session, sp).rows(day, sp.plan.work_calendar())
                    save_snapshot(session, sp.id, period, freeze(rows, monthly_figures(session, sp), towns, period, day))
                    closed.append(period)
        period = f"{date.fromisoformat(period + '-01') + relativedelta(months=1):%Y-%m}"
    return closed


def monthly(engine: Engine, sp: StoredPlan, period: str | None, today: date) -> ReportData:
    """The month's 通报: from its frozen snapshot once closed, else a preview as of `today` (nothing written)."""
    task = _report_task(sp)
    if task is None:
        raise FuquanError("本计划没有按月报跟踪的任务 (track: monthly_reports), 无法生成月度报告")
    towns = task.track.monthly_reports or ()
    # by default this month, within the plan year (a January run after the year reports its December)
    default = min(f"{max(today, sp.plan.issued):%Y-%m}", f"{sp.plan.year}-12")
    period = progress.period(period or default, sp.plan.year)
    day = close_day(task.deadline, period, task.track.covers)
    with reading(engine) as session:
        snap = get_snapshot(session, sp.id, period)
        provisional = snap is None
        as_of = day if snap else min(today, day)
        ledger = load_ledger(session, sp)
        common = _common(session, sp, ledger, as_of)
        if snap is None:
            snap = freeze(common["rows"], common["reports"], towns, period, as_of)
        diff = _compare(session, sp, ledger, reports=common["reports"], task=task, period=period, as_of=as_of, snap=snap)
        # the year so far, not the month alone: a month often has one 月报 due and nothing else, and a
        # ranking on one item is 0 or 100
        first = date(sp.plan.year, 1, 1)
        # the year's adjustments made by the as-of day (a quarter's belong to its analysis)
        made = [a for a in adjustments(session, sp, (str(sp.plan.year),)) if a.on <= as_of]
        scores, unscored = adjust(score_units(common["rows"], first, as_of, common["weights"]), made)
        history = _history(sp, ledger, as_of)
    y, m = period.split("-")
    return ReportData("monthly", f"{y}年{int(m)}月情况通报", period, as_of=as_of, provisional=provisional,
                      scores=scores, scored_from=first, history=history, snapshot=snap, diff=diff, unscored=unscored,
                      **common)


def _compare(session: Session, sp: StoredPlan, ledger: Ledger, *, reports: list[dict[str, Any]], task: Task,
             period: str, as_of: date, snap: dict[str, Any]) -> Diff:
    """This month against last month as it closed: its snapshot; or, when the daily run never closed it, the same
    `freeze` that run would have written on its close day, computed here and not stored (a report writes nothing);
    or nothing at all when that day came before the plan was issued or has not come by `as_of`."""
    prev_period = f"{date.fromisoformat(period + '-01') - relativedelta(months=1):%Y-%m}"
    prev = get_snapshot(session, sp.id, prev_period)
    if prev is not None:
        return month_diff(prev, snap)
    day = close_day(task.deadline, prev_period, task.track.covers)
    if not sp.plan.issued <= day <= as_of:
        return month_diff(None, snap, prev_period=prev_period, prev_day=day)
    rows = ledger.rows(day, sp.plan.work_calendar())
    computed = freeze(rows, reports, task.track.monthly_reports or (), prev_period, day)
    return month_diff(computed, snap, computed=True)


def analysis(engine: Engine, sp: StoredPlan, kind: str, period: str | None, today: date) -> ReportData:
    """Quarterly (period 2023Q2) or annual (period 2023) analysis as of the period's last day."""
    start, end, label, period = _bounds(kind, period, today, sp.plan.year)
    as_of = min(end, today)
    with reading(engine) as session:
        ledger = load_ledger(session, sp)
        common = _common(session, sp, ledger, as_of)
        scores = score_units(common["rows"], start, as_of, common["weights"])  # what has fallen due so far
        scores, unscored = adjust(scores, adjustments(session, sp, (period,)))  # the period's, whenever made
        history = _history(sp, ledger, as_of)
    title = f"{label}综合分析" if kind == "quarterly" else f"{label}总结评估"
    return ReportData(kind, title, period, as_of=as_of, provisional=as_of < end, scores=scores, scored_from=start,
                      history=history, unscored=unscored, **common)


def _bounds(kind: str, period: str | None, today: date, plan_year: int) -> tuple[date, date, str, str]:
    """(first day, last day, Chinese label, canonical period) of a quarter or year."""
    if kind == "annual":
        if period and not re.fullmatch(r"\d{4}", period):
            raise InvalidValue(f"年度应写作 YYYY, 实为 “{period}”")
        year = int(period) if period else plan_year
        return date(year, 1, 1), date(year, 12, 31), f"{year}年度", str(year)
    if period:
        m = re.fullmatch(r"(\d{4})\s*[Qq季]\s*([1-4])", period)
        if not m:
            raise InvalidValue(f"季度应写作 YYYYQn (如 2023Q2), 实为 “{period}”")
        year, q = int(m[1]), int(m[2])
    else:  # the quarter that ended before today
        last = date(today.year, ((today.month - 1) // 3) * 3 + 1, 1) - timedelta(days=1)
        year, q = last.year, (last.month - 1) // 3 + 1
    start = date(year, 3 * q - 2, 1)
    return start, start + relativedelta(months=3, days=-1), f"{year}年第{q}季度", f"{year}Q{q}"

