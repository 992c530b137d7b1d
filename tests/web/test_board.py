"""The 专班's board in the web app (`/office/board`, where a 专班 member's link lands): its numbers are `fuquan status
--json`'s on each of the three counties' plans (one with 乡 and no 街道), the overdue table lists exactly the red rows
worst first with due date, working days late and what is missing, filters drill down by unit, town and task, the 大屏
variant refreshes itself, the queues are one click away, bad filters are refused in Chinese, and a unit's session
never sees it. The clock is injected (each plan's own day)."""

from __future__ import annotations

import json
import re
from collections import Counter
from collections.abc import Iterator
from datetime import UTC, date, datetime
from pathlib import Path

import pytest
from starlette.testclient import TestClient

from cli.main import main
from tests.conftest import ROOT
from usecases import unit_links
from usecases.context import open_context
from usecases.settings import Settings
from web.app import make_app

SECRET = "board-test-link-secret-0123456789"
PLANS = {  # file, district, year, a working day with work overdue, a town
    "wanzhi": ("tests/plans/wanzhi-2023.yaml", "芜湖市湾沚区", 2023, date(2023, 6, 20), "六郎镇"),
    "qingshan": ("tests/plans/qingshan-2024.yaml", "某市青山县", 2024, date(2024, 7, 10), "龙潭镇"),
    "lianhe": ("tests/plans/lianhe-2025.yaml", "某市莲河县", 2025, date(2025, 7, 1), "莲河镇"),
}


@pytest.fixture(scope="module")
def synced(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[str, Path]]:
    from tests import dbs

    root = tmp_path_factory.mktemp("board")
    url = dbs.fresh_url(root, "board")
    with pytest.MonkeyPatch.context() as mp:
        mp.setenv("FUQUAN_DATABASE_URL", url)
        mp.setenv("FUQUAN_DATA_DIR", str(root))
        mp.setenv("FUQUAN_LINK_SECRET", SECRET)
        for file, *_ in PLANS.values():
            assert main(["sync", "--config", str(ROOT / file)]) == 0
        yield url, root


@pytest.fixture(params=list(PLANS))
def desk(request: pytest.FixtureRequest, synced: tuple[str, Path], monkeypatch: pytest.MonkeyPatch,
         capsys: pytest.CaptureFixture[str]) -> Iterator[dict]:  # type: ignore[type-arg]
    file, district, year, day, town = PLANS[request.param]
    url, root = synced
    for name in ("FUQUAN_WEB_URL", "FUQUAN_CONFIG", "SLACK_BOT_TOKEN", "SLACK_APP_TOKEN"):
        monkeypatch.delenv(name, raising=False)
    monkeypatch.setenv("FUQUAN_DATABASE_URL", url)
    monkeypatch.setenv("FUQUAN_DATA_DIR", str(root))
    monkeypatch.setenv("FUQUAN_LINK_SECRET", SECRET)
    capsys.readouterr()
    assert main(["status", "--json", "--today", day.isoformat(), "--district", district, "--year", str(year)]) == 0
    status = json.loads(capsys.readouterr().out)
    now = datetime(day.year, day.month, day.day, 2, 0, tzinfo=UTC)
    with open_context(Settings.from_env(), clock=lambda: now) as ctx:
        ctx = ctx.choose(year, district)
        client = TestClient(make_app(ctx), base_url="http://127.0.0.1:8300", raise_server_exceptions=False)
        link = unit_links.personal_link(ctx, "专班", now, "王芳").rsplit("/l/", 1)[1]
        entered = client.get(f"/l/{link}")
        assert entered.status_code == 200 and "/office/board" in entered.text  # the member's link lands on the board
        yield {"client": client, "status": status, "ctx": ctx, "now": now, "town": town, "district": district}


def late_rows(html: str) -> list[list[str]]:
    table = re.search(r'<table class="late">(.*?)</table>', html, re.S)
    rows = re.findall(r'<tr class="red">(.*?)</tr>', table.group(1), re.S) if table else []
    return [[re.sub(r"<[^>]+>", "", c).strip() for c in re.findall(r"<td[^>]*>(.*?)</td>", r, re.S)] for r in rows]


def total(html: str, word: str) -> int:
    m = re.search(rf"{word}[^<]*<b>(\d+)</b>", html)
    assert m, word
    return int(m.group(1))


