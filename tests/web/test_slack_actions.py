"""Slack buttons on reminders, through the real slack_sdk client against local servers: a Socket Mode WebSocket
server (tests/socket_server.py) and signed HTTP posts to /slack/actions. A press records 签收 once; forged,
stale, replayed and cross-unit presses record nothing; 申请延期 opens a modal whose submission records a request."""

from __future__ import annotations

import hashlib
import hmac
import json
import time
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any
from urllib.parse import urlencode

import pytest
from slack_sdk import WebClient
from starlette.testclient import TestClient

from flows import dispatch
from tests import dbs
from tests.conftest import ROOT
from tests.slack_server import TOKEN, FakeSlack
from tests.socket_server import APP_TOKEN, FakeSocketMode
from usecases.context import Context, open_context
from usecases.settings import Settings
from web.guard import Door
from web.serve import build, start_socket_mode
from web.slack import SlackActions

NOW = datetime(2024, 4, 10, 2, 0, tzinfo=UTC)  # 10:00 in 青山县
SIGNING = "slack-signing-secret-for-tests-0001"
CHANNELS = {"青山镇": "C0QINGSHAN", "龙潭镇": "C0LONGTAN", "专班": "C0ZHUANBAN"}
PLAN = (ROOT / "tests" / "plans" / "qingshan-2024.yaml").read_text(encoding="utf-8").replace(
    "channels:\n  units: {}",
    "channels:\n  专班: {slack: C0ZHUANBAN}\n  units:\n    青山镇: {slack: C0QINGSHAN}\n    龙潭镇: {slack: C0LONGTAN}")


@dataclass
class World:
    slack: FakeSlack
    url: str
    ctx: Context

    def key(self, unit: str) -> str:
        """The outbox key the 签收 button of `unit`'s reminder carries (read from the posted blocks)."""
        [msg] = [m for m in self.slack.messages[CHANNELS[unit]] if m.get("blocks")]
        blocks = msg["blocks"] if isinstance(msg["blocks"], list) else json.loads(msg["blocks"])
        [actions] = [b for b in blocks if b["type"] == "actions"]
        [ack] = [e for e in actions["elements"] if e["action_id"] == "fuquan_ack"]
        return str(ack["value"])

    def acks(self, unit: str) -> int:
        return dbs.rows(self.url, "SELECT count(*) FROM ack a JOIN unit u ON u.id = a.unit_id WHERE u.name = :u",
                        u=unit)[0][0]


