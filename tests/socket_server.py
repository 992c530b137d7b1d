"""A local stand-in for Slack's Socket Mode endpoints, on 127.0.0.1 only, for slack_sdk's own (builtin)
SocketModeClient: an HTTP server answering `apps.connections.open` (the app token checked as a bearer token)
with a `ws://` URL carrying a one-time `ticket` as Slack's does, and a WebSocket server (the `websockets`
package) that greets every connection with `{"type": "hello", ...}` as Slack does, delivers envelopes
`{"envelope_id", "type", "payload", "accepts_response_payload"}` and records what the client sends back
(acks: `{"envelope_id": ..., "payload"?: ...}`). The builtin client uses plain TCP for any port but 443,
whatever the URL's scheme, so no TLS is involved; it ignores NO_PROXY, so tests must unset HTTP(S)_PROXY."""

from __future__ import annotations

import json
import threading
import time
import uuid
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

from websockets.exceptions import ConnectionClosed
from websockets.sync.server import ServerConnection, serve

APP_TOKEN = "xapp-1-test-0000-secret"


class FakeSocketMode:
    def __init__(self, token: str = APP_TOKEN) -> None:
        self.token = token
        self.received: list[dict[str, Any]] = []  # every message the client sent, in order
        self.open_calls = 0  # apps.connections.open requests, accepted or not
        self.tickets: list[str] = []  # the ticket of every URL handed out: secrets a log must not show
        self.connections = 0  # WebSocket connections accepted so far (each reconnect adds one)
        self._cond = threading.Condition()
        self._conns: list[ServerConnection] = []  # open connections, newest last
        self._closing = False
        fake = self

        class Handler(BaseHTTPRequestHandler):
            def log_message(self, *args: Any) -> None:
                pass

            def do_POST(self) -> None:  # noqa: N802
                self.rfile.read(int(self.headers.get("Content-Length") or 0))
                with fake._cond:
                    fake.open_calls += 1
                    if not self.path.endswith("/apps.connections.open"):
                        body: dict[str, Any] = {"ok": False, "error": "unknown_method"}
                    elif self.headers.get("Authorization") != f"Bearer {fake.token}":
                        body = {"ok": False, "error": "invalid_auth"}
                    else:
                        fake.tickets.append(ticket := uuid.uuid4().hex)
                        body = {"ok": True, "url": f"{fake.ws_url}?ticket={ticket}&app_id=A0TEST"}
                data = json.dumps(body).encode()
                self.send_response(200)
                self.send_header("Content-Type", "application/json; charset=utf-8")
                self.send_header("Content-Length", str(len(data)))
                self.end_headers()
                self.wfile.write(data)

        self._httpd = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self._httpd.daemon_threads = True
        # No server pings (the client pings every ping_interval); close_timeout bounds __exit__ when a client never
        # answers the close frame. websockets runs each connection in a non-daemon thread: __exit__ must end them all.
        self._ws = serve(self._serve, "127.0.0.1", 0, ping_interval=None, close_timeout=0.5, compression=None)
        self._ws_port: int = self._ws.socket.getsockname()[1]
        self._threads = [threading.Thread(target=self._httpd.serve_forever, args=(0.02,), daemon=True),
                         threading.Thread(target=self._ws.serve_forever, daemon=True)]

    @property
    def api_url(self) -> str:
        """Pass as `WebClient(base_url=...)`."""
        return f"http://127.0.0.1:{self._httpd.server_address[1]}/api/"

    @property
    def ws_url(self) -> str:
        return f"ws://127.0.0.1:{self._ws_port}/link/"

    def __enter__(self) -> FakeSocketMode:
        for t in self._threads:
            t.start()
        return self

    def __exit__(self, *exc: Any) -> None:
        self._httpd.shutdown()
        self._httpd.server_close()
        self._ws.shutdown()
        with self._cond:
            self._closing = True  # a connection still in its handshake closes itself in _serve
            conns = list(self._conns)
        for conn in conns:  # a client still running gets a close frame (and, if it may, reconnects: to nothing)
            conn.close()
        for t in self._threads:
            t.join(1)

    def _serve(self, conn: ServerConnection) -> None:
        with self._cond:
            if self._closing:
                return
            self.connections += 1
            self._conns.append(conn)
            self._cond.notify_all()
        try:
            conn.send(json.dumps({"type": "hello", "num_connections": len(self._conns),
                                  "debug_info": {"host": "applink-test", "approximate_connection_time": 18060},
                                  "connection_info": {"app_id": "A0TEST"}}))
            for raw in conn:
                msg = json.loads(raw)
                with self._cond:
                    self.received.append(msg)
                    self._cond.notify_all()
        except (ConnectionClosed, ValueError):
            pass
        finally:
            with self._cond:
                self._conns.remove(conn)
                self._cond.notify_all()

    def wait_connected(self, timeout: float = 5.0) -> bool:
        with self._cond:
            return self._cond.wait_for(lambda: bool(self._conns), timeout)

    def send(self, message: dict[str, Any], timeout: float = 5.0) -> None:
        """Send any message (e.g. `{"type": "disconnect", "reason": "refresh_requested"}`) on the newest connection;
        TimeoutError if no client is connected within `timeout`."""
        if not self.wait_connected(timeout):
            raise TimeoutError("no Socket Mode client connected")
        with self._cond:
            conn = self._conns[-1]
        conn.send(json.dumps(message))

    def deliver(self, payload: dict[str, Any], type_: str = "interactive", timeout: float = 5.0, *,
                accepts_response_payload: bool | None = None) -> dict[str, Any] | None:
        """Send an envelope with a fresh envelope_id and wait for the client's ack of it: the ack, or None if none
        came within `timeout` (which also covers waiting for a connection). `accepts_response_payload` defaults as
        Slack sets it: true for view_submission and block_suggestion payloads."""
        if accepts_response_payload is None:
            accepts_response_payload = payload.get("type") in ("view_submission", "block_suggestion")
        envelope_id = str(uuid.uuid4())
        deadline = time.monotonic() + timeout
        self.send({"envelope_id": envelope_id, "type": type_, "payload": payload,
                   "accepts_response_payload": accepts_response_payload}, timeout)

        def ack() -> dict[str, Any] | None:
            return next((m for m in self.received if m.get("envelope_id") == envelope_id), None)

        with self._cond:
            self._cond.wait_for(lambda: ack() is not None, max(0.0, deadline - time.monotonic()))
            return ack()
