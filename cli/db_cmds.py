"""`fuquan sync` and `fuquan status`."""

from __future__ import annotations

import argparse
from datetime import date
from pathlib import Path
from typing import TYPE_CHECKING, Any

from fuquan.tracking.judge import COLOURS

from .common import TASK_NO, Parents, actor, plan_context, print_warnings, settings
from .output import console, print_json, state_cell, table

if TYPE_CHECKING:
    from fuquan.plans.plan import Plan
    from fuquan.tracking.ledger import Row


def register(sub: Any, p: Parents) -> None:
    sub.add_parser("sync", parents=[p.config, p.as_json], help="把计划配置写入数据库 (单一事务)").set_defaults(func=sync)
    st = sub.add_parser("status", parents=[p.plan, p.as_json], help="各任务、各单位、各乡镇的进度与逾期情况 (红/黄/绿)")
    st.add_argument("--by", choices=["task", "unit", "town"], default="task", help="按任务 / 单位 / 乡镇汇总")
    st.add_argument("--task", type=TASK_NO, help="只看某项任务, 列出每个单位的完成情况和尚缺事项")
    st.set_defaults(func=status)


def sync(args: argparse.Namespace) -> int:
    from flows import jobs
    from usecases.context import open_context
    from usecases.reads import table_counts

    plan, text = jobs.read_plan_file(Path(args.config))  # a bad file: an error before the database is opened
    print_warnings(plan.calendar_warnings())
    with open_context(settings(args)) as ctx:
        report = jobs.sync(ctx, plan, text, f"{actor(args).by} (fuquan sync)")
        n = table_counts(ctx.engine, report.plan_id)
    if args.json:
        print_json({"district": plan.district, "year": plan.year, "changed": report.changed,
                    "changes": dict(report.changes), **n})
        return 0
    console().print(f"已同步 {plan.district} {plan.year} 年度计划: {report.summary()} "
                    f"(现有单位 {n['units']} 个, 任务 {n['tasks']} 项, 分工 {n['assignments']} 条)")
    return 0


def status(args: argparse.Namespace) -> int:
    from fuquan.tracking.status import rollups, summarise
    from reports.board import answers_line
    from usecases.reads import status_rows

    with plan_context(args) as ctx:
        read = status_rows(ctx, args.today)
    plan, rows = ctx.plan.plan, read.rows
    print_warnings(read.warnings)
    hint = _plan_over(args, plan, rows)
    if args.task is not None:
        rows = [r for r in rows if r.task_no == args.task]
    tasks = summarise(rows)
    groups = rollups(rows, args.by) if args.by != "task" else [t.rollup for t in tasks]
    if args.json:
        print_json({"district": plan.district, "year": plan.year, "today": args.today.isoformat(), "by": args.by,
                    "calendar_warnings": read.calendar_warnings, "tasks": [t.as_dict() for t in tasks],
                    "rollup": [g.as_dict() for g in groups], "rows": [r.as_dict() for r in rows]})
        return 0
    out = console()
    title = f"{plan.district} {plan.year} 年度 · 截至 {args.today}"
    if args.task is not None:
        out.print(_rows_table(f"{title} · 任务 {args.task} 各单位完成情况", rows))
    elif args.by == "task":
        out.print(_task_table(f"{title} · 按任务", tasks))
    else:
        what = "单位" if args.by == "unit" else plan.words.towns
        out.print(_rollup_table(f"{title} · 按{what}", groups, what))
    total = {c: sum(g.counts[c] for g in groups) for c in COLOURS}
    out.print("合计: " + "  ".join(f"{state_cell(c)} {total[c]}" for c in COLOURS if total[c]))
    if answered := answers_line(rows):
        out.print(answered)
    if hint:
        out.print(hint, soft_wrap=True)  # the command whole on its line, to copy
    return 0


def _plan_over(args: argparse.Namespace, plan: Plan, rows: list[Row]) -> str | None:
    """Past the plan's last day (its year's end, or a later due date), a table as of the real date counts every
    open item late up to today — hundreds of working days. Unless --today was asked for, say which date was
    used and how to see the plan as it stood at its end."""
    if args.today_given:
        return None
    end = max([date(plan.year, 12, 31), *(r.judgement.due for r in rows if r.judgement.due)])
    if args.today <= end:
        return None
    again = "".join(f" {flag} {value}" for flag, value in (
        ("--district", plan.district if args.district or args.year else None),
        ("--year", plan.year if args.district or args.year else None),
        ("--by", args.by if args.by != "task" else None), ("--task", args.task)) if value is not None)
    return (f"说明: {plan.district} {plan.year} 年度计划已于 {end} 结束; 上表按今天 ({args.today}) 计算, "
            f"未完成的事项都算作逾期到今天。\n看计划结束时的情况: fuquan status --today {end}{again}")


def _task_table(title, tasks):  # type: ignore[no-untyped-def]
    t = table(title, ["序号", "主要任务", "完成时限", "截止日期", "状态", "红", "黄", "绿", "已完成", "完成率", "最多逾期(工作日)"])
    for s in tasks:
        r = s.rollup
        t.add_row(str(s.no), _short(s.text), s.deadline_text, s.due.isoformat() if s.due else "—", state_cell(s.colour),
                  str(r.counts["红"]), str(r.counts["黄"]), str(r.counts["绿"]), f"{r.done}/{r.total}",
                  _pct(r.percent), str(r.workdays_late_max or ""))
    return t


def _rollup_table(title, groups, label):  # type: ignore[no-untyped-def]
    t = table(title, [label, "红", "黄", "绿", "逾期完成", "已完成", "持续", "待定", "完成率", "逾期工作日(最多/合计)"])
    for g in groups:
        c = g.counts
        t.add_row(g.key, *(str(c[k]) for k in ("红", "黄", "绿", "逾期完成", "已完成", "持续", "待定")),
                  _pct(g.percent), f"{g.workdays_late_max}/{g.workdays_late_sum}" if g.workdays_late_sum else "")
    return t


def _rows_table(title, rows):  # type: ignore[no-untyped-def]
    t = table(title, ["单位", "事项", "截止日期", "状态", "完成日期", "逾期", "尚缺"])
    for r in rows:
        j = r.judgement
        late = f"{j.workdays_late} 个工作日 ({j.days_late} 天)" if j.workdays_late else ""
        t.add_row(r.unit, r.label or ("牵头" if r.role == "lead" else "配合"), j.due.isoformat() if j.due else "—",
                  state_cell(j.colour), j.completed_on.isoformat() if j.completed_on else "", late,
                  _short("、".join(r.missing), 40))
    return t


def _short(text: str, n: int = 24) -> str:
    return text if len(text) <= n else text[: n - 1] + "…"


def _pct(p: float | None) -> str:
    return "—" if p is None else f"{p:.0f}%"
