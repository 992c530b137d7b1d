"""`fuquan sync` and `fuquan status`: the commands that touch the database."""

from __future__ import annotations

import argparse
import getpass
from pathlib import Path

from fuquan.loader import load_plan
from fuquan.status import ORDER, counts, plan_status
from models.db import make_engine, reading, transaction
from models.queries import counts_by_table, find_plan, task_facts
from models.sync import sync_plan

from .output import console, print_json, state_cell, table


def sync(args: argparse.Namespace) -> int:
    # Validate fully before the database is even opened: a bad file changes nothing.
    plan = load_plan(args.config)
    text = Path(args.config).read_text(encoding="utf-8-sig")
    engine = make_engine()
    with transaction(engine) as session:
        report = sync_plan(session, plan, source_text=text, by=f"{getpass.getuser()} (fuquan sync)")
    with reading(engine) as session:
        n = counts_by_table(session, report.plan_id)
    if args.json:
        print_json({"district": plan.district, "year": plan.year, "changed": report.changed,
                    "changes": dict(report.changes), **n})
        return 0
    console().print(f"已同步 {plan.district} {plan.year} 年度计划: {report.summary()} "
                    f"(现有单位 {n['units']} 个, 任务 {n['tasks']} 项, 分工 {n['assignments']} 条)")
    return 0


def status(args: argparse.Namespace) -> int:
    engine = make_engine()
    with reading(engine) as session:
        plan = find_plan(session, year=args.year, district=args.district)
        facts = task_facts(session, plan.id or 0)
    statuses = plan_status(facts, args.today, plan.year, warn_days=args.warn_days)
    tally = counts(statuses)
    if args.json:
        print_json({"district": plan.district, "year": plan.year, "today": args.today.isoformat(),
                    "counts": tally, "tasks": [s.as_dict() for s in statuses]})
        return 0
    t = table(f"{plan.district} {plan.year} 年度任务进度 (截至 {args.today})",
              ["序号", "主要任务", "完成时限", "截止日期", "剩余/逾期", "状态", "牵头单位", "完成情况"])
    for s in statuses:
        f = s.facts
        t.add_row(str(f.no), _short(f.text), f.deadline.text, s.due.isoformat() if s.due else "—",
                  _days(s.days_left), state_cell(s.state), f.lead_unit, f"{f.done}/{f.assignees}")
    out = console()
    out.print(t)
    out.print("合计: " + "  ".join(f"{state_cell(k)} {tally[k]}" for k in ORDER if tally[k]))
    return 0


def _short(text: str, n: int = 24) -> str:
    return text if len(text) <= n else text[: n - 1] + "…"


def _days(days_left: int | None) -> str:
    if days_left is None:
        return "—"
    if days_left < 0:
        return f"逾期 {-days_left} 天"
    return "今天到期" if days_left == 0 else f"剩 {days_left} 天"
