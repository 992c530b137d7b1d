"""Reminders nobody acknowledged (签收): after the plan's `ack_within` working days, each is sent to its unit once
more and escalated to the task's lead unit and the 专班 — DingTalk's "N 人未确认" and its re-DING, once. A unit
reached by DingTalk cards gets its repeat as the robot's 1:1 message, whose readers DingTalk reports (flows.reads).

Runs at the end of the daily reminder run, through the same outbox: the repeat's key is `again|<key>` and each
escalation's `unacked|<key>|<to>`, so however often the run goes, each happens once. Only where units have a way
to acknowledge (personal links, Slack buttons, DingTalk or WeCom cards): without one, nobody could, and chasing would be noise.
"""

from __future__ import annotations

from datetime import date, datetime
from functools import partial

from fuquan.answers.rules import ASKED
from fuquan.plans.policy import PERSON_KINDS, READ_RECEIPTS, ZHUANBAN, Destination
from fuquan.words.messages import Message, Occasion, replies_due, unacknowledged
from models import answer_io
from models.db import reading, transaction
from usecases.context import Context

from .queue import queue_once

Facts = tuple[int, str, date, int]  # task, the unit that has not acknowledged, day sent, working days since


def chase(ctx: Context, today: date, now: datetime, occasion: Occasion) -> tuple[int, list[int]]:
    """Queue the repeats and escalations due today: (how many reminders were sent again, the messages to deliver)."""
    sp, s = ctx.plan, ctx.settings
    cards = s.dingtalk is not None or (s.wecom is not None and s.wecom.token is not None)  # 签收 from a card
    if s.link_secret is None and s.slack_app_token is None and s.slack_signing_secret is None and not cards:
        return 0, []
    policy, cal = sp.plan.answers, sp.plan.work_calendar()
    with reading(ctx.engine) as session:
        late = [(r, m) for r, m in answer_io.unacknowledged(session, sp.id)
                if r.kind != "again" and cal.between(m.day, today) >= policy.ack_within]
    kinds = {u.name: u.kind for u in sp.plan.units}
    # what each recipient gets: the unit its repeat, each lead and the 专班 the units that have not acknowledged
    mail: dict[tuple[str, str], dict[str, Facts]] = {}
    for r, m in late:
        facts = (r.task_no, r.recipient, m.day, cal.between(m.day, today))
        mail.setdefault((r.recipient, "again"), {})[f"again|{r.key}"] = facts
        lead = sp.plan.lead(sp.plan.task(r.task_no)) if r.task_no in sp.task_ids else None
        for to in {lead, ZHUANBAN} - {None, r.recipient}:
            mail.setdefault((str(to), "unacked"), {})[f"unacked|{r.key}|{to}"] = facts
    ids, again = [], 0
    with transaction(ctx.engine, plan=ctx.plan.id) as session:
        for (to, kind), items in mail.items():
            queued = queue_once(session, ctx, day=today, now=now, to=to, via=_read_receipts(ctx, to, kind),
                                reminders={k: {"task_no": f[0], "about": f[1], "kind": kind, "stage": "0", "due": None}
                                           for k, f in items.items()},
                                message=partial(_unacked, occasion, to, items, None if kind == "again" else kinds))
            if queued:
                ids.append(queued[0])
                again += len(queued[1]) if kind == "again" else 0
    return again, ids


def _read_receipts(ctx: Context, to: str, kind: str) -> Destination | None:
    """The repeat to a unit reached by DingTalk cards goes as the robot's 1:1 message, whose read status DingTalk
    reports per person (flows.reads); every other message goes the unit's own way."""
    wanted, forwarded = ctx.plan.plan.channels.of(to)
    if kind == "again" and not forwarded and wanted is not None and wanted.kind == PERSON_KINDS["dingtalk"]:
        return Destination(READ_RECEIPTS, to)
    return None


def chase_replies(ctx: Context, today: date, now: datetime, occasion: Occasion) -> list[int]:
    """Extension requests still undecided after their reply deadline (`reply_within` working days): the 专班 —
    and the task's lead unit where leads decide — are told once each. Returns the messages to deliver."""
    sp = ctx.plan
    with reading(ctx.engine) as session:
        late = [e for e in answer_io.extensions_of(session, sp.id, states=[ASKED]) if e.reply_by < today]
    task_no = {tid: no for no, tid in sp.task_ids.items()}
    mail: dict[str, dict[str, tuple[int, str, date, date]]] = {}
    for e in late:
        if (no := task_no.get(e.task_id)) is None:
            continue
        lead = sp.plan.lead(sp.plan.task(no)) if sp.plan.answers.extensions_by == "牵头单位" else None
        for to in {ZHUANBAN, lead} - {None}:
            mail.setdefault(str(to), {})[f"reply|{e.id}|{to}"] = (no, sp.names[e.unit_id], e.new_due, e.reply_by)
    ids = []
    with transaction(ctx.engine, plan=ctx.plan.id) as session:
        for to, items in mail.items():
            queued = queue_once(session, ctx, day=today, now=now, to=to,
                                reminders={k: {"task_no": i[0], "about": i[1], "kind": "reply", "stage": "0", "due": i[3]}
                                           for k, i in items.items()},
                                message=partial(_replies, occasion, to, items))
            if queued:
                ids.append(queued[0])
    return ids


def _unacked(occasion: Occasion, to: str, items: dict[str, Facts], kinds: dict[str, str] | None,
             fresh: list[str]) -> Message:
    return unacknowledged(to, [items[k] for k in fresh], occasion, kinds)


def _replies(occasion: Occasion, to: str, items: dict[str, tuple[int, str, date, date]], fresh: list[str]) -> Message:
    return replies_due(to, [items[k] for k in fresh], occasion)
