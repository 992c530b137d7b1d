"""DingTalk (钉钉) internal app: an interactive card from the app's robot to each contact of the unit, 1:1.

The card is created and delivered in one call (card/instances/createAndDeliver) under our own id, `outTrackId` =
Outgoing.track. Its template (built in DingTalk's card builder, DINGTALK_CARD_TEMPLATE_ID) takes the string
variables `title`, `markdown` and `link`, and holds three buttons whose 回传请求 comes back over the Stream
connection (notifications.dingtalk_stream, topic /v1.0/card/instances/callback) with an actionId and
`params.action`:
    签收      action = ack
    反馈进展  action = feedback   (may also open `link`, the unit's own page)
    申请延期  action = extension  (may also open `link`)
A send in doubt (timed out, connection cut) is looked for before anything is re-sent: the card is updated under
our outTrackId, which succeeds only if it exists (`find`); a card that is not there is sent on the next run. The app secret and the access token never appear in an error, a log line or a return value.
"""

from __future__ import annotations

import json
import logging
import re
import time
import urllib.request
from collections.abc import Callable
from typing import Any
from urllib.error import HTTPError

from pydantic import SecretStr

from fuquan.errors import Failure, NotificationError

from .base import Outgoing, error_code, redact
from .http_calls import NETWORK, ThreadTrail, TokenCache, error_body, no_answer

log = logging.getLogger("fuquan.dingtalk")
LABEL = "钉钉应用"
DEFAULT_API_BASE = "https://api.dingtalk.com"
TOKEN_HEADER = "x-acs-dingtalk-access-token"
TOKEN_MARGIN = 300  # seconds before expireIn that a token is refreshed (as the SDK does)
TOKEN_CODES = {"InvalidAuthentication"}  # with HTTP 401: the token is no longer taken; fetch a new one, once
AUTH_HINT = "请检查 DINGTALK_CLIENT_ID、DINGTALK_CLIENT_SECRET 及应用的互动卡片权限"
ACTIONS = ("ack", "feedback", "extension")  # params.action of the template's three buttons


def card(out: Outgoing, template_id: str, robot_code: str) -> dict[str, Any]:
    """The createAndDeliver body (pure): one card, delivered to every contact's 1:1 chat with the robot."""
    return {
        "cardTemplateId": template_id,
        "outTrackId": out.track,
        "callbackType": "STREAM",
        "cardData": {"cardParamMap": {"title": out.message.title, "markdown": out.message.text(),
                                      "link": out.link or ""}},
        "userIdType": 1,
        "openSpaceId": "dtv1.card//" + ";".join("IM_ROBOT." + p for p in out.people),
        "imRobotOpenSpaceModel": {"supportForward": False},
        "imRobotOpenDeliverModel": {"spaceType": "IM_ROBOT", "robotCode": robot_code},
    }


def platform_code(raw: object, status: int) -> str:
    """DingTalk's `code` (`Forbidden.AccessDenied.QpsLimitForApi`) as a stored code, else the HTTP status."""
    if not isinstance(raw, str) or not raw:
        return f"http_{status}"
    snake = re.sub(r"[^a-z0-9]+", "_", re.sub(r"(?<=[a-z0-9])([A-Z])", r"_\1", raw).lower()).strip("_")
    return error_code(snake[:60])


