"""`fuquan report monthly|quarterly|annual` (Markdown, Excel and charts for one period) and
`fuquan report submit` (a town's 月报)."""

from __future__ import annotations

import argparse
import sys
from pathlib import Path
from typing import Any

from .common import Parents, day, plan_context
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
                    "charts": [str(p) for p in files.charts], "font": files.font,
                    "missing_reports": data.snapshot["missing"] if data.snapshot else None,
                    "scores": [{"unit": s.unit, "score": s.score, "rates": s.rates, "lost": list(s.lost)}
                               for s in data.scores],
                    "summary_sent": bool(sent and sent.outcomes)})
        return 0
    out = console()
    out.print(f"已生成 {data.district} {data.title}{' (未关账, 临时数据)' if data.provisional else ''}:")
    for p in (files.markdown, files.excel, *files.charts):
        out.print(f"  {p}")
    if sent is not None:
        out.print("已将要点发给专班" if sent.outcomes else "本期要点此前已发给专班, 不重复发送")
    return 0
