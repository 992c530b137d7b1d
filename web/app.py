"""`fuquan web`: the units' and the 专班's pages (Starlette, server-rendered Chinese HTML, no front-end build).

Routes call usecases.answers with the session's context; none touches the database itself. Every POST needs the
session's CSRF token; a unit's session reaches only its own rows (usecases.answers and models.answer_io look
everything up within the unit), so another unit's ids give "not found".
"""

from __future__ import annotations

import re
import secrets
from collections.abc import Awaitable, Callable
from datetime import date
from typing import Any

from starlette.applications import Starlette
from starlette.datastructures import UploadFile
from starlette.exceptions import HTTPException
from starlette.requests import Request
from starlette.responses import FileResponse, HTMLResponse, Response
from starlette.routing import Route

from fuquan.answers.links import BadLink, csrf_token
from fuquan.answers.uploads import KINDS, MAX_BYTES
from fuquan.errors import FuquanError, InvalidValue, NotYours
from fuquan.tracking.actor import Actor
from usecases import answers, evidence
from usecases.context import Context

from . import views
from .guard import COOKIE, Door, TooMany, Visitor, address

MAX_BODY = MAX_BYTES * 3 + 1024 * 1024  # a form with up to three files of 20 MB
Handler = Callable[[Request, Visitor], Awaitable[Response]]
HEADERS = {"Referrer-Policy": "no-referrer", "Cache-Control": "no-store", "X-Content-Type-Options": "nosniff",
           "X-Frame-Options": "DENY", "Content-Security-Policy": "default-src 'self'; style-src 'unsafe-inline'; "
           "img-src 'self' data:; form-action 'self'; frame-ancestors 'none'"}


