"""`fuquan report monthly|quarterly|annual`: Markdown, Excel and charts for one period."""

from __future__ import annotations

import argparse
import os
import sys
from datetime import datetime
from pathlib import Path
from zoneinfo import ZoneInfo

from flows import reporting, reporting_data
from models.db import reading
from notifications.router import Router

from .context import database, plan_of
from .output import console, print_json


def report(args: argparse.Namespace) -> int:
    with database() as eng:
        with reading(eng) as session:
            plan = plan_of(session, args)
        if args.kind == "monthly":
            data = reporting_data.monthly(eng, plan.id or 0, args.period, args.today)
        else:
            data = reporting_data.analysis(eng, plan.id or 0, args.kind, args.period, args.today)
        files = reporting.write(data, Path(args.out))
        sent = None
        if args.send:
            router = Router(console_file=Path(os.environ.get("FUQUAN_NOTIFY_FILE") or Path("data") / "notifications.md"))
            router.console.stream = sys.stderr if args.json else sys.stdout  # keep --json output parseable
            sent = reporting.send_summary(eng, plan.id or 0, data, router, datetime.now(ZoneInfo(plan.timezone)))
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
