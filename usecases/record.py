"""Recording progress: one use case for every fact a unit or the 专班 records (a letter, training, an exam, a
月报, an untracked share's status). The CLI, the import and the 专班's approval of a unit's 反馈 all record
through here, so a fact is validated and audited the same way whichever door it came through.

A group named for a unit (区级执法单位, 各镇) records once per member; the result says how many.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import asdict, dataclass, field
from datetime import date
from typing import Any

from sqlmodel import Session

from fuquan.tracking.actor import Actor
from models import records
from models.db import transaction
from models.stored import StoredPlan

from .commands import (
    AddTrainingSession,
    CompleteTraining,
    FileTrainingPlan,
    Record,
    RecordExam,
    ReportedItem,
    SetExamTown,
    SetStatus,
    SignLetter,
    SubmitReport,
)
from .context import Context
from .guard import open_plan

# each command's recording function (models/records.py: its checks and its audit rows)
_FUNCTIONS: dict[type, Callable[..., Any]] = {
    SignLetter: records.sign_letter, FileTrainingPlan: records.file_training_plan,
    AddTrainingSession: records.add_training_session, CompleteTraining: records.complete_training,
    RecordExam: records.record_exam, SetExamTown: records.set_exam_town, SubmitReport: records.submit_report,
    SetStatus: records.set_task_status,
}


@dataclass
class Recorded:
    written: list[dict[str, str]] = field(default_factory=list)  # the units of each record ({"department": …})
    replaced: list[str] = field(default_factory=list)  # corrections made, "ref 字段 old → new"

    @property
    def count(self) -> int:
        return len(self.written)


def record(ctx: Context, cmd: Record, *, actor: Actor, today: date) -> Recorded:
    """Record one fact (for each member of a group named), in one transaction."""
    with transaction(ctx.engine, plan=ctx.plan.id) as session:
        open_plan(session, ctx.plan)
        return record_in(session, ctx.plan, cmd, actor=actor, today=today)


def record_in(session: Session, sp: StoredPlan, cmd: Record, *, actor: Actor, today: date) -> Recorded:
    """The same, in the caller's transaction (an import of many rows, an approval of a unit's items)."""
    kwargs = asdict(cmd)
    if isinstance(cmd, AddTrainingSession):
        kwargs["towns"] = list(cmd.towns)
    before = len(session.info.get("replaced", []))
    written = records.for_each_member(_FUNCTIONS[type(cmd)], session, sp, actor, today, **kwargs)
    return Recorded(written, list(session.info.get("replaced", []))[before:])


def item_command(task_no: int, item: ReportedItem) -> Record:
    """The record a unit's reported item stands for: what `fuquan letter sign` (…) would record."""
    if item.kind == "letter":
        return SignLetter(task_no=task_no, department=item.department, town=item.town, signed_on=item.on,
                          doc_no=item.doc_no or None)
    if item.kind == "training_plan":
        return FileTrainingPlan(task_no=task_no, department=item.department, filed_on=item.on)
    if item.kind == "training":
        return CompleteTraining(task_no=task_no, department=item.department, town=item.town, completed_on=item.on)
    if item.kind == "exam":
        return RecordExam(task_no=task_no, town=item.town, exam_on=item.on, candidates=item.candidates,
                          sat=item.sat, passed=item.passed)
    if item.kind == "certify":
        return SetExamTown(task_no=task_no, town=item.town, certified_on=item.on)
    if item.kind == "report":
        return SubmitReport(task_no=task_no, town=item.town, period=item.period, submitted_on=item.on,
                            figures=item.figures)
    raise ValueError(item.kind)  # the doors only build the kinds above
