"""SMS for the final escalation: the text (sign first, never a link, never longer than allowed, cut cleanly), the
phone numbers (mainland mobiles only), and the notifier against a local fake gateway — one message per send,
each fault in its category, nothing recorded twice, and neither the URL's key nor the token in any error or log."""

from __future__ import annotations

import logging
import threading
from collections.abc import Iterator
from dataclasses import replace
from datetime import UTC, datetime
from typing import Any

import pytest
from pydantic import SecretStr

from fuquan.errors import NotificationError
from fuquan.plans.policy import Destination
from fuquan.words.messages import Message, Section
from notifications.base import Outgoing
from notifications.sms import ENDING, SmsNotifier, mobile, sms_text
from tests.sms_server import KEY, TOKEN, FakeSms

SIGN = "【莲河县镇赋权督办】"
PHONES = ("13800138000", "15912345678")
LINK = "https://fq.example.cn/u/abcDEF123"


def out(key: str = "k1", people: tuple[str, ...] = PHONES, link: str | None = LINK, lines: int = 1,
        extra: tuple[str, ...] = (), note: str | None = None) -> Outgoing:
    msg = Message("湾沚镇", "【莲河县镇赋权督办】湾沚镇 待办提醒 (2023-04-28)",
                  (Section("已逾期", tuple(f"任务{i}「确定承接事项」 已逾期 20 个工作日" for i in range(lines)) + extra),),
                  note)
    return Outgoing(key, Destination("sms", "湾沚镇"), msg, datetime.now(UTC), link=link, people=people)


# ── the text ─────────────────────────────────────────────────────────────────────────────────────────────────
def test_a_short_message_is_sign_title_lines_and_the_ending() -> None:
    assert sms_text(out(lines=2), SIGN, 140) == (
        "【莲河县镇赋权督办】湾沚镇 待办提醒 (2023-04-28)\n"
        "已逾期: 任务0「确定承接事项」 已逾期 20 个工作日；任务1「确定承接事项」 已逾期 20 个工作日\n" + ENDING)


def test_the_configured_sign_replaces_the_titles_and_no_other_bracket_is_left() -> None:
    text = sms_text(out(extra=("见【区委编办】通知",)), "青山区督办", 140)
    assert text.startswith("【青山区督办】湾沚镇") and text.count("【") == text.count("】") == 1
    assert "〔区委编办〕" in text
    assert sms_text(out(), "", 140).startswith(SIGN + "湾沚镇")  # no sign configured: the title's own


URLS = (LINK, "http://127.0.0.1:8300/u/x?t=1", "www.example.com/a", "fq.example.cn/u/abc", "HTTPS://EXAMPLE.COM",
        "lianhe.gov.cn", "10.1.2.3:8300/u/tok")


def test_the_text_never_carries_a_link_or_the_link_line() -> None:
    o = out(extra=tuple(f"请点击{u}查看" for u in URLS), note=f"签收、反馈进展、申请延期请点击: {LINK}")
    for max_chars in (140, 1000):
        text = sms_text(o, SIGN, max_chars)
        assert not any(bad in text.lower() for bad in ("http", "://", "www.", ".cn", ".com", "8300", "abcdef123"))
        assert "请点击" in text and "查看" in text  # the words around a link stay, only the link goes
        assert "签收、反馈进展、申请延期请点击" not in text and LINK not in text


@pytest.mark.parametrize("lines", [0, 1, 3, 30])
@pytest.mark.parametrize("sign", [SIGN, "", "县督办"])
def test_the_text_never_exceeds_max_chars_and_starts_with_the_sign(lines: int, sign: str) -> None:
    o = out(lines=lines, note="区委编办 尚未配置接收渠道, 本提醒发至专班, 请转达。" if lines == 3 else None)
    expected_sign = (sign if sign.startswith("【") else f"【{sign}】") if sign else SIGN
    whole = sms_text(o, sign, 10_000).removesuffix("\n" + ENDING)
    for max_chars in range(len(expected_sign) + 11, 400):
        text = sms_text(o, sign, max_chars)
        assert len(text) <= max_chars and text.startswith(expected_sign), (max_chars, text)
        # cut text says so; a whole text may go without the ending when only the ending does not fit
        assert text.removesuffix("\n" + ENDING).endswith("…") or text in (whole, f"{whole}\n{ENDING}"), (max_chars, text)


