"""The one reader of a stored plan: its rows → the core's `Plan`, plus the row ids recording needs.

Every reader (recording, status, reminders, reports, flows) starts from a StoredPlan read once per run,
so names resolve, tracks expand and the policy defaults apply the same way everywhere. Any number of
plans are read with one query per table (a province's sweep costs what one plan does).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, replace
from datetime import UTC, date, datetime
from functools import cached_property
from typing import Any
from zoneinfo import ZoneInfo

from sqlalchemy import bindparam
from sqlalchemy import select as sa_select
from sqlmodel import Session, col, select

from fuquan.answers.rules import AnswerPolicy
from fuquan.dates.deadline import Deadline
from fuquan.dates.workdays import PlanCalendar
from fuquan.errors import AmbiguousPlan, FuquanError, LookupFailed
from fuquan.plans.plan import Group, Person, Plan, Section, Task, Track, Unit, Words, justice_bureau
from fuquan.plans.policy import Channels, ReminderPolicy, Schedule, Weights
from fuquan.plans.schema import PlanFile

from .tables import GroupMemberRow, GroupRow, PlanRow, TaskRow, UnitRow


@dataclass(frozen=True)
class StoredPlan:
    id: int
    plan: Plan  # as last synced: active units, groups and tasks
    unit_ids: dict[str, int]  # active unit name → id
    task_ids: dict[int, int]  # active task number → id
    names: dict[int, str]  # every unit id of the plan → name, retired units too (old records name them)
    closed: str | None = None  # when and by whom the plan year was closed (fuquan plan close), else None

    @cached_property
    def kinds(self) -> dict[str, str]:
        """Unit name → kind (department, town, zone)."""
        return {u.name: u.kind for u in self.plan.units}

    @property
    def label(self) -> str:
        """How every command names the plan it acted on."""
        return f"{self.plan.district} {self.plan.year} 年度"

    def task_id(self, no: int) -> int:
        return self.task_ids[self.plan.task(no).no]  # LookupFailed lists the tasks when `no` is unknown

    def unit_id(self, name: str, among: Sequence[str] | None = None, what: str = "单位") -> tuple[str, int]:
        """(canonical name, id) of the unit `name` means, which must be one of `among`."""
        unit = self.plan.pick(name, among, what)
        return unit, self.unit_ids[unit]

    def lane(self, task_no: int, unit: str) -> tuple[int, ...]:
        """What a unit's answer on a task writes, as a key of models.db.transaction's `lanes`: its own share, or the
        whole task when the task's tracked items belong to two units at once (a department's 承接确认书 to a town,
        a training, is both's share)."""
        track = self.plan.task(task_no).track
        task_id = self.task_id(task_no)
        return (task_id,) if track.letters or track.training else (task_id, self.unit_ids[unit])

    def item_lanes(self, kind: str) -> list[tuple[int, ...]]:
        """The lanes of recording tracked items of one kind (an import's sheet: letters, plans, sessions, training,
        exams, reports): each task they track, whole."""
        track = {"letters": "letters", "exams": "exams", "reports": "monthly_reports"}.get(kind, "training")
        return [(self.task_ids[t.no],) for t in self.plan.tasks if getattr(t.track, track) and t.no in self.task_ids]

    def reminders_lane(self, unit: str) -> tuple[int, ...]:
        """The lane of a unit's reminders: queuing them, and its 签收 (no task's id is negative; the 专班, no unit, is
        0)."""
        return (-1, self.unit_ids.get(unit, 0))

    def town_id(self, name: str, among: Sequence[str]) -> tuple[str, int]:
        """Like unit_id, an error naming towns in the plan's own word (镇, 乡镇（街道）)."""
        return self.unit_id(name, among, self.plan.words.towns)


def read_plan(session: Session, row: PlanRow) -> StoredPlan:
    return read_plans(session, [row])[row.id or 0]


def _rows(session: Session, model: Any, *where: Any, order: Any) -> Any:
    """Plain rows (attribute access by column name), not ORM objects: a nation's sweep reads 100,000s."""
    stmt = sa_select(*model.__table__.columns).where(*where).order_by(order)
    # fetched in blocks (fetchmany), not a DBAPI fetchone() per row as iterating the result does
    return (r for block in session.connection().execute(stmt).partitions(2000) for r in block)


