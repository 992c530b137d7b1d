"""The web app's door: sessions from links, CSRF, the failed-link rate limit, and the plan a session is for.

Links and sessions are verified by fuquan.answers.links (HMAC, expiry) and then against the database (the holder's link
generation: a rotated link or session stops working at once). Nothing here trusts a form's unit or plan: the
session says whose it is, and every lookup below is limited to that.
"""

from __future__ import annotations

import threading
from collections import defaultdict, deque
from dataclasses import dataclass, replace
from datetime import datetime

from starlette.requests import Request

from fuquan.answers.links import BadLink, Claims, csrf_ok, session_of, sign, verify
from fuquan.errors import NotYours
from fuquan.plans.policy import ZHUANBAN
from usecases import unit_links
from usecases.context import Context
from usecases.links_door import PlanCache

COOKIE = "fuquan_session"
FAILS_ALLOWED, FAIL_WINDOW = 20, 600.0  # failed link attempts per address per ten minutes


class TooMany(Exception):
    pass


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
    def by(self) -> str:
        """Who the audit names: the 专班 member, or the unit through its link."""
        return f"{ZHUANBAN} {self.claims.member}".strip() if self.office else f"{self.holder} (专属链接)"


class Door:
    def __init__(self, base: Context) -> None:
        self.base = base
        secret = base.settings.link_secret
        self.secret = secret.get_secret_value() if secret else ""
        self._plans = PlanCache(base)
        self._fails: dict[str, deque[float]] = defaultdict(deque)
        self._lock = threading.Lock()

    def now(self) -> datetime:
        return self.base.clock()

    def plan_context(self, plan_id: int) -> Context:
        """The context for one plan, its stored plan re-read only when a sync, a close or a reopen changed it."""
        return self._plans.context(plan_id)

    def check_rate(self, address: str) -> None:
        now = self.now().timestamp()  # the app's clock (injected in tests)
        with self._lock:
            fails = self._fails.get(address)
            while fails and fails[0] < now - FAIL_WINDOW:
                fails.popleft()
            if fails is not None and not fails:
                del self._fails[address]  # nothing kept for an address once its window has passed
            elif fails is not None and len(fails) >= FAILS_ALLOWED:
                raise TooMany()

    def failed(self, address: str) -> None:
        with self._lock:
            self._fails[address].append(self.now().timestamp())

    def enter(self, token: str, address: str) -> tuple[Visitor, str]:
        """A link used: its visitor and the session cookie's value. BadLink when forged, expired or revoked."""
        self.check_rate(address)
        try:
            claims = verify(token, self.secret, self.now())
            visitor = self._visitor(claims, address)
        except (BadLink, NotYours):  # (NotYours: a well-signed link of a unit no longer in the plan)
            self.failed(address)
            raise
        session = session_of(claims, self.now())
        return replace(visitor, claims=session), sign(session, self.secret, "session")

    def visitor(self, request: Request) -> Visitor:
        raw = request.cookies.get(COOKIE, "")
        claims = verify(raw, self.secret, self.now(), "session")
        if not claims.sid:
            raise BadLink("会话无效")
        return self._visitor(claims, address(request))

    def _visitor(self, claims: Claims, address: str) -> Visitor:
        ctx = self.plan_context(claims.plan)
        holder = unit_links.holder_name(ctx.plan, claims)
        if not unit_links.current(ctx, holder, claims.generation):
            raise BadLink("链接已失效 (已重新生成), 请使用最新收到的链接")
        return Visitor(ctx, claims, holder, address)

    def csrf(self, visitor: Visitor, given: str) -> bool:
        return csrf_ok(visitor.claims, self.secret, given)


def address(request: Request) -> str:
    return request.client.host if request.client else "unknown"
