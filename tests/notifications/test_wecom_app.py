"""WeCom app: the notifier against a local fake of WeCom's API — one card per send, tokens cached and refreshed,
faults mapped to their categories, and neither the secret nor a token in any error. (The callback's crypto:
test_wecom_crypto.py.)"""

from __future__ import annotations

import logging
import threading
from collections.abc import Iterator
from datetime import UTC, datetime
from typing import Any

import pytest
from pydantic import SecretStr

from fuquan.errors import NotificationError
from fuquan.plans.policy import Destination
from fuquan.words.messages import Message, Section
from notifications.base import Outgoing
from notifications.wecom_app import SUB_LIMIT, WeComAppNotifier
from tests.wecom_server import AGENT_ID, CORP_ID, SECRET, FakeWeCom

# ── the notifier against the fake ────────────────────────────────────────────────────────────────────────────
PEOPLE = ("wangfang", "liqiang")


@pytest.fixture
def wecom() -> Iterator[FakeWeCom]:
    with FakeWeCom(set(PEOPLE) | {"zhaomin"}) as server:
        yield server


class Clock:
    def __init__(self) -> None:
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now


def notifier(server: FakeWeCom, clock: Clock | None = None, **kw: Any) -> WeComAppNotifier:
    args: dict[str, Any] = {"corp_id": CORP_ID, "agent_id": AGENT_ID, "secret": SecretStr(SECRET),
                            "api_base": server.url, "timeout": 1, "clock": clock or Clock()} | kw
    return WeComAppNotifier(**args)


def out(key: str = "k1", people: tuple[str, ...] = PEOPLE, link: str | None = "https://fq.example/u/abc",
        lines: int = 2) -> Outgoing:
    msg = Message("湾沚镇", "【测试区镇赋权督办】湾沚镇 待办提醒 (2023-04-28)",
                  (Section("已逾期", tuple(f"任务{i}「确定承接事项」 已逾期 20 个工作日" for i in range(lines))),))
    return Outgoing(key, Destination("wecom", "app"), msg, datetime.now(UTC), link=link, people=people)


def test_one_card_to_the_units_contacts_with_our_task_id_and_buttons(wecom: FakeWeCom) -> None:
    o = out()
    n = notifier(wecom)
    assert (n.kind, n.can_reconcile, n.find(o)) == ("wecom-app", False, None)
    assert n.send(o) == o.track
    assert len(wecom.messages) == 1 and n.trail == []
    m = wecom.messages[0]
    card = m["card"]
    assert m["touser"] == list(PEOPLE) and m["body"]["touser"] == "wangfang|liqiang"
    assert m["body"]["agentid"] == int(AGENT_ID) and m["body"]["enable_duplicate_check"] == 1
    assert card["task_id"] == o.track and card["card_type"] == "button_interaction"
    assert [(b["text"], b["key"]) for b in card["button_list"]] == [("签收", "ack"), ("反馈进展", "feedback"),
                                                                    ("申请延期", "extension")]
    assert card["main_title"]["title"] == o.message.title and "任务1「确定承接事项」" in card["sub_title_text"]
    assert card["card_action"] == {"type": 1, "url": o.link}
    assert wecom.token_fetches == 1


def test_without_a_link_the_card_has_no_click_action(wecom: FakeWeCom) -> None:
    notifier(wecom).send(out(link=None))
    assert "card_action" not in wecom.messages[0]["card"]


def test_a_long_message_is_cut_to_wecoms_length_with_a_note(wecom: FakeWeCom) -> None:
    notifier(wecom).send(out(lines=40))
    text = wecom.messages[0]["card"]["sub_title_text"]
    assert len(text) == SUB_LIMIT and text.endswith("完整内容请点击卡片查看)")
    assert len(wecom.messages[0]["card"]["main_title"]["title"]) <= 36


def test_the_token_is_cached_until_five_minutes_before_it_expires(wecom: FakeWeCom) -> None:
    clock = Clock()
    n = notifier(wecom, clock)
    n.send(out("k1"))
    clock.now += 7200 - 300 - 1
    n.send(out("k2"))
    assert wecom.token_fetches == 1
    clock.now += 2
    n.send(out("k3"))
    assert wecom.token_fetches == 2 and len(wecom.messages) == 3


def test_an_expired_token_is_replaced_once_and_the_card_still_goes(wecom: FakeWeCom) -> None:
    n = notifier(wecom)
    n.send(out("k1"))
    wecom.expire_tokens()  # WeCom expired it before our clock said so: errcode 42001
    assert n.send(out("k2")) == out("k2").track
    assert wecom.token_fetches == 2 and wecom.task_ids() == [out("k1").track, out("k2").track]
    assert n.trail == [("attempt", "errcode_42001")]


