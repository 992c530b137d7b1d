"""Reminder message text (pure, Chinese). Channels render a Message their own way (Slack blocks,
DingTalk/WeCom markdown, console); the wording lives here once.

A message is read on a phone: one line per task (a task's periods together), escalations counted per task
("11 个部门、5 个镇未完成") rather than listed per unit, a lead unit told which partners still owe, a due date
that falls on a holiday explained, and what to do next with whom to call. It never exceeds MAX_LINES lines or
MAX_CHARS characters: what does not fit is summarised in a line that says how much more there is — never cut
by a channel's limit.
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from dataclasses import dataclass, field, replace
from datetime import date
from typing import Any

from fuquan.dates.workdays import WorkCalendar
from fuquan.plans.plan import Words
from fuquan.plans.policy import ZHUANBAN
from fuquan.tracking.reminders import Reminder

MAX_LINES, MAX_CHARS = 20, 1500
HEADINGS = {"overdue": "已逾期", "before": "即将到期", "escalation": "请督促", "nudge": "持续推进事项 · 请报送进展"}
KEEP_LONGEST = ("即将到期", "已逾期")  # what fit() shortens last: the unit's own items, due today first


@dataclass(frozen=True)
class Section:
    heading: str
    lines: tuple[str, ...]


@dataclass(frozen=True)
class Message:
    recipient: str
    title: str
    sections: tuple[Section, ...]
    note: str | None = None  # e.g. forwarded to the 专班 because the unit has no channel
    closing: str = "请按时完成; 如有困难请联系牵头单位或工作专班。"

    def as_dict(self) -> dict[str, object]:
        return {"recipient": self.recipient, "title": self.title, "note": self.note, "closing": self.closing,
                "sections": [{"heading": s.heading, "lines": list(s.lines)} for s in self.sections]}

    @classmethod
    def from_dict(cls, d: dict[str, Any]) -> Message:
        return cls(d["recipient"], d["title"], tuple(Section(s["heading"], tuple(s["lines"])) for s in d["sections"]),
                   d.get("note"), d.get("closing", cls.closing))

    def text(self) -> str:
        """Plain text (also valid Markdown): the Slack fallback and what webhooks and the console show."""
        parts = [f"**{self.title}**"]
        if self.note:
            parts.append(f"> {self.note}")
        for s in self.sections:
            parts.append(f"\n**{s.heading}**")
            parts.extend(f"- {line}" for line in s.lines)
        parts.append(f"\n{self.closing}")
        return "\n".join(parts)


@dataclass(frozen=True)
class Occasion:
    """What a day's messages of one plan share: its words, calendar, contacts, and who leads what."""

    today: date
    district: str
    words: Words
    cal: WorkCalendar
    contacts: dict[str, str] = field(default_factory=dict)  # unit or 专班 → "王芳 0553-5880000"
    leads: dict[int, str | None] = field(default_factory=dict)
    # task → its partners' open shares that are late or near (unit, department|town|zone), for the lead unit
    partners_open: dict[int, tuple[tuple[str, str], ...]] = field(default_factory=dict)
    titles: dict[int, str] = field(default_factory=dict)


def compose(recipient: str, reminders: list[Reminder], o: Occasion, forwarded_for: str | None = None) -> Message:
    """One recipient's message of the day, in the plan's words."""
    by_kind: dict[str, list[Reminder]] = {}
    for r in reminders:
        by_kind.setdefault(r.kind, []).append(r)
    sections = [
        Section(HEADINGS["overdue"], tuple(_own(rs, o) for rs in _by_task(by_kind.get("overdue", [])))),
        Section(HEADINGS["before"], tuple(_own(rs, o) for rs in _by_task(by_kind.get("before", [])))),
        Section(HEADINGS["escalation"], tuple(_escalation(rs, o) for rs in _by_task(by_kind.get("escalation", [])))
                + _partners(recipient, {r.task_no for r in by_kind.get("escalation", [])}, o)),
        Section(HEADINGS["nudge"], _nudges(by_kind.get("nudge", []))),
    ]
    note = f"{forwarded_for} 尚未配置接收渠道, 本提醒发至专班, 请转达。" if forwarded_for else None
    title = f"【{o.district}{o.words.programme}督办】{recipient} 待办提醒 ({o.today})"
    return fit(Message(recipient, title, tuple(s for s in sections if s.lines), note, _closing(recipient, reminders, o)))


