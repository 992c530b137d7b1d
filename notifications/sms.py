"""SMS (短信) for the final escalation step: a short text to the phones of the unit's contacts.

Counties buy SMS from different providers (运营商 gateways, 阿里云/腾讯云 短信), so fuquan speaks one small contract
that the county's gateway, or a small adapter in front of it, accepts:

    POST <url>   Authorization: Bearer <token> (when a token is set)   Content-Type: application/json
        {"phones": ["13800138000", …], "text": "【签名】…", "id": "fq…"}
    200 {"code": 0, …}                 sent; {"code": 0, "duplicate": true} for an id already taken: not re-sent
    200 {"code": <other>, "message": …} refused: 429 or a code naming a rate or limit (isv.BUSINESS_LIMIT_CONTROL,
                                        LimitExceeded.*, "busy") is "retry", 401/403 is "auth", any other "destination"
    401/403 → auth; 429, 5xx, connection refused → retry (the `id` lets the gateway drop a repeat);
    a timeout, a dropped connection or an answer without an integer code → unknown (it may have gone out)

An SMS is not a place for a personal link: the text is the title and the first lines, never a URL. Redirects are
not followed (they would carry the token elsewhere). The URL (it may hold a key) and the token never appear in an
error, a log line or a return value. There is nothing to reconcile with and nothing cheap to check: a gateway
charges per message and has no common "who am I" call, so a bad token shows as "auth" on the first send.
"""

from __future__ import annotations

import json
import logging
import re
import unicodedata
import urllib.request
from typing import Any
from urllib.error import HTTPError

from pydantic import SecretStr

from fuquan.errors import Failure, NotificationError
from fuquan.words.messages import Message

from .base import Outgoing, error_code, redact
from .http_calls import NETWORK, ThreadTrail, no_answer

log = logging.getLogger("fuquan.sms")
LABEL = "短信"
URL_VAR = "FUQUAN_SMS_URL"
ENDING = "详情请查看钉钉/企业微信消息或登录督办系统"
MIN_BODY = 10  # characters of the message worth keeping the ending for; below that the ending is dropped
RATE_WORDS = ("rate", "limit", "busy")
LINK_LINE = re.compile(r"签收、反馈进展、申请延期请点击\s*[:：]?\s*\S*")
# Anything that reads as an address: a scheme, www., a host with a port or path, a bare domain of a common TLD.
# ASCII-only on purpose: Chinese next to a URL ("请点击https://…查看") is not part of it.
URLISH = re.compile(r"(?<![A-Za-z0-9])(?:(?:https?|ftp)://[!-~]*|www\.[!-~]*"
                    r"|[A-Za-z0-9-]+(?:\.[A-Za-z0-9-]+)+(?::\d+/?|/)[!-~]*"
                    r"|[A-Za-z0-9-]+(?:\.[A-Za-z0-9-]+)*\.(?:cn|com|net|org|gov|edu|top|xyz|io)(?![A-Za-z0-9]))",
                    re.IGNORECASE)
SIGN = re.compile(r"^\s*【[^】]*】")


def mobile(phone: str) -> str | None:
    """A mainland mobile number as 11 digits (spaces, dashes, full-width digits and a +86/0086 prefix taken off),
    None for anything else (a landline, an extension, a foreign number)."""
    digits = re.sub(r"[\s\-–—().（）]", "", unicodedata.normalize("NFKC", phone))
    m = re.fullmatch(r"(?:\+?86|0086)?(1[3-9][0-9]{9})", digits)
    return m.group(1) if m else None


def sms_text(out: Outgoing, sign: str, max_chars: int) -> str:
    """The SMS (pure): the sign, the title, one line per section, and the ending when there is room; at most
    `max_chars` characters, cut with "…". Carriers read 【…】 as the signature, so the title's own 【…】 gives way
    to `sign` and no other 【】 is left in the text."""
    sign = signature(sign)
    title = _clean(out.message.title, out.link)
    if not sign:
        sign = m.group(0).strip() if (m := SIGN.match(title)) else ""
    head = sign + _unbracket(SIGN.sub("", title, count=1).strip())
    body = "\n".join(_unbracket(line) for line in (_clean(t, out.link) for t in _lines(out.message)) if line)
    full = f"{head}\n{body}" if body else head
    tail = "\n" + ENDING
    if len(full) + len(tail) <= max_chars:
        return full + tail
    if body and len(head) + 1 + MIN_BODY + len(tail) <= max_chars:
        return _cut(full, max_chars - len(tail), len(head)) + tail
    return _cut(full, max_chars, len(head))


def signature(sign: str) -> str:
    """The sign as carriers want it, in 【】 ("莲河县镇赋权督办" → "【莲河县镇赋权督办】"); "" stays ""."""
    sign = sign.strip()
    return f"【{sign}】" if sign and not sign.startswith("【") else sign


def _lines(m: Message) -> list[str]:
    return ([m.note] if m.note else []) + [f"{s.heading}: " + "；".join(s.lines) for s in m.sections]


def _clean(text: str, link: str | None) -> str:
    if link:
        text = text.replace(link, "")
    text = URLISH.sub("", LINK_LINE.sub("", text))
    return re.sub(r"[ \t]{2,}", " ", text).strip()


def _unbracket(text: str) -> str:
    return text.replace("【", "〔").replace("】", "〕")


