"""The web process: the app, its Slack request URL and WeCom callback, and beside it the Socket Mode client and
DingTalk's Stream connection when Slack or DingTalk is configured.

uvicorn serves it with its own proxy-header handling off: by default it believes X-Forwarded-For from 127.0.0.1,
so anything on the machine could name any address to the failed-link limit and the audit. web/guard.py believes
the header only from FUQUAN_TRUSTED_PROXIES.

With `--workers N` uvicorn runs N processes, each building its app from the environment (`worker_app`); the parent
holds the Socket Mode client and sweeps interrupted uploads once. Each process has its own failed-link counts.
A write waits at most WEB_WAIT seconds for a busy database, then the unit sees the 503 page (nothing written).

Socket Mode runs slack_sdk's own client (its built-in WebSocket, no extra package) in its own threads; every
envelope is acknowledged at once, then handled. Its app token is a secret: it is never logged (the SDK's
loggers go through notifications.base.guard_logs like everything else).
"""

from __future__ import annotations

import atexit
import logging
import socket
from collections.abc import Callable
from contextlib import ExitStack
from dataclasses import replace
from typing import Any

import uvicorn
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import JSONResponse, Response

from notifications.base import guard_logs
from usecases import evidence
from usecases.context import Context, open_context
from usecases.settings import Settings

from .app import make_app
from .cards import dingtalk_door, wecom_door
from .guard import Door
from .handlers import off_write
from .slack import SlackActions

log = logging.getLogger("fuquan.web")
WEB_WAIT = 15.0  # seconds a unit's write waits for a busy database (FUQUAN_WRITE_WAIT_SECONDS if shorter)
POOL = 10  # database connections per process (its request threads share them)


def web_settings(s: Settings) -> Settings:
    return replace(s, write_wait_seconds=min(s.write_wait_seconds, WEB_WAIT))


def build(ctx: Context, *, socket_mode: bool = True, sweep: bool = True) -> tuple[Starlette, Callable[[], None]]:
    """The app for `ctx`'s database (every plan in it: a link names its plan) and a function that stops what
    was started beside it."""
    s = ctx.settings
    guard_logs(s.secrets())
    door = Door(ctx)  # (first: a bad FUQUAN_TRUSTED_PROXIES stops the start here)
    if sweep and (swept := evidence.sweep_uploads(ctx, ctx.now())):
        log.warning("已清除 %d 个中断上传留下的临时文件 (%s)", swept, s.data_dir / "evidence")
    client = None
    if s.slack_token is not None:
        from slack_sdk import WebClient

        client = WebClient(token=s.slack_token.get_secret_value(), base_url=s.slack_api_url, retry_handlers=[])
    actions = SlackActions(door, s.slack_signing_secret.get_secret_value() if s.slack_signing_secret else None, client)

    async def slack_http(request: Request) -> Response:
        if int(request.headers.get("content-length") or 0) > 1024 * 1024:
            return Response(status_code=413)
        status, answer = await off_write(actions.http, await request.body(), dict(request.headers))
        return JSONResponse(answer, status_code=status) if answer else Response(status_code=status)

    app = make_app(ctx, slack_http if actions.verifier else None, door=door, wecom=wecom_door(door, s.wecom))
    stop_slack = (start_socket_mode(actions, s.slack_app_token.get_secret_value(), client)
                  if socket_mode and s.slack_app_token is not None and client is not None else (lambda: None))
    # DingTalk's Stream, like Socket Mode, is one connection per installation: held by the parent process only
    stop_dingtalk = dingtalk_door(door, s.dingtalk) if socket_mode else (lambda: None)

    def stop() -> None:
        stop_dingtalk()
        stop_slack()

    return app, stop


def worker_app() -> Starlette:
    """One worker process's app (uvicorn's factory with --workers): its own context from the environment, kept open
    for the process's life and closed when it exits (SQLite checkpoints its WAL then)."""
    stack = ExitStack()
    ctx = stack.enter_context(open_context(web_settings(Settings.from_env()), pool_size=POOL))
    app, stop = build(ctx, socket_mode=False, sweep=False)
    stack.callback(stop)
    atexit.register(stack.close)
    return app


# how uvicorn serves the app (the test suite starts its server with the same)
UVICORN: dict[str, Any] = {"access_log": False, "log_level": "warning", "proxy_headers": False, "server_header": False}


def serve(app: Starlette, host: str, port: int, workers: int = 1) -> None:
    """Serve `app` until Ctrl-C; with several workers, each process builds its own (`worker_app`)."""
    if workers > 1:
        uvicorn.run("web.serve:worker_app", factory=True, workers=workers, host=host, port=port, **UVICORN)
    else:
        uvicorn.run(app, host=host, port=port, **UVICORN)


def start_socket_mode(actions: SlackActions, app_token: str, web_client: Any) -> Callable[[], None]:
    """Connect slack_sdk's Socket Mode client (`web_client` opens the connection: apps.connections.open) and hand
    every interactive envelope to `actions`; returns the function that closes it."""
    from slack_sdk.socket_mode import SocketModeClient
    from slack_sdk.socket_mode.request import SocketModeRequest
    from slack_sdk.socket_mode.response import SocketModeResponse

    sm = SocketModeClient(app_token=app_token, web_client=web_client)

    def listener(client: Any, req: SocketModeRequest) -> None:
        if req.type != "interactive":
            client.send_socket_mode_response(SocketModeResponse(envelope_id=req.envelope_id))
            return
        answer = actions.socket(req.envelope_id, req.payload)
        client.send_socket_mode_response(SocketModeResponse(envelope_id=req.envelope_id, payload=answer))

    sm.socket_mode_request_listeners.append(listener)
    # its DEBUG lines carry the ticketed WebSocket URL and whole envelopes (response_url): never below INFO
    logging.getLogger("slack_sdk").setLevel(max(logging.INFO, logging.getLogger("slack_sdk").level))
    try:
        sm.connect()
    except Exception as e:  # noqa: BLE001 - Slack down or a bad app token: the pages still serve
        log.warning("Slack Socket Mode 未能连接 (%s); 按钮暂不可用, 网页不受影响", type(e).__name__)
    return lambda: close_quickly(sm)


def close_quickly(sm: Any) -> None:
    """SocketModeClient.close() waits up to 3 s on a blocked read (its receive timeout), and a close that lands
    during an automatic reconnect leaves the new session open: stop reconnecting, wake its threads, shut the
    socket, close, then disconnect whatever a racing reconnect opened."""
    sm.closed, sm.auto_reconnect_enabled = True, False
    sm.current_session_state.terminated = True
    sm.message_queue.put(None)
    sock = sm.current_session.sock if sm.current_session else None
    if sock is not None:
        try:
            sock.shutdown(socket.SHUT_RDWR)
        except OSError:
            pass
    sm.close()
    sm.disconnect()
