"""Slack buttons on reminders: 签收 records at once, 申请延期 opens a modal, 反馈 opens the unit's page (files do
not fit a modal). The same handler serves Socket Mode (no public URL: a district intranet has none) and, for
offices with a public endpoint, the signed HTTP request URL `/slack/actions`.

A button acts only for the unit whose channel it was posted in: its value names the outbox message, and the
press must come from that message's channel (a forwarded message, sent to the 专班's channel, has no
buttons). HTTP requests need Slack's signature, a timestamp within five minutes and a body not seen before;
each Socket Mode envelope is handled once.
"""

from __future__ import annotations

import hashlib
import hmac
import json
import logging
import re
from datetime import date
from typing import Any
from urllib.parse import parse_qs

from slack_sdk.signature import Clock, SignatureVerifier

from fuquan.errors import FuquanError, InvalidValue, Refused
from fuquan.tracking.actor import Actor
from notifications.slack import ACK_ACTION, EXTEND_ACTION
from usecases import answers, links_door
from usecases.commands import Acknowledge, AskExtension
from usecases.context import Context
from usecases.links_door import ButtonMessage
from usecases.pages import unit_rows

from .guard import Door

log = logging.getLogger("fuquan.slack")
MODAL = "fuquan_extension"



class _Clock(Clock):
    """SignatureVerifier's clock, as the app's (injected in tests: a request's age is judged by it)."""

    def __init__(self, door: Door) -> None:
        self.door = door

    def now(self) -> float:
        return self.door.now().timestamp()


