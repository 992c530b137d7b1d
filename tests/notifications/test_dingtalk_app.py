"""DingTalk's interactive cards: the notifier (urllib) and the Stream connection (the real dingtalk_stream SDK)
against a local fake of DingTalk's OpenAPI and Stream gateway (tests/dingtalk_server.py)."""

from __future__ import annotations

import json
import logging
import socket
import threading
from collections.abc import Iterator
from datetime import UTC, datetime
from typing import Any
from urllib.parse import quote_plus

import pytest
from pydantic import SecretStr

from fuquan.errors import NotificationError
from fuquan.plans.policy import Destination
from fuquan.words.messages import Message, Section
from notifications.base import Outgoing
from notifications.dingtalk_app import DingTalkCardNotifier, platform_code
from notifications.dingtalk_stream import CardStream, Press
from tests.dingtalk_server import (
    CARD_TOPIC,
    CLIENT_ID,
    CLIENT_SECRET,
    FAKE_LOGGER,
    ROBOT_CODE,
    TEMPLATE_ID,
    FakeDingTalk,
    frame,
)

LINK = "https://fuquan.example/a/tok-link-0000"  # (the fixtures `fake` and `no_proxy`: tests/notifications/conftest.py)


class Clock:
    def __init__(self) -> None:
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now


def notifier(fake: FakeDingTalk, clock: Clock | None = None, **kw: Any) -> DingTalkCardNotifier:
    return DingTalkCardNotifier(client_id=CLIENT_ID, client_secret=SecretStr(kw.pop("secret", CLIENT_SECRET)),
                                robot_code=kw.pop("robot_code", ROBOT_CODE), template_id=TEMPLATE_ID,
                                api_base=kw.pop("api_base", fake.api_base), timeout=kw.pop("timeout", 5),
                                clock=clock or Clock())


def out(key: str = "reminder|湾沚镇|2023-04-28", people: tuple[str, ...] = ("user-wf", "user-lq")) -> Outgoing:
    msg = Message("湾沚镇", "【测试区镇赋权督办】湾沚镇 待办提醒", (Section("即将到期", ("任务2「签订确认书」 今天到期",)),))
    return Outgoing(key, Destination("dingtalk-app", "湾沚镇"), msg, datetime.now(UTC), link=LINK, people=people)


def secrets_of(fake: FakeDingTalk) -> list[str]:
    """The app secret, every token and ticket issued, and each ticket as it stands in the URL."""
    return [CLIENT_SECRET, *fake.tokens, *fake.tickets, *(quote_plus(t) for t in fake.tickets)]


# -- the notifier ---------------------------------------------------------------------------------------

def test_a_card_is_delivered_once_under_our_out_track_id_to_every_contact(fake: FakeDingTalk) -> None:
    o = out()
    assert notifier(fake).send(o) == o.track
    assert list(fake.cards) == [o.track]
    body = fake.cards[o.track]
    assert body["openSpaceId"] == "dtv1.card//IM_ROBOT.user-wf;IM_ROBOT.user-lq"
    assert body["imRobotOpenDeliverModel"] == {"spaceType": "IM_ROBOT", "robotCode": ROBOT_CODE}
    assert body["cardTemplateId"] == TEMPLATE_ID and body["callbackType"] == "STREAM" and body["userIdType"] == 1
    assert body["imRobotOpenSpaceModel"] == {"supportForward": False}
    params = body["cardData"]["cardParamMap"]
    assert params["title"] == "【测试区镇赋权督办】湾沚镇 待办提醒" and params["link"] == LINK
    assert "任务2「签订确认书」 今天到期" in params["markdown"]
    assert all(isinstance(v, str) for v in params.values())


def test_the_token_is_cached_until_300_s_before_it_expires_then_fetched_again(fake: FakeDingTalk) -> None:
    clock = Clock()
    n = notifier(fake, clock)
    n.send(out("k1"))
    clock.now += 7200 - 300 - 1
    n.send(out("k2"))
    assert fake.token_fetches == 1
    clock.now += 1
    n.send(out("k3"))
    assert fake.token_fetches == 2 and len(fake.cards) == 3


def test_a_token_dingtalk_no_longer_takes_is_dropped_and_the_card_sent_once_more(fake: FakeDingTalk) -> None:
    n = notifier(fake)
    n.check()
    fake.revoke_tokens()
    o = out()
    assert n.send(o) == o.track
    assert fake.token_fetches == 2 and list(fake.cards) == [o.track]
    assert n.trail == [("attempt", "invalid_authentication")]


