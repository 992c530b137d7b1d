"""Monthly snapshots, month-over-month changes, and period scores for 双向考评. Pure.

A snapshot is plain JSON (what is stored is what was reported). Scores are simple enough to redo by
hand from the Excel sheet. Every item due in the period (a unit's share of a task, or one 月报) earns

    on time 100;  late  share − min(cap, penalty × working days late, share);  not done 0
    share = 100 × completion / (on_time + completion)

a part's points are its items' mean (tasks; and 月报, towns only) — a task share weighed by the unit's role in
the task when the plan sets `evaluation.roles` (牵头, 配合) — and the score is the parts' mean weighted by
on_time + completion and by reports, plus any adjustment a leader made for the period, with its reason.
Nothing floors the score: lateness only ever takes back part of what finishing earned, so finishing late
always scores at least as much as not finishing, and a unit's score moves with every item it finishes.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from dataclasses import dataclass, field, replace
from datetime import date
from typing import Any

from fuquan.plans.policy import Weights
from fuquan.tracking.judge import COLOURS, DONE, DONE_LATE, FINISHED, ONGOING, PENDING, RED
from fuquan.tracking.ledger import Row
from fuquan.tracking.status import rollups, summarise

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
        "tasks": [{"no": t.no, "text": t.text, "title": t.title, "colour": t.colour, "done": t.rollup.done, "total": t.rollup.total}
                  for t in tasks],
        "by_town": [g.as_dict() for g in rollups(rows, "town")],
    }


# What a month is compared with: last month's frozen snapshot; last month as of its close day, computed from the
# ledger because the daily run never closed it; or nothing (the plan was issued after that day, or it has not
# come yet), in which case nothing is called new: a share late since May is not "newly" late in July.
CLOSED, COMPUTED, NO_BASIS = "closed", "computed", "none"


@dataclass(frozen=True)
class Change:
    """One share (a unit's part of a task; `label` names the item of a recurring one) that changed."""

    task: int
    unit: str
    label: str

    def __str__(self) -> str:
        return f"{self.unit} 任务{self.task}" + (f" {self.label}" if self.label else "")


@dataclass
class Diff:
    done: list[Change] = field(default_factory=list)
    overdue: list[Change] = field(default_factory=list)
    figures: list[tuple[str, str, float | None, float | None]] = field(default_factory=list)  # town, figure, before, after
    basis: str = CLOSED  # CLOSED | COMPUTED | NO_BASIS
    prev_period: str = ""
    prev_day: str | None = None  # ISO: the day last month closed, or would have

    @property
    def newly_done(self) -> list[str]:
        return [str(c) for c in self.done]

    @property
    def newly_overdue(self) -> list[str]:
        return [str(c) for c in self.overdue]

    def empty(self) -> bool:
        return not (self.done or self.overdue or self.figures)


def month_diff(prev: dict[str, Any] | None, cur: dict[str, Any], *, computed: bool = False,
               prev_period: str = "", prev_day: date | None = None) -> Diff:
    """What changed since last month closed: shares newly finished, newly overdue, figures up or down. `prev` is
    last month's snapshot (`computed`: built by `freeze` for this report, never stored); without one nothing is
    new (prev_period/prev_day: which month and close day there was no data for)."""
    if prev is None:
        return Diff(basis=NO_BASIS, prev_period=prev_period, prev_day=prev_day.isoformat() if prev_day else None)
    before = {(r["task"], r["unit"], r["label"]): r["colour"] for r in prev["rows"]}
    diff = Diff(basis=COMPUTED if computed else CLOSED, prev_period=prev["period"], prev_day=prev["closed_on"])
    for r in cur["rows"]:
        was = before.get((r["task"], r["unit"], r["label"]))
        change = Change(r["task"], r["unit"], r["label"])
        if r["colour"] in FINISHED and was not in FINISHED:
            diff.done.append(change)
        elif r["colour"] == RED and was != RED:
            diff.overdue.append(change)
    old = prev.get("reports", {})
    for town, rep in cur["reports"].items():
        for name, value in rep["figures"].items():
            then = old.get(town, {}).get("figures", {}).get(name)
            if then != value:
                diff.figures.append((town, name, then, value))
    return diff


@dataclass(frozen=True)
class Tally:
    """One unit's items of one kind (task shares, or 月报) due in a period, as the score counts them."""

    due: int = 0
    on_time: int = 0
    done: int = 0  # on time or late
    late_days: int = 0  # working days late, summed over the items finished late
    deduction: float = 0.0  # what lateness took off the items finished late (each capped)
    # The same with each item at its role's weight (evaluation.roles, scaled so the larger is 1): with 牵头 and 配合
    # equal every item weighs exactly 1 and these equal the counts above to the last bit, so scores do not move.
    w_due: float = 0.0
    w_on_time: float = 0.0
    w_late: float = 0.0
    w_deduction: float = 0.0

    @property
    def late(self) -> int:
        return self.done - self.on_time

    @property
    def missed(self) -> int:
        return self.due - self.done

    @property
    def w_missed(self) -> float:
        return self.w_due - self.w_on_time - self.w_late

    def points(self, share: float) -> float:
        """0–100: the items' weighted mean (on time 100, late `share` less the deduction, not done 0)."""
        return (100 * self.w_on_time + share * self.w_late - self.w_deduction) / self.w_due


@dataclass(frozen=True)
class Adjustment:
    """Points a leader added to or took from a unit's score for a quarter or a year (`fuquan score adjust`), and
    why. Never removed: an entry is undone by an opposite one, and both stay on the record and in the tables."""

    unit: str
    period: str  # 2024Q2 | 2024
    points: float
    reason: str
    by: str
    on: date  # the day it was made, in the plan's time zone

    def __str__(self) -> str:
        return f"{self.points:+g} 分: {self.reason} ({self.by} {self.on.isoformat()})"


@dataclass(frozen=True)
class Score:
    unit: str
    unit_kind: str  # town | department | zone
    tasks: Tally
    reports: Tally  # 月报 (towns); empty for the others
    workdays_late: int  # every item due, overdue or finished late: the last tie-break
    rates: dict[str, float]  # on_time / completion / reports, as fractions; only those that apply
    parts: dict[str, float]  # tasks / reports: each part's points (0–100), only those that count
    score: float  # with the adjustments' points
    lost: tuple[str, ...]
    adjustments: tuple[Adjustment, ...] = ()

    @property
    def adjusted(self) -> float:
        """The adjustments' points together (0 when an entry was undone by its opposite)."""
        return round(sum((a.points for a in self.adjustments), 0.0), 1)

    @property
    def base(self) -> float:
        """The score as the items earned it, before any adjustment."""
        return round(self.score - self.adjusted, 1)

    @property
    def done(self) -> int:
        return self.tasks.done + self.reports.done

    @property
    def on_time(self) -> int:
        return self.tasks.on_time + self.reports.on_time


def late_share(w: Weights) -> float:
    """What an item finished late earns before its deduction: the completion weight's share of 100."""
    both = w.on_time + w.completion
    return 100 * w.completion / both if both else 0.0


def score_units(rows: list[Row], start: date, end: date, weights: Weights) -> list[Score]:
    """Every unit with something due in [start, end], in the order the plan names them. `end` is at most
    the day the rows were judged: what falls due later is not yet owed. Open-ended and undated work
    (持续, 待定) has no finish line and is not scored."""
    by_unit: dict[str, list[Row]] = {}
    for r in rows:
        j = r.judgement
        if j.due is not None and start <= j.due <= end and j.colour not in (ONGOING, PENDING):
            by_unit.setdefault(r.unit, []).append(r)
    return [_score(unit, rs, weights) for unit, rs in by_unit.items()]


def _tally(rs: list[Row], w: Weights, weigh: Callable[[Row], float] = lambda r: 1.0) -> Tally:
    share = late_share(w)
    late = [(r.judgement.workdays_late, weigh(r)) for r in rs if r.judgement.colour == DONE_LATE]
    cut = [min(w.late_penalty_cap, w.late_penalty * n, share) for n, _ in late]
    return Tally(len(rs), sum(r.judgement.colour == DONE for r in rs), sum(r.judgement.colour in FINISHED for r in rs),
                 sum(n for n, _ in late), sum(cut), sum(weigh(r) for r in rs),
                 sum(weigh(r) for r in rs if r.judgement.colour == DONE), sum(k for _, k in late),
                 sum(c * k for c, (_, k) in zip(cut, late, strict=True)))


def _score(unit: str, rs: list[Row], w: Weights) -> Score:
    top = max(w.lead, w.partner)
    tasks = _tally([r for r in rs if r.role != "report"], w, lambda r: w.role_weight(r.role) / top)
    reports = _tally([r for r in rs if r.role == "report"], w)
    rates: dict[str, float] = {}
    if tasks.due:
        rates["on_time"], rates["completion"] = tasks.on_time / tasks.due, tasks.done / tasks.due
    if reports.due:
        rates["reports"] = reports.on_time / reports.due
    share = late_share(w)
    weight = {k: v for k, t, v in (("tasks", tasks, w.on_time + w.completion), ("reports", reports, w.reports))
              if t.due and v}
    parts = {k: (tasks if k == "tasks" else reports).points(share) for k in weight}
    total = sum(weight.values())
    score = sum(weight[k] * parts[k] for k in parts) / total if total else 100.0  # (nothing weighted: nothing lost)
    lost: list[str] = []
    for k, t, what, unit_word in (("tasks", tasks, "", "项"), ("reports", reports, "月报", "期")):
        if k not in weight:
            continue
        scale = weight[k] / total / t.w_due  # one item's points (at weight 1) → points of the score
        if t.missed:
            lost.append(f"{what}未{'报' if what else '完成'} {t.missed} {unit_word} (扣 {scale * 100 * t.w_missed:.1f} 分)")
        if t.late:
            minus = scale * (t.w_late * (100 - share) + t.w_deduction)
            lost.append(f"{what}逾期{'报送' if what else '完成'} {t.late} {unit_word}, 共逾期 {t.late_days} 个工作日"
                        f" (扣 {minus:.1f} 分)")
    late = sum(r.judgement.workdays_late for r in rs if r.judgement.colour in (RED, DONE_LATE))
    return Score(unit, rs[0].unit_kind, tasks, reports, late, rates, parts, round(score, 1), tuple(lost))


def adjust(scores: list[Score], adjustments: Iterable[Adjustment]) -> tuple[list[Score], list[Adjustment]]:
    """Each unit's score moved by its adjustments' points, the entries kept beside it for their reasons; and apart,
    the adjustments of units with nothing due in the period (no score to move), to be listed as such."""
    mine: dict[str, list[Adjustment]] = {}
    for a in adjustments:
        mine.setdefault(a.unit, []).append(a)
    out = [replace(s, score=round(s.score + sum(a.points for a in mine[s.unit]), 1), adjustments=tuple(mine[s.unit]))
           if s.unit in mine else s for s in scores]
    scored = {s.unit for s in scores}
    return out, [a for unit, entries in mine.items() if unit not in scored for a in entries]


def rank(scores: list[Score]) -> list[tuple[int, Score]]:
    """Highest score first; on equal scores more items done, then more on time, then fewer working days
    late (so a tie never favours doing nothing); full ties share a place and keep the plan's order."""
    def key(s: Score) -> tuple[float, int, int, int]:
        return -s.score, -s.done, -s.on_time, s.workdays_late

    ordered = sorted(enumerate(scores), key=lambda p: (key(p[1]), p[0]))
    out: list[tuple[int, Score]] = []
    for i, (_, s) in enumerate(ordered):
        tied = bool(out) and key(out[-1][1]) == key(s)
        out.append((out[-1][0] if tied else i + 1, s))
    return out


KINDS = ("town", "department", "zone")  # ranked apart, in this order


def by_kind(scores: list[Score]) -> list[tuple[str, list[Score]]]:
    """Towns, departments and zones, each ranked on its own: a town's work is not a department's."""
    return [(k, group) for k in KINDS if (group := [s for s in scores if s.unit_kind == k])]


def sum_figures(reports: list[dict[str, Any]], first: str, last: str) -> dict[str, dict[str, float]]:
    """Per town, each 月报 figure added up over the periods first..last (YYYY-MM, inclusive)."""
    out: dict[str, dict[str, float]] = {}
    for m in reports:
        if first <= m["period"] <= last:
            town = out.setdefault(m["town"], {})
            for k, v in m["figures"].items():
                town[k] = town.get(k, 0) + v
    return out
