"""Personal links as runs over the context: made for a unit (or a 专班 member) from the plan's `link_days` and the
holder's link generation, rotated (every earlier link and session void), and checked at the web app's door."""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime

from fuquan.answers.links import LEADER, OFFICE, Claims, link_claims, sign
from fuquan.errors import InvalidValue
from fuquan.plans.policy import ZHUANBAN
from fuquan.tracking.actor import Actor
from models import answer_io as io
from models.db import reading, transaction
from models.stored import StoredPlan

from .context import Context

LEADERS = "领导"  # the holder name of leaders' links (read-only board); its generation rotates all of them
PEOPLE = {ZHUANBAN: OFFICE, LEADERS: LEADER}  # holders whose links belong to a named person, not a unit


def holder_name(sp: StoredPlan, claims: Claims) -> str:
    """The unit (or 专班) a link or session stands for; a unit retired from the plan has no page."""
    if claims.office:
        return ZHUANBAN
    if claims.leader:
        return LEADERS
    name = sp.names.get(claims.holder)
    if name is None or name not in sp.unit_ids:
        raise io.NotYours("单位")
    return name


def personal_link(ctx: Context, holder: str, now: datetime, member: str = "") -> str:
    """A unit's (or a 专班 member's) link, valid for the plan's `link_days`."""
    sp, s = ctx.plan, ctx.settings
    if not s.link_secret or not s.web_url:
        raise InvalidValue("未设置 FUQUAN_LINK_SECRET 或 FUQUAN_WEB_URL, 无法生成专属链接")
    hid = PEOPLE[holder] if holder in PEOPLE else sp.unit_id(holder)[1]
    with reading(ctx.engine) as session:
        gen = io.generation(session, sp.id, holder)
    token = sign(link_claims(sp.id, hid, gen, now, sp.plan.answers.link_days, member), s.link_secret.get_secret_value())
    return f"{s.web_url.rstrip('/')}/l/{token}"


def link_maker(ctx: Context, now: datetime) -> Callable[[str], str | None]:
    """recipient → its personal link for the messages of one run (None for the 专班, whose members each have
    their own, and when no web app is configured). Built lazily: a run with nothing to send reads nothing."""
    made: dict[str, str | None] = {}

    def link(recipient: str) -> str | None:
        if recipient not in made:
            ok = ctx.settings.link_secret is not None and recipient in ctx.plan.unit_ids
            made[recipient] = personal_link(ctx, recipient, now) if ok else None
        return made[recipient]

    return link


def rotate_link(ctx: Context, holder: str, now: datetime, actor: Actor) -> int:
    sp = ctx.plan
    if holder not in PEOPLE:
        holder = sp.unit_id(holder)[0]
    with transaction(ctx.engine, plan=ctx.plan.id) as session:
        gen = io.rotate(session, sp.id, holder, now)
        io.audit(session, sp, actor, entity="unit_link", ref=holder, field="链接版本", old=gen - 1, new=gen)
    return gen

