"""A local fake of the county's SMS gateway (notifications/sms.py's contract) on 127.0.0.1: the key in its URL and
the bearer token checked, each accepted message recorded once, and scripted faults.

A repeated id is answered {"code": 0, "duplicate": true} and not recorded again: the gateway took that message
before, so the sender may call it sent — as a real gateway (or adapter) that keeps the ids it has seen would."""

from __future__ import annotations

import json
import threading
import time
from collections import deque
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any
from urllib.parse import parse_qsl

KEY = "sms-url-key-0000-do-not-leak"
TOKEN = "sms-bearer-token-0000-do-not-leak"


class _Server(ThreadingHTTPServer):
    request_queue_size = 256


class FakeSms:
    """Faults, one per request in order: ("status", 429|500|401|…), ("code", n|"word"[, message]) (a refusal),
    ("echo", n) (a refusal whose message repeats the request line and the Authorization header), ("answer", dict |
    bytes), ("redirect", path) (a 302), ("drop_after_accept",) (recorded, no answer), ("slow_after_accept", seconds).
    `token=None`: no Authorization expected (and none may be sent)."""

    def __init__(self, *, key: str = KEY, token: str | None = TOKEN) -> None:
        self.key, self.token = key, token
        self.messages: list[dict[str, Any]] = []  # {"phones", "text", "id"}, each id once
        self.requests: list[dict[str, Any]] = []  # every request: {"path", "authorization", "body"}
        self.faults: deque[tuple[Any, ...]] = deque()
        self._lock = threading.Lock()
        server = self

        class Handler(BaseHTTPRequestHandler):
            def log_message(self, *args: Any) -> None:
                pass

            def do_POST(self) -> None:  # noqa: N802
                server._handle(self)

            do_GET = do_POST  # noqa: N815

        self.httpd = _Server(("127.0.0.1", 0), Handler)
        self.httpd.daemon_threads = True
        self.thread = threading.Thread(target=self.httpd.serve_forever, args=(0.02,), daemon=True)

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.httpd.server_address[1]}/sms/send?key={self.key}"

    def __enter__(self) -> FakeSms:
        self.thread.start()
        return self

    def __exit__(self, *exc: Any) -> None:
        self.httpd.shutdown()
        self.httpd.server_close()

    def fault(self, *steps: tuple[Any, ...]) -> None:
        self.faults.extend(steps)

    def ids(self) -> list[str]:
        return [m["id"] for m in self.messages]

    # -- request handling ---------------------------------------------------------------------
    def _handle(self, h: BaseHTTPRequestHandler) -> None:
        path, _, qs = h.path.partition("?")
        length = int(h.headers.get("Content-Length") or 0)
        raw = h.rfile.read(length) if length else b""
        auth = h.headers.get("Authorization")
        with self._lock:
            self.requests.append({"path": path, "authorization": auth, "body": raw})
            step = self.faults.popleft() if self.faults else None
        if step and step[0] == "status":
            return self._reply(h, {"code": step[1], "message": "scripted"}, step[1])
        if step and step[0] == "redirect":
            return self._reply(h, {"code": 302, "message": "moved"}, 302, {"Location": step[1]})
        if path != "/sms/send" or dict(parse_qsl(qs)).get("key") != self.key:
            return self._reply(h, {"code": 403, "message": "bad key"}, 403)
        if auth != (f"Bearer {self.token}" if self.token else None):
            return self._reply(h, {"code": 401, "message": "bad token"}, 401)
        if step and step[0] == "code":
            return self._reply(h, {"code": step[1], "message": step[2] if len(step) > 2 else f"scripted {step[1]}"})
        if step and step[0] == "echo":  # a refusal that repeats the request, credentials and all
            return self._reply(h, {"code": step[1], "message": f"bad request: {h.requestline} Authorization: {auth}"})
        if step and step[0] == "answer":  # an answer the contract does not allow (bytes: not JSON at all)
            return self._reply(h, step[1])
        answer = self._accept(raw)
        if step and step[0] == "drop_after_accept":
            h.close_connection = True  # recorded, but the client never hears back
            return None
        if step and step[0] == "slow_after_accept":
            time.sleep(step[1])
        return self._reply(h, answer)

    def _accept(self, raw: bytes) -> dict[str, Any]:
        try:
            body = json.loads(raw.decode())
        except ValueError:
            return {"code": 400, "message": "not JSON"}
        phones, text, sid = (body.get(k) for k in ("phones", "text", "id")) if isinstance(body, dict) else (None,) * 3
        if not (isinstance(phones, list) and phones and all(isinstance(p, str) and p for p in phones)):
            return {"code": 1001, "message": "phones missing"}
        if not (isinstance(text, str) and text and isinstance(sid, str) and sid):
            return {"code": 1002, "message": "text or id missing"}
        with self._lock:
            if sid in self.ids():
                return {"code": 0, "duplicate": True, "id": sid}
            self.messages.append({"phones": phones, "text": text, "id": sid})
        return {"code": 0, "message": "ok", "id": sid}

    @staticmethod
    def _reply(h: BaseHTTPRequestHandler, body: dict[str, Any] | bytes, status: int = 200,
               headers: dict[str, str] | None = None) -> None:
        data = body if isinstance(body, bytes) else json.dumps(body, ensure_ascii=False).encode()
        h.send_response(status)
        h.send_header("Content-Type", "application/json; charset=utf-8")
        h.send_header("Content-Length", str(len(data)))
        for name, value in (headers or {}).items():
            h.send_header(name, value)
        h.end_headers()
        try:
            h.wfile.write(data)
        except (BrokenPipeError, ConnectionResetError):  # the client gave up first (the slow-answer fault)
            pass
