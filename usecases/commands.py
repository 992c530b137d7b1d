"""What a user can ask for, one typed command per action. Every door (CLI, web, Slack, an import and later
DingTalk and WeCom) parses its input into one of these and calls the use case that takes it; the command says
what, the `Actor` passed beside it says who and from where.

All fields are keyword-only: `SignLetter(department=…, town=…, signed_on=…)` reads the same at every door.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date
from typing import Any

from fuquan.answers.uploads import Upload


@dataclass(frozen=True, kw_only=True)
class SignLetter:
    task_no: int | None = None  # None: the plan's one letters task
    department: str  # a unit, or a group standing for each member
    town: str
    signed_on: date | None = None
    drafted_on: date | None = None
    doc_no: str | None = None
    signed_by: str | None = None


@dataclass(frozen=True, kw_only=True)
class FileTrainingPlan:
    task_no: int | None = None
    department: str
    filed_on: date


@dataclass(frozen=True, kw_only=True)
class AddTrainingSession:
    task_no: int | None = None
    department: str
    held_on: date
    form: str
    attendees: int
    towns: tuple[str, ...]
    note: str | None = None


@dataclass(frozen=True, kw_only=True)
class CompleteTraining:
    task_no: int | None = None
    department: str
    town: str
    completed_on: date


@dataclass(frozen=True, kw_only=True)
class RecordExam:
    """A sitting scheduled (no results) or held (results given)."""

    task_no: int | None = None
    town: str
    exam_on: date
    candidates: int | None = None
    sat: int | None = None
    passed: int | None = None


@dataclass(frozen=True, kw_only=True)
class SetExamTown:
    task_no: int | None = None
    town: str
    pre_training_on: date | None = None
    certified_on: date | None = None


@dataclass(frozen=True, kw_only=True)
class SubmitReport:
    task_no: int | None = None
    town: str
    period: str  # YYYY-MM
    submitted_on: date
    figures: dict[str, Any] = field(default_factory=dict)


@dataclass(frozen=True, kw_only=True)
class SetStatus:
    """An untracked share's (or one period's) status: 未开始 / 进行中 / 已完成."""

    task_no: int
    unit: str
    status: str
    completed_on: date | None = None
    note: str | None = None
    evidence: str | None = None
    period: str | None = None


Record = (SignLetter | FileTrainingPlan | AddTrainingSession | CompleteTraining | RecordExam | SetExamTown
          | SubmitReport | SetStatus)


KIND_LABEL = {"letter": "承接确认书签订", "training_plan": "培训指导计划报送", "training": "岗前培训完成",
              "exam": "专门法律知识考试", "certify": "执法证件换领", "report": "月报报送"}


@dataclass(frozen=True, kw_only=True)
class ReportedItem:
    """One tracked item a unit reports done (fuquan.tracking.ledger.Item names it), with its own facts."""

    kind: str  # letter | training_plan | training | exam | certify | report
    department: str = ""
    town: str = ""
    period: str = ""
    on: date
    doc_no: str | None = None
    figures: dict[str, Any] = field(default_factory=dict)
    candidates: int | None = None
    sat: int | None = None
    passed: int | None = None

    @property
    def kind_label(self) -> str:
        return KIND_LABEL.get(self.kind, self.kind)

    def as_dict(self) -> dict[str, Any]:
        return {"kind": self.kind, "department": self.department, "town": self.town, "period": self.period,
                "on": self.on.isoformat(), "doc_no": self.doc_no, "figures": self.figures,
                "candidates": self.candidates, "sat": self.sat, "passed": self.passed}

    @classmethod
    def from_dict(cls, d: dict[str, Any]) -> ReportedItem:
        return cls(**{**d, "on": date.fromisoformat(d["on"])})


@dataclass(frozen=True, kw_only=True)
class GiveFeedback:
    unit: str
    task_no: int
    period: str = ""  # the row's period ("" a whole share)
    note: str
    status: str = "进行中"  # an untracked share: 进行中 / 已完成
    done_on: date | None = None  # when the work was finished (已完成); the day of submission when not given
    items: tuple[ReportedItem, ...] = ()  # a tracked share: which of its missing items are done
    files: tuple[Upload, ...] = ()
    nonce: str | None = None  # a form's one-time token: the same form twice records once


@dataclass(frozen=True, kw_only=True)
class ReviewFeedback:
    feedback_id: int
    accept: bool
    reason: str = ""


@dataclass(frozen=True, kw_only=True)
class AskExtension:
    unit: str  # a unit, or (from the CLI) a group standing for each member
    task_no: int
    period: str = ""
    new_due: date
    reason: str
    nonce: str | None = None
    approved_by: str | None = None  # the CLI records a request the 专班 already approved: asked and granted at once


@dataclass(frozen=True, kw_only=True)
class DecideExtension:
    extension_id: int
    grant: bool
    reason: str = ""
    deciding_unit: str | None = None  # a lead unit deciding (answers.extensions_by: 牵头单位); None: the 专班


@dataclass(frozen=True, kw_only=True)
class Acknowledge:
    unit: str
    message_id: int


@dataclass(frozen=True, kw_only=True)
class ClosePlan:
    note: str = ""


@dataclass(frozen=True, kw_only=True)
class ReopenPlan:
    pass


@dataclass(frozen=True, kw_only=True)
class AdjustScore:
    """A leader's points for a unit's score in a quarter (2024Q2) or a year (2024), with the reason; undone by an
    opposite entry, never by deleting one."""

    unit: str
    points: float  # non-zero, at most one decimal place (scores are shown to one)
    reason: str
    period: str


@dataclass(frozen=True, kw_only=True)
class IssueSlips:
    """督办单 for each unit with overdue items as of each day (none given: today); `units` narrows it to those."""

    days: tuple[date, ...] = ()
    units: tuple[str, ...] = ()
