"""What the notifiers that make their own HTTP calls (DingTalk's and WeCom's apps, the SMS gateway) share: the
per-thread trail of a send's failed attempts, an access token shared by a notifier's threads, and how a request
that got no answer is judged — "retry" when nothing can have reached the service, "unknown" when it may have
arrived (the outbox then looks, or re-sends under the same id, before anything is sent twice)."""

from __future__ import annotations

import http.client
import socket
import threading
from collections import deque
from collections.abc import Callable
from urllib.error import HTTPError, URLError

from fuquan.errors import Failure

NETWORK = (URLError, OSError, http.client.HTTPException)  # a request that got no HTTP answer


class ThreadTrail:
    """The Notifier protocol's `trail`: (result, code) of each failed attempt of this thread's last send, for the
    send log. Sends run concurrently, one destination per thread, so each thread keeps its own."""

    @property
    def trail(self) -> list[tuple[str, str]]:
        local = self.__dict__.setdefault("_trails", threading.local())
        if not hasattr(local, "trail"):
            local.trail = []
        return local.trail  # type: ignore[no-any-return]

    def new_trail(self) -> list[tuple[str, str]]:
        """A send begins: an empty trail (a new list: the last send's may still be read)."""
        self.__dict__.setdefault("_trails", threading.local()).trail = []
        return self.trail


class TokenCache:
    """An access token shared by a notifier's threads: fetched once, under a lock, used until `margin` seconds
    before it expires, dropped when the platform stops taking it. The tokens issued lately are kept: an error or a
    log line must never show one."""

    def __init__(self, fetch: Callable[[], tuple[str, int]], clock: Callable[[], float], margin: float = 300) -> None:
        self._fetch, self._clock, self._margin = fetch, clock, margin  # fetch: (token, seconds it lives)
        self._cached: tuple[str, float] | None = None  # (token, refresh after)
        self.issued: deque[str] = deque(maxlen=8)
        self._lock = threading.Lock()

    def get(self) -> str:
        with self._lock:  # one fetch for all threads
            if self._cached and self._clock() < self._cached[1]:
                return self._cached[0]
            token, expires = self._fetch()
            self.issued.append(token)
            self._cached = (token, self._clock() + max(0, expires - self._margin))
            return token

    def drop(self, token: str | None = None) -> None:
        """Forget `token` (the platform refused it), unless another thread has fetched a new one meanwhile; None:
        whichever is cached (it ran out)."""
        with self._lock:
            if self._cached and token in (None, self._cached[0]):
                self._cached = None


def no_answer(e: BaseException, *, sends: bool) -> tuple[Failure, str]:
    """(category, code) of a request that got no HTTP answer. Nothing can have arrived when the connection was
    refused, the name did not resolve, or the request delivers nothing itself (`sends` False: a token fetch):
    "retry". A timeout or a connection cut after the request went out may have delivered it: "unknown"."""
    reason = getattr(e, "reason", e)
    name = type(reason).__name__ if isinstance(reason, BaseException) else type(e).__name__
    nothing = isinstance(reason, ConnectionRefusedError | socket.gaierror) or not sends
    return (Failure.RETRY if nothing else Failure.UNKNOWN), name


def error_body(e: HTTPError) -> bytes:
    """An HTTP error's body, or b"" when it cannot be read."""
    try:
        return e.read()
    except (OSError, http.client.HTTPException):
        return b""
