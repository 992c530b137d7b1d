"""The shape of config/tasks.yaml as pydantic models, and pydantic's errors in Chinese.

Only the shape is checked here (types, required fields, allowed values); cross-references
(unknown units, duplicate numbers, deadline phrases) are checked in loader.py where the
line numbers are.
"""

from __future__ import annotations

import re
from datetime import date
from typing import Annotated, Any, Literal
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError, available_timezones

from pydantic import AfterValidator, BaseModel, ConfigDict, Field, StrictInt, model_validator

from fuquan.plans.cron import check_cron
from fuquan.words.text import FORMULA_START

_CONTROL = re.compile(r"[\x00-\x1f\x7f-\x9f\u2028\u2029]")


def _name(value: str) -> str:
    """A unit's or group's name: one line, no control characters, nothing a spreadsheet would take for a formula."""
    if _CONTROL.search(value):
        raise ValueError(f"“{_visible(value)}” 含有换行或控制字符, 名称只能是一行文字")
    if value.strip().startswith(FORMULA_START):
        raise ValueError(f"“{value}” 不能以 = + - @ 开头 (表格软件会把它当作公式)")
    return value


def _text(value: str) -> str:
    """Free text (a title, a task's wording): line breaks allowed, other control characters not."""
    if re.search(r"[\x00-\x09\x0b-\x1f\x7f-\x9f]", value):
        raise ValueError(f"“{_visible(value[:30])}…” 含有控制字符, 请删去")
    return value


def _visible(value: str) -> str:
    """Control characters shown as escapes (\\n, \\x1b), the Chinese left as it is."""
    return _CONTROL.sub(lambda m: repr(m[0])[1:-1], value)


Name = Annotated[str, Field(min_length=1, max_length=60), AfterValidator(_name)]
Text = Annotated[str, Field(min_length=1, max_length=2000), AfterValidator(_text)]


def _timezone(name: str) -> str:
    # ZoneInfo alone would also accept a file path ("../../etc/localtime"): only IANA names are allowed.
    try:
        if name not in available_timezones():
            raise ZoneInfoNotFoundError(name)
        ZoneInfo(name)
    except (ZoneInfoNotFoundError, ValueError):
        raise ValueError(f"“{name}” 不是有效的时区名称, 应为 IANA 时区, 如 Asia/Shanghai") from None
    return name


Weight = Annotated[float, Field(ge=0, le=1000)]  # (.inf and .nan fail the bounds too)
Offset = Annotated[StrictInt, Field(ge=0, le=60)]  # working days before a due date


class _Strict(BaseModel):
    # A misspelt key is an error, not silently ignored.
    model_config = ConfigDict(extra="forbid", str_strip_whitespace=True)


class ContactSpec(_Strict):
    """Whom a unit (or the 专班) can be reached through: printed at the end of reminders."""

    name: Name
    phone: Annotated[str | StrictInt, AfterValidator(str)] = Field(default="")  # 13800000000 reads as a number

    def text(self) -> str:
        return f"{self.name} {self.phone}".strip()


class PersonSpec(ContactSpec):
    """One of a unit's contact persons. With their DingTalk userId or WeCom UserID (from the platform's address
    book), reminders reach them in person there (`channels: persons:`), and their button presses count for
    the unit."""

    dingtalk: str | None = Field(default=None, pattern=r"^[A-Za-z0-9_.@$-]{1,64}$")
    wecom: str | None = Field(default=None, pattern=r"^[A-Za-z0-9_.@-]{1,64}$")


class PlanMeta(_Strict):
    title: Text
    district: Name
    year: StrictInt = Field(ge=2000, le=2100)
    issued: date
    timezone: Annotated[str, AfterValidator(_timezone)] = "Asia/Shanghai"
    # The plan's own words (defaults from the district name and the unit kinds): 区/县/市, and the programme's
    # name in titles (镇赋权, 乡镇（街道）赋权).
    level: Literal["区", "县", "市", "旗"] | None = None
    programme: Name | None = None
    # what the plan calls its towns in tables, sheets and messages (default from its towns' kinds: 镇, 乡镇,
    # 乡镇（街道）, 街道 …)
    towns: Literal["镇", "乡", "街道", "乡镇", "镇（街道）", "乡（街道）", "乡镇（街道）", "镇街"] | None = None
    contact: ContactSpec | None = None  # the 专班's contact person


