"""Engine and sessions, built from settings by a function (never at import time).

SQLite (the default) gets WAL, a busy timeout and `BEGIN IMMEDIATE`: measured here, read-then-write
transactions from several processes fail at once with "database is locked" even in WAL unless the
write lock is taken at BEGIN.

PostgreSQL gets the same guarantee differently, per plan: a write transaction first takes its plan's
transaction-level advisory lock, so one plan's writers queue as they do on SQLite (they are short: the sends
happen outside them) while other plans' writers go on. Reads never wait. Writes that touch only what they name
are narrower: they take the plan's lock shared and their lanes' (`lanes`) — a unit's answer the share it answers,
an import's chunk the tasks it records, the reminder run's queuing its recipients' reminders — so they go on
together and still wait for any plan-wide write (a sync, the reminder run's claim and chase, the 专班's decisions,
the year closed). Measured under the mixed load: 1,500 answers at ~27 ms each (a round trip a statement) queued
behind one another on the plan's lock, p95 32 s.

Waiting is bounded twice. One attempt waits `busy_timeout_ms` for the lock (SQLite's busy timeout, PostgreSQL's
lock_timeout); a transaction that did not get it tries again, with a short random pause, until `wait_seconds`
have passed (FUQUAN_WRITE_WAIT_SECONDS; the web app's is shorter, a unit should hear "busy" rather than wait
minutes). Only taking the lock is retried: it happens before the transaction's body runs, so nothing is done
twice. Measured under the mixed load (bench/mixed.py): with one 5 s attempt the daily reminder run gave up
while 1,500 towns answered and an import ran; SQLite's busy handler is not a queue, so a writer can lose
every race for 5 s.

A database that cannot be reached (PostgreSQL restarting, a full disk) is `Unavailable`, which the web app
answers with its 503 page: "busy, nothing was written".
"""

from __future__ import annotations

import hashlib
import random
import threading
import time
from collections.abc import Iterable, Iterator
from contextlib import contextmanager
from typing import Any

from sqlalchemy import event, text
from sqlalchemy.engine import Engine, make_url
from sqlalchemy.exc import ArgumentError, DatabaseError, OperationalError
from sqlmodel import Session, create_engine

from fuquan.errors import StorageError, Unavailable

from . import answers, items, outbox, reach, snapshots, tables  # noqa: F401  (registers the tables on SQLModel.metadata)
from .migrate import ensure_schema

LOCKED = "数据库正被其他进程写入, 等待 {seconds} 秒仍未轮到; 请稍后重试 (未写入任何内容)"
DOWN = "数据库暂时无法连接 ({why}); 请稍后重试 (未写入任何内容)"
WRITE_LOCK = 0x6675_7177  # "fuqw": the class of PostgreSQL's per-plan advisory locks (the plan's id is the key)
INSTALLATION = 0  # the key of writes that belong to no plan yet (a plan's first sync, one-time tokens)


SUPPORTED = "sqlite:///路径/fuquan.db 或 postgresql://用户:密码@主机:端口/库名"


def make_engine(url: str, *, busy_timeout_ms: int = 5000, wait_seconds: float = 0.0, pool_size: int = 5) -> Engine:
    """The engine for `url` (usecases.settings: FUQUAN_DATABASE_URL, else an SQLite file in the data folder),
    with the schema brought up to date. A write transaction waits for its lock up to `wait_seconds` in all
    (at least one attempt of `busy_timeout_ms`); `pool_size` connections are kept (the web app's threads)."""
    url = _normalised(url)
    pool = {"pool_size": pool_size, "max_overflow": pool_size, "pool_timeout": 30}
    if url.startswith("sqlite"):
        engine = create_engine(url, connect_args={"timeout": busy_timeout_ms / 1000}, **pool)
        _sqlite_pragmas(engine, busy_timeout_ms)
    else:
        # pre-ping: a connection a PostgreSQL restart broke is replaced, not handed to a request
        engine = create_engine(url, pool_pre_ping=True, **pool,
                               connect_args={"options": f"-c lock_timeout={busy_timeout_ms}", "connect_timeout": 10})
    engine.update_execution_options(fuquan_wait=max(wait_seconds, busy_timeout_ms / 1000 if url.startswith("sqlite")
                                                    else 0.0))
    try:
        ensure_schema(engine)
    except DatabaseError as e:
        raise _storage_error(e, f"无法打开数据库: {_safe(url)}") from e
    return engine


def _normalised(url: str) -> str:
    """The URL with the driver fuquan installs (psycopg 3 for PostgreSQL, whatever the URL names), or a
    clear error for anything else: SQLAlchemy would otherwise fail deep inside with a traceback."""
    try:
        parsed = make_url(url)
    except ArgumentError as e:
        raise StorageError(f"数据库地址 (FUQUAN_DATABASE_URL) 格式不对; 应为 {SUPPORTED}") from e
    backend = parsed.get_backend_name()
    if backend == "sqlite":
        return url
    if backend in ("postgresql", "postgres"):
        return parsed.set(drivername="postgresql+psycopg").render_as_string(hide_password=False)
    raise StorageError(f"不支持的数据库 “{backend}”: {_safe(url)}; 应为 {SUPPORTED}")


