"""`fuquan letters`: the department × town grid of 承接确认书.

A county of 21 乡镇 does not fit a terminal in one grid: the towns are then shown in consecutive groups, each a
grid as wide as the terminal (the department totals in the last one); where only a few towns would fit, one
line per department says what is signed and names who has not signed.
"""

from __future__ import annotations

import argparse
import math
from typing import TYPE_CHECKING, Any

from rich.cells import cell_len
from rich.console import Console

from .common import Parents, plan_context, settings
from .output import console, print_json, table

if TYPE_CHECKING:
    from usecases.reads import LetterGrid

TOTAL = "已签/应签"
MIN_GROUP = 4  # towns per grid; fewer, and a clerk reads one line per department better


def register(sub: Any, p: Parents) -> None:
    sub.add_parser("letters", parents=[p.plan, p.task, p.as_json], help="承接确认书 部门×乡镇 签订表").set_defaults(func=letters)


def letters(args: argparse.Namespace) -> int:
    from usecases.reads import letters as letter_grid

    with plan_context(args) as ctx:
        g = letter_grid(ctx, args.today, args.task)
    if args.json:
        print_json({"task": g.task, "today": args.today.isoformat(), "departments": list(g.departments),
                    "towns": list(g.towns), "signed": g.n_signed, "unsigned": g.n_total - g.n_signed,
                    "cells": [{"department": d, "town": t, "applies": g.applies(d, t), "signed": g.signed(d, t),
                               "signed_on": _iso(g, d, t, "signed_on"), "drafted_on": _iso(g, d, t, "drafted_on"),
                               "doc_no": getattr(g.rows.get((d, t)), "doc_no", None)}
                              for d in g.departments for t in g.towns]})
        return 0
    out = _console(settings(args).columns)
    out.print(ctx.plan.label)
    pages = _pages(g, out.width)
    if len(pages) == 1:
        out.print(_grid(g, f"任务 {g.task} 承接确认书签订情况 (截至 {args.today}): 已签 {g.n_signed}, "
                           f"未签 {g.n_total - g.n_signed}", g.towns, totals=True))
        return 0
    out.print(f"任务 {g.task} 承接确认书签订情况 (截至 {args.today})")
    word = ctx.plan.plan.words.towns
    how = f"分 {len(pages)} 组显示, 各部门合计在最后一组" if pages else f", 按部门列出未签的{word}"
    out.print(f"已签 {g.n_signed}, 未签 {g.n_total - g.n_signed}; {len(g.towns)} 个{word}{how}")
    for i, group in enumerate(pages, 1):
        out.print(_grid(g, f"第 {i}/{len(pages)} 组: {group[0]}—{group[-1]}", group, totals=i == len(pages)))
    for d in g.departments if not pages else ():
        for line in _lines(g, d, out.width):
            out.print(line, markup=False, crop=False, soft_wrap=True)
    return 0


def _console(columns: int | None) -> Console:
    """The terminal, as wide as it is (or as COLUMNS says, when the output is not a terminal)."""
    out = console()
    if columns:
        out.width = columns
    return out


def _pages(g: LetterGrid, width: int) -> list[tuple[str, ...]]:
    """The towns in consecutive groups of about equal size, each group's grid (the last one with the totals
    column) within `width`; [] when fewer than MIN_GROUP towns would fit."""
    first = max(cell_len(s) for s in (*g.departments, "部门", TOTAL)) + 3  # a column: its text, 2 of padding, 1 rule
    total = max(cell_len(s) for s in (TOTAL, f"{g.n_signed}/{g.n_total}", *map(g.of_department, g.departments))) + 3
    need = {t: 3 + max(cell_len(s) for s in (t, g.of_town(t), *(_plain(g, d, t) for d in g.departments)))
            for t in g.towns}

    def fits(towns: tuple[str, ...], last: bool) -> bool:
        return 1 + first + sum(need[t] for t in towns) + (total if last else 0) <= width

    if fits(g.towns, True):
        return [g.towns]
    pages: list[tuple[str, ...]] = []  # as many towns as fit in each, the last with the totals
    rest = g.towns
    while rest and not fits(rest, True):
        n = max(k for k in range(len(rest) + 1) if fits(rest[:k], False))
        pages, rest = pages + [rest[:n]], rest[n:]
        if n < min(MIN_GROUP, len(g.towns)):
            return []
    pages += [rest] if rest else []
    size = math.ceil(len(g.towns) / len(pages))  # then evened out, when that fits too
    even = [g.towns[i:i + size] for i in range(0, len(g.towns), size)]
    ok = len(even) == len(pages) and all(fits(p, i == len(even) - 1) for i, p in enumerate(even))
    return even if ok else pages


def _grid(g: LetterGrid, title: str, towns: tuple[str, ...], *, totals: bool) -> Any:
    grid = table(title, ["部门", *towns, *([TOTAL] if totals else [])])
    for d in g.departments:
        grid.add_row(d, *(_cell(g, d, t) for t in towns), *([g.of_department(d)] if totals else []))
    grid.add_row(TOTAL, *(g.of_town(t) for t in towns), *([f"{g.n_signed}/{g.n_total}"] if totals else []))
    return grid


def _plain(g: LetterGrid, d: str, t: str) -> str:
    if not g.applies(d, t):
        return "—"
    if g.signed(d, t):
        return f"✓ {g.rows[(d, t)].signed_on:%m-%d}"
    return "起草" if g.drafted(d, t) else "✗"


STYLE = {"—": "dim", "起草": "yellow", "✗": "red"}


def _cell(g: LetterGrid, d: str, t: str) -> str:
    text = _plain(g, d, t)
    return f"[{STYLE.get(text, 'green')}]{text}[/]"


def _lines(g: LetterGrid, d: str, width: int) -> list[str]:
    """`部门: 已签 N/M; 未签: 乙镇、丙镇; 起草: 丙镇`, what a clerk chases when no grid fits; wrapped between
    names, never inside one."""
    owed = [t for t in g.towns if g.applies(d, t) and not g.signed(d, t)]
    drafted = [t for t in owed if g.drafted(d, t)]
    words = [f"{d}: 已签 {g.of_department(d)};"]
    words += [f"未签: {owed[0]}", *owed[1:]] if owed else ["全部已签"]
    if drafted:
        words += [f"; 起草: {drafted[0]}", *drafted[1:]]
    lines = [words[0]]
    for i, w in enumerate(words[1:], 1):
        joined = ("、" if i > 1 and not w.startswith(("未签", ";")) else " " if i == 1 else "") + w
        if cell_len(lines[-1] + joined) > width:
            lines.append("  " + joined.lstrip("、; "))
        else:
            lines[-1] += joined
    return lines


def _iso(g: LetterGrid, d: str, t: str, field: str) -> str | None:
    value = getattr(g.rows.get((d, t)), field, None)
    return value.isoformat() if value else None
