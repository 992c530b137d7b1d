"""Robot webhooks used by Chinese offices: DingTalk (钉钉, optionally signed) and WeCom (企业微信).

The URL is itself a secret (it holds the access token), so it comes only from the environment
(FUQUAN_WEBHOOK_<NAME>; DingTalk's signing secret from FUQUAN_WEBHOOK_<NAME>_SECRET) and never
appears in an error or log line. Robots give no message id, so a send cannot be reconciled: an
uncertain one is re-sent on the next run (at least once, the send log says so).
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import http.client
import json
import re
import time
import urllib.parse
import urllib.request
from collections.abc import Callable
from urllib.error import HTTPError, URLError

from pydantic import SecretStr

from fuquan.errors import Failure, NotificationError

from .base import Outgoing, redact
from .http_calls import no_answer

RATE_CODES = {130101, 45009, 45033}  # DingTalk "sending too fast", WeCom "api freq out of limit"
WECOM_LIMIT = 4000  # WeCom markdown content: 4,096 bytes


def dingtalk_sign(secret: str, timestamp_ms: int) -> str:
    """DingTalk's scheme: base64(HMAC-SHA256(secret, f"{timestamp}\\n{secret}")), URL-encoded."""
    digest = hmac.new(secret.encode(), f"{timestamp_ms}\n{secret}".encode(), hashlib.sha256).digest()
    return urllib.parse.quote_plus(base64.b64encode(digest))


class WebhookNotifier:
    can_reconcile = False

    def __init__(self, kind: str, name: str, url: SecretStr, secret: SecretStr | None = None, *,
                 timeout: float = 10, clock_ms: Callable[[], int] = lambda: int(time.time() * 1000)) -> None:
        if kind not in ("dingtalk", "wecom"):
            raise ValueError(kind)
        self.kind, self.name, self._url, self._secret = kind, name, url, secret
        self.timeout, self.clock_ms = timeout, clock_ms

    def _target(self) -> str:
        url = self._url.get_secret_value()
        if self.kind == "dingtalk" and self._secret:
            ts = self.clock_ms()
            url += f"{'&' if '?' in url else '?'}timestamp={ts}&sign={dingtalk_sign(self._secret.get_secret_value(), ts)}"
        return url

    def _body(self, out: Outgoing) -> dict[str, object]:
        text = out.text()
        if self.kind == "dingtalk":
            return {"msgtype": "markdown", "markdown": {"title": out.message.title, "text": text}}
        data = text.encode()
        if len(data) > WECOM_LIMIT:
            text = data[:WECOM_LIMIT].decode(errors="ignore") + "\n…(内容较多, 其余请在督办系统中查看)"
        return {"msgtype": "markdown", "markdown": {"content": text}}

    def send(self, out: Outgoing) -> str:
        url = self._url.get_secret_value()
        if not re.match(r"https?://[^\s\"']+$", url):
            # A URL pasted without its scheme, or with quotes around it, would fail deep in urllib with the
            # whole URL (its access token) in the message: say which variable to fix, and nothing of it.
            raise self._error(Failure.DESTINATION, "bad_webhook_url",
                              f"环境变量 FUQUAN_WEBHOOK_{self.name} 应为以 https:// 开头的完整网址 (不加引号)")
        req = urllib.request.Request(self._target(), data=json.dumps(self._body(out), ensure_ascii=False).encode(),
                                     headers={"Content-Type": "application/json; charset=utf-8"}, method="POST")
        try:
            with urllib.request.urlopen(req, timeout=self.timeout) as resp:  # noqa: S310 (URL from operator's env)
                answer = json.loads(resp.read().decode() or "{}")
        except HTTPError as e:
            category = Failure.RETRY if e.code >= 500 or e.code == 429 else Failure.DESTINATION
            raise self._error(category, f"http_{e.code}") from None
        except (URLError, OSError, http.client.HTTPException, TimeoutError, ValueError) as e:
            # a refused connection or an unknown name delivered nothing: "retry" (as every notifier judges it);
            # "unknown" only when the post may have arrived — a robot cannot be asked, so it is never re-sent
            category, name = no_answer(e, sends=True)
            raise self._error(category, name, str(getattr(e, "reason", "")) or "") from None
        code = answer.get("errcode") if isinstance(answer, dict) else None
        if not isinstance(code, int) or isinstance(code, bool):
            # [] or null or {"errcode": "abc"}: not a robot's answer (a proxy's?). It may have arrived.
            raise self._error(Failure.UNKNOWN, "bad_answer", "机器人返回的内容无法识别")
        if code == 0:
            return ""
        category = Failure.RETRY if code in RATE_CODES else Failure.DESTINATION
        raise self._error(category, f"errcode_{code}", str(answer.get("errmsg", ""))[:200])

    def find(self, out: Outgoing) -> str | None:
        return None

    def check(self) -> None:
        return None  # a robot has no "who am I" call: a bad URL shows on the first send

    @property
    def trail(self) -> list[tuple[str, str]]:
        return []  # one attempt per send

    def _error(self, category: Failure, code: str, detail: str = "") -> NotificationError:
        secrets = [self._url.get_secret_value()] + ([self._secret.get_secret_value()] if self._secret else [])
        label = {"dingtalk": "钉钉", "wecom": "企业微信"}[self.kind]
        return NotificationError(category, code, f"{label} {self.name}", redact(detail, secrets))
