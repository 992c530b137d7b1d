"""The benchmark's bulk-copied county plans are exactly what the real loader and sync would have written
(otherwise the nation-scale figures would measure some other database)."""

from datetime import date
from pathlib import Path

from bench.synth import build, county_yaml
from fuquan.dates.workdays import WorkCalendar
from fuquan.plans.loader import parse_plan
from models.db import make_engine, reading, transaction
from models.ledger_io import load_ledger
from models.stored import read_plan
from models.sync import sync_plan
from models.tables import PlanRow
from tests import dbs


def test_bulk_copies_equal_what_sync_writes(tmp_path: Path) -> None:
    engine = make_engine(dbs.fresh_url(tmp_path))
    ids = build(engine, 3, progress=False)
    assert ids == [1, 2, 3]
    for n in (0, 2):
        with transaction(engine) as s:
            report = sync_plan(s, parse_plan(county_yaml(n), f"county-{n}.yaml"))
        assert report.plan_id == n + 1 and not report.changed, report.summary()
    with reading(engine) as s:
        plan = s.get(PlanRow, 2)
        assert plan is not None and plan.district == "第1县"
        rows = load_ledger(s, read_plan(s, plan)).rows(date(2023, 11, 23), WorkCalendar())
    assert len(rows) == 358 and {r.unit for r in rows} >= {"县委编办1", "第1县0镇", "第1县执法19局"}
    engine.dispose()
