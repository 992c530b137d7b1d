"""`fuquan web`: the units' and the 专班's pages (Starlette, server-rendered Chinese HTML, no front-end build).

Handlers (web/handlers.py) parse their form into a command (web/forms.py) and call usecases with the session's
context; none touches the database itself. Every POST needs the session's CSRF token; a unit's session reaches
only its own rows (the use cases look everything up within the unit), so another unit's ids give "not found".
Each kind of refusal has one answer here: not found 404, a bad link or session 403, a closed plan year 409, bad
input 400; a decision already taken is said on an ordinary page (200). A POST that names another site than
FUQUAN_WEB_URL's (Origin, else Referer) is refused before anything is read (403); Slack's signed request URL is
exempt. Routing's own 404 and 405 (and a crash's 500) are Chinese pages with the same security headers.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from urllib.parse import urlsplit

from sqlalchemy.exc import OperationalError
from starlette.applications import Starlette
from starlette.exceptions import HTTPException
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

from fuquan.answers.links import BadLink
from fuquan.answers.uploads import MAX_BYTES
from fuquan.errors import AlreadyDecided, FileMissing, FuquanError, NotYours, PlanClosed, TooManyAttempts, Unavailable
from usecases.context import Context

from . import handlers
from .guard import COOKIE, Door, Visitor
from .handlers import off
from .responses import busy, page, refused

MAX_BODY = MAX_BYTES * 3 + 1024 * 1024  # a form with up to three files of 20 MB
Handler = Callable[[Request, Visitor], Awaitable[Response]]
Endpoint = Callable[[Request], Awaitable[Response]]


async def home(request: Request) -> Response:
    return page("message.html", title="任务督办", message="请使用督办消息中的专属链接进入本单位页面。")


async def enter(request: Request) -> Response:
    door = handlers.door_of(request)
    try:
        visitor, cookie = await off(door.enter, request.path_params["token"], door.address(request))
    except TooManyAttempts:
        return refused("尝试次数过多, 请十分钟后再试", 429)
    except (BadLink, NotYours) as e:
        return refused(f"{e}。请使用最新收到的督办消息中的链接, 或联系工作专班重新发送。", 403)
    except Unavailable:  # (a valid link stays valid: the database could not be asked, nothing is counted)
        return busy()
    target = {"office": "/office/board", "leader": "/board"}.get(visitor.role, "/u")
    resp = page("enter.html", target=target, holder=visitor.holder)
    resp.set_cookie(COOKIE, cookie, max_age=12 * 3600, httponly=True, samesite="strict",
                    secure=urlsplit(door.base.settings.web_url).scheme.lower() == "https", path="/")
    return resp


def answer(error: FuquanError) -> Response:
    """The one refusal (or, for a decision already taken, the one plain answer) for each kind of error."""
    if isinstance(error, Unavailable):
        return busy()
    if isinstance(error, (NotYours, FileMissing)):
        return refused(str(error), 404)
    if isinstance(error, BadLink):
        return refused(f"{error}。请重新点击督办消息中的专属链接进入。", 403)
    if isinstance(error, PlanClosed):
        return refused(str(error), 409)
    if isinstance(error, AlreadyDecided):
        return page("message.html", title="已处理", message=str(error))
    return refused(str(error), 400)


UNIT, OFFICE, LEADER = frozenset({"unit"}), frozenset({"office"}), frozenset({"leader"})


def session(handler: Handler, *, roles: frozenset[str], post: bool = False) -> Endpoint:
    """`handler` behind the session: its visitor (403 without one), one of `roles` (404 otherwise: a leader's
    read-only session opens the board and nothing else), a POST's declared length within the body limit (413), and
    every use-case error answered by `answer`."""

    async def run(request: Request) -> Response:
        if post and foreign(request, request.app.state.site):
            return refused("请求来自其他网站, 未予办理。请在本单位页面上提交 (从督办消息中的专属链接进入)。", 403)
        try:
            visitor = await off(handlers.door_of(request).visitor, request)
        except (BadLink, NotYours) as e:
            return refused(f"{e}。请重新点击督办消息中的专属链接进入。", 403)
        except Unavailable:
            return busy()
        if visitor.role not in roles:
            return refused("此页面不属于本单位", 404)
        if post:
            length = request.headers.get("content-length")
            if length is None or not length.isdigit() or int(length) > MAX_BODY:
                return refused("提交的内容过大 (每个文件不超过 20 MB, 每次最多 3 个)", 413)
        try:
            return await handler(request, visitor)
        except FuquanError as e:
            return answer(e)

    return run


def origin(url: str) -> str | None:
    """scheme://host[:port] of a URL (the port only when not the scheme's own), lower case; None when it has none."""
    try:
        parts = urlsplit(url.strip())
        port = parts.port
    except ValueError:  # (a port out of range, a broken IPv6 literal)
        return None
    scheme, host = parts.scheme.lower(), parts.hostname
    if scheme not in ("http", "https") or not host:
        return None
    return f"{scheme}://{host}" + (f":{port}" if port and port != {"http": 80, "https": 443}[scheme] else "")


