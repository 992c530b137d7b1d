"""`fuquan letters`: the department × town grid of 承接确认书."""

from __future__ import annotations

import argparse
from typing import Any

from .common import Parents, plan_context
from .output import console, print_json, table


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
    console().print(ctx.plan.label)
    grid = table(f"任务 {g.task} 承接确认书签订情况 (截至 {args.today}): 已签 {g.n_signed}, 未签 {g.n_total - g.n_signed}",
                 ["部门", *g.towns, "已签/应签"])
    for d in g.departments:
        cells = ["[dim]—[/]" if not g.applies(d, t) else f"[green]✓ {g.rows[(d, t)].signed_on:%m-%d}[/]"
                 if g.signed(d, t) else "[yellow]起草[/]" if g.drafted(d, t) else "[red]✗[/]" for t in g.towns]
        grid.add_row(d, *cells, g.of_department(d))
    grid.add_row("已签/应签", *(g.of_town(t) for t in g.towns), f"{g.n_signed}/{g.n_total}")
    console().print(grid)
    return 0


def _iso(g, d: str, t: str, field: str) -> str | None:  # type: ignore[no-untyped-def]
    value = getattr(g.rows.get((d, t)), field, None)
    return value.isoformat() if value else None
