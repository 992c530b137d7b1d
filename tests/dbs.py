"""Which database the suite runs on.

SQLite files by default; PostgreSQL when FUQUAN_TEST_POSTGRES holds an admin URL (`make test`, i.e.
scripts/test.sh, starts a private server with scripts/pg.sh and sets it for its PostgreSQL pass). Either way every test gets a database of
its own: a file under tmp_path, or a fresh PostgreSQL database dropped at the end of the session.
"""

from __future__ import annotations

import hashlib
import os
import uuid
from pathlib import Path
from typing import Any

from sqlalchemy import create_engine, inspect, text
from sqlalchemy.engine import Engine, make_url
from sqlalchemy.pool import NullPool

PG_ADMIN = os.environ.get("FUQUAN_TEST_POSTGRES", "")
ON_PG = bool(PG_ADMIN)
BACKEND = "postgresql" if ON_PG else "sqlite"
_created: list[str] = []
_admin: Engine | None = None
# Every database a session makes is named after its process: one that was interrupted (Ctrl-C, a killed CI job)
# leaves its databases behind, and the next session drops those whose process is gone — never another live
# session's (two may share the private server: a developer's run and CI's clone).
PREFIX = f"t{os.getpid()}_"


def _admin_engine() -> Engine:
    global _admin
    if _admin is None:
        _admin = create_engine(PG_ADMIN, isolation_level="AUTOCOMMIT")
        with _admin.connect() as conn:
            for (name,) in conn.execute(text("SELECT datname FROM pg_database WHERE datname ~ '^t[0-9]+_'")).all():
                if not Path(f"/proc/{name[1:name.index('_')]}").exists():
                    conn.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
    return _admin


def fresh_url(tmp_path: Path, name: str = "db", *, empty: bool = False) -> str:
    """A new database for one test. On SQLite a new file (fuquan builds it from the migrations when it
    opens it). On PostgreSQL a copy of a database built that way once per session (quicker than migrating
    one per test: the PostgreSQL pass runs some 300 tests); `empty=True` gives a database with nothing in it at all."""
    if not ON_PG:
        return f"sqlite:///{tmp_path / f'{name}.sqlite'}"
    template = "template0" if empty else _migrated_template()
    return _create(f"{PREFIX}{name}_{uuid.uuid4().hex[:10]}".lower(), template)


def _create(dbname: str, template: str) -> str:
    with _admin_engine().connect() as conn:
        conn.execute(text(f'CREATE DATABASE "{dbname}" TEMPLATE "{template}"'))
    _created.append(dbname)
    return make_url(PG_ADMIN).set(database=dbname).render_as_string(hide_password=False)


_template: list[str] = []


def _migrated_template() -> str:
    if not _template:
        from models.db import make_engine

        url = _create(f"{PREFIX}template_{uuid.uuid4().hex[:10]}", "template0")
        make_engine(url).dispose()  # (PostgreSQL copies a database only while nobody is connected to it)
        _template.append(make_url(url).database or "")
    return _template[0]


def copy_of(url: str, tmp_path: Path) -> str:
    """A copy of the database behind `url` (nobody may be connected to it on PostgreSQL)."""
    if not ON_PG:
        import sqlite3

        target = tmp_path / "copy.sqlite"
        with sqlite3.connect(sqlite_path(url)) as src, sqlite3.connect(target) as dst:
            src.backup(dst)  # WAL included
        return f"sqlite:///{target}"
    source = make_url(url).database
    dbname = f"{PREFIX}copy_{uuid.uuid4().hex[:10]}"
    with _admin_engine().connect() as conn:
        conn.execute(text(f'CREATE DATABASE "{dbname}" TEMPLATE "{source}"'))
    _created.append(dbname)
    return make_url(url).set(database=dbname).render_as_string(hide_password=False)


def drop_all() -> None:
    for engine in _engines.values():
        engine.dispose()
    _engines.clear()
    if not _created:
        return
    with _admin_engine().connect() as conn:
        for dbname in _created:
            conn.execute(text(f'DROP DATABASE IF EXISTS "{dbname}" WITH (FORCE)'))
    _created.clear()


def sqlite_path(url: str) -> Path:
    return Path(url.removeprefix("sqlite:///"))


_engines: dict[str, Engine] = {}


def _engine(url: str) -> Engine:
    """One engine per database for the suite's own reads. NullPool: no connection stays open between
    reads (an idle SQLite reader would change when fuquan's WAL is checkpointed, and so the file's bytes)."""
    if url not in _engines:
        _engines[url] = create_engine(url, poolclass=NullPool)
    return _engines[url]


def rows(url: str, sql: str, **params: Any) -> list[tuple[Any, ...]]:
    """Read the database behind `url` directly, as a second opinion next to fuquan's own reads."""
    with _engine(url).connect() as conn:
        return [tuple(r) for r in conn.execute(text(sql), params)]


def execute(url: str, sql: str, **params: Any) -> None:
    """Change the database behind fuquan's back, as an old version or a hand edit could have."""
    with _engine(url).begin() as conn:
        conn.execute(text(sql), params)


def fingerprint(url: str) -> str:
    """What "the database is byte-identical" means: on SQLite the file's bytes (it may not exist yet); on
    PostgreSQL, which has no single file, its content()."""
    if url.startswith("sqlite"):
        path = sqlite_path(url)
        return hashlib.sha256(path.read_bytes()).hexdigest() if path.exists() else "absent"
    return content(url)


def content(url: str) -> str:
    """Every table's columns and every row, in a stable order, hashed."""
    if url.startswith("postgresql"):
        return _pg_content(url)
    digest = hashlib.sha256()
    with _engine(url).connect() as conn:
        insp = inspect(conn)
        for table in sorted(insp.get_table_names()):
            cols = [c["name"] for c in insp.get_columns(table)]
            digest.update(f"{table}:{cols}".encode())
            order = ", ".join(f'"{c}"' for c in cols)
            for r in conn.execute(text(f'SELECT * FROM "{table}" ORDER BY {order}')):
                digest.update(repr(tuple(r)).encode())
    return digest.hexdigest()


def adopt(dbname: str) -> None:
    """A database a test had something else create: dropped at the end of the session like ours."""
    _created.append(dbname)


def _pg_content(url: str) -> str:
    """content() in two round trips: the server hashes each table's rows (as text, sorted)."""
    with _engine(url).connect() as conn:
        tables = [r[0] for r in conn.execute(text(
            "SELECT table_name FROM information_schema.tables WHERE table_schema = 'public' ORDER BY 1"))]
        columns = conn.execute(text("SELECT string_agg(table_name || '.' || column_name || ':' || data_type, ',' "
                                    "ORDER BY table_name, ordinal_position) FROM information_schema.columns "
                                    "WHERE table_schema = 'public'")).scalar()
        hashes = conn.execute(text(" UNION ALL ".join(
            f"SELECT '{t}', md5(coalesce(string_agg(r::text, '|' ORDER BY r::text), '')) FROM \"{t}\" r"
            for t in tables))).all() if tables else []
    return hashlib.sha256(repr((columns, sorted(hashes))).encode()).hexdigest()
