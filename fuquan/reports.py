"""Monthly snapshots, month-over-month changes, and period scores for 双向考评. Pure.

A snapshot is plain JSON (what is stored is what was reported). Scores are simple enough to redo by
hand from the Excel sheet:

    score = max(0, 100 × Σ(weight × rate) / Σ(weight, of the rates that apply) − min(cap, penalty × working days late))

rates: 按时完成率 (done by the due date / due in the period), 完成率 (done at all / due), 月报按时率
(月报 on time / 月报 due; towns only). Working days late: every overdue or late-done item in the period.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import date
from typing import Any

from .judge import COLOURS, DONE, DONE_LATE, FINISHED, RED
from .ledger import Row
from .policy import Weights
from .status import rollups, summarise

RATE_LABEL = {"on_time": "按时完成率", "completion": "完成率", "reports": "月报按时率"}


def _row(r: Row) -> dict[str, Any]:
    j = r.judgement
    return {"task": r.task_no, "unit": r.unit, "unit_kind": r.unit_kind, "label": r.label, "colour": j.colour,
            "due": j.due.isoformat() if j.due else None,
            "completed_on": j.completed_on.isoformat() if j.completed_on else None,
            "workdays_late": j.workdays_late, "missing": list(r.missing)}


def freeze(rows: list[Row], reports: list[dict[str, Any]], towns: Iterable[str], period: str,
           closed_on: date) -> dict[str, Any]:
    """The month as it stood on its closing day: every status, the month's 月报 and who has none."""
    mine = {m["town"]: m for m in reports if m["period"] == period and m["submitted_on"] <= closed_on}
    tasks = summarise(rows)
    return {
        "period": period, "closed_on": closed_on.isoformat(),
        "rows": [_row(r) for r in rows],
        "reports": {t: {"submitted_on": mine[t]["submitted_on"].isoformat(), "figures": mine[t]["figures"]}
                    for t in towns if t in mine},
        "missing": [t for t in towns if t not in mine],
        "counts": {c: sum(t.rollup.counts[c] for t in tasks) for c in COLOURS},
        "tasks": [{"no": t.no, "text": t.text, "colour": t.colour, "done": t.rollup.done, "total": t.rollup.total}
                  for t in tasks],
        "by_town": [g.as_dict() for g in rollups(rows, "town")],
    }


@dataclass
class Diff:
    newly_done: list[str] = field(default_factory=list)
    newly_overdue: list[str] = field(default_factory=list)
    figures: list[tuple[str, str, float | None, float | None]] = field(default_factory=list)  # town, figure, before, after

    def empty(self) -> bool:
        return not (self.newly_done or self.newly_overdue or self.figures)


def _what(r: dict[str, Any]) -> str:
    return f"{r['unit']} 任务{r['task']}" + (f" {r['label']}" if r["label"] else "")


def month_diff(prev: dict[str, Any] | None, cur: dict[str, Any]) -> Diff:
    """What changed between two closed months: shares newly finished, newly overdue, figures up or down."""
    before = {(r["task"], r["unit"], r["label"]): r["colour"] for r in (prev or {}).get("rows", [])}
    diff = Diff()
    for r in cur["rows"]:
        was = before.get((r["task"], r["unit"], r["label"]))
        if r["colour"] in FINISHED and was not in FINISHED:
            diff.newly_done.append(_what(r))
        elif r["colour"] == RED and was != RED:
            diff.newly_overdue.append(_what(r))
    old = (prev or {}).get("reports", {})
    for town, rep in cur["reports"].items():
        for name, value in rep["figures"].items():
            then = old.get(town, {}).get("figures", {}).get(name)
            if then != value:
                diff.figures.append((town, name, then, value))
    return diff


@dataclass(frozen=True)
class Score:
    unit: str
    unit_kind: str
    due: int
    on_time: int
    done: int
    reports_due: int
    reports_on_time: int
    workdays_late: int
    rates: dict[str, float]  # on_time / completion / reports, as fractions; only those that apply
    score: float
    lost: tuple[str, ...]


def score_units(rows: list[Row], start: date, end: date, weights: Weights) -> list[Score]:
    """Every unit with something due in [start, end], in the order the plan names them."""
    by_unit: dict[str, list[Row]] = {}
    for r in rows:
        if r.judgement.due is not None and start <= r.judgement.due <= end:
            by_unit.setdefault(r.unit, []).append(r)
    return [_score(unit, rs, weights) for unit, rs in by_unit.items()]


def _score(unit: str, rs: list[Row], w: Weights) -> Score:
    tasks = [r for r in rs if r.role != "report"]
    reports = [r for r in rs if r.role == "report"]
    on_time = sum(r.judgement.colour == DONE for r in tasks)
    done = sum(r.judgement.colour in FINISHED for r in tasks)
    rep_ok = sum(r.judgement.colour == DONE for r in reports)
    late = sum(r.judgement.workdays_late for r in rs if r.judgement.colour in (RED, DONE_LATE))
    rates: dict[str, float] = {}
    if tasks:
        rates["on_time"], rates["completion"] = on_time / len(tasks), done / len(tasks)
    if reports:
        rates["reports"] = rep_ok / len(reports)
    weight = {k: getattr(w, k) for k in rates}
    total = sum(weight.values())
    base = 100 * sum(weight[k] * rates[k] for k in rates) / total if total else 100.0
    penalty = min(w.late_penalty_cap, w.late_penalty * late)
    lost = tuple(f"{RATE_LABEL[k]} {rates[k]:.0%} (扣 {100 * weight[k] * (1 - rates[k]) / total:.1f} 分)"
                 for k in rates if rates[k] < 1 and total)  # (all weights 0: refused at load, but old plans)
    if penalty:
        lost += (f"逾期合计 {late} 个工作日 (扣 {penalty:.1f} 分)",)
    kind = rs[0].unit_kind
    return Score(unit, kind, len(tasks), on_time, done, len(reports), rep_ok, late, rates,
                 round(max(0.0, base - penalty), 1), lost)


def rank(scores: list[Score]) -> list[tuple[int, Score]]:
    """Highest score first; on equal scores fewer working days late first (scores floor at 0, so
    this keeps the worst apart); full ties share a rank and keep the plan's order."""
    ordered = sorted(enumerate(scores), key=lambda p: (-p[1].score, p[1].workdays_late, p[0]))
    out: list[tuple[int, Score]] = []
    for i, (_, s) in enumerate(ordered):
        prev = out[-1][1] if out else None
        tied = prev is not None and (prev.score, prev.workdays_late) == (s.score, s.workdays_late)
        out.append((out[-1][0] if tied else i + 1, s))
    return out


def sum_figures(reports: list[dict[str, Any]], first: str, last: str) -> dict[str, dict[str, float]]:
    """Per town, each 月报 figure added up over the periods first..last (YYYY-MM, inclusive)."""
    out: dict[str, dict[str, float]] = {}
    for m in reports:
        if first <= m["period"] <= last:
            town = out.setdefault(m["town"], {})
            for k, v in m["figures"].items():
                town[k] = town.get(k, 0) + v
    return out
