"""The doors of the cards that reach persons: WeCom's callback (a route of this app) and DingTalk's Stream
connection (held beside it). Both turn a press into `usecases.presses.press` — the same use case, the same
checks (the message reached this person, who is a contact of its unit), each delivery handled once.

WeCom calls our URL: the request must carry WeCom's signature over the encrypted body (WECOM_TOKEN) and decrypt
with WECOM_AES_KEY to our corp id; anything else is refused with 403 and records nothing. WeCom wants an answer
within 5 seconds or it retries: the press is recorded in a worker thread and answered at once with an empty 200;
the card's 签收 button is then changed to 已签收 through the API (update_template_card), in the background.
The callback needs an address WeCom's servers can reach (public HTTPS, e.g. the reverse proxy's); a county
without one still has the link in every card.

DingTalk needs no address: the app opens the Stream WebSocket outward (notifications.dingtalk_stream).
"""

from __future__ import annotations

import logging
import threading
from collections.abc import Callable
from typing import Any

from starlette.requests import Request
from starlette.responses import PlainTextResponse, Response

from fuquan.errors import Refused
from notifications import wecom_crypto
from notifications.base import DingTalkApp, WeComApp
from usecases.presses import Outcome, PressButton, press

from .guard import Door
from .handlers import off_write

log = logging.getLogger("fuquan.cards")
MAX_BODY = 64 * 1024
FRESH_SECONDS = 300  # a callback older (or newer) than this is refused: replayed, or a clock far off


class WeComCallback:
    def __init__(self, door: Door, app: WeComApp, update: Callable[[list[str], str, str], None] | None = None) -> None:
        """`update(userids, response_code, replace_name)`: changes a pressed card (the WeCom notifier's)."""
        if app.token is None or app.aes_key is None:
            raise ValueError("WECOM_TOKEN / WECOM_AES_KEY")
        self.door, self.app, self.update = door, app, update
        self._keys = (app.token.get_secret_value(), app.aes_key.get_secret_value(), app.corp_id)

    async def __call__(self, request: Request) -> Response:
        q = request.query_params
        signed = {"msg_signature": q.get("msg_signature", ""), "timestamp": q.get("timestamp", ""),
                  "nonce": q.get("nonce", "")}
        try:
            if request.method == "GET":  # WeCom checking the URL when it is saved
                return PlainTextResponse(wecom_crypto.echo(*self._keys, **signed, echostr=q.get("echostr", "")))
            if int(request.headers.get("content-length") or 0) > MAX_BODY:
                return Response(status_code=413)
            event = wecom_crypto.open_callback(*self._keys, **signed, body=await request.body())
        except (Refused, ValueError) as e:
            log.warning("企业微信回调被拒绝: %s", type(e).__name__)
            return Response(status_code=403)
        if not self._fresh(signed["timestamp"]):
            return Response(status_code=403)
        if event.get("Event") == "template_card_event":
            await off_write(self._pressed, event)
        return PlainTextResponse("")  # (an empty answer: WeCom expects nothing more)

    def _fresh(self, timestamp: str) -> bool:
        try:
            return abs(self.door.now().timestamp() - int(timestamp)) <= FRESH_SECONDS
        except ValueError:
            return False

    def _pressed(self, event: dict[str, str]) -> None:
        user, task = event.get("FromUserName", ""), event.get("TaskId", "")
        cmd = PressButton(platform="wecom", track=task, person_id=user, button=event.get("EventKey", ""),
                          # WeCom's events carry no id: the sender, the time and the card make one
                          delivery=f"{user}:{event.get('CreateTime', '')}:{task}:{event.get('EventKey', '')}")
        done = press(self.door.base, cmd, now=self.door.now(), plans=self.door.plans)
        log.info("企业微信按钮: %s %s", done.outcome, done.unit)
        code = event.get("ResponseCode", "")
        if done.outcome in (Outcome.RECORDED, Outcome.ALREADY) and code and self.update is not None:
            update = self.update  # (the card's button becomes 已签收: a call out, so not in WeCom's 5 s)
            threading.Thread(target=_quietly, args=(update, [user], code, "已签收"), daemon=True).start()


def _quietly(update: Callable[[list[str], str, str], None], *args: Any) -> None:
    try:
        update(*args)
    except Exception as e:  # noqa: BLE001 (a card left unchanged is cosmetic: the press is recorded)
        log.warning("企业微信卡片未能更新: %s", type(e).__name__)


def wecom_door(door: Door, app: WeComApp | None) -> WeComCallback | None:
    """The callback route's endpoint, when the WeCom app and its callback keys are configured."""
    if app is None or app.token is None or app.aes_key is None:
        return None
    from notifications.wecom_app import WeComAppNotifier

    notifier = WeComAppNotifier(corp_id=app.corp_id, agent_id=app.agent_id, secret=app.secret, api_base=app.api_base)
    return WeComCallback(door, app, notifier.update_card)


def dingtalk_door(door: Door, app: DingTalkApp | None) -> Callable[[], None]:
    """Hold DingTalk's Stream connection for the app's card presses; returns what stops it."""
    if app is None:
        return lambda: None
    from notifications.dingtalk_stream import CardStream, Press

    def on_press(p: Press) -> dict[str, Any] | None:
        cmd = PressButton(platform="dingtalk", track=p.track, person_id=p.user_id, button=p.action,
                          delivery=p.message_id)
        done = press(door.base, cmd, now=door.now(), plans=door.plans)
        log.info("钉钉按钮: %s %s", done.outcome, done.unit)
        return {"cardData": {"cardParamMap": {"status": done.text}}} if done.text else None

    stream = CardStream(client_id=app.client_id, client_secret=app.client_secret, api_base=app.api_base,
                        on_press=on_press)
    stream.start()

    def stop() -> None:
        stream.stop()

    return stop
