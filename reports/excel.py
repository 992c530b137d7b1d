"""The report as an Excel workbook: one sheet per view, frozen header row, sized columns, and
red/yellow/green fills on status cells — what a clerk would otherwise build by hand."""

from __future__ import annotations

from collections.abc import Iterable
from pathlib import Path
from typing import Any

from openpyxl import Workbook
from openpyxl.styles import Alignment, Font, PatternFill
from openpyxl.utils import get_column_letter
from openpyxl.worksheet.worksheet import Worksheet

from fuquan.reports import RATE_LABEL, rank

from .files import replacing
from .gather import ReportData

FILL = {"红": "FFC7CE", "黄": "FFEB9C", "绿": "C6EFCE", "已完成": "BDD7EE", "逾期完成": "E4DFEC",
        "未签": "FFC7CE", "已签": "C6EFCE", "未报送": "FFC7CE"}
SHEETS = ("汇总", "任务", "确认书", "培训", "考试", "月报数据", "得分")


def _sheet(wb: Workbook, title: str, heads: list[str], rows: Iterable[list[Any]], status_cols: tuple[str, ...] = ()) -> Worksheet:
    ws = wb.create_sheet(title)
    ws.append(heads)
    for cell in ws[1]:
        cell.font = Font(bold=True)
        cell.alignment = Alignment(horizontal="center")
    widths = [len(str(h)) * 2 + 2 for h in heads]
    for row in rows:
        ws.append(row)
        for i, v in enumerate(row):
            widths[i] = max(widths[i], min(60, len(str(v if v is not None else "")) * 2 + 2))
    ws.freeze_panes = "A2"
    for i, w in enumerate(widths, start=1):
        ws.column_dimensions[get_column_letter(i)].width = w
    for i, h in enumerate(heads, start=1):
        if h in status_cols or h == "状态":
            for cell in ws.iter_cols(min_col=i, max_col=i, min_row=2):
                for c in cell:
                    colour = next((FILL[k] for k in FILL if str(c.value or "").startswith(k)), None)
                    if colour:
                        c.fill = PatternFill("solid", start_color=colour, end_color=colour)
    return ws


def write_workbook(d: ReportData, path: Path) -> Path:
    wb = Workbook()
    wb.remove(wb.active)
    counts = {c: sum(t.rollup.counts[c] for t in d.tasks) for c in ("红", "黄", "绿", "逾期完成", "已完成", "持续", "待定")}
    _sheet(wb, "汇总", ["项目", "内容"], [["报告", d.title], ["区县", d.district], ["计划年度", d.year],
                                       ["统计截至", d.as_of.isoformat()], ["是否冻结", "否 (临时)" if d.provisional else "是"],
                                       *[[f"分工数·{c}", n] for c, n in counts.items()]])
    _sheet(wb, "任务", ["序号", "主要任务", "完成时限", "截止日期", "状态", "红", "黄", "绿", "已完成", "应完成", "完成率"],
           [[t.no, t.text, t.deadline_text, t.due.isoformat() if t.due else "", t.colour, t.rollup.counts["红"],
             t.rollup.counts["黄"], t.rollup.counts["绿"], t.rollup.done, t.rollup.total,
             "" if t.rollup.percent is None else t.rollup.percent / 100] for t in d.tasks])
    g = d.letters
    _sheet(wb, "确认书", ["部门", *(g.towns if g else [])],
           [[dept, *("不适用" if not g.applies(dept, t) else f"已签 {g.rows[(dept, t)].signed_on}" if g.signed(dept, t)
                     else "未签" for t in g.towns)]
            for dept in g.departments] if g else [], status_cols=tuple(g.towns) if g else ())
    towns = d.words.towns
    _sheet(wb, "培训", ["部门", towns, "培训指导计划报送", "培训完成"],
           [[r["department"], r["town"], r["plan_filed_on"], r["completed_on"]] for r in d.training])
    _sheet(wb, "考试", [towns, "考试日期", "应考", "实考", "通过", "考前培训", "证件换领"],
           [[r["town"], r["exam_on"], r["candidates"], r["sat"], r["passed"], r["pre_training_on"], r["certified_on"]]
            for r in d.exams])
    _sheet(wb, "月报数据", [towns, "月份", "报送日期", *d.figure_names],
           [[m["town"], m["period"], m["submitted_on"], *(m["figures"].get(f) for f in d.figure_names)]
            for m in d.reports])
    w = d.weights
    _sheet(wb, "得分", ["名次", "单位", "类别", "应完成", "按时完成", "完成", "月报应报", "月报按时", *RATE_LABEL.values(),
                      "逾期工作日", "按时权重", "完成权重", "月报权重", "每日扣分", "扣分上限", "得分", "失分原因"],
           [[place, s.unit, towns if s.unit_kind == "town" else "部门", s.due, s.on_time, s.done, s.reports_due,
             s.reports_on_time, *(s.rates.get(k) for k in RATE_LABEL), s.workdays_late, w.on_time, w.completion,
             w.reports, w.late_penalty, w.late_penalty_cap, s.score, "; ".join(s.lost)] for place, s in rank(d.scores)])
    with replacing(path) as tmp:
        wb.save(tmp)
    return path