@pytest.fixture
def world(run, db_url: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[World]:  # type: ignore[no-untyped-def]
    monkeypatch.setitem(dispatch.PACE, "slack", 0.0)  # Slack's one post a second per channel: not what is tested here
    for proxy in ("HTTPS_PROXY", "https_proxy", "HTTP_PROXY", "http_proxy"):
        monkeypatch.delenv(proxy, raising=False)  # slack_sdk's Socket Mode client would tunnel through one
    plan = tmp_path / "qingshan.yaml"
    plan.write_text(PLAN, encoding="utf-8")
    with FakeSlack(set(CHANNELS.values())) as slack:
        monkeypatch.setenv("FUQUAN_CONFIG", str(plan))
        monkeypatch.setenv("FUQUAN_DATA_DIR", str(tmp_path / "data"))
        monkeypatch.setenv("FUQUAN_LINK_SECRET", "slack-test-link-secret-0123456789")
        monkeypatch.setenv("SLACK_BOT_TOKEN", TOKEN)
        monkeypatch.setenv("FUQUAN_SLACK_API_URL", slack.url)
        monkeypatch.setenv("SLACK_SIGNING_SECRET", SIGNING)
        assert run("sync").code == 0
        assert run("remind", "--today", "2024-04-10", "--force").code == 0
        with open_context(Settings.from_env(), clock=lambda: NOW) as ctx:
            yield World(slack, db_url, ctx)


def press(key: str, channel: str, action: str = "fuquan_ack", user: str = "U0TOWN") -> dict[str, Any]:
    return {"type": "block_actions", "user": {"id": user}, "channel": {"id": channel}, "trigger_id": "1.2.t",
            "actions": [{"action_id": action, "value": key, "block_id": "fuquan_answer"}]}


def test_reminders_carry_buttons_and_the_link(world: World) -> None:
    msg = world.slack.messages["C0QINGSHAN"][0]
    blocks = msg["blocks"] if isinstance(msg["blocks"], list) else json.loads(msg["blocks"])
    elements = [b for b in blocks if b["type"] == "actions"][0]["elements"]
    assert [e["text"]["text"] for e in elements] == ["签收", "反馈进展", "申请延期"]
    assert elements[1]["url"].startswith("http://127.0.0.1:8300/l/") and elements[1]["url"] in msg["text"]
    # a message forwarded to the 专班 for a unit without a channel carries no buttons: they would act for the 专班
    forwarded = [m for m in world.slack.messages["C0ZHUANBAN"] if "尚未配置接收渠道" in (m["text"] or "")]
    assert forwarded and all("fuquan_ack" not in json.dumps(m["blocks"]) for m in forwarded)
    assert "slack-test-link-secret" not in json.dumps(world.slack.messages, ensure_ascii=False)


def test_socket_mode_press_records_once_and_refuses_the_rest(world: World) -> None:
    door = Door(world.ctx)
    actions = SlackActions(door, None, WebClient(token=TOKEN, base_url=world.slack.url))
    with FakeSocketMode() as server:
        stop = start_socket_mode(actions, APP_TOKEN, WebClient(base_url=server.api_url))
        try:
            assert server.wait_connected()
            mine, other = world.key("青山镇"), world.key("龙潭镇")
            # cross-unit: 龙潭镇's reminder pressed in 青山镇's channel; a made-up key; both acknowledged by Slack,
            # neither recorded
            assert server.deliver(press(other, "C0QINGSHAN")) is not None
            assert server.deliver(press("1:2024-04-10:龙潭镇:9", "C0LONGTAN")) is not None
            assert world.acks("龙潭镇") == 0 and world.acks("青山镇") == 0
            ack = server.deliver(press(mine, "C0QINGSHAN"))
            assert ack is not None and "envelope_id" in ack
            n = world.acks("青山镇")
            assert n > 0
            server.deliver(press(mine, "C0QINGSHAN"))  # pressed again: nothing more
            assert world.acks("青山镇") == n and world.acks("龙潭镇") == 0
            audit = dbs.rows(world.url, "SELECT by, source FROM audit WHERE entity = 'ack'")
            assert audit == [("青山镇 (Slack U0TOWN)", "slack socket C0QINGSHAN")]

            # 申请延期: a modal, then its submission records a request for the unit the message was for
            server.deliver(press(mine, "C0QINGSHAN", "fuquan_extend"))
            [view] = world.slack.views
            task = next(o["value"] for o in view["blocks"][0]["element"]["options"] if o["value"].startswith("12|"))
            submitted = {"type": "view_submission", "user": {"id": "U0TOWN"}, "view": {
                "id": "V0001", "callback_id": view["callback_id"], "private_metadata": view["private_metadata"],
                "state": {"values": {"task": {"v": {"selected_option": {"value": task}}},
                                     "new_due": {"v": {"selected_date": "2024-07-15"}},
                                     "reason": {"v": {"value": "汛期人手不足"}}}}}}
            server.deliver(submitted)
            server.deliver(submitted)  # submitted twice (a retry): one request
            forged = json.loads(view["private_metadata"]) | {"key": other}
            server.deliver(submitted | {"view": submitted["view"] | {"private_metadata": json.dumps(forged)}})
            rows = dbs.rows(world.url, "SELECT u.name, e.new_due, e.state, e.by FROM extension e "
                                       "JOIN unit u ON u.id = e.unit_id")
            assert [(u, str(d), s, b) for u, d, s, b in rows] == [("青山镇", "2024-07-15", "待批", "青山镇 (Slack U0TOWN)")]
        finally:
            stop()


def _signed(body: bytes, at: float, secret: str = SIGNING) -> dict[str, str]:
    sig = "v0=" + hmac.new(secret.encode(), f"v0:{int(at)}:".encode() + body, hashlib.sha256).hexdigest()
    return {"X-Slack-Request-Timestamp": str(int(at)), "X-Slack-Signature": sig,
            "Content-Type": "application/x-www-form-urlencoded"}


def test_http_request_url_checks_signature_age_and_replay(world: World) -> None:
    app, stop = build(world.ctx)
    try:
        client = TestClient(app, base_url="http://127.0.0.1:8300")
        mine = world.key("青山镇")
        body = urlencode({"payload": json.dumps(press(mine, "C0QINGSHAN"))}).encode()
        now = NOW.timestamp()
        refused = [
            (body, _signed(body, now, "not-the-secret")),  # forged
            (body, _signed(body, now - 301)),  # older than five minutes
            (body, {"X-Slack-Request-Timestamp": "abc", "X-Slack-Signature": "v0=00"}),  # SignatureVerifier raises on this
            (b"payload=%FF%FE", _signed(b"payload=%FF%FE", now)),  # signed, but not a payload
            (urlencode({"payload": json.dumps(press(world.key("龙潭镇"), "C0QINGSHAN"))}).encode(),
             _signed(urlencode({"payload": json.dumps(press(world.key("龙潭镇"), "C0QINGSHAN"))}).encode(), now)),
        ]
        codes = [client.post("/slack/actions", content=b, headers=h).status_code for b, h in refused]
        assert codes[:3] == [401, 401, 401] and codes[3] == 400 and codes[4] == 200
        assert world.acks("青山镇") == 0 and world.acks("龙潭镇") == 0
        headers = _signed(body, now)
        assert client.post("/slack/actions", content=body, headers=headers).status_code == 200
        n = world.acks("青山镇")
        assert n > 0
        assert client.post("/slack/actions", content=body, headers=headers).status_code == 409  # the same body replayed
        assert world.acks("青山镇") == n
        audit = dbs.rows(world.url, "SELECT by, source FROM audit WHERE entity = 'ack'")
        assert audit == [("青山镇 (Slack U0TOWN)", "slack http C0QINGSHAN")]
    finally:
        stop()


def test_closing_the_socket_mode_client_is_quick(world: World) -> None:
    door = Door(world.ctx)
    actions = SlackActions(door, None, WebClient(token=TOKEN, base_url=world.slack.url))
    with FakeSocketMode() as server:
        stop = start_socket_mode(actions, APP_TOKEN, WebClient(base_url=server.api_url))
        assert server.wait_connected()
        began = time.monotonic()
        stop()
        # slack_sdk's own close() waits 3 s on a blocked read; ours must not (a wide margin: CI shares two cores)
        assert time.monotonic() - began < 2.5


def test_malformed_presses_are_acknowledged_and_record_nothing(world: World) -> None:
    """Payloads not shaped as Slack sends them (a tampered modal, a task number Python reads but int() refuses,
    actions that are not a list) get Slack's acknowledgement and record nothing; the client keeps working."""
    door = Door(world.ctx)
    actions = SlackActions(door, None, WebClient(token=TOKEN, base_url=world.slack.url))
    with FakeSocketMode() as server:
        stop = start_socket_mode(actions, APP_TOKEN, WebClient(base_url=server.api_url))
        try:
            assert server.wait_connected()
            mine = world.key("青山镇")
            server.deliver(press(mine, "C0QINGSHAN", "fuquan_extend"))
            [view] = world.slack.views
            values = {"task": {"v": {"selected_option": {"value": "²|"}}}, "new_due": {"v": {"selected_date": "2024-07-15"}},
                      "reason": {"v": {"value": "x"}}}
            bad = [
                {"type": "view_submission", "user": {"id": "U0TOWN"}, "view": {
                    "id": "V1", "callback_id": view["callback_id"], "private_metadata": "not json", "state": {"values": values}}},
                {"type": "view_submission", "user": {"id": "U0TOWN"}, "view": {
                    "id": "V2", "callback_id": view["callback_id"], "private_metadata": view["private_metadata"],
                    "state": {"values": values}}},
                {"type": "block_actions", "user": {"id": "U0TOWN"}, "channel": {"id": "C0QINGSHAN"}, "actions": {"x": 1}},
                {"type": "block_actions", "user": "U0TOWN", "channel": "C0QINGSHAN", "actions": [{"value": mine}]},
            ]
            for payload in bad:
                assert server.deliver(payload) is not None, payload
            assert dbs.rows(world.url, "SELECT count(*) FROM extension") == [(0,)] and world.acks("青山镇") == 0
            assert server.deliver(press(mine, "C0QINGSHAN")) is not None and world.acks("青山镇") > 0
        finally:
            stop()


def test_a_month_of_the_monthly_report_is_extended_from_slack_by_its_period(world: World) -> None:
    """The modal offers a town's 月报 months by their period; the request names that month, and once granted only
    that month's due date moves (issue 25: an empty period used to add a row and move nothing owed)."""
    from fuquan.tracking.actor import Actor
    from usecases.answers import decide_extension
    from usecases.commands import DecideExtension
    from usecases.pages import unit_rows

    door = Door(world.ctx)
    actions = SlackActions(door, None, WebClient(token=TOKEN, base_url=world.slack.url))
    actions.socket("e1", press(world.key("青山镇"), "C0QINGSHAN", "fuquan_extend"))
    [view] = world.slack.views
    options = [o["value"] for o in view["blocks"][0]["element"]["options"]]
    assert "15|2024-04" in options and "15|" not in options  # the month, never an item-less whole share
    actions.socket("e2", {"type": "view_submission", "user": {"id": "U0TOWN"}, "view": {
        "id": "V0002", "callback_id": view["callback_id"], "private_metadata": view["private_metadata"],
        "state": {"values": {"task": {"v": {"selected_option": {"value": "15|2024-04"}}},
                             "new_due": {"v": {"selected_date": "2024-04-30"}},
                             "reason": {"v": {"value": "数据待核"}}}}}})
    [(ext_id, period, state)] = dbs.rows(world.url, "SELECT id, period, state FROM extension")
    assert (period, state) == ("2024-04", "待批")
    ctx = world.ctx.choose()
    said = decide_extension(ctx, DecideExtension(extension_id=ext_id, grant=True), actor=Actor("专班 李明", "web 127.0.0.1"),
                            now=NOW)
    assert "2024-04-30" in said
    months = {r.period: r.judgement.due for r in unit_rows(ctx, "青山镇", NOW.date()) if r.task_no == 15}
    assert str(months["2024-04"]) == "2024-04-30"
    assert all(str(due).endswith("-25") for p, due in months.items() if p != "2024-04")
