"""`fuquan plan check|show` and `fuquan deadline parse`: read the YAML only, never the database."""

from __future__ import annotations

import argparse
from typing import Any

from fuquan.deadline import OPEN_KINDS, parse_deadline
from fuquan.errors import DeadlineError, FuquanError

from .common import YEAR, Parents, clock_today, load_plan, print_warnings
from .output import console, print_json, table


def register(sub: Any, p: Parents) -> None:
    plan = sub.add_parser("plan", help="检查或查看计划配置").add_subparsers(dest="plan_cmd", required=True, metavar="子命令")
    plan.add_parser("check", parents=[p.config], help="检查计划配置, 列出全部错误").set_defaults(func=plan_check)
    plan.add_parser("show", parents=[p.config, p.as_json], help="显示全部任务及截止日期").set_defaults(func=plan_show)
    dl = sub.add_parser("deadline", help="完成时限解析").add_subparsers(dest="deadline_cmd", required=True, metavar="子命令")
    parse = dl.add_parser("parse", parents=[p.as_json], help="解析完成时限写法")
    parse.add_argument("--year", type=YEAR, default=clock_today().year, help="计划年度 (默认今年)")
    parse.add_argument("text", nargs="+", help="完成时限原文, 如 3月底前")
    parse.set_defaults(func=deadline_parse)



def plan_check(args: argparse.Namespace) -> int:
    plan = load_plan(args.config)  # PlanError lists every problem; main() prints it
    print_warnings(plan.calendar_warnings())
    n_assign = sum(len(plan.assignees(t)) for t in plan.tasks)
    console().print(f"计划配置无误: {args.config} — {plan.district} {plan.year} 年度, "
                    f"{len(plan.tasks)} 项任务, {len(plan.units)} 个单位, {n_assign} 条分工")
    return 0


def plan_show(args: argparse.Namespace) -> int:
    plan = load_plan(args.config)
    if args.json:
        print_json(plan.as_dict())
        return 0
    t = table(f"{plan.title} ({plan.year} 年度, {plan.issued} 印发)",
              ["序号", "章节", "主要任务", "完成时限", "截止日期", "牵头单位", "责任单位"])
    for task in plan.tasks:
        d = task.deadline
        due = d.describe() if d.kind not in OPEN_KINDS or d.start else d.label
        t.add_row(str(task.no), task.section.no, task.text, d.text, due, task.lead_unit, "、".join(task.units))
    console().print(t)
    return 0


def deadline_parse(args: argparse.Namespace) -> int:
    results: list[dict[str, Any]] = []
    failed = 0
    t = table(f"完成时限解析 (计划年度 {args.year})", ["原文", "类型", "截止日期与周期"])
    for text in args.text:
        try:
            d = parse_deadline(text, args.year)
        except DeadlineError as e:
            failed += 1
            results.append({"text": text, "error": e.reason})
            t.add_row(text, "[red]无法识别[/]", e.reason)
            continue
        results.append(d.as_dict())
        t.add_row(text, d.label, d.describe() if d.kind not in OPEN_KINDS or d.start else "—")
    if args.json:
        print_json(results)
    else:
        console().print(t)
    if failed and not args.json:
        raise FuquanError(f"{failed} 条完成时限无法识别")
    return 1 if failed else 0
