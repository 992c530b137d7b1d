"""Queueing a message once per key: the outbox's exactly-once for everything beyond the day's reminders (notices
to the 专班, the 签收 chase, overdue extension replies). A key already queued is never queued again, however often
the run goes; the message is written for the keys that are new."""

from __future__ import annotations

from collections.abc import Callable
from datetime import date, datetime
from typing import Any

from sqlmodel import Session

from fuquan.plans.policy import Destination
from fuquan.words.messages import Message
from models import outbox
from usecases.context import Context


def queue_once(session: Session, ctx: Context, *, day: date, now: datetime, to: str,
               reminders: dict[str, dict[str, Any]], message: Callable[[list[str]], Message],
               via: Destination | None = None) -> tuple[int, list[str]] | None:
    """One message to `to` for whichever keys of `reminders` (key → task_no, about, kind, stage, due) were never
    queued, through `via` or the plan's channel for `to` (the 专班 standing in for a unit without one): (its outbox id, the
    new keys), or None when every key was queued before."""
    sp = ctx.plan
    known = outbox.known_keys(session, sp.id, list(reminders))
    fresh = [k for k in reminders if k not in known]
    if not fresh:
        return None
    msg = message(fresh)
    wanted, forwarded = (via, False) if via is not None else sp.plan.channels.of(to)
    dest = ctx.router.destination(wanted)
    row = outbox.enqueue(session, sp.id, day, to, [{"key": k, "recipient": to, **reminders[k]} for k in fresh],
                         dest_kind=dest.kind, dest_target=dest.target,
                         forwarded_for=to if forwarded and dest.kind != "console" else None,
                         title=msg.title, body=msg.as_dict(), now=now)
    return row.id or 0, fresh
