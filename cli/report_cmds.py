"""`fuquan report monthly|quarterly|annual` (Markdown, Excel, Word and charts for one period), `fuquan report slips`
(督办单) and `fuquan report submit` (a town's 月报)."""

from __future__ import annotations

import argparse
import sys
from pathlib import Path
from typing import Any

from .common import Parents, actor, day, plan_context
from .output import console, print_json


def register(sub: Any, p: Parents) -> None:
    rp = sub.add_parser("report", help="月报登记与报告生成").add_subparsers(dest="report_cmd", required=True, metavar="子命令")
    for kind, helptext, example in (("monthly", "月度情况通报 (关账后数据冻结)", "2023-05"),
                                    ("quarterly", "季度综合分析 (各单位、各乡镇得分)", "2023Q2"),
                                    ("annual", "年度总结评估 (各乡镇排名)", "2023")):
        c = rp.add_parser(kind, parents=[p.plan, p.as_json], help=helptext)
        c.add_argument("--period", help=f"报告期, 如 {example} (默认最近一期)")
        c.add_argument("--out", default=None, help="输出目录 (默认 data/reports/<区县>-<年度>)")
        c.add_argument("--send", action="store_true", help="同时把要点发给专班 (每期只发一次)")
        c.set_defaults(func=report, kind=kind)
    c = rp.add_parser("slips", parents=[p.plan, p.as_json, p.who], help="督办单: 给当天有逾期事项的单位各出具一份 (Word)")
    c.add_argument("--day", action="append", default=[], metavar="YYYY-MM-DD",
                   help="按哪一天的逾期事项出具 (可多次; 默认今天)")
    c.add_argument("--unit", action="append", default=[], metavar="单位", help="只给这些单位出具 (可多次)")
    c.add_argument("--out", default=None, help="输出目录 (默认 data/reports/<区县>-<年度>/slips)")
    c.set_defaults(func=slips)
    c = rp.add_parser("submit", parents=p.record, help="登记某个乡镇某月的月报")
    c.add_argument("town", metavar="乡镇")
    c.add_argument("--month", required=True, help="月份 YYYY-MM")
    c.add_argument("--on", type=day, required=True, help="报送日期")
    c.add_argument("--figure", action="append", metavar="指标=数值", help="月报指标, 可多次, 如 --figure 审批办件量=12")
    c.set_defaults(func=submit)


def submit(args: argparse.Namespace) -> int:
    from .record_cmds import report_submit

    return report_submit(args)


def report(args: argparse.Namespace) -> int:
    from flows import jobs

    stream = sys.stderr if args.json else sys.stdout  # keep --json output parseable
    with plan_context(args, stream=stream) as ctx:
        data, files = jobs.build_report(ctx, args.kind, args.period, args.today, Path(args.out) if args.out else None)
        sent = jobs.send_summary(ctx, data, ctx.now()) if args.send else None
    if args.json:
        print_json({"kind": data.kind, "period": data.period, "title": data.title, "as_of": data.as_of.isoformat(),
                    "provisional": data.provisional, "markdown": str(files.markdown), "excel": str(files.excel),
                    "document": str(files.document) if files.document else None,
                    "charts": [str(p) for p in files.charts], "font": files.font,
                    "missing_reports": data.snapshot["missing"] if data.snapshot else None,
                    "scores": [{"unit": s.unit, "score": s.score, "rates": s.rates, "lost": list(s.lost)}
                               for s in data.scores],
                    "summary_sent": bool(sent and sent.outcomes)})
        return 0
    out = console()
    out.print(f"已生成 {data.district} {data.title}{' (未关账, 临时数据)' if data.provisional else ''}:")
    for p in (files.markdown, files.excel, *([files.document] if files.document else []), *files.charts):
        out.print(f"  {p}")
    if sent is not None:
        out.print("已将要点发给专班" if sent.outcomes else "本期要点此前已发给专班, 不重复发送")
    return 0


def slips(args: argparse.Namespace) -> int:
    from datetime import datetime

    from fuquan.errors import InvalidValue
    from usecases.commands import IssueSlips
    from usecases.slips import issue_slips

    try:  # a date typed wrong is the command's error (exit 1), as a future one is
        days = tuple(day(d) for d in args.day)
    except argparse.ArgumentTypeError as e:
        raise InvalidValue(f"--day: {e}") from None
    with plan_context(args) as ctx:
        now = ctx.now()  # with --today (a replay, a test): that day at the clock's time of day
        done = issue_slips(ctx, IssueSlips(days=days, units=tuple(args.unit)), actor=actor(args),
                           now=datetime.combine(args.today, now.timetz()) if args.today_given else now,
                           out=Path(args.out) if args.out else None)
        label = ctx.plan.label
    if args.json:
        print_json({"slips": [s.as_dict() for s in done]})
        return 0
    out = console()
    asked = "、".join(d.isoformat() for d in days) or args.today.isoformat()
    if not done:
        out.print(f"{label}: 截至 {asked} 没有逾期事项{'(所列单位)' if args.unit else ''}, 未出具督办单", markup=False)
        return 0
    fresh = [s for s in done if s.fresh]
    out.print(f"{label}: 督办单 (截至 {asked} 的逾期事项) 新出具 {len(fresh)} 份"
              + (f", 此前已出具 {len(done) - len(fresh)} 份 (不重复出具)" if len(done) > len(fresh) else ""), markup=False)
    for s in done:
        said = f"答复期限 {s.answer_by}" if s.fresh else f"已于 {s.issued_on} 出具, 不重复出具"
        out.print(f"  {s.number}  {s.unit}  {s.level}色督办  逾期 {s.items} 项  {said}  {s.path}", markup=False,
                  soft_wrap=True)
    return 0
