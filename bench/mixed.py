"""Benchmark: a county service's busy minute — 1,500 towns answer on the web while the reminder run and an import run.

    .venv/bin/python -m bench.mixed [--db postgres] [--workers N] [--towns 1500] [--seconds 60] [--rows 1500]
                                    [--remind-at 5] [--import-at 5] [--plan briefed|province] [--skip remind|import]

bench/web.py's load (its plan, links, client loop and server start): TOWNS towns arrive evenly over SECONDS, each
opening its link and page and sending one 反馈 with a PDF, against one real `fuquan web` (`--workers N` passed on
when the CLI takes it). Meanwhile, REMIND_AT seconds in, the real `fuquan remind --force` runs against the same
database (no credentials in its environment: every message goes to the console channel, i.e. its stdout and the
notify file in the bench's data folder — nothing leaves the machine), and IMPORT_AT seconds in `fuquan import` takes
a sheet of ROWS 承接确认书 rows (made here with openpyxl: the briefed plan gets a fifth task, 县执法局's 承接确认书
with each town; `--plan province` signs the synth plan's unsigned department × town pairs).

Printed, nothing asserted: latency per request kind (p50/p95/p99/max), HTTP statuses, each command's exit code,
duration, CPU and last line of stderr; whether every message the reminder run planned was delivered exactly once
(the outbox: every message `sent`, one `sent` in send_log per message, its key once in the notify file, and a
dry run afterwards finding nothing left to send); feedback and evidence rows against the towns (nothing lost or
doubled); the import's rows in the database against ROWS. While the load runs, a watcher samples every 10 ms
who holds the write lock (SQLite: the WAL write lock, byte 120 of the -shm file, asked with F_GETLK, which takes
nothing; PostgreSQL: the advisory locks in pg_locks, each process named by PGAPPNAME) and how long each
process's transactions last, so a failure can be put down to whoever held the lock.
"""

from __future__ import annotations

import argparse
import asyncio
import fcntl
import json
import os
import re
import shutil
import struct
import subprocess
import sys
import threading
import time
from collections import Counter, defaultdict
from dataclasses import dataclass, field
from datetime import UTC, date, datetime
from pathlib import Path
from typing import Any

from sqlalchemy.engine import make_url

from bench.run import ROOT, machine_busy
from bench.web import (
    KINDS,
    Results,
    backends_cpu,
    check_db,
    family_cpu,
    family_hwm,
    free_port,
    load,
    ms,
    pct,
    prepare,
    print_latency,
    start_server,
    web_options,
)

FUQUAN = str(ROOT / ".venv" / "bin" / "fuquan")
DOC = "基准导入"  # the 文号 of every imported row: how the check finds them


@dataclass
class Command:
    name: str  # remind | import
    argv: list[str]
    at: float  # seconds after the load's start
    out: Path
    err: Path
    pid: int = 0
    code: int | None = None
    started: float = 0.0
    took: float = 0.0
    cpu: float = 0.0

    def last_line(self) -> str:
        lines = [x for x in self.err.read_text(errors="replace").splitlines() if x.strip()] if self.err.exists() else []
        return lines[-1].strip() if lines else ""


def run_command(cmd: Command, env: dict[str, str], start: float) -> None:
    """Run `cmd` at its moment (a thread of its own); its exit code, wall time and CPU (wait4's rusage)."""
    time.sleep(max(0.0, start + cmd.at - time.perf_counter()))
    t = time.perf_counter()
    with cmd.out.open("wb") as out, cmd.err.open("wb") as err:
        proc = subprocess.Popen(cmd.argv, cwd=ROOT, env={**env, "PGAPPNAME": f"fuquan-{cmd.name}"}, stdout=out,
                                stderr=err)
        cmd.pid = proc.pid
        _, status, usage = os.wait4(proc.pid, 0)
        proc.returncode = cmd.code = os.waitstatus_to_exitcode(status)
    cmd.started, cmd.took = t - start, time.perf_counter() - t
    cmd.cpu = usage.ru_utime + usage.ru_stime


