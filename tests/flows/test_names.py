"""What the 专班 reads in the Prefect UI, in Chinese: deployments and runs named by what they do and for which
plan or day, steps by what they do, and one line per step saying how it went (the reason when nothing was
sent)."""

from collections.abc import Callable, Iterator
from contextlib import contextmanager
from datetime import datetime
from pathlib import Path
from typing import Any, TypeVar
from zoneinfo import ZoneInfo

import httpx
import pytest

from flows import registry
from fuquan.plans.loader import parse_plan
from fuquan.plans.policy import FLOWS
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


class Recorder:
    def __init__(self) -> None:
        self.logs: list[str] = []

    def step(self, name: str, fn: Callable[[], T], *, network: bool = False) -> T:
        return fn()

    def publish_status(self, snap: Any, report: Any) -> None:
        pass

    def publish_report(self, data: Any, files: Any) -> None:
        pass

    def log(self, message: str) -> None:
        self.logs.append(message)


@contextmanager
def context(tmp_path: Path, hour: int) -> Iterator[Context]:
    env = {"FUQUAN_DATABASE_URL": dbs.fresh_url(tmp_path), "FUQUAN_DATA_DIR": str(tmp_path / "data")}
    console = RecordingNotifier(kind="console", can_reconcile=False)
    with open_context(Settings.from_env(env), router=Router(console=console),
                      clock=lambda: datetime(2023, 4, 28, hour, 5, tzinfo=TZ)) as c:
        with transaction(c.engine) as s:
            sync_plan(s, parse_plan(SMALL_PLAN))
        yield c.choose(2023, "测试区")


def test_every_flow_has_a_chinese_title_and_each_plan_its_own_deployments() -> None:
    assert set(registry.TITLES) == set(FLOWS)
    assert registry.deployment_name("deadline-check", "芜湖市湾沚区", 2023) == "每日检查 · 芜湖市湾沚区 2023"
    names = {registry.deployment_name(f, d, 2024) for f in FLOWS for d in ("某市青山县", "芜湖市湾沚区")}
    assert len(names) == 2 * len(FLOWS) and not any(c in n for n in names for c in "/%&<>")  # Prefect's banned


def test_each_step_logs_its_outcome_in_words(tmp_path: Path) -> None:
    with context(tmp_path, 9) as ctx:
        r = Recorder()
        result = registry.run("deadline-check", r, ctx, registry.Options())
        assert [line.split(":")[0] for line in r.logs] == ["计算进度", "月报关账", "发送提醒", "更新看板"]
        assert r.logs[0].startswith("计算进度: 逾期 ") and "项分工)" in r.logs[0]
        # no channel configured: the reminders were shown on the screen, not sent
        assert r.logs[2] == f"发送提醒: 到期提醒 {result['due']} 条; 仅显示, 未发出 {result['shown']} 条"
        assert result["shown"] == result["sent"] > 0 and result["skipped"] is None


def test_quiet_hours_say_why_nothing_was_sent(tmp_path: Path) -> None:
    with context(tmp_path, 22) as ctx:
        r = Recorder()
        result = registry.run("deadline-check", r, ctx, registry.Options())
        assert result["sent"] == 0 and "免打扰时段" in result["skipped"]
        assert r.logs[2] == f"发送提醒: 到期提醒 {result['due']} 条; {result['skipped']}"


def test_prefect_runs_and_steps_carry_chinese_names(tmp_path: Path, monkeypatch: pytest.MonkeyPatch,
                                                     prefect_harness: None) -> None:
    from prefect.settings import PREFECT_API_URL

    from flows.prefect_flows import deadline_check

    monkeypatch.setenv("FUQUAN_DATABASE_URL", dbs.fresh_url(tmp_path))
    monkeypatch.setenv("FUQUAN_NOTIFY_FILE", str(tmp_path / "n.md"))
    monkeypatch.delenv("SLACK_BOT_TOKEN", raising=False)
    with open_context() as c, transaction(c.engine) as s:  # another year: artifact keys stay apart from other tests'
        sync_plan(s, parse_plan(SMALL_PLAN.replace("year: 2023", "year: 2022").replace("2023-04-18", "2022-04-18")))
    state = deadline_check(today="2022-04-28", return_state=True)
    api = PREFECT_API_URL.value()
    run_id = str(state.state_details.flow_run_id)
    assert httpx.get(f"{api}/flow_runs/{run_id}", timeout=30).json()["name"] == "每日检查 2022-04-28"
    steps = httpx.post(f"{api}/task_runs/filter", json={"flow_runs": {"id": {"any_": [run_id]}}, "offset": 0,
                                                        "limit": 50}, timeout=30).json()
    assert sorted(t["name"] for t in steps) == sorted(["计算进度", "月报关账", "发送提醒", "更新看板"])
