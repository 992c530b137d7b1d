"""A county service under load and faults: a write that meets a busy database waits and retries within its bound,
then says "busy, nothing written" (503) instead of failing; one plan's writers do not wait for another's
(PostgreSQL); the web app does its database work off the event loop, so one waiting request holds no other unit up;
a PostgreSQL that goes away answers units with the Chinese 503 page and never turns a valid link into 链接无效; and
`fuquan web --workers N` serves from N processes.

Each fault is reproduced against the database the suite runs on (SQLite, or PostgreSQL under `make test`); the
outage needs a server to lose, so it runs on PostgreSQL only. The clock is the world's injected one; the waits here
are bounded by the engine's settings, and no test asserts how long anything took.
"""

from __future__ import annotations

import os
import re
import signal
import socket
import subprocess
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager, suppress
from dataclasses import replace
from datetime import UTC, datetime
from pathlib import Path

import httpx
import pytest
from sqlalchemy.engine import make_url
from starlette.applications import Starlette
from starlette.testclient import TestClient

from fuquan.errors import Unavailable
from models.db import make_engine, transaction
from tests import dbs
from tests.conftest import ROOT
from tests.faults.test_crashes import WriteLockHolder
from tests.web.test_edges import served, socket_port
from tests.web.test_security import BASE, ONE_PLAN, SECRET, Session, World, said, template, world
from usecases import unit_links
from usecases.context import Context
from web.app import make_app

FIXTURES = (template, world)  # test_security's, used here by name
BUSY = "系统繁忙"
NOTHING = "未写入任何内容"


@contextmanager
def app_on(world: World, url: str | None = None, *, attempt_ms: int, wait: float) -> Iterator[tuple[Context, Starlette]]:
    """An app on the world's database (or `url`) whose writes wait `attempt_ms` per try and `wait` seconds in all."""
    engine = make_engine(url or world.url, busy_timeout_ms=attempt_ms, wait_seconds=wait)
    ctx = replace(world.ctx, engine=engine)
    try:
        yield ctx, make_app(ctx)
    finally:
        engine.dispose()


def enter(app: Starlette, world: World, holder: str) -> Session:
    c = TestClient(app, base_url=BASE, raise_server_exceptions=False)
    assert c.get(f"/l/{world.token(holder)}").status_code == 200
    page = c.get("/u")
    m = re.search(r'name="csrf" value="([^"]+)"', page.text)
    assert page.status_code == 200 and m, page.text[:300]
    return Session(c, m.group(1), page.text)


def ack(world: World, s: Session) -> httpx.Response:
    return s.post("/u/ack", {"message": world.messages(s.page)[0]}, csrf=s.csrf)  # type: ignore[no-any-return]


@contextmanager
def lock_held(world: World) -> Iterator[WriteLockHolder]:
    holder = WriteLockHolder(world.url)
    holder.take(world.plan_id)
    try:
        yield holder
    finally:
        with suppress(Exception):
            holder.give_back()
        holder.close()


# ── a busy database: wait and retry within the bound, then 503 ───────────────────────────────────────────────────


@ONE_PLAN
def test_a_write_outlasting_one_lock_wait_is_retried_and_recorded(world: World) -> None:
    """Another writer holds the lock for longer than one attempt waits (0.3 s) but less than the bound (20 s):
    before, the first timeout was the answer (数据库正被其他进程写入, 400) and the unit's 签收 was lost."""
    with app_on(world, attempt_ms=300, wait=20) as (_, app):
        s = enter(app, world, world.case.town)
        before = world.counts()["ack"]
        with lock_held(world) as holder:
            threading.Timer(1.5, holder.give_back).start()  # five attempts' worth
            r = ack(world, s)
        assert r.status_code == 200, (r.status_code, said(r))
        assert world.counts()["ack"] > before


