"""`fuquan scheduler` (APScheduler 3, SQLAlchemy job store) with an injected clock: a missed run
happens once when the machine comes back, restarts never duplicate a job, runs never overlap."""

import threading
from collections.abc import Iterator
from datetime import datetime, timedelta
from zoneinfo import ZoneInfo

import apscheduler.executors.base as executors_base
import apscheduler.schedulers.base as schedulers_base
import pytest
from apscheduler.events import EVENT_JOB_MAX_INSTANCES
from apscheduler.schedulers.base import BaseScheduler

from flows import scheduler as sched
from fuquan.plans.policy import Schedule
from tests import dbs

TZ = ZoneInfo("Asia/Shanghai")
DAILY = [Schedule("deadline-check", "0 9 * * *", True), Schedule("monthly-status", "0 9 15 * *", False)]
RUNS: list[tuple[str, datetime]] = []
GATE = threading.Event()
CLOCK: list[datetime] = [datetime(2023, 5, 8, 8, 0, tzinfo=TZ)]


def record(name: str, *plan: object) -> None:
    """The job the tests schedule (by reference, as the real one is): notes when it ran."""
    RUNS.append((name, CLOCK[0]))


def slow(name: str, *plan: object) -> None:
    RUNS.append((name, CLOCK[0]))
    GATE.wait(10)


class FakeDatetime(datetime):
    @classmethod
    def now(cls, tz=None):  # type: ignore[no-untyped-def, override]
        return CLOCK[0].astimezone(tz) if tz else CLOCK[0].replace(tzinfo=None)


class ManualScheduler(BaseScheduler):
    """APScheduler's own scheduler logic, ticked by the test instead of a thread."""

    def wakeup(self) -> None:
        pass

    def shutdown(self, wait: bool = True) -> None:
        super().shutdown(wait)

    def tick(self) -> None:
        self._process_jobs()


@pytest.fixture(autouse=True)
def clock(monkeypatch: pytest.MonkeyPatch) -> Iterator[None]:
    monkeypatch.setattr(schedulers_base, "datetime", FakeDatetime)
    monkeypatch.setattr(executors_base, "datetime", FakeDatetime)
    RUNS.clear()
    GATE.clear()
    CLOCK[0] = datetime(2023, 5, 8, 8, 0, tzinfo=TZ)  # a Monday, before 09:00
    yield
    GATE.set()


def boot(db_url: str, func: str = "tests.flows.test_scheduler:record", schedules=DAILY) -> ManualScheduler:  # type: ignore[no-untyped-def]
    s = sched.build(db_url, "Asia/Shanghai", cls=ManualScheduler)
    s.start(paused=True)
    sched.install(s, list(schedules), "Asia/Shanghai", ("测试区", 2023), func=func)
    s.resume()
    return s  # type: ignore[return-value]


def settle(s: ManualScheduler) -> None:
    s.tick()
    s.shutdown(wait=True)  # waits for the executor's threads


@pytest.fixture
def db(tmp_path) -> str:  # type: ignore[no-untyped-def]
    return dbs.fresh_url(tmp_path, "jobs")  # the job store lives in the tracker's database, on either backend


def test_a_run_missed_while_down_happens_once_when_back(db: str) -> None:
    settle(boot(db))
    assert RUNS == []
    CLOCK[0] = datetime(2023, 5, 11, 10, 30, tzinfo=TZ)  # down for three and a half days
    s = boot(db)
    s.tick()
    s.tick()  # a second look at the same moment finds nothing more to do
    settle(s)
    assert RUNS == [("deadline-check", CLOCK[0])]
    CLOCK[0] = datetime(2023, 5, 12, 9, 0, tzinfo=TZ)
    settle(boot(db))
    assert [r[1].day for r in RUNS] == [11, 12]


def test_restarts_never_duplicate_jobs_and_a_changed_cron_replaces_its_job(db: str) -> None:
    for _ in range(3):
        settle(boot(db))
    s = boot(db)
    assert sorted(j.id for j in s.get_jobs()) == ["deadline-check", "monthly-status"]
    assert sched.next_runs(s)["deadline-check"] == datetime(2023, 5, 8, 9, 0, tzinfo=TZ)
    s.shutdown()
    s = boot(db, schedules=[Schedule("deadline-check", "30 8 * * *", True)])
    assert [(j.id, str(j.trigger)) for j in s.get_jobs()] == [
        ("deadline-check", "cron[month='*', day='*', day_of_week='*', hour='8', minute='30']")]
    s.shutdown()


def test_runs_never_overlap(db: str) -> None:
    s = boot(db, func="tests.flows.test_scheduler:slow")
    skipped: list[str] = []
    s.add_listener(lambda e: skipped.append(e.job_id), EVENT_JOB_MAX_INSTANCES)
    CLOCK[0] = datetime(2023, 5, 8, 9, 0, tzinfo=TZ)
    s.tick()  # starts, and blocks on the gate
    for _ in range(50):
        if RUNS:
            break
        threading.Event().wait(0.02)
    CLOCK[0] += timedelta(days=1)
    s.tick()  # the next day's run comes due while the first is still going
    assert skipped == ["deadline-check"] and len(RUNS) == 1
    GATE.set()
    settle(s)
    assert len(RUNS) == 1


@pytest.mark.parametrize("dow, apscheduler", [("0", "sun"), ("7", "sun"), ("1-5", "mon,tue,wed,thu,fri"),
                                              ("0-6", "sun,mon,tue,wed,thu,fri,sat"), ("*/2", "sun,tue,thu,sat"),
                                              ("mon,fri", "mon,fri"), ("*", "*")])
def test_a_numeric_day_of_week_means_what_crontab_means(dow: str, apscheduler: str) -> None:
    # APScheduler 3 reads 0 as Monday; the plan file (like crontab and Prefect) means Sunday
    assert f"day_of_week='{apscheduler}'" in str(sched.crontab_trigger(f"0 9 * * {dow}", "Asia/Shanghai"))