@pytest.mark.parametrize("status", [429, 500, 503])
def test_rate_limits_and_server_errors_are_retried_later_without_a_second_card(fake: FakeDingTalk, status: int) -> None:
    n, o = notifier(fake), out()
    fake.fault("createAndDeliver", ("status", status))
    with pytest.raises(NotificationError) as e:
        n.send(o)
    assert e.value.category == "retry" and e.value.destination == "钉钉应用"
    assert n.send(o) == o.track
    assert list(fake.cards) == [o.track] and fake.calls.count("createAndDeliver") == 2


def test_a_refused_connection_is_retried_later(fake: FakeDingTalk) -> None:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]  # closed again: nothing listens there
    with pytest.raises(NotificationError) as e:
        notifier(fake, api_base=f"http://127.0.0.1:{port}").send(out())
    assert e.value.category == "retry" and e.value.code == "ConnectionRefusedError"


@pytest.mark.parametrize("step", [("drop_after_store",), ("slow_after_store", 1.5), ("garbage_after_store",)])
def test_a_card_stored_but_not_answered_is_unknown(fake: FakeDingTalk, step: tuple[Any, ...]) -> None:
    o = out()
    fake.fault("createAndDeliver", step)
    with pytest.raises(NotificationError) as e:
        notifier(fake, timeout=0.3).send(o)
    assert e.value.category == "unknown"
    assert list(fake.cards) == [o.track]


def test_a_proxy_page_quoting_the_request_is_retried_and_quoted_nowhere(fake: FakeDingTalk) -> None:
    n = notifier(fake)
    n.check()
    fake.fault("createAndDeliver", ("echo",))  # a proxy's page quoting the request, token and all
    with pytest.raises(NotificationError) as e:
        n.send(out())
    assert e.value.category == "retry" and e.value.code == "http_502"  # a 5xx: nothing was stored behind it
    assert not any(s in str(e.value) + e.value.detail for s in secrets_of(fake))


def test_a_bad_secret_stops_the_run_before_a_card_is_sent(fake: FakeDingTalk) -> None:
    n = notifier(fake, secret="wrong-secret-0000")
    with pytest.raises(NotificationError) as e:
        n.check()
    assert e.value.category == "auth" and "DINGTALK_CLIENT_SECRET" in e.value.detail
    with pytest.raises(NotificationError) as e:
        n.send(out())
    assert e.value.category == "auth" and not fake.cards
    assert "wrong-secret-0000" not in str(e.value) + e.value.detail


def test_check_passes_with_a_good_secret_and_says_nothing_when_dingtalk_is_unreachable(fake: FakeDingTalk) -> None:
    notifier(fake).check()
    fake.fault("accessToken", ("status", 503))
    notifier(fake).check()
    assert fake.calls == ["accessToken", "accessToken"]


def test_a_unit_without_dingtalk_contacts_is_a_destination_error_and_nothing_is_called(fake: FakeDingTalk) -> None:
    with pytest.raises(NotificationError) as e:
        notifier(fake).send(out(people=()))
    assert (e.value.category, e.value.code) == ("destination", "no_contacts")
    assert "contacts 中的 dingtalk" in e.value.detail and fake.calls == []


def test_a_card_nobody_received_is_a_destination_error_a_partial_one_is_sent(
        fake: FakeDingTalk, caplog: pytest.LogCaptureFixture) -> None:
    n = notifier(fake)
    with pytest.raises(NotificationError) as e:
        n.send(out("k1", people=("user-gone", "user-left")))
    assert (e.value.category, e.value.code) == ("destination", "deliver_failed")
    caplog.set_level(logging.WARNING)
    o = out("k2", people=("user-wf", "user-gone"))
    assert n.send(o) == o.track
    assert any("1 位联系人未收到" in r.getMessage() and "user-gone" in r.getMessage() for r in caplog.records)


def test_other_refusals_carry_dingtalk_s_code(fake: FakeDingTalk) -> None:
    with pytest.raises(NotificationError) as e:
        notifier(fake, robot_code="not-our-robot").send(out())
    assert (e.value.category, e.value.code) == ("destination", "chatbot_not_found")
    assert platform_code("Forbidden.AccessDenied.QpsLimitForApi", 403) == "forbidden_access_denied_qps_limit_for_api"
    assert platform_code(None, 400) == "http_400"


