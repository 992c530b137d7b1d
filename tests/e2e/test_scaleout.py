"""The scale-out path of the README, tried: a Prefect server on PostgreSQL, the plan's flows in a work
pool (`fuquan deploy`), two worker processes; four runs must complete, both workers must have run some, and
the same day's deadline check run twice (on both workers at once) must send each message once.
PostgreSQL pass only (the Prefect server needs a PostgreSQL server; the SQLite pass has none)."""

import re
import subprocess
import sys
import uuid

import pytest

from tests import dbs
from tests.conftest import ROOT
from tests.e2e.test_dashboard import free_port

pytestmark = pytest.mark.skipif(not dbs.ON_PG, reason="needs the PostgreSQL server of the PostgreSQL pass")


def test_two_workers_run_the_deployed_flows() -> None:
    name = f"{dbs.PREFIX}scaleout_{uuid.uuid4().hex[:8]}"  # (dropped by a later session if this one dies)
    dbs.adopt(f"{name}_prefect")
    dbs.adopt(f"{name}_fuquan")
    r = subprocess.run([sys.executable, str(ROOT / "scripts" / "scaleout.py"), "--admin-url", dbs.PG_ADMIN,
                        "--name", name, "--port", str(free_port()), "--workers", "2", "--timeout", "180"],
                       cwd=ROOT, capture_output=True, text=True, timeout=400)
    assert r.returncode == 0, r.stdout[-3000:] + r.stderr[-3000:]
    assert "结果: 4/4 次运行完成" in r.stdout, r.stdout
    assert "已向工作池 fuquan 登记 6 个流程" in r.stdout  # (sync, the four reports and checks, the backup)
    sent = re.search(r"发出的消息: (\d+) 条, 其中不重复 (\d+) 条", r.stdout)
    assert sent and int(sent[1]) == int(sent[2]) >= 19, r.stdout  # 19 reminder messages + report summaries
    subprocess.run(["rm", "-rf", str(ROOT / "data" / name)], check=False)
