"""What the web app's door and Slack's buttons read before a use case runs: the plan a link or session names
(cached, re-read only when a sync changed it or it was closed or reopened), the reminder message a button
names, and the one-time use of a Slack request or envelope. The doors themselves import no `models`."""

from __future__ import annotations

import threading
from dataclasses import dataclass, replace
from datetime import datetime

from sqlalchemy import bindparam
from sqlalchemy import select as sa_select
from sqlmodel import Session, col, select

from fuquan.answers.links import Claims
from fuquan.errors import BadLink, NotYours
from models import answer_io as io
from models.db import reading, transaction
from models.outbox import MessageRow
from models.stored import StoredPlan, read_plan
from models.tables import PlanRow

from . import unit_links
from .context import Context

_VERSION = sa_select(col(PlanRow.content_hash), col(PlanRow.closed_at), col(PlanRow.closed_by)).where(
    col(PlanRow.id) == bindparam("id"))


class PlanCache:
    """Stored plans by id for one process. The version read with each plan is its content hash and its closing:
    a synced plan and a plan closed (or reopened) since are read again, so a closed plan's pages say so at once."""

    def __init__(self, base: Context) -> None:
        self.base = base
        self._plans: dict[int, tuple[tuple[str, datetime | None, str | None], StoredPlan]] = {}
        self._lock = threading.Lock()

    def context(self, plan_id: int) -> Context:
        """The base context with plan `plan_id` chosen; BadLink when no such plan exists."""
        with reading(self.base.engine) as session:
            return self._context(session, plan_id)

    def visit(self, claims: Claims) -> tuple[Context, str]:
        """The context and holder of a link or session, checked not revoked. One statement when the plan is cached
        and unchanged (every request of the web app comes through here: on PostgreSQL each session and statement
        is a round trip); a changed plan is read again in a transaction of its own."""
        with self._lock:
            cached = self._plans.get(claims.plan)
        holder = _holder(cached[1], claims) if cached is not None else None
        with reading(self.base.engine, glance=True) as session:
            found = io.version_and_generation(session, claims.plan, holder or "")
        if found is None:
            raise BadLink("计划不存在")
        version, generation = found
        if cached is not None and cached[0] == version and holder is not None:
            ctx = replace(self.base, stored=cached[1])
        else:
            with reading(self.base.engine) as session:
                ctx = self._context(session, claims.plan)
                holder = unit_links.holder_name(ctx.plan, claims)
                generation = io.generation(session, ctx.plan.id, holder)
        if generation != claims.generation:
            raise BadLink("链接已失效 (已重新生成), 请使用最新收到的链接")
        return ctx, holder

    def _context(self, session: Session, plan_id: int) -> Context:
        # (three columns, not the row: its settings and plan text are read only when the plan changed)
        found = session.connection().execute(_VERSION, {"id": plan_id}).first()
        if found is None:
            raise BadLink("计划不存在")
        version = (found[0], found[1], found[2])
        with self._lock:
            cached = self._plans.get(plan_id)
        if cached is None or cached[0] != version:
            row = session.exec(select(PlanRow).where(PlanRow.id == plan_id)).one()
            cached = ((row.content_hash, row.closed_at, row.closed_by), read_plan(session, row))
            with self._lock:
                self._plans[plan_id] = cached
        return replace(self.base, stored=cached[1])


def _holder(sp: StoredPlan, claims: Claims) -> str | None:
    """The holder as the cached plan names it; None when it does not (the plan may have been synced since)."""
    try:
        return unit_links.holder_name(sp, claims)
    except NotYours:
        return None


@dataclass(frozen=True)
class ButtonMessage:
    """A reminder message as a Slack button names it: who it was for and the plan it belongs to."""

    id: int
    key: str
    plan_id: int
    recipient: str


def button_message(ctx: Context, key: str, channel: str | None = None) -> ButtonMessage | None:
    """The message a button's value (its outbox key) names, when it was posted to Slack for a unit itself (not
    forwarded to the 专班) and, given `channel`, posted there; else None."""
    with reading(ctx.engine) as session:
        msg = session.exec(select(MessageRow).where(MessageRow.key == key)).first()
    if msg is None or msg.dest_kind != "slack" or msg.forwarded_for or channel not in (None, msg.dest_target):
        return None
    return ButtonMessage(msg.id or 0, msg.key, msg.plan_id, msg.recipient)


def first_use(ctx: Context, nonce: str) -> bool:
    """Record a one-time token (a Slack request's digest, an envelope id): False when it was seen before."""
    with transaction(ctx.engine) as session:
        return io.first_use(session, nonce[:200])
