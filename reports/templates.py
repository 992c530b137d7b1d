"""Sheets for units to fill in (承接确认书, 培训, 考试, 月报), pre-filled so that what comes back imports without a
fight: a title row naming the plan (an import into another plan is refused by it), the header bold and frozen,
one row per thing owed — department × town for letters and training, one per department or town for plans,
sessions and exams, town × month for 月报 — and drop-down lists of the plan's names and forms. 月报 gets one
column per figure the plan names. Nothing written is a formula (fuquan.words.text.spreadsheet_safe)."""

from __future__ import annotations

import csv
import io
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from fuquan.dates.deadline_model import report_months
from fuquan.errors import InvalidValue, LookupFailed
from fuquan.plans.plan import Plan, Task
from fuquan.words.sheets import SheetKind, columns_of, title_text
from fuquan.words.text import spreadsheet_safe

from .files import replacing, write_text

TRACKED = {"letters": "letters", "training": "training", "plans": "training", "sessions": "training",
           "exams": "exams", "reports": "monthly_reports"}
SPARE_ROWS = 200  # drop-downs reach this far below the pre-filled rows, for rows a unit adds
MAX_LIST = 255  # Excel's limit on a drop-down written out in the validation itself


@dataclass(frozen=True)
class Template:
    title: str
    headers: list[str]
    rows: list[list[str]]
    choices: dict[str, list[str]]  # header → the values its drop-down offers
    task: Task | None


def build(kind: SheetKind, plan: Plan, task_no: int | None = None, month: str | None = None) -> Template:
    """The sheet's rows in the plan's words, keyed by what each row is for."""
    cols = columns_of(kind, plan.report_figures if kind.name == "reports" else (), plan.words.towns)
    headers = [c.header for c in cols]
    try:
        task: Task | None = plan.tracked(TRACKED[kind.name], task_no)
    except LookupFailed:
        if task_no is not None or len([t for t in plan.tasks if getattr(t.track, TRACKED[kind.name])]) > 1:
            raise
        task = None  # nothing of this kind is tracked: a blank sheet with the plan's names to choose from
    keys = _keys(kind, plan, task, month)
    rows = [[*k, *[""] * (len(headers) - len(k))] for k in keys]
    depts, towns = _names(plan, task)
    choices = {"部门": depts, plan.words.towns: towns, "培训形式": list(plan.words.training_forms),
               "月份": _months(plan, task)}
    title = title_text(plan.district, plan.year, kind, task.no if task else None)
    return Template(title, headers, rows, {h: v for h, v in choices.items() if h in headers and v}, task)


def _names(plan: Plan, task: Task | None) -> tuple[list[str], list[str]]:
    """The departments and towns a sheet's drop-downs offer: the tracked task's, else every one of the plan."""
    depts = [u.name for u in plan.units if u.kind == "department"]
    towns = [u.name for u in plan.units if u.kind == "town"]
    if task is None:
        return depts, towns
    t = task.track
    pair = t.letters or t.training
    return (list(pair[0]) if pair else depts), list(pair[1] if pair else t.exams or t.monthly_reports or towns)


def _keys(kind: SheetKind, plan: Plan, task: Task | None, month: str | None) -> list[list[str]]:
    if task is None:
        return []
    t = task.track
    if kind.name in ("letters", "training"):
        pair = t.letters if kind.name == "letters" else t.training
        return [[d, w] for d in pair[0] for w in pair[1] if t.applies(kind.name, d, w)] if pair else []
    if kind.name in ("plans", "sessions"):
        return [[d] for d in t.training[0]] if t.training else []
    if kind.name == "exams":
        return [[w] for w in t.exams or ()]
    months = _months(plan, task)
    if month is not None:
        if month not in months:
            raise InvalidValue(f"月份 {month} 不是任务 {task.no} 要报送的月份; 可选: {'、'.join(months)}")
        months = [month]
    return [[w, m] for m in months for w in t.monthly_reports or ()]


def _months(plan: Plan, task: Task | None) -> list[str]:
    """The months a 月报 task's reports cover (as the plan says: the month due in, or the month before)."""
    return [m for m, _ in report_months(task.deadline, plan.issued, plan.year, task.track.covers)] if task else []


def write_template(kind: SheetKind, plan: Plan, out: Path, task_no: int | None = None,
                   month: str | None = None) -> Template:
    """Write the sheet (.xlsx, or .csv by the name's suffix), whole or not at all."""
    t = build(kind, plan, task_no, month)
    safe = [[str(spreadsheet_safe(v)) for v in row] for row in [[t.title], t.headers, *t.rows]]
    if out.suffix.lower() == ".csv":
        text = io.StringIO()
        csv.writer(text, lineterminator="\n").writerows(safe)
        write_text(out, text.getvalue(), encoding="utf-8-sig")  # BOM: Excel then reads it as UTF-8
        return t
    with replacing(out) as tmp:
        _workbook(kind, t, safe).save(tmp)
    return t


def _workbook(kind: SheetKind, t: Template, safe: list[list[str]]) -> Any:
    from openpyxl import Workbook
    from openpyxl.styles import Alignment, Font
    from openpyxl.worksheet.datavalidation import DataValidation

    wb = Workbook()
    ws = wb.active
    ws.title = kind.label
    for row in safe:
        ws.append(row)
    ws.merge_cells(start_row=1, start_column=1, end_row=1, end_column=len(t.headers))
    ws["A1"].font = Font(bold=True, size=12)
    ws["A1"].alignment = Alignment(horizontal="left")
    last = 2 + len(t.rows) + SPARE_ROWS
    for i, header in enumerate(t.headers, 1):
        cell = ws.cell(row=2, column=i)
        cell.font = Font(bold=True)
        width = max([len(str(header))] + [len(r[i - 1]) for r in t.rows[:500]])
        ws.column_dimensions[cell.column_letter].width = max(12, 2 * width + 4)
        if header in t.choices and (listed := _inline(t.choices[header])):
            dv = DataValidation(type="list", formula1=listed, allow_blank=True, showErrorMessage=True,
                                errorTitle="不在列表中", error=f"请从下拉列表中选择{header} (本计划中的名称)")
            dv.add(f"{cell.column_letter}3:{cell.column_letter}{last}")
            ws.add_data_validation(dv)
        if header.endswith("日期"):
            for r in range(3, last + 1):
                ws.cell(row=r, column=i).number_format = "yyyy-mm-dd"
    ws.freeze_panes = "A3"
    return wb


def _inline(values: list[str]) -> str | None:
    """A drop-down's list as Excel holds it in the validation ("a,b,c"); None when it cannot be (too long, or a
    name with a comma or quote) — the column is then filled by hand, and the import checks it anyway."""
    if any("," in v or '"' in v for v in values):
        return None
    text = '"' + ",".join(values) + '"'
    return text if len(text) - 2 <= MAX_LIST else None

