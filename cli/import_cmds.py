"""`fuquan import FILE` and `fuquan template KIND`: the CSV/Excel sheets offices send back and forth.

An import checks every row of every sheet inside one transaction and commits only if all are good;
otherwise it lists every bad row (sheet, row, column, why) and writes nothing.
"""

from __future__ import annotations

import argparse
import csv
from collections.abc import Callable
from pathlib import Path
from typing import Any

from rich.progress import Progress

from fuquan.errors import FuquanError, InvalidValue, LookupFailed
from fuquan.sheets import KINDS, CellProblem, SheetKind, columns_of, read_rows, recognise
from models import records
from models.db import reading, transaction

from .context import actor, database, plan_of
from .output import console


class ImportRejected(FuquanError):
    def __init__(self, path: str, problems: list[CellProblem]) -> None:
        lines = "\n".join(p.render() for p in problems[:200])
        more = f"\n… 另有 {len(problems) - 200} 处" if len(problems) > 200 else ""
        super().__init__(f"{path}: {len(problems)} 处错误, 未导入任何数据:\n{lines}{more}")


def _apply(kind: str) -> Callable[..., Any]:
    """The recording function for a row of `kind`, taking the row's typed values."""
    def figures(r: dict[str, Any]) -> dict[str, Any]:
        return {k.removeprefix("figure:"): v for k, v in r.items() if k.startswith("figure:") and v is not None}

    return {
        "letters": lambda s, i, a, t, r: records.sign_letter(s, i, a, t, task_no=None, department=r["department"],
                                                             town=r["town"], signed_on=r["signed_on"],
                                                             doc_no=r.get("doc_no"), signed_by=r.get("signed_by")),
        "plans": lambda s, i, a, t, r: records.file_training_plan(s, i, a, t, task_no=None, department=r["department"],
                                                                  filed_on=r["filed_on"]),
        "sessions": lambda s, i, a, t, r: records.add_training_session(
            s, i, a, t, task_no=None, department=r["department"], held_on=r["held_on"], form=r["form"],
            attendees=r["attendees"], towns=[x for x in r["towns"].replace("、", ",").split(",") if x.strip()]),
        "training": lambda s, i, a, t, r: records.complete_training(s, i, a, t, task_no=None, department=r["department"],
                                                                    town=r["town"], completed_on=r["completed_on"]),
        "exams": lambda s, i, a, t, r: records.record_exam(s, i, a, t, task_no=None, town=r["town"], exam_on=r["exam_on"],
                                                           candidates=r["candidates"], sat=r["sat"], passed=r["passed"]),
        "reports": lambda s, i, a, t, r: records.submit_report(s, i, a, t, task_no=None, town=r["town"], period=r["period"],
                                                               submitted_on=r["submitted_on"], figures=figures(r)),
    }[kind]


def read_file(path: Path, kind_name: str | None) -> list[tuple[str, SheetKind | None, list[str], list[tuple[int, list[Any]]]]]:
    """Each sheet as (name, kind, headers, numbered rows). CSV is one sheet named after the file."""
    if not path.exists():
        raise InvalidValue(f"找不到文件: {path}")
    if path.suffix.lower() == ".xlsx":
        from openpyxl import load_workbook

        wb = load_workbook(path, read_only=True, data_only=True)
        sheets = [(ws.title, [list(r) for r in ws.iter_rows(values_only=True)]) for ws in wb.worksheets]
        wb.close()
    elif path.suffix.lower() == ".csv":
        sheets = [(path.name, list(csv.reader(_decode(path).splitlines())))]
    else:
        raise InvalidValue(f"只支持 .csv 和 .xlsx 文件, 实为 “{path.suffix}”")
    out = []
    for name, table in sheets:
        if not table:
            continue
        headers = [str(h).strip() if h is not None else "" for h in table[0]]
        kind = KINDS.get(kind_name) if kind_name else recognise(name, headers)
        out.append((name, kind, headers, [(i + 2, row) for i, row in enumerate(table[1:])]))
    return out


def _decode(path: Path) -> str:
    data = path.read_bytes()
    try:
        return data.decode("utf-8-sig")
    except UnicodeDecodeError:
        return data.decode("gb18030")  # CSV saved by Excel on a Chinese Windows


def import_file(args: argparse.Namespace) -> int:
    path = Path(args.file)
    sheets = read_file(path, args.kind)
    problems: list[CellProblem] = []
    done: dict[str, int] = {}
    with database() as eng:
        with reading(eng) as session:
            figures = records.PlanIndex(session, plan_of(session, args)).figures
        parsed = []
        for name, kind, headers, rows in sheets:
            if kind is None:
                problems.append(CellProblem(name, 1, "", "无法识别表格类型; 请用 fuquan template 生成的表头, 或加 --kind"))
                continue
            typed, bad = read_rows(name, kind, figures, headers, rows)
            problems += bad
            parsed.append((name, kind, typed))
        bad_rows = {(p.sheet, p.row) for p in problems}
        total = sum(len(t) for _, _, t in parsed)
        err = console(stderr=True)
        # A progress bar for people; nothing on a pipe or in CI, where it would only be noise.
        with transaction(eng) as session, Progress(console=err, transient=True, disable=not err.is_terminal) as bar:
            idx, who = records.PlanIndex(session, plan_of(session, args)), actor(args, f"import:{path.name}")
            job = bar.add_task("校验并导入", total=total)
            for name, kind, typed in parsed:
                apply = _apply(kind.name)
                for line, row in typed:
                    bar.advance(job)
                    if (name, line) in bad_rows:
                        continue
                    try:
                        apply(session, idx, who, args.today, row)
                        done[kind.label] = done.get(kind.label, 0) + 1
                    except FuquanError as e:
                        column = e.what if isinstance(e, LookupFailed) and e.what in ("部门", "镇") else ""
                        problems.append(CellProblem(name, line, column, str(e)))
            if problems:
                raise ImportRejected(str(path), sorted(problems, key=lambda p: (p.sheet, p.row)))
    console().print(f"已导入 {path.name}: " + ", ".join(f"{k} {n} 行" for k, n in done.items()))
    return 0


def template(args: argparse.Namespace) -> int:
    kind = KINDS[args.kind]
    figures: tuple[str, ...] = ()
    if kind.name == "reports":
        from fuquan.loader import load_plan

        figures = load_plan(args.config).report_figures
    headers = [c.header for c in columns_of(kind, figures)]
    out = Path(args.out or f"{kind.label}.xlsx")
    if out.suffix.lower() == ".csv":
        out.write_text(",".join(headers) + "\n", encoding="utf-8-sig")  # BOM: Excel then reads it as UTF-8
    else:
        from openpyxl import Workbook
        from openpyxl.styles import Font

        wb = Workbook()
        ws = wb.active
        ws.title = kind.label
        ws.append(headers)
        for cell in ws[1]:
            cell.font = Font(bold=True)
            ws.column_dimensions[cell.column_letter].width = max(12, 3 * len(str(cell.value)) + 4)
        ws.freeze_panes = "A2"
        wb.save(out)
    console().print(f"已生成模板 {out}: {'、'.join(headers)}")
    return 0

