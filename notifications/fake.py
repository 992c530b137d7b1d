"""A notifier that keeps what it is given, in memory: the fake behind the dispatch tests.

It speaks the whole Notifier protocol and can be told to fail in every way a real channel fails
(a NotificationError of any category, once or for a number of sends), to have already delivered a
message (reconciliation), or to refuse its credential at `check()`. No network, no threads of its own.
"""

from __future__ import annotations

import threading
from collections.abc import Callable
from dataclasses import dataclass, field

from fuquan.errors import Failure, NotificationError

from .base import Outgoing


@dataclass
class Sent:
    key: str
    destination: str
    recipient: str
    title: str
    text: str


@dataclass
class RecordingNotifier:
    kind: str = "slack"
    can_reconcile: bool = True
    sent: list[Sent] = field(default_factory=list)
    delivered: dict[str, str] = field(default_factory=dict)  # key → id, as `find` sees the channel
    fail: Callable[[Outgoing], NotificationError | None] = lambda _out: None
    bad_credential: str | None = None  # an error code: check() raises auth with it
    checks: int = 0
    _lock: threading.Lock = field(default_factory=threading.Lock, repr=False)
    _local: threading.local = field(default_factory=threading.local, repr=False)

    def send(self, out: Outgoing) -> str:
        self._local.trail = []
        error = self.fail(out)
        if error is not None:
            self._local.trail.append(("attempt", error.code))
            raise error
        with self._lock:
            mid = f"m{len(self.sent) + 1}"
            self.sent.append(Sent(out.key, out.destination.target, out.message.recipient, out.message.title,
                                  out.text()))
            self.delivered[out.key] = mid
        return mid

    def find(self, out: Outgoing) -> str | None:
        return self.delivered.get(out.key)

    def check(self) -> None:
        with self._lock:
            self.checks += 1
        if self.bad_credential:
            raise NotificationError(Failure.AUTH, self.bad_credential, self.kind, "请检查令牌")

    @property
    def trail(self) -> list[tuple[str, str]]:
        return list(getattr(self._local, "trail", []))

    def to(self, target: str) -> list[Sent]:
        """What reached one destination (a channel ID or robot name), in order."""
        return [s for s in self.sent if s.destination == target]
