"""DingTalk's Stream connection, over which the presses of our cards' buttons come back (no public URL needed).

Built on the pieces of the `dingtalk_stream` SDK (its client's open_connection, its frames and handlers) with a
loop of our own, because the SDK's start() runs forever, swallows a cancellation and logs the connection ticket at
INFO. Here: one thread with its own asyncio loop, a stop() that ends it, every frame answered on the connection it
came on (a ping echoed, a press answered also when it is refused or malformed, so DingTalk does not redeliver it),
and a new connection after a dropped one or a SYSTEM disconnect. The SDK only ever gets a logger at WARNING.
"""

from __future__ import annotations

import asyncio
import json
import logging
import re
import threading
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any
from urllib.parse import quote_plus

import dingtalk_stream
from dingtalk_stream import AckMessage, CallbackHandler, CallbackMessage, DingTalkStreamClient, SystemMessage
from pydantic import SecretStr
from websockets.asyncio.client import ClientConnection, connect
from websockets.exceptions import WebSocketException

from .base import redact
from .dingtalk_app import ACTIONS, DEFAULT_API_BASE

log = logging.getLogger("fuquan.dingtalk")
TOPIC = "/v1.0/card/instances/callback"
OPEN_PATH = "/v1.0/gateway/connections/open"
_TICKET = re.compile(r"""(["']?ticket["']?\s*[:=]\s*["']?)[^"'&\s,}]+""")  # in a dict, JSON or a query


@dataclass(frozen=True)
class Press:
    message_id: str  # the frame's headers.messageId: DingTalk may deliver a press twice
    user_id: str  # who pressed (staff userId)
    track: str  # which card: our outTrackId (Outgoing.track)
    action: str  # "ack" / "feedback" / "extension", "" when the card said something else


def press_of(message_id: str, data: object) -> Press | None:
    """The press in a callback's data, None when it is not one (no userId or outTrackId)."""
    data = _dict(data)
    user, track = data.get("userId"), data.get("outTrackId")
    if not isinstance(user, str) or not isinstance(track, str) or not user or not track:
        return None
    # 0.24.3 sends the card's private data in `content`, newer DingTalk in `value`
    private = _dict(_json(data.get("content")).get("cardPrivateData") or _json(data.get("value")).get("cardPrivateData"))
    ids = private.get("actionIds")
    said = [_dict(private.get("params")).get("action"), *(ids if isinstance(ids, list) else [])]
    action = next((a for a in said if isinstance(a, str) and a in ACTIONS), "")  # params.action first
    return Press(message_id, user, track, action)


def _json(raw: object) -> dict[str, Any]:
    if isinstance(raw, str | bytes):
        try:
            raw = json.loads(raw)
        except ValueError:
            return {}
    return _dict(raw)


def _dict(value: object) -> dict[str, Any]:
    return value if isinstance(value, dict) else {}


class _Client(DingTalkStreamClient):  # type: ignore[misc]
    def get_host_ip(self) -> str:
        return ""  # the SDK finds it by connecting a UDP socket towards 8.8.8.8; DingTalk does not need it


class _PressHandler(CallbackHandler):  # type: ignore[misc]
    def __init__(self, on_press: Callable[[Press], dict[str, Any] | None], logger: logging.Logger) -> None:
        super().__init__()
        self.logger, self.on_press = logger, on_press

    async def process(self, message: CallbackMessage) -> tuple[int, dict[str, Any]]:
        press = press_of(str(message.headers.message_id or ""), message.data)
        if press is None:
            log.warning("钉钉卡片回调无法识别, 已应答并忽略 (messageId %s)", message.headers.message_id)
            return AckMessage.STATUS_OK, {}
        try:
            answer = await asyncio.to_thread(self.on_press, press)
        except Exception as e:  # the press is lost either way; DingTalk must still get its answer
            log.warning("钉钉卡片按钮处理失败 (%s), 已应答", type(e).__name__)
            return AckMessage.STATUS_OK, {}
        return AckMessage.STATUS_OK, answer or {}