def _by_task(rs: list[Reminder]) -> list[list[Reminder]]:
    grouped: dict[int, list[Reminder]] = {}
    for r in rs:
        grouped.setdefault(r.task_no, []).append(r)
    return list(grouped.values())


def _name(r: Reminder) -> str:
    return f"任务{r.task_no}「{r.title}」"


def _own(rs: list[Reminder], o: Occasion) -> str:
    """One task's items for the unit itself: its periods together, the nearest due date, what is missing."""
    labels = "、".join(r.label for r in rs if r.label)
    what = f"{_name(rs[0])}{' ' + labels if labels else ''}"
    j = rs[0].judgement  # the most urgent first: overdue rows come sorted by lateness within a task
    if rs[0].kind == "overdue":
        late = max(r.judgement.workdays_late for r in rs)
        when = f"逾期 {late} 个工作日 (截止 {_day(j.due, o)})"
    else:
        left = "今天到期" if j.workdays_left == 0 else f"还剩 {j.workdays_left} 个工作日"
        when = f"{left} (截止 {_day(j.due, o)}{_day_off(j.due, o)})"
    missing = [m for r in rs for m in r.missing if m not in r.label and not r.label.endswith(m.split(" ")[0])]
    return f"{what} {when}" + (f"; 尚缺 {_few(missing)}" if missing else "")


def _escalation(rs: list[Reminder], o: Occasion) -> str:
    late = max(r.judgement.workdays_late for r in rs)
    return f"{_name(rs[0])} 逾期 {late} 个工作日: {_units([(r.about, r.about_kind) for r in rs], o.words)} 未完成"


def _partners(recipient: str, escalated: set[int], o: Occasion) -> tuple[str, ...]:
    """For a lead unit: the tasks it leads whose partners still owe a late or near share."""
    if recipient == ZHUANBAN:
        return ()
    return tuple(f"任务{no}「{o.titles.get(no, '')}」(牵头): 配合单位 {_units(list(units), o.words)} 尚未完成"
                 for no, units in sorted(o.partners_open.items())
                 if o.leads.get(no) == recipient and no not in escalated and units)


def _nudges(rs: list[Reminder]) -> tuple[str, ...]:
    if not rs:
        return ()
    names = "、".join(_name(r) for r in {r.task_no: r for r in rs}.values())
    return (f"{names}: 请报送最新进展和佐证材料",)


def _closing(recipient: str, reminders: list[Reminder], o: Occasion) -> str:
    """What to do next, and whom to call: the lead unit's and the 专班's contacts from the plan file."""
    team = f"{o.words.programme}工作专班"
    if recipient == ZHUANBAN:
        return "请督促上述单位; 各单位明细见专班看板或 fuquan status --by unit。"
    calls = []
    leads = {r.lead for r in reminders if r.lead and r.lead != recipient}
    for lead in sorted(leads)[:2]:
        calls.append(f"牵头单位 {lead}" + (f" ({o.contacts[lead]})" if lead in o.contacts else ""))
    calls.append(team + (f" ({o.contacts[ZHUANBAN]})" if ZHUANBAN in o.contacts else ""))
    return f"完成后请将佐证材料(文件、签收件、照片等)报{team}登记。如有困难请联系: {'; '.join(calls)}。"


def _units(units: Iterable[tuple[str, str]], words: Words) -> str:
    """A few units by name; many counted by kind: 区司法局、5 个镇 / 11 个部门、5 个镇."""
    names = list(dict.fromkeys(units))
    if len(names) <= 3:
        return "、".join(n for n, _ in names)
    by_kind: dict[str, list[str]] = {}
    for name, kind in names:
        by_kind.setdefault(words.kind(kind), []).append(name)
    return "、".join("、".join(ns) if len(ns) <= 2 else f"{len(ns)} 个{k}" for k, ns in by_kind.items())


