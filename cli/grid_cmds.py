"""`fuquan letters`: the department × town grid of 承接确认书."""

from __future__ import annotations

import argparse

from sqlmodel import select

from models.db import reading
from models.items import LetterRow
from models.records import PlanIndex

from .context import database, plan_of
from .output import console, print_json, table


def letters(args: argparse.Namespace) -> int:
    with database() as eng, reading(eng) as session:
        plan = plan_of(session, args)
        idx = PlanIndex(session, plan)
        no = idx.tracked("letters", args.task)
        depts, towns = idx.tracks[no].letters or ((), ())
        name = {u.id: u.name for u in idx.units.values()}
        rows = {(name[r.department_id], name[r.town_id]): r
                for r in session.exec(select(LetterRow).where(LetterRow.task_id == idx.task(no).id))}

    def signed(d: str, t: str) -> bool:
        r = rows.get((d, t))
        return bool(r and r.signed_on and r.signed_on <= args.today)

    n_signed = sum(signed(d, t) for d in depts for t in towns)
    if args.json:
        print_json({"task": no, "today": args.today.isoformat(), "departments": list(depts), "towns": list(towns),
                    "signed": n_signed, "unsigned": len(depts) * len(towns) - n_signed,
                    "cells": [{"department": d, "town": t, "signed": signed(d, t),
                               "signed_on": _iso(rows.get((d, t)), "signed_on"),
                               "drafted_on": _iso(rows.get((d, t)), "drafted_on"),
                               "doc_no": getattr(rows.get((d, t)), "doc_no", None)} for d in depts for t in towns]})
        return 0
    grid = table(f"任务 {no} 承接确认书签订情况 (截至 {args.today}): 已签 {n_signed}, 未签 {len(depts) * len(towns) - n_signed}",
                 ["部门", *towns, "已签/应签"])
    for d in depts:
        cells = []
        for t in towns:
            r = rows.get((d, t))
            if signed(d, t):
                cells.append(f"[green]✓ {r.signed_on:%m-%d}[/]")  # type: ignore[union-attr]
            elif r and r.drafted_on and r.drafted_on <= args.today:
                cells.append("[yellow]起草[/]")
            else:
                cells.append("[red]✗[/]")
        grid.add_row(d, *cells, f"{sum(signed(d, t) for t in towns)}/{len(towns)}")
    grid.add_row("已签/应签", *(f"{sum(signed(d, t) for d in depts)}/{len(depts)}" for t in towns), f"{n_signed}/{len(depts) * len(towns)}")
    console().print(grid)
    return 0


def _iso(row: LetterRow | None, field: str) -> str | None:
    value = getattr(row, field, None) if row else None
    return value.isoformat() if value else None
