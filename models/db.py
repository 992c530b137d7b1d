"""Engine and sessions, built from settings by a function (never at import time).

SQLite (the default) gets WAL, a busy timeout and `BEGIN IMMEDIATE`: measured here, read-then-write
transactions from several processes fail at once with "database is locked" even in WAL unless the
write lock is taken at BEGIN.

PostgreSQL gets the same guarantee differently: every write transaction first takes one transaction-
level advisory lock, so writers queue as they do on SQLite (they are short: the sends happen outside
them), and `lock_timeout` turns a wait that is too long into the same clear error. Reads never wait.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

from sqlalchemy import event, text
from sqlalchemy.engine import Engine, make_url
from sqlalchemy.exc import ArgumentError, DatabaseError, OperationalError
from sqlmodel import Session, create_engine

from fuquan.errors import StorageError

from . import answers, items, outbox, snapshots, tables  # noqa: F401  (registers the tables on SQLModel.metadata)
from .migrate import ensure_schema

LOCKED = "数据库正被其他进程写入, 等待超时; 请稍后重试 (未写入任何内容)"
WRITE_LOCK = 0x6675_7177  # "fuqw": the advisory lock every PostgreSQL write transaction takes


SUPPORTED = "sqlite:///路径/fuquan.db 或 postgresql://用户:密码@主机:端口/库名"


def make_engine(url: str, *, busy_timeout_ms: int = 5000) -> Engine:
    """The engine for `url` (usecases.settings: FUQUAN_DATABASE_URL, else an SQLite file in the data folder),
    with the schema brought up to date."""
    url = _normalised(url)
    if url.startswith("sqlite"):
        engine = create_engine(url, connect_args={"timeout": busy_timeout_ms / 1000})
        _sqlite_pragmas(engine, busy_timeout_ms)
    else:
        engine = create_engine(url, pool_pre_ping=True,
                               connect_args={"options": f"-c lock_timeout={busy_timeout_ms}", "connect_timeout": 10})
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
        read_only = conn.get_execution_options().get("fuquan_read_only", False)
        conn.exec_driver_sql("BEGIN" if read_only else "BEGIN IMMEDIATE")


def _safe(url: str) -> str:
    """The URL without its password, for messages."""
    return make_url(url).render_as_string(hide_password=True)


def _damaged(e: DatabaseError) -> bool:
    msg = str(e.orig)
    return "file is not a database" in msg or "database disk image is malformed" in msg


def _storage_error(e: DatabaseError, what: str) -> StorageError:
    """A waited-too-long lock (SQLite busy, PostgreSQL lock_timeout) is LOCKED; a damaged SQLite file says
    which file and how to get the data back; anything else is `what` and the driver's first line (its later
    lines repeat the query)."""
    msg = str(e.orig).strip()
    if _damaged(e):
        return StorageError(f"{what}: 这个文件已损坏或不是 SQLite 数据库 ({msg.splitlines()[0]}); 请从备份恢复 (升级前的备份在同一"
                            "文件夹, 名为 fuquan.db.before-<版本>.bak), 或用 FUQUAN_DATABASE_URL 指向正确的文件; 未写入任何内容")
    if "locked" in msg or "lock timeout" in msg:
        return StorageError(LOCKED)
    return StorageError(f"{what} ({msg.splitlines()[0] if msg else type(e.orig).__name__})")


@contextmanager
def transaction(engine: Engine) -> Iterator[Session]:
    """One short write transaction: committed on success, rolled back on any error."""
    with Session(engine, expire_on_commit=False) as session:
        try:
            with session.begin():
                if engine.dialect.name == "postgresql":
                    session.connection().execute(text("SELECT pg_advisory_xact_lock(:k)"), {"k": WRITE_LOCK})
                yield session
        except OperationalError as e:
            raise _storage_error(e, "数据库错误") from e
        except DatabaseError as e:
            if _damaged(e):  # (an IntegrityError is a DatabaseError too: callers handle those themselves)
                raise _storage_error(e, "数据库错误") from e
            raise


@contextmanager
def reading(engine: Engine) -> Iterator[Session]:
    """A session that only reads: on SQLite it does not take the write lock."""
    with Session(engine.execution_options(fuquan_read_only=True), expire_on_commit=False) as session:
        yield session