def test_a_long_message_is_cut_with_an_ellipsis_and_keeps_the_ending() -> None:
    text = sms_text(out(lines=30), SIGN, 140)
    assert len(text) <= 140 and text.endswith("个工作日…\n" + ENDING)  # after the last whole item that fits
    assert len(text) > 140 - len("任务3「确定承接事项」 已逾期 20 个工作日")
    assert sms_text(out(lines=30), SIGN, 70).endswith("…\n" + ENDING)
    short = sms_text(out(lines=30), SIGN, 45)  # no room for the ending and some of the message: the message
    assert len(short) == 45 and short.endswith("…") and ENDING not in short


def test_a_cut_never_splits_a_number_or_leaves_a_separator_before_the_ellipsis() -> None:
    o = out(lines=30)
    full = sms_text(o, SIGN, 10_000).removesuffix("\n" + ENDING)
    for max_chars in range(60, 300):
        kept = sms_text(o, SIGN, max_chars).removesuffix("\n" + ENDING).removesuffix("…")
        assert full.startswith(kept)
        rest = full[len(kept):]
        assert not (kept[-1].isdigit() and rest[:1].isdigit()), (max_chars, kept[-12:])
        assert kept[-1] not in " \n；:：「", (max_chars, kept[-12:])


# ── phone numbers ────────────────────────────────────────────────────────────────────────────────────────────
@pytest.mark.parametrize("raw,expected", [
    ("13800138000", "13800138000"), ("+86 138 0013 8000", "13800138000"), ("+86-138-0013-8000", "13800138000"),
    ("0086 13800138000", "13800138000"), ("8613800138000", "13800138000"), ("１３８００１３８０００", "13800138000"),
    (" 159-1234-5678 ", "15912345678"), ("0553-5880000", None), ("05535880000", None), ("12800138000", None),
    ("1380013800", None), ("138001380001", None), ("+1 415 555 0100", None), ("", None), ("王芳", None),
    ("13800138000 转 12", None),
])
def test_mobile_normalises_mainland_mobiles_and_refuses_the_rest(raw: str, expected: str | None) -> None:
    assert mobile(raw) == expected


# ── the notifier against the fake gateway ────────────────────────────────────────────────────────────────────
@pytest.fixture
def gateway() -> Iterator[FakeSms]:
    with FakeSms() as server:
        yield server


def notifier(server: FakeSms, **kw: Any) -> SmsNotifier:
    args: dict[str, Any] = {"url": SecretStr(server.url), "token": SecretStr(TOKEN), "sign": SIGN, "timeout": 1} | kw
    return SmsNotifier(**args)


def test_sent_once_to_the_phones_with_the_text_and_our_id(gateway: FakeSms) -> None:
    o = out()
    n = notifier(gateway)
    n.check()  # nothing to call: no request
    assert (n.kind, n.can_reconcile, n.find(o), gateway.requests) == ("sms", False, None, [])
    assert n.send(o) == o.track
    assert gateway.messages == [{"phones": list(PHONES), "text": sms_text(o, SIGN, 140), "id": o.track}]
    assert notifier(gateway, sign="莲河县督办").send(out("k2")) == out("k2").track  # the configured sign is used
    assert gateway.messages[1]["text"].startswith("【莲河县督办】湾沚镇 待办提醒")
    assert gateway.requests[0]["authorization"] == f"Bearer {TOKEN}" and n.trail == [] and len(gateway.requests) == 2


def test_without_a_token_no_authorization_is_sent() -> None:
    with FakeSms(token=None) as server:
        notifier(server, token=None).send(out())
        assert server.requests[0]["authorization"] is None and len(server.messages) == 1


def test_phones_are_normalised_deduplicated_and_landlines_dropped(gateway: FakeSms,
                                                                  caplog: pytest.LogCaptureFixture) -> None:
    people = ("+86 138-0013-8000", "0553-5880000", "13800138000", "159 1234 5678")
    with caplog.at_level(logging.WARNING, logger="fuquan.sms"):
        notifier(gateway).send(out(people=people))
    assert gateway.messages[0]["phones"] == ["13800138000", "15912345678"]
    assert "1 个号码不是大陆手机号码" in caplog.text and "5880000" not in caplog.text


