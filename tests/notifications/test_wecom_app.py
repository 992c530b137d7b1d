"""WeCom app: the callback crypto (against WeCom's own sample vectors and an independent computation) and the
notifier against a local fake of WeCom's API — one card per send, tokens cached and refreshed, faults mapped to
their categories, and neither the secret nor a token in any error."""

from __future__ import annotations

import base64
import hashlib
import logging
import struct
import threading
import xml.etree.ElementTree as ET
from collections.abc import Iterator
from datetime import UTC, datetime
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any
from urllib.parse import parse_qsl

import pytest
from cryptography.hazmat.primitives.ciphers import Cipher, algorithms, modes
from pydantic import SecretStr

from fuquan.errors import NotificationError
from fuquan.plans.policy import Destination
from fuquan.words.messages import Message, Section
from notifications import wecom_crypto as wc
from notifications.base import Outgoing
from notifications.wecom_app import SUB_LIMIT, WeComAppNotifier
from tests.wecom_server import AES_KEY, AGENT_ID, CALLBACK_TOKEN, CORP_ID, SECRET, FakeWeCom, press, verify_url

# WeCom's published WXBizMsgCrypt sample (token, EncodingAESKey, corp id, a callback and a URL check)
S_TOKEN, S_KEY, S_CORP = "QDG6eK", "jWmYm7qr5nMoAUwZRjGtBxmz3KA1tkAj3ykkR6q2B2C", "wx5823bf96d3bd56c7"
S_ENCRYPT = ("RypEvHKD8QQKFhvQ6QleEB4J58tiPdvo+rtK1I9qca6aM/wvqnLSV5zEPeusUiX5L5X/0lWfrf0QADHHhGd3QczcdCUpj911L3vg3W"
             "/sYYvuJTs3TUUkSUXxaccAS0qhxchrRYt66wiSpGLYL42aM6A8dTT+6k4aSknmPj48kzJs8qLjvd4Xgpue06DOdnLxAUHzM6+kDZ+HMZ"
             "fJYuR+LtwGc2hgf5gsijff0ekUNXZiqATP7PF5mZxZ3Izoun1s4zG4LUMnvw2r+KqCKIw+3IQH03v+BCA9nMELNqbSf6tiWSrXJB3L"
             "AVGUcallcrw8V2t9EL4EhzJWrQUax5wLVMNS0+rUPA3k22Ncx4XXZS9o0MBH27Bo6BpNelZpS+/uh9KsNlY6bHCmJU9p8g7m3fVKn2"
             "8H3KDYA5Pl/T8Z1ptDAVe0lXdQ2YoyyH2uyPIGHBZZIs2pDBS8R07+qN+E7Q==")


# ── crypto ───────────────────────────────────────────────────────────────────────────────────────────────
def test_signature_is_sha1_of_the_sorted_joined_parts() -> None:
    parts = ("tok", "1700000000", "n0nce", "ENCRYPTED==")
    expected = hashlib.sha1("".join(sorted(parts)).encode()).hexdigest()
    assert wc.signature(*parts) == expected
    wrong = expected[:-1] + ("0" if expected[-1] != "0" else "1")
    assert wc.verify(*parts, expected) and not wc.verify(*parts, wrong) and not wc.verify(*parts, "签名")


def test_wecom_sample_callback_verifies_and_decrypts() -> None:
    assert wc.signature(S_TOKEN, "1409659813", "1372623149", S_ENCRYPT) == "477715d11cdb4164915debcba66cb864d751f3e6"
    event = wc.open_callback(S_TOKEN, S_KEY, S_CORP, msg_signature="477715d11cdb4164915debcba66cb864d751f3e6",
                             timestamp="1409659813", nonce="1372623149",
                             body=f"<xml><ToUserName><![CDATA[{S_CORP}]]></ToUserName><Encrypt><![CDATA[{S_ENCRYPT}]]>"
                                  "</Encrypt><AgentID><![CDATA[218]]></AgentID></xml>")
    assert event == {"ToUserName": S_CORP, "FromUserName": "mycreate", "CreateTime": "1409659813", "MsgType": "text",
                     "AgentID": "218"}


