"""The real slack_sdk client against a local Slack-like server: every fault ends in exactly one message."""

from collections.abc import Iterator
from datetime import UTC, datetime

import pytest
from pydantic import SecretStr

from fuquan.errors import NotificationError
from fuquan.plans.policy import Destination
from fuquan.words.messages import Message, Section
from notifications.base import Outgoing
from notifications.slack import SlackNotifier, blocks
from tests.slack_server import TOKEN, FakeSlack

CHANNEL = "C0TOWN001"


@pytest.fixture
def slack() -> Iterator[FakeSlack]:
    with FakeSlack({CHANNEL, "C0ARCHIVED", "C0NOTIN01"}, archived={"C0ARCHIVED"}, not_in={"C0NOTIN01"}) as server:
        yield server


def notifier(server: FakeSlack, sleeps: list[float] | None = None, **kw) -> SlackNotifier:  # type: ignore[no-untyped-def]
    return SlackNotifier(SecretStr(kw.pop("token", TOKEN)), server.url, timeout=1,
                         sleep=(sleeps if sleeps is not None else []).append, **kw)


def out(key: str, channel: str = CHANNEL, lines: int = 2) -> Outgoing:
    msg = Message("湾沚镇", "【测试区镇赋权督办】湾沚镇 待办提醒 (2023-04-28)",
                  (Section("已逾期", tuple(f"任务{i}「确定承接事项」 已逾期 20 个工作日" for i in range(lines))),))
    return Outgoing(key, Destination("slack", channel), msg, datetime.now(UTC))


FAULTS = {
    "429 with Retry-After seconds": [("status", 429, {"Retry-After": "3"})],
    "429 with Retry-After as an HTTP date": [("status", 429, {"Retry-After": "http-date"})],
    "500": [("status", 500)],
    "502": [("status", 502)],
    "503 then 504": [("status", 503), ("status", 504)],
    "dropped connection after the message was accepted": [("drop_after_accept",)],
    "dropped connection before": [("drop_before_accept",)],
    "response slower than the client's timeout": [("slow_after_accept", 1.5)],
    "fatal_error": [("error", "fatal_error")],
    "everything at once": [("status", 429, {"Retry-After": "1"}), ("status", 500), ("drop_after_accept",)],
}


@pytest.mark.parametrize("faults", FAULTS.values(), ids=FAULTS.keys())
def test_each_fault_still_delivers_exactly_once(slack: FakeSlack, faults: list[tuple]) -> None:  # type: ignore[type-arg]
    slack.fault("chat.postMessage", *faults)
    sleeps: list[float] = []
    n = notifier(slack, sleeps)
    for _run in range(3):  # an outcome left "unknown" is looked for again by the next run before re-posting
        try:
            ts = n.find(out("k1")) or n.send(out("k1"))
            break
        except NotificationError as e:
            assert e.category in ("unknown", "retry")
    assert slack.keys(CHANNEL) == ["k1"]
    assert ts == slack.messages[CHANNEL][0]["ts"]
    assert all(s <= 120 for s in sleeps)


def test_a_timeout_is_not_followed_by_a_blind_repost(slack: FakeSlack) -> None:
    slack.fault("chat.postMessage", ("drop_before_accept",))
    with pytest.raises(NotificationError) as e:
        notifier(slack).send(out("k1"))
    assert e.value.category == "unknown" and slack.calls == ["chat.postMessage", "conversations.history"]


def test_retry_after_is_honoured(slack: FakeSlack) -> None:
    slack.fault("chat.postMessage", ("status", 429, {"Retry-After": "3"}), ("status", 429, {"Retry-After": "http-date"}))
    sleeps: list[float] = []
    notifier(slack, sleeps).send(out("k1"))
    assert sleeps[0] == 3.0 and 0.0 <= sleeps[1] <= 2.5  # the HTTP date was ~2 s ahead


def test_persistent_rate_limit_leaves_it_for_the_next_run(slack: FakeSlack) -> None:
    slack.fault("chat.postMessage", *[("status", 429, {"Retry-After": "1"})] * 5)
    with pytest.raises(NotificationError) as e:
        notifier(slack).send(out("k1"))
    assert (e.value.category, e.value.code) == ("retry", "ratelimited")
    assert slack.keys() == []


@pytest.mark.parametrize(("code", "category"), [
    ("channel_not_found", "destination"), ("not_in_channel", "destination"), ("is_archived", "destination"),
    ("invalid_auth", "auth"), ("token_revoked", "auth"), ("missing_scope", "auth"), ("account_inactive", "auth"),
])
def test_error_codes_are_classified(slack: FakeSlack, code: str, category: str) -> None:
    slack.fault("chat.postMessage", ("error", code))
    with pytest.raises(NotificationError) as e:
        notifier(slack).send(out("k1"))
    assert (e.value.category, e.value.code) == (category, code)
    assert TOKEN not in str(e.value) and TOKEN not in e.value.detail


def test_channel_errors_come_from_the_server_state(slack: FakeSlack) -> None:
    for channel, code in (("C0MISSING", "channel_not_found"), ("C0ARCHIVED", "is_archived"), ("C0NOTIN01", "not_in_channel")):
        with pytest.raises(NotificationError) as e:
            notifier(slack).send(out("k", channel))
        assert e.value.code == code


def test_wrong_token_is_an_auth_error(slack: FakeSlack) -> None:
    with pytest.raises(NotificationError) as e:
        notifier(slack, token="xoxb-wrong-token-123").send(out("k1"))
    assert e.value.category == "auth" and "xoxb-wrong-token-123" not in str(e.value)


def test_refused_blocks_fall_back_to_plain_text(slack: FakeSlack) -> None:
    slack.fault("chat.postMessage", ("error", "invalid_blocks"))
    notifier(slack).send(out("k1"))
    stored = slack.messages[CHANNEL][0]
    assert stored["blocks"] is None and "任务0「确定承接事项」" in stored["text"]


def test_blocks_respect_slack_limits() -> None:
    bs = blocks(out("k", lines=400).message)
    assert len(bs) <= 50 and bs[0]["type"] == "header"
    assert all(len(b["text"]["text"]) <= 3000 for b in bs if b["type"] == "section")
    assert sum(b["text"]["text"].count("•") for b in bs if b["type"] == "section") == 400


def test_find_looks_up_the_key_in_history(slack: FakeSlack) -> None:
    n = notifier(slack)
    assert n.find(out("k1")) is None
    ts = n.send(out("k1"))
    assert n.find(out("k1")) == ts and n.find(out("k2")) is None