@dataclass
class Holds:
    """Who held the write lock, as sampled: per process name, the longest unbroken hold and the time held in all."""
    longest: dict[str, float] = field(default_factory=lambda: defaultdict(float))
    total: dict[str, float] = field(default_factory=lambda: defaultdict(float))
    count: Counter[str] = field(default_factory=Counter)  # holds seen (a run of samples with one holder)
    longest_xact: dict[str, float] = field(default_factory=lambda: defaultdict(float))  # PostgreSQL only
    most_waiting: int = 0  # PostgreSQL: the most transactions seen waiting for the lock at once
    samples: int = 0


class LockWatch(threading.Thread):
    """Samples every `every` seconds which process holds the database's write lock (see the module's note)."""

    def __init__(self, url: str, every: float = 0.01) -> None:
        super().__init__(daemon=True)
        self.url, self.every = url, every
        self.holds = Holds()
        self.stop = threading.Event()
        self._names: dict[int, str] = {}

    def who(self, pid: int) -> str:
        """web, remind or import (from the process's command line, or its parent's), else the pid."""
        if pid not in self._names:
            self._names[pid] = f"pid {pid}"
            for p in (pid, _parent(pid)):
                try:
                    argv = Path(f"/proc/{p}/cmdline").read_bytes().split(b"\0")
                except OSError:
                    continue
                found = next((w for w in ("web", "remind", "import") if w.encode() in argv), None)
                if found:
                    self._names[pid] = found
                    break
        return self._names[pid]

    def run(self) -> None:
        try:
            self._sqlite() if self.url.startswith("sqlite") else self._postgres()
        except Exception as e:  # a watcher that fails must not take the benchmark down: say so in the figures
            print(f"(lock watcher stopped: {type(e).__name__}: {e})", file=sys.stderr)

    def _sqlite(self) -> None:
        shm = Path(make_url(self.url).database or "").with_name(Path(make_url(self.url).database or "").name + "-shm")
        while not shm.exists() and not self.stop.is_set():
            time.sleep(0.05)
        # kept open for the whole watch: closing any descriptor of a file drops every POSIX lock this process has
        # on it, and SQLite's own connections in this process (none are open during the load) would lose theirs
        fd = os.open(shm, os.O_RDONLY)
        query = struct.pack("hh4xqqi4x", fcntl.F_WRLCK, os.SEEK_SET, 120, 1, 0)  # struct flock: the WAL write lock
        holder, since, last = 0, 0.0, 0.0
        try:
            while not self.stop.wait(self.every):
                l_type, _, _, _, pid = struct.unpack("hh4xqqi4x", fcntl.fcntl(fd, fcntl.F_GETLK, query))
                now = time.perf_counter()
                self.holds.samples += 1
                pid = 0 if l_type == fcntl.F_UNLCK else pid
                if pid != holder:
                    self._close(holder, since, last)
                    holder, since = pid, now
                last = now
            self._close(holder, since, last)
        finally:
            os.close(fd)

    def _close(self, pid: int, since: float, last: float) -> None:
        if pid:
            name = self.who(pid)
            held = last - since + self.every  # seen from one sample to the last: the hold is at least that
            self.holds.longest[name] = max(self.holds.longest[name], held)
            self.holds.total[name] += held
            self.holds.count[name] += 1

    def _postgres(self) -> None:
        from sqlalchemy import create_engine, text

        engine = create_engine(self.url, isolation_level="AUTOCOMMIT",
                               connect_args={"application_name": "bench-lock-watch"})
        seen: dict[tuple[int, Any], tuple[str, float, float]] = {}  # (backend, xact_start) → (name, first, last)
        sql = text("select a.pid, a.application_name, a.xact_start, extract(epoch from now() - a.xact_start), l.granted "
                   "from pg_stat_activity a left join pg_locks l on l.pid = a.pid and l.locktype = 'advisory' "
                   "where a.application_name like 'fuquan-%' and a.xact_start is not null")
        with engine.connect() as c:
            while not self.stop.wait(self.every * 2):  # a query, not a system call: sampled half as often
                now = time.perf_counter()
                self.holds.samples += 1
                waiting = 0
                for pid, app, xact_start, age, granted in c.execute(sql):
                    name = app.removeprefix("fuquan-")
                    self.holds.longest_xact[name] = max(self.holds.longest_xact[name], float(age or 0))
                    if granted:
                        first = seen.get((pid, xact_start), (name, now, now))[1]
                        seen[(pid, xact_start)] = (name, first, now)
                    elif granted is False:
                        waiting += 1
                self.holds.most_waiting = max(self.holds.most_waiting, waiting)
        engine.dispose()
        for name, first, last in seen.values():
            held = last - first + 2 * self.every
            self.holds.longest[name] = max(self.holds.longest[name], held)
            self.holds.total[name] += held
            self.holds.count[name] += 1


