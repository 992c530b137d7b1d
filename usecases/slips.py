"""Issuing 督办单: for each day asked (today unless told), one numbered slip to every unit with overdue items that
day — its level from the most late of them by the plan's `reminders: slips:` thresholds, the day to answer by
(`answer_within` working days after the slip is dated, on the plan's calendar) — each recorded in `slip` and
audited in the one write transaction of its day. Asking again issues nothing: a unit's slip of a day is shown
again with its number. The Word files go beside the plan's reports (`slips/`), made from what was stored.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import date, datetime
from pathlib import Path

from sqlmodel import Session

from fuquan.errors import InvalidValue
from fuquan.tracking import progress
from fuquan.tracking.actor import Actor
from fuquan.tracking.ledger import Row
from fuquan.words import official
from models import answer_io as io
from models import slips as store
from models.db import reading, transaction
from models.ledger_io import load_ledger
from models.stored import StoredPlan, local_day
from models.tables import SlipRow
from reports.slips import SlipPage, file_name, item, write_slip
from reports.status import overdue_by_unit

from .commands import IssueSlips
from .context import Context
from .guard import open_plan
from .unit_links import personal_link


@dataclass(frozen=True)
class Slip:
    """One slip as the door reports it."""

    number: str  # 〔2024〕督办第7号
    year: int
    seq: int
    unit: str
    day: str  # ISO: the items were overdue as of this day
    level: str
    items: int
    answer_by: str
    fresh: bool  # issued by this call; False: issued before, shown again
    issued_on: str
    path: Path

    def as_dict(self) -> dict[str, object]:
        return {**{k: v for k, v in self.__dict__.items() if k != "path"}, "path": str(self.path)}


def issue_slips(ctx: Context, cmd: IssueSlips, *, actor: Actor, now: datetime, out: Path | None = None,
                only_new: bool = False) -> list[Slip]:
    """The slips of every day of `cmd` (issued, or shown again), in number order; files under `out`. `only_new` (the
    daily run): no slip for a unit whose last slip already listed everything it has overdue, at the same level."""
    sp, today = ctx.plan, now.date()
    days = sorted(set(cmd.days or (today,)))
    for day in days:
        if day > today:
            raise InvalidValue(f"督办日期 {day} 晚于今天 ({today}): 督办单只能按今天或以前的进度出具")
        progress.in_plan_years(day, sp.plan.year, "督办日期")
    only = {sp.plan.pick(u) for u in cmd.units}
    policy, cal = sp.plan.policy.slips, sp.plan.work_calendar()
    answer_by = cal.add(today, policy.answer_within)
    made: list[tuple[SlipRow, bool]] = []
    for day in days:
        with reading(ctx.engine) as session:
            late = overdue_by_unit(load_ledger(session, sp).rows(day, cal))
        late = [(u, rs) for u, rs in late if (not only or u in only) and u in sp.unit_ids]
        with transaction(ctx.engine, plan=sp.id) as session:
            open_plan(session, sp)
            before = store.latest_by_unit(session, sp.id, day) if only_new else {}
            for unit, rs in late:
                if (last := before.get(sp.unit_ids[unit])) is None or not _told(last, rs, policy.level):
                    made.append(_issue(session, sp, unit, rs, day, answer_by, actor=actor, now=now))
    made.sort(key=lambda m: (m[0].year, m[0].number))
    return [_written(ctx, row, fresh, now, out or ctx.reports_dir / "slips") for row, fresh in made]


def _issue(session: Session, sp: StoredPlan, unit: str, rows: list[Row], day: date, answer_by: date, *, actor: Actor,
           now: datetime) -> tuple[SlipRow, bool]:
    """`unit`'s slip for `day`: the one issued before (False), or a new one, numbered and audited (True)."""
    row = store.slip_of(session, sp.id, sp.unit_ids[unit], day)
    fresh = row is None
    if row is None:
        items = [item(r) for r in rows]
        row = store.issue(session, plan_id=sp.id, year=now.year, unit_id=sp.unit_ids[unit], day=day,
                          level=sp.plan.policy.slips.level(max(r.judgement.workdays_late for r in rows)),
                          answer_by=answer_by, items=items, now=now, by=actor.by)
        io.audit(session, sp, actor, entity="slip", ref=f"{official.slip_number(row.year, row.number)}/{unit}",
                 field="出具督办单",
                 new=f"{day} 逾期 {len(items)} 项, {official.LEVEL_NAME[row.level]}督办, {answer_by} 前反馈")
    session.expunge(row)  # read after the commit, by which it is no longer the session's
    return row, fresh


def _written(ctx: Context, row: SlipRow, fresh: bool, now: datetime, folder: Path) -> Slip:
    """The slip's file (written when new, or when its file is gone), and the slip in words."""
    sp = ctx.plan
    unit = sp.names[row.unit_id]
    path = folder / file_name(row.year, row.number, unit)
    issued_on = local_day(row.issued_at, sp.plan.timezone)
    if fresh or not path.exists():
        s = ctx.settings
        link = personal_link(ctx, unit, now) if s.link_secret is not None and s.web_url else None
        write_slip(SlipPage(official.issuer(sp.plan.district, sp.plan.words), official.slip_number(row.year, row.number),
                            unit, row.day, issued_on, row.level, row.answer_by, row.items, link, s.web_url,
                            sp.plan.policy.slips, sp.plan.year), path)
    return Slip(official.slip_number(row.year, row.number), row.year, row.number, unit, row.day.isoformat(), row.level,
                len(row.items), row.answer_by.isoformat(), fresh, issued_on.isoformat(), path)


def _told(last: SlipRow, rows: list[Row], level: Callable[[int], str]) -> bool:
    """Whether a unit's last slip already listed each of `rows`, at the level they have now."""
    listed = {(i["task"], i["label"]) for i in last.items}
    now = level(max(r.judgement.workdays_late for r in rows))
    return {(r.task_no, r.label) for r in rows} <= listed and now == last.level


def daily_slips(ctx: Context, *, now: datetime) -> list[Slip]:
    """The daily run's slips, when the plan asks for them (`reminders: slips: daily: true`; off by default): today's,
    to units with something overdue that no slip has told them yet, or whose level has risen."""
    if not ctx.plan.plan.policy.slips.daily or ctx.plan.closed:
        return []
    return issue_slips(ctx, IssueSlips(), actor=Actor("fuquan (每日检查)", "flow"), now=now, only_new=True)
