"""The Notifier interface: one message out, and — where the channel allows — a look for a message
already delivered (reconciliation), so an uncertain send is never repeated blindly."""

from __future__ import annotations

import hashlib
import logging
import re
from dataclasses import dataclass
from datetime import datetime
from typing import Protocol, runtime_checkable

from pydantic import SecretStr

from fuquan.plans.policy import Destination
from fuquan.words.messages import Message

DEFAULT_SLACK_API_URL = "https://slack.com/api/"


@dataclass(frozen=True)
class Webhook:
    """A robot's URL (it holds the access token) and, for DingTalk, its signing secret."""

    url: SecretStr
    secret: SecretStr | None = None


@dataclass(frozen=True)
class DingTalkApp:
    """The county's DingTalk app (its robot sends work-notice cards to persons; presses come back over Stream):
    DINGTALK_CLIENT_ID, DINGTALK_CLIENT_SECRET, DINGTALK_ROBOT_CODE, DINGTALK_CARD_TEMPLATE_ID and, for tests or a
    政务钉钉 gateway, DINGTALK_OPENAPI_ENDPOINT."""

    client_id: str
    client_secret: SecretStr
    robot_code: str
    template_id: str
    api_base: str = "https://api.dingtalk.com"


@dataclass(frozen=True)
class WeComApp:
    """The county's WeCom (企业微信) app: WECOM_CORP_ID, WECOM_AGENT_ID, WECOM_SECRET, and for its callback
    WECOM_TOKEN and WECOM_AES_KEY; WECOM_API_BASE for tests."""

    corp_id: str
    agent_id: str
    secret: SecretStr
    token: SecretStr | None = None
    aes_key: SecretStr | None = None
    api_base: str = "https://qyapi.weixin.qq.com"


@dataclass(frozen=True)
class SmsGateway:
    """The county's SMS gateway (notifications/sms.py): FUQUAN_SMS_URL, FUQUAN_SMS_TOKEN, FUQUAN_SMS_SIGN."""

    url: SecretStr
    token: SecretStr | None = None
    sign: str = ""


def credential_values(slack_token: SecretStr | None, webhooks: dict[str, Webhook],
                      apps: tuple[DingTalkApp | WeComApp | SmsGateway | None, ...] = ()) -> list[str]:
    """Every credential value in play (the token, each robot's URL and signing secret, the apps' secrets), for
    redaction."""
    out = [slack_token.get_secret_value()] if slack_token else []
    for hook in webhooks.values():
        out += [hook.url.get_secret_value()] + ([hook.secret.get_secret_value()] if hook.secret else [])
    for app in apps:
        if isinstance(app, DingTalkApp):
            out.append(app.client_secret.get_secret_value())
        elif isinstance(app, WeComApp):
            out += [s.get_secret_value() for s in (app.secret, app.token, app.aes_key) if s]
        elif isinstance(app, SmsGateway):
            out += [s.get_secret_value() for s in (app.url, app.token) if s]
    return out


@dataclass(frozen=True)
class Outgoing:
    key: str  # the outbox key; Slack carries it in the message metadata
    destination: Destination
    message: Message
    created_at: datetime  # when it was queued: reconciliation looks no further back
    # the recipient unit's personal link (签收/反馈/申请延期), added at sending and never stored in the outbox;
    # `answerable`: a unit's own reminder in its own channel, which may carry Slack buttons
    link: str | None = None
    answerable: bool = False
    # the platform ids (DingTalk userId / WeCom UserID) of the recipient unit's contacts, for the channels that
    # reach persons (dingtalk-app, wecom-app); added at sending like the link
    people: tuple[str, ...] = ()
    # at most this many characters (a text message: the plan's `reminders: sms: max_chars`); 0: the channel's own
    chars: int = 0

    @property
    def track(self) -> str:
        """Our own id of this message on a platform that takes one (DingTalk's outTrackId, WeCom's task_id): the
        outbox key holds the unit's name, which neither accepts, so a digest of it ([0-9a-f], 34 characters)."""
        return track_id(self.key)

    def text(self) -> str:
        """The message's plain text, ending with the way back when there is one."""
        text = self.message.text()
        return f"{text}\n\n签收、反馈进展、申请延期请点击: {self.link}" if self.link else text


def track_id(key: str) -> str:
    return "fq" + hashlib.sha256(key.encode()).hexdigest()[:32]


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


@runtime_checkable
class ReadStatus(Protocol):
    """A channel that reports who has read a message (DingTalk's robot 1:1 messages)."""

    def reads(self, handle: str, now: datetime) -> dict[str, datetime | None]:
        """Person id → when they read the message whose send returned `handle` (None: not yet). Raises
        NotificationError when the platform cannot say."""
        ...


# What a credential looks like wherever it shows up, configured or not: a Slack token, a bearer token, and
# the query values robots and signed URLs carry (DingTalk access_token/sign, WeCom key, any secret/token).
_SHAPES = (
    (re.compile(r"xox[a-z]-[A-Za-z0-9-]+"), "xox?-***"),
    (re.compile(r"(?i)\bBearer\s+[A-Za-z0-9._~+/=-]+"), "Bearer ***"),
    (re.compile(r"(?i)\b(access_token|sign|secret|token|key|password)=[^&\s\"'<>]+"), r"\1=***"),
)


def redact(text: str, secrets: list[str]) -> str:
    """The one redaction for everything that leaves the process (errors, logs, the send log, artifacts,
    messages): every configured secret, whatever the URL's shape around it, and anything shaped like one."""
    for s in sorted((s for s in secrets if s), key=len, reverse=True):
        text = text.replace(s, "***")
    for shape, replacement in _SHAPES:
        text = shape.sub(replacement, text)
    return text


def error_code(raw: object) -> str:
    """A channel's error code as stored and shown: its own word when it is one (invalid_auth, errcode_310000),
    else a short class — never the raw answer, which may echo the request and its credentials."""
    text = str(raw or "")
    if re.fullmatch(r"[a-z][a-z0-9_]{0,59}", text):
        return text
    return "non_json_answer" if "non-JSON" in text else "bad_answer"


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
        try:
            message = record.getMessage()
        except (TypeError, ValueError):  # a library's own bad format string: leave the record as it is
            return record
        record.msg, record.args = redact(message, _SECRETS), ()
        return record

    make.fuquan_redacting = True  # type: ignore[attr-defined]
    logging.setLogRecordFactory(make)
