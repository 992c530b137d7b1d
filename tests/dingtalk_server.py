"""A local stand-in for DingTalk on 127.0.0.1: enough of its OpenAPI for notifications.dingtalk_app and of its
Stream gateway for the real `dingtalk_stream` SDK (notifications.dingtalk_stream).

HTTP: oauth2/accessToken (appKey/appSecret checked, fetches counted, tokens revocable), gateway/connections/open
(client id and secret checked; a one-time ticket and a ws:// endpoint), card/instances/createAndDeliver (the token
header checked, cards kept by outTrackId, a second card with the same outTrackId refused, a deliverResult per
person: unknown users fail), PUT card/instances (updates recorded), robot/oToMessages/batchSend (a processQueryKey per
message; unknown users listed invalid, `flow_controlled` users held back) and GET robot/oToMessages/readStatus
(per person READ or UNREAD, as the test marks them with `read`). Scripted faults per call: an HTTP status
before anything is stored, a connection dropped, an answer slowed or garbled after the card was stored, a proxy's
page echoing the request (credentials and all).
WebSocket: the ticket is checked (once); the test pushes frames shaped as DingTalk's (a card button's CALLBACK, a
SYSTEM ping or disconnect, anything else) and waits for the client's answer to each, or drops the connection.
The error codes of refusals are the fake's own where DingTalk's are not known (marked)."""

from __future__ import annotations

import json
import logging
import socket
import threading
import time
import uuid
from collections import defaultdict, deque
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any
from urllib.parse import parse_qs, urlparse

from websockets.exceptions import ConnectionClosed
from websockets.sync.server import Request, Response, ServerConnection, serve

CLIENT_ID = "dingtest0000appkey"
CLIENT_SECRET = "DT-app-secret-0000-do-not-log"
ROBOT_CODE = "dingtest0000robot"
TEMPLATE_ID = "fuquan-card.schema"
APP_ID = "app-test-0000"
CARD_TOPIC = "/v1.0/card/instances/callback"
FAKE_LOGGER = "tests.dingtalk_server"  # the fake's own (websockets logs its requests, tickets and all, at DEBUG)


def press_frame(user_id: str, out_track_id: str, action: str, message_id: str, *, field: str = "both",
                connection_id: str = "conn-0") -> dict[str, Any]:
    """A card button's press as DingTalk sends it: `data` is a JSON string whose `content` / `value` is one too."""
    private = json.dumps({"cardPrivateData": {"actionIds": [action], "params": {"action": action}}})
    data: dict[str, Any] = {"extension": "{}", "corpId": "dingcorp0000", "spaceType": "IM", "userIdType": 1,
                            "type": "actionCallback", "userId": user_id, "spaceId": f"IM_ROBOT.{user_id}",
                            "outTrackId": out_track_id}
    if field in ("both", "content"):
        data["content"] = private
    if field in ("both", "value"):
        data["value"] = private
    return frame("CALLBACK", CARD_TOPIC, json.dumps(data), message_id, connection_id)


def frame(type_: str, topic: str, data: str, message_id: str, connection_id: str = "conn-0") -> dict[str, Any]:
    return {"specVersion": "1.0", "type": type_,
            "headers": {"appId": APP_ID, "connectionId": connection_id, "contentType": "application/json",
                        "messageId": message_id, "time": str(int(time.time() * 1000)), "topic": topic},
            "data": data}


