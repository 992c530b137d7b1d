"""Fault suite, processes and locks: kill -9 of `fuquan remind` mid-send, 2 and 4 concurrent runs,
a rate-limit storm, and a locked database (SQLite or PostgreSQL) during a sync. Each test prints its figure."""

import os
import random
import signal
import sqlite3
import subprocess
import sys
import threading
import time
from pathlib import Path

import pytest
from sqlalchemy import create_engine

from fuquan.errors import StorageError
from fuquan.plans.loader import load_plan
from models.db import WRITE_LOCK, make_engine, transaction
from models.sync import sync_plan
from tests import dbs
from tests.conftest import REAL_CONFIG, ROOT
from tests.faults import FIGURES
from tests.flows.test_dispatch import CHANNEL, ZHUANBAN, plan_yaml
from tests.slack_server import TOKEN, FakeSlack

NOW = ("--today", "2023-04-28", "--now", "2023-04-28T09:05")
EXPECTED = 19  # grouped messages due on 2023-04-28 on the 2023 plan


def _env(tmp_path: Path, slack: FakeSlack) -> dict[str, str]:
    return {**os.environ, "FUQUAN_DATABASE_URL": dbs.fresh_url(tmp_path), "SLACK_BOT_TOKEN": TOKEN,
            "FUQUAN_SLACK_API_URL": slack.url, "FUQUAN_NOTIFY_FILE": str(tmp_path / "n.md")}


def _fuquan(env: dict[str, str], *args: str) -> subprocess.Popen[str]:
    return subprocess.Popen([sys.executable, "-m", "cli.main", *args], env=env, cwd=ROOT, text=True,
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE)


class SlowSlack(FakeSlack):
    """Every post takes a while, so a kill lands between sending and marking more often."""

    jitter = random.Random(7)

    def _post(self, h, args, step):  # type: ignore[no-untyped-def]
        time.sleep(self.jitter.uniform(0.5, 2.5))  # stored after a while; the answer follows at once
        return super()._post(h, args, step)