def _few(items: list[str], n: int = 3) -> str:
    items = list(dict.fromkeys(items))
    return "、".join(items[:n]) + (f" 等 {len(items)} 项" if len(items) > n else "")


def _day(d: date | None, o: Occasion) -> str:
    if d is None:
        return "—"
    return f"{d:%m-%d}" if d.year == o.today.year else d.isoformat()


def _day_off(d: date | None, o: Occasion) -> str:
    """A due date on a day off is met on the working day before it: say so (截止 04-30 劳动节假期)."""
    if d is None or o.cal.is_workday(d):
        return ""
    last = o.cal.last_before(d)
    return f", 当天为{o.cal.day_off_name(d)}, 最后一个工作日是{'今天' if last == o.today else f'{last:%m-%d}'}"


def fit(m: Message) -> Message:
    """Within MAX_LINES and MAX_CHARS: the longest section gives up its last lines to one line that counts them
    and names their tasks (…另有 3 项: 任务5、任务7、任务8), so nothing is lost, only shortened."""
    kept = [list(s.lines) for s in m.sections]
    folded: list[list[str]] = [[] for _ in m.sections]
    while True:
        where = "详见专班看板" if m.recipient == ZHUANBAN else "详情请问专班"
        out = replace(m, sections=tuple(Section(s.heading, tuple(lines + _folded(f, where)))
                                        for s, lines, f in zip(m.sections, kept, folded, strict=True)))
        text = out.text()
        # a section can give a line while it keeps two, or its last one when a fold line is there to take it
        can = [k for k in range(len(kept)) if len(kept[k]) > 1 or (kept[k] and folded[k])]
        if (len(text) <= MAX_CHARS and text.count("\n") + 1 <= MAX_LINES) or not can:
            return out
        i = max(can, key=lambda k: (len(kept[k]) > 1, m.sections[k].heading not in KEEP_LONGEST,
                                    KEEP_LONGEST.index(m.sections[k].heading) if m.sections[k].heading in KEEP_LONGEST
                                    else 0, len(kept[k])))
        folded[i].insert(0, kept[i].pop())


def _folded(lines: list[str], where: str) -> list[str]:
    if not lines:
        return []
    tasks = list(dict.fromkeys(re.findall(r"任务\d+", "".join(lines))))
    return [f"…另有 {len(lines)} 项" + (f": {'、'.join(tasks)}" if tasks else "") + f", {where}"]


def notice(failures: list[tuple[str, str, str]], today: date, district: str, *, programme: str) -> Message:
    """To the 专班: messages that could not be delivered (recipient, destination, why)."""
    lines = tuple(f"{who} ({where}): {why}" for who, where, why in failures)
    return fit(Message("专班", f"【{district}{programme}督办】提醒未送达 ({today})",
                       (Section("以下单位的提醒未能送达, 请核对接收渠道后转达", lines),),
                       closing="接收渠道在计划文件的 channels 段配置; 修正后未送达的提醒会在下次运行时补发。"))


def year_over(district: str, year: int, open_items: int, units: int, *, programme: str) -> Message:
    """To the 专班, once: the plan's year has ended with work still open. Close it, or carry the work over."""
    return Message("专班", f"【{district}{programme}督办】{year} 年度计划已结束",
                   (Section(f"{year} 年度已结束, 仍有 {open_items} 项未完成 (涉及 {units} 个单位)", (
                       f"如本年度工作已收尾: fuquan plan close --district {district} --year {year} "
                       "(不再提醒, 进度和报告照常可查)",
                       f"如未完成事项转入下一年度: fuquan plan new --year {year + 1} 生成新计划, 再关闭本年度计划",)),),
                   closing="关闭前, 本年度计划的提醒照常发送。")


