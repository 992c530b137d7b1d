"""Every state a share, a piece of feedback, an extension request and a delivery can be in, and the transitions
between them, written once. Pure.

The values are the words the 专班 reads (and what the database and `--json` have always held), so an enum
member compares equal to, and serialises as, its Chinese word.

    Colour      a share's (or one period's) standing as of a day: 红 / 黄 / 绿 / 逾期完成 / 已完成 / 持续 / 待定
    Progress    what a unit (or the 专班) recorded for an untracked share: 未开始 / 进行中 / 已完成
    Review      feedback:  待复核 ──通过──▶ 通过        an extension:  待批 ──批准──▶ 批准
                            └────退回──▶ 已退回                        └──不批准─▶ 不批准
    SendResult  what one attempt to send a message came to (the send log's result): sent / reconciled / retry /
                unknown / failed; Delivery words it
    Delivery    one message's fate, in one word everywhere (the send log, the board, --json)
"""

from __future__ import annotations

from enum import StrEnum

from fuquan.errors import AlreadyDecided, Failure, InvalidValue


class Colour(StrEnum):
    RED = "红"
    YELLOW = "黄"
    GREEN = "绿"
    DONE_LATE = "逾期完成"
    DONE = "已完成"
    ONGOING = "持续"
    PENDING = "待定"

    @property
    def finished(self) -> bool:
        return self in (Colour.DONE, Colour.DONE_LATE)


class Progress(StrEnum):
    NOT_STARTED = "未开始"
    IN_PROGRESS = "进行中"
    DONE = "已完成"


class Review(StrEnum):
    WAITING = "待复核"
    ACCEPTED = "通过"
    RETURNED = "已退回"


class Extension(StrEnum):
    ASKED = "待批"
    GRANTED = "批准"
    REFUSED = "不批准"


class SendResult(StrEnum):
    SENT = "sent"
    RECONCILED = "reconciled"  # a send in doubt, found delivered on the platform
    RETRY = "retry"  # nothing can have arrived: the next run sends it
    UNKNOWN = "unknown"  # it may have arrived: looked for (or reported) before anything is sent again
    FAILED = "failed"

    @property
    def delivered(self) -> bool:
        return self in (SendResult.SENT, SendResult.RECONCILED)

    @classmethod
    def of_refusal(cls, category: Failure) -> SendResult:
        """A notifier's refusal (fuquan.errors.NotificationError.category) as a result."""
        return cls.UNKNOWN if category == Failure.UNKNOWN else cls.RETRY if category == Failure.RETRY else cls.FAILED


class Delivery(StrEnum):
    SENT = "已发出"
    SHOWN = "仅显示, 未发出"  # a console destination: printed and filed, nobody was sent anything
    RECONCILED = "已送达(核对)"
    RETRY = "未发出, 待重试"
    UNKNOWN = "结果未知"
    FAILED = "发送失败"

    @classmethod
    def of(cls, result: str, console: bool) -> Delivery:
        """The word for a send log's result (SendResult) on a destination."""
        sent = SendResult(result) if result in tuple(SendResult) else SendResult.FAILED
        if console and sent.delivered:
            return cls.SHOWN
        return {SendResult.SENT: cls.SENT, SendResult.RECONCILED: cls.RECONCILED, SendResult.RETRY: cls.RETRY,
                SendResult.UNKNOWN: cls.UNKNOWN}.get(sent, cls.FAILED)


def reviewed(current: str, accept: bool, reason: str, decided_by: str | None) -> Review:
    """待复核 → 通过 / 已退回. Sending back needs a reason the unit can act on; a decided one is not decided again."""
    if current != Review.WAITING:
        raise AlreadyDecided(f"该反馈已{current} ({decided_by}), 未重复处理")
    if not accept and not reason.strip():
        raise InvalidValue("退回时请写明理由, 以便单位补充")
    return Review.ACCEPTED if accept else Review.RETURNED


def decided(current: str, grant: bool, reason: str, decided_by: str | None) -> Extension:
    """待批 → 批准 / 不批准. Refusing needs a reason; a decided request is not decided again."""
    if current != Extension.ASKED:
        raise AlreadyDecided(f"该申请已{current} ({decided_by}), 未重复处理")
    if not grant and not reason.strip():
        raise InvalidValue("不批准时请写明理由")
    return Extension.GRANTED if grant else Extension.REFUSED