def test_a_token_refused_twice_is_an_auth_error(wecom: FakeWeCom) -> None:
    wecom.fault("send", ("errcode", 40014), ("errcode", 40014))
    with pytest.raises(NotificationError) as e:
        notifier(wecom).send(out())
    assert (e.value.category, e.value.code) == ("auth", "errcode_40014") and wecom.token_fetches == 2
    assert wecom.messages == []


def test_the_trail_is_per_thread(wecom: FakeWeCom) -> None:
    n = notifier(wecom)
    wecom.fault("send", ("errcode", 42001))
    worker = threading.Thread(target=n.send, args=(out("k1"),))
    worker.start()
    worker.join()
    assert n.trail == []
    n.send(out("k2"))
    assert n.trail == [] and len(wecom.messages) == 2


RETRY = {"429": ("status", 429), "500": ("status", 500), "502": ("status", 502), "45009": ("errcode", 45009),
         "45033": ("errcode", 45033), "system busy -1": ("errcode", -1)}


@pytest.mark.parametrize("fault", RETRY.values(), ids=RETRY.keys())
def test_rate_limits_and_server_errors_are_retry_and_nothing_is_stored_twice(wecom: FakeWeCom, fault: tuple) -> None:  # type: ignore[type-arg]
    wecom.fault("send", fault)
    n = notifier(wecom)
    with pytest.raises(NotificationError) as e:
        n.send(out())
    assert e.value.category == "retry" and wecom.messages == []
    n.send(out())  # the next run
    assert wecom.task_ids() == [out().track]


def test_a_failed_token_fetch_sent_nothing_so_it_is_retry(wecom: FakeWeCom) -> None:
    for fault in (("status", 500), ("drop_before",), ("answer", b"<html>busy</html>")):
        wecom.fault("gettoken", fault)
        with pytest.raises(NotificationError) as e:
            notifier(wecom).send(out())
        assert e.value.category == "retry", fault
    assert wecom.messages == [] and wecom.calls.count("send") == 0


def test_connection_refused_is_retry() -> None:
    with FakeWeCom(set(PEOPLE)) as server:
        n = notifier(server)
        n.check()  # a token in hand: the refused call below is the send itself
    with pytest.raises(NotificationError) as e:
        n.send(out())
    assert (e.value.category, e.value.code) == ("retry", "ConnectionRefusedError")
    n._tokens.drop()
    with pytest.raises(NotificationError) as e:  # and when it is the token fetch
        n.send(out())
    assert (e.value.category, e.value.code) == ("retry", "ConnectionRefusedError")
    n.check()  # unreachable is not a bad credential: the run goes on and each send says so


def test_a_connection_dropped_after_the_card_was_stored_is_unknown_and_the_resend_is_sent_once(
        wecom: FakeWeCom) -> None:
    wecom.fault("send", ("drop_after_accept",))
    n = notifier(wecom)
    with pytest.raises(NotificationError) as e:
        n.send(out())
    assert e.value.category == "unknown" and wecom.task_ids() == [out().track]
    assert n.send(out()) == out().track  # the same task_id again: errcode 0, nothing pushed (no response_code)
    assert wecom.task_ids() == [out().track]


def test_a_slow_answer_is_unknown(wecom: FakeWeCom) -> None:
    wecom.fault("send", ("slow_after_accept", 1.5))
    with pytest.raises(NotificationError) as e:
        notifier(wecom, timeout=0.3).send(out())
    assert e.value.category == "unknown"


@pytest.mark.parametrize("answer", [b"<html>502</html>", b"[]", b'{"errcode": "zero"}', b"{}"])
def test_an_unreadable_answer_to_a_send_is_unknown(wecom: FakeWeCom, answer: bytes) -> None:
    wecom.fault("send", ("answer", answer))
    with pytest.raises(NotificationError) as e:
        notifier(wecom).send(out())
    assert (e.value.category, e.value.code) == ("unknown", "bad_answer")


@pytest.mark.parametrize("kw,code", [({"secret": SecretStr("wrong-secret-value")}, "errcode_40001"),
                                     ({"corp_id": "ww-not-ours"}, "errcode_40013")])
def test_bad_credentials_are_auth_in_check_and_send(wecom: FakeWeCom, kw: dict[str, Any], code: str) -> None:
    n = notifier(wecom, **kw)
    for call in (n.check, lambda: n.send(out())):
        with pytest.raises(NotificationError) as e:
            call()
        assert (e.value.category, e.value.code, e.value.destination) == ("auth", code, "企业微信应用")
        assert "wrong-secret-value" not in str(e.value)
    assert wecom.messages == []