@ONE_PLAN
def test_a_database_busy_past_the_bound_is_a_chinese_503_and_nothing_is_written(world: World) -> None:
    with app_on(world, attempt_ms=200, wait=0.6) as (_, app):
        s = enter(app, world, world.case.town)
        before = world.counts()
        with lock_held(world):
            r = ack(world, s)
        assert r.status_code == 503, (r.status_code, said(r))
        assert BUSY in said(r) and NOTHING in said(r) and r.headers["retry-after"] == "30"
        assert r.headers["x-frame-options"] == "DENY"  # (our page, with the security headers)
        assert world.counts() == before


@ONE_PLAN
def test_the_daily_run_waits_for_a_busy_database_and_sends_every_message(world: World) -> None:
    """`remind` exited 1 (数据库正被其他进程写入) while towns answered and an import ran: now it waits its turn."""
    from datetime import timedelta

    from flows.dispatch import run_reminders

    day = world.case.day + timedelta(days=7)
    while not world.ctx.plan.plan.work_calendar().is_workday(day):
        day += timedelta(days=1)
    with app_on(world, attempt_ms=300, wait=20) as (ctx, _):
        dry = run_reminders(ctx, today=day, now=world.case.now, dry_run=True, force=True)
        assert dry.planned, "nothing due that day: the test would prove nothing"
        with lock_held(world) as holder:
            threading.Timer(1.5, holder.give_back).start()
            report = run_reminders(ctx, today=day, now=world.case.now, force=True)
    assert len(report.planned) == len(dry.planned) and not report.stopped, (len(report.planned), report.stopped)
    assert {o.result for o in report.outcomes} == {"sent"}
    assert {p.recipient for p in report.planned} <= {o.recipient for o in report.outcomes}


@pytest.mark.skipif(not dbs.ON_PG, reason="SQLite is one file with one writer at a time: a lock per plan is PostgreSQL's")
@ONE_PLAN
def test_one_plans_writers_do_not_wait_for_another_plans(world: World) -> None:
    other = dbs.rows(world.url, "SELECT id FROM plan WHERE id <> :p", p=world.plan_id)[0][0]
    engine = make_engine(world.url, busy_timeout_ms=200, wait_seconds=0)
    try:
        with lock_held(world):
            with transaction(engine, plan=other) as session:  # another plan: at once
                session.connection().exec_driver_sql("SELECT 1")
            with pytest.raises(Unavailable, match="数据库正被其他进程写入"), transaction(engine, plan=world.plan_id):
                pass  # the same plan: waits, then the clear error
    finally:
        engine.dispose()


@pytest.mark.skipif(not dbs.ON_PG, reason="SQLite is one file with one writer at a time: lanes are PostgreSQL's")
def test_answers_to_different_shares_go_on_together_and_wait_for_plan_wide_writes(world: World) -> None:
    """Measured under the mixed load: 1,500 towns' answers queued one by one on the plan's lock (p95 32 s). A unit's
    answer now holds its own lane (the plan's lock shared): another unit's answer goes on, the same unit's waits, and
    a plan-wide write (the reminder run, a sync) waits for it, as it does for them."""
    sp, pid = world.ctx.plan, world.plan_id
    town, other = world.case.town, world.case.other_town
    engine = make_engine(world.url, busy_timeout_ms=200, wait_seconds=0)
    busy = pytest.raises(Unavailable, match="数据库正被其他进程写入")
    try:
        with app_on(world, attempt_ms=200, wait=0) as (_, app):
            mine, theirs = enter(app, world, town), enter(app, world, other)
            with transaction(engine, plan=pid, lanes=[sp.reminders_lane(town)]):  # the town's 签收 under way
                r = ack(world, theirs)
                assert r.status_code == 200, (r.status_code, said(r))  # another unit's: at once
                assert ack(world, mine).status_code == 503  # the same unit's: waits, then the clear answer
                with busy, transaction(engine, plan=pid):
                    pass  # a plan-wide write waits for the answer
            with lock_held(world), busy, transaction(engine, plan=pid, lanes=[sp.reminders_lane(other)]):
                pass  # and an answer for the plan-wide write
        tracked = [t.no for t in sp.plan.tasks if t.track.letters]
        untracked = [t.no for t in sp.plan.tasks if t.track.recorded_by(town) is None
                     and town in {a.unit for a in sp.plan.assignees(t)} and other in {a.unit for a in sp.plan.assignees(t)}]
        assert tracked and untracked, "the plan needs a task with 承接确认书 and one two towns share"
        t = untracked[0]
        assert sp.lane(t, town) != sp.lane(t, other)  # an untracked share is the unit's own
        dept, = sp.plan.task(tracked[0]).track.letters[0][:1]  # (a letter is both the department's and the town's)
        assert sp.lane(tracked[0], dept) == sp.lane(tracked[0], town)
        assert sp.item_lanes("letters") == [(sp.task_id(no),) for no in tracked]  # (an import's: the whole task)
        with transaction(engine, plan=pid, lanes=[sp.lane(tracked[0], dept)]):
            with busy, transaction(engine, plan=pid, lanes=[sp.lane(tracked[0], town)]):
                pass
    finally:
        engine.dispose()


