"""Benchmark: 1,500 towns each open their page and send one 反馈 within a minute, against one `fuquan web`.

    .venv/bin/python -m bench.web [--db postgres] [--towns 1500] [--seconds 60] [--year 2024] [--plan province] [--workers N]

A plan of TOWNS towns (kind 镇, all in the group 各镇) and four departments, with four tasks naming 各镇 (a dated
status task, another dated one, a quarterly one and an open-ended one), goes in through the real CLI (`fuquan
sync`). `--plan province` takes instead bench/synth.py's province-as-one-plan (the 2023 plan's 15 tasks, TOWNS
towns and 20 departments, with 承接确认书 and 月报 on file): a town's page then reads tracked items too. Each town's
personal link is made here; then ONE real `fuquan web` process (the system clock: a past `--year` makes every
share overdue, and each request counts working days across the years since) serves them all while the towns
arrive evenly over SECONDS (town i starts at i·SECONDS/TOWNS s, each with its own client and cookie jar): it opens
its link (GET /l/…), its page (GET /u, csrf and the form's nonce read from it) and sends one 反馈 with a small PDF
(POST /u/feedback, multipart). Figures printed, nothing asserted: latency per request kind (p50/p95/p99/max, as the
client sees it), errors, the server's CPU time and peak RSS (VmHWM) and what the database holds afterwards (one
feedback and one evidence row per town: nothing lost, nothing doubled).
"""

from __future__ import annotations

import argparse
import asyncio
import html
import os
import re
import resource
import shutil
import socket
import ssl
import subprocess
import tempfile
import time
from collections import Counter, defaultdict
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from sqlalchemy.engine import make_url

from bench import lean_http
from bench.run import ROOT, database, machine_busy

SECRET = "bench-web-link-secret-0123456789"
DEPTS = ["县委编办", "县司法局", "县数据局", "县执法局"]
TASKS = [  # (no, deadline, lead) — every task names 各镇 after its lead
    (1, "5月底前", "县委编办"),
    (2, "6月底前", "县司法局"),
    (3, "每季度末", "县司法局"),
    (4, "持续推进", "县委编办"),
]
PDF = b"%PDF-1.4\n1 0 obj<<>>endobj\n" + b"% bench evidence " * 40 + b"\ntrailer<<>>\n%%EOF\n"
KINDS = ("enter", "page", "feedback")
ROW = re.compile(r'<tr class="[^"]*" data-task="(\d+)" data-period="([^"]*)">(.*?)</tr>', re.S)
CSRF = re.compile(r'name="csrf" value="([^"]+)"')
NONCE = re.compile(r'name="nonce" value="([^"]+-f\d+)"')


def town_name(i: int) -> str:
    return f"第{i:04d}镇"


# bench/mixed.py's extra task: a 承接确认书 from 县执法局 to each town, so that `fuquan import` has 1,500 rows to take
LETTERS_TASK = "  - {no: 5, section: 一, text: 基准任务5 承接确认书, deadline: 6月底前, units: [县执法局, 各镇], " \
               "track: {letters: {departments: [县执法局], towns: [各镇]}}}"


def plan_yaml(towns: int, year: int, letters: bool = False) -> str:
    names = [town_name(i) for i in range(towns)]
    lines = [f"plan: {{title: 基准县镇赋权工作方案, district: 基准县, year: {year}, issued: {year}-03-08}}", "units:"]
    lines += [f"  - {{name: {d}, kind: 部门}}" for d in DEPTS] + [f"  - {{name: {t}, kind: 镇}}" for t in names]
    lines += ["groups:", f"  - {{name: 各镇, members: [{', '.join(names)}]}}",
              "sections: [{no: 一, title: 全部任务}]", "tasks:"]
    lines += [f"  - {{no: {no}, section: 一, text: 基准任务{no}, deadline: {deadline}, units: [{lead}, 各镇]}}"
              for no, deadline, lead in TASKS]
    lines += [LETTERS_TASK] if letters else []
    return "\n".join(lines) + "\n"


@dataclass
class Results:
    latency: dict[str, list[float]] = field(default_factory=lambda: defaultdict(list))
    timeline: list[tuple[float, str, float]] = field(default_factory=list)  # (start offset, kind, seconds)
    errors: list[str] = field(default_factory=list)
    sent: dict[str, tuple[int, str, str]] = field(default_factory=dict)  # town → (task, period, status)
    status: Counter[str] = field(default_factory=Counter)  # HTTP status (or the exception's name) → requests
    towns_done: list[float] = field(default_factory=list)  # each town's three requests, end to end
    recorded: set[str] = field(default_factory=set)  # towns told "反馈已提交"