def make_app(base: Context, slack_actions: Callable[[Request], Awaitable[Response]] | None = None, *,
             door: Door | None = None) -> Starlette:
    door = door or Door(base)

    def page(template: str, status: int = 200, **values: Any) -> HTMLResponse:
        return HTMLResponse(views.render(template, **values), status_code=status, headers=HEADERS)

    def refused(message: str, status: int) -> HTMLResponse:
        return page("message.html", status, title="无法办理", message=message)

    async def home(request: Request) -> Response:
        return page("message.html", title="任务督办", message="请使用督办消息中的专属链接进入本单位页面。")

    async def enter(request: Request) -> Response:
        try:
            visitor, cookie = door.enter(request.path_params["token"], address(request))
        except TooMany:
            return refused("尝试次数过多, 请十分钟后再试", 429)
        except (BadLink, NotYours) as e:
            return refused(f"{e}。请使用最新收到的督办消息中的链接, 或联系工作专班重新发送。", 403)
        target = "/office" if visitor.office else "/u"
        resp = page("enter.html", target=target, holder=visitor.holder)
        resp.set_cookie(COOKIE, cookie, max_age=12 * 3600, httponly=True, samesite="strict",
                        secure=base.settings.web_url.startswith("https://"), path="/")
        return resp

    def session(handler: Handler, *, office: bool | None = None, post: bool = False) -> Callable[[Request], Awaitable[Response]]:
        async def run(request: Request) -> Response:
            try:
                visitor = door.visitor(request)
            except (BadLink, NotYours) as e:
                return refused(f"{e}。请重新点击督办消息中的专属链接进入。", 403)
            if office is not None and visitor.office != office:
                return refused("此页面不属于本单位", 404)
            if post:
                length = request.headers.get("content-length")
                if length is None or not length.isdigit() or int(length) > MAX_BODY:
                    return refused("提交的内容过大 (每个文件不超过 20 MB, 每次最多 3 个)", 413)
            try:
                return await handler(request, visitor)
            except NotYours as e:
                return refused(str(e), 404)
            except FuquanError as e:
                return refused(str(e), 400)
        return run

    async def form(request: Request, visitor: Visitor) -> dict[str, Any]:
        try:
            data = await request.form(max_files=3, max_fields=20, max_part_size=64 * 1024)
        except HTTPException:  # too many files or fields, a field too long, a broken multipart body
            raise InvalidValue("提交的内容不合要求 (每次最多 3 个文件, 说明不超过 2000 字), 请刷新页面后重试") from None
        if not door.csrf(visitor, str(data.get("csrf") or "")):
            raise InvalidValue("页面已过期或来源不明 (CSRF 校验失败), 请刷新页面后重试")
        return {k: data.getlist(k) if k == "files" else data.get(k) for k in data.keys()}

    def actor(visitor: Visitor, *, replace: bool = True) -> Actor:
        return Actor(visitor.by, f"web {visitor.address}", replace, "如需更正已登记的内容, 请联系工作专班")

    def done(message: str, to: str) -> Response:
        return page("message.html", title="已办理", message=message, back=to)

    async def unit(request: Request, v: Visitor) -> Response:
        view = answers.unit_page(v.ctx, v.holder, v.ctx.today())
        return page("unit.html", **views.unit_values(view, v.ctx.today()), csrf=csrf_token(v.claims, door.secret),
                    nonce=secrets.token_urlsafe(12))

    async def ack(request: Request, v: Visitor) -> Response:
        f = await form(request, v)
        return done(answers.acknowledge(v.ctx, v.holder, _int(f.get("message"), "提醒"), actor(v), v.ctx.now()), "/u")

    async def feedback(request: Request, v: Visitor) -> Response:
        f = await form(request, v)
        files = [evidence.Upload(x.filename or "", await x.read(MAX_BYTES + 1)) for x in f.get("files") or []
                 if isinstance(x, UploadFile) and (x.filename or x.size)]
        msg = answers.give_feedback(v.ctx, v.holder, _int(f.get("task"), "任务"), str(f.get("period") or ""),
                                    str(f.get("status") or ""), str(f.get("note") or ""), files,
                                    _nonce(f), actor(v), v.ctx.today())
        return done(msg, "/u")

    async def extension(request: Request, v: Visitor) -> Response:
        f = await form(request, v)
        msg = answers.ask_extension(v.ctx, v.holder, _int(f.get("task"), "任务"), str(f.get("period") or ""),
                                    _date(f.get("new_due")), str(f.get("reason") or ""),
                                    _nonce(f), actor(v), v.ctx.today())
        return done(msg, "/u")

    async def sheet(request: Request, v: Visitor) -> Response:
        f = await form(request, v)
        upload = next((x for x in f.get("files") or [] if isinstance(x, UploadFile)), None)
        if upload is None:
            raise InvalidValue("请选择要上传的登记表 (Excel 或 CSV)")
        data = evidence.Upload(upload.filename or "", await upload.read(MAX_BYTES + 1))
        if len(data.data) > MAX_BYTES:
            raise InvalidValue("登记表超过 20 MB")
        # replace=False: an upload never silently changes what was recorded before (a 月报's 报送日期)
        return done(evidence.import_sheet(v.ctx, v.holder, data, actor(v, replace=False), v.ctx.today()), "/u")

    async def decide(request: Request, v: Visitor) -> Response:
        f = await form(request, v)
        msg = answers.decide_extension(v.ctx, _int(f.get("id"), "延期申请"), f.get("decision") == "批准",
                                       str(f.get("reason") or ""), actor(v), v.ctx.now(),
                                       deciding_unit=None if v.office else v.holder)
        return done(msg, "/office" if v.office else "/u")

    async def office(request: Request, v: Visitor) -> Response:
        view = answers.office_page(v.ctx, v.ctx.today())
        return page("office.html", **views.office_values(view, v.ctx.today()), member=v.claims.member,
                    csrf=csrf_token(v.claims, door.secret))

    async def review(request: Request, v: Visitor) -> Response:
        f = await form(request, v)
        msg = answers.review_feedback(v.ctx, _int(f.get("id"), "反馈"), f.get("decision") == "通过",
                                      str(f.get("reason") or ""), actor(v), v.ctx.now())
        return done(msg, "/office")

    async def evidence_file(request: Request, v: Visitor) -> Response:
        row = evidence.evidence_row(v.ctx, _int(request.path_params["id"], "佐证材料"),
                                   None if v.office else v.ctx.plan.unit_ids[v.holder])
        return FileResponse(evidence.evidence_path(v.ctx, row), media_type=KINDS[row.kind], filename=row.name,
                            content_disposition_type="attachment", headers=HEADERS)

    routes = [
        Route("/", home), Route("/l/{token}", enter),
        Route("/u", session(unit, office=False)),
        Route("/u/ack", session(ack, office=False, post=True), methods=["POST"]),
        Route("/u/feedback", session(feedback, office=False, post=True), methods=["POST"]),
        Route("/u/extension", session(extension, office=False, post=True), methods=["POST"]),
        Route("/u/sheet", session(sheet, office=False, post=True), methods=["POST"]),
        Route("/decide", session(decide, post=True), methods=["POST"]),
        Route("/office", session(office, office=True)),
        Route("/office/review", session(review, office=True, post=True), methods=["POST"]),
        Route("/files/{id}", session(evidence_file)),
    ]
    if slack_actions is not None:
        routes.append(Route("/slack/actions", slack_actions, methods=["POST"]))
    return Starlette(routes=routes)


def _nonce(f: dict[str, Any]) -> str:
    """The form's one-time token, as the page made it (a short URL-safe token): anything else is not our page."""
    nonce = str(f.get("nonce") or "")
    if not re.fullmatch(r"[A-Za-z0-9_-]{1,64}", nonce):
        raise InvalidValue("页面已过期, 请刷新页面后重试")
    return nonce


def _int(raw: object, what: str) -> int:
    text = str(raw or "")
    if not re.fullmatch(r"[0-9]{1,9}", text):  # (str.isdigit() takes ² and ٣, which int() refuses)
        raise NotYours(what)
    return int(text)


def _date(raw: object) -> date:
    try:
        return date.fromisoformat(str(raw or ""))
    except ValueError:
        raise InvalidValue(f"新的截止日期应为 YYYY-MM-DD, 实为 “{str(raw or '')[:20]}”") from None
