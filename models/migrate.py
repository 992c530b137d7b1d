"""Bring a database to the schema this code expects, with Alembic (models/migrations), when it is opened.

- an empty database is built by running every migration from 0001 (so the chain is exercised always);
- a database made by fuquan 0.1.0 (tables, no `alembic_version`) is stamped 0001, then upgraded;
- a database already at HEAD costs one small query.

The check and the upgrade happen in one write transaction (SQLite: BEGIN IMMEDIATE; PostgreSQL: an
advisory lock), so two processes opening an old database at once migrate it once. An SQLite file that holds
data is copied beside itself (`fuquan.db.before-0002.bak`) before its schema changes.
"""

from __future__ import annotations

import sqlite3
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import TYPE_CHECKING

from sqlalchemy import inspect, text
from sqlalchemy.engine import Connection, Engine

if TYPE_CHECKING:
    from alembic.config import Config

FIRST = "0001"
HEAD = "0013"  # tests/models/test_migrations.py checks this is the scripts' head
SCRIPTS = Path(__file__).parent / "migrations"
MIGRATION_LOCK = 0x6675_7175  # "fuqu": the advisory lock key for migrations on PostgreSQL


def current(conn: Connection) -> str | None:
    if not inspect(conn).has_table("alembic_version"):
        return None
    return conn.execute(text("SELECT version_num FROM alembic_version")).scalar()


def ensure_schema(engine: Engine) -> None:
    with engine.connect() as conn:
        if current(conn) == HEAD:
            return
    upgrade(engine)


def config(conn: Connection | None = None) -> Config:
    """Alembic's configuration for our scripts, running on `conn` (imported only when needed: the read
    path stays light)."""
    from alembic.config import Config

    cfg = Config()
    cfg.set_main_option("script_location", str(SCRIPTS))
    if conn is not None:
        cfg.attributes["connection"] = conn
    return cfg


def ours(obj: object, name: str | None, type_: str, reflected: bool, compare_to: object) -> bool:
    """Alembic's include_object: the same database may hold other tables (APScheduler's job store);
    only ours are compared with the models."""
    from sqlmodel import SQLModel

    return not (type_ == "table" and reflected and name not in SQLModel.metadata.tables)


@contextmanager
def migrating(engine: Engine) -> Iterator[Connection]:
    """One transaction for schema changes, under the migration lock. On SQLite, batch mode rebuilds a table
    (copy, drop, rename) while other tables' foreign keys point at it: SQLite's own procedure for that turns
    the checks off outside the transaction and runs foreign_key_check before the commit."""
    with engine.connect() as conn:
        sqlite = conn.dialect.name == "sqlite"
        raw = conn.connection.dbapi_connection
        if sqlite and raw is not None:
            raw.execute("PRAGMA foreign_keys=OFF")
        try:
            with conn.begin():
                if not sqlite:
                    conn.execute(text("SELECT pg_advisory_xact_lock(:k)"), {"k": MIGRATION_LOCK})
                yield conn
                if sqlite and (broken := conn.exec_driver_sql("PRAGMA foreign_key_check").fetchall()):
                    raise RuntimeError(f"schema change broke foreign keys: {broken[:5]}")
        finally:
            if sqlite and raw is not None:
                raw.execute("PRAGMA foreign_keys=ON")


def upgrade(engine: Engine, target: str = "head") -> None:
    from alembic import command

    with migrating(engine) as conn:
        cfg = config(conn)
        was = current(conn)
        if was is None and inspect(conn).has_table("plan"):
            was = FIRST
            command.stamp(cfg, FIRST)
        if was is not None and conn.dialect.name == "sqlite":
            _keep_a_copy(conn)
        command.upgrade(cfg, target)


def downgrade(engine: Engine, target: str) -> None:
    from alembic import command

    with migrating(engine) as conn:
        command.downgrade(config(conn), target)


def _keep_a_copy(conn: Connection) -> None:
    """The file as it was, before its schema changes: a regretted upgrade is then a file copy away. (We hold
    the write lock; a second connection may still read.) PostgreSQL sites have their own backups."""
    path = conn.engine.url.database
    if not path or path == ":memory:":
        return
    target = Path(f"{path}.before-{HEAD}.bak")
    if target.exists():
        return
    src, dst = sqlite3.connect(path), sqlite3.connect(target)
    try:
        src.backup(dst)
    finally:
        src.close()
        dst.close()
