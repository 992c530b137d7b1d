"""What every page and refusal of the web app is sent with: the security headers, and the one message page that
says what was done or why not."""

from __future__ import annotations

from typing import Any

from starlette.responses import HTMLResponse

from . import views

HEADERS = {"Referrer-Policy": "no-referrer", "Cache-Control": "no-store", "X-Content-Type-Options": "nosniff",
           "X-Frame-Options": "DENY", "Content-Security-Policy": "default-src 'self'; style-src 'unsafe-inline'; "
           "img-src 'self' data:; form-action 'self'; frame-ancestors 'none'"}


def page(template: str, status: int = 200, **values: Any) -> HTMLResponse:
    return HTMLResponse(views.render(template, **values), status_code=status, headers=HEADERS)


def refused(message: str, status: int) -> HTMLResponse:
    return page("message.html", status, title="无法办理", message=message)


def done(message: str, back: str) -> HTMLResponse:
    return page("message.html", title="已办理", message=message, back=back)


def busy() -> HTMLResponse:
    """The database is down or busy past the wait: 503, said so that a unit knows nothing was recorded."""
    resp = page("message.html", 503, title="系统繁忙", message="系统繁忙, 请稍后再试。本次操作未写入任何内容; "
                "您的专属链接仍然有效, 稍后重新打开即可。")
    resp.headers["Retry-After"] = "30"
    return resp
