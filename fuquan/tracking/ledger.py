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
from typing import Any, NamedTuple

from fuquan.dates.deadline import Deadline, due_dates
from fuquan.dates.deadline_model import has_monthly, report_months
from fuquan.dates.workdays import WorkCalendar
from fuquan.plans.plan import Track
from fuquan.tracking.judge import FINISHED, Judgement, all_done, judge
from fuquan.tracking.states import Extension, Progress, Review


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
    # what units sent back, keyed (task, unit, period — "" for a whole share): the latest feedback's state, the
    # latest extension request's, and the due date a granted extension set (the one record of an extension)
    reviews: dict[tuple[int, str, str], str] = field(default_factory=dict)
    extensions: dict[tuple[int, str, str], str] = field(default_factory=dict)
    extended: dict[tuple[int, str, str], date] = field(default_factory=dict)

    def review(self, no: int, unit: str, period: str = "") -> str:
        """What a row shows of the unit's feedback: waiting for 复核, or sent back."""
        review = self.reviews.get((no, unit, period), "")
        return review if review in (Review.WAITING, Review.RETURNED) else ""

    def extension(self, no: int, unit: str, period: str = "") -> str:
        """What a row shows of the unit's latest extension request: asked, or refused (a granted one is the due)."""
        ext = self.extensions.get((no, unit, period), "")
        return ext if ext in (Extension.ASKED, Extension.REFUSED) else ""


class Item(NamedTuple):
    """One tracked item a share is judged from, named so a unit can report it and the 专班's approval can record
    it: kind letter (department × town), training_plan (department), training (department × town), exam and
    certify (town), report (town × month). A named tuple rather than a frozen dataclass: a province's sweep makes
    one for each of 120,000 letter and training cells, and a tuple is made in a third of the time."""

    kind: str
    label: str
    department: str = ""
    town: str = ""
    period: str = ""

    @property
    def key(self) -> str:
        return "|".join((self.kind, self.department, self.town, self.period))

    def as_dict(self) -> dict[str, str]:
        return {"kind": self.kind, "label": self.label, "department": self.department, "town": self.town,
                "period": self.period}


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
    period: str = ""  # what answers name this row by: "" a whole share, 2024Q1, 2024-05-31, 2024-05 (a 月报 month)
    owed: tuple[Item, ...] = ()  # the tracked items still missing: what the unit may report
    tracked: bool = False  # judged from tracked items (letters, training, exams, 月报), not from a status

    def as_dict(self) -> dict[str, Any]:
        return {"task": self.task_no, "unit": self.unit, "unit_kind": self.unit_kind, "role": self.role,
                "label": self.label, "period": self.period, "deadline_text": self.deadline_text,
                **self.judgement.as_dict(), "missing": list(self.missing), "review": self.review,
                "extension": self.extension}


@dataclass(frozen=True)
class Context:
    today: date
    year: int
    issued: date
    cal: WorkCalendar
    warn: int
    skipped: list[str] = field(default_factory=list)  # shares that could not be judged, in words
    only: str | None = None  # one unit's rows only (its own page): other towns' 月报 rows are not made
    judged: dict[tuple[date | None, date | None, str], Judgement] = field(default_factory=dict, repr=False,
                                                                          compare=False)
    sets: dict[int, frozenset[str]] = field(default_factory=dict, repr=False, compare=False)

    def among(self, names: tuple[str, ...] | None) -> frozenset[str]:
        """A track's list of units as a set, made once per evaluation: every share asks whether its unit is among
        its task's towns, and a plan of 1,500 towns made that a scan of 1,500 names per share. (Keyed by the
        tuple's id: the tracks holding these tuples outlive the evaluation.)"""
        if not names:
            return frozenset()
        found = self.sets.get(id(names))
        if found is None:
            found = self.sets[id(names)] = frozenset(names)
        return found

    def judge(self, due: date | None, done: date | None, kind: str = "date") -> Judgement:
        """judge() as of this context's day. Thousands of shares share a few hundred (due, done) pairs (a task's
        due date, the day its items came in), and a Judgement is a value: each pair is judged once."""
        key = (due, done, kind)
        j = self.judged.get(key)
        if j is None:
            j = self.judged[key] = judge(due, done, self.today, self.cal, self.warn, kind)
        return j

    def periods(self, d: Deadline) -> list[date]:
        """A periodic deadline's due dates from the plan's issue to the period due next."""
        all_ = _year_dues(d, self.issued, self.year)
        upcoming = [p for p in all_ if p >= self.today][:1]
        return [p for p in all_ if p < self.today] + upcoming

    def months(self, s: Share) -> list[tuple[str, date]]:
        """A 月报 task's (month covered, due date) from the plan's issue to the report due next."""
        all_ = _year_months(s.deadline, self.issued, self.year, s.track.covers)
        upcoming = [m for m in all_ if m[1] >= self.today][:1]
        return [m for m in all_ if m[1] < self.today] + upcoming


