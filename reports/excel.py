"""The report as an Excel workbook ready to print: every sheet A4 landscape, one page wide (as many pages
tall as it takes, the header repeated on each), a title and a 统计截至 row above the header, wrapped text,
rates as percentages, red/yellow/green fills on status cells — what a clerk would otherwise build by hand.

Nothing in it is a formula: a text starting with "=" (a task's wording, a unit's name) is written as text.
Towns and departments are ranked on sheets of their own, as in the 通报.
"""

from __future__ import annotations

import math
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from openpyxl import Workbook
from openpyxl.styles import Alignment, Border, Font, PatternFill, Side
from openpyxl.utils import get_column_letter
from openpyxl.worksheet.worksheet import Worksheet

from fuquan.tracking.judge import COLOURS, DONE, DONE_LATE, FINISHED, GREEN, RED, YELLOW
from fuquan.tracking.scores import KINDS, Score, by_kind, late_share, rank
from fuquan.tracking.status import rollups
from fuquan.words.report_text import adjustment_note, kind_heading, score_rule
from fuquan.words.text import FORMULA_START
from models.queries import LetterGrid

from .files import replacing
from .gather import ReportData

FILL = {"红": "FFC7CE", "黄": "FFEB9C", "绿": "C6EFCE", "已完成": "BDD7EE", "逾期完成": "E4DFEC",
        "未签": "FFC7CE", "已签": "C6EFCE", "未报送": "FFC7CE"}
HEAD_FILL = PatternFill("solid", start_color="D9D9D9", end_color="D9D9D9")
THIN = Side(style="thin", color="999999")
BOX = Border(left=THIN, right=THIN, top=THIN, bottom=THIN)
HEAD_ROW = 3  # title, 统计截至, then the header
PCT, PCT1, ONE = "0%", "0.0%", "0.0"


@dataclass(frozen=True)
class Col:
    head: str
    width: float = 8  # in characters of the default font; a CJK character takes about two
    fmt: str | None = None  # number format (PCT for a rate held as a fraction)
    status: bool = False  # filled by the colour its text starts with


def _put(ws: Worksheet, row: int, col: int, value: Any) -> None:
    cell = ws.cell(row=row, column=col, value=value)
    if isinstance(value, str) and value.startswith(FORMULA_START):  # = + - @ tab CR: what a spreadsheet runs
        cell.data_type = "s"  # openpyxl would store "=…" as a formula
        cell.quotePrefix = True  # and Excel would make one of it on the next edit


def _lines(value: Any, width: float) -> int:
    """How many lines a wrapped cell takes (Excel does not size rows to wrapped text by itself)."""
    if not isinstance(value, str):
        return 1  # numbers and dates are shown in their format, on one line
    text = value
    chars = sum(2 if ord(ch) > 0x2E7F else 1 for ch in text)
    return max(1, math.ceil(chars / max(width - 1, 1)))


def _sheet(wb: Workbook, d: ReportData, name: str, cols: Sequence[Col], rows: Iterable[Sequence[Any]],
           note: str = "") -> Worksheet:
    ws = wb.create_sheet(name)
    last = get_column_letter(len(cols))
    state = " (未关账, 临时数据)" if d.provisional else ""
    for r, text, size in ((1, f"{d.district}{d.words.programme}工作{d.title} · {name}", 14),
                          (2, f"统计截至 {d.as_of}{state}" + (f"。{note}" if note else ""), 10)):
        _put(ws, r, 1, text)
        ws.merge_cells(f"A{r}:{last}{r}")
        ws.cell(r, 1).font = Font(bold=r == 1, size=size)
        ws.cell(r, 1).alignment = Alignment(horizontal="center" if r == 1 else "left", vertical="center", wrap_text=True)
    ws.row_dimensions[1].height = 24
    ws.row_dimensions[2].height = 15 * _lines(ws.cell(2, 1).value, sum(c.width for c in cols))
    for i, c in enumerate(cols, start=1):
        _put(ws, HEAD_ROW, i, c.head)
        cell = ws.cell(HEAD_ROW, i)
        cell.font, cell.fill, cell.border = Font(bold=True), HEAD_FILL, BOX
        cell.alignment = Alignment(horizontal="center", vertical="center", wrap_text=True)
        ws.column_dimensions[get_column_letter(i)].width = c.width
    ws.row_dimensions[HEAD_ROW].height = 15 * max(_lines(c.head, c.width) for c in cols)
    r = HEAD_ROW
    for r, values in enumerate(rows, start=HEAD_ROW + 1):
        for i, (c, v) in enumerate(zip(cols, values, strict=True), start=1):
            _put(ws, r, i, v)
            cell = ws.cell(r, i)
            cell.border = BOX
            cell.alignment = Alignment(vertical="top", wrap_text=True)
            if c.fmt and isinstance(v, int | float):
                cell.number_format = c.fmt
            fill = next((FILL[k] for k in FILL if c.status and str(v or "").startswith(k)), None)
            if fill:
                cell.fill = PatternFill("solid", start_color=fill, end_color=fill)
        ws.row_dimensions[r].height = 15 * max(_lines(v, c.width) for c, v in zip(cols, values, strict=True))
    if r == HEAD_ROW:
        _put(ws, HEAD_ROW + 1, 1, "(无)")
    ws.freeze_panes = f"A{HEAD_ROW + 1}"
    _print_setup(ws)
    return ws


