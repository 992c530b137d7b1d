"""SQLModel tables: plans, units, groups, tasks, and assignments = (task, unit).

One `XBase` per entity holds the fields both the table and readers share; the `X(table=True)`
adds keys and bookkeeping. Nothing is ever deleted by a sync: a task or unit that leaves the
YAML is marked inactive, so progress recorded against it is not lost.
"""

from __future__ import annotations

from datetime import UTC, date, datetime
from typing import Any

from sqlalchemy import JSON, Column, DateTime, TypeDecorator, UniqueConstraint
from sqlmodel import Field, SQLModel


def utcnow() -> datetime:
    return datetime.now(UTC)


class UtcDateTime(TypeDecorator[datetime]):
    """A moment, stored in UTC. SQLite keeps a datetime as text without its offset: a moment in the plan's zone
    (16:30+08:00) came back as 16:30 and was read as UTC, eight hours late — a plan closed on the 28th in the
    afternoon said "closed on the 29th"."""

    impl = DateTime(timezone=True)
    cache_ok = True

    def process_bind_param(self, value: datetime | None, dialect: Any) -> datetime | None:
        return value.astimezone(UTC) if value is not None and value.tzinfo is not None else value


def _ts(nullable: bool = False) -> Column:  # type: ignore[type-arg]
    return Column(UtcDateTime(), nullable=nullable)


class PlanBase(SQLModel):
    district: str = Field(index=True)
    year: int = Field(index=True)
    title: str
    issued: date
    timezone: str = "Asia/Shanghai"


class PlanRow(PlanBase, table=True):
    __tablename__ = "plan"
    __table_args__ = (UniqueConstraint("district", "year"),)
    id: int | None = Field(default=None, primary_key=True)
    warn_workdays: int = 3
    report_figures: list[str] = Field(default_factory=list, sa_type=JSON)  # 月报 figure names
    # {"reminders": ReminderPolicy, "channels": Channels, "schedules": [Schedule], "evaluation": Weights}
    settings: dict[str, Any] = Field(default_factory=dict, sa_type=JSON)
    source: str = ""
    content_hash: str = ""
    synced_at: datetime = Field(default_factory=utcnow, sa_column=_ts())
    # a closed plan year (fuquan plan close): no reminders, no new answers; status and reports still work
    closed_at: datetime | None = Field(default=None, sa_column=_ts(nullable=True))
    closed_by: str | None = None


class UnitBase(SQLModel):
    name: str
    kind: str  # department | town | zone
    full_name: str | None = None
    active: bool = True


class UnitRow(UnitBase, table=True):
    __tablename__ = "unit"
    __table_args__ = (UniqueConstraint("plan_id", "name"),)
    id: int | None = Field(default=None, primary_key=True)
    plan_id: int = Field(foreign_key="plan.id", index=True)


class GroupRow(SQLModel, table=True):
    __tablename__ = "unit_group"
    __table_args__ = (UniqueConstraint("plan_id", "name"),)
    id: int | None = Field(default=None, primary_key=True)
    plan_id: int = Field(foreign_key="plan.id", index=True)
    name: str
    note: str | None = None
    active: bool = True


class GroupMemberRow(SQLModel, table=True):
    __tablename__ = "group_member"
    group_id: int = Field(foreign_key="unit_group.id", primary_key=True)
    unit_id: int = Field(foreign_key="unit.id", primary_key=True)
    position: int


class TaskBase(SQLModel):
    no: int
    section_no: str
    section_title: str
    text: str
    short: str | None = None  # the plan's short title (migration 0006)
    deadline_text: str
    deadline_kind: str
    due: date | None = None
    start: date | None = None
    rule: dict[str, Any] | None = Field(default=None, sa_type=JSON)  # the recurrence, e.g. {"freq": "monthly", "day": 20}
    deadline: dict[str, Any] | None = Field(default=None, sa_type=JSON)  # the parsed deadline whole (Deadline.as_dict)
    units: list[str] = Field(sa_type=JSON)  # unit/group names as written; the first leads
    track: dict[str, Any] = Field(default_factory=dict, sa_type=JSON)  # fuquan.plans.plan.Track: which items back the task
    active: bool = True


class TaskRow(TaskBase, table=True):
    __tablename__ = "task"
    __table_args__ = (UniqueConstraint("plan_id", "no"),)
    id: int | None = Field(default=None, primary_key=True)
    plan_id: int = Field(foreign_key="plan.id", index=True)


class AssignmentBase(SQLModel):
    via_group: str | None = None
    role: str  # lead | partner
    position: int  # order in the task's written unit list, groups expanded
    active: bool = True
    status: str = "未开始"  # fuquan.tracking.states.Progress
    completed_on: date | None = None
    note: str | None = None
    evidence: str | None = None


class AssignmentRow(AssignmentBase, table=True):
    __tablename__ = "assignment"
    __table_args__ = (UniqueConstraint("task_id", "unit_id"),)
    id: int | None = Field(default=None, primary_key=True)
    task_id: int = Field(foreign_key="task.id", index=True)
    unit_id: int = Field(foreign_key="unit.id", index=True)
    updated_at: datetime = Field(default_factory=utcnow, sa_column=_ts())


class SyncRunRow(SQLModel, table=True):
    """One row per sync that changed something: the answer to "who loaded this plan, and when"."""

    __tablename__ = "sync_run"
    id: int | None = Field(default=None, primary_key=True)
    plan_id: int = Field(foreign_key="plan.id", index=True)
    source: str
    content_hash: str
    summary: str  # e.g. "新增任务 15, 新增分工 134"
    by: str
    at: datetime = Field(default_factory=utcnow, sa_column=_ts())


class ScoreAdjustmentRow(SQLModel, table=True):
    """A leader's points added to or taken from a unit's score for a quarter (2024Q2) or a year (2024), and why
    (`fuquan score adjust`, migration 0010). Never changed or deleted: an entry is undone by an opposite one."""

    __tablename__ = "score_adjustment"
    id: int | None = Field(default=None, primary_key=True)
    plan_id: int = Field(foreign_key="plan.id", index=True)
    unit_id: int = Field(foreign_key="unit.id", index=True)
    period: str
    points: float
    reason: str
    by: str
    at: datetime = Field(default_factory=utcnow, sa_column=_ts())


class SlipRow(SQLModel, table=True):
    """One 督办单 issued (fuquan report slips). Its number is unique within the plan and the year it was issued in, and
    never reused; a unit gets at most one a day (a re-run issues nothing). `items` is what the slip listed, as it
    stood that day: a slip printed again later says the same."""

    __tablename__ = "slip"
    __table_args__ = (UniqueConstraint("plan_id", "year", "number", name="uq_slip_number"),
                      UniqueConstraint("plan_id", "unit_id", "day", name="uq_slip_unit_day"))
    id: int | None = Field(default=None, primary_key=True)
    plan_id: int = Field(foreign_key="plan.id", index=True)
    year: int  # of the day issued: 〔2024〕督办第 7 号
    number: int
    unit_id: int = Field(foreign_key="unit.id", index=True)
    day: date  # the day the overdue items were judged as of
    level: str  # 蓝 | 黄 | 红 (fuquan.plans.policy.SlipPolicy)
    answer_by: date
    items: list[dict[str, Any]] = Field(default_factory=list, sa_type=JSON)
    issued_at: datetime = Field(default_factory=utcnow, sa_column=_ts())
    by: str
