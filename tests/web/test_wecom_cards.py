"""WeCom app cards end to end, on two county plans with contacts (`persons: wecom`): the reminder run (`fuquan
remind`) sends each unit's card once to its contacts through the real notifier against a local fake of WeCom
(tests/wecom_server.py); presses come back signed and encrypted to the app's real callback URL (uvicorn on
127.0.0.1), record 签收 once in the person's name and change the card; forged, stale, foreign and cross-unit
presses record nothing; the 专班's desk names who has not answered; no credential leaks anywhere."""

from __future__ import annotations

import logging
import re
import threading
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import UTC, date, datetime
from pathlib import Path
from typing import Any

import pytest
import uvicorn
from starlette.testclient import TestClient

from flows import dispatch
from notifications.base import track_id
from tests import dbs
from tests.conftest import ROOT
from tests.wecom_server import AES_KEY, AGENT_ID, CALLBACK_TOKEN, CORP_ID, SECRET, FakeWeCom, press, verify_url
from usecases import unit_links
from usecases.context import Context, open_context
from usecases.settings import Settings
from web.serve import build

LINK_SECRET = "wecom-test-link-secret-0123456789"
USERS = {"wangfang", "liqiang", "zhaomin", "chengang"}
BUTTONS = [("签收", "ack"), ("反馈进展", "feedback"), ("申请延期", "extension")]


@dataclass(frozen=True)
class Case:
    file: str
    day: date
    contacts: dict[str, list[tuple[str, str]]]  # unit → [(name, WeCom UserID)]; the first unit is pressed on
    plan_wide: bool  # `channels: persons: wecom`, else `channels: units: X: {persons: wecom}`

    @property
    def now(self) -> datetime:
        return datetime(self.day.year, self.day.month, self.day.day, 2, 0, tzinfo=UTC)  # 10:00 in the county

    def plan_text(self) -> str:
        text = (ROOT / "tests" / "plans" / self.file).read_text(encoding="utf-8")
        for unit, people in self.contacts.items():
            listed = ", ".join(f"{{name: {n}, wecom: {u}}}" for n, u in people)
            text, n = re.subn(rf"(\n  - \{{name: {unit}, [^\n]*)\}}\n", rf"\1, contacts: [{listed}]}}\n", text)
            assert n == 1, unit
        channels = ("channels:\n  persons: wecom\n  units: {}" if self.plan_wide else "channels:\n  units:\n"
                    + "".join(f"    {u}: {{persons: wecom}}\n" for u in self.contacts).rstrip("\n"))
        assert "channels:\n  units: {}" in text
        return text.replace("channels:\n  units: {}", channels)


CASES = {
    "qingshan": Case("qingshan-2024.yaml", date(2024, 4, 10), {
        "青山镇": [("王芳", "wangfang"), ("李强", "liqiang")], "龙潭镇": [("赵敏", "zhaomin")],
        "城关街道": [("陈刚", "chengang")]}, plan_wide=True),
    "lianhe": Case("lianhe-2025.yaml", date(2025, 4, 9), {  # 乡 and no 街道
        "莲河镇": [("王芳", "wangfang"), ("李强", "liqiang")], "杏花乡": [("赵敏", "zhaomin")],
        "荷塘镇": [("陈刚", "chengang")]}, plan_wide=False),
}


@dataclass
class World:
    case: Case
    wecom: FakeWeCom
    url: str
    tmp: Path
    run: Callable[..., Any]

    @property
    def town(self) -> str:
        return next(iter(self.case.contacts))

    def remind(self) -> Any:
        r = self.run("remind", "--today", self.case.day.isoformat(), "--now", self.case.now.isoformat())
        assert r.code == 0, r.err
        return r

    def cards(self) -> dict[str, dict[str, Any]]:
        """The card each unit's message went out as, by unit (from the outbox's key and WeCom's task_id)."""
        keys = dict(dbs.rows(self.url, "SELECT key, recipient FROM message WHERE dest_kind = 'wecom-app'"))
        by_task = {track_id(k): u for k, u in keys.items()}
        return {by_task[m["card"]["task_id"]]: m for m in self.wecom.messages}

    def acks(self) -> int:
        return dbs.rows(self.url, "SELECT count(*) FROM ack")[0][0]

    def unanswered(self) -> list[tuple[str, str]]:
        return dbs.rows(self.url, "SELECT unit, person_name FROM card_reach WHERE answered_at IS NULL ORDER BY id")