@pytest.mark.skipif(not dbs.ON_PG, reason="SQLite is one file with one writer at a time: lanes are PostgreSQL's")
@ONE_PLAN
def test_the_reminder_run_queues_beside_units_answers_and_waits_for_their_acks(world: World) -> None:
    """Measured under the mixed load: the reminder run queued its messages under the plan's lock, 75 transactions
    of 0.2 s in which no unit's 反馈 went on (p95 0.4–0.6 s). Its queuing now takes its recipients' reminder lanes:
    a 反馈 under way does not hold it up (only its claim, plan-wide, waits), a 签收 of a recipient does."""
    from datetime import timedelta

    from flows.dispatch import run_reminders

    sp, pid, town = world.ctx.plan, world.plan_id, world.case.town
    day = world.case.day + timedelta(days=7)
    while not sp.plan.work_calendar().is_workday(day):
        day += timedelta(days=1)
    task, _ = world.extendable(town)
    queued = "SELECT recipient FROM message WHERE plan_id = :p AND day = :d"
    engine = make_engine(world.url, busy_timeout_ms=300, wait_seconds=0)
    busy = pytest.raises(Unavailable, match="数据库正被其他进程写入")
    try:
        with app_on(world, attempt_ms=300, wait=0) as (ctx, _):
            dry = run_reminders(ctx, today=day, now=world.case.now, dry_run=True, force=True)
            planned = {p.recipient for p in dry.planned}
            assert town in planned and len(planned) > 1, "the run must queue for the town and others"
            with transaction(engine, plan=pid, lanes=[sp.reminders_lane(town)]), busy:  # the town's 签收 under way
                run_reminders(ctx, today=day, now=world.case.now, force=True)
            assert town not in {r[0] for r in dbs.rows(world.url, queued, p=pid, d=day)}  # its chunk waited
            with transaction(engine, plan=pid, lanes=[sp.lane(task, town)]), busy:  # the town's 反馈 under way
                run_reminders(ctx, today=day, now=world.case.now, force=True)  # (the claim, plan-wide, waits)
            assert {r[0] for r in dbs.rows(world.url, queued, p=pid, d=day)} == planned  # every message queued
            report = run_reminders(ctx, today=day, now=world.case.now, force=True)
        assert {o.recipient for o in report.outcomes} == planned and {o.result for o in report.outcomes} == {"sent"}
    finally:
        engine.dispose()


# ── one waiting request holds no other unit up ───────────────────────────────────────────────────────────────────


