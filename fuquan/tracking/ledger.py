"""Every unit's share of every task, judged as of a day from what has been recorded. Pure.

A share (assignment) backed by tracked items is done when all its items are:
  letters   a department's share: its letter with every town; a town's: with every department
  training  a department's share: its plan filed (with the track's `plans_to`) + training done in every town;
            a town's share: training done by every department
  exams     a town's share: an exam sitting held + 证件换领 done
  monthly   one row per town × period (月报), and a collecting unit's share is done for a period
            when every town has reported
Other shares follow the status recorded for them (未开始/进行中/已完成/申请延期).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date
from functools import lru_cache
from typing import Any

from fuquan.dates.deadline import Deadline, due_dates
from fuquan.dates.workdays import WorkCalendar
from fuquan.plans.plan import Plan, Track
from fuquan.tracking.judge import FINISHED, Judgement, all_done, judge


@dataclass(frozen=True)
class Share:
    task_no: int
    task_text: str
    deadline: Deadline
    track: Track
    unit: str
    unit_kind: str
    role: str
    status: str = "未开始"
    completed_on: date | None = None
    extended_due: date | None = None
    title: str = ""  # the task's short title (Task.title)


@dataclass
class Records:
    """What has been recorded, keyed by task number and unit names."""

    letters: dict[tuple[int, str, str], date] = field(default_factory=dict)  # (task, dept, town) → signed
    training_plans: dict[tuple[int, str], date] = field(default_factory=dict)  # (task, dept) → filed
    training_done: dict[tuple[int, str, str], date] = field(default_factory=dict)  # (task, dept, town)
    exams_held: dict[tuple[int, str], date] = field(default_factory=dict)  # (task, town) → first sitting held
    certified: dict[tuple[int, str], date] = field(default_factory=dict)  # (task, town) → 证件换领 done
    reports: dict[tuple[int, str, str], date] = field(default_factory=dict)  # (task, town, YYYY-MM) → submitted
    periods: dict[tuple[int, str, str], date] = field(default_factory=dict)  # (task, unit, 2024Q1) → done
    # what units sent back, keyed (task, unit, period label or "" for a whole share): the latest feedback's
    # state (待复核/已退回/通过), the latest extension request's (待批/批准/不批准), a period's granted new date
    reviews: dict[tuple[int, str, str], str] = field(default_factory=dict)
    extensions: dict[tuple[int, str, str], str] = field(default_factory=dict)
    extended: dict[tuple[int, str, str], date] = field(default_factory=dict)

    def answers(self, no: int, unit: str, label: str = "") -> dict[str, str]:
        """What a row shows of the unit's answers: feedback waiting or sent back, an extension asked or refused."""
        review, ext = self.reviews.get((no, unit, label), ""), self.extensions.get((no, unit, label), "")
        return {"review": review if review in ("待复核", "已退回") else "",
                "extension": ext if ext in ("待批", "不批准") else ""}


@dataclass(frozen=True)
class Row:
    task_no: int
    task_text: str
    deadline_text: str
    unit: str
    unit_kind: str
    role: str
    judgement: Judgement
    missing: tuple[str, ...] = ()
    label: str = ""  # e.g. 月报 2023-05 for a per-period row
    title: str = ""  # the task's short title, for tables and messages
    review: str = ""  # 待复核 | 已退回: the unit's feedback and where its 复核 stands
    extension: str = ""  # 待批 | 不批准: the unit's extension request

    def as_dict(self) -> dict[str, Any]:
        return {"task": self.task_no, "unit": self.unit, "unit_kind": self.unit_kind, "role": self.role,
                "label": self.label, "deadline_text": self.deadline_text, **self.judgement.as_dict(),
                "missing": list(self.missing), "review": self.review, "extension": self.extension}


@dataclass(frozen=True)
class Context:
    today: date
    year: int
    issued: date
    cal: WorkCalendar
    warn: int
    skipped: list[str] = field(default_factory=list)  # shares that could not be judged, in words
    only: str | None = None  # one unit's rows only (its own page): other towns' 月报 rows are not made

    def periods(self, d: Deadline) -> list[date]:
        """A periodic deadline's due dates from the plan's issue to the period due next."""
        all_ = _year_dues(d, self.issued, self.year)
        upcoming = [p for p in all_ if p >= self.today][:1]
        return [p for p in all_ if p < self.today] + upcoming


@lru_cache(maxsize=4096)
def _year_dues(d: Deadline, issued: date, year: int) -> tuple[date, ...]:
    # the same few rules for every share of every plan of a sweep: computed once each
    return tuple(due_dates(d, issued, date(year, 12, 31)))


def shares_of(plan: Plan) -> list[Share]:
    """Every share of a plan with nothing recorded yet (what a fresh sync holds)."""
    kinds = {u.name: u.kind for u in plan.units}
    return [Share(t.no, t.text, t.deadline, t.track, a.unit, kinds[a.unit], a.role, title=t.title)
            for t in plan.tasks for a in plan.assignees(t)]


SANE_YEARS = 5  # a date further than this from the plan year is a typo that slipped in: judged by nobody


def evaluate(shares: list[Share], rec: Records, ctx: Context) -> list[Row]:
    """Every share's row. A share that cannot be judged (a date far out of range, left by an old version or
    typed into the database) is skipped and named in `ctx.skipped`: one record never stops a run."""
    rows: list[Row] = []
    for s in shares:
        try:
            items = _items(s, rec)
            if s.deadline.periodic and not s.track.monthly_reports and items is None:
                # owed once per period, or per part of a compound deadline, by each unit (月报 towns and their
                # collector: judged from the reports)
                rows.extend(_period_rows(s, rec, ctx))
            else:
                rows.append(_share_row(s, items, rec, ctx))
        except (OverflowError, ValueError) as e:
            ctx.skipped.append(f"注意: 任务{s.task_no} {s.unit} 的日期无法计算 ({e}), 本次跳过; "
                               f"请用 fuquan task set 更正后再查看")
    for s in {s.task_no: s for s in shares}.values():  # one per task
        if s.track.monthly_reports and s.deadline.kind == "recurring":
            towns = tuple(t for t in s.track.monthly_reports if ctx.only in (None, t))
            rows.extend(_report_rows(s, towns, rec, ctx))
    return rows


