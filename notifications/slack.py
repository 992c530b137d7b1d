"""Slack via slack_sdk.WebClient: Block Kit with a plain-text fallback, exactly once.

The SDK's own retries are switched off: its connection retry re-posts a message whose response was
lost (measured: a duplicate), its default handlers ignore 429, and its rate-limit handler breaks on
an HTTP-date Retry-After. Instead: every message carries its outbox key in `metadata`; after any
outcome we cannot be sure of (timeout, dropped connection, 5xx, fatal_error) we look for that key in
conversations.history before posting again.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from datetime import UTC, datetime
from email.utils import parsedate_to_datetime
from typing import Any

from pydantic import SecretStr
from slack_sdk import WebClient
from slack_sdk.errors import SlackApiError

from fuquan.errors import Failure, NotificationError
from fuquan.words.messages import Message

from .base import DEFAULT_SLACK_API_URL as DEFAULT_API_URL
from .base import Outgoing, error_code, redact
from .http_calls import NETWORK, ThreadTrail

EVENT_TYPE = "fuquan_reminder"
AUTH = {"invalid_auth", "not_authed", "account_inactive", "token_revoked", "token_expired", "missing_scope",
        "no_permission", "ekm_access_denied"}
DESTINATION = {"channel_not_found", "not_in_channel", "is_archived", "restricted_action", "cannot_dm_bot"}
CONTENT = {"msg_too_long", "msg_blocks_too_long", "invalid_blocks", "invalid_blocks_format", "no_text",
           "too_many_attachments", "invalid_metadata_format", "invalid_metadata_schema"}
UNCERTAIN = {"fatal_error", "internal_error", "service_unavailable", "request_timeout"}
RATE = {"ratelimited", "rate_limited"}
SECTION_LIMIT, BLOCK_LIMIT = 2900, 50  # Slack: 3,000 characters per section text, 50 blocks


ACK_ACTION, EXTEND_ACTION, OPEN_ACTION = "fuquan_ack", "fuquan_extend", "fuquan_open"


def answer_block(out: Outgoing) -> dict[str, Any]:
    """The buttons a unit's own reminder ends with: 签收 (recorded at once), 反馈进展 (its page), 申请延期 (a
    modal). Their value is the outbox key; web/slack.py checks the press came from the channel it was sent to."""
    elements: list[dict[str, Any]] = [
        {"type": "button", "action_id": ACK_ACTION, "text": {"type": "plain_text", "text": "签收"}, "style": "primary",
         "value": out.key},
        {"type": "button", "action_id": EXTEND_ACTION, "text": {"type": "plain_text", "text": "申请延期"}, "value": out.key}]
    if out.link:
        elements.insert(1, {"type": "button", "action_id": OPEN_ACTION, "text": {"type": "plain_text", "text": "反馈进展"},
                            "url": out.link})
    return {"type": "actions", "block_id": "fuquan_answer", "elements": elements}


def blocks(message: Message, outgoing: Outgoing | None = None) -> list[dict[str, Any]]:
    out: list[dict[str, Any]] = [{"type": "header", "text": {"type": "plain_text", "text": message.title[:150]}}]
    if message.note:
        out.append({"type": "context", "elements": [{"type": "mrkdwn", "text": message.note}]})
    for s in message.sections:
        chunk = f"*{s.heading}*"
        for line in s.lines:
            if len(chunk) + len(line) + 3 > SECTION_LIMIT:
                out.append({"type": "section", "text": {"type": "mrkdwn", "text": chunk}})
                chunk = ""
            chunk += f"\n• {line}"
        out.append({"type": "section", "text": {"type": "mrkdwn", "text": chunk}})
    tail = [answer_block(outgoing)] if outgoing is not None and outgoing.answerable else []
    if len(out) + len(tail) > BLOCK_LIMIT:
        out = out[: BLOCK_LIMIT - 1 - len(tail)] + [{"type": "context", "elements": [
            {"type": "mrkdwn", "text": "内容较多, 其余事项请在督办系统中查看。"}]}]
    return out + tail


class SlackNotifier(ThreadTrail):
    kind = "slack"
    can_reconcile = True

    def __init__(self, token: SecretStr, base_url: str = DEFAULT_API_URL, *, timeout: float = 10,
                 max_attempts: int = 5, max_wait: float = 120, sleep: Callable[[float], None] = time.sleep,
                 now: Callable[[], datetime] = lambda: datetime.now(UTC)) -> None:
        self._secret = token.get_secret_value()
        self.client = WebClient(token=self._secret, base_url=base_url, timeout=int(timeout), retry_handlers=[])
        self.max_attempts, self.max_wait, self.sleep, self.now = max_attempts, max_wait, sleep, now

    def send(self, out: Outgoing) -> str:
        plain = False
        self.new_trail()
        for attempt in range(1, self.max_attempts + 1):
            last = attempt == self.max_attempts
            try:
                resp = self.client.chat_postMessage(
                    channel=out.destination.target, text=out.text()[:39000],
                    blocks=None if plain else blocks(out.message, out), unfurl_links=False,
                    metadata={"event_type": EVENT_TYPE, "event_payload": {"key": out.key}})
                return str(resp["ts"])
            except SlackApiError as e:
                code, status = self._code(e), e.response.status_code
                self.trail.append(("attempt", code or f"http_{status}"))
                if status == 429 or code in RATE:
                    if last:
                        raise self._error(Failure.RETRY, code or "ratelimited", out) from None
                    self.sleep(min(self._retry_after(e.response.headers), self.max_wait))
                elif status >= 500 or code in UNCERTAIN:
                    if found := self._look(out, code or f"http_{status}"):
                        return found
                    if last:
                        raise self._error(Failure.UNKNOWN, code or f"http_{status}", out) from None
                    self.sleep(min(2 ** attempt, self.max_wait))
                elif code in CONTENT and not plain:
                    plain = True  # our blocks were refused: a bug, but the reminder must still go out
                elif code in AUTH:
                    raise self._error(Failure.AUTH, code, out, "请检查 SLACK_BOT_TOKEN 及其权限") from None
                elif code in DESTINATION:
                    raise self._error(Failure.DESTINATION, code, out, "请检查频道 ID 并把机器人加入频道") from None
                else:
                    category = Failure.CONTENT if code in CONTENT else Failure.RETRY
                    raise self._error(category, code or f"http_{status}", out) from None
            except NETWORK as e:
                self.trail.append(("attempt", type(e).__name__))
                if _refused(e):  # nothing reached Slack: posting again cannot duplicate
                    if last:
                        raise self._error(Failure.RETRY, type(e).__name__, out) from None
                    self.sleep(min(2 ** attempt, self.max_wait))
                    continue
                # The request may have reached Slack and still be in progress there: look, and if it is
                # not there yet, do not post again now — the next run looks once more first.
                if found := self._look(out, type(e).__name__):
                    return found
                raise self._error(Failure.UNKNOWN, type(e).__name__, out, "结果未知, 下次运行先核对再决定是否重发") from None
        raise AssertionError("unreachable")  # pragma: no cover

    def check(self) -> None:
        """auth.test once before a run: a bad token stops everything before a single post is tried."""
        try:
            self.client.auth_test()
        except SlackApiError as e:
            code = self._code(e)
            if code in AUTH:
                raise NotificationError(Failure.AUTH, code, "Slack", "请检查 SLACK_BOT_TOKEN 及其权限") from None
        except NETWORK:
            pass  # unreachable now: the sends will say so, message by message

    def find(self, out: Outgoing) -> str | None:
        oldest = f"{out.created_at.timestamp() - 60:.6f}"
        cursor = None
        for _ in range(10):  # at most 2,000 messages back since the message was queued
            try:
                resp = self.client.conversations_history(channel=out.destination.target, oldest=oldest, limit=200,
                                                         include_all_metadata=True, cursor=cursor)
            except SlackApiError as e:
                code = self._code(e) or f"http_{e.response.status_code}"
                category = (Failure.AUTH if code in AUTH else Failure.DESTINATION if code in DESTINATION
                            else Failure.UNKNOWN)
                raise self._error(category, code, out, "无法核对是否已发送") from None
            except NETWORK as e:
                raise self._error(Failure.UNKNOWN, type(e).__name__, out, "无法核对是否已发送") from None
            messages: list[dict[str, Any]] = resp.get("messages", [])
            for m in messages:
                if (m.get("metadata") or {}).get("event_payload", {}).get("key") == out.key:
                    return str(m["ts"])
            cursor = (resp.get("response_metadata") or {}).get("next_cursor")
            if not resp.get("has_more") or not cursor:
                return None
        return None

    def _look(self, out: Outgoing, why: str) -> str | None:
        """After an uncertain attempt: the message's ts if it arrived, None if it surely did not. When
        the history cannot be read either, re-posting could duplicate it: give up as "unknown" and let
        the next run look again."""
        try:
            return self.find(out)
        except NotificationError as e:
            if e.category == Failure.AUTH:
                raise
            raise self._error(Failure.UNKNOWN, why, out, "无法核对是否已发送, 下次运行先核对再决定是否重发") from None

    def _retry_after(self, headers: Any) -> float:
        raw = str((headers or {}).get("Retry-After") or (headers or {}).get("retry-after") or "1")
        if isinstance(raw, list):  # pragma: no cover - some adapters give lists
            raw = raw[0]
        try:
            return max(0.0, float(raw))
        except ValueError:
            try:
                return max(0.0, (parsedate_to_datetime(raw) - self.now()).total_seconds())
            except (TypeError, ValueError):
                return 1.0

    @staticmethod
    def _code(e: SlackApiError) -> str:
        data = e.response.data if isinstance(e.response.data, dict) else {}
        return error_code(data["error"]) if data.get("error") else ""

    def _clean(self, text: str) -> str:
        return redact(text, [self._secret])

    def _error(self, category: Failure, code: str, out: Outgoing, detail: str = "") -> NotificationError:
        return NotificationError(category, code, out.destination.label(), self._clean(detail))


def _refused(e: BaseException) -> bool:
    reason = getattr(e, "reason", e)
    return isinstance(reason, ConnectionRefusedError)
