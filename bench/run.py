"""Benchmarks: prints figures (no asserts, no unit-test timing). Record them in bench/RESULTS.md.

    .venv/bin/python -m bench.run sweep --scale province [--db postgres]   # status + reminders due, vs raw SELECT
    .venv/bin/python -m bench.run cli                             # read-only CLI start-up vs python -c pass
    .venv/bin/python -m bench.run remind --messages 1000 --channels 100

`sweep` builds the data set in this process, then measures in a child process so that its peak
memory (ru_maxrss) is the sweep's own.
"""

from __future__ import annotations

import argparse
import json
import os
import resource
import subprocess
import sys
import tempfile
import time
from datetime import date, datetime, timedelta
from pathlib import Path
from zoneinfo import ZoneInfo

ROOT = Path(__file__).resolve().parent.parent
TODAY = date(2023, 11, 23)


def database(arg: str | None, name: str) -> str:
    """--db: absent → a new SQLite file; `postgres` → a new database `bench_NAME` on the private server of
    scripts/pg.sh (started if needed); anything else is taken as a SQLAlchemy URL of an empty database."""
    if not arg:
        return f"sqlite:///{Path(tempfile.mkdtemp()) / f'{name}.sqlite'}"
    if arg != "postgres":
        return arg
    from sqlalchemy import create_engine, text
    from sqlalchemy.engine import make_url

    admin = subprocess.run(["bash", str(ROOT / "scripts" / "pg.sh"), "start"], check=True, capture_output=True,
                           text=True).stdout.strip()
    engine = create_engine(admin, isolation_level="AUTOCOMMIT")
    with engine.connect() as conn:
        conn.execute(text(f'DROP DATABASE IF EXISTS "bench_{name}" WITH (FORCE)'))
        conn.execute(text(f'CREATE DATABASE "bench_{name}"'))
    engine.dispose()
    return make_url(admin).set(database=f"bench_{name}").render_as_string(hide_password=False)


def sweep(args: argparse.Namespace) -> None:
    from bench.synth import SCALES, build
    from models.db import make_engine

    url = database(args.db, args.scale)
    counties, towns, depts = SCALES[args.scale]
    t = time.perf_counter()
    engine = make_engine(url)
    plan_ids = build(engine, counties, towns=towns, depts=depts)
    engine.dispose()
    print(f"\n[{args.scale}] {engine.dialect.name}: built {counties} county plans ({counties * towns} towns, "
          f"{depts} departments each) "
          f"in {time.perf_counter() - t:.1f} s")
    child = subprocess.run([sys.executable, "-m", "bench.run", "_measure", "--db", url, "--plans", json.dumps(plan_ids)],
                           cwd=ROOT, capture_output=True, text=True, check=True)
    figures = json.loads(child.stdout.strip().splitlines()[-1])
    print(f"[{args.scale}] sweep {figures['sweep_s']:.3f} s for {figures['rows']} shares "
          f"({figures['rows'] / figures['sweep_s']:,.0f} rows/s), {figures['reminders']} reminders due")
    print(f"[{args.scale}] raw SELECT of the same rows {figures['raw_s']:.3f} s → ratio {figures['sweep_s'] / figures['raw_s']:.1f}×")
    print(f"[{args.scale}] peak memory: {figures['sweep_rss_mb']:.0f} MiB after the sweep, "
          f"{figures['max_rss_mb']:.0f} MiB after the raw SELECT (which holds all its rows at once)")


def _measure(args: argparse.Namespace) -> None:
    from sqlalchemy import text
    from sqlmodel import col, select

    from fuquan.dates.workdays import WorkCalendar
    from fuquan.tracking.reminders import due_reminders
    from models.db import make_engine, reading
    from models.ledger_io import sweep as sweep_ledgers
    from models.tables import PlanRow

    engine = make_engine(args.db)
    plan_ids = json.loads(args.plans)
    t = time.perf_counter()
    rows = reminders = 0
    cal = WorkCalendar()  # one calendar for the sweep: its per-year tables are built once
    with reading(engine) as s:
        plans = s.exec(select(PlanRow).where(col(PlanRow.id).in_(plan_ids)).order_by(col(PlanRow.id))).all()
        for ledger in sweep_ledgers(s, plans):
            r = ledger.rows(TODAY, cal)
            rows += len(r)
            plan = ledger.stored.plan
            reminders += len(due_reminders(r, plan.policy, TODAY, cal, plan.issued, ledger.leads))
    sweep_s = time.perf_counter() - t
    sweep_rss = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024  # before the raw SELECT's own peak
    t = time.perf_counter()
    with engine.connect() as c:  # the same rows, read and thrown away: what the database alone costs
        ids = ",".join(map(str, plan_ids))
        for sql in (f"select a.*, t.*, u.* from assignment a join task t on t.id = a.task_id join unit u on u.id = a.unit_id where t.plan_id in ({ids})",
                    f"select l.* from letter l join task t on t.id = l.task_id where t.plan_id in ({ids})",
                    f"select m.* from monthly_report m join task t on t.id = m.task_id where t.plan_id in ({ids})"):
            c.execute(text(sql)).fetchall()
    raw_s = time.perf_counter() - t
    rss = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    print(json.dumps({"sweep_s": sweep_s, "raw_s": raw_s, "rows": rows, "reminders": reminders, "sweep_rss_mb": sweep_rss,
                      "max_rss_mb": rss}))