def test_update_card_changes_the_given_variables_of_a_card(fake: FakeDingTalk) -> None:
    n, o = notifier(fake), out()
    n.send(o)
    n.update_card(o.track, {"state": "已签收"})
    assert fake.updates == [{"outTrackId": o.track, "cardData": {"cardParamMap": {"state": "已签收"}},
                             "cardUpdateOptions": {"updateCardDataByKey": True}}]
    assert notifier(fake).find(o) == o.track  # a card that exists is found (by updating it)
    assert notifier(fake).find(out("another")) is None  # (no such card: DingTalk refuses the update)


def test_no_secret_or_token_in_any_error_or_log(fake: FakeDingTalk, caplog: pytest.LogCaptureFixture) -> None:
    caplog.set_level(logging.DEBUG)
    said: list[str] = []
    n = notifier(fake)
    n.check()
    for route, step in [("createAndDeliver", ("echo",)), ("createAndDeliver", ("status", 429)),
                        ("createAndDeliver", ("drop_after_store",)), ("accessToken", ("echo",))]:
        fake.fault(route, step)
        if route == "accessToken":
            fake.revoke_tokens()
        try:
            n.send(out(f"k-{route}-{step[0]}"))
        except NotificationError as e:
            said += [str(e), e.detail]
    fake.revoke_tokens()
    for bad in ("wrong-secret-0000", CLIENT_SECRET):
        try:
            notifier(fake, secret=bad).send(out("k-last", people=("user-gone",)))
        except NotificationError as e:
            said += [str(e), e.detail]
    said += [r.getMessage() for r in caplog.records]
    assert len(said) >= 10
    assert not [s for s in said for secret in [*secrets_of(fake), "wrong-secret-0000"] if secret in s]


# -- the Stream connection ------------------------------------------------------------------------------

class Presses:
    """on_press: records every press; ack is answered with a card change, "boom" raises."""

    def __init__(self) -> None:
        self.got: list[Press] = []
        self.cond = threading.Condition()

    def __call__(self, press: Press) -> dict[str, Any] | None:
        with self.cond:
            self.got.append(press)
            self.cond.notify_all()
        if press.user_id == "boom":
            raise RuntimeError(f"database locked ({CLIENT_SECRET})")
        return {"cardData": {"cardParamMap": {"state": "已签收"}}} if press.action == "ack" else None


@pytest.fixture
def presses() -> Presses:
    return Presses()


@pytest.fixture
def stream(fake: FakeDingTalk, presses: Presses, caplog: pytest.LogCaptureFixture) -> Iterator[CardStream]:
    caplog.set_level(logging.DEBUG)  # every record of every logger, to look for the ticket and the secret
    s = CardStream(client_id=CLIENT_ID, client_secret=SecretStr(CLIENT_SECRET), on_press=presses,
                   api_base=fake.api_base, pause=0.05, max_pause=0.2)
    s.start()
    assert fake.wait_connected()
    yield s
    assert s.stop(timeout=10) and not s.running
    logged = ours(caplog.get_records("setup") + caplog.get_records("call") + caplog.records)
    assert fake.tickets and "/v1.0/gateway/connections/open" in logged  # urllib3's DEBUG lines: all were captured
    assert not [t for t in secrets_of(fake) if t in logged]


def ours(records: list[logging.LogRecord]) -> str:
    """Every log line but the fake server's own."""
    return "\n".join(r.getMessage() for r in records if not r.name.startswith(FAKE_LOGGER))


def answer_data(answer: dict[str, Any] | None) -> Any:
    assert answer is not None and answer["code"] == 200
    return json.loads(answer["data"])


def test_a_press_reaches_on_press_and_is_answered_with_its_result(fake: FakeDingTalk, stream: CardStream,
                                                                   presses: Presses) -> None:
    assert fake.subscriptions == [[{"type": "CALLBACK", "topic": CARD_TOPIC}]]
    answer = fake.push_press("user-wf", "fq0123", "ack", "msg-1")
    assert answer is not None and answer["headers"]["messageId"] == "msg-1"
    assert answer_data(answer) == {"response": {"cardData": {"cardParamMap": {"state": "已签收"}}}}
    assert answer_data(fake.push_press("user-lq", "fq0123", "feedback", "msg-2", field="content")) == {"response": {}}
    assert answer_data(fake.push_press("user-lq", "fq0456", "extension", "msg-3", field="value")) == {"response": {}}
    assert presses.got == [Press("msg-1", "user-wf", "fq0123", "ack"), Press("msg-2", "user-lq", "fq0123", "feedback"),
                           Press("msg-3", "user-lq", "fq0456", "extension")]