class DingTalkCardNotifier(ThreadTrail):
    kind = "dingtalk-app"
    can_reconcile = True  # by updating the card under our outTrackId: only a card that exists can be updated

    def __init__(self, *, client_id: str, client_secret: SecretStr, robot_code: str, template_id: str,
                 api_base: str = DEFAULT_API_BASE, timeout: float = 10,
                 clock: Callable[[], float] = time.monotonic, tokens: TokenCache | None = None) -> None:
        """`tokens`: another notifier's of the same app (the card's and the 1:1 message's share one token)."""
        self.client_id, self._secret, self.robot_code, self.template_id = client_id, client_secret, robot_code, template_id
        self.api_base, self.timeout = api_base.rstrip("/"), timeout
        self.tokens = tokens or TokenCache(self._fetch_token, clock, TOKEN_MARGIN)

    def send(self, out: Outgoing) -> str:
        trail = self.new_trail()
        if not out.people:
            raise self._error(Failure.DESTINATION, "no_contacts", "该单位未登记钉钉联系人 (contacts 中的 dingtalk)")
        answer = self._call("POST", "/v1.0/card/instances/createAndDeliver",
                            card(out, self.template_id, self.robot_code), trail)
        result = answer.get("result")
        delivered = result.get("deliverResults") if isinstance(result, dict) else None
        failed = [r for r in delivered or [] if isinstance(r, dict) and not r.get("success")]
        if delivered and len(failed) == len(delivered):
            why = "; ".join(str(r.get("errorMsg") or "")[:80] for r in failed[:3])
            raise self._error(Failure.DESTINATION, "deliver_failed",
                              f"钉钉中找不到该单位的联系人, 或不在机器人可见范围内; 请核对 contacts 中的 dingtalk ({why})")
        if failed:  # the others got it: not an error, but the 专班 should fix the plan
            who = "、".join(str(r.get("spaceId") or "?") for r in failed)
            log.warning(self._clean(f"{LABEL}: {len(failed)} 位联系人未收到卡片: {who}"))
        return out.track

    def update_card(self, out_track_id: str, params: dict[str, str]) -> None:
        """Change these variables of a card already sent (e.g. a state shown after a press); the others stay."""
        body = {"outTrackId": out_track_id, "cardData": {"cardParamMap": params},
                "cardUpdateOptions": {"updateCardDataByKey": True}}
        self._call("PUT", "/v1.0/card/instances", body, [])

    def find(self, out: Outgoing) -> str | None:
        """A card in doubt (its send timed out or was cut) exists when DingTalk lets us update it: it was created
        and delivered under our outTrackId, and sending it again would be refused as a duplicate. The update writes
        the title it already has. A refusal naming the card (DingTalk's code for "no such card" is unverified:
        any destination-class refusal) means it is not there."""
        try:
            self.update_card(out.track, {"title": out.message.title})
        except NotificationError as e:
            if e.category == Failure.DESTINATION:
                return None
            raise
        return out.track

    def check(self) -> None:
        """A token once before a run: a bad client id or secret stops everything before a single card is sent."""
        try:
            self.tokens.get()
        except NotificationError as e:
            if e.category == Failure.AUTH:
                raise
            # unreachable now: the sends will say so, message by message

    # -- DingTalk's OpenAPI -----------------------------------------------------------------------------
    def _call(self, method: str, path: str, body: dict[str, Any] | None, trail: list[tuple[str, str]], *,
              sends: bool = True) -> dict[str, Any]:
        """A call with a token; a token DingTalk no longer takes is dropped and the call made once more. `body`
        None: a GET (its query in `path`); `sends` False: a call that delivers nothing (a read-status query)."""
        for attempt in (1, 2):
            token = self.tokens.get()
            status, answer = self._exchange(method, path, body, {TOKEN_HEADER: token}, sends=sends)
            if attempt == 1 and (status == 401 or answer.get("code") in TOKEN_CODES):
                trail.append(("attempt", platform_code(answer.get("code"), status)))
                self.tokens.drop(token)
                continue
            if status < 300:
                return answer
            raise self._refusal(status, answer)
        raise AssertionError("unreachable")  # pragma: no cover

    def _fetch_token(self) -> tuple[str, int]:
        body = {"appKey": self.client_id, "appSecret": self._secret.get_secret_value()}
        status, answer = self._exchange("POST", "/v1.0/oauth2/accessToken", body, {}, sends=False)
        if status >= 300:
            code = platform_code(answer.get("code"), status)
            if status == 429 or status >= 500 or "qps_limit" in code:
                raise self._error(Failure.RETRY, code, "获取 accessToken 失败")
            raise self._error(Failure.AUTH, code, AUTH_HINT)
        token, expires = answer.get("accessToken"), answer.get("expireIn", 7200)
        if not isinstance(token, str) or not token or not isinstance(expires, int):
            raise self._error(Failure.RETRY, "bad_answer", "获取 accessToken 的返回内容无法识别")
        return token, expires

    def _exchange(self, method: str, path: str, body: dict[str, Any] | None, headers: dict[str, str], *,
                  sends: bool) -> tuple[int, dict[str, Any]]:
        """One HTTP exchange: (status, the answer's JSON object, {} when an error's body is none). A failed token
        fetch (`sends` False) delivered nothing, so it is "retry"; a failed card may have arrived: "unknown"."""
        data = None if body is None else json.dumps(body, ensure_ascii=False).encode()
        req = urllib.request.Request(f"{self.api_base}{path}", data=data,
                                     headers={"Content-Type": "application/json; charset=utf-8", **headers},
                                     method=method)
        try:
            with urllib.request.urlopen(req, timeout=self.timeout) as resp:  # noqa: S310 (base from our settings)
                status, raw = resp.status, resp.read()
        except HTTPError as e:
            status, raw = e.code, error_body(e)
        except NETWORK as e:
            category, name = no_answer(e, sends=sends)
            raise self._error(category, name, "结果未知, 可能已送达; 下次运行将再次发送" if category == Failure.UNKNOWN else "") from None
        try:
            answer = json.loads(raw.decode())
        except ValueError:
            answer = None
        if isinstance(answer, dict):
            return status, answer
        if status < 300:
            raise self._error(Failure.UNKNOWN if sends else Failure.RETRY, "bad_answer", "钉钉返回的内容无法识别")
        return status, {}

    # -- errors -----------------------------------------------------------------------------------------
    def _refusal(self, status: int, answer: dict[str, Any]) -> NotificationError:
        code = platform_code(answer.get("code"), status)
        message = str(answer.get("message") or "")[:200]
        if status == 429 or status >= 500 or "qps_limit" in code:
            return self._error(Failure.RETRY, code, message)
        if status in (401, 403) or "invalid_client" in code or code.startswith("forbidden") or code.endswith("_auth"):
            return self._error(Failure.AUTH, code, f"{AUTH_HINT}; {message}")
        return self._error(Failure.DESTINATION, code, message)

    def _clean(self, text: str) -> str:
        return redact(text, [self._secret.get_secret_value(), *self.tokens.issued])

    def _error(self, category: Failure, code: str, detail: str = "") -> NotificationError:
        return NotificationError(category, code, LABEL, self._clean(detail))
