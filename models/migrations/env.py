"""Alembic environment. fuquan runs migrations itself when it opens a database (models.migrate), passing
its own connection; `alembic -x url=sqlite:////tmp/x.db …` from the project root (for writing a new revision)
names the database on the command line. Nothing here reads the environment or imports the runs."""

from __future__ import annotations

from alembic import context
from sqlalchemy import create_engine
from sqlalchemy.engine import Connection
from sqlmodel import SQLModel

from models import answers, items, outbox, reach, snapshots, tables  # noqa: F401  (registers the tables)
from models.migrate import ours


def _run(connection: Connection) -> None:
    # render_as_batch: SQLite cannot ALTER most things, so column changes copy the table.
    context.configure(connection=connection, target_metadata=SQLModel.metadata, render_as_batch=True,
                      compare_type=True, include_object=ours)
    with context.begin_transaction():
        context.run_migrations()


if context.is_offline_mode():
    raise SystemExit("fuquan 的迁移只能在线运行 (offline SQL generation is not supported)")
given = context.config.attributes.get("connection")
if given is not None:
    _run(given)
else:
    url = context.get_x_argument(as_dictionary=True).get("url")  # a developer's `alembic -x url=…` command line
    if not url:
        raise SystemExit("请用 -x url=数据库地址 指明数据库, 如 alembic -x url=sqlite:////tmp/x.db upgrade head")
    with create_engine(url).begin() as conn:
        _run(conn)
