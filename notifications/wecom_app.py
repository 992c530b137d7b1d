"""WeCom (企业微信) self-built app: a button card (签收 / 反馈进展 / 申请延期) to each contact of the unit.

Unlike a robot it reaches persons, and their presses come back to the app's callback URL (wecom_crypto). The
card carries our own task_id (Outgoing.track), unique per app. WeCom cannot list what an app sent, so a send
cannot be reconciled: an uncertain one is re-sent on the next run under the same task_id. WeCom drops a task_id
it already has silently (errcode 0, not pushed again: reported by an integrator, not verified against a live
corp), so the card reaches each person once and the message counts as sent. The card also opens the
unit's link, so a county whose callback WeCom cannot reach still has the way back.
The corp secret and the access token never appear in an error, a log line or a return value.
"""

from __future__ import annotations

import json
import logging
import time
import urllib.parse
import urllib.request
from collections.abc import Callable
from typing import Any
from urllib.error import HTTPError

from pydantic import SecretStr

from fuquan.errors import Failure, NotificationError
from fuquan.words.messages import Message

from .base import Outgoing, redact
from .http_calls import NETWORK, ThreadTrail, TokenCache, no_answer

log = logging.getLogger("fuquan.wecom")
LABEL = "企业微信应用"
DEFAULT_API_BASE = "https://qyapi.weixin.qq.com"
TOKEN_CODES = {40014, 42001, 40001}  # invalid / expired / "not latest" access token: fetch a new one, once
AUTH_CODES = {40001, 40013, 40091, 41002, 41004, 60020}  # bad secret or corp id, IP not allowed
RATE_CODES = {45009, 45033, -1}  # frequency limits, "system busy"
NO_USERS = 81013  # every user, party and tag invalid
TITLE_LIMIT, DESC_LIMIT, SUB_LIMIT = 36, 44, 160  # WeCom: main_title 36, desc 44, sub_title_text 160 characters
TOKEN_MARGIN = 300  # seconds before expires_in that a token is refreshed
BUTTONS = ({"text": "签收", "style": 1, "key": "ack"}, {"text": "反馈进展", "style": 2, "key": "feedback"},
           {"text": "申请延期", "style": 2, "key": "extension"})


def summary(message: Message, linked: bool) -> str:
    """The card's body text: the sections as plain lines, cut to WeCom's length with a note saying so."""
    parts = [message.note] if message.note else []
    parts += [f"{s.heading}: " + "；".join(s.lines) for s in message.sections]
    text = "\n".join(parts)
    if len(text) <= SUB_LIMIT:
        return text
    more = "…(内容较多, 完整内容请点击卡片查看)" if linked else "…(内容较多, 其余请在督办系统中查看)"
    return text[: SUB_LIMIT - len(more)] + more


def card(out: Outgoing, agent_id: int) -> dict[str, Any]:
    """The message/send body (pure)."""
    m = out.message
    template: dict[str, Any] = {
        "card_type": "button_interaction",
        "main_title": {"title": m.title[:TITLE_LIMIT], "desc": (m.note or m.closing)[:DESC_LIMIT]},
        "sub_title_text": summary(m, bool(out.link)),
        "task_id": out.track,
        "button_list": [dict(b) for b in BUTTONS],
    }
    if out.link:
        template["card_action"] = {"type": 1, "url": out.link}
        template["horizontal_content_list"] = [{"type": 1, "keyname": "反馈页面", "value": "打开反馈页面", "url": out.link}]
    return {"touser": "|".join(out.people), "msgtype": "template_card", "agentid": agent_id, "template_card": template,
            "enable_duplicate_check": 1, "duplicate_check_interval": 1800}