@pytest.fixture(params=list(CASES))
def world(request: pytest.FixtureRequest, run, db_url: str, tmp_path: Path,  # type: ignore[no-untyped-def]
          monkeypatch: pytest.MonkeyPatch) -> Iterator[World]:
    case = CASES[request.param]
    monkeypatch.setitem(dispatch.PACE, "wecom-app", 0.0)
    for name in ("HTTPS_PROXY", "https_proxy", "HTTP_PROXY", "http_proxy", "FUQUAN_WEB_URL"):
        monkeypatch.delenv(name, raising=False)
    plan = tmp_path / case.file
    plan.write_text(case.plan_text(), encoding="utf-8")
    with FakeWeCom(USERS) as wecom:
        for name, value in {"FUQUAN_CONFIG": str(plan), "FUQUAN_DATA_DIR": str(tmp_path / "data"),
                            "FUQUAN_LINK_SECRET": LINK_SECRET, "WECOM_CORP_ID": CORP_ID, "WECOM_AGENT_ID": AGENT_ID,
                            "WECOM_SECRET": SECRET, "WECOM_TOKEN": CALLBACK_TOKEN, "WECOM_AES_KEY": AES_KEY,
                            "WECOM_API_BASE": wecom.url}.items():
            monkeypatch.setenv(name, value)
        assert run("sync").code == 0
        yield World(case, wecom, db_url, tmp_path, run)


@dataclass
class Served:
    callback: str
    client: TestClient  # a 专班 member's session
    ctx: Context


@contextmanager
def served(world: World) -> Iterator[Served]:
    """The web app as `fuquan web` builds it, on 127.0.0.1, its clock at the run's moment."""
    now = world.case.now
    with open_context(Settings.from_env(), clock=lambda: now) as ctx:
        app, stop = build(ctx, socket_mode=False, sweep=False)
        server = uvicorn.Server(uvicorn.Config(app, host="127.0.0.1", port=0, access_log=False, log_level="warning",
                                               proxy_headers=False, server_header=False))
        thread = threading.Thread(target=server.run, name="fuquan-web-wecom", daemon=True)
        thread.start()
        try:
            for _ in range(300):  # (waits on the server, not on a clock the app reads)
                if server.started or not thread.is_alive():
                    break
                time.sleep(0.02)
            assert server.started, "the web app did not start"
            port = server.servers[0].sockets[0].getsockname()[1]
            ctx = ctx.choose()
            client = TestClient(app, base_url="http://127.0.0.1:8300")
            link = unit_links.personal_link(ctx, "专班", now, "周敏").rsplit("/l/", 1)[1]
            assert client.get(f"/l/{link}").status_code == 200
            yield Served(f"http://127.0.0.1:{port}/wecom/callback", client, ctx)
        finally:
            server.should_exit = True
            thread.join(15)
            stop()


def test_each_units_card_goes_once_to_its_contacts(world: World) -> None:
    world.remind()
    cards = world.cards()
    assert set(cards) == set(world.case.contacts)
    for unit, people in world.case.contacts.items():
        sent = cards[unit]
        assert sent["touser"] == [u for _, u in people] and sent["body"]["touser"] == "|".join(u for _, u in people)
        assert [(b["text"], b["key"]) for b in sent["card"]["button_list"]] == BUTTONS
        assert unit in sent["card"]["main_title"]["title"]
    assert len(world.wecom.task_ids()) == len(set(world.wecom.task_ids()))
    assert dbs.rows(world.url, "SELECT DISTINCT status FROM message WHERE dest_kind = 'wecom-app'") == [("sent",)]
    reach = dbs.rows(world.url, "SELECT unit, person_id, person_name, track FROM card_reach ORDER BY id")
    assert sorted(reach) == sorted((unit, uid, name, cards[unit]["card"]["task_id"])
                                   for unit, people in world.case.contacts.items() for name, uid in people)
    world.remind()  # the next run: nothing more
    assert len(world.wecom.messages) == len(world.case.contacts) and len(reach) == len(world.unanswered())


