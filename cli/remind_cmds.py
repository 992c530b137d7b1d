"""`fuquan remind` and `fuquan reminders log`."""

from __future__ import annotations

import argparse
import sys
from datetime import UTC, datetime
from typing import Any
from zoneinfo import ZoneInfo

from fuquan.errors import FuquanError, InvalidValue
from fuquan.tracking.states import Delivery

from .common import Parents, bounded, day, plan_context
from .output import console, print_json, table


def register(sub: Any, p: Parents) -> None:
    rm = sub.add_parser("remind", parents=[p.plan, p.as_json], help="发送到期、逾期、升级提醒 (每条提醒只发一次)")
    rm.add_argument("--dry-run", action="store_true", help="预演: 列出将发给谁的什么内容, 不发送、不写入")
    rm.add_argument("--force", action="store_true", help="非工作日或免打扰时段也发送")
    rm.add_argument("--now", help=argparse.SUPPRESS)  # ISO time, for tests and replays
    rm.set_defaults(func=remind)
    rl = sub.add_parser("reminders", help="提醒记录").add_subparsers(dest="reminders_cmd", required=True, metavar="子命令")
    c = rl.add_parser("log", parents=[p.plan, p.as_json], help="提醒发送记录: 时间、渠道、结果、错误码")
    c.add_argument("--day", type=day, help="只看某一天的提醒")
    c.add_argument("--limit", type=bounded(1, 100_000, "条数"), default=200, help="最多显示几条 (默认 200)")
    c.set_defaults(func=reminders_log)


def _now(args: argparse.Namespace, ctx: Any) -> datetime:
    """--now (a replay's moment, in the plan's time zone unless it says), else the context's clock."""
    if not args.now:
        return ctx.now()  # type: ignore[no-any-return]
    try:
        t = datetime.fromisoformat(args.now)
    except ValueError:
        raise InvalidValue(f"--now 应为 YYYY-MM-DDTHH:MM, 实为 “{args.now}”") from None
    return t if t.tzinfo else t.replace(tzinfo=ZoneInfo(ctx.plan.plan.timezone))


def remind(args: argparse.Namespace) -> int:
    from flows.dispatch import run_reminders

    with plan_context(args, stream=sys.stderr if args.json else sys.stdout) as ctx:
        now = _now(args, ctx)
        today = args.today if args.today_given else now.date()
        report = run_reminders(ctx, today=today, now=now, dry_run=args.dry_run, force=args.force)
    for w in report.warnings:
        print(w, file=sys.stderr)
    plan = ctx.plan.plan
    if args.json:
        print_json({"district": plan.district, "year": plan.year, **_as_json(report, args.dry_run)})
    else:
        _print(report, args.dry_run, ctx.plan.label)
    if report.stopped:
        raise FuquanError(f"{report.stopped}; 已停止发送, 未发出的提醒会在下次运行时补发")
    return 0


def _as_json(report: Any, dry_run: bool) -> dict[str, Any]:
    return {
        "day": report.day.isoformat(), "run": report.run, "dry_run": dry_run, "skipped": report.skipped,
        "stopped": report.stopped, "due": report.due,
        "messages": [{"recipient": p.recipient, "destination": p.destination, "forwarded_for": p.forwarded_for,
                      "text": p.message.text(),
                      "reminders": [{"key": r.key, "kind": r.kind, "stage": r.stage, "task": r.task_no, "about": r.about,
                                     "label": r.label, "due": r.judgement.due.isoformat() if r.judgement.due else None}
                                    for r in p.reminders]} for p in report.planned],
        "outcomes": [o.__dict__ for o in report.outcomes],
    }


def _print(report: Any, dry_run: bool, label: str) -> None:
    out = console()
    if report.skipped:  # a closed plan's reason names the plan already
        out.print(report.skipped if report.skipped.startswith(label) else f"{label}: {report.skipped}")
        return
    if dry_run:
        out.print(f"{label} · [bold]预演 (不发送、不写入)[/]: {report.day} 共 {report.due} 条到期提醒, "
                  f"其中 {sum(len(p.reminders) for p in report.planned)} 条尚未发送, 合并为 {len(report.planned)} 条消息")
        for p in report.planned:
            out.print(f"\n── 发给 {p.recipient} · {p.destination} · {len(p.reminders)} 项 ──")
            out.print(p.message.text(), markup=False)
        return
    if not report.outcomes:
        out.print(f"{label}: {report.day} 没有需要发送的提醒 (到期提醒 {report.due} 条均已发送过)")
        return
    t = table(f"{label} · {report.day} 提醒发送结果", ["接收单位", "渠道", "结果", "错误码", "说明"])
    for o in report.outcomes:
        # one word for a delivery everywhere (the send log, the board): a console line is 仅显示, 未发出
        t.add_row(o.recipient, o.destination, _delivered(Delivery.of(o.result, o.destination == "控制台")), o.code or "",
                  o.detail or "")
    out.print(t)
    if report.chased:
        out.print(f"其中 {report.chased} 条提醒超过签收时限未签收: 已再次提醒该单位, 并告知牵头单位和专班")


def reminders_log(args: argparse.Namespace) -> int:
    from usecases.reads import send_log

    with plan_context(args) as ctx:
        lines = send_log(ctx, day=args.day, limit=args.limit)
    tz = ctx.plan.plan.timezone
    if args.json:
        print_json([{"at": _local(x.at, tz).isoformat(), "day": x.day.isoformat(), "recipient": x.recipient,
                     "channel": x.channel, "result": x.result, "error_code": x.error_code, "detail": x.detail,
                     "message_key": x.message_key, "status": x.status, "delivery": x.delivery.value} for x in lines])
        return 0
    t = table(f"{ctx.plan.label} · 提醒发送记录 (最近 {len(lines)} 条)", ["时间", "日期", "接收单位", "渠道", "结果", "错误码", "说明"])
    for x in lines:
        t.add_row(f"{_local(x.at, tz):%Y-%m-%d %H:%M:%S}", x.day.isoformat(), x.recipient, x.channel,
                  _delivered(x.delivery), x.error_code or "", x.detail or "")
    console().print(t)
    return 0


def _delivered(word: Delivery) -> str:
    """The send log's one word, coloured as the run's own table colours its results."""
    style = {Delivery.SENT: "green", Delivery.RECONCILED: "green", Delivery.SHOWN: "cyan", Delivery.RETRY: "yellow",
             Delivery.UNKNOWN: "yellow"}.get(word, "red")
    return f"[{style}]{word.value}[/]"


def _local(t: datetime, tz: str) -> datetime:
    # stored in UTC (SQLite returns it naive); shown in the plan's own time zone
    return (t if t.tzinfo else t.replace(tzinfo=UTC)).astimezone(ZoneInfo(tz))