@lru_cache(maxsize=1024)
def _year_months(d: Deadline, issued: date, year: int, covers: str) -> tuple[tuple[str, date], ...]:
    return tuple(report_months(d, issued, year, covers))


@lru_cache(maxsize=4096)
def _year_dues(d: Deadline, issued: date, year: int) -> tuple[date, ...]:
    # the same few rules for every share of every plan of a sweep: computed once each
    return tuple(due_dates(d, issued, date(year, 12, 31)))


SANE_YEARS = 5  # a date further than this from the plan year is a typo that slipped in: judged by nobody


def evaluate(shares: list[Share], rec: Records, ctx: Context) -> list[Row]:
    """Every share's row. A share that cannot be judged (a date far out of range, left by an old version or
    typed into the database) is skipped and named in `ctx.skipped`: one record never stops a run.

    A share judged from tracked items is shown by its items only: a town's 月报 share is its months' rows (no
    item-less row beside them)."""
    rows: list[Row] = []
    for s in shares:
        try:
            items = _items(s, rec, ctx)
            if _reports_monthly(s) and s.unit in ctx.among(s.track.monthly_reports):
                continue  # its rows are the months' (_report_rows)
            if s.deadline.periodic and not s.track.monthly_reports and items is None:
                # owed once per period, or per part of a compound deadline, by each unit
                rows.extend(_period_rows(s, rec, ctx))
            elif s.deadline.kind == "compound" and items is not None:
                rows.extend(_batch_rows(s, items, rec, ctx))  # 分两批: each batch its share of the items
            else:
                rows.append(_share_row(s, items, rec, ctx))
        except (OverflowError, ValueError) as e:
            ctx.skipped.append(f"注意: 任务{s.task_no} {s.unit} 的日期无法计算 ({e}), 本次跳过; "
                               f"请用 fuquan task set 更正后再查看")
    for s in {s.task_no: s for s in shares}.values():  # one per task
        if _reports_monthly(s):
            towns = tuple(t for t in s.track.monthly_reports or () if ctx.only in (None, t))
            rows.extend(_report_rows(s, towns, rec, ctx))
    return rows


def _reports_monthly(s: Share) -> bool:
    """Judged from its towns' 月报: a tracked task whose deadline has monthly parts (fuquan.dates: report_months);
    a one-off part before them (5月底前完成，此后每月…) is not tracked apart — the months are what is owed."""
    return bool(s.track.monthly_reports) and has_monthly(s.deadline)


