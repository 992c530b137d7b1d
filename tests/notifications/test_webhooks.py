"""DingTalk and WeCom robots against a local server that checks DingTalk's signature."""

import json
import socket
import threading
from collections.abc import Iterator
from datetime import UTC, datetime
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any
from urllib.parse import parse_qs, urlparse

import pytest
from pydantic import SecretStr

from fuquan.errors import NotificationError
from fuquan.plans.policy import Destination
from fuquan.words.messages import Message, Section
from notifications.base import Outgoing
from notifications.webhooks import WebhookNotifier, dingtalk_sign

SECRET = "SEC-robot-signing-secret"


class Robot:
    def __init__(self) -> None:
        self.received: list[dict[str, Any]] = []
        self.queries: list[dict[str, list[str]]] = []
        self.answers: list[tuple[int, dict[str, Any]]] = []
        robot = self

        class Handler(BaseHTTPRequestHandler):
            def log_message(self, *a: Any) -> None:
                pass

            def do_POST(self) -> None:  # noqa: N802
                body = json.loads(self.rfile.read(int(self.headers["Content-Length"])))
                robot.received.append(body)
                robot.queries.append(parse_qs(urlparse(self.path).query))
                status, answer = robot.answers.pop(0) if robot.answers else (200, {"errcode": 0, "errmsg": "ok"})
                data = json.dumps(answer).encode()
                self.send_response(status)
                self.send_header("Content-Length", str(len(data)))
                self.end_headers()
                self.wfile.write(data)

        self.httpd = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        threading.Thread(target=self.httpd.serve_forever, args=(0.02,), daemon=True).start()

    def url(self, query: str) -> str:
        return f"http://127.0.0.1:{self.httpd.server_address[1]}/robot/send?{query}"


@pytest.fixture
def robot() -> Iterator[Robot]:
    r = Robot()
    yield r
    r.httpd.shutdown()


def out(kind: str) -> Outgoing:
    msg = Message("湾沚镇", "【测试区镇赋权督办】湾沚镇 待办提醒", (Section("即将到期", ("任务2「签订确认书」 今天到期",)),))
    return Outgoing("k1", Destination(kind, "WANZHI"), msg, datetime.now(UTC))


def test_dingtalk_markdown_is_signed(robot: Robot) -> None:
    url = robot.url("access_token=tok-123")
    n = WebhookNotifier("dingtalk", "WANZHI", SecretStr(url), SecretStr(SECRET), clock_ms=lambda: 1682644800000)
    n.send(out("dingtalk"))
    body, query = robot.received[0], robot.queries[0]
    assert body["msgtype"] == "markdown" and "任务2「签订确认书」 今天到期" in body["markdown"]["text"]
    assert query["timestamp"] == ["1682644800000"] and query["access_token"] == ["tok-123"]
    # the server side of DingTalk's scheme: parse_qs has already URL-decoded the sign
    from urllib.parse import unquote_plus

    assert query["sign"] == [unquote_plus(dingtalk_sign(SECRET, 1682644800000))]


def test_wecom_markdown_is_truncated_to_its_limit(robot: Robot) -> None:
    n = WebhookNotifier("wecom", "WANZHI", SecretStr(robot.url("key=abc")))
    long = Outgoing("k", Destination("wecom", "W"), Message("甲", "标题", (Section("已逾期", ("很长的一行" * 100,) * 20),)),
                    datetime.now(UTC))
    n.send(long)
    assert len(robot.received[0]["markdown"]["content"].encode()) <= 4200


@pytest.mark.parametrize(("answer", "category", "code"), [
    ((200, {"errcode": 130101, "errmsg": "send too fast"}), "retry", "errcode_130101"),
    ((200, {"errcode": 45009, "errmsg": "api freq out of limit"}), "retry", "errcode_45009"),
    ((200, {"errcode": 310000, "errmsg": "sign not match"}), "destination", "errcode_310000"),
    ((200, {"errcode": 93000, "errmsg": "invalid webhook url"}), "destination", "errcode_93000"),
    ((502, {}), "retry", "http_502"),
    ((404, {}), "destination", "http_404"),
])
def test_robot_errors_are_classified_and_never_show_the_url(robot: Robot, answer, category: str, code: str) -> None:  # type: ignore[no-untyped-def]
    robot.answers.append(answer)
    url = robot.url("access_token=very-secret-token")
    with pytest.raises(NotificationError) as e:
        WebhookNotifier("dingtalk", "WANZHI", SecretStr(url), SecretStr(SECRET)).send(out("dingtalk"))
    assert (e.value.category, e.value.code) == (category, code)
    text = f"{e.value} {e.value.detail} {e.value.destination}"
    assert "very-secret-token" not in text and SECRET not in text and "127.0.0.1" not in text
    assert e.value.destination == "钉钉 WANZHI"


def test_a_refused_robot_is_retried_and_a_silent_one_is_unknown_both_without_the_url() -> None:
    """A refused connection delivered nothing: the next run sends it (before, "unknown" — a robot cannot be asked,
    so the reminder was never sent). A robot that took the post and never answered may have shown it: unknown."""
    url = "http://127.0.0.1:9/robot/send?access_token=very-secret-token"  # discard port: refused
    with pytest.raises(NotificationError) as e:
        WebhookNotifier("wecom", "WANZHI", SecretStr(url), timeout=2).send(out("wecom"))
    assert (e.value.category, e.value.code) == ("retry", "ConnectionRefusedError"), (e.value.category, e.value.code)
    assert "very-secret-token" not in str(e.value) + e.value.detail
    with socket.socket() as silent:  # (listening: the connection is made, the post sent, nothing answers)
        silent.bind(("127.0.0.1", 0))
        silent.listen()
        url = f"http://127.0.0.1:{silent.getsockname()[1]}/robot/send?access_token=very-secret-token"
        with pytest.raises(NotificationError) as e:
            WebhookNotifier("wecom", "WANZHI", SecretStr(url), timeout=0.5).send(out("wecom"))
    assert e.value.category == "unknown" and "very-secret-token" not in str(e.value) + e.value.detail