def prepare(args: argparse.Namespace, *, name: str = "web", letters: bool = False) -> tuple[str, Path, dict[str, str], float]:
    """The database with the plan in it, the data folder, each town's link (in the plan's order), and the seconds
    loading the plan took. `name`: the PostgreSQL database's (bench_NAME); `letters`: the briefed plan gets a
    fifth task tracked by 承接确认书 (bench/mixed.py imports them)."""
    url = database(args.db, name)
    data = Path(tempfile.mkdtemp(prefix=f"fuquan-bench-{name}-"))
    plan = data / "plan.yaml"
    plan.write_text(plan_yaml(args.towns, args.year, letters), encoding="utf-8")
    os.environ.update({"FUQUAN_DATABASE_URL": url, "FUQUAN_DATA_DIR": str(data), "FUQUAN_LINK_SECRET": SECRET,
                       "FUQUAN_WEB_URL": f"http://127.0.0.1:{args.port}", "FUQUAN_CONFIG": str(plan)})
    from cli.main import main
    from usecases.context import open_context
    from usecases.settings import Settings
    from usecases.unit_links import personal_link

    t = time.perf_counter()
    if args.plan == "province":
        from bench.synth import build
        from models.db import make_engine

        engine = make_engine(url)
        build(engine, 1, towns=args.towns, depts=20, progress=False)
        engine.dispose()
    elif main(["sync", "--config", str(plan)]) != 0:
        raise SystemExit("fuquan sync failed")
    took = time.perf_counter() - t
    now = datetime.now(UTC)  # the server runs on the system clock: links are made on it too
    with open_context(Settings.from_env(), clock=lambda: now) as ctx:
        ctx = ctx.choose()
        towns = [u.name for u in ctx.plan.plan.units if u.kind == "town"]
        links = {name: personal_link(ctx, name, now) for name in towns}
    return url, data, links, took


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def web_options() -> str:
    """`fuquan web --help`: which options this version of the CLI takes (--workers is new)."""
    return subprocess.run([str(ROOT / ".venv" / "bin" / "fuquan"), "web", "--help"], cwd=ROOT, capture_output=True,
                          text=True).stdout


def start_server(port: int, profile: str | None = None, *, workers: int | None = None,
                 log: Path | None = None) -> subprocess.Popen[bytes]:
    """One `fuquan web` process (`--workers N` passed when given), answering on `port`. Its stderr goes to `log`
    when given: a pipe nobody reads would stall a server that logs many errors once 64 KiB are waiting."""
    fuquan = [str(ROOT / ".venv" / "bin" / "fuquan")]
    if profile:  # the same command under cProfile; uvicorn re-raises SIGTERM once stopped: exit so it is written
        fuquan = [str(ROOT / ".venv" / "bin" / "python"), "-c", "import cProfile, signal, sys; from cli.main import main; "
                  "signal.signal(signal.SIGTERM, lambda *_: sys.exit(0)); "
                  f"cProfile.run('main(sys.argv[1:])', {profile!r})"]
    extra = ["--workers", str(workers)] if workers else []
    err = log.open("wb") if log else subprocess.PIPE
    proc = subprocess.Popen([*fuquan, "web", "--port", str(port), *extra], cwd=ROOT,
                            env=dict(os.environ), stdout=subprocess.DEVNULL, stderr=err)
    import httpx

    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        if proc.poll() is not None:
            said = log.read_text(errors="replace") if log else proc.stderr.read().decode() if proc.stderr else ""
            raise SystemExit(f"fuquan web exited: {said}")
        try:
            if httpx.get(f"http://127.0.0.1:{port}/", timeout=1).status_code == 200:
                return proc
        except httpx.HTTPError:
            pass
        time.sleep(0.1)
    proc.kill()
    raise SystemExit("fuquan web did not answer within 60 s")


def proc_status(pid: int, key: str) -> int:
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith(key + ":"):
            return int(line.split()[1])  # kB
    return 0