def _sqlite_pragmas(engine: Engine, busy_timeout_ms: int) -> None:
    @event.listens_for(engine, "connect")
    def _connect(dbapi_conn: Any, _record: Any) -> None:
        dbapi_conn.isolation_level = None  # we issue BEGIN ourselves, below
        cur = dbapi_conn.cursor()
        cur.execute("PRAGMA journal_mode=WAL")
        cur.execute(f"PRAGMA busy_timeout={busy_timeout_ms}")
        cur.execute("PRAGMA foreign_keys=ON")
        cur.close()

    @event.listens_for(engine, "begin")
    def _begin(conn: Any) -> None:
        # writers take the write lock at once (a read-then-write transaction would otherwise fail at its first
        # write); readers do not, or a long-lived reader (the web app) would hold every writer off
        if conn.get_execution_options().get("fuquan_read_only", False):
            conn.exec_driver_sql("BEGIN")
            return
        # One attempt waits POLL_MS: SQLite's busy handler sleeps up to 100 ms between its tries, so a writer that
        # leaves the busy timeout to it wakes too late for the gaps between another process's transactions (the
        # reminder run's sends, one short transaction each, kept units' answers waiting seconds). `_begin` below
        # tries again every few milliseconds, up to the same bound.
        # (only for `_begin`'s attempts: anything else beginning a write — a migration — keeps the full timeout)
        if not getattr(_POLLING, "on", False):
            conn.exec_driver_sql("BEGIN IMMEDIATE")
            return
        conn.exec_driver_sql(f"PRAGMA busy_timeout={POLL_MS}")
        try:
            conn.exec_driver_sql("BEGIN IMMEDIATE")
        finally:
            conn.exec_driver_sql(f"PRAGMA busy_timeout={busy_timeout_ms}")


def _safe(url: str) -> str:
    """The URL without its password, for messages."""
    return make_url(url).render_as_string(hide_password=True)


def _damaged(e: DatabaseError) -> bool:
    msg = str(e.orig)
    return "file is not a database" in msg or "database disk image is malformed" in msg


def _locked(e: DatabaseError) -> bool:
    msg = str(e.orig)
    return "locked" in msg or "lock timeout" in msg


def _down(e: DatabaseError) -> bool:
    """A database that did not answer: refused, reset or restarting, not a bad query."""
    if not isinstance(e, OperationalError) or _locked(e):
        return False
    msg = str(e.orig).lower()
    return e.connection_invalidated or any(w in msg for w in (
        "connection", "server closed", "terminating", "shutting down", "starting up", "recovery mode",
        "could not connect", "disk i/o error", "database or disk is full"))


def _storage_error(e: DatabaseError, what: str, waited: float = 0.0) -> StorageError:
    """A waited-too-long lock (SQLite busy, PostgreSQL lock_timeout) is LOCKED; a database that does not answer is
    Unavailable; a damaged SQLite file says which file and how to get the data back; anything else is `what` and
    the driver's first line (its later lines repeat the query)."""
    msg = str(e.orig).strip()
    if _damaged(e):
        return StorageError(f"{what}: 这个文件已损坏或不是 SQLite 数据库 ({msg.splitlines()[0]}); 请从备份恢复 (升级前的备份在同一"
                            "文件夹, 名为 fuquan.db.before-<版本>.bak), 或用 FUQUAN_DATABASE_URL 指向正确的文件; 未写入任何内容")
    if _locked(e):
        return Unavailable(LOCKED.format(seconds=max(1, round(waited))))
    first = msg.splitlines()[0] if msg else type(e.orig).__name__
    if _down(e):
        return Unavailable(f"{what}: " + DOWN.format(why=first[:160]) if what.startswith("无法打开") else DOWN.format(why=first[:160]))
    return StorageError(f"{what} ({first})")


@contextmanager
def transaction(engine: Engine, *, plan: int | None = None,
                lanes: Iterable[tuple[int, ...]] | None = None) -> Iterator[Session]:
    """One short write transaction for plan `plan` (None: a write that belongs to no plan yet): committed on
    success, rolled back on any error. Its lock is waited for within the engine's bound (module docstring).
    `lanes` (PostgreSQL): the plan's lock is taken shared, and the lanes' (`_lock_lanes`) — for writes that touch
    only what they name (StoredPlan.lane); () for a write to rows no one else writes (a claimed message's outcome)."""
    with Session(engine, expire_on_commit=False) as session:
        try:
            _begin(session, engine, plan, None if lanes is None else sorted(set(lanes)))
            try:
                yield session
            except BaseException:
                session.rollback()
                raise
            session.commit()
        except OperationalError as e:
            raise _storage_error(e, "数据库错误") from e
        except DatabaseError as e:
            if _damaged(e):  # (an IntegrityError is a DatabaseError too: callers handle those themselves)
                raise _storage_error(e, "数据库错误") from e
            raise