class UnitSpec(_Strict):
    name: Name
    kind: Literal["部门", "镇", "乡", "街道", "园区"]
    full_name: Name | None = None
    former_names: list[Name] = []  # 机构改革: what was recorded under these names stays this unit's
    contact: ContactSpec | None = None
    contacts: list[PersonSpec] = []  # the persons reminders reach (钉钉 / 企业微信); the first is its contact


class GroupSpec(_Strict):
    name: Name
    members: list[Name] = Field(min_length=1)
    note: Text | None = None


class SectionSpec(_Strict):
    no: Name
    title: Text


class PairSpec(_Strict):
    departments: list[str] = Field(min_length=1)
    towns: list[str] = Field(min_length=1)
    plans_to: str | None = None  # training: the unit departments file their 培训指导计划 with (默认: …司法局)
    # department (or group) → the towns (or groups) where this does not apply: neither missing nor done
    not_applicable: dict[str, list[str]] = {}


class TownsSpec(_Strict):
    towns: list[str] = Field(min_length=1)


class TrackSpec(_Strict):
    letters: PairSpec | None = None
    training: PairSpec | None = None
    exams: TownsSpec | None = None
    monthly_reports: TownsSpec | None = None
    # a deadline in batches (分两批：6月底前、9月底前): which towns' items belong to each batch, in order; without
    # it each batch owes its share of the items (README: 分批完成)
    batches: list[list[Name]] | None = None


MAX_SHORT = 12  # a short title fits a table column and a chart legend


class TaskSpec(_Strict):
    no: StrictInt = Field(ge=1, le=9999)
    section: str = Field(min_length=1)
    text: Text
    short: Annotated[Name, Field(max_length=MAX_SHORT)] | None = None  # 月报报送: tables, messages, legends
    deadline: Text
    units: list[Name] = Field(min_length=1)
    track: TrackSpec | None = None


class StatusSpec(_Strict):
    warn_working_days: StrictInt = Field(default=3, ge=0, le=60)


class MonthlyReportSpec(_Strict):
    figures: list[Name] = Field(min_length=1)  # 月报 figure names become sheet headers: a name, not a formula
    decimal: list[Name] = []  # figures that may have decimals (金额); every other figure is a whole count
    ask_day: StrictInt = Field(default=10, ge=1, le=28)  # the day towns are asked for this month's 月报
    # which month a 月报 covers: the month it is due in (当月), or the month before (上月: due on the 10th for last month)
    covers: Literal["当月", "上月"] = "当月"


class WeightsSpec(_Strict):
    on_time: Weight = 50
    completion: Weight = 30
    reports: Weight = 20

    @model_validator(mode="after")
    def _some_weight(self) -> WeightsSpec:
        if self.on_time + self.completion + self.reports <= 0:
            raise ValueError("三项权重不能都为 0 (得分按权重加权计算)")
        return self


class RolesSpec(_Strict):
    """What one share weighs in a unit's task points by the unit's role: 牵头 (the first unit named) or 配合.
    Equal by default, so a plan without `roles:` scores as before; above 0, or a unit that only partners
    would have nothing to average."""

    lead: Annotated[float, Field(gt=0, le=100)] = 1
    partner: Annotated[float, Field(gt=0, le=100)] = 1


class EvaluationSpec(_Strict):
    weights: WeightsSpec = WeightsSpec()
    late_penalty: Weight = 0.5
    late_penalty_cap: Weight = 20
    roles: RolesSpec = RolesSpec()


class OverrideSpec(_Strict):
    task: StrictInt
    before_due: list[Offset] | None = None
    overdue_every: StrictInt | None = Field(default=None, ge=1)
    escalate_after: StrictInt | None = Field(default=None, ge=1)


