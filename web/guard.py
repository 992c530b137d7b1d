"""The web app's door: sessions from links, CSRF, the failed-link limit, the client's address, and the plan a
session is for.

Links and sessions are verified by fuquan.answers.links (HMAC, expiry) and then against the database (the holder's link
generation: a rotated link or session stops working at once). Nothing here trusts a form's unit or plan: the
session says whose it is, and every lookup below is limited to that.

The failed-link limit only slows forgers: failures are counted per address and per link, a bad link over either
limit gets 429, and a good link always opens (behind a reverse proxy every unit may share one address). The
address is the peer's, or, when the peer is one of FUQUAN_TRUSTED_PROXIES, what X-Forwarded-For says (uvicorn's
own proxy handling is off: web/serve.py).
"""

from __future__ import annotations

import threading
from collections import deque
from collections.abc import Sequence
from dataclasses import dataclass, replace
from datetime import datetime
from hashlib import sha256
from ipaddress import IPv4Address, IPv6Address, ip_address, ip_network

from starlette.requests import Request

from fuquan.answers.links import BadLink, Claims, csrf_ok, session_of, sign, verify
from fuquan.errors import InvalidValue, NotYours, TooManyAttempts
from fuquan.plans.policy import ZHUANBAN
from usecases.context import Context
from usecases.links_door import PlanCache

COOKIE = "fuquan_session"
FAILS_ALLOWED, FAIL_WINDOW = 20, 600.0  # failed link attempts per address, and per link, per ten minutes
KEYS_KEPT = 10_000  # addresses (or links) remembered at most: a flood of forged links must not fill the memory


class Failures:
    """Failed attempts per key (an address, a link's digest) within the last FAIL_WINDOW seconds."""

    def __init__(self) -> None:
        self._times: dict[str, deque[float]] = {}

    def over(self, key: str, now: float) -> bool:
        times = self._times.get(key)
        return times is not None and len(times) >= FAILS_ALLOWED and times[0] >= now - FAIL_WINDOW

    def add(self, key: str, now: float) -> None:
        # (the newest FAILS_ALLOWED only: a forger who keeps trying stays over the limit, in bounded memory)
        self._times.setdefault(key, deque(maxlen=FAILS_ALLOWED)).append(now)
        if len(self._times) > KEYS_KEPT:
            self._times = {k: t for k, t in self._times.items() if t[-1] >= now - FAIL_WINDOW}
            for k in list(self._times)[:len(self._times) - KEYS_KEPT // 2]:  # still too many: the oldest go
                del self._times[k]


@dataclass(frozen=True)
class Visitor:
    ctx: Context  # with the session's plan chosen
    claims: Claims
    holder: str  # the unit's name, or 专班
    address: str

    @property
    def office(self) -> bool:
        return self.holder == ZHUANBAN

    @property
    def role(self) -> str:
        """unit | office | leader: which pages the session may open (web/app.py)."""
        return "office" if self.office else "leader" if self.claims.leader else "unit"

    @property
    def by(self) -> str:
        """Who the audit names: the 专班 member, or the unit through its link."""
        return f"{ZHUANBAN} {self.claims.member}".strip() if self.office else f"{self.holder} (专属链接)"


class Door:
    def __init__(self, base: Context) -> None:
        self.base = base
        secret = base.settings.link_secret
        self.secret = secret.get_secret_value() if secret else ""
        self._plans = PlanCache(base)
        self.proxies = Proxies(base.settings.trusted_proxies)
        self._by_address, self._by_link = Failures(), Failures()
        self._lock = threading.Lock()

    def now(self) -> datetime:
        return self.base.clock()

    @property
    def plans(self) -> PlanCache:
        return self._plans

    def plan_context(self, plan_id: int) -> Context:
        """The context for one plan, its stored plan re-read only when a sync, a close or a reopen changed it."""
        return self._plans.context(plan_id)

    def address(self, request: Request) -> str:
        return self.proxies.client(request.client.host if request.client else "unknown",
                                   request.headers.getlist("x-forwarded-for"))

    def enter(self, token: str, address: str) -> tuple[Visitor, str]:
        """A link used: its visitor and the session cookie's value. BadLink when forged, expired or revoked;
        TooManyAttempts instead when its address or the link itself failed too often lately. A good link always opens."""
        try:
            claims = verify(token, self.secret, self.now())
            visitor = self._visitor(claims, address)
        except (BadLink, NotYours):  # (NotYours: a well-signed link of a unit no longer in the plan)
            if self._failed(address, token):
                raise TooManyAttempts("尝试次数过多, 请十分钟后再试") from None
            raise
        session = session_of(claims, self.now())
        return replace(visitor, claims=session), sign(session, self.secret, "session")

    def _failed(self, address: str, token: str) -> bool:
        """Count a failed link; whether its address or the link was already over the limit."""
        now, link = self.now().timestamp(), sha256(token.encode(errors="replace")).hexdigest()[:32]
        with self._lock:
            over = self._by_address.over(address, now) or self._by_link.over(link, now)
            self._by_address.add(address, now)
            self._by_link.add(link, now)
        return over

    def visitor(self, request: Request) -> Visitor:
        raw = request.cookies.get(COOKIE, "")
        claims = verify(raw, self.secret, self.now(), "session")
        if not claims.sid:
            raise BadLink("会话无效")
        return self._visitor(claims, self.address(request))

    def _visitor(self, claims: Claims, address: str) -> Visitor:
        ctx, holder = self._plans.visit(claims)
        return Visitor(ctx, claims, holder, address)

    def csrf(self, visitor: Visitor, given: str) -> bool:
        return csrf_ok(visitor.claims, self.secret, given)


class Proxies:
    """The reverse proxies whose X-Forwarded-For is believed (FUQUAN_TRUSTED_PROXIES: addresses or networks)."""

    def __init__(self, entries: Sequence[str]) -> None:
        networks = []
        for entry in entries:
            try:
                networks.append(ip_network(entry, strict=False))
            except ValueError:
                raise InvalidValue(f"FUQUAN_TRUSTED_PROXIES: “{entry}” 不是 IP 地址或网段; 请填反向代理的地址, 如 "
                                   "10.0.0.5 或 10.0.0.0/24, 多个用逗号分隔") from None
        self.networks = tuple(networks)

    def trusted(self, host: IPv4Address | IPv6Address) -> bool:
        return any(host in net for net in self.networks)

    def client(self, peer: str, forwarded: list[str]) -> str:
        """The peer, or, from a trusted proxy, the nearest address X-Forwarded-For names that is not a trusted proxy
        (each proxy appends the address it saw: what is left of ours may be made up by the client)."""
        here = _ip(peer)
        if here is None or not self.trusted(here):
            return peer
        hops = [h.strip() for header in forwarded for h in header.split(",")]
        for hop in reversed(hops):
            there = _ip(hop)
            if there is None:  # (garbage, or "unknown": nothing further left can be told)
                break
            here = there
            if not self.trusted(here):
                break
        return str(here)


def _ip(text: str) -> IPv4Address | IPv6Address | None:
    """An address as a proxy writes it: bare, `[v6]:port` or `v4:port`; None when it is none."""
    if text.startswith("[") and "]" in text:
        text = text[1:text.index("]")]
    elif text.count(":") == 1:
        text = text.split(":")[0]
    try:
        ip = ip_address(text)
    except ValueError:
        return None
    return (ip.ipv4_mapped or ip) if isinstance(ip, IPv6Address) else ip  # (a dual-stack socket's ::ffff:10.0.0.5)