@ONE_PLAN
def test_a_request_waiting_on_the_database_does_not_stall_other_units(world: World) -> None:
    """A unit's write waits for the lock; meanwhile another unit's page is served. Before, the handlers did their
    database work on the one event loop: the page waited for the write, which waited for the lock, which is given
    back here only after the page came — so the write ran out its bound first."""
    with app_on(world, attempt_ms=300, wait=30) as (_, app), socket_port() as port, served(app, port):
        base = f"http://127.0.0.1:{port}"
        town, other = (httpx.Client(base_url=base) for _ in range(2))
        for c, holder in ((town, world.case.town), (other, world.case.other_town)):
            assert c.get(f"/l/{world.token(holder)}").status_code == 200
        page = town.get("/u").text
        csrf = re.search(r'name="csrf" value="([^"]+)"', page)
        assert csrf
        result: dict[str, httpx.Response] = {}
        with lock_held(world) as holder:
            writer = threading.Thread(target=lambda: result.setdefault("ack", town.post(
                "/u/ack", data={"message": world.messages(page)[0], "csrf": csrf.group(1)}, timeout=60)))
            writer.start()
            time.sleep(0.5)  # (the write reaches the server and waits for the lock)
            r = other.get("/u", timeout=60)
            still_waiting = writer.is_alive()
            holder.give_back()
            writer.join(60)
        assert r.status_code == 200 and still_waiting, (r.status_code, still_waiting)
        assert result["ack"].status_code == 200, result["ack"].text[:300]


# ── PostgreSQL goes away and comes back ──────────────────────────────────────────────────────────────────────────


class Cuttable:
    """A TCP forwarder to the database that can be cut (every connection reset, new ones refused) and mended on the
    same port: a PostgreSQL restart as the app sees it."""

    def __init__(self, host: str, port: int) -> None:
        self.target = (host, port)
        self.conns: list[socket.socket] = []
        self.lock = threading.Lock()
        self.listener: socket.socket | None = None
        with socket.socket() as s:
            s.bind(("127.0.0.1", 0))
            self.port = int(s.getsockname()[1])
        self.mend()

    def mend(self) -> None:
        ls = socket.socket()
        ls.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        ls.bind(("127.0.0.1", self.port))
        ls.listen(64)
        self.listener = ls
        threading.Thread(target=self._accept, args=(ls,), daemon=True).start()

    def cut(self) -> None:
        assert self.listener is not None
        with suppress(OSError):
            self.listener.shutdown(socket.SHUT_RDWR)
        self.listener.close()
        with self.lock:
            for c in self.conns:
                with suppress(OSError):
                    c.shutdown(socket.SHUT_RDWR)
                c.close()
            self.conns.clear()

    def _accept(self, ls: socket.socket) -> None:
        while True:
            try:
                client, _ = ls.accept()
            except OSError:
                return
            try:
                upstream = socket.create_connection(self.target)
            except OSError:
                client.close()
                continue
            with self.lock:
                self.conns += [client, upstream]
            for a, b in ((client, upstream), (upstream, client)):
                threading.Thread(target=self._pump, args=(a, b), daemon=True).start()

    @staticmethod
    def _pump(a: socket.socket, b: socket.socket) -> None:
        with suppress(OSError):
            while data := a.recv(65536):
                b.sendall(data)
        for s in (a, b):
            with suppress(OSError):
                s.shutdown(socket.SHUT_RDWR)


@pytest.mark.skipif(not dbs.ON_PG, reason="an outage needs a database server to lose (SQLite is a file)")
@ONE_PLAN
def test_a_postgresql_outage_is_a_chinese_503_and_valid_links_stay_valid(world: World) -> None:
    """Before: English `500 Internal Server Error` with tracebacks, and towns with valid links told 链接无效."""
    real = make_url(world.url)
    proxy = Cuttable(real.host or "127.0.0.1", real.port or 5432)
    via = real.set(host="127.0.0.1", port=proxy.port).render_as_string(hide_password=False)
    with app_on(world, via, attempt_ms=500, wait=1) as (_, app):
        s = enter(app, world, world.case.town)
        before = world.counts()
        proxy.cut()
        fresh = TestClient(app, base_url=BASE, raise_server_exceptions=False)
        down = [fresh.get(f"/l/{world.token(world.case.town)}") for _ in range(25)]  # (more than the failed-link limit)
        posted, page = ack(world, s), s.client.get("/u")
        for r in [*down, posted, page]:
            assert r.status_code == 503, (r.status_code, said(r))
            assert BUSY in said(r) and NOTHING in said(r) and "无效" not in r.text
        proxy.mend()
        assert fresh.get(f"/l/{world.token(world.case.town)}").status_code == 200  # no lock-out, no 链接无效
        assert world.counts() == before  # the POST during the outage wrote nothing
        r = ack(world, s)  # the pool's broken connections are replaced (pre-ping), the session still good
        assert r.status_code == 200, (r.status_code, said(r))
        assert world.counts()["ack"] > before["ack"]
    proxy.cut()


