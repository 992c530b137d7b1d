"""A local fake of WeCom's app API on 127.0.0.1 (gettoken, message/send with template cards,
message/update_template_card) with scripted faults, and helpers that act as WeCom towards our callback URL:
`press` (a button pressed on a card) and `verify_url` (the GET check when the URL is configured).

A reused task_id is answered errcode 0 and nothing is delivered again (the first send's msgid, no response_code):
that is how WeCom behaves according to an integrator's field report (public code), not verified against a live
corp. Errcodes for a malformed card and a spent response_code are this fake's own choice (INVALID); the real ones
are not verified."""

from __future__ import annotations

import json
import re
import secrets
import threading
import time
import urllib.request
from collections import defaultdict, deque
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any
from urllib.error import HTTPError
from urllib.parse import parse_qsl, urlencode

from notifications import wecom_crypto

CORP_ID = "ww00000000000fuquan"
AGENT_ID = "1000002"
SECRET = "wecom-app-secret-0000-do-not-leak"
CALLBACK_TOKEN = "cbtoken0000"
AES_KEY = "abcdefghijklmnopqrstuvwxyz0123456789ABCDEFG"  # 43 characters, as WeCom generates them
INVALID = 40058  # the fake's errcode for a request it refuses as malformed
TASK_ID = re.compile(r"[A-Za-z0-9_\-@]{1,128}")


class _Server(ThreadingHTTPServer):
    request_queue_size = 256