def _share_row(s: Share, items: list[tuple[Item, date | None]] | None, rec: Records, ctx: Context) -> Row:
    if _reports_monthly(s):
        return _collector_row(s, rec, ctx)
    period, due = "", s.deadline.due
    if s.deadline.periodic:  # a tracked share of a periodic task: judged on the period due next
        periods = ctx.periods(s.deadline)
        upcoming = [p for p in periods if p >= ctx.today]
        due = upcoming[0] if upcoming else periods[-1] if periods else None
        period = s.deadline.label_of(due) if due else ""
    due = rec.extended.get((s.task_no, s.unit, period), due)  # a granted extension (fuquan.tracking.states)
    if items is None:
        done = s.completed_on if s.status == Progress.DONE else None
        missing: tuple[str, ...] = ()
        owed: tuple[Item, ...] = ()
    else:
        done = all_done((d for _, d in items), ctx.today)
        owed = tuple(item for item, d in items if d is None or d > ctx.today)
        missing = tuple(item.label for item in owed)
    for d in (due, done):
        if d is not None and abs(d.year - ctx.year) > SANE_YEARS:
            raise ValueError(f"{d} 离计划年度 {ctx.year} 太远")
    j = ctx.judge(due, done, s.deadline.kind)
    return Row(s.task_no, s.task_text, s.deadline.text, s.unit, s.unit_kind, s.role, j, missing, title=s.title,
               period=period, owed=owed, tracked=items is not None, review=rec.review(s.task_no, s.unit, period),
               extension=rec.extension(s.task_no, s.unit, period))


def _period_rows(s: Share, rec: Records, ctx: Context) -> list[Row]:
    """One row per period (or due date of a compound deadline) up to the one due next: a missed quarter stays
    red, naming it, until recorded."""
    rows = []
    for due in ctx.periods(s.deadline):
        label = s.deadline.label_of(due)
        key = (s.task_no, s.unit, label)
        j = ctx.judge(rec.extended.get(key, due), rec.periods.get(key))
        missing = () if j.colour in FINISHED else (label,)
        rows.append(Row(s.task_no, s.task_text, s.deadline.text, s.unit, s.unit_kind, s.role, j, missing, label,
                        s.title, period=label, review=rec.review(*key), extension=rec.extension(*key)))
    return rows