class WeComAppNotifier(ThreadTrail):
    kind = "wecom-app"
    can_reconcile = False

    def __init__(self, *, corp_id: str, agent_id: str, secret: SecretStr, api_base: str = DEFAULT_API_BASE,
                 timeout: float = 10, clock: Callable[[], float] = time.monotonic) -> None:
        self.agent_id = int(agent_id) if agent_id.strip().isdigit() else None  # said by check() and send()
        self.corp_id, self._secret, self.api_base = corp_id, secret, api_base.rstrip("/")
        self.timeout = timeout
        self._tokens = TokenCache(self._fetch_token, clock, TOKEN_MARGIN)

    def send(self, out: Outgoing) -> str:
        trail = self.new_trail()
        agent_id = self._agent()
        if not out.people:
            raise self._error(Failure.DESTINATION, "no_contacts", "该单位未登记企业微信联系人 (contacts 中的 wecom)")
        answer = self._call("/cgi-bin/message/send", card(out, agent_id), trail)
        code = answer["errcode"]
        invalid = [u for u in str(answer.get("invaliduser") or "").split("|") if u]
        if code == 0 and set(out.people) <= set(invalid):
            raise self._error(Failure.DESTINATION, "invalid_user",
                              "企业微信中找不到该单位的联系人, 或不在应用可见范围内; 请核对 contacts 中的 wecom")
        if code != 0:
            raise self._refusal(code, answer)
        if invalid:  # the others got it: not an error, but the 专班 should fix the plan
            log.warning(redact(f"{LABEL}: {len(invalid)} 位联系人未收到 (UserID 不存在或不在应用可见范围): "
                               f"{'、'.join(invalid)}", self._secrets()))
        return out.track

    def update_card(self, userids: list[str], response_code: str, replace_name: str) -> None:
        """Grey out the buttons of a pressed card for these users (response_code: single use, 72 h)."""
        body = {"userids": userids, "agentid": self._agent(), "response_code": response_code,
                "button": {"replace_name": replace_name}}
        answer = self._call("/cgi-bin/message/update_template_card", body, [])
        if answer["errcode"] != 0:
            raise self._refusal(answer["errcode"], answer)

    def find(self, out: Outgoing) -> str | None:
        return None

    def check(self) -> None:
        """A token once before a run: a bad secret or corp id stops everything before a single card is sent."""
        self._agent()
        try:
            self._tokens.get()
        except NotificationError as e:
            if e.category == Failure.AUTH:
                raise
            # unreachable now: the sends will say so, message by message

    def _agent(self) -> int:
        if self.agent_id is None:
            raise self._error(Failure.AUTH, "bad_agent_id", "环境变量 WECOM_AGENT_ID 应为整数 (企业微信管理后台 → 应用管理 → AgentId)")
        return self.agent_id

    # -- WeCom's API ------------------------------------------------------------------------------------
    def _call(self, path: str, body: dict[str, Any], trail: list[tuple[str, str]]) -> dict[str, Any]:
        """POST with a token; a token WeCom no longer takes is dropped and the call made once more."""
        for attempt in (1, 2):
            token = self._tokens.get()
            answer = self._request(path, {"access_token": token}, body)
            if answer["errcode"] in TOKEN_CODES and attempt == 1:
                trail.append(("attempt", f"errcode_{answer['errcode']}"))
                self._tokens.drop(token)
                continue
            return answer
        raise AssertionError("unreachable")  # pragma: no cover

    def _fetch_token(self) -> tuple[str, int]:
        query = {"corpid": self.corp_id, "corpsecret": self._secret.get_secret_value()}
        answer = self._request("/cgi-bin/gettoken", query, None)
        code, token, expires = answer["errcode"], answer.get("access_token"), answer.get("expires_in", 7200)
        if code in RATE_CODES:
            raise self._error(Failure.RETRY, f"errcode_{code}", "获取 access_token 失败")
        if code != 0:
            raise self._error(Failure.AUTH, f"errcode_{code}", "请检查 WECOM_CORP_ID、应用 Secret 及企业可信 IP; "
                              + str(answer.get("errmsg", ""))[:200])
        if not isinstance(token, str) or not token or not isinstance(expires, int):
            raise self._error(Failure.RETRY, "bad_answer", "获取 access_token 的返回内容无法识别")
        return token, expires

    def _request(self, path: str, query: dict[str, str], body: dict[str, Any] | None) -> dict[str, Any]:
        """One HTTP exchange; its answer when it carries an integer errcode. A failed gettoken (body None) sent
        nothing, so it is always "retry"; a failed send may have arrived: "unknown"."""
        sends = body is not None
        url = f"{self.api_base}{path}?{urllib.parse.urlencode(query)}"
        data = json.dumps(body, ensure_ascii=False).encode() if sends else None
        req = urllib.request.Request(url, data=data, headers={"Content-Type": "application/json; charset=utf-8"},
                                     method="POST" if sends else "GET")
        try:
            with urllib.request.urlopen(req, timeout=self.timeout) as resp:  # noqa: S310 (base from our settings)
                raw = resp.read()
        except HTTPError as e:
            category = Failure.RETRY if e.code >= 500 or e.code == 429 else Failure.DESTINATION
            raise self._error(category, f"http_{e.code}") from None
        except NETWORK as e:
            category, name = no_answer(e, sends=sends)
            raise self._error(category, name, "结果未知, 可能已送达; 下次运行将再次发送" if category == Failure.UNKNOWN else "") from None
        try:
            answer = json.loads(raw.decode())
        except ValueError:
            answer = None
        code = answer.get("errcode") if isinstance(answer, dict) else None
        if not isinstance(code, int) or isinstance(code, bool):
            raise self._error(Failure.UNKNOWN if sends else Failure.RETRY, "bad_answer", "企业微信返回的内容无法识别")
        return answer  # type: ignore[no-any-return]

    # -- errors -----------------------------------------------------------------------------------------
    def _refusal(self, code: int, answer: dict[str, Any]) -> NotificationError:
        errmsg = str(answer.get("errmsg", ""))[:200]
        if code in RATE_CODES:
            return self._error(Failure.RETRY, f"errcode_{code}", errmsg)
        if code in AUTH_CODES or code in TOKEN_CODES:
            return self._error(Failure.AUTH, f"errcode_{code}", "请检查应用 Secret、AgentId 及企业可信 IP; " + errmsg)
        if code == NO_USERS:
            return self._error(Failure.DESTINATION, f"errcode_{code}",
                               "企业微信中找不到该单位的联系人, 或不在应用可见范围内; 请核对 contacts 中的 wecom")
        return self._error(Failure.DESTINATION, f"errcode_{code}", errmsg)

    def _secrets(self) -> list[str]:
        return [self._secret.get_secret_value(), *self._tokens.issued]

    def _error(self, category: Failure, code: str, detail: str = "") -> NotificationError:
        return NotificationError(category, code, LABEL, redact(detail, self._secrets()))