class SlackActions:
    def __init__(self, door: Door, signing_secret: str | None, client: Any = None) -> None:
        self.door, self.client = door, client  # client: a slack_sdk WebClient (views.open), when there is a token
        self.verifier = SignatureVerifier(signing_secret, _Clock(door)) if signing_secret else None

    # ── transports ──────────────────────────────────────────────────────────────────────────────────────
    def http(self, body: bytes, headers: dict[str, str]) -> tuple[int, dict[str, Any] | None]:
        """A request to /slack/actions: (status, JSON answer)."""
        h = {k.lower(): v for k, v in headers.items()}
        if self.verifier is None:
            return 404, None
        try:
            ok = self.verifier.is_valid(body, h.get("x-slack-request-timestamp"), h.get("x-slack-signature"))
        except (ValueError, TypeError, UnicodeDecodeError):  # it raises on a non-numeric timestamp, non-UTF-8 body
            ok = False
        if not ok:
            return 401, None
        digest = hashlib.sha256(h.get("x-slack-signature", "").encode() + body).hexdigest()
        if not self._first(f"slack-http:{digest}"):
            return 409, None  # a replayed body: Slack retries carry their own headers, an attacker's copy does not
        try:
            payload = json.loads(parse_qs(body.decode())["payload"][0])
        except (KeyError, ValueError, IndexError):
            return 400, None
        return 200, self.handle(payload, "slack http")

    def socket(self, envelope_id: str, payload: dict[str, Any]) -> dict[str, Any] | None:
        if not self._first(f"slack-socket:{envelope_id}"):
            return None
        return self.handle(payload, "slack socket")

    def _first(self, nonce: str) -> bool:
        return links_door.first_use(self.door.base, nonce)

    # ── what a press means ──────────────────────────────────────────────────────────────────────────────
    def handle(self, payload: dict[str, Any], via: str) -> dict[str, Any] | None:
        who = payload.get("user")
        user = str((who.get("id") if isinstance(who, dict) else None) or "?")[:40]
        try:
            if payload.get("type") == "block_actions":
                action = (payload.get("actions") or [{}])[0]
                channel = str((payload.get("channel") or {}).get("id") or "")
                msg, ctx = self._message(str(action.get("value") or ""), channel)
                actor = Actor(f"{msg.recipient} (Slack {user})", f"{via} {channel}")
                if action.get("action_id") == ACK_ACTION:
                    answers.acknowledge(ctx, Acknowledge(unit=msg.recipient, message_id=msg.id), actor=actor,
                                        now=ctx.now())
                elif action.get("action_id") == EXTEND_ACTION and self.client is not None:
                    self.client.views_open(trigger_id=payload.get("trigger_id"), view=self._modal(ctx, msg))
                return None
            if payload.get("type") == "view_submission" and (payload.get("view") or {}).get("callback_id") == MODAL:
                return self._submitted(payload["view"], user, via)
        except (Refused, KeyError, TypeError, AttributeError, IndexError, ValueError) as e:
            # forged or malformed (a payload not shaped as Slack sends it): nothing recorded, the press acknowledged
            log.warning("Slack 操作被拒绝: %s", e if isinstance(e, Refused) else type(e).__name__)
        except FuquanError as e:
            if payload.get("type") == "view_submission":
                return {"response_action": "errors", "errors": {"reason": str(e)[:150]}}
            log.warning("Slack 操作未完成: %s", e)
        return None

    def _message(self, key: str, channel: str | None = None) -> tuple[ButtonMessage, Context]:
        """The reminder message a button names and its plan; pressed in `channel`, it must have been posted there."""
        msg = links_door.button_message(self.door.base, key, channel)
        if msg is None:
            raise Refused(f"按钮与频道不符 ({channel})")
        return msg, self.door.plan_context(msg.plan_id)

    def _sign(self, key: str) -> str:
        return hmac.new(self.door.secret.encode(), f"slack-modal:{key}".encode(), hashlib.sha256).hexdigest()[:32]

    def _modal(self, ctx: Context, msg: ButtonMessage) -> dict[str, Any]:
        rows = [r for r in unit_rows(ctx, msg.recipient, ctx.today())
                if not r.judgement.colour.finished and r.judgement.due and r.judgement.due >= ctx.today()]
        # the value names the row as the use case does (its period); the label is only what the unit reads
        options = [{"text": {"type": "plain_text", "text": f"任务{r.task_no} {r.title} {r.label}".strip()[:75]},
                    "value": f"{r.task_no}|{r.period}"} for r in rows[:100]]
        field = {"type": "static_select", "action_id": "v", "options": options} if options else \
            {"type": "plain_text_input", "action_id": "v"}
        return {"type": "modal", "callback_id": MODAL, "title": {"type": "plain_text", "text": "申请延期"},
                "submit": {"type": "plain_text", "text": "提交"},
                "private_metadata": json.dumps({"key": msg.key, "sig": self._sign(msg.key)}),
                "blocks": [{"type": "input", "block_id": "task", "label": {"type": "plain_text", "text": "事项"}, "element": field},
                           {"type": "input", "block_id": "new_due", "label": {"type": "plain_text", "text": "延期至"},
                            "element": {"type": "datepicker", "action_id": "v"}},
                           {"type": "input", "block_id": "reason", "label": {"type": "plain_text", "text": "理由"},
                            "element": {"type": "plain_text_input", "action_id": "v", "multiline": True}}]}

    def _submitted(self, view: dict[str, Any], user: str, via: str) -> dict[str, Any] | None:
        meta = json.loads(view.get("private_metadata") or "{}")
        key = str(meta.get("key") or "")
        if not hmac.compare_digest(str(meta.get("sig") or "").encode(), self._sign(key).encode()):
            raise Refused("弹窗数据被改动")
        msg, ctx = self._message(key)  # (the channel was checked when the modal was opened, and signed)
        values = (view.get("state") or {}).get("values") or {}
        picked = values.get("task", {}).get("v", {})
        task, _, period = str((picked.get("selected_option") or {}).get("value") or picked.get("value") or "").partition("|")
        raw_due = str(values.get("new_due", {}).get("v", {}).get("selected_date") or "")
        reason = str(values.get("reason", {}).get("v", {}).get("value") or "")
        if not re.fullmatch(r"[0-9]{1,9}", task):  # (str.isdigit() takes ², which int() refuses)
            raise InvalidValue("请选择事项")
        try:
            new_due = date.fromisoformat(raw_due)
        except ValueError:
            raise InvalidValue("请选择新的截止日期") from None
        cmd = AskExtension(unit=msg.recipient, task_no=int(task), period=period, new_due=new_due, reason=reason,
                           nonce=f"slack-view:{view.get('id')}")
        answers.ask_extension(ctx, cmd, actor=Actor(f"{msg.recipient} (Slack {user})", via), today=ctx.today())
        return None