def cli(args: argparse.Namespace) -> None:
    env = {**os.environ, "FUQUAN_DATABASE_URL": database(args.db, "cli")}
    py = [sys.executable]
    subprocess.run([*py, "-m", "cli.main", "sync"], cwd=ROOT, env=env, check=True, capture_output=True)

    def best(cmd: list[str]) -> float:
        times = []
        for _ in range(args.repeat):
            t = time.perf_counter()
            subprocess.run(cmd, cwd=ROOT, env=env, check=True, capture_output=True)
            times.append(time.perf_counter() - t)
        return min(times)

    base = best([*py, "-c", "pass"])
    print(f"python -c pass: {base:.3f} s (best of {args.repeat})")
    for name, cmd in (("fuquan plan check", ["plan", "check"]), ("fuquan status --json", ["status", "--today", "2023-04-28", "--json"]),
                      ("fuquan letters", ["letters", "--today", "2023-04-28"])):
        print(f"{name}: {best([*py, '-m', 'cli.main', *cmd]):.3f} s")
    probe = subprocess.run([*py, "-c", "import sys; from cli.main import main; main(['status', '--json']); "
                            "print('prefect imported' if 'prefect' in sys.modules else 'prefect not imported', file=sys.stderr)"],
                           cwd=ROOT, env=env, capture_output=True, text=True)
    print(f"read-only commands: {probe.stderr.strip().splitlines()[-1]}")


def remind(args: argparse.Namespace) -> None:
    from pydantic import SecretStr

    from flows.dispatch import RunReport, deliver
    from fuquan.words.messages import Message, Section
    from models import outbox
    from models.db import make_engine, transaction
    from models.tables import PlanRow
    from notifications.router import Router
    from notifications.slack import SlackNotifier
    from tests.slack_server import TOKEN, FakeSlack
    from usecases.context import Context
    from usecases.settings import Settings

    engine = make_engine(database(args.db, "remind"))
    channels = [f"C0BENCH{i:03d}" for i in range(args.channels)]
    with transaction(engine) as s:
        plan = PlanRow(district="基准", year=2023, title="基准", issued=date(2023, 1, 1))
        s.add(plan)
        s.flush()
        for i in range(args.messages):
            msg = Message(f"单位{i % args.channels}", "标题", (Section("即将到期", (f"事项 {i}",)),))
            outbox.enqueue(s, plan.id or 0, TODAY, msg.recipient, [{"key": f"k{i}", "task_no": 1, "about": msg.recipient,
                           "recipient": msg.recipient, "kind": "before", "stage": "0", "due": None}],
                           dest_kind="slack", dest_target=channels[i % args.channels], forwarded_for=None,
                           title=msg.title, body=msg.as_dict())
    with FakeSlack(set(channels), per_channel_per_second=1.0) as slack:
        router = Router(slack_token=SecretStr(TOKEN), slack=SlackNotifier(SecretStr(TOKEN), slack.url, timeout=10))
        ctx = Context(Settings.from_env(), engine, router)
        report = RunReport(TODAY, "bench")
        t = time.perf_counter()
        deliver(ctx, plan.id or 0, report, datetime.now(ZoneInfo("Asia/Shanghai")), timedelta(minutes=10),
                workers=args.channels)
        took = time.perf_counter() - t
        keys = slack.keys()
        over = sum(1 for c in slack.calls if c == "chat.postMessage") - len(keys)
    print(f"{args.messages} reminders to {args.channels} channels (1 message/s/channel enforced): {took:.1f} s, "
          f"{len(keys)} delivered, {len(set(keys))} distinct, {over} posts refused by the rate limit")
    print(f"outcomes: {dict((r, [o.result for o in report.outcomes].count(r)) for r in {o.result for o in report.outcomes})}")


def main() -> None:
    p = argparse.ArgumentParser(description="fuquan benchmarks")
    sub = p.add_subparsers(dest="what", required=True)
    s = sub.add_parser("sweep")
    s.add_argument("--scale", choices=["district", "province", "nation", "province-plan"], default="province")
    s.add_argument("--db", help="`postgres` (a new database on scripts/pg.sh's server) or a URL (default: new SQLite file)")
    s.set_defaults(func=sweep)
    m = sub.add_parser("_measure")
    m.add_argument("--db", required=True)
    m.add_argument("--plans", required=True)
    m.set_defaults(func=_measure)
    c = sub.add_parser("cli")
    c.add_argument("--repeat", type=int, default=5)
    c.add_argument("--db", help="`postgres` or a URL, as for sweep (default: a new SQLite file)")
    c.set_defaults(func=cli)
    r = sub.add_parser("remind")
    r.add_argument("--messages", type=int, default=1000)
    r.add_argument("--channels", type=int, default=100)
    r.add_argument("--db", help="`postgres` or a URL, as for sweep (default: a new SQLite file)")
    r.set_defaults(func=remind)
    args = p.parse_args()
    args.func(args)


if __name__ == "__main__":
    main()