class CardStream:
    """Holds the Stream connection in a thread of its own: start(), then stop() when the web app ends."""

    def __init__(self, *, client_id: str, client_secret: SecretStr, on_press: Callable[[Press], dict[str, Any] | None],
                 api_base: str = DEFAULT_API_BASE, pause: float = 1.0, max_pause: float = 60.0) -> None:
        self.api_base, self.pause, self.max_pause = api_base.rstrip("/"), pause, max_pause
        self._secret = client_secret.get_secret_value()
        # A logger of this stream's own (not in logging's registry, so its filter goes with it), below ours: at
        # WARNING, since the SDK logs the connection's ticket at INFO, and redacting what it logs on errors.
        sdk_log = logging.Logger("fuquan.dingtalk.sdk", logging.WARNING)
        sdk_log.parent = log
        sdk_log.addFilter(self._redacting)
        self._client = _Client(dingtalk_stream.Credential(client_id, self._secret), logger=sdk_log)
        self._sdk_log = sdk_log  # also websockets': at DEBUG it logs the request line, ticket and all
        self._client.register_callback_handler(TOPIC, _PressHandler(on_press, sdk_log))
        self._loop = asyncio.new_event_loop()
        self._thread = threading.Thread(target=self._run, name="dingtalk-stream", daemon=True)
        self._main: asyncio.Task[None] | None = None
        self._stopping = False

    @property
    def running(self) -> bool:
        return self._thread.is_alive()

    def start(self) -> None:
        self._thread.start()

    def stop(self, timeout: float = 10) -> bool:
        """End the connection and the thread; True when the thread has ended within `timeout`."""
        if self._thread.ident is None:  # never started
            self._loop.close()
            return True
        if not self._thread.is_alive():
            return True
        self._loop.call_soon_threadsafe(self._cancel)
        self._thread.join(timeout)
        return not self._thread.is_alive()

    def _cancel(self) -> None:
        self._stopping = True
        if self._main is not None:
            self._main.cancel()

    def _run(self) -> None:
        try:
            self._loop.run_until_complete(self._forever())
        except asyncio.CancelledError:
            pass
        finally:
            self._loop.run_until_complete(self._settle())
            self._loop.close()

    async def _settle(self) -> None:
        """Cancel the answers still in flight; wait for an on_press still running (a press half recorded)."""
        pending = asyncio.all_tasks() - {asyncio.current_task()}
        for task in pending:
            task.cancel()
        await asyncio.gather(*pending, return_exceptions=True)
        await asyncio.get_running_loop().shutdown_default_executor()

    async def _forever(self) -> None:
        self._main = asyncio.current_task()
        if self._stopping:  # stop() came before the loop ran
            return
        self._client.pre_start()
        wait = self.pause
        while True:
            connected = await self._session()
            wait = self.pause if connected else min(wait * 2, self.max_pause)
            await asyncio.sleep(wait)

    async def _session(self) -> bool:
        """One connection, until DingTalk or the network ends it; whether it was made."""
        connection = await self._open()
        if not isinstance(connection, dict) or not connection.get("endpoint") or not connection.get("ticket"):
            log.warning("钉钉 Stream 未能建立连接 (网关未给出地址), 稍后重试")
            return False
        uri = f'{connection["endpoint"]}?ticket={quote_plus(str(connection["ticket"]))}'
        connected, answers = False, set[asyncio.Task[None]]()
        try:
            async with connect(uri, open_timeout=10, close_timeout=2, ping_interval=20, ping_timeout=20,
                               logger=self._sdk_log) as ws:
                connected = True
                async for raw in ws:
                    task = asyncio.create_task(self._answer(ws, raw))
                    answers.add(task)  # held until done: the loop keeps only weak references
                    task.add_done_callback(answers.discard)
        except (WebSocketException, OSError, TimeoutError) as e:
            log.warning("钉钉 Stream 连接中断 (%s), 稍后重连", type(e).__name__)
        return connected

    async def _open(self) -> object:
        """The SDK's gateway call (blocking, no timeout: a daemon thread, so a hung one cannot hold up stop()).
        OPEN_CONNECTION_API is a class attribute fixed at import from DINGTALK_OPENAPI_ENDPOINT: set it from ours."""
        DingTalkStreamClient.OPEN_CONNECTION_API = self.api_base + OPEN_PATH
        loop, done = asyncio.get_running_loop(), asyncio.get_running_loop().create_future()

        def work() -> None:
            try:
                result: object = self._client.open_connection()
            except Exception as e:  # the SDK catches its own; anything else is a failed attempt too
                result = None
                log.warning("钉钉 Stream 网关调用失败 (%s)", type(e).__name__)
            try:
                loop.call_soon_threadsafe(lambda: None if done.done() else done.set_result(result))
            except RuntimeError:
                pass  # the loop has closed: stopped meanwhile

        threading.Thread(target=work, name="dingtalk-stream-open", daemon=True).start()
        return await done

    async def _answer(self, ws: ClientConnection, raw: str | bytes) -> None:
        frame = _json(raw)
        headers = _dict(frame.get("headers"))
        try:
            if frame.get("type") == SystemMessage.TYPE:
                ack = await self._client.system_handler.raw_process(SystemMessage.from_dict(frame))
            elif frame.get("type") == CallbackMessage.TYPE and headers.get("topic") == TOPIC:
                ack = await self._client.callback_handler_map[TOPIC].raw_process(CallbackMessage.from_dict(frame))
            else:
                ack = _ack(headers, {"response": {}})
        except (ValueError, TypeError, KeyError, AttributeError):  # data that is not JSON, headers not a dict …
            log.warning("钉钉 Stream 收到无法识别的消息, 已应答并忽略")
            ack = _ack(headers, {"response": {}})
        try:
            await ws.send(json.dumps(ack.to_dict()))
            if frame.get("type") == SystemMessage.TYPE and headers.get("topic") == SystemMessage.TOPIC_DISCONNECT:
                await ws.close()  # DingTalk asks for a new connection: the loop opens one
        except WebSocketException:
            pass  # the connection went meanwhile: DingTalk redelivers what was not answered

    def _redacting(self, record: logging.LogRecord) -> bool:
        record.msg, record.args = redact(record.getMessage(), [self._secret]), ()
        record.msg = _TICKET.sub(r"\1***", record.msg)
        return True


def _ack(headers: dict[str, Any], data: dict[str, Any]) -> Any:
    ack = AckMessage()
    ack.headers.message_id = headers.get("messageId")
    ack.headers.content_type = "application/json"
    ack.data = data
    return ack