def backends_cpu(database_name: str) -> float:
    """CPU seconds of the PostgreSQL backends serving `database_name` (alive: the web process's pool)."""
    total = 0.0
    for proc in Path("/proc").iterdir():
        try:
            if proc.name.isdigit() and f" {database_name} " in (proc / "cmdline").read_bytes().decode(errors="replace"):
                total += cpu_seconds(int(proc.name))
        except OSError:
            pass
    return total


def family(pid: int) -> list[int]:
    """`pid` and its descendants alive now (`fuquan web --workers N`: the workers are its children)."""
    parents: dict[int, list[int]] = defaultdict(list)
    for proc in Path("/proc").iterdir():
        try:
            if proc.name.isdigit():
                parents[int((proc / "stat").read_text().rsplit(")", 1)[1].split()[1])].append(int(proc.name))
        except (OSError, ValueError, IndexError):
            pass
    out, todo = [], [pid]
    while todo:
        p = todo.pop()
        out.append(p)
        todo += parents.get(p, [])
    return out


def family_cpu(pid: int) -> float:
    """CPU seconds of `pid` and its live descendants."""
    total = 0.0
    for p in family(pid):
        try:
            total += cpu_seconds(p)
        except OSError:
            pass
    return total


def family_hwm(pid: int) -> tuple[int, int]:
    """(the largest VmHWM, kB, among `pid` and its live descendants; how many processes)."""
    procs = family(pid)
    peaks = []
    for p in procs:
        try:
            peaks.append(proc_status(p, "VmHWM"))
        except OSError:
            pass
    return max(peaks, default=0), len(procs)


def cpu_seconds(pid: int) -> float:
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")  # utime + stime