def read_plans(session: Session, rows: Sequence[PlanRow]) -> dict[int, StoredPlan]:
    """Each plan of `rows`, in four queries whatever their number."""
    ids = [r.id for r in rows]
    units: dict[int, list[Any]] = {}
    for u in _rows(session, UnitRow, col(UnitRow.plan_id).in_(ids), order=col(UnitRow.id)):
        units.setdefault(u.plan_id, []).append(u)
    names = {u.id: u.name for us in units.values() for u in us}
    members: dict[int, list[str]] = {}
    stmt = (sa_select(col(GroupMemberRow.group_id), col(GroupMemberRow.unit_id))
            .join(GroupRow, col(GroupRow.id) == GroupMemberRow.group_id)
            .where(col(GroupRow.plan_id).in_(ids)).order_by(col(GroupMemberRow.position)))
    for group_id, unit_id in session.connection().execute(stmt):
        members.setdefault(group_id, []).append(names[unit_id])
    groups: dict[int, list[Group]] = {}
    for g in _rows(session, GroupRow, col(GroupRow.plan_id).in_(ids), col(GroupRow.active), order=col(GroupRow.id)):
        groups.setdefault(g.plan_id, []).append(Group(g.name, tuple(members.get(g.id or 0, ())), g.note))
    tasks: dict[int, list[Any]] = {}
    for t in _rows(session, TaskRow, col(TaskRow.plan_id).in_(ids), col(TaskRow.active), order=col(TaskRow.no)):
        tasks.setdefault(t.plan_id, []).append(t)
    out = {}
    for row in rows:
        pid = row.id or 0
        mine = units.get(pid, [])
        active = [u for u in mine if u.active]
        plan = _plan(row, active, groups.get(pid, []), tasks.get(pid, []))
        out[pid] = StoredPlan(pid, plan, {u.name: u.id or 0 for u in active},
                              {t.no: t.id or 0 for t in tasks.get(pid, [])}, {u.id or 0: u.name for u in mine},
                              closed_note(row))
    return out


_CLOSED = sa_select(col(PlanRow.closed_at), col(PlanRow.closed_by), col(PlanRow.timezone)).where(
    col(PlanRow.id) == bindparam("id"))


def closed_now(session: Session, plan_id: int) -> str | None:
    """The plan's closing note as the database holds it now (None: open). Every answer asks, in its transaction:
    three columns, not the row with its plan text."""
    found = session.connection().execute(_CLOSED, {"id": plan_id}).first()
    return _note(found[0], found[1], found[2]) if found is not None else None


def closed_note(row: PlanRow) -> str | None:
    return _note(row.closed_at, row.closed_by, row.timezone)


def _note(closed_at: datetime | None, closed_by: str | None, tz: str) -> str | None:
    if closed_at is None:
        return None
    return f"已于 {local_day(closed_at, tz)} 由 {closed_by or '未记录'} 关闭"


def local_day(at: datetime, tz: str) -> date:
    """The plan's own day of a stored moment (kept in UTC; SQLite hands it back without its zone)."""
    return (at if at.tzinfo else at.replace(tzinfo=UTC)).astimezone(ZoneInfo(tz)).date()


def _plan(row: PlanRow, units: list[Any], groups: list[Group], tasks: list[Any]) -> Plan:
    sections: dict[str, Section] = {}
    built = []
    # a plan synced by an older version did not store who receives training plans: its 司法局, as the loader says
    justice = justice_bureau({u.name: u.kind for u in units})
    for t in tasks:
        section = sections.setdefault(t.section_no, Section(t.section_no, t.section_title))
        deadline = Deadline.from_dict(t.deadline) if t.deadline else \
            Deadline.from_parts(t.deadline_text, t.deadline_kind, t.due, t.start, t.rule)  # synced before 0005
        track = Track.from_dict(t.track)
        if track.training and not track.training_to:
            track = replace(track, training_to=justice)
        built.append(Task(t.no, section, t.text, deadline, tuple(t.units), track, t.short or ""))
    s = row.settings
    return Plan(row.title, row.district, row.year, row.issued, row.timezone,
                tuple(Unit(u.name, u.kind, u.full_name) for u in units), tuple(groups), tuple(sections.values()),
                tuple(built), row.source, row.warn_workdays, tuple(row.report_figures),
                ReminderPolicy.from_dict(s["reminders"]), Channels.from_dict(s["channels"]),
                tuple(Schedule(**x) for x in s["schedules"]), Weights(**s["evaluation"]), _words(row, s),
                tuple(s.get("decimal_figures", ())), PlanCalendar.from_dict(s.get("calendar", {})),
                tuple(s.get("contacts", {}).items()), AnswerPolicy.from_dict(s.get("answers")),
                tuple(Person(**p) for p in s.get("people", ())))


def _words(row: PlanRow, settings: dict[str, Any]) -> Words:
    """As the sync stored them; a plan synced by an older version (which knew only 镇) gets them derived the
    loader's way, with the schema's default training forms."""
    if "words" in settings:
        return Words.from_dict(settings["words"])
    forms = PlanFile.model_fields["training_forms"].get_default(call_default_factory=True)
    return Words.derive(row.district, row.title, tuple(forms), town_kinds={"镇"})


def find_plan(session: Session, *, year: int | None = None, district: str | None = None) -> PlanRow:
    """The plan (district, year). Either may be omitted only while one plan fits what was given: with several
    it is an error listing them — never "the latest", which once put one year's records into another's plan."""
    rows = list(session.exec(select(PlanRow).order_by(PlanRow.district, col(PlanRow.year))))
    known = [f"{r.district} {r.year}" for r in rows]
    match = [r for r in rows if (year is None or r.year == year) and (district is None or r.district == district)]
    if not rows:
        raise FuquanError("数据库中还没有计划; 请先运行 fuquan sync 载入 config/tasks.yaml")
    if not match:
        raise LookupFailed("计划", f"{district or ''} {year or ''}".strip(), known)
    if len(match) > 1:
        raise AmbiguousPlan([f"{r.district} {r.year}" for r in match])
    return match[0]