class SmsSpec(_Strict):
    """Text messages at the last step: to the mobile numbers of a late unit's `contacts:`, once its share is
    escalated and at least `after` working days late (default: from the escalation on), at most `max_chars`
    characters (70 is one SMS), never with a link. The gateway comes from the environment (FUQUAN_SMS_URL)."""

    after: Annotated[int, Field(ge=1, le=250)] | None = None
    max_chars: Annotated[int, Field(ge=30, le=500)] = 140


class SlipsSpec(_Strict):
    """督办单 (fuquan report slips): 蓝 for an item up to `yellow_after` working days late, 黄 up to `red_after`, 红
    beyond; a unit answers within `answer_within` working days; `daily: true` lets the daily run issue them."""

    yellow_after: StrictInt = Field(default=5, ge=1, le=250)
    red_after: StrictInt = Field(default=15, ge=2, le=250)
    answer_within: StrictInt = Field(default=3, ge=1, le=30)
    daily: bool = False

    @model_validator(mode="after")
    def _ordered(self) -> SlipsSpec:
        if self.red_after <= self.yellow_after:
            raise ValueError(f"红色督办的逾期工作日数 red_after ({self.red_after}) 应大于黄色督办的 yellow_after "
                             f"({self.yellow_after})")
        return self


class RemindersSpec(_Strict):
    send_at: str = Field(default="09:00", pattern=r"^([01]\d|2[0-3]):[0-5]\d$")
    quiet_after: str = Field(default="18:00", pattern=r"^([01]\d|2[0-3]):[0-5]\d$")
    before_due: list[Offset] = [5, 2, 0]
    overdue_every: StrictInt = Field(default=3, ge=1)
    escalate_after: StrictInt = Field(default=5, ge=1)
    ongoing_every: StrictInt = Field(default=20, ge=1)
    overrides: list[OverrideSpec] = []
    slips: SlipsSpec = SlipsSpec()  # 督办单
    sms: SmsSpec | None = None  # 短信: the last step reaches a phone


class AnswersSpec(_Strict):
    """How units answer back (fuquan.answers.rules): 签收, 反馈 and 复核, 申请延期."""

    ack_within: StrictInt = Field(default=2, ge=1, le=30)
    reply_within: StrictInt = Field(default=3, ge=1, le=30)
    extensions_by: Literal["专班", "牵头单位"] = "专班"
    review: bool = True
    link_days: StrictInt = Field(default=120, ge=1, le=400)


class ChannelSpec(_Strict):
    """Exactly one of: a Slack channel ID, the NAME of a robot webhook whose URL (and DingTalk signing secret)
    come from the environment (FUQUAN_WEBHOOK_<NAME>, FUQUAN_WEBHOOK_<NAME>_SECRET), or `persons: dingtalk|wecom`:
    the unit's contacts in person, through the county's DingTalk or WeCom app (credentials from the environment)."""

    slack: str | None = Field(default=None, pattern=r"^[CGD][A-Z0-9]{6,}$")
    dingtalk: str | None = Field(default=None, pattern=r"^[A-Z][A-Z0-9_]*$")
    wecom: str | None = Field(default=None, pattern=r"^[A-Z][A-Z0-9_]*$")
    persons: Literal["dingtalk", "wecom"] | None = None


class ChannelsSpec(_Strict):
    model_config = ConfigDict(extra="forbid", populate_by_name=True)
    zhuanban: ChannelSpec | None = Field(default=None, alias="专班")
    units: dict[str, ChannelSpec] = {}
    # every unit with contacts on that platform, unless `units:` says otherwise: its contacts in person
    persons: Literal["dingtalk", "wecom"] | None = None


class ScheduleSpec(_Strict):
    cron: Annotated[str, Field(pattern=r"^\s*(\S+\s+){4}\S+\s*$"), AfterValidator(check_cron)]
    workdays_only: bool = False
    keep: Annotated[int, Field(ge=1, le=3650)] | None = None  # backup only


