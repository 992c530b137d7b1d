"""`fuquan links show|rotate` and `fuquan web` from a terminal: which plan, whose link, a clear error without a
signing key, the 专班's links per member, and a rotated link refused at the door."""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path

import pytest
from starlette.testclient import TestClient

from tests.conftest import ROOT
from usecases.context import open_context
from usecases.settings import Settings
from web.app import make_app

PLANS = ROOT / "tests" / "plans"
SECRET = "links-cli-test-secret-0123456789abcdef"


@pytest.fixture(params=[("qingshan-2024.yaml", "青山镇", "某市青山县 2024 年度"), ("wanzhi-2023.yaml", "湾沚镇", "芜湖市湾沚区 2023 年度")])
def plan(request: pytest.FixtureRequest, run, tmp_path: Path, monkeypatch: pytest.MonkeyPatch):  # type: ignore[no-untyped-def]
    file, town, label = request.param
    monkeypatch.setenv("FUQUAN_CONFIG", str(PLANS / file))
    monkeypatch.setenv("FUQUAN_DATA_DIR", str(tmp_path / "data"))
    monkeypatch.setenv("FUQUAN_LINK_SECRET", SECRET)
    assert run("sync").code == 0
    return town, label


def _enter(link: str) -> int:
    with open_context(Settings.from_env(), clock=lambda: datetime.now(UTC)) as ctx:
        client = TestClient(make_app(ctx), base_url="http://127.0.0.1:8300")
        return client.get(link.removeprefix("http://127.0.0.1:8300"), follow_redirects=False).status_code


def test_show_names_the_plan_and_gives_a_working_link(plan, run) -> None:  # type: ignore[no-untyped-def]
    town, label = plan
    r = run("links", "show", town)
    days = 90 if "青山" in label else 120  # (the plans' answers.link_days)
    assert r.code == 0 and r.out.startswith(f"{label} · {town} 的专属链接 (有效 {days} 天):")
    link = r.out.strip().splitlines()[-1]
    assert link.startswith("http://127.0.0.1:8300/l/") and SECRET not in r.out
    assert _enter(link) == 200


def test_rotate_voids_the_old_link(plan, run) -> None:  # type: ignore[no-untyped-def]
    town, label = plan
    old = run("links", "show", town).out.strip().splitlines()[-1]
    r = run("links", "rotate", town, "--operator", "李明")
    assert r.code == 0 and f"{label} · {town}: 已重新生成专属链接 (第 2 版)" in r.out
    new = r.out.strip().splitlines()[-1]
    assert _enter(old) == 403 and _enter(new) == 200


def test_clear_errors(plan, run, monkeypatch: pytest.MonkeyPatch) -> None:  # type: ignore[no-untyped-def]
    town, _ = plan
    r = run("links", "show", "专班")
    assert r.code != 0 and "--member" in r.err and "Traceback" not in r.err
    r = run("links", "show", "不存在的镇")
    assert r.code != 0 and r.err.startswith("错误: ") and "不存在的镇" in r.err
    monkeypatch.delenv("FUQUAN_LINK_SECRET")
    for args in (("links", "show", town), ("web",)):
        r = run(*args)
        assert r.code != 0 and "FUQUAN_LINK_SECRET" in r.err and "Traceback" not in r.err
