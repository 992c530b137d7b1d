"""WeCom's callback crypto (notifications/wecom_crypto.py), against WeCom's own sample vectors and an independent
computation, and the helpers (tests/wecom_server.py) that act as WeCom towards a callback URL."""

from __future__ import annotations

import base64
import hashlib
import struct
import threading
import xml.etree.ElementTree as ET
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any
from urllib.parse import parse_qsl

import pytest
from cryptography.hazmat.primitives.ciphers import Cipher, algorithms, modes

from notifications import wecom_crypto as wc
from tests.wecom_server import AES_KEY, AGENT_ID, CALLBACK_TOKEN, CORP_ID, press, verify_url

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