class FakeWeCom:
    """Faults per path tail ("gettoken", "send", "update_template_card"): ("status", 429|500), ("errcode", n),
    ("echo", n) (errmsg repeats the request line), ("answer", dict | bytes), ("drop_before",),
    ("drop_after_accept",) (stored, no answer), ("slow_after_accept", seconds)."""

    def __init__(self, users: set[str], *, corp_id: str = CORP_ID, agent_id: str = AGENT_ID, secret: str = SECRET,
                 expires_in: int = 7200) -> None:
        self.users, self.corp_id, self.agent_id, self.secret = set(users), corp_id, int(agent_id), secret
        self.expires_in = expires_in
        self.messages: list[dict[str, Any]] = []  # {"touser": [valid ids], "card", "response_code", "body", "msgid"}
        self.updates: list[dict[str, Any]] = []
        self.faults: dict[str, deque[tuple[Any, ...]]] = defaultdict(deque)
        self.calls: list[str] = []
        self.token_fetches = 0
        self.issued: list[str] = []  # every access token handed out
        self._valid: set[str] = set()
        self._codes: set[str] = set()  # response codes not used yet
        self._lock = threading.Lock()
        server = self

        class Handler(BaseHTTPRequestHandler):
            def log_message(self, *args: Any) -> None:
                pass

            def do_GET(self) -> None:  # noqa: N802
                server._handle(self)

            do_POST = do_GET  # noqa: N815

        self.httpd = _Server(("127.0.0.1", 0), Handler)
        self.httpd.daemon_threads = True
        self.thread = threading.Thread(target=self.httpd.serve_forever, args=(0.02,), daemon=True)

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.httpd.server_address[1]}"

    def __enter__(self) -> FakeWeCom:
        self.thread.start()
        return self

    def __exit__(self, *exc: Any) -> None:
        self.httpd.shutdown()
        self.httpd.server_close()

    def fault(self, path: str, *steps: tuple[Any, ...]) -> None:
        self.faults[path].extend(steps)

    def expire_tokens(self) -> None:
        """Every token handed out so far is now expired (errcode 42001)."""
        with self._lock:
            self._valid.clear()

    def task_ids(self) -> list[str]:
        return [m["card"]["task_id"] for m in self.messages]

    # -- request handling ---------------------------------------------------------------------
    def _handle(self, h: BaseHTTPRequestHandler) -> None:
        path, _, qs = h.path.partition("?")
        name = path.rsplit("/", 1)[-1]
        query = dict(parse_qsl(qs))
        length = int(h.headers.get("Content-Length") or 0)
        raw = h.rfile.read(length) if length else b""
        with self._lock:
            self.calls.append(name)
            step = self.faults[name].popleft() if self.faults[name] else None
        if step and step[0] == "status":
            return self._reply(h, {"errcode": -1, "errmsg": "system busy"}, step[1])
        if step and step[0] == "errcode":
            return self._reply(h, {"errcode": step[1], "errmsg": f"scripted {step[1]}"})
        if step and step[0] == "echo":  # a refusal whose errmsg repeats the request line, credentials and all
            return self._reply(h, {"errcode": step[1], "errmsg": f"bad request: {h.requestline}"})
        if step and step[0] == "answer":  # any answer WeCom would not give (bytes: not JSON at all)
            return self._reply(h, step[1])
        if step and step[0] == "drop_before":
            h.close_connection = True
            return None
        if name == "gettoken":
            return self._reply(h, self._gettoken(query))
        token = query.get("access_token", "")
        with self._lock:
            valid, expired = token in self._valid, token in self.issued
        if not valid:
            return self._reply(h, {"errcode": 42001, "errmsg": "access_token expired"} if expired
                               else {"errcode": 40014, "errmsg": "invalid access_token"})
        try:
            body = json.loads(raw.decode())
        except ValueError:
            return self._reply(h, {"errcode": 40058, "errmsg": "wrong json format"})
        if not isinstance(body, dict) or body.get("agentid") != self.agent_id:
            return self._reply(h, {"errcode": 40056, "errmsg": "invalid agentid"})
        if name == "send":
            answer = self._send(body)
            if step and step[0] == "drop_after_accept" and answer["errcode"] == 0:
                h.close_connection = True  # stored, but the client never hears back
                return None
            if step and step[0] == "slow_after_accept":
                time.sleep(step[1])
            return self._reply(h, answer)
        if name == "update_template_card":
            return self._reply(h, self._update(body))
        return self._reply(h, {"errcode": 404, "errmsg": "unknown path"}, 404)

    def _gettoken(self, query: dict[str, str]) -> dict[str, Any]:
        if query.get("corpid") != self.corp_id:
            return {"errcode": 40013, "errmsg": "invalid corpid"}
        if query.get("corpsecret") != self.secret:
            return {"errcode": 40001, "errmsg": "invalid credential"}
        token = "ACCESS" + secrets.token_hex(16)
        with self._lock:
            self.token_fetches += 1
            self.issued.append(token)
            self._valid.add(token)
        return {"errcode": 0, "errmsg": "ok", "access_token": token, "expires_in": self.expires_in}

    def _send(self, body: dict[str, Any]) -> dict[str, Any]:
        card = body.get("template_card")
        if body.get("msgtype") != "template_card" or not isinstance(card, dict) or (problem := _card_problem(card)):
            return {"errcode": INVALID, "errmsg": f"invalid template_card: {problem if card else 'missing'}"}
        people = [u for u in str(body.get("touser") or "").split("|") if u]
        valid, invalid = [u for u in people if u in self.users], [u for u in people if u not in self.users]
        if not valid:
            return {"errcode": 81013, "errmsg": "user & party & tag all invalid", "invaliduser": "|".join(invalid)}
        with self._lock:
            first = [m for m in self.messages if m["card"]["task_id"] == card["task_id"]]
            if first:  # deduplicated: "ok", but nobody gets the card again (field report, see above)
                return {"errcode": 0, "errmsg": "ok", "msgid": first[0]["msgid"]}
            code, msgid = "RC" + secrets.token_hex(8), f"msg{len(self.messages) + 1}"
            self._codes.add(code)
            self.messages.append({"touser": valid, "card": card, "response_code": code, "body": body, "msgid": msgid})
        return {"errcode": 0, "errmsg": "ok", "invaliduser": "|".join(invalid), "msgid": msgid, "response_code": code}

    def _update(self, body: dict[str, Any]) -> dict[str, Any]:
        with self._lock:
            if body.get("response_code") not in self._codes:
                return {"errcode": INVALID, "errmsg": "invalid response_code"}
            self._codes.discard(body["response_code"])
            self.updates.append(body)
        return {"errcode": 0, "errmsg": "ok"}

    @staticmethod
    def _reply(h: BaseHTTPRequestHandler, body: dict[str, Any] | bytes, status: int = 200) -> None:
        data = body if isinstance(body, bytes) else json.dumps(body).encode()
        h.send_response(status)
        h.send_header("Content-Type", "application/json; charset=utf-8")
        h.send_header("Content-Length", str(len(data)))
        h.end_headers()
        try:
            h.wfile.write(data)
        except (BrokenPipeError, ConnectionResetError):  # the client gave up first (the slow-answer fault)
            pass


