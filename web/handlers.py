"""The web app's handlers, one per route: each parses its form into a command (web/forms.py), calls one use case
with the session's context and actor, and answers with a page. A handler raises the use case's error as it is;
web/app.py turns each kind into its refusal.

Only reading the request is done on the event loop; the use case and the page run in a worker thread (`off`):
the database work is synchronous, and measured on one loop a slow request (a 60 MB upload's checks, the 专班's
page of a large plan, a write waiting for its lock) held every other unit up to 20 s."""

from __future__ import annotations

import secrets
from collections.abc import Callable
from functools import partial
from typing import ParamSpec, TypeVar

from anyio import CapacityLimiter, to_thread
from anyio.lowlevel import RunVar
from starlette.concurrency import run_in_threadpool
from starlette.requests import Request
from starlette.responses import FileResponse, Response

from fuquan.answers.links import csrf_token
from fuquan.answers.uploads import KINDS, MAX_BYTES, Upload
from fuquan.errors import InvalidValue, NotYours, PlanClosed
from fuquan.tracking.actor import Actor
from usecases import answers, board, evidence, pages

from . import forms, views
from .guard import Door, Visitor
from .responses import HEADERS, done, page

P = ParamSpec("P")
T = TypeVar("T")


READERS = 2  # worker threads per process for pages
# ... and for the writes of forms, by database. SQLite has one writer at a time, and more threads only poll for its
# lock. PostgreSQL's answers go on together (models.db: lanes) and a write mostly waits for round trips: measured
# under the mixed load, 2 threads a process made answers queue (p95 13.6 s), 6 took them as they came (4.0 s).
WRITERS = {"sqlite": 2, "postgresql": 6}
_writers = WRITERS["sqlite"]


def write_threads(dialect: str) -> None:
    """How many threads write for forms in this process: the app's database decides (make_app)."""
    global _writers
    _writers = WRITERS.get(dialect, WRITERS["sqlite"])


async def off(fn: Callable[P, T], *args: P.args, **kwargs: P.kwargs) -> T:
    """`fn` in a worker thread (Starlette's pool), the loop free meanwhile, at most READERS at once. Measured at
    1,500 towns a minute, anyio's default of 40 threads queued on 10 pooled connections and on the GIL: each request
    cost 19 ms of CPU instead of 8 (lock hand-offs, not work) and p95 was 15 s; with two threads, 117 ms. Requests
    beyond that wait on the loop, where waiting costs nothing."""
    limiter = to_thread.current_default_thread_limiter()  # (one per event loop)
    if limiter.total_tokens != READERS:
        limiter.total_tokens = READERS
    return await run_in_threadpool(fn, *args, **kwargs)


_WRITES: RunVar[CapacityLimiter] = RunVar("fuquan_writes")


async def off_write(fn: Callable[P, T], *args: P.args, **kwargs: P.kwargs) -> T:
    """Like `off`, for a form's write, in threads of its own: a write waiting for the database's write lock (up to
    WEB_WAIT seconds while an import or the reminder run holds it) must not hold up the pages."""
    try:
        limiter = _WRITES.get()
    except LookupError:
        limiter = CapacityLimiter(_writers)
        _WRITES.set(limiter)
    return await to_thread.run_sync(partial(fn, *args, **kwargs), limiter=limiter)


def door_of(request: Request) -> Door:
    door: Door = request.app.state.door
    return door


def actor(v: Visitor, *, replace: bool = True) -> Actor:
    return Actor(v.by, f"web {v.address}", replace, "如需更正已登记的内容, 请联系工作专班")


async def unit(request: Request, v: Visitor) -> Response:
    secret = door_of(request).secret

    def render() -> Response:
        today = v.ctx.today()
        view = pages.unit_page(v.ctx, v.holder, today)
        return page("unit.html", **views.unit_values(view, today), csrf=csrf_token(v.claims, secret),
                    nonce=secrets.token_urlsafe(12))

    return await off(render)


async def office(request: Request, v: Visitor) -> Response:
    secret = door_of(request).secret

    def render() -> Response:
        today = v.ctx.today()
        view = pages.office_page(v.ctx, today)
        return page("office.html", **views.office_values(view, today), member=v.claims.member,
                    csrf=csrf_token(v.claims, secret))

    return await off(render)


