"""DingTalk's robot 1:1 message (notifications.dingtalk_oto), the 签收 chase's repeat whose readers DingTalk reports:
its batchSend and readStatus calls against the local fake (tests/dingtalk_server.py), every refusal's class, a send
in doubt never sent twice, and no secret in what it raises."""

from __future__ import annotations

import json
from datetime import UTC, datetime

import pytest
from pydantic import SecretStr

from fuquan.errors import NotificationError
from fuquan.plans.policy import Destination
from fuquan.words.messages import Message, Section
from notifications.base import Outgoing, ReadStatus
from notifications.dingtalk_oto import BUTTON, DingTalkOtoNotifier, oto_message
from tests.dingtalk_server import CLIENT_ID, CLIENT_SECRET, ROBOT_CODE, TEMPLATE_ID, FakeDingTalk

LINK = "https://fuquan.example/l/tok-link-0000"  # (the fixtures `fake` and `no_proxy`: tests/notifications/conftest.py)
NOW = datetime(2024, 4, 12, 2, 0, tzinfo=UTC)


def notifier(fake: FakeDingTalk) -> DingTalkOtoNotifier:
    return DingTalkOtoNotifier(client_id=CLIENT_ID, client_secret=SecretStr(CLIENT_SECRET), robot_code=ROBOT_CODE,
                               template_id=TEMPLATE_ID, api_base=fake.api_base, timeout=2)


def out(people: tuple[str, ...] = ("user-wf", "user-lq"), link: str | None = LINK) -> Outgoing:
    msg = Message("青山镇", "【青山区镇赋权督办】青山镇 提醒未签收, 请签收 (2024-04-12)",
                  (Section("请签收", ("任务3「编制赋权事项清单」: 04-10 发出的提醒已 2 个工作日未签收",)),))
    return Outgoing("again-key", Destination("dingtalk-oto", "青山镇"), msg, NOW, link, True, people)


def test_the_body_is_an_action_card_opening_the_unit_s_page_or_markdown_without_a_link() -> None:
    body = oto_message(out(), ROBOT_CODE)
    assert body["robotCode"] == ROBOT_CODE and body["userIds"] == ["user-wf", "user-lq"]
    assert body["msgKey"] == "sampleActionCard"
    param = json.loads(body["msgParam"])
    assert param["singleURL"] == LINK and param["singleTitle"] == BUTTON and "任务3" in param["text"]
    plain = oto_message(out(link=None), ROBOT_CODE)
    assert plain["msgKey"] == "sampleMarkdown" and "singleURL" not in json.loads(plain["msgParam"])


def test_a_send_returns_the_handle_of_its_read_status_and_reads_say_who_opened_it(fake: FakeDingTalk) -> None:
    n = notifier(fake)
    assert isinstance(n, ReadStatus)
    key = n.send(out())
    assert fake.oto[key]["delivered"] == ["user-wf", "user-lq"] and fake.oto[key]["msgParam"]["singleURL"] == LINK
    assert n.reads(key, NOW) == {"user-wf": None, "user-lq": None}
    fake.read("user-lq", key, at_ms=1_712_887_200_000)
    assert n.reads(key, NOW) == {"user-wf": None, "user-lq": datetime(2024, 4, 12, 2, 0, tzinfo=UTC)}
    assert fake.calls.count("batchSend") == 1 and fake.token_fetches == 1


def test_nobody_reachable_is_a_destination_error_and_all_held_back_is_retry(fake: FakeDingTalk) -> None:
    with pytest.raises(NotificationError) as e:
        notifier(fake).send(out(("user-nobody",)))
    assert e.value.category == "destination" and "contacts" in str(e.value)
    fake.flow_controlled = {"user-wf", "user-lq"}
    with pytest.raises(NotificationError) as e:
        notifier(fake).send(out())
    assert e.value.category == "retry" and e.value.code == "flow_controlled"
    assert not fake.oto


def test_some_held_back_is_sent_and_they_read_as_unread(fake: FakeDingTalk, caplog: pytest.LogCaptureFixture) -> None:
    fake.flow_controlled = {"user-lq"}
    n = notifier(fake)
    key = n.send(out())
    assert fake.oto[key]["delivered"] == ["user-wf"]
    assert "user-lq" in caplog.text and n.reads(key, NOW) == {"user-wf": None}


@pytest.mark.parametrize("status, category", [(429, "retry"), (500, "retry"), (403, "auth")])
def test_refusals_are_classed(fake: FakeDingTalk, status: int, category: str) -> None:
    fake.fault("batchSend", ("status", status))
    with pytest.raises(NotificationError) as e:
        notifier(fake).send(out())
    assert e.value.category == category and not fake.oto


def test_a_send_in_doubt_is_never_sent_again(fake: FakeDingTalk) -> None:
    """A connection cut after DingTalk delivered: unknown; and `find` cannot tell, so it stays unknown rather than
    risk a second copy (the 专班 is told by the reminder run)."""
    fake.fault("batchSend", ("drop_after_store",))
    n = notifier(fake)
    with pytest.raises(NotificationError) as e:
        n.send(out())
    assert e.value.category == "unknown" and len(fake.oto) == 1
    with pytest.raises(NotificationError) as e:
        n.find(out())
    assert e.value.category == "unknown" and fake.calls.count("batchSend") == 1


def test_read_status_refusals_raise_and_no_secret_shows(fake: FakeDingTalk) -> None:
    n = notifier(fake)
    with pytest.raises(NotificationError) as e:
        n.reads("pqk-not-ours", NOW)
    assert e.value.category == "destination"
    fake.fault("readStatus", ("status", 503))
    key = n.send(out())
    with pytest.raises(NotificationError) as e:
        n.reads(key, NOW)
    assert e.value.category == "retry"
    fake.fault("readStatus", ("echo",))
    with pytest.raises(NotificationError) as e:
        n.reads(key, NOW)
    text = f"{e.value} {e.value.detail}"
    assert not [s for s in [CLIENT_SECRET, *fake.tokens] if s in text]
