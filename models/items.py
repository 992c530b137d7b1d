"""Tables for the tracked items (letters, training, exams, monthly reports) and the audit trail.

Item rows exist only once something is recorded: the grids (department × town) come from the
plan's `track:` blocks, and a missing row simply means "not yet".
"""

from __future__ import annotations

from datetime import date, datetime
from typing import Any

from sqlalchemy import JSON, UniqueConstraint
from sqlmodel import Field, SQLModel

from .tables import _ts, utcnow


class LetterRow(SQLModel, table=True):
    """承接确认书 between one district department and one town."""

    __tablename__ = "letter"
    __table_args__ = (UniqueConstraint("task_id", "department_id", "town_id"),)
    id: int | None = Field(default=None, primary_key=True)
    task_id: int = Field(foreign_key="task.id", index=True)
    department_id: int = Field(foreign_key="unit.id")
    town_id: int = Field(foreign_key="unit.id")
    drafted_on: date | None = None
    signed_on: date | None = None
    doc_no: str | None = None
    signed_by: str | None = None


class TrainingPlanRow(SQLModel, table=True):
    """A department's 培训指导计划 filed with 区司法局."""

    __tablename__ = "training_plan"
    __table_args__ = (UniqueConstraint("task_id", "department_id"),)
    id: int | None = Field(default=None, primary_key=True)
    task_id: int = Field(foreign_key="task.id", index=True)
    department_id: int = Field(foreign_key="unit.id")
    filed_on: date


class TrainingSessionRow(SQLModel, table=True):
    __tablename__ = "training_session"
    id: int | None = Field(default=None, primary_key=True)
    task_id: int = Field(foreign_key="task.id", index=True)
    department_id: int = Field(foreign_key="unit.id")
    held_on: date
    form: str  # 集中培训 / 现场观摩 / 跟班学习 / 传帮带
    attendees: int
    towns: list[str] = Field(sa_type=JSON)
    note: str | None = None


class TrainingDoneRow(SQLModel, table=True):
    """Pre-job training of one town by one department completed."""

    __tablename__ = "training_done"
    __table_args__ = (UniqueConstraint("task_id", "department_id", "town_id"),)
    id: int | None = Field(default=None, primary_key=True)
    task_id: int = Field(foreign_key="task.id", index=True)
    department_id: int = Field(foreign_key="unit.id")
    town_id: int = Field(foreign_key="unit.id")
    completed_on: date


class ExamTownRow(SQLModel, table=True):
    """Per town: the pre-exam training and 证件换领 (certificates renewed)."""

    __tablename__ = "exam_town"
    __table_args__ = (UniqueConstraint("task_id", "town_id"),)
    id: int | None = Field(default=None, primary_key=True)
    task_id: int = Field(foreign_key="task.id", index=True)
    town_id: int = Field(foreign_key="unit.id")
    pre_training_on: date | None = None
    certified_on: date | None = None


class ExamSittingRow(SQLModel, table=True):
    """One exam sitting of a town (能考尽考: retakes are further sittings). Held once `sat` is known."""

    __tablename__ = "exam_sitting"
    __table_args__ = (UniqueConstraint("task_id", "town_id", "exam_on"),)
    id: int | None = Field(default=None, primary_key=True)
    task_id: int = Field(foreign_key="task.id", index=True)
    town_id: int = Field(foreign_key="unit.id")
    exam_on: date
    candidates: int | None = None
    sat: int | None = None
    passed: int | None = None


class MonthlyReportRow(SQLModel, table=True):
    """A town's 月报 for one period (YYYY-MM); figures as {name: number}."""

    __tablename__ = "monthly_report"
    __table_args__ = (UniqueConstraint("task_id", "town_id", "period"),)
    id: int | None = Field(default=None, primary_key=True)
    task_id: int = Field(foreign_key="task.id", index=True)
    town_id: int = Field(foreign_key="unit.id")
    period: str
    submitted_on: date
    figures: dict[str, Any] = Field(default_factory=dict, sa_type=JSON)


class PeriodStatusRow(SQLModel, table=True):
    """One period of a recurring task done by one unit (2024Q1 案卷评查): each period is owed on its own."""

    __tablename__ = "period_status"
    __table_args__ = (UniqueConstraint("task_id", "unit_id", "period"),)
    id: int | None = Field(default=None, primary_key=True)
    task_id: int = Field(foreign_key="task.id", index=True)
    unit_id: int = Field(foreign_key="unit.id")
    period: str  # 2024-03, 2024Q1, 2024H1, 2024, 2024W05
    status: str
    completed_on: date | None = None
    note: str | None = None
    evidence: str | None = None


class AuditRow(SQLModel, table=True):
    """Who changed what, when: one row per changed field."""

    __tablename__ = "audit"
    id: int | None = Field(default=None, primary_key=True)
    # Since schema 0002: which plan (a province database holds many). NULL on rows written before it in
    # a database holding several plans, where the migration cannot tell.
    plan_id: int | None = Field(default=None, foreign_key="plan.id", index=True)
    at: datetime = Field(default_factory=utcnow, sa_column=_ts())
    by: str
    source: str  # cli / import:FILE
    entity: str  # letter / training_plan / … / assignment
    ref: str  # human-readable key, e.g. 任务2/区市场监督管理局/湾沚镇
    field: str
    old: str | None = None
    new: str | None = None
