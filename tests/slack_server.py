"""A local HTTP server on 127.0.0.1 that speaks enough of the Slack Web API for the real slack_sdk
client: chat.postMessage and conversations.history, bearer-token auth, channel errors, and scripted
faults (429 with Retry-After in seconds or as an HTTP date, 5xx, a connection dropped after the
message was stored, a response slower than the client's timeout, any `ok: false` error code)."""

from __future__ import annotations

import json
import threading
import time
from collections import defaultdict, deque
from datetime import UTC, datetime, timedelta
from email.utils import format_datetime
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any
from urllib.parse import parse_qsl

TOKEN = "xoxb-test-0000-secret"


class _Server(ThreadingHTTPServer):
    request_queue_size = 256  # the default backlog of 5 stalls concurrent clients past their timeout


class FakeSlack:
    def __init__(self, channels: set[str], *, archived: set[str] = frozenset(), not_in: set[str] = frozenset(),  # type: ignore[assignment]
                 token: str = TOKEN, per_channel_per_second: float | None = None) -> None:
        self.channels, self.archived, self.not_in, self.token = set(channels), set(archived), set(not_in), token
        self.messages: dict[str, list[dict[str, Any]]] = defaultdict(list)
        self.faults: dict[str, deque[tuple[Any, ...]]] = defaultdict(deque)
        self.calls: list[str] = []
        self.views: list[dict[str, Any]] = []
        self.rate = per_channel_per_second
        self._last_post: dict[str, float] = {}
        self._lock = threading.Lock()
        self._seq = 0
        server = self

        class Handler(BaseHTTPRequestHandler):
            def log_message(self, *args: Any) -> None:  # keep test output clean
                pass

            def do_POST(self) -> None:  # noqa: N802
                server._handle(self)

            do_GET = do_POST  # noqa: N815

        self.httpd = _Server(("127.0.0.1", 0), Handler)
        self.httpd.daemon_threads = True
        self.thread = threading.Thread(target=self.httpd.serve_forever, args=(0.02,), daemon=True)  # a quick shutdown

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.httpd.server_address[1]}/api/"

    def __enter__(self) -> FakeSlack:
        self.thread.start()
        return self

    def __exit__(self, *exc: Any) -> None:
        self.httpd.shutdown()
        self.httpd.server_close()

    def fault(self, method: str, *steps: tuple[Any, ...]) -> None:
        self.faults[method].extend(steps)

    def keys(self, channel: str | None = None) -> list[str]:
        chans = [channel] if channel else list(self.messages)
        return [m["metadata"]["event_payload"]["key"] for c in chans for m in self.messages[c] if m.get("metadata")]

    # -- request handling ---------------------------------------------------------------------
    def _handle(self, h: BaseHTTPRequestHandler) -> None:
        method = h.path.rsplit("/", 1)[-1].split("?")[0]
        length = int(h.headers.get("Content-Length") or 0)
        raw = h.rfile.read(length).decode() if length else ""
        if "json" in (h.headers.get("Content-Type") or ""):
            args = json.loads(raw or "{}")
        else:
            args = dict(parse_qsl(raw)) | dict(parse_qsl(h.path.partition("?")[2]))
        with self._lock:
            self.calls.append(method)
            step = self.faults[method].popleft() if self.faults[method] else None
        if h.headers.get("Authorization") != f"Bearer {self.token}":
            return self._reply(h, 200, {"ok": False, "error": "invalid_auth"})
        if step and step[0] == "status":
            headers = step[2] if len(step) > 2 else {}
            if headers.get("Retry-After") == "http-date":
                later = datetime.now(UTC) + timedelta(seconds=2)
                headers = {"Retry-After": format_datetime(later, usegmt=True)}
            error = "ratelimited" if step[1] == 429 else "internal_error"
            return self._reply(h, step[1], {"ok": False, "error": error}, headers)
        if step and step[0] == "error":
            return self._reply(h, 200, {"ok": False, "error": step[1]})
        if step and step[0] == "echo":  # a proxy that answers with the request it got, credentials and all
            data = f"502 Bad Gateway\n{h.requestline}\n{h.headers}".encode()
            h.send_response(step[1] if len(step) > 1 else 200)
            h.send_header("Content-Type", "text/plain")
            h.send_header("Content-Length", str(len(data)))
            h.end_headers()
            h.wfile.write(data)
            return None
        if step and step[0] == "drop_before_accept":
            h.close_connection = True
            return None
        if method == "chat.postMessage":
            return self._post(h, args, step)
        if method == "conversations.history":
            return self._history(h, args)
        if method == "views.open":  # a modal opened for a button press (web/slack.py)
            with self._lock:
                self.views.append(args.get("view") if isinstance(args.get("view"), dict) else json.loads(args.get("view") or "{}"))
            return self._reply(h, 200, {"ok": True, "view": {"id": f"V{len(self.views):04d}"}})
        if method == "auth.test":
            return self._reply(h, 200, {"ok": True, "team": "测试", "user": "fuquan-bot"})
        return self._reply(h, 404, {"ok": False, "error": "unknown_method"})

    def _post(self, h: BaseHTTPRequestHandler, args: dict[str, Any], step: tuple[Any, ...] | None) -> None:
        channel = args.get("channel", "")
        if channel not in self.channels:
            return self._reply(h, 200, {"ok": False, "error": "channel_not_found"})
        if channel in self.archived:
            return self._reply(h, 200, {"ok": False, "error": "is_archived"})
        if channel in self.not_in:
            return self._reply(h, 200, {"ok": False, "error": "not_in_channel"})
        if len(args.get("text") or "") > 40000:
            return self._reply(h, 200, {"ok": False, "error": "msg_too_long"})
        with self._lock:
            if self.rate and time.monotonic() - self._last_post.get(channel, -1e9) < 1 / self.rate:
                return self._reply(h, 429, {"ok": False, "error": "ratelimited"}, {"Retry-After": "1"})
            self._last_post[channel] = time.monotonic()
            self._seq += 1
            ts = f"{time.time():.0f}.{self._seq:06d}"
            self.messages[channel].append({"ts": ts, "text": args.get("text"), "blocks": args.get("blocks"),
                                           "metadata": args.get("metadata")})
        if step and step[0] == "drop_after_accept":
            h.close_connection = True  # stored, but the client never hears back
            return None
        if step and step[0] == "slow_after_accept":
            time.sleep(step[1])
        return self._reply(h, 200, {"ok": True, "channel": channel, "ts": ts})

    def _history(self, h: BaseHTTPRequestHandler, args: dict[str, Any]) -> None:
        channel = args.get("channel", "")
        if channel not in self.channels:
            return self._reply(h, 200, {"ok": False, "error": "channel_not_found"})
        oldest = float(args.get("oldest") or 0)
        with_meta = str(args.get("include_all_metadata")).lower() in ("1", "true")
        msgs = [dict(m) for m in reversed(self.messages[channel]) if float(m["ts"]) >= oldest]
        for m in msgs:
            if not with_meta:
                m.pop("metadata", None)
        return self._reply(h, 200, {"ok": True, "messages": msgs, "has_more": False})

    @staticmethod
    def _reply(h: BaseHTTPRequestHandler, status: int, body: dict[str, Any], headers: dict[str, str] | None = None) -> None:
        data = json.dumps(body).encode()
        h.send_response(status)
        h.send_header("Content-Type", "application/json; charset=utf-8")
        h.send_header("Content-Length", str(len(data)))
        for k, v in (headers or {}).items():
            h.send_header(k, v)
        h.end_headers()
        h.wfile.write(data)
