"""Reminder policy, unit → channel mapping, schedules and score weights, as read from the plan's YAML.
Pure data. The defaults of every field live in one place, the YAML schema (schema.py); these classes
are built by the loader from a validated file, or from what a sync stored.

Channels hold no secrets: a Slack channel ID, or the NAME of a robot webhook whose URL and signing
secret live in the environment (FUQUAN_WEBHOOK_<NAME>, FUQUAN_WEBHOOK_<NAME>_SECRET).
"""

from __future__ import annotations

from dataclasses import asdict, dataclass, field, fields, replace
from datetime import time
from typing import Any

ZHUANBAN = "专班"


@dataclass(frozen=True)
class SlipPolicy:
    """督办单 (`reminders: slips:`): an item's level by working days late — 蓝 up to `yellow_after`, 黄 up to
    `red_after`, 红 beyond —, the working days a unit has to answer, and whether the daily run issues slips itself.
    The defaults are the schema's; a plan stored before slips existed reads them."""

    yellow_after: int = 5
    red_after: int = 15
    answer_within: int = 3
    daily: bool = False

    def level(self, workdays_late: int) -> str:
        return "红" if workdays_late > self.red_after else "黄" if workdays_late > self.yellow_after else "蓝"


@dataclass(frozen=True)
class SmsPolicy:
    """Text messages at the last step (`reminders: sms:`): a share escalated and at least `after` working days late
    (None: from the escalation on) gets its unit's contacts an SMS of at most `max_chars` characters."""

    after: int | None = None
    max_chars: int = 140


@dataclass(frozen=True)
class ReminderPolicy:
    before_due: tuple[int, ...]  # working days before the due date
    overdue_every: int  # working days between overdue reminders
    escalate_after: int  # working days overdue before the lead unit and the 专班 are told too
    ongoing_every: int  # working days between progress nudges for open-ended work
    send_at: str
    quiet_after: str
    overrides: dict[int, dict[str, Any]]
    report_ask_day: int  # on this day of a period's month each town is asked for its 月报
    slips: SlipPolicy = SlipPolicy()  # 督办单 levels and answer time
    sms: SmsPolicy | None = None  # text messages at the last step; None: none

    def for_task(self, no: int) -> ReminderPolicy:
        o = self.overrides.get(no)
        if not o:
            return self
        changes: dict[str, Any] = {k: tuple(v) if k == "before_due" else v for k, v in o.items()}
        return replace(self, **changes)

    def quiet(self, t: time) -> bool:
        """Outside [send_at, quiet_after): reminders wait for office hours."""
        return not (time.fromisoformat(self.send_at) <= t < time.fromisoformat(self.quiet_after))

    def as_dict(self) -> dict[str, Any]:
        d = asdict(self)
        d["before_due"] = list(self.before_due)
        d["overrides"] = {str(k): v for k, v in self.overrides.items()}
        return d

    @classmethod
    def from_dict(cls, d: dict[str, Any]) -> ReminderPolicy:
        d = dict(d)
        d["before_due"] = tuple(d["before_due"])
        d["overrides"] = {int(k): v for k, v in d["overrides"].items()}
        d["slips"] = SlipPolicy(**d.get("slips", {}))
        d["sms"] = SmsPolicy(**d["sms"]) if d.get("sms") else None
        return cls(**d)


@dataclass(frozen=True)
class Destination:
    kind: str  # slack | dingtalk | wecom (robots) | dingtalk-app | wecom-app | dingtalk-oto (contacts, in person) | sms
    target: str  # Slack channel ID, webhook NAME (never a URL), or for the person channels the unit's name

    def label(self) -> str:
        return LABELS[self.kind] + f" {self.target}"


LABELS = {"slack": "Slack", "dingtalk": "钉钉", "wecom": "企业微信", "dingtalk-app": "钉钉工作通知",
          "wecom-app": "企业微信应用消息", "dingtalk-oto": "钉钉单聊消息", "sms": "短信", "console": "控制台"}
PERSON_KINDS = {"dingtalk": "dingtalk-app", "wecom": "wecom-app"}  # `persons: dingtalk` → the channel kind
# The DingTalk robot's plain 1:1 message (oToMessages/batchSend): no buttons that call back, but the one kind of
# message DingTalk reports read or unread per person. The 签收 chase's repeat goes this way to a unit reached by
# DingTalk cards (flows.chase); never a channel a plan names.
READ_RECEIPTS = "dingtalk-oto"
PERSON_CHANNELS = frozenset({*PERSON_KINDS.values(), READ_RECEIPTS})  # channels whose messages reach named persons


def platform_of(kind: str) -> str:
    """The platform a channel kind is on: dingtalk-app and dingtalk-oto → dingtalk, wecom-app → wecom."""
    return kind.split("-")[0]


@dataclass(frozen=True)
class Channels:
    zhuanban: Destination | None = None
    units: dict[str, Destination] = field(default_factory=dict)

    def of(self, recipient: str) -> tuple[Destination | None, bool]:
        """Where a recipient's messages go, and whether that is the 专班 standing in for it."""
        if recipient == ZHUANBAN:
            return self.zhuanban, False
        if recipient in self.units:
            return self.units[recipient], False
        return self.zhuanban, True

    def as_dict(self) -> dict[str, Any]:
        return {"zhuanban": asdict(self.zhuanban) if self.zhuanban else None,
                "units": {k: asdict(v) for k, v in self.units.items()}}

    @classmethod
    def from_dict(cls, d: dict[str, Any]) -> Channels:
        z = d.get("zhuanban")
        return cls(Destination(**z) if z else None, {k: Destination(**v) for k, v in d.get("units", {}).items()})


# The flows, once: name → what the 专班 reads about it. flows/registry.py gives each its recipe, the CLI
# (`fuquan run`), both runners and the schedule check in the loader take the names from here.
FLOWS = {
    "sync-plan": "校验计划配置并载入数据库 (单一事务)",
    "deadline-check": "每日进度检查: 计算红黄绿, 发送到期/逾期提醒, 更新看板",
    "monthly-status": "月度情况收集: 关账冻结、未报送的乡镇、与上月相比的变化, 生成通报、Excel 和图表",
    "quarterly-analysis": "季度综合分析: 上一季度各单位、各乡镇的按时率、逾期和得分",
    "annual-evaluation": "年度总结评估: 各乡镇得分排名与失分原因",
    "backup": "每日备份: 数据库、佐证材料、链接密钥和计划文件打包一份, 只保留最近几份 (keep)",
}
BACKUP_KEEP = 14  # daily archives kept when the schedule does not say


@dataclass(frozen=True)
class Schedule:
    """One definition for both runners: Prefect deployments (`fuquan serve`) and APScheduler."""

    name: str  # a flow name, e.g. deadline-check
    cron: str  # five fields, in the plan's time zone
    workdays_only: bool  # on a non-working day (调休 calendar) the tick does nothing
    keep: int | None = None  # backup only: how many daily archives are kept

    def as_dict(self) -> dict[str, Any]:
        return asdict(self)


@dataclass(frozen=True)
class Weights:
    on_time: float
    completion: float
    reports: float
    late_penalty: float  # points per working day late
    late_penalty_cap: float
    # what one share weighs in a unit's task points by its role in the task (the first unit named leads); equal
    # by default, and a plan synced before these existed reads them as equal: its scores do not move
    lead: float = 1.0
    partner: float = 1.0

    def role_weight(self, role: str) -> float:
        return self.lead if role == "lead" else self.partner

    def as_dict(self) -> dict[str, float]:
        return {f.name: getattr(self, f.name) for f in fields(self)}