def _own_cpu() -> float:
    import resource

    r = resource.getrusage(resource.RUSAGE_SELF)
    return r.ru_utime + r.ru_stime


def _parent(pid: int) -> int:
    try:
        return int(Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[1])
    except (OSError, ValueError, IndexError):
        return 0


def letter_rows(url: str, rows: int) -> tuple[str, list[tuple[str, str]], int]:
    """The plan's word for its towns, `rows` (department, town) pairs of its 承接确认书 task that nobody has signed
    yet — one per town before any town gets a second — and the plan's year."""
    from sqlalchemy import create_engine, text

    from usecases.context import open_context
    from usecases.settings import Settings

    with open_context(Settings.from_env()) as ctx:
        plan = ctx.choose().plan.plan
    task = plan.tracked("letters")
    depts, towns = task.track.letters or ((), ())
    engine = create_engine(url)
    with engine.connect() as c:
        signed = set(c.execute(text("select d.name, t.name from letter l join unit d on d.id = l.department_id "
                                    "join unit t on t.id = l.town_id where l.signed_on is not null")).all())
    engine.dispose()
    free = {t: [d for d in depts if (d, t) not in signed and task.track.applies("letters", d, t)] for t in towns}
    pairs: list[tuple[str, str]] = []
    for k in range(len(depts)):
        pairs += [(free[t][k], t) for t in towns if len(free[t]) > k]
        if len(pairs) >= rows:
            break
    return plan.words.towns, pairs[:rows], plan.year


def make_sheet(path: Path, town_word: str, pairs: list[tuple[str, str]], year: int) -> None:
    """The 承接确认书 sheet as an office sends it back: 部门, 镇, 签订日期, 文号."""
    from openpyxl import Workbook

    book = Workbook(write_only=True)
    sheet = book.create_sheet("承接确认书")
    sheet.append(["部门", town_word, "签订日期", "文号"])
    for i, (dept, town) in enumerate(pairs):
        sheet.append([dept, town, date(year, 6, 15), f"{DOC}{i:04d}"])
    book.save(path)


def dry_run(env: dict[str, str]) -> tuple[int, int, int]:
    """`fuquan remind --force --dry-run --json`: (reminders due, messages it would send, reminders in them)."""
    out = subprocess.run([FUQUAN, "remind", "--force", "--dry-run", "--json"], cwd=ROOT, env=env, capture_output=True,
                         text=True)
    if out.returncode:
        return -1, -1, -1
    report = json.loads(out.stdout)
    return report["due"], len(report["messages"]), sum(len(m["reminders"]) for m in report["messages"])