# ── several worker processes ─────────────────────────────────────────────────────────────────────────────────────


@ONE_PLAN
def test_fuquan_web_serves_from_several_worker_processes(world: World, tmp_path: Path) -> None:
    env = {**os.environ, "FUQUAN_DATABASE_URL": world.url, "FUQUAN_DATA_DIR": str(world.data),
           "FUQUAN_LINK_SECRET": SECRET}
    with socket_port() as port:
        proc = subprocess.Popen([str(ROOT / ".venv/bin/fuquan"), "web", "--port", str(port), "--workers", "2"],
                                env=env, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True,
                                start_new_session=True)
    try:
        base, codes = f"http://127.0.0.1:{port}", []
        for _ in range(600):  # (until it answers, or it exited)
            with suppress(httpx.HTTPError):
                if httpx.get(base + "/", timeout=2).status_code == 200:
                    break
            assert proc.poll() is None, proc.communicate()[0]
            time.sleep(0.1)
        # (the server reads the system clock: the link is made at that time, not at the world's injected one)
        link = unit_links.personal_link(world.ctx, world.case.town, datetime.now(UTC)).rsplit("/l/", 1)[1]
        for _ in range(8):
            with httpx.Client(base_url=base) as c:
                try:
                    codes.append(c.get(f"/l/{link}").status_code)
                    codes.append(c.get("/u").status_code)
                except httpx.HTTPError as e:
                    os.killpg(proc.pid, signal.SIGKILL)
                    raise AssertionError(proc.communicate()[0][-3000:]) from e
        children = Path(f"/proc/{proc.pid}/task/{proc.pid}/children").read_text().split()
        workers = [p for p in children if "spawn_main" in _cmdline(p)]  # (not the resource tracker)
        assert codes == [200] * 16 and len(workers) >= 2, (codes, [_cmdline(p) for p in children])
    finally:
        os.killpg(proc.pid, signal.SIGINT)
        try:
            out = proc.communicate(timeout=20)[0]
        except subprocess.TimeoutExpired:
            os.killpg(proc.pid, signal.SIGKILL)
            out = proc.communicate()[0]
    assert "Traceback" not in out, out[-2000:]


def _cmdline(pid: str) -> str:
    try:
        return Path(f"/proc/{pid}/cmdline").read_bytes().replace(b"\0", b" ").decode(errors="replace")
    except OSError:
        return ""


# ── a restore without the evidence folder ────────────────────────────────────────────────────────────────────────


@ONE_PLAN
def test_an_evidence_file_missing_on_disk_is_a_chinese_page_not_a_500(world: World) -> None:
    """Restoring the database without data/evidence gave a 500 and a traceback on every download."""
    seeded = world.seed(world.case.town)
    (sha,) = dbs.rows(world.url, "SELECT sha256 FROM evidence WHERE id = :e", e=seeded["evidence"])[0]
    (world.data / "evidence" / sha[:2] / sha).unlink()
    for holder in (world.case.town, "专班"):
        r = world.enter(holder).client.get(f"/files/{seeded['evidence']}")
        assert r.status_code == 404 and "不在服务器上" in said(r) and "工作专班" in said(r), (r.status_code, said(r))
        assert r.headers["x-frame-options"] == "DENY"
