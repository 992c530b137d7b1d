"""WeCom's callback crypto (the WXBizMsgCrypt scheme), on `cryptography`; pure, no I/O.

A press on a card reaches the app's callback URL as `<xml><ToUserName/><AgentID/><Encrypt/></xml>` with
`msg_signature, timestamp, nonce` in the query. Signature: SHA-1 hex of the sorted, joined token, timestamp, nonce
and Encrypt. Encrypt: base64 of AES-256-CBC (key = b64decode(EncodingAESKey + "="), IV = key[:16]) over 16 random
bytes + 4-byte big-endian length + XML + the corp id, PKCS#7-padded to 32-byte blocks. Anything else is refused
with BadCallback (fuquan.errors.Refused), which says what was wrong and never echoes the body.
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import hmac
import os
import struct
import xml.etree.ElementTree as ET
from xml.sax.saxutils import escape

from cryptography.hazmat.primitives import padding
from cryptography.hazmat.primitives.ciphers import Cipher, algorithms, modes

from fuquan.errors import Refused

BLOCK = 32  # WeCom pads to 32 bytes, not AES's 16
MAX_XML = 64 * 1024  # a press is well under 2 KB; anything near this is not from WeCom
FIELDS = ("ToUserName", "AgentID", "Encrypt", "MsgType", "Event", "FromUserName", "CreateTime", "EventKey", "TaskId",
          "CardType", "ResponseCode")


# A callback not signed, encrypted or shaped as WeCom sends it, or not for this corp: the one tree's Refused.
BadCallback = Refused


def signature(token: str, timestamp: str, nonce: str, encrypt: str) -> str:
    return hashlib.sha1("".join(sorted([token, timestamp, nonce, encrypt])).encode()).hexdigest()  # noqa: S324 (WeCom's scheme)


def verify(token: str, timestamp: str, nonce: str, encrypt: str, msg_signature: str) -> bool:
    return hmac.compare_digest(signature(token, timestamp, nonce, encrypt).encode(), msg_signature.encode())


def _cipher(aes_key_b43: str) -> Cipher[modes.CBC]:
    try:
        key = base64.b64decode(aes_key_b43 + "=", validate=True)
    except (binascii.Error, ValueError):
        key = b""
    if len(key) != 32:
        # A configuration error, not a bad callback: say which setting, never its value.
        raise ValueError("企业微信应用的 EncodingAESKey 应为 43 个字符 (应用管理 → 接收消息 → 随机获取)")
    return Cipher(algorithms.AES(key), modes.CBC(key[:16]))


def encrypt(aes_key_b43: str, corp_id: str, xml: str, random16: bytes | None = None) -> str:
    prefix = os.urandom(16) if random16 is None else random16
    if len(prefix) != 16:
        raise ValueError("random16 must be 16 bytes")
    body = xml.encode()
    padder = padding.PKCS7(BLOCK * 8).padder()
    plain = padder.update(prefix + struct.pack(">I", len(body)) + body + corp_id.encode()) + padder.finalize()
    enc = _cipher(aes_key_b43).encryptor()
    return base64.b64encode(enc.update(plain) + enc.finalize()).decode()


def decrypt(aes_key_b43: str, corp_id: str, encrypted_b64: str) -> str:
    cipher = _cipher(aes_key_b43)
    try:
        data = base64.b64decode(encrypted_b64, validate=True)
    except (binascii.Error, ValueError):
        raise BadCallback("Encrypt 不是 base64") from None
    if not data or len(data) % 16:
        raise BadCallback("密文长度不对")
    dec = cipher.decryptor()
    plain = dec.update(data) + dec.finalize()
    pad = plain[-1]
    if not 1 <= pad <= BLOCK or plain[-pad:] != bytes([pad]) * pad:
        raise BadCallback("填充不对 (EncodingAESKey 不符?)")
    content = plain[16:-pad]
    if len(content) < 4:
        raise BadCallback("明文太短")
    (length,) = struct.unpack(">I", content[:4])
    if 4 + length > len(content):
        raise BadCallback("明文长度字段不对")
    if content[4 + length:] != corp_id.encode():
        raise BadCallback("receiveid 与本单位的 CorpID 不符")
    try:
        return content[4:4 + length].decode()
    except UnicodeDecodeError:
        raise BadCallback("明文不是 UTF-8") from None


def parse_event(xml: str | bytes) -> dict[str, str]:
    """The known fields of a callback body or of a decrypted event (FIELDS), as text; refuses DOCTYPE/ENTITY
    (no entity expansion, no external entities), oversized bodies and anything that is not `<xml>…</xml>`."""
    text = xml.decode(errors="replace") if isinstance(xml, bytes) else xml
    if len(text) > MAX_XML:
        raise BadCallback("内容过大")
    upper = text.upper()
    if "<!DOCTYPE" in upper or "<!ENTITY" in upper:
        raise BadCallback("不接受 DOCTYPE/ENTITY")
    try:
        root = ET.fromstring(text)
    except ET.ParseError:
        raise BadCallback("不是合法的 XML") from None
    if root.tag != "xml":
        raise BadCallback("根元素不是 <xml>")
    return {child.tag: (child.text or "").strip() for child in root if child.tag in FIELDS}


def open_callback(token: str, aes_key_b43: str, corp_id: str, *, msg_signature: str, timestamp: str, nonce: str,
                  body: str | bytes) -> dict[str, str]:
    """A POSTed callback, checked and decrypted: the inner event's fields. Raises BadCallback."""
    outer = parse_event(body)
    encrypted = outer.get("Encrypt", "")
    if not encrypted or not verify(token, timestamp, nonce, encrypted, msg_signature):
        raise BadCallback("签名不对")
    return parse_event(decrypt(aes_key_b43, corp_id, encrypted))


def echo(token: str, aes_key_b43: str, corp_id: str, *, msg_signature: str, timestamp: str, nonce: str,
         echostr: str) -> str:
    """The GET URL verification: the decrypted echostr to answer with. Raises BadCallback."""
    if not verify(token, timestamp, nonce, echostr, msg_signature):
        raise BadCallback("签名不对")
    return decrypt(aes_key_b43, corp_id, echostr)


def reply(token: str, aes_key: str, corp_id: str, xml: str, timestamp: str, nonce: str) -> str:
    """The encrypted passive reply (e.g. update_button) to a callback."""
    encrypted = encrypt(aes_key, corp_id, xml)
    sig = signature(token, timestamp, nonce, encrypted)
    return (f"<xml><Encrypt><![CDATA[{encrypted}]]></Encrypt><MsgSignature><![CDATA[{sig}]]></MsgSignature>"
            f"<TimeStamp>{escape(timestamp)}</TimeStamp><Nonce>{escape(nonce)}</Nonce></xml>")
