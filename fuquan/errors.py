"""The one exception tree of fuquan.

    FuquanError                  base; the CLI turns it into `错误: …` and exit code 1
    ├── DeadlineError            a deadline phrase the grammar does not know (names the phrase)
    ├── PlanError                config/tasks.yaml is wrong; carries every Problem found
    ├── LookupFailed             an unknown unit / town / task / plan; lists the names that exist
    ├── AmbiguousPlan            several plans fit what was given (--district / --year); lists them
    ├── InvalidValue             an impossible value (passed > sat, a signing date in the future)
    │   ├── NotApplicable        a department × town cell the plan marks as not applying
    │   └── PlanClosed           a closed plan year takes no new 反馈, 延期 or records (fuquan plan reopen)
    ├── ImportRejected           a sheet with bad rows: every problem by sheet, row and column; nothing imported
    ├── NotYours                 a row that does not exist or belongs to another unit (the two look alike)
    ├── FileMissing              a stored file the database names is not on disk (a restore without data/evidence)
    ├── AlreadyDecided           feedback or an extension request decided before: nothing is done twice
    ├── BadLink                  a personal link or session forged, expired or revoked (fuquan.answers.links)
    ├── TooManyAttempts          too many failed links from one address or for one link: wait, then try again
    ├── Refused                  a button press not shaped as its platform sends it, or not for this unit:
    │                            acknowledged, logged, nothing recorded
    ├── StorageError             the database refused (locked, unreachable, not migrated)
    │   └── Unavailable          busy past the write wait, or unreachable: nothing written, try later (web: 503)
    └── NotificationError        a channel refused a message; `category` says what to do about it

The core raises these; only the doors turn them into words: the CLI into `错误: …` and an exit code, the web app
into a Chinese page with its HTTP status.
Messages are user-facing and therefore Chinese.
"""

from __future__ import annotations

from dataclasses import dataclass
from enum import StrEnum


class FuquanError(Exception):
    """Base of every error fuquan raises on purpose."""

    exit_code = 1


class DeadlineError(FuquanError):
    def __init__(self, text: str, reason: str) -> None:
        self.text = text
        self.reason = reason
        super().__init__(f"无法识别的完成时限 “{text}”: {reason}")


@dataclass(frozen=True, order=True)
class Problem:
    """One thing wrong in a plan file, with where it is (1-based line and column)."""

    line: int
    col: int
    message: str
    path: str = ""

    def render(self) -> str:
        return f"{self.path}:{self.line}:{self.col}: {self.message}"


class PlanError(FuquanError):
    def __init__(self, problems: list[Problem]) -> None:
        self.problems = sorted(problems)
        lines = "\n".join(p.render() for p in self.problems)
        super().__init__(f"计划配置有 {len(self.problems)} 处错误:\n{lines}")


class LookupFailed(FuquanError):
    def __init__(self, what: str, name: str, known: list[str]) -> None:
        self.what = what
        self.name = name
        self.known = known
        shown = "、".join(known) if known else "(无)"
        super().__init__(f"未知{what} “{name}”; 已有{what}: {shown}")


class AmbiguousPlan(FuquanError):
    def __init__(self, plans: list[str]) -> None:
        self.plans = plans
        super().__init__(f"数据库中有 {len(plans)} 个计划符合条件: {'、'.join(plans)}; 请用 --district 和 --year 指明是哪一个")


class InvalidValue(FuquanError):
    pass


class NotApplicable(InvalidValue):
    """A department × town cell the plan marks `not_applicable`: refused when named, skipped in a group."""


class PlanClosed(InvalidValue):
    """The plan year was closed (`fuquan plan close`): status and reports still work, nothing new is recorded."""


class ImportRejected(FuquanError):
    def __init__(self, path: str, problems: list[str]) -> None:
        lines = "\n".join(problems[:200])
        more = f"\n… 另有 {len(problems) - 200} 处" if len(problems) > 200 else ""
        super().__init__(f"{path}: {len(problems)} 处错误, 未导入任何数据:\n{lines}{more}")


class NotYours(FuquanError):
    """Asked for a row that does not exist or belongs to another unit: the two look the same from outside."""

    def __init__(self, what: str) -> None:
        super().__init__(f"找不到该{what}, 或它不属于本单位")


class FileMissing(FuquanError):
    """A stored file the database names is not on disk (a restore without the evidence folder): a page, not a 500."""


class AlreadyDecided(FuquanError):
    """Feedback already reviewed, an extension already decided: said, and nothing changes."""


class BadLink(FuquanError):
    """A personal link or session that is forged, expired, revoked or of another plan."""


class TooManyAttempts(FuquanError):
    """Too many failed link attempts from one address within the window (web/guard.py)."""


class Refused(FuquanError):
    """A Slack (later DingTalk, WeCom) payload not for this unit or not as the platform sends it."""


class StorageError(FuquanError):
    pass


class Unavailable(StorageError):
    """The database is busy past the wait bound or cannot be reached: nothing was written, try again later (the
    web app's 503)."""


class Failure(StrEnum):
    """What a failed send means for the message (from Slack's, the robots' and the apps' error codes)."""

    RETRY = "retry"  # try again later (rate limited, 5xx, connection refused): the message stays pending
    UNKNOWN = "unknown"  # it may have arrived (timeout, dropped connection): look for it before re-sending
    # wrong channel (channel_not_found, not_in_channel, is_archived, no webhook URL): tell the 专班, keep sending
    DESTINATION = "destination"
    AUTH = "auth"  # bad token (invalid_auth, token_revoked, missing_scope …): stop the whole run
    CONTENT = "content"  # the message itself was refused (msg_too_long, invalid_blocks): a bug; fall back to text


class NotificationError(FuquanError):
    """A send that failed, and what that means (`category`, a Failure; its value given as a string is taken too,
    and any other string is a programming error). Messages never contain a token, a webhook URL or a signing
    secret."""

    def __init__(self, category: Failure | str, code: str, destination: str, detail: str = "") -> None:
        self.category, self.code, self.destination, self.detail = Failure(category), code, destination, detail
        super().__init__(f"发送到 {destination} 失败: {code}" + (f" ({detail})" if detail else ""))
