"""The 专班's three documents as Word files in 公文 layout (reports/docx_layout.py): the monthly 通报, the quarterly
analysis and the annual evaluation. Each reads as prose in the plan's words — 一、总体进展 (how many shares, done,
late, against last period), 二、存在问题 (by unit: what is late, due when, how many working days), 三、下一步工作
(who must finish what) — and names the period's workbook, written beside it, as its 附件.

A month's 通报 speaks from the month's frozen snapshot, as its Markdown does; an analysis from the shares as of its
last day. The 专班 signs as the plan names it (fuquan.words.official.issuer), dated the day the figures stand at.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, timedelta
from pathlib import Path
from typing import Any

from fuquan.tracking.judge import DONE, DONE_LATE, GREEN, ONGOING, PENDING, RED, YELLOW
from fuquan.tracking.scores import NO_BASIS, by_kind, rank
from fuquan.words import official as w
from fuquan.words.report_text import kind_heading

from .docx_layout import Official
from .gather import ReportData

CATCH_UP_WITHIN = 5  # working days the 通报 gives a unit to make good what is late
UPCOMING_DAYS = 31  # shares falling due within this many days are named under 下一步工作


@dataclass(frozen=True)
class Share:
    """A unit's share (or one period or batch of it), from the live rows or a month's snapshot alike."""

    unit: str
    unit_kind: str
    task_no: int
    label: str
    colour: str
    due: date | None
    completed_on: date | None
    workdays_late: int
    missing: tuple[str, ...]


def _day(text: str | None) -> date | None:
    return date.fromisoformat(text) if text else None


def shares(d: ReportData) -> list[Share]:
    if d.kind == "monthly" and d.snapshot is not None:
        return [Share(r["unit"], r["unit_kind"], r["task"], r["label"], r["colour"], _day(r["due"]),
                      _day(r["completed_on"]), r["workdays_late"], tuple(r["missing"])) for r in d.snapshot["rows"]]
    return [Share(r.unit, r.unit_kind, r.task_no, r.label, r.judgement.colour, r.judgement.due, r.judgement.completed_on,
                  r.judgement.workdays_late, r.missing) for r in d.rows]


def _titles(d: ReportData) -> dict[int, tuple[str, str]]:
    """task no → (short title, deadline as the plan writes it)."""
    out = {t.no: (t.title or t.text, t.deadline_text) for t in d.tasks}
    for t in (d.snapshot or {}).get("tasks", []):  # a task retired since the month closed
        out.setdefault(t["no"], (t.get("title") or t["text"], ""))
    return out


TITLE_LINE = 18  # characters of 二号 on one line of the 156 mm type area, a few spare


def heading(d: ReportData) -> str:
    return f"{d.district}{d.words.programme}工作{d.title}"


def title_lines(d: ReportData) -> list[str]:
    """The title on one line, or two broken after 工作 (芜湖市湾沚区镇赋权工作 / 2023年5月情况通报)."""
    whole = heading(d)
    return [whole] if len(whole) <= TITLE_LINE else [f"{d.district}{d.words.programme}工作", d.title]


def write_document(d: ReportData, path: Path, workbook: Path) -> Path:
    issuer = w.issuer(d.district, d.words)
    doc = Official(title=heading(d), author=issuer, when=d.as_of)
    doc.banner(issuer)
    note = f"（统计截至{w.day_text(d.as_of, d.year)}，尚未关账，数据可能变化）" if d.provisional else None
    doc.title(title_lines(d), note)
    doc.paragraph(w.addressees(d.words), indent=0)
    everything = shares(d)
    doc.heading("一、总体进展")
    for text in _progress(d, everything):
        doc.paragraph(text)
    doc.heading("二、存在问题")
    _problems(doc, d, everything)
    doc.heading("三、下一步工作")
    for lead, text in _next(d, everything):
        doc.point(lead, text)
    doc.attachment(f"{d.title}统计表（{workbook.name}）")
    doc.signature(issuer, w.chinese_date(d.as_of))
    return doc.save(path)


def _progress(d: ReportData, all_: list[Share]) -> list[str]:
    red_units: dict[str, set[str]] = {}
    for s in all_:
        if s.colour == RED:
            red_units.setdefault(d.words.kind(s.unit_kind), set()).add(s.unit)
    count = lambda *colours: sum(s.colour in colours for s in all_)  # noqa: E731
    totals = w.Totals(tasks=len({s.task_no for s in all_}), shares=len(all_), done=count(DONE, DONE_LATE),
                      done_late=count(DONE_LATE), red=count(RED), yellow=count(YELLOW), green=count(GREEN),
                      open=count(ONGOING, PENDING), red_units={k: len(v) for k, v in red_units.items()})
    out = [w.progress(totals, d.as_of, d.year)]
    if d.kind == "monthly" and d.snapshot is not None and d.diff is not None:
        y, m = d.period.split("-")
        month = f"{y}年{int(m)}月" if int(y) != d.year else f"{int(m)}月"
        out.append(w.reports_line(d.words.towns, len(d.snapshot["reports"]), list(d.snapshot["missing"]), month)
                   + w.month_change(len(d.diff.done), len(d.diff.overdue),
                                    "none" if d.diff.basis == NO_BASIS else d.diff.basis))
        return out
    start = d.scored_from or date(d.year, 1, 1)
    due = [s for s in all_ if s.due and start <= s.due <= d.as_of and s.colour not in (ONGOING, PENDING)]
    on_time = sum(s.colour == DONE for s in due)
    finished = sum(bool(s.completed_on and start <= s.completed_on <= d.as_of) for s in all_)
    label = "本季度" if d.kind == "quarterly" else "本年度"
    scores = "".join(w.ranking(kind_heading(kind, d.words), [(s.unit, s.score) for _, s in rank(group)])
                     for kind, group in by_kind(d.scores))
    out.append(w.period_change(label, len(due), on_time, sum(s.colour == DONE_LATE for s in due), finished)
               + (f"按双向考评规则，{scores}各单位得分、失分原因详见附件。" if scores else ""))
    return out


def _problems(doc: Official, d: ReportData, all_: list[Share]) -> None:
    """By unit, the longest late first; units late on exactly the same items share one heading."""
    titles = _titles(d)
    late: dict[str, list[w.Late]] = {}
    for s in all_:
        if s.colour == RED:
            title, deadline = titles.get(s.task_no, (f"任务{s.task_no}", ""))
            late.setdefault(s.unit, []).append(w.Late(s.unit, s.unit_kind, s.task_no, title, deadline or "见方案",
                                                      s.label, s.due, s.workdays_late, s.missing))
    if not late:
        doc.paragraph(f"截至{w.day_text(d.as_of, d.year)}，各单位无逾期未完成事项。")
        return
    same: dict[tuple[Any, ...], list[str]] = {}
    for unit, items in late.items():
        key = tuple(sorted((i.task_no, i.label, i.due or date.min, i.workdays_late, i.missing) for i in items))
        same.setdefault(key, []).append(unit)
    groups = sorted(same.values(), key=lambda units: (-max(i.workdays_late for i in late[units[0]]), units[0]))
    units_word = sum(len(g) for g in groups)
    doc.paragraph(f"截至{w.day_text(d.as_of, d.year)}，共有{units_word}个单位存在逾期未完成事项，按逾期时间长短排列如下。")
    for n, units in enumerate(groups, 1):
        doc.heading(f"（{w.cn_number(n)}）{'、'.join(units)}", level=2)
        doc.paragraph(w.unit_problems(late[units[0]], d.year))


def _next(d: ReportData, all_: list[Share]) -> list[tuple[str, str]]:
    points = []
    red_units = list(dict.fromkeys(s.unit for s in sorted(all_, key=lambda s: -s.workdays_late) if s.colour == RED))
    if red_units:
        points.append(("抓紧补办逾期事项。", w.catch_up(red_units, CATCH_UP_WITHIN)))
    soon: dict[int, list[Share]] = {}
    for s in all_:
        if s.colour in (YELLOW, GREEN) and s.due and d.as_of < s.due <= d.as_of + timedelta(days=UPCOMING_DAYS):
            soon.setdefault(s.task_no, []).append(s)
    titles = _titles(d)
    lines = [w.upcoming(titles.get(no, (f"任务{no}", ""))[0], no, min(s.due for s in group if s.due),
                        [s.unit for s in group], d.year) for no, group in sorted(soon.items())]
    if lines:
        points.append(("按期完成临近到期事项。", "".join(lines)))
    points.append(("持续跟踪问效。", w.follow_up()))
    return [(f"（{w.cn_number(n)}）{lead}", text) for n, (lead, text) in enumerate(points, 1)]
