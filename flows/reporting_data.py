"""Gathering what a report needs, and closing months. Plain Python shared by `fuquan report` and
the monthly-status / quarterly-analysis / annual-evaluation flows.

A month closes on its 月报 due date (task 14: the 20th). Closing freezes a snapshot as of that day;
the first close wins and later runs read it back unchanged.
"""

from __future__ import annotations

import json
import re
from dataclasses import dataclass, field
from datetime import date, timedelta
from typing import Any

from dateutil.relativedelta import relativedelta
from sqlalchemy.engine import Engine
from sqlmodel import Session

from fuquan.deadline import Deadline, due_dates
from fuquan.errors import FuquanError, InvalidValue, LookupFailed
from fuquan.ledger import Row
from fuquan.plan import Track
from fuquan.policy import Weights
from fuquan.reports import Diff, Score, freeze, month_diff, score_units
from fuquan.status import TaskSummary, summarise
from models.db import reading, transaction
from models.ledger_io import plan_rows
from models.queries import LetterGrid, exam_table, letter_grid, monthly_figures, settings_of, training_table
from models.snapshots import get_snapshot, save_snapshot
from models.tables import PlanRow, TaskRow


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
    scores: list[Score]
    weights: Weights
    history: list[tuple[date, dict[int, float]]] = field(default_factory=list)  # month end → task → % done
    snapshot: dict[str, Any] | None = None
    diff: Diff | None = None


def _report_task(session: Session, plan: PlanRow) -> tuple[Deadline, tuple[str, ...]] | None:
    """The recurring deadline and towns of the task tracked by 月报 (task 14 in the 2023 plan)."""
    from sqlmodel import select

    for t in session.exec(select(TaskRow).where(TaskRow.plan_id == plan.id, TaskRow.active)):
        track = Track.from_dict(json.loads(t.track))
        if track.monthly_reports and t.rule:
            return Deadline.from_parts(t.deadline_text, t.deadline_kind, t.due, t.start, json.loads(t.rule)), track.monthly_reports
    return None


def close_day(deadline: Deadline, period: str) -> date:
    first = date.fromisoformat(f"{period}-01")
    days = due_dates(deadline, first, first + relativedelta(months=1, days=-1))
    return days[0] if days else first + relativedelta(months=1, days=-1)


def _common(session: Session, plan: PlanRow, as_of: date) -> dict[str, Any]:
    rows, _ = plan_rows(session, plan, as_of)
    try:
        grid: LetterGrid | None = letter_grid(session, plan, as_of)
    except LookupFailed:
        grid = None
    return {"rows": rows, "tasks": summarise(rows), "letters": grid, "training": training_table(session, plan),
            "exams": exam_table(session, plan), "reports": monthly_figures(session, plan),
            "figure_names": tuple(json.loads(plan.report_figures)), "weights": settings_of(plan).weights,
            "district": plan.district, "year": plan.year}


def _history(session: Session, plan: PlanRow, until: date) -> list[tuple[date, dict[int, float]]]:
    out = []
    month_end = date(plan.issued.year, plan.issued.month, 1) + relativedelta(months=1, days=-1)
    while month_end <= until:
        rows, _ = plan_rows(session, plan, month_end)
        out.append((month_end, {t.no: t.rollup.percent or 0.0 for t in summarise(rows)
                                if t.rollup.percent is not None}))
        month_end = date(month_end.year, month_end.month, 1) + relativedelta(months=2, days=-1)
    return out


def close_months(engine: Engine, plan_id: int, today: date) -> list[str]:
    """Freeze every month whose closing day has passed and that has no snapshot yet."""
    closed = []
    with reading(engine) as session:
        plan = session.get(PlanRow, plan_id)
        assert plan is not None
        found = _report_task(session, plan)
    if found is None:
        return []
    deadline, towns = found
    period = f"{plan.issued:%Y-%m}"
    while period <= f"{today:%Y-%m}":
        day = close_day(deadline, period)
        if day <= today:
            with transaction(engine) as session:
                if get_snapshot(session, plan_id, period) is None:
                    rows, _ = plan_rows(session, plan, day)
                    save_snapshot(session, plan_id, period, freeze(rows, monthly_figures(session, plan), towns, period, day))
                    closed.append(period)
        period = f"{date.fromisoformat(period + '-01') + relativedelta(months=1):%Y-%m}"
    return closed


def monthly(engine: Engine, plan_id: int, period: str | None, today: date) -> ReportData:
    close_months(engine, plan_id, today)
    with reading(engine) as session:
        plan = session.get(PlanRow, plan_id)
        assert plan is not None
        found = _report_task(session, plan)
        if found is None:
            raise FuquanError("本计划没有按月报跟踪的任务 (track: monthly_reports), 无法生成月度报告")
        deadline, towns = found
        period = period or f"{max(today, plan.issued):%Y-%m}"  # this month: provisional until it closes
        _check_period(period)
        day = close_day(deadline, period)
        snap = get_snapshot(session, plan_id, period)
        provisional = snap is None
        as_of = day if snap else min(today, day)
        common = _common(session, plan, as_of)
        if snap is None:
            snap = freeze(common["rows"], common["reports"], towns, period, as_of)
        prev_period = f"{date.fromisoformat(period + '-01') - relativedelta(months=1):%Y-%m}"
        prev = get_snapshot(session, plan_id, prev_period)
        first = date.fromisoformat(period + "-01")
        scores = score_units(common["rows"], first, day, common["weights"])
        history = _history(session, plan, as_of)
    y, m = period.split("-")
    return ReportData("monthly", f"{y}年{int(m)}月情况通报", period, as_of=as_of, provisional=provisional,
                      scores=scores, history=history, snapshot=snap, diff=month_diff(prev, snap), **common)


def _check_period(period: str) -> None:
    if not re.fullmatch(r"\d{4}-(0[1-9]|1[0-2])", period):
        raise InvalidValue(f"月份应写作 YYYY-MM, 实为 “{period}”")


def analysis(engine: Engine, plan_id: int, kind: str, period: str | None, today: date) -> ReportData:
    """Quarterly (period 2023Q2) or annual (period 2023) analysis as of the period's last day."""
    with reading(engine) as session:
        plan = session.get(PlanRow, plan_id)
        assert plan is not None
        start, end, label, period = _bounds(kind, period, today, plan.year)
        as_of = min(end, today)
        common = _common(session, plan, as_of)
        scores = score_units(common["rows"], start, end, common["weights"])
        history = _history(session, plan, as_of)
    title = f"{label}综合分析" if kind == "quarterly" else f"{label}总结评估"
    return ReportData(kind, title, period, as_of=as_of, provisional=as_of < end, scores=scores,
                      history=history, **common)


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