def _batch_rows(s: Share, items: list[tuple[Item, date | None]], rec: Records, ctx: Context) -> list[Row]:
    """A tracked share whose deadline comes in batches (分两批：6月底前、9月底前): by the k-th of n dates, k/n of its
    items (rounded up) are due — the notice rarely says which items belong to which batch, so each batch owes its
    share of them, the last one all. One row per batch (as a periodic task's), the same in status, reminders,
    reports and the board; a batch's missing items are the ones still open. Where the plan says whose items fall
    in which batch (`track.batches`: towns per batch), a batch owes exactly those."""
    dues = ctx.periods(s.deadline)
    total, n = len(items), len(_year_dues(s.deadline, ctx.issued, ctx.year)) or 1
    done = sorted(d for _, d in items if d is not None and d <= ctx.today)
    owed = tuple(item for item, d in items if d is None or d > ctx.today)
    rows = []
    for k, due in enumerate(dues, 1):
        if s.track.batches:  # the plan says whose items fall in which batch: a batch owes exactly those
            mine = [(i, d) for i, d in items if i.town in s.track.batches[k - 1]]
            if not mine:
                continue
            total, need = len(mine), len(mine)
            done = sorted(d for _, d in mine if d is not None and d <= ctx.today)
            owed = tuple(i for i, d in mine if d is None or d > ctx.today)
        else:
            need = -(-total * min(k, n) // n)  # ceil: the first of two batches of 21 letters is 11
        period = s.deadline.label_of(due)
        finished = done[need - 1] if need and len(done) >= need else (None if need else due)
        j = ctx.judge(rec.extended.get((s.task_no, s.unit, period), due), finished)
        left = () if j.colour in FINISHED else owed
        missing = (f"第{k}批应完成 {need}/{total} 项, 已完成 {len(done)} 项",) + tuple(i.label for i in left) if left else ()
        rows.append(Row(s.task_no, s.task_text, s.deadline.text, s.unit, s.unit_kind, s.role, j, missing, period, s.title,
                        period=period, owed=left, tracked=True, review=rec.review(s.task_no, s.unit, period),
                        extension=rec.extension(s.task_no, s.unit, period)))
    return rows


def _items(s: Share, rec: Records, ctx: Context) -> list[tuple[Item, date | None]] | None:
    """The tracked items behind a share, or None when the share is tracked by its status alone."""
    t, no, unit = s.track, s.task_no, s.unit
    items: list[tuple[Item, date | None]] = []
    backed = False
    if t.letters:
        backed, items = _matrix(t, "letters", "letter", "承接确认书", no, unit, rec.letters, ctx)
    if t.training:
        depts, towns = t.training
        if unit in ctx.among(depts):
            items.append((Item("training_plan", f"培训指导计划报{t.training_to}", unit), rec.training_plans.get((no, unit))))
        trained, more = _matrix(t, "training", "training", "岗前培训", no, unit, rec.training_done, ctx)
        backed, items = backed or trained, items + more
    if t.exams and unit in ctx.among(t.exams):
        backed = True
        items += [(Item("exam", "专门法律知识考试", town=unit), rec.exams_held.get((no, unit))),
                  (Item("certify", "执法证件换领", town=unit), rec.certified.get((no, unit)))]
    return items if backed else None


def _matrix(t: Track, track: str, kind: str, label: str, no: int, unit: str,
            done: dict[tuple[int, str, str], date], ctx: Context) -> tuple[bool, list[tuple[Item, date | None]]]:
    """A department × town matrix (letters, training): a department's share is its cell with every town, a town's
    its cell with every department; cells the plan marks not applicable are neither."""
    depts, towns = getattr(t, track)
    some_na = bool(t.not_applicable)  # mostly none: then no cell need ask
    if unit in ctx.among(depts):
        return True, [(Item(kind, f"{town}{label}", unit, town), done.get((no, unit, town)))
                      for town in towns if not some_na or t.applies(track, unit, town)]
    if unit in ctx.among(towns):
        return True, [(Item(kind, f"{d}{label}", d, unit), done.get((no, d, unit)))
                      for d in depts if not some_na or t.applies(track, d, unit)]
    return False, []


def _report_rows(s: Share, towns: tuple[str, ...], rec: Records, ctx: Context) -> list[Row]:
    rows = []
    for period, due in ctx.months(s):  # the month each 月报 covers, as the plan says (当月 or 上月)
        what, label = f"{period} 月报", f"月报 {period}"  # the same for every town: a province has 1,500 of them
        for town in towns:
            key = (s.task_no, town, period)
            j = ctx.judge(rec.extended.get(key, due), rec.reports.get(key))
            owed = () if j.colour in FINISHED else (Item("report", what, town=town, period=period),)
            rows.append(Row(s.task_no, s.task_text, s.deadline.text, town, "town", "report", j,
                            (what,) if owed else (), label, s.title, period=period, owed=owed,
                            tracked=True, review=rec.review(*key), extension=rec.extension(*key)))
    return rows


def _collector_row(s: Share, rec: Records, ctx: Context) -> Row:
    """A collecting unit is judged on the oldest period some town has not reported yet."""
    towns = s.track.monthly_reports or ()
    months = ctx.months(s)
    for period, due in months:
        missing = tuple(f"{t} {period} 月报" for t in towns
                        if (r := rec.reports.get((s.task_no, t, period))) is None or r > ctx.today)
        if missing:
            j = ctx.judge(due, None)
            return Row(s.task_no, s.task_text, s.deadline.text, s.unit, s.unit_kind, s.role, j, missing,
                       title=s.title, tracked=True)
    last = months[-1] if months else None
    done = all_done((rec.reports.get((s.task_no, t, last[0])) for t in towns), ctx.today) if last else None
    j = ctx.judge(last[1] if last else None, done)
    return Row(s.task_no, s.task_text, s.deadline.text, s.unit, s.unit_kind, s.role, j, title=s.title, tracked=True)