@pytest.mark.parametrize("fault", [("status", 429), ("status", 500)])
def test_a_refused_first_attempt_stays_pending_and_goes_once_on_the_next_run(
        world: World, fault: tuple[str, int]) -> None:
    world.wecom.fault("send", fault)
    world.remind()
    assert len(world.wecom.messages) == len(world.case.contacts) - 1
    [(unit, status, error)] = dbs.rows(world.url, "SELECT recipient, status, last_error FROM message "
                                                  "WHERE dest_kind = 'wecom-app' AND status != 'sent'")
    assert status == "pending" and error.startswith(f"http_{fault[1]}")
    assert dbs.rows(world.url, "SELECT s.result FROM send_log s JOIN message m ON m.id = s.message_id "
                               "WHERE m.recipient = :u", u=unit) == [("retry",)]
    assert not dbs.rows(world.url, "SELECT * FROM card_reach WHERE unit = :u", u=unit)
    world.remind()
    assert set(world.cards()) == set(world.case.contacts) and len(world.wecom.messages) == len(world.case.contacts)
    reached = dbs.rows(world.url, "SELECT person_id FROM card_reach WHERE unit = :u", u=unit)
    assert sorted(reached) == sorted((uid,) for _, uid in world.case.contacts[unit])
    world.remind()
    assert len(world.wecom.messages) == len(world.case.contacts)


def test_a_card_stored_but_unanswered_is_not_sent_twice(world: World) -> None:
    """WeCom stored the card and the connection dropped before its answer: `unknown`. WeCom cannot be asked what
    an app sent, so the next run sends it again under the same task_id; WeCom answers a task_id it already has
    with errcode 0 and does not push it again (an integrator's report, mirrored by the fake): the message counts
    as sent and each person has exactly one card."""
    world.wecom.fault("send", ("drop_after_accept",))
    world.remind()
    assert len(world.wecom.messages) == len(world.case.contacts)
    [(mid, status)] = dbs.rows(world.url, "SELECT id, status FROM message "
                                          "WHERE dest_kind = 'wecom-app' AND status != 'sent'")
    assert status == "unknown"
    world.remind()
    assert dbs.rows(world.url, "SELECT status FROM message WHERE id = :m", m=mid) == [("sent",)]
    results = dbs.rows(world.url, "SELECT result FROM send_log WHERE message_id = :m ORDER BY id", m=mid)
    assert results == [("unknown",), ("sent",)]
    assert len(world.wecom.messages) == len(set(world.wecom.task_ids())) == len(world.case.contacts)
    reached = [u for m in world.wecom.messages for u in m["touser"]]  # each person once
    assert sorted(reached) == sorted(u for people in world.case.contacts.values() for _, u in people)


def wait_for(what: Callable[[], object]) -> None:
    for _ in range(250):  # (the card is changed in a background thread)
        if what():
            return
        time.sleep(0.02)


def test_a_contacts_press_records_the_units_ack_once_in_their_name(world: World,
                                                                     caplog: pytest.LogCaptureFixture) -> None:
    caplog.set_level(logging.INFO, logger="fuquan.cards")
    world.remind()
    card = world.cards()[world.town]
    task, code, at = card["card"]["task_id"], card["response_code"], int(world.case.now.timestamp())
    with served(world) as web:
        signed = {"user": "wangfang", "task_id": task, "key": "ack", "create_time": at, "response_code": code}
        assert press(web.callback, **signed) == (200, "")
        n = world.acks()
        assert n > 0 and dbs.rows(world.url, "SELECT DISTINCT u.name FROM ack a JOIN unit u ON u.id = a.unit_id") == [
            (world.town,)]
        assert press(web.callback, **signed) == (200, "")
        assert world.acks() == n  # WeCom's retry (same CreateTime): nothing more, not even a card update
        assert [r.getMessage() for r in caplog.records if r.name == "fuquan.cards"] == [
            f"企业微信按钮: recorded {world.town}", "企业微信按钮: replayed "]
        audit = dbs.rows(world.url, "SELECT by, source FROM audit WHERE entity = 'ack'")
        assert audit == [(f"{world.town} (王芳)", "企业微信 wangfang")]
        assert dbs.rows(world.url, "SELECT person_id, action FROM card_reach WHERE answered_at IS NOT NULL") == [
            ("wangfang", "ack")]
        wait_for(lambda: world.wecom.updates)
        assert world.wecom.updates == [{"userids": ["wangfang"], "agentid": int(AGENT_ID), "response_code": code,
                                        "button": {"replace_name": "已签收"}}]