def _card_problem(card: dict[str, Any]) -> str:
    """What WeCom would refuse in a button_interaction card, "" when nothing."""
    if card.get("card_type") != "button_interaction":
        return "card_type"
    if not isinstance(card.get("main_title"), dict) or not card["main_title"].get("title"):
        return "main_title.title"
    task_id = card.get("task_id")
    if not isinstance(task_id, str) or not TASK_ID.fullmatch(task_id) or len(task_id.encode()) > 128:
        return "task_id"
    buttons = card.get("button_list")
    if not isinstance(buttons, list) or not 1 <= len(buttons) <= 6:
        return "button_list"
    keys = [b.get("key") for b in buttons if isinstance(b, dict) and b.get("text")]
    if len(keys) != len(buttons) or not all(isinstance(k, str) and k for k in keys) or len(set(keys)) != len(keys):
        return "button_list.key"
    action = card.get("card_action")
    if action is not None and (not isinstance(action, dict) or action.get("type") == 1 and not action.get("url")):
        return "card_action"
    return ""


# -- WeCom towards our callback URL -------------------------------------------------------------------
def event_xml(*, user: str, task_id: str, key: str, corp_id: str, create_time: int, response_code: str = "RC0",
              agent_id: str = AGENT_ID) -> str:
    return (f"<xml><ToUserName><![CDATA[{corp_id}]]></ToUserName><FromUserName><![CDATA[{user}]]></FromUserName>"
            f"<CreateTime>{create_time}</CreateTime><MsgType><![CDATA[event]]></MsgType>"
            f"<Event><![CDATA[template_card_event]]></Event><EventKey><![CDATA[{key}]]></EventKey>"
            f"<TaskId><![CDATA[{task_id}]]></TaskId><CardType><![CDATA[button_interaction]]></CardType>"
            f"<ResponseCode><![CDATA[{response_code}]]></ResponseCode><AgentID>{agent_id}</AgentID></xml>")


def press(callback_url: str, *, user: str, task_id: str, key: str, token: str = CALLBACK_TOKEN, aes_key: str = AES_KEY,
          corp_id: str = CORP_ID, create_time: int, nonce: str = "nonce123", response_code: str = "RC0",
          agent_id: str = AGENT_ID, signature: str | None = None) -> tuple[int, str]:
    """POST a button press as WeCom does (encrypted, signed); `signature` overrides the right one."""
    inner = event_xml(user=user, task_id=task_id, key=key, corp_id=corp_id, create_time=create_time,
                      response_code=response_code, agent_id=agent_id)
    encrypted = wecom_crypto.encrypt(aes_key, corp_id, inner)
    timestamp = str(create_time)
    sig = signature or wecom_crypto.signature(token, timestamp, nonce, encrypted)
    body = (f"<xml><ToUserName><![CDATA[{corp_id}]]></ToUserName><AgentID><![CDATA[{agent_id}]]></AgentID>"
            f"<Encrypt><![CDATA[{encrypted}]]></Encrypt></xml>")
    return _exchange(_with_query(callback_url, msg_signature=sig, timestamp=timestamp, nonce=nonce), body.encode())


def verify_url(callback_url: str, *, token: str = CALLBACK_TOKEN, aes_key: str = AES_KEY, corp_id: str = CORP_ID,
               echo: str = "echo-1234567890", timestamp: str = "1700000000", nonce: str = "nonce123") -> tuple[int, str]:
    """The GET WeCom makes when the callback URL is saved: the answer must be `echo`, decrypted."""
    echostr = wecom_crypto.encrypt(aes_key, corp_id, echo)
    sig = wecom_crypto.signature(token, timestamp, nonce, echostr)
    return _exchange(_with_query(callback_url, msg_signature=sig, timestamp=timestamp, nonce=nonce, echostr=echostr))


def _with_query(url: str, **query: str) -> str:
    return f"{url}{'&' if '?' in url else '?'}{urlencode(query)}"


def _exchange(url: str, body: bytes | None = None) -> tuple[int, str]:
    req = urllib.request.Request(url, data=body, method="POST" if body is not None else "GET",
                                 headers={"Content-Type": "text/xml; charset=utf-8"})
    try:
        with urllib.request.urlopen(req, timeout=10) as resp:  # noqa: S310 (a test's local URL)
            return resp.status, resp.read().decode()
    except HTTPError as e:
        return e.code, e.read().decode()
