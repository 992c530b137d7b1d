"""Schema migrations (Alembic): a new database is built by them and matches the models; a database that
fuquan 0.1.0 made, holding a quarter of real work, is upgraded in place and reads exactly as before.

tests/models/data/fuquan-0.1.0.sqlite was written by the 0.1.0 code itself (see data/README.md); on
PostgreSQL its rows are copied into a database built by revision 0001, which is that same schema.
"""

import json
from pathlib import Path

import pytest
from alembic.autogenerate import compare_metadata
from alembic.runtime.migration import MigrationContext
from alembic.script import ScriptDirectory
from sqlalchemy import MetaData, create_engine, inspect, select, text
from sqlmodel import SQLModel

from models import migrate
from models.db import make_engine
from tests import dbs

DATA = Path(__file__).parent / "data"
OLD = DATA / "fuquan-0.1.0.sqlite"
OLD_STATUS = json.loads((DATA / "status-0.1.0-2023-07-03.json").read_text(encoding="utf-8"))


def test_head_is_the_scripts_head() -> None:
    assert ScriptDirectory.from_config(migrate.config()).get_current_head() == migrate.HEAD


def test_a_new_database_is_built_by_the_migrations_and_matches_the_models(tmp_path: Path) -> None:
    engine = make_engine(dbs.fresh_url(tmp_path, empty=True))
    with engine.connect() as conn:
        assert migrate.current(conn) == migrate.HEAD
        ctx = MigrationContext.configure(conn, opts={"compare_type": True, "include_object": migrate.ours})
        assert compare_metadata(ctx, SQLModel.metadata) == []
    engine.dispose()


def _old_counts() -> dict[str, int]:
    old = create_engine(f"sqlite:///{OLD}")
    with old.connect() as conn:
        counts = {t: conn.execute(text(f'SELECT COUNT(*) FROM "{t}"')).scalar_one()
                  for t in inspect(conn).get_table_names()}
    old.dispose()
    return counts


def _copy_old_rows(url: str) -> None:
    """Revision 0001 into `url`, then 0.1.0's rows, table by table in dependency order."""
    engine = create_engine(url)
    migrate.upgrade(engine, migrate.FIRST)
    old = create_engine(f"sqlite:///{OLD}")
    with old.connect() as src, engine.begin() as dst:
        old_meta = MetaData()
        old_meta.reflect(src)
        new_meta = MetaData()
        new_meta.reflect(dst)
        for table in new_meta.sorted_tables:
            if table.name == "alembic_version":
                continue
            rows = [dict(r._mapping) for r in src.execute(select(old_meta.tables[table.name]))]
            if rows:
                dst.execute(table.insert(), rows)
            if "id" in table.c and dst.dialect.name == "postgresql":  # ids were given: move the sequence on
                dst.execute(text(f"SELECT setval(pg_get_serial_sequence('\"{table.name}\"', 'id'), "
                                 f"(SELECT COALESCE(MAX(id), 0) + 1 FROM \"{table.name}\"), false)"))
    old.dispose()
    engine.dispose()


def _database_as_0_1_0_left_it(tmp_path: Path, stamped: bool) -> str:
    if not stamped and not dbs.ON_PG:  # the real thing: the very file 0.1.0 wrote
        target = tmp_path / "old.sqlite"
        target.write_bytes(OLD.read_bytes())
        return f"sqlite:///{target}"
    url = dbs.fresh_url(tmp_path, "old", empty=True)
    _copy_old_rows(url)
    if not stamped:  # 0.1.0 used create_all: no version table
        engine = create_engine(url)
        with engine.begin() as conn:
            conn.execute(text("DROP TABLE alembic_version"))
        engine.dispose()
    return url


