"""The recipes both runners share (flows/registry.py), run with a recording Runner and the in-memory notifier:
the steps and their order, `workdays_only` on a scheduled tick, and the APScheduler tick end to end."""

from collections.abc import Callable, Iterator
from datetime import date, datetime
from pathlib import Path
from typing import Any, TypeVar
from zoneinfo import ZoneInfo

import pytest

from flows import registry, scheduler
from fuquan.plans.loader import parse_plan
from models.db import transaction
from models.sync import sync_plan
from notifications.fake import RecordingNotifier
from notifications.router import Router
from tests import dbs
from tests.conftest import SMALL_PLAN
from usecases.context import Context, open_context
from usecases.settings import Settings

T = TypeVar("T")
TZ = ZoneInfo("Asia/Shanghai")
PLAN = SMALL_PLAN.replace("units: [区委编办]\n", "units: [区委编办]\n    track: {monthly_reports: {towns: [各镇]}}\n").replace(
    "units:\n  - {name: 区委编办", "monthly_report: {figures: [审批办件量]}\nunits:\n  - {name: 区委编办")


class Recorder:
    def __init__(self) -> None:
        self.steps: list[tuple[str, bool]] = []
        self.published: list[str] = []
        self.logs: list[str] = []

    def step(self, name: str, fn: Callable[[], T], *, network: bool = False) -> T:
        self.steps.append((name, network))
        return fn()

    def progress(self, percent: float) -> None:
        pass

    def publish_status(self, snap: Any, report: Any) -> None:
        self.published.append(f"status {snap.today}")

    def publish_report(self, data: Any, files: Any) -> None:
        self.published.append(f"report {data.title}")

    def log(self, message: str) -> None:
        self.logs.append(message)


@pytest.fixture
def env(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> dict[str, str]:
    env = {"FUQUAN_DATABASE_URL": dbs.fresh_url(tmp_path), "FUQUAN_DATA_DIR": str(tmp_path / "data")}
    for k, v in env.items():
        monkeypatch.setenv(k, v)
    return env


@pytest.fixture
def ctx(env: dict[str, str]) -> Iterator[tuple[Context, RecordingNotifier]]:
    console = RecordingNotifier(kind="console", can_reconcile=False)
    clock = lambda: datetime(2023, 4, 28, 9, 5, tzinfo=TZ)  # noqa: E731  (time is injected, never read)
    with open_context(Settings.from_env(env), router=Router(console=console), clock=clock) as c:
        with transaction(c.engine) as s:
            sync_plan(s, parse_plan(PLAN))
        yield c.choose(2023, "测试区"), console


def test_the_daily_check_runs_its_steps_in_order_and_sends_through_the_notifier(ctx) -> None:  # type: ignore[no-untyped-def]
    c, console = ctx
    r = Recorder()
    result = registry.run("deadline-check", r, c, registry.Options())  # today from the context's clock
    assert r.steps == [("evaluate-status", False), ("close-months", False), ("send-reminders", True),
                       ("publish-status", False)]
    assert r.published == ["status 2023-04-28"]
    assert result["sent"] == len(console.sent) > 0 and result["due"] >= result["sent"]
    assert {s.recipient for s in console.sent} >= {"区委编办", "甲镇", "乙镇"}


def test_a_scheduled_tick_of_a_workdays_only_schedule_does_nothing_on_a_day_off(ctx) -> None:  # type: ignore[no-untyped-def]
    c, console = ctx
    sunday, makeup_sunday = date(2023, 4, 30), date(2023, 4, 23)  # 04-23 was worked (调休 for 五一)
    r = Recorder()
    said = registry.run("deadline-check", r, c, registry.Options(today=sunday, scheduled=True))
    assert r.steps == [] and "不是工作日" in said and console.sent == []
    registry.run("deadline-check", r, c, registry.Options(today=makeup_sunday, scheduled=True))
    assert [n for n, _ in r.steps][:1] == ["evaluate-status"]
    r = Recorder()  # asked for by hand: it runs whatever the day
    registry.run("deadline-check", r, c, registry.Options(today=sunday))
    assert len(r.steps) == 4


def test_a_report_recipe_builds_publishes_and_sends_the_summary_once(ctx) -> None:  # type: ignore[no-untyped-def]
    c, console = ctx
    r = Recorder()
    opts = registry.Options(today=date(2023, 5, 22), period="2023-05")
    # the clock says 2023-04-28: May has not closed, so this is a preview (a report never closes a month)
    assert registry.run("monthly-status", r, c, opts) == "2023年5月情况通报 (未关账)"
    assert [n for n, _ in r.steps] == ["build-report", "publish-report", "send-summary"]
    assert (c.settings.data_dir / "reports" / "测试区-2023" / "monthly-2023-05-preview.md").exists()
    registry.run("monthly-status", r, c, opts)
    assert [s.title for s in console.sent].count("【测试区镇赋权督办】2023年5月情况通报") == 1


def test_the_apscheduler_tick_runs_the_recipe_for_its_own_plan(env) -> None:  # type: ignore[no-untyped-def]
    with open_context(Settings.from_env(env)) as c, transaction(c.engine) as s:
        sync_plan(s, parse_plan(PLAN))
        sync_plan(s, parse_plan(PLAN.replace("year: 2023", "year: 2024").replace("2023-04-18", "2024-04-18")))
    scheduler.run_scheduled("deadline-check", "测试区", 2023, clock=lambda: datetime(2023, 4, 28, 9, 5, tzinfo=TZ))
    status = Path(env["FUQUAN_DATA_DIR"]) / "reports" / "测试区-2023" / "status-2023-04-28.md"
    assert "测试区 2023 年度" in status.read_text(encoding="utf-8")  # the 2023 plan, not the latest (2024)
    assert "区委编办" in (Path(env["FUQUAN_DATA_DIR"]) / "notifications.md").read_text(encoding="utf-8")