def _share_row(s: Share, items: list[tuple[str, date | None]] | None, rec: Records, ctx: Context) -> Row:
    due = s.extended_due or s.deadline.due
    if s.deadline.kind == "recurring" and s.track.monthly_reports and s.unit not in s.track.monthly_reports:
        return _collector_row(s, rec, ctx)
    if s.deadline.periodic and not s.extended_due:
        periods = ctx.periods(s.deadline)
        upcoming = [p for p in periods if p >= ctx.today]
        due = upcoming[0] if upcoming else periods[-1] if periods else None
    if items is None:
        done = s.completed_on if s.status == "已完成" else None
        missing: tuple[str, ...] = ()
    else:
        done = all_done((d for _, d in items), ctx.today)
        missing = tuple(label for label, d in items if d is None or d > ctx.today)
    for d in (due, done):
        if d is not None and abs(d.year - ctx.year) > SANE_YEARS:
            raise ValueError(f"{d} 离计划年度 {ctx.year} 太远")
    j = judge(due, done, ctx.today, ctx.cal, ctx.warn, s.deadline.kind)
    return Row(s.task_no, s.task_text, s.deadline.text, s.unit, s.unit_kind, s.role, j, missing, title=s.title,
               **rec.answers(s.task_no, s.unit))


def _period_rows(s: Share, rec: Records, ctx: Context) -> list[Row]:
    """One row per period (or due date of a compound deadline) up to the one due next: a missed quarter stays
    red, naming it, until recorded."""
    rows = []
    for due in ctx.periods(s.deadline):
        label = s.deadline.label_of(due)
        key = (s.task_no, s.unit, label)
        # an extension granted for this period moves its due date (fuquan.answers.rules)
        j = judge(rec.extended.get(key, due), rec.periods.get(key), ctx.today, ctx.cal, ctx.warn)
        missing = () if j.colour in FINISHED else (label,)
        rows.append(Row(s.task_no, s.task_text, s.deadline.text, s.unit, s.unit_kind, s.role, j, missing, label,
                        s.title, **rec.answers(*key)))
    return rows


def _items(s: Share, rec: Records) -> list[tuple[str, date | None]] | None:
    """The tracked items behind a share, or None when the share is tracked by its status alone."""
    t, no, unit = s.track, s.task_no, s.unit
    items: list[tuple[str, date | None]] = []
    backed = False
    if t.letters:
        depts, towns = t.letters
        if unit in depts:
            backed, items = True, items + [(f"{town}承接确认书", rec.letters.get((no, unit, town))) for town in towns
                                           if t.applies("letters", unit, town)]
        elif unit in towns:
            backed, items = True, items + [(f"{d}承接确认书", rec.letters.get((no, d, unit))) for d in depts
                                           if t.applies("letters", d, unit)]
    if t.training:
        depts, towns = t.training
        if unit in depts:
            backed = True
            items.append((f"培训指导计划报{t.training_to}", rec.training_plans.get((no, unit))))
            items += [(f"{town}岗前培训", rec.training_done.get((no, unit, town))) for town in towns
                      if t.applies("training", unit, town)]
        elif unit in towns:
            backed, items = True, items + [(f"{d}岗前培训", rec.training_done.get((no, d, unit))) for d in depts
                                           if t.applies("training", d, unit)]
    if t.exams and unit in t.exams:
        backed = True
        items += [("专门法律知识考试", rec.exams_held.get((no, unit))), ("执法证件换领", rec.certified.get((no, unit)))]
    return items if backed else None


def _report_rows(s: Share, towns: tuple[str, ...], rec: Records, ctx: Context) -> list[Row]:
    rows = []
    for due in ctx.periods(s.deadline):
        period = f"{due:%Y-%m}"
        for town in towns:
            j = judge(due, rec.reports.get((s.task_no, town, period)), ctx.today, ctx.cal, ctx.warn)
            missing = () if j.colour in FINISHED else (f"{period} 月报",)
            rows.append(Row(s.task_no, s.task_text, s.deadline.text, town, "town", "report", j, missing,
                            f"月报 {period}", s.title))
    return rows


def _collector_row(s: Share, rec: Records, ctx: Context) -> Row:
    """A collecting unit is judged on the oldest period some town has not reported yet."""
    towns = s.track.monthly_reports or ()
    periods = ctx.periods(s.deadline)
    for due in periods:
        period = f"{due:%Y-%m}"
        missing = tuple(f"{t} {period} 月报" for t in towns
                        if (r := rec.reports.get((s.task_no, t, period))) is None or r > ctx.today)
        if missing:
            j = judge(due, None, ctx.today, ctx.cal, ctx.warn)
            return Row(s.task_no, s.task_text, s.deadline.text, s.unit, s.unit_kind, s.role, j, missing, title=s.title)
    last = periods[-1] if periods else None
    done = all_done((rec.reports.get((s.task_no, t, f"{last:%Y-%m}")) for t in towns), ctx.today) if last else None
    j = judge(last, done, ctx.today, ctx.cal, ctx.warn)
    return Row(s.task_no, s.task_text, s.deadline.text, s.unit, s.unit_kind, s.role, j, title=s.title)
