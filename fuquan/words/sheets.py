"""The sheets offices exchange (承接确认书, 培训, 考试, 月报): their columns and how a cell is read. Pure.

A kind is recognised by its sheet name or, failing that, by its header row. Every cell problem is
reported as (sheet, row, column, why) so a clerk can fix the whole file in one go.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, replace
from datetime import date, datetime
from typing import Any

from fuquan.tracking.progress import MAX_COUNT, MAX_TEXT


@dataclass(frozen=True)
class Column:
    header: str
    key: str
    type: str  # text | date | int | period | number
    required: bool = True


@dataclass(frozen=True)
class SheetKind:
    name: str  # used on the command line: letters, training, …
    label: str  # the sheet name in a template
    columns: tuple[Column, ...]


KINDS = {k.name: k for k in (
    SheetKind("letters", "承接确认书", (Column("部门", "department", "text"), Column("镇", "town", "text"),
                                      Column("签订日期", "signed_on", "date"), Column("文号", "doc_no", "text", False),
                                      Column("签订人", "signed_by", "text", False))),
    SheetKind("plans", "培训指导计划", (Column("部门", "department", "text"), Column("报送日期", "filed_on", "date"))),
    SheetKind("sessions", "培训场次", (Column("部门", "department", "text"), Column("培训日期", "held_on", "date"),
                                     Column("培训形式", "form", "text"), Column("参训镇", "towns", "text"),
                                     Column("参训人次", "attendees", "int"))),
    SheetKind("training", "岗前培训完成", (Column("部门", "department", "text"), Column("镇", "town", "text"),
                                        Column("完成日期", "completed_on", "date"))),
    SheetKind("exams", "考试结果", (Column("镇", "town", "text"), Column("考试日期", "exam_on", "date"),
                                  Column("应考人数", "candidates", "int"), Column("实考人数", "sat", "int"),
                                  Column("通过人数", "passed", "int"))),
    SheetKind("reports", "月报", (Column("镇", "town", "text"), Column("月份", "period", "period"),
                                Column("报送日期", "submitted_on", "date"))),
)}


# A plan with 乡 or 街道 calls its towns 乡镇（街道）: its sheets say so, and any of these headers reads as 镇.
TOWN_WORDS = ("镇", "乡镇（街道）", "乡镇(街道)", "乡镇", "街道", "乡")


def columns_of(kind: SheetKind, figures: tuple[str, ...], towns: str = "镇") -> tuple[Column, ...]:
    """A kind's columns in the plan's words (`towns`); 月报 gets one optional numeric column per figure."""
    cols = tuple(replace(c, header=c.header.replace("镇", towns)) if "镇" in c.header else c for c in kind.columns)
    if kind.name != "reports":
        return cols
    return cols + tuple(Column(f, f"figure:{f}", "number", False) for f in figures)


def _header_index(col: Column, where: dict[str, int]) -> int | None:
    if col.header in where:
        return where[col.header]
    if "镇" in col.header:
        return next((where[h] for w in TOWN_WORDS if (h := col.header.replace("镇", w)) in where), None)
    return None


@dataclass(frozen=True)
class CellProblem:
    sheet: str
    row: int  # 1-based, as Excel shows it
    column: str
    why: str

    def render(self) -> str:
        where = f"{self.sheet} 第 {self.row} 行" + (f" “{self.column}”列" if self.column else "")
        return f"{where}: {self.why}"


def recognise(sheet_name: str, headers: list[str]) -> SheetKind | None:
    for kind in KINDS.values():
        if sheet_name.strip() in (kind.label, kind.name):
            return kind
    where = {h.strip(): i for i, h in enumerate(headers) if h}
    matches = [k for k in KINDS.values() if all(_header_index(c, where) is not None for c in k.columns if c.required)]
    # the most specific match wins: 岗前培训完成 (部门, 镇, 完成日期) over nothing else
    return max(matches, key=lambda k: len(k.columns), default=None)


_DATE = re.compile(r"(\d{4})\s*[-/.年]\s*(\d{1,2})\s*[-/.月]\s*(\d{1,2})\s*日?")


def read_cell(col: Column, raw: Any) -> Any:
    """The typed value of one cell, or ValueError with a Chinese reason."""
    if raw is None or (isinstance(raw, str) and not raw.strip()):
        if col.required:
            raise ValueError("不能为空")
        return None
    if col.type == "text":
        text = str(raw).strip()
        if re.search(r"[\x00-\x08\x0b-\x1f\x7f]", text):
            raise ValueError("含有控制字符, 请删去")
        if len(text) > MAX_TEXT:
            raise ValueError(f"过长 ({len(text)} 字), 最多 {MAX_TEXT} 字")
        return text
    if col.type == "date":
        if isinstance(raw, datetime):
            return raw.date()
        if isinstance(raw, date):
            return raw
        m = _DATE.fullmatch(str(raw).strip())
        try:
            return date(int(m[1]), int(m[2]), int(m[3])) if m else _fail()
        except ValueError:
            raise ValueError(f"日期应写作 YYYY-MM-DD, 实为 “{raw}”") from None
    if col.type == "int":
        text = str(raw).strip()
        if isinstance(raw, float) and raw.is_integer():
            n = int(raw)
        elif re.fullmatch(r"\d{1,12}", text):
            n = int(text)
        else:
            raise ValueError(f"应为非负整数, 实为 “{text[:40]}”")
        if n > MAX_COUNT:  # (and SQLite's integers end at 2^63, PostgreSQL's at 2^31)
            raise ValueError(f"应在 0 到 {MAX_COUNT} 之间, 实为 {n}")
        return n
    if col.type == "period":
        if isinstance(raw, (date, datetime)):
            return f"{raw:%Y-%m}"
        m = re.fullmatch(r"(\d{4})\s*[-/.年]\s*(\d{1,2})\s*月?", str(raw).strip())
        if not m or not 1 <= int(m[2]) <= 12:
            raise ValueError(f"月份应写作 YYYY-MM, 实为 “{raw}”")
        return f"{m[1]}-{int(m[2]):02d}"
    return raw  # number: checked against the plan's figure list by fuquan.tracking.progress.figures


def _fail() -> date:
    raise ValueError


def _said(col: Column, towns: str) -> str:
    return col.header.replace("镇", towns) if "镇" in col.header else col.header


def read_rows(sheet: str, kind: SheetKind, figures: tuple[str, ...], headers: list[str],
              rows: list[tuple[int, list[Any]]], *, header_row: int = 1, towns: str = "镇",
              ) -> tuple[list[tuple[int, dict[str, Any]]], list[CellProblem]]:
    """Typed rows keyed by column key, and every problem found; blank rows are skipped. `header_row`: where the
    header is (row 2 under a template's title row), for a missing column's place; `towns`: the plan's word for
    the town column (乡镇（街道）), in what is said about it."""
    cols = columns_of(kind, figures)  # matched in any town word (TOWN_WORDS); named in the plan's
    where = {h.strip(): i for i, h in enumerate(headers) if h}
    index = {c.key: _header_index(c, where) for c in cols}
    problems = [CellProblem(sheet, header_row, _said(c, towns), "缺少此列") for c in cols
                if c.required and index[c.key] is None]
    if problems:
        return [], problems
    out = []
    for line, values in rows:
        if all(v is None or str(v).strip() == "" for v in values):
            continue
        record: dict[str, Any] = {}
        for c in cols:
            i = index[c.key]
            raw = values[i] if i is not None and i < len(values) else None
            try:
                record[c.key] = read_cell(c, raw)
            except ValueError as e:
                problems.append(CellProblem(sheet, line, _said(c, towns), str(e)))
        out.append((line, record))
    return out, problems


# ── fuquan's templates: a title row naming the plan above the header, rows pre-filled with their keys ──────────

# The cells a template fills in beforehand (which department, which town, which month); the rest is the unit's.
PREFILLED = {"letters": ("department", "town"), "training": ("department", "town"), "plans": ("department",),
             "sessions": ("department",), "exams": ("town",), "reports": ("town", "period")}
_TITLE = re.compile(r"^(?P<district>.+?) (?P<year>\d{4}) 年度 (?P<label>\S+?)登记表")


@dataclass(frozen=True)
class SheetTitle:
    district: str
    year: int
    label: str


def title_text(district: str, year: int, kind: SheetKind, task: int | None = None) -> str:
    """The title row of a template: the plan it belongs to (an import into another plan is refused by it)."""
    about = f" (任务 {task})" if task else ""
    return f"{district} {year} 年度 {kind.label}登记表{about} — 请在表头下逐行填写, 不要改动本行和表头"


def read_title(table: list[list[Any]]) -> tuple[SheetTitle | None, int]:
    """The plan a template's title row names and the index of the header row: (None, 0) for a sheet without one."""
    first = [v for v in table[0] if v is not None and str(v).strip()] if table else []
    if len(first) == 1 and (m := _TITLE.match(str(first[0]).strip().lstrip("'"))):
        return SheetTitle(m["district"], int(m["year"]), m["label"]), 1
    return None, 0


def wrong_plan(title: SheetTitle, district: str, year: int) -> str | None:
    """Why a template of one plan may not be imported into another, or None when it is this plan's."""
    if (title.district, title.year) == (district, year):
        return None
    return (f"此表是 {title.district} {title.year} 年度的{title.label}登记表, 不能导入 {district} {year} 年度的计划; "
            f"请用 --district {title.district} --year {title.year} 导入到它的计划, 或用本计划的 fuquan template 重新生成")


def unfilled(kind: SheetKind, headers: list[str], values: list[Any]) -> bool:
    """A template's row that nobody filled in: nothing in it but the cells the template pre-filled."""
    where = {h.strip(): i for i, h in enumerate(headers) if h}
    keys = {_header_index(c, where) for c in kind.columns if c.key in PREFILLED.get(kind.name, ())}
    return all(v is None or str(v).strip() == "" for i, v in enumerate(values) if i not in keys)
