"""The scheduled backup (`backup` in a plan's schedules): one archive a day in FUQUAN_BACKUP_DIR, the newest `keep`
kept, anything else in the folder left alone, a day's archive never written twice, and every archive one that
`fuquan restore` takes. Run through the schedules' own runner (flows/scheduler.py's PlainRunner) with an injected
clock, on the county plan with 乡 and no 街道."""

from __future__ import annotations

import json
import stat
import tarfile
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from cli.main import main
from flows import registry
from flows.scheduler import PlainRunner
from fuquan.errors import PlanError
from fuquan.plans.loader import load_plan
from tests import dbs
from tests.conftest import ROOT
from usecases.context import open_context
from usecases.settings import Settings

PLAN = ROOT / "tests/plans/lianhe-2025.yaml"


def test_a_daily_backup_keeps_the_newest_and_restores(tmp_path: Path, db_url: str, write_plan,  # type: ignore[no-untyped-def]
                                                       monkeypatch: pytest.MonkeyPatch) -> None:
    text = PLAN.read_text(encoding="utf-8")
    assert 'backup: {cron: "0 3 * * *", keep: 30}' in text
    config = write_plan(text.replace("keep: 30", "keep: 3"), "lianhe.yaml")
    folder = tmp_path / "backups"
    monkeypatch.setenv("FUQUAN_DATA_DIR", str(tmp_path / "data"))
    monkeypatch.setenv("FUQUAN_BACKUP_DIR", str(folder))
    monkeypatch.setenv("FUQUAN_CONFIG", str(config))
    monkeypatch.setenv("FUQUAN_LINK_SECRET", "backup-flow-link-secret-0123456789")
    assert main(["sync", "--config", str(config)]) == 0
    folder.mkdir()
    (folder / "notes.txt").write_text("县里自己的说明", encoding="utf-8")  # not ours: never rotated
    times = [datetime(2025, 6, 2, 18, 30, tzinfo=UTC)]  # 02:30 the next morning in Shanghai
    said = []
    with open_context(Settings.from_env(), clock=lambda: times[0]) as ctx:
        ctx = ctx.choose(2025, None)
        runner = PlainRunner(ctx)
        runner.log = said.append  # type: ignore[method-assign]
        for day in range(5):
            times[0] = datetime(2025, 6, 2, 18, 30, tzinfo=UTC) + timedelta(days=day)
            registry.run("backup", runner, ctx, registry.Options(scheduled=True))
        first = folder / "fuquan-2025-06-07.tar.gz"
        written = first.stat().st_mtime_ns
        registry.run("backup", runner, ctx, registry.Options(scheduled=True))  # the same day again: not rewritten
    names = sorted(p.name for p in folder.iterdir())
    assert names == ["fuquan-2025-06-05.tar.gz", "fuquan-2025-06-06.tar.gz", "fuquan-2025-06-07.tar.gz", "notes.txt"]
    assert first.stat().st_mtime_ns == written and "今天的备份已存在" in said[-1]
    assert "删除较早的 1 份 (fuquan-2025-06-04.tar.gz)" in said[4] and "仅限系统管理员" in said[4]
    assert stat.S_IMODE(folder.stat().st_mode) == 0o700 and stat.S_IMODE(first.stat().st_mode) == 0o600
    with tarfile.open(first) as tar:
        manifest = json.loads(tar.extractfile("manifest.json").read())  # type: ignore[union-attr]
    listed = [m["name"] for m in manifest["members"]]
    assert any(n.startswith("database/") for n in listed) and "link.secret" in listed and "plan/lianhe.yaml" in listed
    # what the schedule wrote is what `fuquan restore` takes
    target = tmp_path / "restored"
    monkeypatch.setenv("FUQUAN_DATA_DIR", str(target))
    monkeypatch.setenv("FUQUAN_DATABASE_URL", dbs.fresh_url(tmp_path, "restored"))
    target.mkdir()
    assert main(["restore", str(first)]) == 0


def test_keep_belongs_to_the_backup_schedule_only(write_plan) -> None:  # type: ignore[no-untyped-def]
    text = PLAN.read_text(encoding="utf-8").replace('annual-evaluation: {cron: "0 10 10 1 *"}',
                                                    'annual-evaluation: {cron: "0 10 10 1 *", keep: 3}')
    with pytest.raises(PlanError, match="keep \\(保留份数\\) 只用于 backup"):
        load_plan(write_plan(text, "keep.yaml"))
    with pytest.raises(PlanError, match="保留份数"):
        load_plan(write_plan(PLAN.read_text(encoding="utf-8").replace("keep: 30", "keep: 0"), "zero.yaml"))