def _cut(text: str, n: int, head: int = 0) -> str:
    """`text` in at most n characters, ending "…": after the last whole item (past `head`) when that loses little,
    never through a number or a word, no dangling separator."""
    if len(text) <= n:
        return text
    if n <= 1:
        return "…" if n == 1 else ""
    kept = text[: n - 1]
    item = max(kept.rfind("；"), kept.rfind("\n"))
    if item > head and item >= len(kept) * 0.6:
        kept = kept[:item]
    elif kept[-1].isascii() and kept[-1].isalnum() and text[n - 1].isascii() and text[n - 1].isalnum():
        kept = re.sub(r"[A-Za-z0-9]+$", "", kept)  # "逾期 2…" would read as two days where it said twenty
    return kept.rstrip(" \n；;，,、:：(（「") + "…"


class _NoRedirect(urllib.request.HTTPRedirectHandler):
    def redirect_request(self, *args: Any, **kwargs: Any) -> None:
        return None  # the 30x becomes an HTTPError: a redirect would carry the token to another address


class SmsNotifier(ThreadTrail):
    kind = "sms"
    can_reconcile = False

    def __init__(self, *, url: SecretStr, token: SecretStr | None = None, sign: str = "", max_chars: int = 140,
                 timeout: float = 10) -> None:
        self._url, self._token, self.sign, self.max_chars, self.timeout = url, token, sign, max_chars, timeout
        self._opener = urllib.request.build_opener(_NoRedirect())

    def send(self, out: Outgoing) -> str:
        self.new_trail()  # one attempt per send: the run's retries decide when to try again
        phones = list(dict.fromkeys(p for p in map(mobile, out.people) if p))
        if not phones:
            raise self._error(Failure.DESTINATION, "no_phones", "该单位联系人没有登记手机号码")
        if dropped := len(out.people) - len([p for p in out.people if mobile(p)]):
            log.warning("%s %s: %d 个号码不是大陆手机号码, 未发送; 请核对 contacts 中的手机号码",
                        LABEL, out.destination.target, dropped)
        url = self._url.get_secret_value()
        if not re.match(r"https?://[^\s\"']+$", url):
            raise self._error(Failure.DESTINATION, "bad_sms_url", f"环境变量 {URL_VAR} 应为以 https:// 开头的完整网址 (不加引号)")
        limit = out.chars or self.max_chars  # (the plan's, carried by the message: one notifier serves every plan)
        if limit < len(signature(self.sign)) + 1 + MIN_BODY:
            raise self._error(Failure.DESTINATION, "sms_too_short", f"短信最多 {limit} 字, 放不下签名{signature(self.sign)}和正文; "
                              "请调大计划的 reminders: sms: max_chars (短信最多字数) 或缩短 FUQUAN_SMS_SIGN")
        body = {"phones": phones, "text": sms_text(out, self.sign, limit), "id": out.track}
        answer = self._post(url, body)
        code = answer.get("code") if isinstance(answer, dict) else None
        if code == 0 and not isinstance(code, bool):
            return out.track
        if not isinstance(code, int | str) or isinstance(code, bool) or code in ("", "0"):
            raise self._error(Failure.UNKNOWN, "bad_answer", "短信网关返回的内容无法识别, 可能已发送")
        raise self._refusal(code, str(answer.get("message", ""))[:200])

    def find(self, out: Outgoing) -> str | None:
        return None

    def check(self) -> None:
        return None  # no common "who am I" call, and a test message costs money: a bad token shows on the first send

    def _post(self, url: str, body: dict[str, Any]) -> Any:
        headers = {"Content-Type": "application/json; charset=utf-8", "Accept": "application/json"}
        if self._token:
            headers["Authorization"] = f"Bearer {self._token.get_secret_value()}"
        req = urllib.request.Request(url, data=json.dumps(body, ensure_ascii=False).encode(), headers=headers,
                                     method="POST")
        try:
            with self._opener.open(req, timeout=self.timeout) as resp:
                raw = resp.read()
        except HTTPError as e:
            category = (Failure.AUTH if e.code in (401, 403) else Failure.RETRY if e.code == 429 or e.code >= 500
                        else Failure.DESTINATION)
            raise self._error(category, f"http_{e.code}") from None
        except NETWORK as e:
            category, name = no_answer(e, sends=True)
            raise self._error(category, name, "结果未知, 可能已发送; 下次运行将再次发送 (网关按 id 去重)"
                              if category == Failure.UNKNOWN else "") from None
        try:
            return json.loads(raw.decode())
        except ValueError:
            return None

    def _refusal(self, code: int | str, message: str) -> NotificationError:
        word = str(code).lower()
        stored = error_code("sms_" + (re.sub(r"[^a-z0-9]+", "_", word).strip("_") if isinstance(code, str)
                                      else str(code) if code >= 0 else f"minus_{-code}")[:56])
        if code == 429 or any(w in word for w in RATE_WORDS):
            return self._error(Failure.RETRY, stored, message)
        if code in (401, 403):
            return self._error(Failure.AUTH, stored, "请检查短信网关的令牌 (token); " + message)
        return self._error(Failure.DESTINATION, stored, message)

    def _error(self, category: Failure, code: str, detail: str = "") -> NotificationError:
        secrets = [self._url.get_secret_value()] + ([self._token.get_secret_value()] if self._token else [])
        return NotificationError(category, code, LABEL, redact(detail, secrets))
