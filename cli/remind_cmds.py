"""`fuquan remind` and `fuquan reminders log`."""

from __future__ import annotations

import argparse
import os
import sys
from datetime import UTC, datetime
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

from fuquan.errors import FuquanError
from models import outbox
from models.db import reading

from .context import database, plan_of
from .output import console, print_json, table

RESULT = {"sent": "[green]已发送[/]", "reconciled": "[green]已送达(核对)[/]", "retry": "[yellow]待重试[/]",
          "unknown": "[yellow]结果未知, 下次核对[/]", "failed": "[red]失败[/]"}


def _now(args: argparse.Namespace, tz: str) -> datetime:
    if args.now:
        t = datetime.fromisoformat(args.now)
        return t if t.tzinfo else t.replace(tzinfo=ZoneInfo(tz))
    return datetime.now(ZoneInfo(tz))


def remind(args: argparse.Namespace) -> int:
    from flows.dispatch import run_reminders
    from notifications.router import Router

    with database() as eng:
        with reading(eng) as session:
            plan = plan_of(session, args)
        now = _now(args, plan.timezone)
        today = args.today if args.today_given else now.date()
        notify_file = Path(os.environ.get("FUQUAN_NOTIFY_FILE") or Path("data") / "notifications.md")
        router = Router(console_file=notify_file)
        router.console.stream = sys.stderr if args.json else sys.stdout
        report = run_reminders(eng, plan.id or 0, today=today, now=now, router=router,
                               dry_run=args.dry_run, force=args.force)
    for w in report.warnings:
        print(w, file=sys.stderr)
    if args.json:
        print_json(_as_json(report, args.dry_run))
    else:
        _print(report, args.dry_run)
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


def _print(report: Any, dry_run: bool) -> None:
    out = console()
    if report.skipped:
        out.print(report.skipped)
        return
    if dry_run:
        out.print(f"[bold]预演 (不发送、不写入)[/]: {report.day} 共 {report.due} 条到期提醒, "
                  f"其中 {sum(len(p.reminders) for p in report.planned)} 条尚未发送, 合并为 {len(report.planned)} 条消息")
        for p in report.planned:
            out.print(f"\n── 发给 {p.recipient} · {p.destination} · {len(p.reminders)} 项 ──")
            out.print(p.message.text(), markup=False)
        return
    if not report.outcomes:
        out.print(f"{report.day}: 没有需要发送的提醒 (到期提醒 {report.due} 条均已发送过)")
        return
    t = table(f"{report.day} 提醒发送结果", ["接收单位", "渠道", "结果", "错误码", "说明"])
    for o in report.outcomes:
        t.add_row(o.recipient, o.destination, RESULT.get(o.result, o.result), o.code or "", o.detail or "")
    out.print(t)


def reminders_log(args: argparse.Namespace) -> int:
    with database() as eng, reading(eng) as session:
        plan = plan_of(session, args)
        rows = outbox.send_log(session, plan.id or 0, day=args.day, limit=args.limit)
    if args.json:
        print_json([{"at": _local(log.at, plan.timezone).isoformat(), "day": msg.day.isoformat(), "recipient": msg.recipient,
                     "channel": log.channel, "result": log.result, "error_code": log.error_code, "detail": log.detail,
                     "message_key": msg.key, "status": msg.status} for log, msg in rows])
        return 0
    t = table(f"提醒发送记录 (最近 {len(rows)} 条)", ["时间", "日期", "接收单位", "渠道", "结果", "错误码", "说明"])
    for log, msg in rows:
        t.add_row(f"{_local(log.at, plan.timezone):%Y-%m-%d %H:%M:%S}", msg.day.isoformat(), msg.recipient, log.channel,
                  RESULT.get(log.result, log.result), log.error_code or "", log.detail or "")
    console().print(t)
    return 0



def _local(t: datetime, tz: str) -> datetime:
    # stored in UTC (SQLite returns it naive); shown in the plan's own time zone
    return (t if t.tzinfo else t.replace(tzinfo=UTC)).astimezone(ZoneInfo(tz))