def test_wecom_sample_url_check_decrypts_its_echostr() -> None:
    echostr = "P9nAzCzyDtyTWESHep1vC5X9xho/qYX3Zpb4yKa9SKld1DsH3Iyt3tP3zNdtp+4RPcs8TgAE7OaBO+FZXvnaqQ=="
    assert wc.echo(S_TOKEN, S_KEY, S_CORP, msg_signature="5c45ff5e21c57e6ad56bac8758b79b1d9ac89fd3",
                   timestamp="1409659589", nonce="263014780", echostr=echostr) == "1616140317555161061"
    with pytest.raises(wc.BadCallback):
        wc.echo(S_TOKEN, S_KEY, S_CORP, msg_signature="0" * 40, timestamp="1409659589", nonce="263014780",
                echostr=echostr)


def _raw_decrypt(key_b43: str, b64: str) -> bytes:
    key = base64.b64decode(key_b43 + "=")
    dec = Cipher(algorithms.AES(key), modes.CBC(key[:16])).decryptor()
    return dec.update(base64.b64decode(b64)) + dec.finalize()


def _raw_encrypt(key_b43: str, plain: bytes) -> str:
    key = base64.b64decode(key_b43 + "=")
    enc = Cipher(algorithms.AES(key), modes.CBC(key[:16])).encryptor()
    return base64.b64encode(enc.update(plain) + enc.finalize()).decode()


@pytest.mark.parametrize("xml", ["<xml/>", "<xml><A>签收</A></xml>", "x" * 1000])
def test_encrypt_lays_out_the_plaintext_and_decrypt_reverses_it(xml: str) -> None:
    rnd = bytes(range(16))
    encrypted = wc.encrypt(AES_KEY, CORP_ID, xml, rnd)
    assert encrypted == wc.encrypt(AES_KEY, CORP_ID, xml, rnd)  # deterministic given the random prefix
    plain = _raw_decrypt(AES_KEY, encrypted)
    body = xml.encode()
    unpadded = rnd + struct.pack(">I", len(body)) + body + CORP_ID.encode()
    pad = 32 - len(unpadded) % 32
    assert plain == unpadded + bytes([pad]) * pad
    assert wc.decrypt(AES_KEY, CORP_ID, encrypted) == xml


def test_padding_is_to_32_byte_blocks_not_16() -> None:
    # 16 + 4 + len(xml) + len(corp) a multiple of 32: a whole block of 32 bytes of 0x20, where AES's 16 gives 16
    xml = "a" * (64 - 16 - 4 - len(CORP_ID))
    plain = _raw_decrypt(AES_KEY, wc.encrypt(AES_KEY, CORP_ID, xml))
    assert len(plain) == 96 and plain[-32:] == b"\x20" * 32


def test_decrypt_refuses_another_corp_tampering_bad_padding_and_bad_length() -> None:
    encrypted = wc.encrypt(AES_KEY, CORP_ID, "<xml/>", bytes(16))
    with pytest.raises(wc.BadCallback, match="CorpID"):
        wc.decrypt(AES_KEY, "ww-another-corp", encrypted)
    data = bytearray(base64.b64decode(encrypted))
    data[-5] ^= 0x01  # the last block decrypts to garbage
    with pytest.raises(wc.BadCallback):
        wc.decrypt(AES_KEY, CORP_ID, base64.b64encode(bytes(data)).decode())
    for last in (0, 33):  # padding bytes outside 1..32
        with pytest.raises(wc.BadCallback, match="填充"):
            wc.decrypt(AES_KEY, CORP_ID, _raw_encrypt(AES_KEY, bytes(31) + bytes([last])))
    with pytest.raises(wc.BadCallback, match="填充"):  # 3 claimed, but the bytes before it are not 3s
        wc.decrypt(AES_KEY, CORP_ID, _raw_encrypt(AES_KEY, bytes(29) + b"\x01\x02\x03"))
    liar = bytes(16) + struct.pack(">I", 9999) + b"<xml/>" + CORP_ID.encode()
    liar += bytes([32 - len(liar) % 32]) * (32 - len(liar) % 32)
    with pytest.raises(wc.BadCallback, match="长度"):
        wc.decrypt(AES_KEY, CORP_ID, _raw_encrypt(AES_KEY, liar))
    for junk in ("not base64!", base64.b64encode(b"x" * 20).decode(), ""):
        with pytest.raises(wc.BadCallback):
            wc.decrypt(AES_KEY, CORP_ID, junk)