class FakeDingTalk:
    def __init__(self, users: set[str], *, client_id: str = CLIENT_ID, client_secret: str = CLIENT_SECRET,
                 robot_code: str = ROBOT_CODE, template_id: str = TEMPLATE_ID, expire_in: int = 7200) -> None:
        self.users, self.client_id, self.client_secret = set(users), client_id, client_secret
        self.robot_code, self.template_id, self.expire_in = robot_code, template_id, expire_in
        self.cards: dict[str, dict[str, Any]] = {}  # outTrackId → the createAndDeliver body
        self.updates: list[dict[str, Any]] = []  # PUT card/instances bodies, in order
        self.oto: dict[str, dict[str, Any]] = {}  # processQueryKey → the batchSend body
        self.read_at: dict[tuple[str, str], int] = {}  # (processQueryKey, userId) → when read (ms)
        self.flow_controlled: set[str] = set()  # users batchSend holds back (DingTalk's rate limit per person)
        self.asked: list[str] = []  # the processQueryKey of every readStatus query, in order
        self.token_fetches = 0  # accessToken requests, accepted or not
        self.tokens: list[str] = []  # every token issued: secrets a log must not show
        self.revoked: set[str] = set()
        self.calls: list[str] = []  # the route of every HTTP request, in order
        self.faults: dict[str, deque[tuple[Any, ...]]] = defaultdict(deque)
        self.subscriptions: list[list[dict[str, Any]]] = []  # of each accepted connections/open
        self.tickets: list[str] = []  # every ticket handed out: secrets a log must not show
        self.connections = 0  # WebSocket connections accepted (each reconnect adds one)
        self.refused = 0  # WebSocket handshakes refused (a wrong or reused ticket)
        self.received: list[dict[str, Any]] = []  # every message the client sent on the socket, in order
        self._unused: set[str] = set()
        self._cond = threading.Condition()
        self._conns: list[ServerConnection] = []  # open connections, newest last
        self._closing = False
        fake = self

        class Handler(BaseHTTPRequestHandler):
            def log_message(self, *args: Any) -> None:
                pass

            def do_POST(self) -> None:  # noqa: N802
                fake._handle(self)

            do_PUT = do_GET = do_POST  # noqa: N815

        self._httpd = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self._httpd.daemon_threads = True
        self._ws = serve(self._serve, "127.0.0.1", 0, process_request=self._check_ticket, ping_interval=None,
                         close_timeout=0.5, compression=None, logger=logging.getLogger(FAKE_LOGGER))
        self._ws_port: int = self._ws.socket.getsockname()[1]
        self._threads = [threading.Thread(target=self._httpd.serve_forever, args=(0.02,), daemon=True),
                         threading.Thread(target=self._ws.serve_forever, daemon=True)]

    @property
    def api_base(self) -> str:
        """What DINGTALK_OPENAPI_ENDPOINT would be."""
        return f"http://127.0.0.1:{self._httpd.server_address[1]}"

    def __enter__(self) -> FakeDingTalk:
        for t in self._threads:
            t.start()
        return self

    def __exit__(self, *exc: Any) -> None:
        self._httpd.shutdown()
        self._httpd.server_close()
        self._ws.shutdown()
        with self._cond:
            self._closing = True
            conns = list(self._conns)
        for conn in conns:
            conn.close()
        for t in self._threads:
            t.join(1)

    def fault(self, route: str, *steps: tuple[Any, ...]) -> None:
        """Script the next calls of a route ("accessToken", "open", "createAndDeliver", "instances"):
        ("status", 429|500|…) before anything is stored, ("drop_after_store",), ("slow_after_store", seconds),
        ("garbage_after_store",) a 200 that is not JSON,
        ("echo",) a proxy's 502 page quoting the request."""
        self.faults[route].extend(steps)

    def revoke_tokens(self) -> None:
        """Every token issued so far is refused from now on (HTTP 401), as after a secret was reset."""
        with self._cond:
            self.revoked.update(self.tokens)

    # -- HTTP -------------------------------------------------------------------------------------------
    def _handle(self, h: BaseHTTPRequestHandler) -> None:
        route = urlparse(h.path).path.rsplit("/", 1)[-1]
        raw = h.rfile.read(int(h.headers.get("Content-Length") or 0))
        with self._cond:
            self.calls.append(route)
            step = self.faults[route].popleft() if self.faults[route] else None
        if step and step[0] == "echo":
            return _reply(h, 502, f"502 Bad Gateway\n{h.requestline}\n{h.headers}\n{raw.decode()}", "text/plain")
        if step and step[0] == "status":
            return _reply(h, step[1], {"code": "Throttling" if step[1] == 429 else "ServiceUnavailable",
                                       "message": "fault", "requestid": "req-fault"})
        try:
            body = json.loads(raw or b"{}")
        except ValueError:
            return _reply(h, 400, {"code": "invalidParameter", "message": "请求不是 JSON"})
        if route == "accessToken":
            return self._token(h, body)
        if route == "open":
            return self._open(h, body)
        token = h.headers.get("x-acs-dingtalk-access-token") or ""
        with self._cond:
            valid = token in self.tokens and token not in self.revoked
        if not valid:
            return _reply(h, 401, {"code": "InvalidAuthentication", "message": "不合法的access_token"})
        if route == "createAndDeliver" and h.command == "POST":
            return self._create(h, body, step)
        if route == "instances" and h.command == "PUT":
            return self._update(h, body)
        if route == "batchSend" and h.command == "POST":
            return self._oto(h, body, step)
        if route == "readStatus" and h.command == "GET":
            return self._read_status(h)
        return _reply(h, 404, {"code": "notFound", "message": "no such API"})

    def _token(self, h: BaseHTTPRequestHandler, body: dict[str, Any]) -> None:
        with self._cond:
            self.token_fetches += 1
            if body.get("appKey") != self.client_id or body.get("appSecret") != self.client_secret:
                # the fake's code: DingTalk's own for a wrong appKey / appSecret is not known
                return _reply(h, 400, {"code": "invalidClientSecret", "message": "无效的 appKey 或 appSecret"})
            token = f"tok{len(self.tokens)}-{uuid.uuid4().hex}"
            self.tokens.append(token)
        return _reply(h, 200, {"accessToken": token, "expireIn": self.expire_in})

    def _open(self, h: BaseHTTPRequestHandler, body: dict[str, Any]) -> None:
        if body.get("clientId") != self.client_id or body.get("clientSecret") != self.client_secret:
            return _reply(h, 401, {"code": "invalidClient", "message": "clientId 或 clientSecret 无效"})
        with self._cond:
            ticket = f"tk+{uuid.uuid4().hex}/="  # characters that need quoting in the URL
            self.tickets.append(ticket)
            self._unused.add(ticket)
            self.subscriptions.append(body.get("subscriptions") or [])
        return _reply(h, 200, {"endpoint": f"ws://127.0.0.1:{self._ws_port}/connect", "ticket": ticket})

    def _create(self, h: BaseHTTPRequestHandler, body: dict[str, Any], step: tuple[Any, ...] | None) -> None:
        track, space = str(body.get("outTrackId") or ""), str(body.get("openSpaceId") or "")
        model = body.get("imRobotOpenDeliverModel") or {}
        if body.get("cardTemplateId") != self.template_id:
            return _reply(h, 400, {"code": "invalidParameter.cardTemplate.notFound", "message": "不存在的卡片模板"})
        if model.get("robotCode") != self.robot_code or model.get("spaceType") != "IM_ROBOT":
            return _reply(h, 400, {"code": "chatbot.notFound", "message": "机器人不存在"})
        people = [p.removeprefix("IM_ROBOT.") for p in space.removeprefix("dtv1.card//").split(";")]
        if not track or not space.startswith("dtv1.card//IM_ROBOT.") or not all(people):
            return _reply(h, 400, {"code": "param.invalid", "message": "无效参数"})
        with self._cond:
            if track in self.cards:  # the fake's code: DingTalk's own for a reused outTrackId is not known
                return _reply(h, 400, {"code": "param.outTrackIdDuplicate", "message": "outTrackId 已存在"})
            self.cards[track] = body
        if step and step[0] == "drop_after_store":
            h.close_connection = True  # stored and delivered, but the client never hears back
            return None
        if step and step[0] == "garbage_after_store":
            return _reply(h, 200, "<html>网关错误</html>", "text/html")
        if step and step[0] == "slow_after_store":
            time.sleep(step[1])
        results = [{"spaceType": "IM_ROBOT", "spaceId": p, "success": p in self.users,
                    "errorMsg": "" if p in self.users else "用户不存在", "carrierId": f"carrier-{p}"} for p in people]
        return _reply(h, 200, {"success": True, "result": {"outTrackId": track, "deliverResults": results}})

    def _update(self, h: BaseHTTPRequestHandler, body: dict[str, Any]) -> None:
        with self._cond:
            if body.get("outTrackId") not in self.cards:
                return _reply(h, 400, {"code": "param.cardNotExist", "message": "卡片不存在"})  # the fake's code
            self.updates.append(body)
        return _reply(h, 200, {"success": True, "result": True})

    def _oto(self, h: BaseHTTPRequestHandler, body: dict[str, Any], step: tuple[Any, ...] | None) -> None:
        users, key = [str(u) for u in body.get("userIds") or []], f"pqk-{uuid.uuid4().hex}"
        if body.get("robotCode") != self.robot_code:
            return _reply(h, 400, {"code": "chatbot.notFound", "message": "机器人不存在"})
        if not users or body.get("msgKey") not in ("sampleActionCard", "sampleMarkdown"):
            return _reply(h, 400, {"code": "param.invalid", "message": "无效参数"})
        try:
            param = json.loads(str(body.get("msgParam")))
        except ValueError:
            return _reply(h, 400, {"code": "param.invalid", "message": "msgParam 不是 JSON"})
        invalid = [u for u in users if u not in self.users]
        held = [u for u in users if u in self.flow_controlled and u not in invalid]
        got = [u for u in users if u not in invalid and u not in held]
        with self._cond:
            if got:
                self.oto[key] = {**body, "msgParam": param, "delivered": got}
        if step and step[0] == "drop_after_store":
            h.close_connection = True
            return None
        answer: dict[str, Any] = {"invalidStaffIdList": invalid, "flowControlledStaffIdList": held}
        return _reply(h, 200, {**answer, "processQueryKey": key} if got else answer)

    def read(self, user_id: str, key: str | None = None, at_ms: int = 1_700_000_000_000) -> None:
        """The user opens the robot's 1:1 message (by default the last one sent to them)."""
        with self._cond:
            key = key or [k for k, b in self.oto.items() if user_id in b["delivered"]][-1]
            self.read_at[(key, user_id)] = at_ms

    def _read_status(self, h: BaseHTTPRequestHandler) -> None:
        query = {k: v[0] for k, v in parse_qs(urlparse(h.path).query).items()}
        if query.get("robotCode") != self.robot_code:
            return _reply(h, 400, {"code": "chatbot.notFound", "message": "机器人不存在"})
        with self._cond:
            self.asked.append(query.get("processQueryKey", ""))
            sent = self.oto.get(query.get("processQueryKey", ""))
            if sent is None:
                return _reply(h, 400, {"code": "param.invalid", "message": "processQueryKey 无效"})
            rows = [{"name": u, "userId": u, "readStatus": "READ" if (query["processQueryKey"], u) in self.read_at
                     else "UNREAD", "readTimestamp": self.read_at.get((query["processQueryKey"], u), 0)}
                    for u in sent["delivered"]]
        return _reply(h, 200, {"sendStatus": "SUCCESS", "messageReadInfoList": rows})

    # -- Stream -----------------------------------------------------------------------------------------
    def _check_ticket(self, conn: ServerConnection, request: Request) -> Response | None:
        ticket = parse_qs(urlparse(request.path).query).get("ticket", [""])[0]
        with self._cond:
            if ticket in self._unused:
                self._unused.discard(ticket)
                return None
            self.refused += 1
        return conn.respond(401, "bad ticket\n")

    def _serve(self, conn: ServerConnection) -> None:
        with self._cond:
            if self._closing:
                return
            self.connections += 1
            self._conns.append(conn)
            self._cond.notify_all()
        try:
            for raw in conn:
                with self._cond:
                    self.received.append(json.loads(raw))
                    self._cond.notify_all()
        except (ConnectionClosed, ValueError, OSError):
            pass
        finally:
            with self._cond:
                self._conns.remove(conn)
                self._cond.notify_all()

    def wait_connected(self, count: int = 1, timeout: float = 10.0) -> bool:
        """Until `count` connections have been accepted in all and one is open."""
        with self._cond:
            return self._cond.wait_for(lambda: self.connections >= count and bool(self._conns), timeout)

    def wait_closed(self, timeout: float = 10.0) -> bool:
        """Until no connection is open (the client closed it, or it was dropped)."""
        with self._cond:
            return self._cond.wait_for(lambda: not self._conns, timeout)

    def push(self, message: dict[str, Any], timeout: float = 10.0) -> dict[str, Any] | None:
        """Send a frame on the newest connection and wait for the client's answer to its messageId: the answer, or
        None if none came within `timeout` (which also covers waiting for a connection). A frame sent again (a
        redelivery, same messageId) waits for an answer of its own."""
        deadline = time.monotonic() + timeout
        if not self.wait_connected(timeout=timeout):
            raise TimeoutError("no Stream client connected")
        message_id = message.get("headers", {}).get("messageId")

        def answers() -> list[dict[str, Any]]:
            return [m for m in self.received if m.get("headers", {}).get("messageId") == message_id]

        with self._cond:
            conn, before = self._conns[-1], len(answers())
        conn.send(json.dumps(message))

        def answer() -> dict[str, Any] | None:
            return next(iter(answers()[before:]), None)

        with self._cond:
            self._cond.wait_for(lambda: answer() is not None, max(0.0, deadline - time.monotonic()))
            return answer()

    def push_press(self, user_id: str, out_track_id: str, action: str, message_id: str | None = None, *,
                   field: str = "both", timeout: float = 10.0) -> dict[str, Any] | None:
        return self.push(press_frame(user_id, out_track_id, action, message_id or uuid.uuid4().hex, field=field),
                         timeout)

    def ping(self, opaque: str = "opaque-0", timeout: float = 10.0) -> dict[str, Any] | None:
        return self.push(frame("SYSTEM", "ping", json.dumps({"opaque": opaque}), uuid.uuid4().hex), timeout)

    def disconnect(self, timeout: float = 10.0) -> dict[str, Any] | None:
        """DingTalk's notice that this connection will end: the client should answer and open a new one."""
        return self.push(frame("SYSTEM", "disconnect", json.dumps({"reason": "gateway restart"}), uuid.uuid4().hex),
                         timeout)

    def drop(self) -> None:
        """Cut the newest connection without a close frame, as a network fault does."""
        with self._cond:
            conn = self._conns[-1]
        conn.socket.shutdown(socket.SHUT_RDWR)


def _reply(h: BaseHTTPRequestHandler, status: int, body: dict[str, Any] | str, ctype: str = "application/json") -> None:
    data = (body if isinstance(body, str) else json.dumps(body, ensure_ascii=False)).encode()
    h.send_response(status)
    h.send_header("Content-Type", f"{ctype}; charset=utf-8")
    h.send_header("Content-Length", str(len(data)))
    h.end_headers()
    try:
        h.wfile.write(data)
    except (BrokenPipeError, ConnectionResetError):
        pass  # the client gave up waiting (a slowed answer)