def test_ip_not_allowed_on_send_is_auth(wecom: FakeWeCom) -> None:
    wecom.fault("send", ("errcode", 60020))
    with pytest.raises(NotificationError) as e:
        notifier(wecom).send(out())
    assert (e.value.category, e.value.code) == ("auth", "errcode_60020")


def test_check_passes_with_good_credentials(wecom: FakeWeCom) -> None:
    notifier(wecom).check()
    assert wecom.token_fetches == 1


def test_no_people_is_a_destination_error_before_any_call(wecom: FakeWeCom) -> None:
    with pytest.raises(NotificationError) as e:
        notifier(wecom).send(out(people=()))
    assert (e.value.category, e.value.code) == ("destination", "no_contacts") and "wecom" in e.value.detail
    assert wecom.calls == []


def test_all_recipients_unknown_is_a_destination_error(wecom: FakeWeCom) -> None:
    with pytest.raises(NotificationError) as e:
        notifier(wecom).send(out(people=("nobody", "ghost")))
    assert (e.value.category, e.value.code) == ("destination", "errcode_81013") and wecom.messages == []
    # the same when WeCom says ok but lists every recipient as invalid
    wecom.fault("send", ("answer", {"errcode": 0, "errmsg": "ok", "invaliduser": "wangfang|liqiang"}))
    with pytest.raises(NotificationError) as e:
        notifier(wecom).send(out())
    assert (e.value.category, e.value.code) == ("destination", "invalid_user")


def test_some_recipients_unknown_is_delivered_to_the_others(wecom: FakeWeCom, caplog: pytest.LogCaptureFixture) -> None:
    n = notifier(wecom)
    with caplog.at_level(logging.WARNING, logger="fuquan.wecom"):
        assert n.send(out(people=("wangfang", "ghost"))) == out().track
    assert wecom.messages[0]["touser"] == ["wangfang"]
    assert "ghost" in caplog.text and SECRET not in caplog.text
    assert not any(t in caplog.text for t in wecom.issued)


def test_any_other_errcode_is_a_destination_error_with_its_code(wecom: FakeWeCom) -> None:
    with pytest.raises(NotificationError) as e:
        notifier(wecom, agent_id="1000999").send(out())
    assert (e.value.category, e.value.code) == ("destination", "errcode_40056")


def test_a_bad_agent_id_stops_the_run_before_any_call(wecom: FakeWeCom) -> None:
    n = notifier(wecom, agent_id="app-1")
    for call in (n.check, lambda: n.send(out())):
        with pytest.raises(NotificationError) as e:
            call()
        assert (e.value.category, e.value.code) == ("auth", "bad_agent_id") and "WECOM_AGENT_ID" in e.value.detail
    assert wecom.calls == []


def test_update_card_greys_out_the_buttons_once(wecom: FakeWeCom) -> None:
    n = notifier(wecom)
    n.send(out())
    code = wecom.messages[0]["response_code"]
    n.update_card(["wangfang"], code, "已签收")
    assert wecom.updates == [{"userids": ["wangfang"], "agentid": int(AGENT_ID), "response_code": code,
                              "button": {"replace_name": "已签收"}}]
    with pytest.raises(NotificationError) as e:  # a response_code is single use
        n.update_card(["wangfang"], code, "已签收")
    assert e.value.category == "destination" and len(wecom.updates) == 1


SECRET_LEAKS = {
    "gettoken errmsg echoes the request": ("gettoken", ("echo", 40001)),
    "send errmsg echoes the request": ("send", ("echo", 40058)),
    "update errmsg echoes the request": ("update_template_card", ("echo", 40058)),
    "send refused twice for its token": ("send", ("echo", 40014)),
    "dropped connection": ("send", ("drop_after_accept",)),
    "server error": ("send", ("status", 500)),
}


@pytest.mark.parametrize("path,fault", SECRET_LEAKS.values(), ids=SECRET_LEAKS.keys())
def test_no_error_carries_the_secret_or_a_token(wecom: FakeWeCom, path: str, fault: tuple) -> None:  # type: ignore[type-arg]
    n = notifier(wecom)
    n.check()  # a token in hand, so every path below runs with one
    wecom.fault(path, fault, fault)
    with pytest.raises(NotificationError) as e:
        if path == "gettoken":
            wecom.expire_tokens()
            n._tokens.drop()  # as when the cached token runs out
            n.send(out())
        elif path == "update_template_card":
            n.update_card(["wangfang"], "RC0", "已签收")
        else:
            n.send(out())
    text = f"{e.value} {e.value.detail} {e.value.code} {n.trail}"
    assert wecom.issued and SECRET not in text and not any(t in text for t in wecom.issued)
    if fault[0] == "echo":
        assert "***" in text  # the request line was there, and was redacted