def check_outbox(url: str, notify: Path) -> dict[str, Any]:
    """What the reminder run left: its messages by status, how many were sent once / more than once, and how often
    each key is in the notify file (the console channel's record of what it delivered)."""
    from sqlalchemy import create_engine, text

    engine = create_engine(url)
    with engine.connect() as c:
        messages = c.execute(text("select m.key, m.status, (select count(*) from send_log s where s.message_id = m.id "
                                  "and s.result = 'sent') from message m")).all()
        reminders = c.execute(text("select count(*) from reminder")).scalar_one()
    engine.dispose()
    filed = Counter(re.findall(r"^<!-- (.+) -->$", notify.read_text(encoding="utf-8"), re.M)) if notify.exists() else Counter()
    return {"messages": len(messages), "reminders": reminders, "status": Counter(m[1] for m in messages),
            "sent_once": sum(1 for m in messages if m[2] == 1), "sent_twice": sum(1 for m in messages if m[2] > 1),
            "filed_once": sum(1 for m in messages if filed.get(m[0]) == 1),
            "filed_twice": sum(1 for m in messages if filed.get(m[0], 0) > 1),
            "filed_unknown": sum(n for k, n in filed.items() if k not in {m[0] for m in messages})}


def imported(url: str) -> int:
    from sqlalchemy import create_engine, text

    engine = create_engine(url)
    with engine.connect() as c:
        n = c.execute(text(f"select count(*) from letter where doc_no like '{DOC}%' and signed_on is not null")).scalar_one()
    engine.dispose()
    return int(n)


def drop_database(url: str) -> None:
    from sqlalchemy import create_engine, text

    u = make_url(url)
    engine = create_engine(u.set(database="postgres"), isolation_level="AUTOCOMMIT")
    with engine.connect() as c:
        c.execute(text(f'DROP DATABASE IF EXISTS "{u.database}" WITH (FORCE)'))
    engine.dispose()


async def busy_minute(links: dict[str, str], base: str, seconds: float, commands: list[Command],
                      env: dict[str, str], client: str = "lean") -> tuple[Results, float, float]:
    """The towns' load and the commands, on one clock; (results, the towns' wall time, everything's wall time)."""
    start = time.perf_counter() + 0.5
    towns = asyncio.create_task(load(links, base, seconds, start, client=client))
    await asyncio.gather(*(asyncio.to_thread(run_command, c, env, start) for c in commands))
    res, wall = await towns
    return res, wall, time.perf_counter() - start


