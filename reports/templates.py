"""Blank sheets for units to fill in (承接确认书, 培训, 考试, 月报): the right headers, bold and frozen, so that
what comes back imports without a fight. 月报 gets one column per figure the plan names."""

from __future__ import annotations

import csv
import io
from pathlib import Path

from fuquan.sheets import SheetKind, columns_of
from fuquan.text import FORMULA_START, spreadsheet_safe

from .files import replacing, write_text


def write_template(kind: SheetKind, figures: tuple[str, ...], out: Path, towns: str = "镇") -> list[str]:
    """Write the blank sheet (.xlsx, or .csv by the name's suffix) in the plan's words; returns its headers."""
    headers = [c.header for c in columns_of(kind, figures, towns)]
    if out.suffix.lower() == ".csv":
        line = io.StringIO()
        csv.writer(line).writerow([spreadsheet_safe(h) for h in headers])  # a figure name is never a formula
        write_text(out, line.getvalue(), encoding="utf-8-sig")  # BOM: Excel then reads it as UTF-8
        return headers
    from openpyxl import Workbook
    from openpyxl.styles import Font

    wb = Workbook()
    ws = wb.active
    ws.title = kind.label
    ws.append(headers)
    for cell in ws[1]:
        if str(cell.value).startswith(FORMULA_START):
            cell.data_type, cell.quotePrefix = "s", True
        cell.font = Font(bold=True)
        ws.column_dimensions[cell.column_letter].width = max(12, 3 * len(str(cell.value)) + 4)
    ws.freeze_panes = "A2"
    with replacing(out) as tmp:
        wb.save(tmp)
    return headers
