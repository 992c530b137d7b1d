# ruff: noqa: E402  (the database URL must be set before fuquan is imported)
"""How fuquan-0.1.0.sqlite was made: with fuquan 0.1.0's own code, not this one's. Not a test.

    git worktree add /tmp/v010 2f29723     # the last commit with the 0.1.0 schema
    cd /tmp/v010 && PYTHONPATH=/tmp/v010 /path/to/.venv/bin/python /path/to/make_0_1_0.py OUT.sqlite
    PYTHONPATH=/tmp/v010 FUQUAN_DATABASE_URL=sqlite:///COPY-OF-OUT \
        python -m cli.main status --json --today 2023-07-03 > status-0.1.0-2023-07-03.json

It replays tests/reports' 2023 events up to 2023-06-30 through the recording API, closes months as the
daily run does, and sends the reminders of 2023-04-28 and 2023-06-01 to the console notifier.
"""
import os
import sqlite3
import subprocess
import sys
from datetime import date, timedelta
from pathlib import Path

out = Path(sys.argv[1])
out.unlink(missing_ok=True)
url = f"sqlite:///{out}"
os.environ["FUQUAN_DATABASE_URL"] = url
from flows import reporting_data
from fuquan.plans.loader import load_plan
from models import records
from models.db import make_engine, transaction
from models.sync import sync_plan
from models.tables import PlanRow
from tests.conftest import REAL_CONFIG
from tests.reports.test_reports import ACTOR, events

engine = make_engine(url)
with transaction(engine) as s:
    plan_id = sync_plan(s, load_plan(REAL_CONFIG), source_text=REAL_CONFIG.read_text(encoding="utf-8")).plan_id
ev = events()
env = {**os.environ, "FUQUAN_NOTIFY_FILE": str(out.with_suffix(".notifications.md"))}
env.pop("SLACK_BOT_TOKEN", None)
day = date(2023, 4, 10)
while day <= date(2023, 6, 30):
    for fn, kw in ev.get(day, []):
        with transaction(engine) as s:
            fn(s, records.PlanIndex(s, s.get(PlanRow, plan_id)), ACTOR, day, **kw)
    reporting_data.close_months(engine, plan_id, day)
    if day in (date(2023, 4, 28), date(2023, 6, 1)):
        subprocess.run([sys.executable, "-m", "cli.main", "remind", "--today", str(day), "--now", f"{day}T09:05"],
                       env=env, check=True, stdout=subprocess.DEVNULL)
    day += timedelta(days=1)
engine.dispose()
con = sqlite3.connect(out)
con.execute("PRAGMA wal_checkpoint(TRUNCATE)")
con.execute("PRAGMA journal_mode=DELETE")
con.execute("VACUUM")
con.close()
