"""`fuquan score adjust UNIT ±N --reason … --period P` (a leader's points for a unit's score in a quarter or a year,
audited, undone by an opposite entry) and `fuquan score show --period P` (the period's scores as the reports show
them, each adjustment with its reason, then every entry made)."""

from __future__ import annotations

import argparse
from datetime import datetime
from typing import Any

from .common import Parents, actor, plan_context
from .output import console, print_json, table


def register(sub: Any, p: Parents) -> None:
    sc = sub.add_parser("score", help="考评得分: 加减分与查看").add_subparsers(dest="score_cmd", required=True, metavar="子命令")
    c = sc.add_parser("adjust", parents=[p.plan, p.who], help="为某单位某季度或某年度的得分加分或减分 (写明理由)")
    c.add_argument("unit", metavar="单位")
    c.add_argument("points", metavar="分值", help="加分 +2, 减分 -1.5 (最多一位小数); 撤销一笔就登记相反的一笔")
    c.add_argument("--reason", required=True, help="理由 (列在得分表中, 记入审计记录)")
    c.add_argument("--period", required=True, help="季度 2024Q2 或年度 2024 (与季度分析、年度评估的 --period 相同)")
    c.set_defaults(func=adjust)
    c = sc.add_parser("show", parents=[p.plan, p.as_json], help="某季度或某年度的得分、调整分及理由")
    c.add_argument("--period", required=True, help="季度 2024Q2 或年度 2024")
    c.set_defaults(func=show)


def adjust(args: argparse.Namespace) -> int:
    from usecases.commands import AdjustScore
    from usecases.scoring import adjust_score, points

    with plan_context(args) as ctx:
        cmd = AdjustScore(unit=args.unit, points=points(args.points), reason=args.reason, period=args.period)
        now = ctx.now()  # with --today (a replay, a test): that day at the clock's time of day
        done = adjust_score(ctx, cmd, actor=actor(args), now=datetime.combine(args.today, now.timetz())
                            if args.today_given else now)
    console().print(done.said, markup=False, soft_wrap=True)  # the undo command whole on its line, to copy
    return 0


def show(args: argparse.Namespace) -> int:
    from fuquan.tracking.scores import by_kind, rank
    from fuquan.words.report_text import kind_heading
    from usecases.scoring import entries, period_scores

    with plan_context(args) as ctx:
        d = period_scores(ctx, args.period, args.today)
        made = entries(ctx, args.period)
    if args.json:
        print_json({"period": d.period, "as_of": d.as_of.isoformat(), "provisional": d.provisional,
                    "scores": [{"unit": s.unit, "kind": s.unit_kind, "place": place, "score": s.score, "base": s.base,
                                "adjusted": s.adjusted, "lost": list(s.lost),
                                "adjustments": [_entry(a) for a in s.adjustments]}
                               for _, group in by_kind(d.scores) for place, s in rank(group)],
                    "entries": [_entry(a) for a in made]})
        return 0
    out = console()
    out.print(f"{ctx.plan.label} {d.title}得分 (统计截至 {d.as_of}{', 临时数据' if d.provisional else ''})", markup=False)
    for kind, group in by_kind(d.scores):
        t = table(kind_heading(kind, d.words), ["名次", "单位", "得分", "调整分", "失分原因", "调整原因"])
        for place, s in rank(group):
            t.add_row(str(place), s.unit, f"{s.score:.1f}", f"{s.adjusted:+g}" if s.adjustments else "",
                      "; ".join(s.lost) or "满分", "; ".join(map(str, s.adjustments)))
        out.print(t)
    if not d.scores:
        out.print("本期没有到期事项。")
    out.print("调整记录 (按登记先后; 撤销的一笔与其相反的一笔都列出):" if made else "本期没有调整记录。")
    for a in made:
        out.print(f"  {a.on} {a.by}: {a.unit} {a.points:+g} 分, 理由: {a.reason}", markup=False)
    return 0


def _entry(a: Any) -> dict[str, Any]:
    return {"unit": a.unit, "period": a.period, "points": a.points, "reason": a.reason, "by": a.by,
            "on": a.on.isoformat()}