def main() -> None:
    p = argparse.ArgumentParser(description="fuquan web under 1,500 towns' feedback while remind and import run")
    p.add_argument("--db", help="`postgres` (a new database on scripts/pg.sh's server, dropped afterwards) or a URL "
                   "(default: a new SQLite file)")
    p.add_argument("--towns", type=int, default=1500)
    p.add_argument("--seconds", type=float, default=60.0)
    p.add_argument("--year", type=int, default=2024, help="the briefed plan's year (as bench.web: a past year makes "
                   "every share overdue, so the reminder run has a message for every unit)")
    p.add_argument("--plan", choices=["briefed", "province"], default="briefed",
                   help="briefed: bench.web's plan with a fifth task (县执法局's 承接确认书 with each town); province: "
                   "bench/synth.py's province-as-one-plan (2023), its unsigned 承接确认书 imported")
    p.add_argument("--rows", type=int, default=1500, help="承接确认书 rows in the imported sheet")
    p.add_argument("--remind-at", type=float, default=5.0, help="seconds into the load `fuquan remind --force` starts")
    p.add_argument("--import-at", type=float, default=5.0, help="seconds into the load `fuquan import` starts")
    p.add_argument("--skip", action="append", choices=["remind", "import"], default=[], help="leave a command out")
    p.add_argument("--workers", type=int, help="passed on as `fuquan web --workers N` (when the CLI takes it)")
    p.add_argument("--client", choices=["lean", "httpx"], default="lean",
                   help="the towns' HTTP client: bench/lean_http.py (default: a fraction of httpx's CPU) or httpx")
    p.add_argument("--port", type=int, default=0)
    p.add_argument("--keep", action="store_true", help="keep the data folder and database afterwards")
    args = p.parse_args()
    args.port = args.port or free_port()
    for k in [k for k in os.environ if k in ("SLACK_BOT_TOKEN", "SLACK_APP_TOKEN") or k.startswith("FUQUAN_WEBHOOK_")]:
        del os.environ[k]  # no credentials: the router's default is the console channel, nothing leaves the machine

    url, data, links, load_s = prepare(args, name=f"mixed_{os.getpid()}", letters=args.plan == "briefed")
    backend = "PostgreSQL" if url.startswith("postgresql") else "SQLite"
    notify = data / "notifications.md"
    os.environ.update({"FUQUAN_NOTIFY_FILE": str(notify), "FUQUAN_USER": "bench", "COLUMNS": "160"})
    env = dict(os.environ)
    town_word, pairs, year = letter_rows(url, args.rows)
    sheet = data / "承接确认书.xlsx"
    make_sheet(sheet, town_word, pairs, year)
    due, would, would_r = dry_run(env)
    helps = web_options()
    workers = args.workers if args.workers and "--workers" in helps else None
    print(f"[{backend}] {len(links)} towns ({args.plan} plan, loaded in {load_s:.1f} s); the server's today is "
          f"{datetime.now(UTC).date()}; remind --dry-run beforehand: {due} reminders due, {would} messages "
          f"({would_r} reminders) to send; import sheet: {len(pairs)} 承接确认书 rows; `fuquan web` "
          + (f"--workers {workers}" if workers else "(no --workers)" if "--workers" not in helps else "(its default workers)")
          + (f" — asked for --workers {args.workers}, which this CLI does not take" if args.workers and not workers else ""))
    commands = [Command(name, argv, at, data / f"{name}.stdout", data / f"{name}.stderr") for name, argv, at in (
        ("remind", [FUQUAN, "remind", "--force"], args.remind_at),
        ("import", [FUQUAN, "import", str(sheet), "--kind", "letters"], args.import_at)) if name not in args.skip]

    os.environ["PGAPPNAME"] = "fuquan-web"  # how the lock watcher tells the server's backends from the commands'
    server = start_server(args.port, workers=workers, log=data / "web.stderr")
    watch = LockWatch(url)
    try:
        watch.start()
        cpu0, busy0, own0 = family_cpu(server.pid), machine_busy(), _own_cpu()
        res, wall, total = asyncio.run(busy_minute(links, f"http://127.0.0.1:{args.port}", args.seconds, commands, env,
                                                   args.client))
        cpu = family_cpu(server.pid) - cpu0  # with --workers, the workers' too
        db_cpu = backends_cpu(make_url(url).database or "") if url.startswith("postgresql") else 0.0
        busy, own = machine_busy() - busy0, _own_cpu() - own0
        hwm, procs = family_hwm(server.pid)
    finally:
        watch.stop.set()
        server.terminate()
        try:
            server.wait(timeout=20)
        except subprocess.TimeoutExpired:
            server.kill()
        watch.join(timeout=5)
    found = check_db(url, res)
    box = check_outbox(url, notify)
    after = dry_run(env) if "remind" not in args.skip else (0, 0, 0)
    rows_in = imported(url)

    print_latency(backend, res, len(links), args.seconds, wall)
    five = sum(n for k, n in res.status.items() if k.startswith("5"))
    others = busy - cpu - sum(c.cpu for c in commands) - db_cpu - own
    print(f"[{backend}] everything took {total:.1f} s; server {cpu:.1f} s CPU ({100 * cpu / total:.0f} % of one core"
          + (f", {procs} processes" if procs > 1 else "") + f"), peak RSS {hwm / 1024:.0f} MiB"
          + (" (the largest process)" if procs > 1 else "") + (f"; PostgreSQL backends (the server's) {db_cpu:.1f} s" if db_cpu else "")
          + f"; the load's client and lock watcher {own:.1f} s; the machine {busy:.1f} s CPU over {total:.1f} s, of "
          f"which {max(0.0, others):.1f} s ({100 * max(0.0, others) / total:.0f} % of one core) none of these "
          "(" + ("PostgreSQL serving the commands, " if db_cpu else "") + "other people's processes)")
    for c in commands:
        print(f"[{backend}] fuquan {c.name}: started at {c.started:.1f} s, exit {c.code}, {c.took:.1f} s "
              f"({c.cpu:.1f} s CPU); stderr's last line: {c.last_line() or '(none)'}")
    complete = False
    if "remind" not in args.skip:
        st = ", ".join(f"{k} {n}" for k, n in sorted(box["status"].items())) or "none"
        complete = (box["messages"] > 0 and box["status"].get("sent", 0) == box["messages"] == box["sent_once"]
                    == box["filed_once"] and after[1] == 0 and box["sent_twice"] == box["filed_twice"] == 0)
        print(f"[{backend}] reminders: outbox {box['messages']} messages ({box['reminders']} reminders): {st}; "
              f"sent once {box['sent_once']}, more than once {box['sent_twice']}; in the notify file once "
              f"{box['filed_once']}, more than once {box['filed_twice']}, not in the outbox {box['filed_unknown']}; "
              f"a dry run afterwards finds {after[1]} messages ({after[2]} reminders) still to send → the reminder run "
              + ("COMPLETED with every planned message delivered once" if complete else "did NOT complete"))
    if "import" not in args.skip:
        print(f"[{backend}] import: {rows_in} of {len(pairs)} rows in the database")
    print(f"[{backend}] web: {found['feedback']} feedback rows for {found['towns']} towns, {found['evidence']} "
          f"evidence rows (of {len(res.recorded)} confirmed to the towns: lost {found['lost']}; doubled "
          f"{found['doubled']}; recorded but not confirmed {found['unconfirmed']}; not as sent {found['wrong']}); "
          f"HTTP 5xx: {five}")
    h = watch.holds
    if h.samples:
        every = f"{watch.every * (1 if url.startswith('sqlite') else 2) * 1000:.0f} ms"
        print(f"[{backend}] write lock (sampled every {every}, {h.samples} samples): "
              + "; ".join(f"{n} held it {h.count[n]}× for {h.total[n]:.1f} s in all, longest {h.longest[n]:.2f} s"
                          for n in sorted(h.total))
              + ("; longest transaction (reads too): " + ", ".join(f"{n} {s:.2f} s" for n, s in sorted(h.longest_xact.items()))
                 + f"; at most {h.most_waiting} transactions waiting at once" if h.longest_xact else ""))
    kinds = Counter(re.sub(r"^\S+ ", "", e)[:100] for e in res.errors)
    for e, n in kinds.most_common(8):
        print(f"[{backend}]   error ×{n}: {e}")
    p95 = pct([x for k in KINDS for x in res.latency[k]], 95)
    whole = found["lost"] == found["doubled"] == 0 and found["feedback"] == found["evidence"] == len(links)
    skipped = "skipped (--skip)"
    print(f"[{backend}] targets: reminder run complete "
          + (skipped if "remind" in args.skip else "yes" if complete else "NO")
          + f"; 0 HTTP 5xx {'yes' if five == 0 else 'NO'}; p95 {ms(p95)} ms < 300 {'yes' if p95 < 0.3 else 'NO'}; "
          f"every town's feedback recorded once {'yes' if whole else 'NO'}; import "
          + (skipped if "import" in args.skip else f"{rows_in}/{len(pairs)} {'yes' if rows_in == len(pairs) else 'NO'}"))
    if args.keep:
        print(f"[{backend}] kept: {data} ({url})")
    else:
        shutil.rmtree(data, ignore_errors=True)
        if url.startswith("sqlite:///"):
            shutil.rmtree(Path(url.removeprefix("sqlite:///")).parent, ignore_errors=True)
        elif url.startswith("postgresql"):
            drop_database(url)


if __name__ == "__main__":
    main()
