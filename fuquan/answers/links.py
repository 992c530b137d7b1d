"""Personal links, sessions and form tokens: HMAC-signed, expiring, revocable. Pure (the secret and the
time are passed in).

A link names a plan, a holder (a unit's id, 0 for the 专班 or -1 for a leader, with the person's name) and the holder's link
generation; `fuquan links rotate` raises the generation, which voids every link and session issued before.
A link is exchanged on first use for a session cookie (the token leaves the address bar and the history);
the session carries the same claims plus its own id, from which each form's CSRF token is derived.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
import secrets
from dataclasses import asdict, dataclass
from datetime import datetime, timedelta

from fuquan.errors import BadLink, FuquanError

OFFICE = 0  # the holder id of the 专班's links
LEADER = -1  # the holder id of a leader's links: the board only, read-only
SESSION_HOURS = 12


@dataclass(frozen=True)
class Claims:
    plan: int
    holder: int  # unit id, or OFFICE
    generation: int
    expires: int  # epoch seconds
    member: str = ""  # the 专班 member a 专班 link belongs to
    sid: str = ""  # set on sessions only

    @property
    def office(self) -> bool:
        return self.holder == OFFICE

    @property
    def leader(self) -> bool:
        return self.holder == LEADER


def _b64(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode()


def _unb64(text: str) -> bytes:
    return base64.urlsafe_b64decode(text + "=" * (-len(text) % 4))


def _mac(secret: str, purpose: str, body: str) -> str:
    return _b64(hmac.new(secret.encode(), f"{purpose}:{body}".encode(), hashlib.sha256).digest()[:18])


def sign(claims: Claims, secret: str, purpose: str = "link") -> str:
    if not secret:
        raise FuquanError("未设置链接签名密钥 (环境变量 FUQUAN_LINK_SECRET)")
    body = _b64(json.dumps(asdict(claims), ensure_ascii=False, separators=(",", ":")).encode())
    return f"{body}.{_mac(secret, purpose, body)}"


def verify(token: str, secret: str, now: datetime, purpose: str = "link") -> Claims:
    """The claims of a well-signed, unexpired token; BadLink otherwise (the generation is checked by the
    caller, against the database)."""
    body, _, mac = token.partition(".")
    if not secret or not body or len(token) > 2000 or not hmac.compare_digest(mac.encode(), _mac(secret, purpose, body).encode()):
        raise BadLink("链接无效")
    try:
        claims = Claims(**json.loads(_unb64(body)))
    except (ValueError, TypeError) as e:
        raise BadLink("链接无效") from e
    if claims.expires < now.timestamp():
        raise BadLink("链接已过期")
    return claims


def link_claims(plan: int, holder: int, generation: int, now: datetime, days: int, member: str = "") -> Claims:
    return Claims(plan, holder, generation, int((now + timedelta(days=days)).timestamp()), member)


def session_of(link: Claims, now: datetime) -> Claims:
    """A session for a link just used: no longer than the link itself, and at most SESSION_HOURS."""
    until = min(link.expires, int((now + timedelta(hours=SESSION_HOURS)).timestamp()))
    return Claims(link.plan, link.holder, link.generation, until, link.member, secrets.token_urlsafe(16))


def csrf_token(session: Claims, secret: str) -> str:
    return _mac(secret, "csrf", session.sid)


def csrf_ok(session: Claims, secret: str, given: str) -> bool:
    # compared as bytes: compare_digest refuses non-ASCII text, and a form may send anything
    return bool(session.sid) and hmac.compare_digest((given or "").encode(), csrf_token(session, secret).encode())