def test_kill_9_at_random_points_then_restart_delivers_each_reminder_once(tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    rng = random.Random(20230428)
    with SlowSlack(set(CHANNEL.values()) | {ZHUANBAN}) as slack:
        env = {**_env(tmp_path, slack), "FUQUAN_SETTLE_SECONDS": "3"}  # > the server's longest delay (2.5 s)
        assert _fuquan(env, "sync", "--config", str(plan_yaml(tmp_path))).wait(60) == 0
        kills = 0
        for i in range(6):  # each restart a minute later by the injected clock, as a real restart would be
            proc = _fuquan(env, "remind", "--today", "2023-04-28", "--now", f"2023-04-28T09:{5 + i:02d}")
            time.sleep(rng.uniform(0.2, 2.0))  # start-up (~0.8 s), claiming, posting or marking
            if proc.poll() is None:
                os.kill(proc.pid, signal.SIGKILL)
                kills += 1
            proc.wait(30)
            time.sleep(3.2)  # let a post in flight when the process died land before the next run looks
        final = _fuquan(env, "remind", "--today", "2023-04-28", "--now", "2023-04-28T09:30")
        out, err = final.communicate(timeout=120)
        assert final.returncode == 0, err
        keys = slack.keys()
    FIGURES.append(f"kill -9: {kills} kills, {len(keys)} messages delivered, {len(set(keys))} distinct")
    assert kills >= 3
    assert len(keys) == len(set(keys)) == EXPECTED


@pytest.mark.parametrize("runs", [2, 4])
def test_concurrent_runs_never_duplicate(tmp_path: Path, runs: int) -> None:  # type: ignore[no-untyped-def]
    with FakeSlack(set(CHANNEL.values()) | {ZHUANBAN}) as slack:
        env = _env(tmp_path, slack)
        assert _fuquan(env, "sync", "--config", str(plan_yaml(tmp_path))).wait(60) == 0
        procs = [_fuquan(env, "remind", *NOW) for _ in range(runs)]
        codes = [p.wait(180) for p in procs]
        keys = slack.keys()
    FIGURES.append(f"{runs} concurrent runs: {len(keys)} messages, {len(set(keys))} distinct")
    assert codes == [0] * runs
    assert len(keys) == len(set(keys)) == EXPECTED


def test_a_rate_limit_storm_and_5xx_bursts_lose_and_double_nothing(tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    from tests.flows.test_dispatch import DAY, remind, setup

    with FakeSlack(set(CHANNEL.values()) | {ZHUANBAN}) as slack:
        engine, plan_id = setup(tmp_path)
        storm = [("status", 429, {"Retry-After": "1"})] * 30 + [("status", 503)] * 6 + [("drop_after_accept",)] * 3
        slack.fault("chat.postMessage", *storm)
        rounds = 0
        while len(set(slack.keys())) < EXPECTED and rounds < 10:  # the daily run, repeated until all is out
            remind(engine, plan_id, slack, DAY)
            rounds += 1
        keys = slack.keys()
    FIGURES.append(f"storm of {len(storm)} faults: {rounds} runs, {len(keys)} messages, {len(set(keys))} distinct")
    assert len(keys) == len(set(keys)) == EXPECTED


class WriteLockHolder:
    """Another writer holding a plan's write lock: on SQLite a BEGIN IMMEDIATE (the whole file), on PostgreSQL
    the plan's advisory lock every fuquan write transaction on that plan takes first."""

    def __init__(self, url: str) -> None:
        self.url = url
        if url.startswith("sqlite"):
            self.con = sqlite3.connect(dbs.sqlite_path(url), isolation_level=None, check_same_thread=False)
        else:
            self.engine = create_engine(url)
            self.con = self.engine.raw_connection()

    def take(self, plan: int = 1) -> None:
        if self.url.startswith("sqlite"):
            self.con.execute("BEGIN IMMEDIATE")
        else:
            self.con.cursor().execute("SELECT pg_advisory_xact_lock(%s, %s)", (WRITE_LOCK, plan))

    def give_back(self) -> None:
        if self.url.startswith("sqlite"):
            self.con.execute("ROLLBACK")
        else:
            self.con.rollback()

    def close(self) -> None:
        self.con.close()
        if not self.url.startswith("sqlite"):
            self.engine.dispose()


def test_a_locked_database_during_sync_waits_or_fails_cleanly(tmp_path: Path, write_plan) -> None:  # type: ignore[no-untyped-def]
    url = dbs.fresh_url(tmp_path, "locked")
    engine = make_engine(url, busy_timeout_ms=300)
    with transaction(engine) as s:
        sync_plan(s, load_plan(REAL_CONFIG))
    engine.dispose()
    holder = WriteLockHolder(url)
    edited = load_plan(write_plan(REAL_CONFIG.read_text(encoding="utf-8").replace("确定承接事项", "确定承接事项(修订)")))
    engine = make_engine(url, busy_timeout_ms=300)
    holder.take()  # another writer holds the lock
    before = dbs.content(url)
    t = time.monotonic()
    with pytest.raises(StorageError, match="数据库正被其他进程写入"):
        with transaction(engine) as s:
            sync_plan(s, edited)
    refused_after = time.monotonic() - t
    holder.give_back()
    assert dbs.content(url) == before  # nothing half-written
    assert dbs.rows(url, "select text from task where no = 1") == [("确定承接事项",)]
    # a lock released within the wait limit is waited for, and the sync then completes
    holder.take()
    threading.Timer(0.5, holder.give_back).start()
    t = time.monotonic()
    engine = make_engine(url, busy_timeout_ms=5000)
    with transaction(engine) as s:
        sync_plan(s, edited)
    waited = time.monotonic() - t
    assert dbs.rows(url, "select text from task where no = 1") == [("确定承接事项(修订)",)]
    FIGURES.append(f"locked database during sync: refused after {refused_after:.1f} s (limit 0.3 s) with nothing "
                   f"written; a lock held 0.5 s was waited for ({waited:.1f} s) and the sync completed")
    engine.dispose()
    holder.close()


