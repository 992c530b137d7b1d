"""A 督办单 as a Word document in the 公文 layout of reports/docx_layout.py: the 专班's 版头 with the slip's number
(〔2024〕督办第7号) over the red rule, the unit it is addressed to, its level (蓝/黄/红 by how late), a table of the
overdue items — task, due date, working days late, what is missing —, the day to answer by and where to answer,
and the 专班's signature. What it lists comes from the stored slip (models/slips.py), so printing it again later
says the same."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date
from pathlib import Path
from typing import Any

from docx.enum.text import WD_ALIGN_PARAGRAPH
from docx.shared import RGBColor

from fuquan.plans.policy import SlipPolicy
from fuquan.tracking.ledger import Row
from fuquan.words import official as w

from .docx_layout import Official

LEVEL_RGB = {"蓝": RGBColor(0x00, 0x5B, 0xAC), "黄": RGBColor(0xB8, 0x86, 0x00), "红": RGBColor(0xC0, 0x00, 0x00)}
WIDTHS_MM = (15, 49, 28, 20, 44)  # 序号, 任务, 截止日期, 逾期工作日, 尚缺: the 156 mm type area


def item(r: Row) -> dict[str, Any]:
    """One overdue row as a slip stores it (JSON)."""
    j = r.judgement
    return {"task": r.task_no, "title": r.title or r.task_text, "deadline_text": r.deadline_text, "label": r.label,
            "due": j.due.isoformat() if j.due else None, "workdays_late": j.workdays_late, "missing": list(r.missing)}


@dataclass(frozen=True)
class SlipPage:
    """Everything one slip says."""

    issuer: str
    number: str  # 〔2024〕督办第7号
    unit: str
    day: date  # the items were overdue as of this day
    dated: date  # the day it was issued (成文日期)
    level: str  # 蓝 | 黄 | 红
    answer_by: date
    items: list[dict[str, Any]]
    link: str | None  # the unit's personal link, when the web app is configured
    web_url: str
    policy: SlipPolicy
    year: int  # the plan's: dates in it go without their year


def file_name(year: int, number: int, unit: str) -> str:
    return f"slip-{year}-{number:03d}-{unit}.docx"


def write_slip(s: SlipPage, path: Path) -> Path:
    doc = Official(title=f"督办单 {s.number}", author=s.issuer, when=s.dated)
    doc.banner(s.issuer, s.number)
    doc.title(["督办单"], note=f"（{w.LEVEL_NAME[s.level]}督办）", note_colour=LEVEL_RGB[s.level])
    doc.paragraph(f"{s.unit}：", indent=0)
    doc.paragraph(w.slip_intro(s.day, len(s.items), s.level, s.year))
    rows = []
    for n, i in enumerate(sorted(s.items, key=lambda i: -i["workdays_late"]), 1):
        task = f"任务{i['task']}“{i['title']}”" + (f"（{i['label']}）" if i["label"] else "")
        due = w.day_text(date.fromisoformat(i["due"]), s.year) if i["due"] else "—"
        rows.append([str(n), f"{task}\n完成时限：{i['deadline_text']}", due, str(i["workdays_late"]),
                     w.few(i["missing"], 3) or "未登记完成"])
    doc.table(["序号", "任务", "截止日期", "逾期\n工作日", "尚缺"], rows, WIDTHS_MM, centred=(0, 2, 3))
    doc.paragraph("")
    doc.paragraph(w.slip_request(s.answer_by, s.link, s.web_url, s.year), align=WD_ALIGN_PARAGRAPH.LEFT)  # a link
    # does not break: a justified line before it would be stretched
    doc.paragraph(w.slip_rule(s.policy))
    doc.signature(s.issuer, w.chinese_date(s.dated))
    return doc.save(path)