# A plan file without `schedules:` runs these (cron in the plan's time zone).
DEFAULT_SCHEDULES = {
    "deadline-check": ScheduleSpec(cron="0 9 * * *", workdays_only=True),  # daily 09:00, working days
    "monthly-status": ScheduleSpec(cron="0 9 15 * *"),  # before the 20th (task 14)
    "quarterly-analysis": ScheduleSpec(cron="0 9 1 1,4,7,10 *"),  # the quarter just ended
    "annual-evaluation": ScheduleSpec(cron="0 10 5 1 *"),  # the year just ended
    "backup": ScheduleSpec(cron="30 2 * * *", keep=14),  # every night, the newest 14 kept
}


class CalendarYearSpec(_Strict):
    holidays: list[str] = []  # dates YYYY-MM-DD or ranges YYYY-MM-DD~YYYY-MM-DD
    workdays: list[str] = []  # 调休 make-up working days


class PlanFile(_Strict):
    plan: PlanMeta
    status: StatusSpec = StatusSpec()
    monthly_report: MonthlyReportSpec | None = None
    reminders: RemindersSpec = RemindersSpec()
    answers: AnswersSpec = AnswersSpec()
    channels: ChannelsSpec = ChannelsSpec()
    schedules: dict[str, ScheduleSpec] = Field(default_factory=lambda: dict(DEFAULT_SCHEDULES))
    evaluation: EvaluationSpec = EvaluationSpec()
    calendar: dict[int, CalendarYearSpec] = {}  # the year's holiday notice, for years the package lacks
    training_forms: list[Name] = Field(
        default_factory=lambda: ["集中培训", "现场观摩", "跟班学习", "传帮带"], min_length=1)
    units: list[UnitSpec] = Field(min_length=1)
    groups: list[GroupSpec] = []
    sections: list[SectionSpec] = Field(min_length=1)
    tasks: list[TaskSpec] = Field(min_length=1)


FIELD_NAMES = {
    "plan": "计划信息", "title": "标题", "district": "区县", "year": "计划年度", "issued": "印发日期",
    "timezone": "时区", "units": "单位", "name": "名称", "kind": "类别", "full_name": "全称",
    "groups": "单位组", "members": "成员", "sections": "章节", "no": "序号", "section": "章节",
    "contact": "联系人", "phone": "电话", "text": "任务内容", "short": "任务简称", "deadline": "完成时限", "tasks": "任务", "note": "备注", "track": "跟踪事项",
    "letters": "承接确认书", "training": "岗前培训", "exams": "法律知识考试", "monthly_reports": "月报",
    "departments": "部门", "towns": "乡镇", "status": "状态设置", "warn_working_days": "预警工作日数",
    "monthly_report": "月报设置", "figures": "月报指标", "reminders": "提醒策略", "send_at": "发送时间",
    "quiet_after": "免打扰开始时间", "before_due": "到期前提醒(工作日)", "overdue_every": "逾期重复提醒间隔(工作日)",
    "escalate_after": "逾期升级(工作日)", "ongoing_every": "持续类任务进度提醒间隔(工作日)", "overrides": "按任务调整",
    "task": "任务序号", "channels": "接收渠道", "slack": "Slack 频道 ID", "dingtalk": "钉钉机器人名称",
    "wecom": "企业微信机器人名称", "ask_day": "催报日", "evaluation": "考评", "weights": "权重",
    "on_time": "按时完成率权重", "completion": "完成率权重", "late_penalty": "每逾期一个工作日扣分",
    "late_penalty_cap": "逾期扣分上限", "roles": "牵头与配合", "lead": "牵头单位分工权重",
    "partner": "配合单位分工权重", "schedules": "定时运行", "cron": "cron 表达式", "workdays_only": "仅工作日", "keep": "保留份数",
    "former_names": "曾用名", "level": "行政层级", "programme": "工作名称", "plans_to": "培训指导计划报送单位",
    "training_forms": "培训形式", "decimal": "可为小数的指标", "not_applicable": "不适用",
    "answers": "单位反馈设置", "ack_within": "签收时限(工作日)", "reply_within": "延期答复时限(工作日)",
    "extensions_by": "延期审批方", "review": "反馈需复核", "link_days": "专属链接有效天数",
    "calendar": "节假日安排", "holidays": "放假日期", "workdays": "调休上班日期",
    "contacts": "联系人名单", "persons": "按人发送的平台", "sms": "短信提醒", "after": "逾期多少个工作日后发短信",
    "max_chars": "短信最多字数",
    "slips": "督办单", "yellow_after": "黄色督办起点(逾期工作日)", "red_after": "红色督办起点(逾期工作日)",
    "answer_within": "督办答复时限(工作日)", "daily": "每日检查时出具",
}