@pytest.mark.parametrize("people", [(), ("0553-5880000", "王芳")])
def test_no_mobile_number_is_a_destination_error_before_any_call(gateway: FakeSms, people: tuple[str, ...]) -> None:
    with pytest.raises(NotificationError) as e:
        notifier(gateway).send(out(people=people))
    assert (e.value.category, e.value.code, e.value.destination) == ("destination", "no_phones", "短信")
    assert e.value.detail == "该单位联系人没有登记手机号码" and gateway.requests == []


FAULTS = {
    "http 429": (("status", 429), "retry", "http_429"),
    "http 500": (("status", 500), "retry", "http_500"),
    "http 503": (("status", 503), "retry", "http_503"),
    "http 401": (("status", 401), "auth", "http_401"),
    "http 403": (("status", 403), "auth", "http_403"),
    "http 404": (("status", 404), "destination", "http_404"),
    "a redirect": (("redirect", "/elsewhere"), "destination", "http_302"),
    "code 1001": (("code", 1001, "号码格式错误"), "destination", "sms_1001"),
    "code -1": (("code", -1), "destination", "sms_minus_1"),
    "code 429": (("code", 429), "retry", "sms_429"),
    "code 401": (("code", 401), "auth", "sms_401"),
    "aliyun flow control": (("code", "isv.BUSINESS_LIMIT_CONTROL"), "retry", "sms_isv_business_limit_control"),
    "tencent daily limit": (("code", "LimitExceeded.PhoneNumberDailyLimit"), "retry",
                            "sms_limitexceeded_phonenumberdailylimit"),
    "a word code": (("code", "InvalidParameter"), "destination", "sms_invalidparameter"),
}


@pytest.mark.parametrize("fault,category,code", FAULTS.values(), ids=FAULTS.keys())
def test_each_refusal_has_its_category_and_nothing_is_recorded(gateway: FakeSms, fault: tuple[Any, ...],
                                                               category: str, code: str) -> None:
    gateway.fault(fault)
    n = notifier(gateway)
    with pytest.raises(NotificationError) as e:
        n.send(out())
    assert (e.value.category, e.value.code, e.value.destination) == (category, code, "短信")
    assert gateway.messages == [] and len(gateway.requests) == 1  # a redirect is not followed
    n.send(out())  # the next run
    assert gateway.ids() == [out().track]


def test_the_gateways_message_is_kept_in_the_detail(gateway: FakeSms) -> None:
    gateway.fault(("code", 1001, "号码格式错误"))
    with pytest.raises(NotificationError) as e:
        notifier(gateway).send(out())
    assert e.value.detail == "号码格式错误"


@pytest.mark.parametrize("kw", [{"token": SecretStr("wrong-token-value")}, {"token": None}])
def test_a_bad_or_missing_token_is_auth(gateway: FakeSms, kw: dict[str, Any]) -> None:
    with pytest.raises(NotificationError) as e:
        notifier(gateway, **kw).send(out())
    assert (e.value.category, e.value.code) == ("auth", "http_401") and gateway.messages == []
    assert "wrong-token-value" not in f"{e.value} {e.value.detail}"


def test_a_wrong_key_in_the_url_is_auth(gateway: FakeSms) -> None:
    with pytest.raises(NotificationError) as e:
        notifier(gateway, url=SecretStr(gateway.url.replace(KEY, "not-the-key"))).send(out())
    assert (e.value.category, e.value.code) == ("auth", "http_403") and "not-the-key" not in str(e.value)


def test_connection_refused_is_retry() -> None:
    with FakeSms() as server:
        n = notifier(server)
    with pytest.raises(NotificationError) as e:
        n.send(out())
    assert (e.value.category, e.value.code) == ("retry", "ConnectionRefusedError")


@pytest.mark.parametrize("fault", [("drop_after_accept",), ("slow_after_accept", 1.5)], ids=["dropped", "slow"])
def test_an_uncertain_send_is_unknown_and_its_repeat_is_not_sent_twice(gateway: FakeSms, fault: tuple[Any, ...]) -> None:
    gateway.fault(fault)
    n = notifier(gateway, timeout=0.3)
    with pytest.raises(NotificationError) as e:
        n.send(out())
    assert e.value.category == "unknown" and gateway.ids() == [out().track]
    assert n.send(out()) == out().track  # the next run: the gateway knows the id and drops the repeat
    assert gateway.ids() == [out().track] and len(gateway.requests) == 2


