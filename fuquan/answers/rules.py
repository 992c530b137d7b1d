"""Units answering back: the plan's policy for 签收 / 反馈 / 复核 / 延期 and the rules they follow. Pure.

    交办 (a reminder) → 签收 (the unit acknowledges it) → 反馈 (progress with 佐证) → 复核 (the 专班 accepts:
    通过, or sends back: 退回) → 办结.  A 延期 request goes in before the due date and is decided (批准 / 不批准)
    within `reply_within` working days by the 专班 or, if the plan says so, by the task's lead unit.

A reminder left unacknowledged for `ack_within` working days is sent once more and escalated to the task's
lead unit and the 专班. Feedback that says 已完成 counts as done only once it passes 复核, unless the plan
turns review off.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass
from datetime import date
from typing import Any

from fuquan.dates.workdays import WorkCalendar
from fuquan.errors import InvalidValue

# the states of a piece of feedback and of an extension request
PENDING_REVIEW, ACCEPTED, RETURNED = "待复核", "通过", "已退回"
ASKED, GRANTED, REFUSED = "待批", "批准", "不批准"
FEEDBACK_STATUSES = ("进行中", "已完成")


@dataclass(frozen=True)
class AnswerPolicy:
    ack_within: int = 2  # working days before an unacknowledged reminder is sent again and escalated
    reply_within: int = 3  # working days the decider has to answer an extension request
    extensions_by: str = "专班"  # who decides extensions: 专班 or 牵头单位 (the task's lead unit)
    review: bool = True  # feedback saying 已完成 waits for 复核 before it counts
    link_days: int = 120  # how long a unit's personal link stays valid

    def as_dict(self) -> dict[str, Any]:
        return asdict(self)

    @classmethod
    def from_dict(cls, d: dict[str, Any] | None) -> AnswerPolicy:
        return cls(**d) if d else cls()

    def reply_by(self, asked_on: date, cal: WorkCalendar) -> date:
        """The last day an extension request may wait for its decision."""
        return cal.add(asked_on, self.reply_within)


def check_extension(due: date | None, new_due: date, today: date, year: int) -> None:
    """An extension is asked before the due date passes, for a later date within the plan's reach."""
    if due is None:
        raise InvalidValue("该事项没有确定的截止日期, 无需申请延期")
    if today > due:
        raise InvalidValue(f"截止日期 {due} 已过, 不能再申请延期; 请尽快完成并反馈, 或联系工作专班")
    if new_due <= due:
        raise InvalidValue(f"新的截止日期应晚于原截止日期 {due}")
    if new_due.year > year + 1:
        raise InvalidValue(f"新的截止日期 {new_due} 超出计划年度 {year} 的范围")


def check_feedback(status: str, note: str) -> None:
    if status not in FEEDBACK_STATUSES:
        raise InvalidValue(f"进展状态应为 {' 或 '.join(FEEDBACK_STATUSES)}, 实为 “{status}”")
    if not note.strip():
        raise InvalidValue("请填写进展说明")

