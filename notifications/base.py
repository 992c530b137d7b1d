"""The Notifier interface: one message out, and — where the channel allows — a look for a message
already delivered (reconciliation), so an uncertain send is never repeated blindly."""

from __future__ import annotations

import logging
import re
from dataclasses import dataclass
from datetime import datetime
from typing import Protocol

from pydantic import SecretStr

from fuquan.messages import Message
from fuquan.policy import Destination

DEFAULT_SLACK_API_URL = "https://slack.com/api/"


@dataclass(frozen=True)
class Webhook:
    """A robot's URL (it holds the access token) and, for DingTalk, its signing secret."""

    url: SecretStr
    secret: SecretStr | None = None


@dataclass(frozen=True)
class Outgoing:
    key: str  # the outbox key; Slack carries it in the message metadata
    destination: Destination
    message: Message
    created_at: datetime  # when it was queued: reconciliation looks no further back


class Notifier(Protocol):
    """Everything the reminder run needs of a channel. Real ones: console, Slack, robots; the fake:
    notifications.fake.RecordingNotifier."""

    kind: str
    can_reconcile: bool

    def send(self, out: Outgoing) -> str:
        """Deliver; return the channel's message id ("" where it gives none). Raises NotificationError."""
        ...

    def find(self, out: Outgoing) -> str | None:
        """The id of `out` if it was already delivered, None if it was not. Raises NotificationError
        when it cannot tell."""
        ...

    def check(self) -> None:
        """Before a run: raise NotificationError(auth) if the credential is bad; otherwise return."""
        ...

    @property
    def trail(self) -> list[tuple[str, str]]:
        """(result, code) of each failed attempt of this thread's last send, for the send log."""
        ...


def redact(text: str, secrets: list[str]) -> str:
    """Remove every secret (token, webhook URL, signing secret) and anything that looks like a
    Slack token from text bound for logs or errors."""
    for s in sorted((s for s in secrets if s), key=len, reverse=True):
        text = text.replace(s, "***")
    return re.sub(r"xox[abposr]-[A-Za-z0-9-]+", "xox?-***", text)


_SECRETS: list[str] = []


def guard_logs(secrets: list[str]) -> None:
    """Redact these secrets from every log record made from now on, whichever library logs it
    (slack_sdk logs request errors and, when retrying, full URLs — and a robot's URL is a secret).
    A record factory rather than a logger filter: filters do not apply to child loggers' records."""
    _SECRETS[:] = [s for s in secrets if s]
    factory = logging.getLogRecordFactory()
    if getattr(factory, "fuquan_redacting", False):
        return

    def make(*args: object, **kwargs: object) -> logging.LogRecord:
        record = factory(*args, **kwargs)
        if _SECRETS:
            record.msg, record.args = redact(record.getMessage(), _SECRETS), ()
        return record

    make.fuquan_redacting = True  # type: ignore[attr-defined]
    logging.setLogRecordFactory(make)