async def office_board(request: Request, v: Visitor) -> Response:
    """The 专班's board (its desk: the queues are one click away); `?screen=1` the 大屏's, refreshing itself."""
    q = request.query_params
    filters = board.Filters(unit=q.get("unit", "").strip(), town=q.get("town", "").strip(),
                            task=forms.number(q["task"], "任务序号") if q.get("task", "").strip() else None)
    sp = v.ctx.plan
    if filters.unit and filters.unit not in sp.unit_ids or filters.town and filters.town not in sp.unit_ids:
        raise InvalidValue(f"本计划没有单位 “{filters.unit or filters.town}”")
    if filters.task is not None and filters.task not in sp.task_ids:
        raise InvalidValue(f"本计划没有任务 {filters.task}")
    screen = q.get("screen") == "1"

    def render() -> Response:
        b = board.board(v.ctx, v.ctx.today(), filters)
        return page("board.html", **views.board_values(b, sp, screen=screen, desk=v.office, here=request.url.path),
                    member=v.claims.member)

    return await off(render)


async def ack(request: Request, v: Visitor) -> Response:
    form = await forms.read(request, door_of(request), v)
    cmd = forms.acknowledge(form, v.holder)
    return done(await off_write(answers.acknowledge, v.ctx, cmd, actor=actor(v), now=v.ctx.now()), "/u")


async def feedback(request: Request, v: Visitor) -> Response:
    form = await forms.read(request, door_of(request), v)
    today = v.ctx.today()
    cmd = forms.feedback(form, v.holder, await forms.uploads(form), today)
    return done(await off_write(answers.give_feedback, v.ctx, cmd, actor=actor(v), today=today), "/u")


async def extension(request: Request, v: Visitor) -> Response:
    form = await forms.read(request, door_of(request), v)
    cmd = forms.extension(form, v.holder)
    # another unit's task is "not found" (usecases.answers.ask_extension would name the task's units, 400)
    if v.holder not in answers.answering(v.ctx.plan, cmd.task_no):
        raise NotYours("任务")
    return done(await off_write(answers.ask_extension, v.ctx, cmd, actor=actor(v), today=v.ctx.today()), "/u")


async def sheet(request: Request, v: Visitor) -> Response:
    form = await forms.read(request, door_of(request), v)
    upload = next(iter(form.files()), None)
    if upload is None:
        raise InvalidValue("请选择要上传的登记表 (Excel 或 CSV)")
    if v.ctx.plan.closed:  # (the import records row by row and does not check the plan year itself)
        raise PlanClosed(f"{v.ctx.plan.label} 计划{v.ctx.plan.closed}, 不再登记新的进展、反馈或延期")
    data = Upload(upload.filename or "", await upload.read(MAX_BYTES + 1))
    if len(data.data) > MAX_BYTES:
        raise InvalidValue("登记表超过 20 MB")
    # replace=False: an upload never silently changes what was recorded before (a 月报's 报送日期)
    return done(await off_write(evidence.import_sheet, v.ctx, v.holder, data, actor(v, replace=False), v.ctx.today()), "/u")


async def decide(request: Request, v: Visitor) -> Response:
    form = await forms.read(request, door_of(request), v)
    cmd = forms.decide(form, None if v.office else v.holder)
    return done(await off_write(answers.decide_extension, v.ctx, cmd, actor=actor(v), now=v.ctx.now()),
                "/office" if v.office else "/u")


async def review(request: Request, v: Visitor) -> Response:
    form = await forms.read(request, door_of(request), v)
    return done(await off_write(answers.review_feedback, v.ctx, forms.review(form), actor=actor(v), now=v.ctx.now()), "/office")


async def evidence_file(request: Request, v: Visitor) -> Response:
    number = forms.number(str(request.path_params["id"]), "佐证材料")
    row = await off(evidence.evidence_row, v.ctx, number, None if v.office else v.ctx.plan.unit_ids[v.holder])
    return FileResponse(evidence.evidence_path(v.ctx, row), media_type=KINDS[row.kind], filename=row.name,
                        content_disposition_type="attachment", headers=HEADERS)