def test_a_bad_encoding_aes_key_is_a_setting_error_that_does_not_echo_it() -> None:
    with pytest.raises(ValueError, match="EncodingAESKey") as e:
        wc.encrypt("short-key-value", CORP_ID, "<xml/>")
    assert "short-key-value" not in str(e.value) and not isinstance(e.value, wc.BadCallback)


XXE = {
    "external entity": '<?xml version="1.0"?><!DOCTYPE xml [<!ENTITY x SYSTEM "file:///etc/passwd">]>'
                       "<xml><Encrypt>&x;</Encrypt></xml>",
    "billion laughs": '<!DOCTYPE xml [<!ENTITY a "aaaa"><!ENTITY b "&a;&a;&a;&a;">]><xml><Encrypt>&b;</Encrypt></xml>',
    "lower-case doctype": '<!doctype xml><xml><Encrypt>x</Encrypt></xml>',
    "entity without doctype": '<xml><!ENTITY a "x"><Encrypt>x</Encrypt></xml>',
    "oversized": "<xml><Encrypt>" + "A" * 70_000 + "</Encrypt></xml>",
    "not xml": "{\"Encrypt\": \"x\"}",
    "another root": "<root><Encrypt>x</Encrypt></root>",
}


@pytest.mark.parametrize("body", XXE.values(), ids=XXE.keys())
def test_parse_event_refuses_doctype_entities_and_junk(body: str) -> None:
    with pytest.raises(wc.BadCallback):
        wc.parse_event(body)
    with pytest.raises(wc.BadCallback):
        wc.parse_event(body.encode())


def test_open_callback_returns_the_press_and_refuses_a_bad_signature() -> None:
    inner = ("<xml><ToUserName><![CDATA[c]]></ToUserName><FromUserName><![CDATA[wangfang]]></FromUserName>"
             "<CreateTime>1700000000</CreateTime><MsgType><![CDATA[event]]></MsgType>"
             "<Event><![CDATA[template_card_event]]></Event><EventKey><![CDATA[ack]]></EventKey>"
             "<TaskId><![CDATA[fq0123]]></TaskId><ResponseCode><![CDATA[RC1]]></ResponseCode>"
             "<AgentID>1000002</AgentID><Unknown>ignored</Unknown></xml>")
    encrypted = wc.encrypt(AES_KEY, CORP_ID, inner)
    body = f"<xml><ToUserName><![CDATA[{CORP_ID}]]></ToUserName><Encrypt><![CDATA[{encrypted}]]></Encrypt></xml>"
    sig = wc.signature(CALLBACK_TOKEN, "1700000000", "n1", encrypted)
    event = wc.open_callback(CALLBACK_TOKEN, AES_KEY, CORP_ID, msg_signature=sig, timestamp="1700000000", nonce="n1",
                             body=body)
    assert (event["FromUserName"], event["EventKey"], event["TaskId"], event["ResponseCode"], event["AgentID"]) == (
        "wangfang", "ack", "fq0123", "RC1", "1000002")
    assert "Unknown" not in event
    for wrong in ({"msg_signature": "0" * 40, "timestamp": "1700000000"}, {"msg_signature": sig, "timestamp": "1700000001"}):
        with pytest.raises(wc.BadCallback, match="签名"):
            wc.open_callback(CALLBACK_TOKEN, AES_KEY, CORP_ID, nonce="n1", body=body, **wrong)


