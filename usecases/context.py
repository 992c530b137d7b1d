"""The runtime context: what every run needs, built once at the edge (a CLI command, a Prefect flow run, an
APScheduler tick, a future web request) from Settings and passed down.

    settings   what the environment said (flows/settings.py)
    engine     the tracker's database, schema up to date
    router     which notifier carries each destination (credentials from settings)
    clock      "now", injected: tests and replays pass their own
    plan       the stored plan being worked on, read once (models/stored.py)
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, replace
from datetime import UTC, date, datetime
from pathlib import Path
from typing import TextIO
from zoneinfo import ZoneInfo

from sqlalchemy.engine import Engine

from fuquan.errors import AmbiguousPlan, StorageError
from models.db import make_engine, reading
from models.stored import StoredPlan, find_plan, read_plan
from notifications.router import Router

from .settings import Settings

Clock = Callable[[], datetime]


def system_clock() -> datetime:
    return datetime.now(UTC)


@dataclass(frozen=True)
class Context:
    settings: Settings
    engine: Engine
    router: Router
    clock: Clock = system_clock
    stored: StoredPlan | None = None

    @property
    def plan(self) -> StoredPlan:
        if self.stored is None:
            raise AssertionError("no plan chosen for this run")  # a programming error: choose one at the edge
        return self.stored

    @property
    def reports_dir(self) -> Path:
        """Where this plan's reports go by default: a folder per plan, so two counties (or two years) never
        overwrite each other's files."""
        return self.settings.data_dir / "reports" / f"{self.plan.plan.district}-{self.plan.plan.year}"

    def now(self) -> datetime:
        """Now in the plan's time zone ("today" follows the plan, not the machine)."""
        tz = ZoneInfo(self.stored.plan.timezone) if self.stored else UTC
        return self.clock().astimezone(tz)

    def today(self) -> date:
        return self.now().date()

    def choose(self, year: int | None = None, district: str | None = None, *,
               by_file: Callable[[], tuple[str, int] | None] | None = None) -> Context:
        """This context working on the plan (district, year) of the database. With neither given and several
        plans in the database, the plan file in use decides (`by_file`: its district and year), or it is an
        error listing them."""
        with reading(self.engine) as session:
            try:
                row = find_plan(session, year=year, district=district)
            except AmbiguousPlan:
                chosen = by_file() if by_file is not None and year is None and district is None else None
                if chosen is None:
                    raise
                row = find_plan(session, district=chosen[0], year=chosen[1])
            return replace(self, stored=read_plan(session, row))


def router_for(settings: Settings, stream: TextIO | None = None) -> Router:
    router = Router(console_file=settings.notify_file, slack_token=settings.slack_token,
                    slack_api_url=settings.slack_api_url, webhooks=settings.webhooks, dingtalk=settings.dingtalk,
                    wecom=settings.wecom, sms=settings.sms, app_problems=settings.app_problems)
    if stream is not None:
        router.console.stream = stream  # type: ignore[attr-defined]
    return router


@contextmanager
def open_context(settings: Settings | None = None, *, router: Router | None = None, clock: Clock | None = None,
                 stream: TextIO | None = None, pool_size: int = 5) -> Iterator[Context]:
    """A context for one run; its database connections are closed at the end (SQLite checkpoints its WAL
    then, not at some later garbage collection). The clock is the system's unless one is injected."""
    settings = settings or Settings.from_env()
    clock = clock or system_clock
    try:
        settings.data_dir.mkdir(parents=True, exist_ok=True)  # the default database, reports and notify file
    except OSError as e:
        raise StorageError(f"数据目录 {settings.data_dir} 无法使用 ({e.strerror}); 请检查它是不是一个可写的文件夹, "
                           "或用环境变量 FUQUAN_DATA_DIR 指定另一个") from e
    engine = make_engine(settings.database_url, wait_seconds=settings.write_wait_seconds, pool_size=pool_size)
    try:
        yield Context(settings, engine, router or router_for(settings, stream), clock)
    finally:
        engine.dispose()