def _begin(session: Session, engine: Engine, plan: int | None, lanes: list[tuple[int, ...]] | None) -> None:
    """Begin and take the write lock (SQLite: BEGIN IMMEDIATE; PostgreSQL: the plan's advisory lock), trying
    again after a lock timeout until the engine's wait bound has passed."""
    start = time.monotonic()
    bound = float(engine.get_execution_options().get("fuquan_wait", 0.0))
    while True:
        try:
            _POLLING.on = True
            try:
                session.begin()
                if lanes is not None and plan is not None and not whole_file_lock(engine):
                    _lock_lanes(session, plan, lanes)
                else:
                    lock_plan(session, INSTALLATION if plan is None else plan)
            finally:
                _POLLING.on = False
            return
        except OperationalError as e:
            session.rollback()
            waited = time.monotonic() - start
            if not _locked(e) or waited >= bound:
                raise _storage_error(e, "数据库错误", waited) from e
            # (jittered: the writers that timed out together do not retry together; SQLite's attempts are short)
            time.sleep(random.uniform(0.001, 0.006) if whole_file_lock(engine) else random.uniform(0.05, 0.5))


POLL_MS = 20  # one SQLite attempt at the write lock (its busy handler: sleeps of 1, 2, 5, 10 ms)
_POLLING = threading.local()  # set while `_begin` makes its attempts (the engine's begin event reads it)
GAP_SECONDS = 0.05  # a few of a waiting writer's attempts (POLL_MS each): it gets the lock in the gap


def make_way(engine: Engine) -> None:
    """Between the transactions of long work (an import's chunks, the reminder run's batches), a moment in which a
    waiting writer gets SQLite's lock: it is not a queue, and its waiters poll, so a process that begins its next
    transaction at once keeps the lock in effect (measured: units' answers waited up to 20 s behind an import and
    the reminder run). PostgreSQL's locks are queues: nothing to wait for there."""
    if whole_file_lock(engine):
        time.sleep(GAP_SECONDS)


def lock_plan(session: Session, plan: int) -> None:
    """Take plan `plan`'s write lock within the session's transaction (PostgreSQL; on SQLite the transaction
    already holds the file's). A sync takes it once it knows which plan it writes."""
    if session.get_bind().dialect.name == "postgresql":
        session.connection().execute(text("SELECT pg_advisory_xact_lock(:c, :k)"), {"c": WRITE_LOCK, "k": plan})
    else:
        session.connection()  # (BEGIN IMMEDIATE: the engine's begin event)


def _lock_lanes(session: Session, plan: int, lanes: list[tuple[int, ...]]) -> None:
    """The plan's lock shared, then the lanes' locks, in one round trip. A lane is a task (its lock exclusive) or a
    task's share (the task's lock shared, the share's exclusive), so a write to a whole task (an import's chunk)
    waits for the answers to its shares and they for it, while other tasks go on. Always plan, tasks, shares, each
    sorted: no two writers wait for each other in a circle (a plan-wide writer takes no lane)."""
    whole = {lane[0] for lane in lanes if len(lane) == 1}
    tasks = sorted({lane[0] for lane in lanes})
    shares = sorted(lane for lane in lanes if len(lane) > 1 and lane[0] not in whole)
    keys, takes = {"c": WRITE_LOCK, "k": plan}, ["pg_advisory_xact_lock_shared(:c, :k)"]
    for i, task in enumerate(tasks):
        keys[f"t{i}"] = lane_key(plan, (task,))
        takes.append(f"pg_advisory_xact_lock{'' if task in whole else '_shared'}(:t{i})")
    for i, share in enumerate(shares):
        keys[f"s{i}"] = lane_key(plan, share)
        takes.append(f"pg_advisory_xact_lock(:s{i})")
    # (a SELECT list is evaluated left to right: each lock is held before the next is asked for)
    session.connection().execute(text(f"SELECT {', '.join(takes)}"), keys)


def whole_file_lock(engine: Engine) -> bool:
    """Whether every write of the installation waits for every other (SQLite: one writer for the file), not only
    for the writes to the same lanes (PostgreSQL): what a write may read before its lock rather than under it."""
    return engine.dialect.name == "sqlite"


def lane_key(plan: int, lane: tuple[int, ...]) -> int:
    """A lane's advisory key: one signed 64-bit number from the plan and the lane (PostgreSQL keeps one-number keys
    apart from the two-number plan keys). Two lanes that share a key only wait for each other, never mix."""
    digest = hashlib.blake2b(repr((plan, *lane)).encode(), digest_size=8).digest()
    return int.from_bytes(digest, "big", signed=True)


@contextmanager
def reading(engine: Engine, *, glance: bool = False) -> Iterator[Session]:
    """A session that only reads: on SQLite it does not take the write lock. A database that cannot be reached is
    Unavailable. `glance`: statements that need not see one moment together (each is its own) — on PostgreSQL
    then no transaction, which spares the BEGIN and the ROLLBACK: two of the five round trips of the check every
    web request makes."""
    options: dict[str, Any] = {"fuquan_read_only": True}
    if glance and engine.dialect.name == "postgresql":
        options["isolation_level"] = "AUTOCOMMIT"
    with Session(engine.execution_options(**options), expire_on_commit=False) as session:
        try:
            yield session
        except OperationalError as e:
            raise _storage_error(e, "数据库错误") from e