def test_a_ping_is_echoed(fake: FakeDingTalk, stream: CardStream) -> None:
    sent = frame("SYSTEM", "ping", json.dumps({"opaque": "abc-123"}), "ping-1")
    answer = fake.push(sent)
    assert answer is not None and answer["code"] == 200 and answer["headers"]["messageId"] == "ping-1"
    assert json.loads(answer["data"]) == {"opaque": "abc-123"}
    assert answer_data(fake.ping("second")) == {"opaque": "second"}


def test_garbage_and_refused_presses_are_answered_and_ignored(fake: FakeDingTalk, stream: CardStream,
                                                              presses: Presses) -> None:
    not_json = frame("CALLBACK", CARD_TOPIC, "{not json", "bad-1")
    nobody = frame("CALLBACK", CARD_TOPIC, json.dumps({"outTrackId": "fq0123", "content": "{}"}), "bad-2")
    other_topic = frame("CALLBACK", "/v1.0/im/bot/messages/get", "{}", "bad-3")
    event = frame("EVENT", "chat_update", "{}", "bad-4")
    for sent in (not_json, nobody, other_topic, event):
        answer = fake.push(sent)
        assert answer is not None and answer["headers"]["messageId"] == sent["headers"]["messageId"], sent
    assert answer_data(fake.push_press("user-wf", "fq0123", "dance", "odd-1")) == {"response": {}}
    assert answer_data(fake.push_press("boom", "fq0123", "ack", "boom-1")) == {"response": {}}
    assert [p.action for p in presses.got] == ["", "ack"]
    assert presses.got[0] == Press("odd-1", "user-wf", "fq0123", "")


def test_after_a_dropped_connection_it_reconnects_and_still_delivers(fake: FakeDingTalk, stream: CardStream,
                                                                     presses: Presses) -> None:
    fake.drop()
    assert fake.wait_connected(2)
    assert answer_data(fake.push_press("user-wf", "fq0123", "ack", "after-drop"))["response"]
    assert presses.got == [Press("after-drop", "user-wf", "fq0123", "ack")]
    assert fake.refused == 0  # a fresh ticket for every connection


def test_after_a_system_disconnect_it_answers_reconnects_and_still_delivers(fake: FakeDingTalk, stream: CardStream,
                                                                            presses: Presses) -> None:
    assert fake.disconnect() is not None
    assert fake.wait_connected(2)
    assert answer_data(fake.push_press("user-lq", "fq0789", "extension", "after-disconnect")) == {"response": {}}
    assert presses.got == [Press("after-disconnect", "user-lq", "fq0789", "extension")]
    assert len(fake.tickets) >= 2


def test_a_refused_gateway_is_retried_and_stop_ends_it(fake: FakeDingTalk, caplog: pytest.LogCaptureFixture) -> None:
    caplog.set_level(logging.DEBUG)
    fake.fault("open", ("echo",), ("echo",))  # a proxy's page quoting the request, client secret and all
    s = CardStream(client_id=CLIENT_ID, client_secret=SecretStr(CLIENT_SECRET), on_press=Presses(),
                   api_base=fake.api_base, pause=0.05, max_pause=0.2)
    s.start()
    assert fake.wait_connected()
    assert fake.calls[:3] == ["open", "open", "open"]
    assert s.stop(timeout=10) and not s.running
    logged = ours(caplog.records)
    assert "open connection failed" in logged and CLIENT_SECRET not in logged
    assert not [t for t in secrets_of(fake) if t in logged]


def test_stop_ends_a_stream_that_never_connected() -> None:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
    s = CardStream(client_id=CLIENT_ID, client_secret=SecretStr(CLIENT_SECRET), on_press=Presses(),
                   api_base=f"http://127.0.0.1:{port}", pause=0.05, max_pause=0.2)
    assert s.stop()  # never started
    s = CardStream(client_id=CLIENT_ID, client_secret=SecretStr(CLIENT_SECRET), on_press=Presses(),
                   api_base=f"http://127.0.0.1:{port}", pause=0.05, max_pause=0.2)
    s.start()
    assert s.running
    assert s.stop(timeout=10) and not s.running
