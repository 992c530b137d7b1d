"""Scores as leaders shape them: an adjustment of a unit's score for a quarter or a year, with its reason (audited:
who, when, why; undone by an opposite entry, never deleted), and the period's scores as every report shows them.

A period is named as the reports name theirs (`fuquan report quarterly --period 2024Q2`, `annual --period 2024`);
a quarter's adjustments move that quarter's analysis, a year's the annual evaluation (and the monthly 通报's
running scores from the day they are made).
"""

from __future__ import annotations

import math
import re
import unicodedata
from dataclasses import dataclass
from datetime import date, datetime

from fuquan.errors import InvalidValue
from fuquan.tracking import progress
from fuquan.tracking.actor import Actor
from fuquan.tracking.scores import Adjustment
from models import scoring
from models.db import reading, transaction
from reports import gather

from .commands import AdjustScore
from .context import Context
from .guard import open_plan

MAX_POINTS = 100  # a score runs 0–100: a bigger adjustment is a typo


@dataclass(frozen=True)
class Adjusted:
    entry: Adjustment
    net: float  # the unit's adjustments in that period together, this one included
    said: str


def score_period(text: str, year: int) -> str:
    """2024Q2 (also 2024q2, 2024季2) or 2024, of the plan year; the canonical form the reports use."""
    t = unicodedata.normalize("NFKC", text).strip()
    if m := re.fullmatch(r"(\d{4})\s*[Qq季]\s*([1-4])", t):
        got, canonical = int(m[1]), f"{m[1]}Q{m[2]}"
    elif re.fullmatch(r"\d{4}", t):
        got, canonical = int(t), t
    else:
        raise InvalidValue(f"期间应写作 YYYYQn (季度, 如 {year}Q2) 或 YYYY (年度, 如 {year}), 实为 “{text}”")
    if got != year:
        raise InvalidValue(f"期间 {canonical} 不在计划年度 {year} 内; 季度写作 {year}Q1 至 {year}Q4, 年度写作 {year}")
    return canonical


def points(text: str) -> float:
    """The CLI's ±N: a number other than 0, at most one decimal place (scores are shown to one), within ±100."""
    t = unicodedata.normalize("NFKC", text).strip().replace("−", "-").replace("＋", "+")
    try:
        n = float(t)
    except ValueError:
        raise InvalidValue(f"分值应为数字, 如 +2、-1.5, 实为 “{text}”") from None
    _check_points(n, text)
    return n


def _check_points(n: float, text: str) -> None:
    if not math.isfinite(n) or n == 0:
        raise InvalidValue(f"分值应为不等于 0 的数, 实为 “{text}”")
    if abs(n) > MAX_POINTS:
        raise InvalidValue(f"分值应在 -{MAX_POINTS} 到 +{MAX_POINTS} 之间, 实为 “{text}”")
    if round(n, 1) != n:
        raise InvalidValue(f"分值最多一位小数 (得分保留一位小数), 实为 “{text}”")


def adjust_score(ctx: Context, cmd: AdjustScore, *, actor: Actor, now: datetime) -> Adjusted:
    """Record one adjustment and its audit row, after every check (nothing is written on a bad input)."""
    sp = ctx.plan
    _check_points(cmd.points, f"{cmd.points:g}")
    reason = progress.text(cmd.reason.strip(), "理由")
    if not reason:
        raise InvalidValue("请用 --reason 写明调整理由 (记入审计记录, 并列在得分表中)")
    period = score_period(cmd.period, sp.plan.year)
    unit, _ = sp.unit_id(cmd.unit)  # LookupFailed lists the plan's units
    with transaction(ctx.engine, plan=sp.id) as session:
        open_plan(session, sp)
        entry = scoring.add_adjustment(session, sp, unit=unit, period=period, points=cmd.points, reason=reason,
                                       actor=actor, at=now)
        net = round(sum(a.points for a in scoring.adjustments(session, sp, (period,)) if a.unit == unit), 1)
    undo = f"fuquan score adjust {unit} {-cmd.points:+g} --period {period} --reason \"撤销: {reason}\""
    said = (f"{sp.label}: 已登记 {unit} {period} 得分调整 {cmd.points:+g} 分 (理由: {reason}); "
            f"该单位本期调整合计 {net:+g} 分。如需撤销, 登记相反的一笔: {undo}")
    return Adjusted(entry, net, said)


def period_scores(ctx: Context, period: str, today: date) -> gather.ReportData:
    """The quarter's or the year's scores as its report shows them, adjustments included."""
    canonical = score_period(period, ctx.plan.plan.year)
    kind = "quarterly" if "Q" in canonical else "annual"
    return gather.analysis(ctx.engine, ctx.plan, kind, canonical, today)


def entries(ctx: Context, period: str) -> list[Adjustment]:
    """Every adjustment of the period, undone ones and their opposites too, in the order they were made."""
    with reading(ctx.engine) as session:
        return scoring.adjustments(session, ctx.plan, (score_period(period, ctx.plan.plan.year),))
