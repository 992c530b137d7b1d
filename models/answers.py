"""What units send back, and the 专班's decisions on it (schema 0007).

    unit_link     each unit's link generation: rotating it (fuquan links rotate) revokes every link and
                  session issued before
    ack           a reminder acknowledged (签收): who, when, from where
    feedback      a share's (or one period's) progress as the unit reports it, waiting for 复核
    evidence      a 佐证 file: stored by content hash outside any served folder, its name sanitised
    extension     a 延期 request and its decision
    form_use      every form's one-time nonce and every Slack request's signature: the same submission
                  twice (a double click, a replayed Slack body) records once

Each row names its plan and unit so a unit's session can be held to its own rows with one WHERE clause.
"""

from __future__ import annotations

from datetime import date, datetime
from typing import Any

from sqlalchemy import JSON, UniqueConstraint
from sqlmodel import Field, SQLModel

from .tables import _ts, utcnow


class UnitLinkRow(SQLModel, table=True):
    __tablename__ = "unit_link"
    __table_args__ = (UniqueConstraint("plan_id", "holder"),)
    id: int | None = Field(default=None, primary_key=True)
    plan_id: int = Field(foreign_key="plan.id", index=True)
    holder: str  # a unit's name, or 专班
    generation: int = 1
    rotated_at: datetime = Field(default_factory=utcnow, sa_column=_ts())


class AckRow(SQLModel, table=True):
    __tablename__ = "ack"
    __table_args__ = (UniqueConstraint("reminder_id"),)
    id: int | None = Field(default=None, primary_key=True)
    plan_id: int = Field(foreign_key="plan.id", index=True)
    reminder_id: int = Field(foreign_key="reminder.id")
    unit_id: int = Field(foreign_key="unit.id", index=True)
    at: datetime = Field(default_factory=utcnow, sa_column=_ts())
    by: str
    source: str  # web 127.0.0.1 / slack U123 / cli


class FeedbackRow(SQLModel, table=True):
    __tablename__ = "feedback"
    id: int | None = Field(default=None, primary_key=True)
    plan_id: int = Field(foreign_key="plan.id", index=True)
    task_id: int = Field(foreign_key="task.id", index=True)
    unit_id: int = Field(foreign_key="unit.id", index=True)
    period: str = ""  # "" for a whole share, else the period's label (2024Q1, 2024-05-31)
    status: str  # 进行中 | 已完成, as the unit says (fuquan.tracking.states.Progress)
    note: str
    state: str  # 待复核 | 通过 | 已退回 (fuquan.tracking.states.Review)
    evidence: list[int] = Field(default_factory=list, sa_type=JSON)  # evidence row ids
    submitted_on: date
    done_on: date | None = None  # when the unit says the work was finished: what 通过 records (schema 0008)
    # a tracked share's items as the unit reports them ({kind, department, town, period, on, doc_no, figures …}):
    # 通过 records each exactly as the CLI would (schema 0008)
    items: list[dict[str, Any]] = Field(default_factory=list, sa_type=JSON)
    at: datetime = Field(default_factory=utcnow, sa_column=_ts())
    by: str
    source: str
    decided_by: str | None = None
    decided_at: datetime | None = Field(default=None, sa_column=_ts(nullable=True))
    reason: str | None = None  # why it was sent back


class EvidenceRow(SQLModel, table=True):
    __tablename__ = "evidence"
    id: int | None = Field(default=None, primary_key=True)
    plan_id: int = Field(foreign_key="plan.id", index=True)
    unit_id: int = Field(foreign_key="unit.id", index=True)
    sha256: str = Field(index=True)
    kind: str  # pdf | jpg | png | docx | xlsx
    size: int
    name: str  # the uploaded name, sanitised
    at: datetime = Field(default_factory=utcnow, sa_column=_ts())


class ExtensionRow(SQLModel, table=True):
    __tablename__ = "extension"
    id: int | None = Field(default=None, primary_key=True)
    plan_id: int = Field(foreign_key="plan.id", index=True)
    task_id: int = Field(foreign_key="task.id", index=True)
    unit_id: int = Field(foreign_key="unit.id", index=True)
    period: str = ""
    due: date
    new_due: date
    reason: str
    state: str  # 待批 | 批准 | 不批准 (fuquan.tracking.states.Extension)
    asked_on: date
    reply_by: date
    at: datetime = Field(default_factory=utcnow, sa_column=_ts())
    by: str
    source: str
    decided_by: str | None = None
    decided_at: datetime | None = Field(default=None, sa_column=_ts(nullable=True))
    decision_reason: str | None = None


class FormUseRow(SQLModel, table=True):
    __tablename__ = "form_use"
    id: int | None = Field(default=None, primary_key=True)
    nonce: str = Field(unique=True)  # says its kind and unit: feedback:<unit id>:<token>, slack-http:<digest> …
    at: datetime = Field(default_factory=utcnow, sa_column=_ts())
