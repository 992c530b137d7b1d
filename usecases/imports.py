"""The import run: the CSV/Excel sheets offices send back (承接确认书, 培训, 考试, 月报) into the ledger.

Every row of every sheet is first tried — recorded in transactions of CHUNK rows that are rolled back — and only
when all are good recorded for real, again a chunk a transaction; otherwise every bad row is listed (sheet, row,
column, why) and nothing is written. Two passes rather than one transaction: measured under the mixed load
(bench/mixed.py), a 1,500-row import held the write lock 10–12 s in one transaction, and the daily reminder run
gave up meanwhile. A file whose rows conflict with each other (the same 月报 twice with different dates, from a
unit's page, where nothing recorded is replaced) can still fail in the second pass: the error then says how many
rows went in, and importing the corrected file again is safe (rows are recorded by their keys).
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import date
from pathlib import Path
from typing import Any

from sqlmodel import Session

from fuquan.errors import FuquanError, ImportRejected, LookupFailed
from fuquan.tracking.actor import Actor
from fuquan.words.sheets import (
    KINDS,
    CellProblem,
    SheetKind,
    SheetTitle,
    read_rows,
    read_title,
    recognise,
    unfilled,
    wrong_plan,
)
from models import records
from models.db import make_way, transaction

from .context import Context
from .guard import open_plan
from .sheet_files import read_tables

Sheet = tuple[str, SheetKind | None, list[str], list[tuple[int, list[Any]]], SheetTitle | None]


def _figures(r: dict[str, Any]) -> dict[str, Any]:
    return {k.removeprefix("figure:"): v for k, v in r.items() if k.startswith("figure:") and v is not None}


def _towns(text: str) -> list[str]:
    return [x for x in text.replace("、", ",").split(",") if x.strip()]


# The recording function for a row of each kind, given the row's typed values.
APPLY: dict[str, Callable[..., Any]] = {
    "letters": lambda s, p, a, t, r: records.sign_letter(s, p, a, t, task_no=None, department=r["department"],
                                                         town=r["town"], signed_on=r["signed_on"],
                                                         doc_no=r.get("doc_no"), signed_by=r.get("signed_by")),
    "plans": lambda s, p, a, t, r: records.file_training_plan(s, p, a, t, task_no=None, department=r["department"],
                                                              filed_on=r["filed_on"]),
    "sessions": lambda s, p, a, t, r: records.add_training_session(
        s, p, a, t, task_no=None, department=r["department"], held_on=r["held_on"], form=r["form"],
        attendees=r["attendees"], towns=_towns(r["towns"])),
    "training": lambda s, p, a, t, r: records.complete_training(s, p, a, t, task_no=None, department=r["department"],
                                                                town=r["town"], completed_on=r["completed_on"]),
    "exams": lambda s, p, a, t, r: records.record_exam(s, p, a, t, task_no=None, town=r["town"], exam_on=r["exam_on"],
                                                       candidates=r["candidates"], sat=r["sat"], passed=r["passed"]),
    "reports": lambda s, p, a, t, r: records.submit_report(s, p, a, t, task_no=None, town=r["town"], period=r["period"],
                                                           submitted_on=r["submitted_on"], figures=_figures(r)),
}


def read_file(path: Path, kind_name: str | None, shown: str | None = None) -> list[Sheet]:
    """Each sheet as (name, kind, headers, numbered rows, the plan a template's title row names). CSV is one
    sheet named after the file. A template's rows that nobody filled in (only their pre-filled keys) are left out."""
    out: list[Sheet] = []
    for name, table in read_tables(path, shown):
        if not table:
            continue
        title, at = read_title(table)
        headers = [str(h).strip() if h is not None else "" for h in table[at]] if len(table) > at else []
        kind = KINDS.get(kind_name) if kind_name else recognise(name, headers)
        rows = [(i + at + 2, row) for i, row in enumerate(table[at + 1:])
                if not (title and kind and unfilled(kind, headers, row))]
        out.append((name, kind, headers, rows, title))
    return out


def _owned(row: dict[str, Any], unit: str, ctx: Context) -> bool:
    """Whether a row is the unit's own: its 部门 or 乡镇 cell names that unit alone (a group names others too)."""
    plan = ctx.plan.plan
    for cell in (row[k] for k in ("department", "town") if isinstance(row.get(k), str)):
        try:
            if tuple(plan.resolve(m) for m in plan.members(cell)) == (unit,):  # full and former names too
                return True
        except LookupFailed:
            continue  # an unknown name: the row's own check says so
    return False


def import_file(ctx: Context, path: Path, *, kind: str | None, actor: Actor, today: date,
                advance: Callable[[], None] = lambda: None, started: Callable[[int], None] = lambda _n: None,
                only_unit: str | None = None, shown: str | None = None) -> dict[str, int]:
    """Import every sheet of `path` into the context's plan; rows recorded per sheet kind (its label).
    `started(total)` and `advance()` report progress row by row. `only_unit`: a unit's own upload (its web
    page), which may hold its own rows only — a row of another unit fails the whole file, like any bad row; `shown`:
    how its errors name the file (the unit's own file name, not a path on this server)."""
    sp = ctx.plan
    problems: list[CellProblem] = []
    parsed = []
    for name, sheet_kind, headers, rows, title in read_file(path, kind, shown):
        if title and (why := wrong_plan(title, sp.plan.district, sp.plan.year)):
            problems.append(CellProblem(name, 1, "", why))
            continue
        if sheet_kind is None:
            hint = "" if only_unit else ", 或加 --kind"  # (a unit's page has no --kind to add)
            problems.append(CellProblem(name, 1, "", f"无法识别表格类型; 请用 fuquan template 生成的表头{hint}"))
            continue
        typed, bad = read_rows(name, sheet_kind, sp.plan.report_figures, headers, rows,
                               header_row=2 if title else 1, towns=sp.plan.words.towns)
        problems += bad
        parsed.append((name, sheet_kind, typed))
    bad_rows = {(p.sheet, p.row) for p in problems}
    lines = [(name, kind, line, row) for name, kind, typed in parsed for line, row in typed]
    started(2 * len(lines))  # every row is tried, then recorded
    chunks = [lines[i:i + CHUNK] for i in range(0, len(lines), CHUNK)]
    # (the tasks its rows record items of, whole: units' answers to other tasks go on meanwhile)
    lanes = {lane for _, kind, _, _ in lines for lane in sp.item_lanes(kind.name)} or None
    # 1. every row tried in short transactions that are rolled back: a bad row anywhere changes nothing
    for chunk in chunks:
        with transaction(ctx.engine, plan=sp.id, lanes=lanes) as session:
            problems += _apply(session, ctx, chunk, bad_rows, actor, today, only_unit, advance, {})
            session.rollback()  # (a trial: nothing kept; the commit that follows has nothing to commit)
        make_way(ctx.engine)
    if problems:
        raise ImportRejected(shown or str(path), [p.render() for p in sorted(problems, key=lambda p: (p.sheet, p.row))])
    # 2. recorded, a chunk a transaction, so other writers (the daily run, units' answers) wait at most one chunk
    done: dict[str, int] = {}
    for n, chunk in enumerate(chunks):
        with transaction(ctx.engine, plan=sp.id, lanes=lanes) as session:
            if late := _apply(session, ctx, chunk, bad_rows, actor, today, only_unit, advance, done):
                # (the plan changed between the two passes, e.g. closed or a unit retired meanwhile)
                raise ImportRejected(shown or str(path), [p.render() for p in late] + [
                    f"此前的 {n * CHUNK} 行已导入; 其余未导入。改正后重新导入整个文件即可 (已导入的行会按原值覆盖)"])
        make_way(ctx.engine)
    return done


CHUNK = 25  # rows a transaction: measured about 3 ms a row, so the write lock is held under 0.1 s at a time


def _apply(session: Session, ctx: Context, chunk: list[tuple[str, SheetKind, int, dict[str, Any]]],
           bad_rows: set[tuple[str, int]], actor: Actor, today: date, only_unit: str | None,
           advance: Callable[[], None], done: dict[str, int]) -> list[CellProblem]:
    """Record `chunk`'s rows in `session` (counting them into `done` by sheet kind); the problems found."""
    sp, problems = ctx.plan, []
    open_plan(session, sp)  # a closed plan year takes no rows, from the CLI or a unit's page
    for name, sheet_kind, line, row in chunk:
        advance()
        if (name, line) in bad_rows:
            continue
        if only_unit is not None and not _owned(row, only_unit, ctx):
            problems.append(CellProblem(name, line, "", f"这一行不是 {only_unit} 的, 本单位只能导入本单位的行"))
            continue
        apply = APPLY[sheet_kind.name]
        try:
            # a group in a 部门 or 镇 cell (各镇) stands for each member
            n = len(records.for_each_member(lambda s, p, a, t, _apply=apply, **r: _apply(s, p, a, t, r),
                                            session, sp, actor, today, **row))
            done[sheet_kind.label] = done.get(sheet_kind.label, 0) + n
        except FuquanError as e:
            column = e.what if isinstance(e, LookupFailed) and e.what in ("部门", sp.plan.words.towns) else ""
            problems.append(CellProblem(name, line, column, str(e)))
    return problems