def test_reply_is_signed_and_decrypts_to_the_answer() -> None:
    answer = "<xml><MsgType><![CDATA[update_button]]></MsgType><Button><ReplaceName>已签收</ReplaceName></Button></xml>"
    root = ET.fromstring(wc.reply(CALLBACK_TOKEN, AES_KEY, CORP_ID, answer, "1700000000", "n<1>"))
    encrypted = root.findtext("Encrypt") or ""
    assert root.findtext("TimeStamp") == "1700000000" and root.findtext("Nonce") == "n<1>"
    assert root.findtext("MsgSignature") == hashlib.sha1(
        "".join(sorted([CALLBACK_TOKEN, "1700000000", "n<1>", encrypted])).encode()).hexdigest()
    assert wc.decrypt(AES_KEY, CORP_ID, encrypted) == answer


# ── the helpers that act as WeCom towards a callback URL ────────────────────────────────────────────────────
class Callback:
    """A minimal callback endpoint built on wecom_crypto: what press/verify_url talk to."""

    def __init__(self) -> None:
        self.events: list[dict[str, str]] = []
        cb = self

        class Handler(BaseHTTPRequestHandler):
            def log_message(self, *a: Any) -> None:
                pass

            def _answer(self, status: int, text: str) -> None:
                data = text.encode()
                self.send_response(status)
                self.send_header("Content-Length", str(len(data)))
                self.end_headers()
                self.wfile.write(data)

            def do_GET(self) -> None:  # noqa: N802
                q = dict(parse_qsl(self.path.partition("?")[2]))
                try:
                    self._answer(200, wc.echo(CALLBACK_TOKEN, AES_KEY, CORP_ID, msg_signature=q["msg_signature"],
                                              timestamp=q["timestamp"], nonce=q["nonce"], echostr=q["echostr"]))
                except wc.BadCallback:
                    self._answer(403, "")

            def do_POST(self) -> None:  # noqa: N802
                q = dict(parse_qsl(self.path.partition("?")[2]))
                body = self.rfile.read(int(self.headers["Content-Length"]))
                try:
                    cb.events.append(wc.open_callback(CALLBACK_TOKEN, AES_KEY, CORP_ID, body=body, **q))
                except wc.BadCallback:
                    return self._answer(403, "")
                self._answer(200, "")

        self.httpd = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        threading.Thread(target=self.httpd.serve_forever, args=(0.02,), daemon=True).start()
        self.url = f"http://127.0.0.1:{self.httpd.server_address[1]}/wecom/callback"


@pytest.fixture
def callback() -> Iterator[Callback]:
    cb = Callback()
    yield cb
    cb.httpd.shutdown()
    cb.httpd.server_close()


def test_press_and_verify_url_speak_wecoms_protocol(callback: Callback) -> None:
    assert verify_url(callback.url, echo="echo-42") == (200, "echo-42")
    status, _ = press(callback.url, user="wangfang", task_id="fqabc", key="extension", create_time=1700000123,
                      response_code="RC9")
    assert status == 200
    assert callback.events == [{"ToUserName": CORP_ID, "FromUserName": "wangfang", "CreateTime": "1700000123",
                                "MsgType": "event", "Event": "template_card_event", "EventKey": "extension",
                                "TaskId": "fqabc", "CardType": "button_interaction", "ResponseCode": "RC9",
                                "AgentID": AGENT_ID}]
    assert press(callback.url, user="wangfang", task_id="fqabc", key="ack", create_time=1, signature="0" * 40)[0] == 403
    assert press(callback.url, user="x", task_id="fqabc", key="ack", create_time=1, corp_id="ww-other")[0] == 403
    assert len(callback.events) == 1


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