def _print_setup(ws: Worksheet) -> None:
    """A4 landscape, one page wide and as many tall as it takes, the header on every page."""
    ws.page_setup.orientation = "landscape"
    ws.page_setup.paperSize = ws.PAPERSIZE_A4
    ws.sheet_properties.pageSetUpPr.fitToPage = True
    ws.page_setup.fitToWidth = 1
    ws.page_setup.fitToHeight = 0
    ws.print_title_rows = f"{HEAD_ROW}:{HEAD_ROW}"
    ws.print_options.horizontalCentered = True
    ws.page_margins.left = ws.page_margins.right = 0.4
    ws.page_margins.top = ws.page_margins.bottom = 0.6
    ws.oddFooter.center.text = "第 &P 页, 共 &N 页"


def write_workbook(d: ReportData, path: Path) -> Path:
    wb = Workbook()
    wb.remove(wb.active)
    _summary(wb, d)
    _tasks(wb, d)
    _overdue(wb, d)
    _by_unit(wb, d)
    _by_town(wb, d)
    for kind, group in by_kind(d.scores):
        _scores(wb, d, kind, group)
    _records(wb, d)
    with replacing(path) as tmp:
        wb.save(tmp)
    return path


def _summary(wb: Workbook, d: ReportData) -> None:
    counts = {c: sum(t.rollup.counts[c] for t in d.tasks) for c in COLOURS}
    w = d.weights
    rows: list[list[Any]] = [["报告", d.title], ["区县", d.district], ["计划年度", d.year], ["统计截至", d.as_of.isoformat()],
            ["数据状态", "未关账, 临时数据" if d.provisional else "已关账, 数据已冻结" if d.kind == "monthly" else "期末数据"],
            ["得分计算期", f"{d.scored_from or d.as_of} 至 {d.as_of} 到期的事项"],
            *[[f"分工数·{c}", n] for c, n in counts.items()],
            ["得分权重", f"按时完成 {w.on_time:g}、完成 {w.completion:g}、月报 {w.reports:g}; 逾期每个工作日扣 "
                     f"{w.late_penalty:g} 分, 每项最多扣 {w.late_penalty_cap:g} 分"],
            ["得分规则", score_rule(w, d.words)]]
    _sheet(wb, d, "汇总", [Col("项目", 18), Col("内容", 90)], [[k, str(v)] for k, v in rows])


def _tasks(wb: Workbook, d: ReportData) -> None:
    cols = [Col("序号", 5), Col("任务", 16), Col("主要任务", 52), Col("完成时限", 14), Col("截止日期", 11),
            Col("状态", 8, status=True), Col("红", 5), Col("黄", 5), Col("绿", 5), Col("完成", 6), Col("分工数", 7),
            Col("完成率", 8, PCT1)]
    _sheet(wb, d, "任务", cols, [[t.no, t.title, t.text, t.deadline_text, t.due.isoformat() if t.due else "", t.colour,
                                 t.rollup.counts[RED], t.rollup.counts[YELLOW], t.rollup.counts[GREEN], t.rollup.done,
                                 t.rollup.total, None if t.rollup.percent is None else t.rollup.percent / 100]
                                for t in d.tasks])


def _overdue(wb: Workbook, d: ReportData) -> None:
    late = sorted((r for r in d.rows if r.judgement.colour == RED),
                  key=lambda r: (KINDS.index(r.unit_kind), -r.judgement.workdays_late, r.unit, r.task_no))
    cols = [Col("类别", 8), Col("单位", 16), Col("任务", 20), Col("事项", 12), Col("截止日期", 11), Col("逾期工作日", 7),
            Col("逾期天数", 7), Col("尚缺", 56)]
    _sheet(wb, d, "逾期清单", cols, [[d.words.kind(r.unit_kind), r.unit, f"{r.task_no} {r.title}".strip(), r.label,
                                     r.judgement.due.isoformat() if r.judgement.due else "", r.judgement.workdays_late,
                                     r.judgement.days_late, "、".join(r.missing)] for r in late])


ROLLUP_COLS = [*(Col(c, 6) for c in COLOURS), Col("合计", 6), Col("完成率", 8, PCT1), Col("最多逾期工作日", 8),
               Col("逾期工作日合计", 8)]


def _rollup_values(g: Any) -> list[Any]:
    return [*(g.counts[c] for c in COLOURS), g.total, None if g.percent is None else g.percent / 100,
            g.workdays_late_max, g.workdays_late_sum]


def _by_unit(wb: Workbook, d: ReportData) -> None:
    kinds = {r.unit: r.unit_kind for r in d.rows}
    groups = sorted(rollups(d.rows, "unit"), key=lambda g: KINDS.index(kinds[g.key]))  # stable: plan order within
    _sheet(wb, d, "按单位", [Col("类别", 8), Col("单位", 18), *ROLLUP_COLS],
           [[d.words.kind(kinds[g.key]), g.key, *_rollup_values(g)] for g in groups])