@pytest.mark.parametrize("stamped", [False, True], ids=["made-by-0.1.0", "at-revision-0001"])
def test_an_old_database_with_data_is_upgraded_and_reads_as_before(tmp_path, run, monkeypatch, stamped) -> None:  # type: ignore[no-untyped-def]
    url = _database_as_0_1_0_left_it(tmp_path, stamped)
    monkeypatch.setenv("FUQUAN_DATABASE_URL", url)
    r = run("status", "--json", "--today", "2023-07-03")  # opening it upgrades it
    assert r.code == 0, r.err
    now = json.loads(r.out)
    for task in now["tasks"]:  # added since 0.1.0 (a task's short title); everything 0.1.0 printed is unchanged
        assert task.pop("short")
    for row in now["rows"]:  # added since: where the unit's answers stand (none yet in an old database)
        assert (row.pop("review"), row.pop("extension")) == ("", "")
        row.pop("period")  # added since: what answers name the row by
    assert now == OLD_STATUS

    assert dbs.rows(url, "SELECT version_num FROM alembic_version") == [(migrate.HEAD,)]
    counts = _old_counts()
    for table, n in counts.items():
        assert dbs.rows(url, f'SELECT COUNT(*) FROM "{table}"') == [(n,)], table
    assert counts["audit"] > 50 and counts["reminder"] > 300  # the fixture is not empty
    # 0002: every earlier audit row now names the (only) plan; the new index is there
    assert dbs.rows(url, "SELECT COUNT(*) FROM audit WHERE plan_id = (SELECT id FROM plan)") == [(counts["audit"],)]
    engine = create_engine(url)
    assert "ix_message_plan_day_recipient" in {i["name"] for i in inspect(engine).get_indexes("message")}
    engine.dispose()

    # the outbox survived: what was sent on 2023-06-01 is not due again
    again = run("remind", "--today", "2023-06-01", "--now", "2023-06-01T10:00", "--dry-run")
    assert again.code == 0 and "其中 0 条尚未发送" in again.out, again.out
    # and work goes on: a new record is audited with its plan
    signed = run("letter", "sign", "区水务局", "花桥镇", "--on", "2023-07-03", "--today", "2023-07-03")
    assert signed.code == 0, signed.err
    assert dbs.rows(url, "SELECT COUNT(*) FROM audit WHERE plan_id IS NULL") == [(0,)]
    assert dbs.rows(url, "SELECT COUNT(*) FROM audit") == [(counts["audit"] + 1,)]
    if not dbs.ON_PG:  # the file as 0.1.0 left it was kept beside it
        kept = f"sqlite:///{dbs.sqlite_path(url)}.before-{migrate.HEAD}.bak"
        assert dbs.rows(kept, "SELECT COUNT(*) FROM audit") == [(counts["audit"],)]
        assert dbs.rows(kept, "SELECT name FROM pragma_table_info('audit') WHERE name = 'plan_id'") == []


def test_downgrade_to_0001_and_back_keeps_the_data(tmp_path: Path) -> None:
    url = _database_as_0_1_0_left_it(tmp_path, stamped=True)
    engine = make_engine(url)  # → head
    before = _old_counts()
    migrate.upgrade(engine, "head")  # a second upgrade is a no-op
    migrate.downgrade(engine, migrate.FIRST)
    assert dbs.rows(url, "SELECT version_num FROM alembic_version") == [(migrate.FIRST,)]
    assert "plan_id" not in {c["name"] for c in inspect(engine).get_columns("audit")}
    engine.dispose()
    engine = make_engine(url)  # → head again
    for table, n in before.items():
        assert dbs.rows(url, f'SELECT COUNT(*) FROM "{table}"') == [(n,)], table
    engine.dispose()


def test_four_processes_opening_an_old_database_at_once_migrate_it_once(tmp_path: Path) -> None:
    import subprocess
    import sys

    from tests.conftest import ROOT

    url = _database_as_0_1_0_left_it(tmp_path, stamped=False)
    code = "import sys; from models.db import make_engine; make_engine(sys.argv[1]).dispose()"
    procs = [subprocess.Popen([sys.executable, "-c", code, url], cwd=ROOT, stderr=subprocess.PIPE, text=True)
             for _ in range(4)]
    errors = [p.communicate(timeout=120)[1] for p in procs]
    assert [p.returncode for p in procs] == [0, 0, 0, 0], errors
    assert dbs.rows(url, "SELECT version_num FROM alembic_version") == [(migrate.HEAD,)]
    counts = _old_counts()
    assert dbs.rows(url, "SELECT COUNT(*) FROM audit WHERE plan_id IS NOT NULL") == [(counts["audit"],)]
    assert dbs.rows(url, "SELECT COUNT(*) FROM reminder") == [(counts["reminder"],)]


def test_an_extension_recorded_before_0008_becomes_its_one_record(tmp_path, run, monkeypatch) -> None:  # type: ignore[no-untyped-def]
    # the assignment's own extension columns (written by `task set … 申请延期` up to 0007) move into `extension`
    url = _database_as_0_1_0_left_it(tmp_path, False)
    dbs.execute(url, "UPDATE assignment SET extended_due = '2023-09-30', extension_reason = '机构调整', "
                     "extension_approved_by = '李明', status = '申请延期' WHERE task_id = (SELECT id FROM task WHERE no = 5) "
                     "AND unit_id = (SELECT id FROM unit WHERE name = '区委编办')")
    monkeypatch.setenv("FUQUAN_DATABASE_URL", url)
    r = run("status", "--json", "--today", "2023-07-03")
    assert r.code == 0, r.err
    row = next(x for x in json.loads(r.out)["rows"] if x["task"] == 5 and x["unit"] == "区委编办")
    assert row["due"] == "2023-09-30" and row["colour"] in ("绿", "黄")
    [(state, new_due, reason, by)] = dbs.rows(url, "SELECT state, new_due, reason, decided_by FROM extension")
    assert (state, str(new_due), reason, by) == ("批准", "2023-09-30", "机构调整", "李明")
    assert dbs.rows(url, "SELECT COUNT(*) FROM assignment WHERE status = '申请延期'") == [(0,)]