def foreign(request: Request, site: str | None) -> bool:
    """Whether a request names another site than ours: its Origin, or without one its Referer. `Origin: null` names
    none: our pages send no referrer (Referrer-Policy), and a browser then sends exactly that with our own forms;
    such a POST, like one with neither header, stands on its CSRF token alone."""
    said = request.headers.get("origin", "").strip()
    if said and said.lower() != "null":
        return site is None or origin(said) != site
    referer = request.headers.get("referer", "").strip()
    return bool(referer) and (site is None or origin(referer) != site)


async def routing_refused(request: Request, exc: Exception) -> Response:
    """Routing's own refusals (no such page, a method the page does not take) as our pages, not Starlette's text."""
    http = exc if isinstance(exc, HTTPException) else HTTPException(404)
    if http.status_code != 405:
        return page("message.html", 404, title="页面不存在", message="页面不存在。请使用督办消息中的专属链接进入本单位页面。")
    resp = page("message.html", 405, title="不支持该请求方式", message="此页面不支持该请求方式。请从本单位页面进入后操作。")
    resp.headers.update(http.headers or {})  # (Allow)
    return resp


async def crashed(request: Request, exc: Exception) -> Response:
    if isinstance(exc, OperationalError):  # (a database error no use case turned into Unavailable: still "busy")
        return busy()
    return page("message.html", 500, title="系统出错", message="系统出错, 未能办理。请稍后再试, 或联系工作专班。")


def make_app(base: Context, slack_actions: Endpoint | None = None, *, door: Door | None = None,
             wecom: Endpoint | None = None) -> Starlette:
    handlers.write_threads(base.engine.dialect.name)
    routes = [
        Route("/", home), Route("/l/{token}", enter),
        Route("/u", session(handlers.unit, roles=UNIT)),
        Route("/u/ack", session(handlers.ack, roles=UNIT, post=True), methods=["POST"]),
        Route("/u/feedback", session(handlers.feedback, roles=UNIT, post=True), methods=["POST"]),
        Route("/u/extension", session(handlers.extension, roles=UNIT, post=True), methods=["POST"]),
        Route("/u/sheet", session(handlers.sheet, roles=UNIT, post=True), methods=["POST"]),
        Route("/decide", session(handlers.decide, roles=UNIT | OFFICE, post=True), methods=["POST"]),
        Route("/office", session(handlers.office, roles=OFFICE)),
        Route("/office/board", session(handlers.office_board, roles=OFFICE)),
        Route("/board", session(handlers.office_board, roles=LEADER | OFFICE)),  # leaders': the board, read-only
        Route("/office/review", session(handlers.review, roles=OFFICE, post=True), methods=["POST"]),
        Route("/files/{id}", session(handlers.evidence_file, roles=UNIT | OFFICE)),
    ]
    if slack_actions is not None:
        routes.append(Route("/slack/actions", slack_actions, methods=["POST"]))
    if wecom is not None:  # WeCom's callback: signed and encrypted by WeCom, no session (web/cards.py)
        callback = wecom

        async def wecom_callback(request: Request) -> Response:  # (a function: Starlette takes other callables
            return await callback(request)                        # for raw ASGI apps)

        routes.append(Route("/wecom/callback", wecom_callback, methods=["GET", "POST"]))
    app = Starlette(routes=routes, exception_handlers={404: routing_refused, 405: routing_refused, 500: crashed})
    app.state.door = door or Door(base)
    app.state.site = origin(base.settings.web_url)
    return app