async def town(i: int, name: str, link: str, base: str, start: float, offset: float, res: Results,
               tls: ssl.SSLContext, kind: str = "lean") -> None:
    import httpx

    await asyncio.sleep(max(0.0, start + offset - time.perf_counter()))
    wanted = TASKS[i % len(TASKS)][0]
    status = "已完成" if i % 2 == 0 else "进行中"
    began = time.perf_counter()

    async def timed(kind: str, call: object) -> Any:
        t = time.perf_counter()
        try:
            r = await call  # type: ignore[misc]
        except (httpx.HTTPError, lean_http.HTTPError) as e:
            res.errors.append(f"{name} {kind}: {type(e).__name__} {e}")
            res.status[type(e).__name__] += 1
            return None
        took = time.perf_counter() - t
        res.status[str(r.status_code)] += 1
        res.latency[kind].append(took)
        res.timeline.append((t - start, kind, took))
        if r.status_code != 200:
            message = re.search(r'id="message">([^<]*)', r.text)
            res.errors.append(f"{name} {kind}: HTTP {r.status_code} {message.group(1) if message else ''}")
            return None
        return r

    # one client (connection, cookie jar) per town; the shared TLS context (unused on http://) spares each httpx
    # client the 20 ms of loading certifi's bundle, which would stall this event loop and show as server latency
    async with (lean_http.Client(base) if kind == "lean" else
                httpx.AsyncClient(base_url=base, timeout=120, follow_redirects=False, verify=tls)) as client:
        if await timed("enter", client.get(link.removeprefix(base))) is None:
            return
        page = await timed("page", client.get("/u"))
        if page is None:
            return
        csrf = CSRF.search(page.text)
        forms = [(int(no), html.unescape(p), m.group(1)) for no, p, body in ROW.findall(page.text)
                 if (m := NONCE.search(body)) is not None]  # the rows the town can answer
        mine = [f for f in forms if f[0] == wanted] or forms  # task i % 4 of ours; any of its rows in another plan
        if csrf is None or not mine:
            res.errors.append(f"{name} page: no feedback form")
            return
        task, period, nonce = mine[(i // len(TASKS)) % len(mine)]
        res.sent[name] = (task, period, status)
        data = {"csrf": csrf.group(1), "nonce": nonce, "task": str(task), "period": period, "status": status,
                "note": f"{name} 任务{task} 进展说明"}
        files = [("files", ("佐证.pdf", PDF, "application/pdf"))]
        answer = await timed("feedback", client.post("/u/feedback", data=data, files=files))
        if answer is not None:
            res.towns_done.append(time.perf_counter() - began)
            if "反馈已提交" in answer.text or "反馈已登记" in answer.text:
                res.recorded.add(name)


async def load(links: dict[str, str], base: str, seconds: float, start: float | None = None,
               client: str = "lean") -> tuple[Results, float]:
    """Town i arrives at `start` (default: half a second from now) + i·seconds/towns; the wall time from `start`
    until the last town is done. `client`: bench/lean_http.py's (default) or httpx."""
    res = Results()
    n = len(links)
    tls = ssl.create_default_context()
    start = time.perf_counter() + 0.5 if start is None else start
    await asyncio.gather(*(town(i, name, link, base, start, i * seconds / n, res, tls, client)
                           for i, (name, link) in enumerate(links.items())))
    return res, time.perf_counter() - start


def pct(values: list[float], p: float) -> float:
    if not values:
        return float("nan")
    s = sorted(values)
    return s[min(len(s) - 1, max(0, int(round(p / 100 * len(s) + 0.5)) - 1))]


def ms(x: float) -> str:
    return f"{x * 1000:.0f}"


def print_latency(backend: str, res: Results, towns: int, seconds: float, wall: float) -> None:
    """Requests per kind: p50/p95/p99/max as the clients saw them, the HTTP statuses, and p95 by 10 s of arrivals."""
    every = [x for k in KINDS for x in res.latency[k]]
    print(f"[{backend}] {towns} towns arriving evenly over {seconds:.0f} s: wall {wall:.1f} s, "
          f"{len(every)} requests ({len(every) / wall:.0f}/s), {len(res.towns_done)} towns done, {len(res.errors)} errors")
    print(f"[{backend}] HTTP statuses: " + ", ".join(f"{k} ×{n}" for k, n in sorted(res.status.items())))
    print(f"[{backend}] latency ms        p50    p95    p99    max")
    for kind, values in [*((k, res.latency[k]) for k in KINDS), ("all", every), ("town (3 requests)", res.towns_done)]:
        print(f"[{backend}]   {kind:<17} {ms(pct(values, 50)):>5}  {ms(pct(values, 95)):>5}  {ms(pct(values, 99)):>5}  "
              f"{ms(max(values) if values else float('nan')):>5}   (n={len(values)})")
    windows = defaultdict(list)
    for at, _kind, took in res.timeline:
        windows[int(at // 10)].append(took)
    print(f"[{backend}] p95 per 10 s of arrivals (ms): "
          + ", ".join(f"{w * 10}-{w * 10 + 10}s {ms(pct(v, 95))}" for w, v in sorted(windows.items())))


def check_db(url: str, res: Results) -> dict[str, object]:
    """What the database holds after the load: one feedback row (and one evidence row) per town, as sent."""
    from sqlalchemy import create_engine, text

    engine = create_engine(url)
    with engine.connect() as c:
        rows = c.execute(text("select u.name, t.no, f.period, f.status, f.evidence from feedback f join unit u on "
                              "u.id = f.unit_id join task t on t.id = f.task_id")).all()
        evidence = c.execute(text("select count(*) from evidence")).scalar_one()
        forms = c.execute(text("select count(*) from form_use")).scalar_one()
    engine.dispose()
    per_town: dict[str, int] = defaultdict(int)
    wrong = 0
    for name, no, period, status, _ev in rows:
        per_town[name] += 1
        if res.sent.get(name) != (no, period, status):
            wrong += 1
    return {"feedback": len(rows), "towns": len(per_town), "doubled": sum(1 for v in per_town.values() if v > 1),
            "lost": sum(1 for t in res.recorded if t not in per_town),
            "unconfirmed": sum(1 for t in per_town if t not in res.recorded), "wrong": wrong, "evidence": evidence,
            "forms": forms}


def main() -> None:
    p = argparse.ArgumentParser(description="fuquan web under 1,500 towns' feedback in a minute")
    p.add_argument("--db", help="`postgres` (a new database on scripts/pg.sh's server) or a URL (default: new SQLite file)")
    p.add_argument("--towns", type=int, default=1500)
    p.add_argument("--seconds", type=float, default=60.0)
    p.add_argument("--year", type=int, default=2024, help="the plan's year (issued 03-08 of it); the server's today is "
                   "the system clock's, so a past year makes every share overdue and each request count working days "
                   "across the years between")
    p.add_argument("--plan", choices=["briefed", "province"], default="briefed",
                   help="briefed: TOWNS towns, 4 departments, 4 tasks, synced from YAML (default); province: "
                   "bench/synth.py's one plan of TOWNS towns and 20 departments, its tracked items on file (year 2023)")
    p.add_argument("--port", type=int, default=0, help="the web process's port (default: a free one)")
    p.add_argument("--keep", action="store_true", help="keep the data folder (and SQLite file) afterwards")
    p.add_argument("--profile", metavar="FILE", help="run the server under cProfile, its statistics written to FILE")
    p.add_argument("--workers", type=int, help="passed on as `fuquan web --workers N` (when the CLI takes it)")
    p.add_argument("--client", choices=["lean", "httpx"], default="lean",
                   help="the towns' HTTP client: bench/lean_http.py (default: a fraction of httpx's CPU) or httpx")
    args = p.parse_args()
    args.port = args.port or free_port()
    url, data, links, sync_s = prepare(args)
    backend = "PostgreSQL" if url.startswith("postgresql") else "SQLite"
    shape = (f"plan {args.year} (issued {args.year}-03-08): {len(links)} towns × {len(TASKS)} tasks + {len(DEPTS)} "
             f"departments" if args.plan == "briefed" else f"synth province-as-one-plan 2023: {len(links)} towns, "
             "20 departments, 15 tasks, 承接确认书 and 月报 on file")
    print(f"[{backend}] {shape}; loaded in {sync_s:.1f} s; {len(links)} links made; the server's today is "
          f"{datetime.now(UTC).date()}")
    workers = args.workers if args.workers and "--workers" in web_options() else None
    if args.workers and not workers:
        print(f"(fuquan web takes no --workers here: one process, not {args.workers})")
    server = start_server(args.port, args.profile, workers=workers)
    try:
        cpu0, rss0 = family_cpu(server.pid), proc_status(server.pid, "VmRSS")  # the workers' CPU too
        own0, busy0 = resource.getrusage(resource.RUSAGE_SELF), machine_busy()
        res, wall = asyncio.run(load(links, f"http://127.0.0.1:{args.port}", args.seconds, client=args.client))
        cpu = family_cpu(server.pid) - cpu0
        own1 = resource.getrusage(resource.RUSAGE_SELF)
        client_cpu = own1.ru_utime + own1.ru_stime - own0.ru_utime - own0.ru_stime
        db_cpu = backends_cpu(make_url(url).database or "") if url.startswith("postgresql") else 0.0
        others = machine_busy() - busy0 - cpu - client_cpu - db_cpu  # anything else on the machine meanwhile
        hwm = family_hwm(server.pid)[0]
    finally:
        server.terminate()
        try:
            server.wait(timeout=20)
        except subprocess.TimeoutExpired:
            server.kill()
    found = check_db(url, res)
    print_latency(backend, res, len(links), args.seconds, wall)
    print(f"[{backend}] server: {cpu:.1f} s CPU over {wall:.1f} s ({100 * cpu / wall:.0f} % of one core), "
          f"RSS {rss0 / 1024:.0f} MiB before the load, peak (VmHWM) {hwm / 1024:.0f} MiB; "
          + (f"PostgreSQL backends {db_cpu:.1f} s CPU; " if db_cpu else "")
          + f"the load's own client {client_cpu:.1f} s CPU ({100 * client_cpu / wall:.0f} %); other processes "
          f"{max(0.0, others):.1f} s CPU ({100 * max(0.0, others) / wall:.0f} % of one core{', the run was not alone' if others > 0.1 * wall else ''})")
    print(f"[{backend}] database: {found['feedback']} feedback rows for {found['towns']} towns "
          f"(of {len(res.recorded)} confirmed to the towns: lost {found['lost']}; doubled {found['doubled']}; "
          f"recorded but not confirmed {found['unconfirmed']}; not as sent {found['wrong']}), "
          f"{found['evidence']} evidence rows, {found['forms']} form nonces used")
    kinds = Counter(re.sub(r"^\S+ ", "", e)[:80] for e in res.errors)
    for e, n in kinds.most_common(8):
        print(f"[{backend}]   error ×{n}: {e}")
    if not args.keep:
        shutil.rmtree(data, ignore_errors=True)
        if url.startswith("sqlite:///"):
            shutil.rmtree(Path(url.removeprefix("sqlite:///")).parent, ignore_errors=True)


if __name__ == "__main__":
    main()