def test_the_board_shows_the_same_figures_as_status_json(desk: dict) -> None:  # type: ignore[type-arg]
    r = desk["client"].get("/office/board")
    assert r.status_code == 200, r.text[:300]
    html, status = r.text, desk["status"]
    counts = Counter()  # type: ignore[var-annotated]
    for t in status["tasks"]:
        counts.update(t["counts"])
    for word in ("红", "黄", "绿"):
        assert total(html, f"{word} · ") == counts[word], word
    red = [row for row in status["rows"] if row["colour"] == "红"]
    shown = late_rows(html)
    assert red, "no overdue rows on the chosen day: the test would prove nothing"
    assert len(shown) == len(red) and f"逾期 {len(red)} 项, 涉及 {len({x['unit'] for x in red})} 个单位" in html
    days = [int(row[3]) for row in shown]
    assert days == sorted(days, reverse=True) and days[0] == max(x["workdays_late"] for x in red)
    assert Counter(row[0] for row in shown) == Counter(x["unit"] for x in red)
    for row in shown:  # unit | task | due | days | missing
        assert re.fullmatch(r"\d{4}-\d{2}-\d{2}|—", row[2]) and row[4], row
    assert "湾沚" not in html or desk["district"] == "芜湖市湾沚区"


def test_filters_drill_down_by_unit_town_and_task(desk: dict) -> None:  # type: ignore[type-arg]
    c, status = desk["client"], desk["status"]
    red = [row for row in status["rows"] if row["colour"] == "红"]
    unit = Counter(x["unit"] for x in red).most_common(1)[0][0]
    by_unit = late_rows(c.get("/office/board", params={"unit": unit}).text)
    assert by_unit and {row[0] for row in by_unit} == {unit} and len(by_unit) == sum(x["unit"] == unit for x in red)
    task = red[0]["task"]
    by_task = late_rows(c.get("/office/board", params={"task": str(task)}).text)
    assert len(by_task) == sum(x["task"] == task for x in red) and all(row[1].startswith(f"{task}.") for row in by_task)
    town = c.get("/office/board", params={"town": desk["town"]})
    assert town.status_code == 200 and all(row[0] for row in late_rows(town.text))
    assert desk["ctx"].plan.plan.words.towns in town.text  # the plan's own word for its towns


def test_bad_filters_are_refused_in_chinese(desk: dict) -> None:  # type: ignore[type-arg]
    c = desk["client"]
    r = c.get("/office/board", params={"unit": "不存在的单位"})
    assert r.status_code == 400 and "本计划没有单位" in r.text
    assert c.get("/office/board", params={"task": "999"}).status_code == 400
    assert c.get("/office/board", params={"task": "x1"}).status_code == 404


def test_the_big_screen_refreshes_itself_and_the_desk_links_the_queues(desk: dict) -> None:  # type: ignore[type-arg]
    c = desk["client"]
    screen = c.get("/office/board", params={"screen": "1"}).text
    assert '<meta http-equiv="refresh" content="300">' in screen and 'class="screen"' in screen
    assert len(late_rows(screen)) <= 20 and '<form class="filters"' not in screen
    board, office = c.get("/office/board").text, c.get("/office").text
    assert 'href="/office"' in board and 'href="/office/board"' in office


def test_a_units_session_never_sees_the_board(desk: dict) -> None:  # type: ignore[type-arg]
    ctx, town = desk["ctx"], desk["town"]
    c = TestClient(desk["client"].app, base_url="http://127.0.0.1:8300")
    assert c.get(f"/l/{unit_links.personal_link(ctx, town, desk['now']).rsplit('/l/', 1)[1]}").status_code == 200
    assert c.get("/office/board").status_code == 404


def test_a_leaders_link_opens_the_board_read_only_and_nothing_else(desk: dict, capsys) -> None:  # type: ignore[no-untyped-def,type-arg]
    from usecases.unit_links import LEADERS

    ctx = desk["ctx"]
    c = TestClient(desk["client"].app, base_url="http://127.0.0.1:8300", raise_server_exceptions=False)
    entered = c.get(f"/l/{unit_links.personal_link(ctx, LEADERS, desk['now'], '张书记').rsplit('/l/', 1)[1]}")
    assert entered.status_code == 200 and 'url=/board"' in entered.text
    board = c.get("/board")
    assert board.status_code == 200 and late_rows(board.text) == late_rows(desk["client"].get("/office/board").text)
    assert 'href="/office"' not in board.text and "去办理" not in board.text and "<form method=\"post\"" not in board.text
    for path in ("/office", "/office/board", "/u", "/files/1"):
        assert c.get(path).status_code == 404, path
    r = c.post("/decide", data={"csrf": "x", "id": "1", "decision": "批准"})
    assert r.status_code in (400, 404) and "已办理" not in r.text
    # the CLI gives a leader's link to a named person only
    capsys.readouterr()
    assert main(["links", "show", LEADERS, "--district", desk["district"], "--year", str(ctx.plan.plan.year)]) == 1
    assert "--member" in capsys.readouterr().err
    assert main(["links", "show", LEADERS, "--member", "张书记", "--district", desk["district"],
                 "--year", str(ctx.plan.plan.year)]) == 0
    assert "领导 张书记 的专属链接" in capsys.readouterr().out