def test_presses_not_from_wecom_or_not_for_this_person_record_nothing(world: World) -> None:
    world.remind()
    cards = world.cards()
    other = list(world.case.contacts)[1]
    task, at = cards[world.town]["card"]["task_id"], int(world.case.now.timestamp())
    mine = {"user": "wangfang", "task_id": task, "key": "ack", "create_time": at}
    with served(world) as web:
        refused = {
            "bad signature": (403, mine | {"signature": "0" * 40}),
            "another corp": (403, mine | {"corp_id": "ww-another-corp"}),
            "another token": (403, mine | {"token": "not-the-token"}),
            "stale": (403, mine | {"create_time": at - 301}),
            "from the future": (403, mine | {"create_time": at + 301}),
            "another unit's contact": (200, mine | {"user": "zhaomin", "create_time": at + 1}),
            "own unit's card, not the press's": (200, mine | {"task_id": cards[other]["card"]["task_id"],
                                                              "create_time": at + 2}),
            "unknown task": (200, mine | {"task_id": "fq" + "0" * 32, "create_time": at + 3}),
            "unknown button": (200, mine | {"key": "delete", "create_time": at + 4}),
            "not in the address book": (200, mine | {"user": "ghost", "create_time": at + 5}),
        }
        for why, (status, kw) in refused.items():
            assert press(web.callback, **kw)[0] == status, why
        assert world.acks() == 0 and dbs.rows(world.url, "SELECT count(*) FROM audit WHERE entity = 'ack'") == [(0,)]
        assert dbs.rows(world.url, "SELECT count(*) FROM card_reach WHERE answered_at IS NOT NULL") == [(0,)]
        code = cards[world.town]["response_code"]
        assert press(web.callback, **mine, response_code=code)[0] == 200 and world.acks() > 0  # from WeCom: counts
        wait_for(lambda: world.wecom.updates)
    assert [u["response_code"] for u in world.wecom.updates] == [code]
    assert world.wecom.calls.count("update_template_card") == 1  # none for the refused presses


def test_the_url_check_answers_the_echostr(world: World) -> None:
    with served(world) as web:
        assert verify_url(web.callback, echo="echo-20240410") == (200, "echo-20240410")
        assert verify_url(web.callback, echo="x", token="not-the-token")[0] == 403
        assert verify_url(web.callback, echo="x", corp_id="ww-another-corp")[0] == 403


def test_the_desk_names_who_has_not_answered_until_the_card_is_signed(world: World) -> None:
    world.remind()
    card = world.cards()[world.town]
    at = int(world.case.now.timestamp())
    _, other = list(world.case.contacts)[:2]
    other_name = world.case.contacts[other][0][0]
    with served(world) as web:
        desk = web.client.get("/office").text
        assert "未回应: 王芳、李强 (企业微信)" in desk and f"未回应: {other_name} (企业微信)" in desk
        press(web.callback, user="liqiang", task_id=card["card"]["task_id"], key="feedback", create_time=at)
        desk = web.client.get("/office").text
        assert "未回应: 王芳 (企业微信)" in desk and "李强" not in desk and world.acks() == 0
        press(web.callback, user="wangfang", task_id=card["card"]["task_id"], key="ack", create_time=at,
              response_code=card["response_code"])
        desk = web.client.get("/office").text
        assert "王芳" not in desk and f"未回应: {other_name} (企业微信)" in desk and world.acks() > 0


def test_no_secret_in_logs_notify_file_database_or_pages(world: World, caplog: pytest.LogCaptureFixture) -> None:
    caplog.set_level(logging.DEBUG)
    world.wecom.fault("send", ("echo", 40058))  # an errmsg that repeats the request line, access token and all
    world.remind()
    world.remind()  # (the refused card goes now)
    card = world.cards()[world.town]
    with served(world) as web:
        assert press(web.callback, user="wangfang", task_id=card["card"]["task_id"], key="ack",
                     create_time=int(world.case.now.timestamp()), response_code=card["response_code"])[0] == 200
        assert press(web.callback, user="wangfang", task_id="x", key="ack", create_time=1, signature="0" * 40)[0] == 403
        pages = [web.client.get(p).text for p in ("/office", "/office/board")]
    stored = dbs.rows(world.url, "SELECT * FROM message") + dbs.rows(world.url, "SELECT * FROM send_log")
    notes = (world.tmp / "data" / "notifications.md").read_text(encoding="utf-8")
    assert world.wecom.issued and "errcode_40058" in str(stored)
    everything = "\n".join([caplog.text, notes, str(stored), *pages])
    for secret in (SECRET, CALLBACK_TOKEN, AES_KEY, LINK_SECRET, *world.wecom.issued):
        assert secret not in everything
