"""Reminder message text (pure, Chinese). Channels render a Message their own way (Slack blocks,
DingTalk/WeCom markdown, console); the wording lives here once."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date
from typing import Any

from .reminders import Reminder

HEADINGS = {"overdue": "已逾期", "escalation": "逾期升级 · 请督促", "before": "即将到期", "nudge": "持续推进事项 · 请报送进展"}


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
    closing: str = "请按时完成并登记进度; 如有困难请联系牵头单位或工作专班。"

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


def line(r: Reminder, *, with_unit: bool = False) -> str:
    j = r.judgement
    what = f"任务{r.task_no}「{_short(r.task_text)}」" + (f"{r.label}" if r.label else "")
    who = f"{r.about}: " if with_unit else ""
    if r.kind in ("overdue", "escalation"):
        when = f"已逾期 {j.workdays_late} 个工作日 ({j.days_late} 天, 截止 {j.due}, {r.deadline_text})"
    elif r.kind == "before":
        left = "今天到期" if j.workdays_left == 0 else f"还剩 {j.workdays_left} 个工作日"
        when = f"截止 {j.due} ({r.deadline_text}), {left}"
    else:
        when = f"{r.deadline_text}, 请报送最新进展"
    missing = f"; 尚缺: {_list(r.missing)}" if r.missing else ""
    lead = f"; 牵头单位: {r.lead}" if r.lead and r.lead != r.about and not with_unit else ""
    return f"{who}{what} {when}{missing}{lead}"


def compose(recipient: str, reminders: list[Reminder], today: date, district: str,
            forwarded_for: str | None = None, *, programme: str) -> Message:
    """One recipient's message of the day, in the plan's words (`programme`: 镇赋权, 乡镇（街道）赋权)."""
    sections = []
    for kind in HEADINGS:
        mine = [r for r in reminders if r.kind == kind]
        if mine:
            sections.append(Section(HEADINGS[kind], tuple(line(r, with_unit=kind == "escalation") for r in mine)))
    note = f"{forwarded_for} 尚未配置接收渠道, 本提醒发至专班, 请转达。" if forwarded_for else None
    return Message(recipient, f"【{district}{programme}督办】{recipient} 待办提醒 ({today})", tuple(sections), note,
                   f"请按时完成并登记进度; 如有困难请联系牵头单位或{programme}工作专班。")


def _short(text: str, n: int = 30) -> str:
    return text if len(text) <= n else text[: n - 1] + "…"


def _list(items: tuple[str, ...], n: int = 8) -> str:
    shown = "、".join(items[:n])
    return shown + (f" 等 {len(items)} 项" if len(items) > n else "")


def notice(failures: list[tuple[str, str, str]], today: date, district: str, *, programme: str) -> Message:
    """To the 专班: messages that could not be delivered (recipient, destination, why)."""
    lines = tuple(f"{who} ({where}): {why}" for who, where, why in failures)
    return Message("专班", f"【{district}{programme}督办】提醒未送达 ({today})",
                   (Section("以下单位的提醒未能送达, 请核对接收渠道后转达", lines),),
                   closing="接收渠道在 config/tasks.yaml 的 channels 段配置; 修正后未送达的提醒会在下次运行时补发。")