def unacknowledged(recipient: str, items: list[tuple[int, str, date, int]], o: Occasion,
                   units: dict[str, str] | None = None) -> Message:
    """A reminder nobody acknowledged: to the unit once more (`units` None), or to its lead unit and the 专班
    (`units`: unit → kind of the units that have not). `items`: (task, unit, day sent, working days since)."""
    head = f"【{o.district}{o.words.programme}督办】"
    if units is None:
        lines = tuple(dict.fromkeys(f"任务{no}「{o.titles.get(no, '')}」: {day:%m-%d} 发出的提醒已 {n} 个工作日未签收"
                                    for no, _, day, n in items))
        return fit(Message(recipient, f"{head}{recipient} 提醒未签收, 请签收 ({o.today})", (Section("请签收", lines),),
                           closing="请点击下方链接或按钮签收; 如已办理, 签收后请一并反馈进展。"))
    by_task: dict[int, list[tuple[str, str]]] = {}
    for no, unit, _, _ in items:
        if (unit, units.get(unit, "")) not in by_task.setdefault(no, []):
            by_task[no].append((unit, units.get(unit, "")))
    lines = tuple(f"任务{no}「{o.titles.get(no, '')}」: {_units(us, o.words)} 未签收提醒 (已再次提醒)"
                  for no, us in sorted(by_task.items()))
    return fit(Message(recipient, f"{head}提醒未签收 ({o.today})", (Section("请督促签收", lines),),
                       closing="未签收的单位已收到第二次提醒; 专班页面列出全部未签收的提醒。"))


def replies_due(recipient: str, items: list[tuple[int, str, date, date]], o: Occasion) -> Message:
    """To whoever decides extensions: requests whose reply deadline has passed. `items`: (task, unit, new due,
    reply by)."""
    lines = tuple(f"任务{no}「{o.titles.get(no, '')}」: {unit} 申请延期至 {_day(new_due, o)}, 答复期限 {_day(by, o)} 已过"
                  for no, unit, new_due, by in items)
    return fit(Message(recipient, f"【{o.district}{o.words.programme}督办】延期申请待答复 ({o.today})",
                       (Section("请尽快批准或不批准", lines),), closing="请在专班页面(或本单位页面)办理延期申请。"))


def overdue_text(unit: str, reminders: list[Reminder], programme: str) -> Message:
    """The last step's text message (flows/sms_step): the unit and each task with how late it is, the latest
    first. No link and no address: the SMS notifier adds the county's sign and where to look."""
    shown = sorted(reminders, key=lambda r: -r.judgement.workdays_late)
    lines = tuple(f"{_name(r)}{(' ' + r.label) if r.label else ''}已逾期 {r.judgement.workdays_late} 个工作日"
                  for r in shown)
    return Message(unit, f"【{programme}督办】{unit}: {len(shown)} 项严重逾期", (Section("严重逾期", lines),),
                   closing="请尽快办理")


def unread_text(person: str, unit: str, items: list[tuple[int, date, int]], o: Occasion) -> Message:
    """A text to a contact who has not opened the 签收 chase's repeat in DingTalk (flows.reads). `items`: (task,
    day the repeat was sent, working days since). Short, as a text must be (70 characters is one SMS): how long
    unread in the title, then the tasks by number. No link: the SMS notifier says where to look."""
    nos = sorted(dict.fromkeys(no for no, _, _ in items))
    days = max((n for _, _, n in items), default=0)
    return Message(unit, f"【{o.words.programme}督办】{unit} {person}: 钉钉再次提醒 {days} 个工作日未读未签收",
                   (Section("任务", ("、".join(map(str, nos)),)),), closing="请打开钉钉查看并签收")


def unread_notice(items: list[tuple[str, str, str, int, date, int]], o: Occasion) -> Message:
    """To the 专班: contacts who have not opened the repeat and whom no text can reach (no mobile number, or the plan
    sends none). `items`: (unit, person, phone, task, day the repeat was sent, working days since)."""
    lines = tuple(dict.fromkeys(f"{unit} {person}{(' ' + phone) if phone else ''}: 任务{no}「{o.titles.get(no, '')}」"
                                f" {day:%m-%d} 的再次提醒已 {n} 个工作日未读" for unit, person, phone, no, day, n in items))
    return fit(Message(ZHUANBAN, f"【{o.district}{o.words.programme}督办】钉钉提醒未读 ({o.today})",
                       (Section("请电话联系", lines),),
                       closing="以上联系人两次提醒均未签收, 再次提醒也未打开; 专班页面列出全部未读的联系人。"))