@pytest.mark.parametrize("answer", [b"<html>502</html>", b"[]", b"{}", b'{"code": "0"}', b'{"code": false}',
                                    b'{"code": null}', b'{"code": 1.5}'])
def test_an_unreadable_answer_is_unknown(gateway: FakeSms, answer: bytes) -> None:
    gateway.fault(("answer", answer))
    with pytest.raises(NotificationError) as e:
        notifier(gateway).send(out())
    assert (e.value.category, e.value.code) == ("unknown", "bad_answer")


@pytest.mark.parametrize("url", ["127.0.0.1:9/sms/send?key=" + KEY, f'"https://sms.example.cn/send?key={KEY}"'])
def test_a_url_without_its_scheme_names_the_variable_and_not_the_url(url: str) -> None:
    with pytest.raises(NotificationError) as e:
        SmsNotifier(url=SecretStr(url), token=SecretStr(TOKEN)).send(out())
    assert (e.value.category, e.value.code) == ("destination", "bad_sms_url") and "FUQUAN_SMS_URL" in e.value.detail
    assert KEY not in f"{e.value} {e.value.detail}"


def test_each_text_takes_its_own_plans_limit_and_a_limit_without_room_is_a_chinese_refusal(gateway: FakeSms) -> None:
    """The limit is the plan's (`reminders: sms: max_chars`), carried by each message: one notifier serves every
    plan. Before, the run set it on the router, and a limit with no room after the sign was a ValueError."""
    n = notifier(gateway)
    n.send(replace(out(lines=8), chars=60))
    assert len(gateway.messages[0]["text"]) <= 60 < len(sms_text(out(lines=8), SIGN, 140))
    with pytest.raises(NotificationError) as e:
        n.send(replace(out("k2"), chars=15))
    assert (e.value.category, e.value.code) == ("destination", "sms_too_short") and "短信最多字数" in e.value.detail
    assert len(gateway.messages) == 1  # nothing sent


def test_the_trail_is_per_thread_and_empty_after_one_attempt(gateway: FakeSms) -> None:
    n = notifier(gateway)
    gateway.fault(("status", 500))
    worker = threading.Thread(target=lambda: pytest.raises(NotificationError, n.send, out("k1")))
    worker.start()
    worker.join()
    n.send(out("k2"))
    assert n.trail == [] and gateway.ids() == [out("k2").track]


SECRET_LEAKS = {
    "refusal echoes the request": ("echo", 1001),
    "rate limit echoes the request": ("echo", "rate_limited"),
    "bad token echoes the request": ("echo", 401),
    "server error": ("status", 500),
    "dropped connection": ("drop_after_accept",),
    "not JSON": ("answer", b"<html>key=" + KEY.encode() + b"</html>"),
}


@pytest.mark.parametrize("fault", SECRET_LEAKS.values(), ids=SECRET_LEAKS.keys())
def test_no_error_or_log_carries_the_url_key_or_the_token(gateway: FakeSms, fault: tuple[Any, ...],
                                                          caplog: pytest.LogCaptureFixture) -> None:
    caplog.set_level(logging.DEBUG)  # every record of every logger
    gateway.fault(fault)
    n = notifier(gateway)
    with pytest.raises(NotificationError) as e:
        n.send(out(people=PHONES + ("0553-5880000",)))
    said = f"{e.value} {e.value.detail} {e.value.code} {e.value.destination} {n.trail} {vars(n)} {caplog.text}"
    assert KEY not in said and TOKEN not in said and gateway.url not in said
    if fault[0] == "echo":
        assert "***" in e.value.detail  # the request line was there, and was redacted


def test_no_secret_when_the_gateway_is_unreachable() -> None:
    with FakeSms() as server:
        n = notifier(server)
    with pytest.raises(NotificationError) as e:
        n.send(out())
    assert KEY not in f"{e.value} {e.value.detail}" and TOKEN not in f"{e.value} {e.value.detail}"