def allowed_keys(loc: tuple[Any, ...]) -> list[str]:
    """The keys a mapping at `loc` may hold (for "unknown field" messages)."""
    model: type[BaseModel] = PlanFile
    for part in loc:
        if isinstance(part, int):
            continue
        ann = model.model_fields[part].annotation
        # list[X] and X | None both keep X first in __args__
        inner = getattr(ann, "__args__", (ann,))[0]
        if not (isinstance(inner, type) and issubclass(inner, BaseModel)):
            break
        model = inner
    return list(model.model_fields)


PERSON_FIELDS = {"dingtalk": "钉钉账号 userId", "wecom": "企业微信账号 UserID"}


def chinese_message(err: dict[str, Any]) -> str:
    """pydantic's error dict → a Chinese sentence naming the field and what is allowed."""
    loc = tuple(err["loc"])
    field = next((str(p) for p in reversed(loc) if isinstance(p, str)), "")
    person = "contacts" in loc and field in ("dingtalk", "wecom")  # a person's account, not a robot's name
    label = f"{PERSON_FIELDS[field] if person else FIELD_NAMES.get(field, field)}({field})" if field else "内容"
    kind, ctx = err["type"], err.get("ctx") or {}
    if kind == "missing":
        return f"缺少必填字段 {label}"
    if kind == "extra_forbidden":
        return f"未知字段 “{field}”; 允许的字段: {', '.join(allowed_keys(loc[:-1]))}"
    if kind == "literal_error":
        expected = "、".join(re.findall(r"'([^']*)'", str(ctx.get("expected", "")))) or ctx.get("expected", "")
        return f"{label} 的值 “{err['input']}” 不允许; 可选: {expected}"
    if kind == "string_pattern_mismatch":
        hint = {"slack": "应为频道 ID, 如 C0123ABCD (在 Slack 频道详情最下方)",
                "dingtalk": "应为大写字母、数字和下划线组成的名称; 网址放在环境变量 FUQUAN_WEBHOOK_<名称>",
                "wecom": "应为大写字母、数字和下划线组成的名称; 网址放在环境变量 FUQUAN_WEBHOOK_<名称>",
                "send_at": "应为 HH:MM", "quiet_after": "应为 HH:MM",
                "cron": "应为 5 段 cron 表达式 (分 时 日 月 周), 如 0 9 * * *"}.get(field, f"格式不符 ({ctx.get('pattern')})")
        if person:
            hint = "应为通讯录中的账号 (钉钉 userId / 企业微信 UserID): 字母、数字和 _ . @ - 组成, 不超过 64 个字符"
        return f"{label} 的值 “{err['input']}” 不合要求: {hint}"
    if kind.startswith("date"):
        return f"{label} 应为日期 YYYY-MM-DD, 实为 “{err['input']}”"
    if kind in ("int_type", "int_parsing", "int_from_float"):
        return f"{label} 应为整数, 实为 “{err['input']}”"
    if kind in ("string_type",):
        return f"{label} 应为文字, 实为 “{err['input']}”"
    if kind in ("list_type",):
        return f"{label} 应为列表(每行以 - 开头)"
    if kind in ("model_type", "dict_type", "model_attributes_type"):
        return f"{label} 应为键值映射"
    if kind in ("too_short", "string_too_short"):
        return f"{label} 不能为空"
    if kind == "value_error":
        return f"{label}: {str(err['msg']).removeprefix('Value error, ')}"
    if kind in ("greater_than_equal", "less_than_equal", "greater_than", "less_than"):
        return f"{label} 超出范围: “{err['input']}” ({err['msg']})"
    return f"{label}: {err['msg']}"