def _by_town(wb: Workbook, d: ReportData) -> None:
    towns = d.words.towns
    reports: dict[str, list[str]] = {}
    for r in d.rows:
        if r.role == "report" and r.judgement.due and r.judgement.due <= d.as_of:
            reports.setdefault(r.unit, []).append(r.judgement.colour)
    cols = [Col(towns, 14), *ROLLUP_COLS, Col("月报应报", 6), Col("月报按时", 6), Col("月报逾期", 6), Col("月报未报", 6)]
    rows = []
    for g in rollups(d.rows, "town"):
        got = reports.get(g.key, [])
        rows.append([g.key, *_rollup_values(g), len(got), got.count(DONE), got.count(DONE_LATE),
                     sum(c not in FINISHED for c in got)])
    _sheet(wb, d, f"按{towns}", cols, rows)


def _scores(wb: Workbook, d: ReportData, kind: str, group: list[Score]) -> None:
    """One kind's ranking with every count the score is made of, so each can be redone by hand."""
    share = late_share(d.weights)
    cols = [Col("名次", 5), Col("单位", 14), Col("得分", 7, ONE), Col("应完成", 6), Col("按时完成", 6),
            Col("逾期完成", 6), Col("未完成", 6), Col("逾期完成扣分", 7, ONE), Col("按时完成率", 7, PCT),
            Col("完成率", 7, PCT), Col("任务得分", 7, ONE)]
    with_reports = kind == "town"
    if with_reports:
        cols += [Col("月报应报", 6), Col("月报按时", 6), Col("月报逾期", 6), Col("月报未报", 6),
                 Col("月报逾期扣分", 7, ONE), Col("月报按时率", 7, PCT), Col("月报得分", 7, ONE)]
    cols += [Col("逾期工作日", 7), Col("失分原因", 44)]
    adjusted = any(s.adjustments for s in d.scores)  # 得分 = 调整前得分 + 调整分, each entry with its reason
    if adjusted:
        cols += [Col("调整前得分", 7, ONE), Col("调整分", 6, ONE), Col("调整原因", 40)]
    rows = []
    for place, s in rank(group):
        t, m = s.tasks, s.reports
        row = [place, s.unit, s.score, t.due, t.on_time, t.late, t.missed, round(t.deduction, 2),
               s.rates.get("on_time"), s.rates.get("completion"), _part(s, "tasks")]
        if with_reports:
            row += [m.due, m.on_time, m.late, m.missed, round(m.deduction, 2), s.rates.get("reports"), _part(s, "reports")]
        row += [s.workdays_late, "; ".join(s.lost) or "满分"]
        if adjusted:
            row += [s.base, s.adjusted if s.adjustments else None, "; ".join(map(str, s.adjustments))]
        rows.append(row)
    note = (f"得分计 {d.scored_from or d.as_of} 至 {d.as_of} 到期的事项; 逾期完成一项得 {share:g} 分减逾期扣分。"
            + score_rule(d.weights, d.words) + adjustment_note(d.scores, d.unscored))
    _sheet(wb, d, f"{kind_heading(kind, d.words).removeprefix('各')}得分", cols, rows, note)


def _part(s: Score, key: str) -> float | None:
    return round(s.parts[key], 2) if key in s.parts else None


def _letter(g: LetterGrid, dept: str, town: str, year: int) -> str:
    if not g.applies(dept, town):
        return "不适用"
    if not g.signed(dept, town):
        return "未签"
    on = g.rows[(dept, town)].signed_on
    return f"已签 {on:%m-%d}" if on and on.year == year else f"已签 {on}"  # the plan's year goes without saying


def _records(wb: Workbook, d: ReportData) -> None:
    towns = d.words.towns
    g = d.letters
    _sheet(wb, d, "确认书", [Col("部门", 16), *(Col(t, 9, status=True) for t in (g.towns if g else ()))],
           [[dept, *(_letter(g, dept, t, d.year) for t in g.towns)] for dept in g.departments] if g else [])
    _sheet(wb, d, "培训", [Col("部门", 18), Col(towns, 14), Col("培训指导计划报送", 14), Col("培训完成", 12)],
           [[r["department"], r["town"], r["plan_filed_on"], r["completed_on"]] for r in d.training])
    _sheet(wb, d, "考试", [Col(towns, 14), Col("考试日期", 11), Col("应考", 6), Col("实考", 6), Col("通过", 6),
                         Col("考前培训", 11), Col("证件换领", 11)],
           [[r["town"], r["exam_on"], r["candidates"], r["sat"], r["passed"], r["pre_training_on"], r["certified_on"]]
            for r in d.exams])
    _sheet(wb, d, "月报数据", [Col(towns, 14), Col("月份", 8), Col("报送日期", 11), *(Col(f, 9) for f in d.figure_names)],
           [[m["town"], m["period"], m["submitted_on"], *(m["figures"].get(f) for f in d.figure_names)]
            for m in d.reports])
