"""Reminders nobody acknowledged (签收): after the plan's `ack_within` working days, each is sent to its unit once
more and escalated to the task's lead unit and the 专班 — DingTalk's "N 人未确认" and its re-DING, once.

Runs at the end of the daily reminder run, through the same outbox: the repeat's key is `again|<key>` and each
escalation's `unacked|<key>|<to>`, so however often the run goes, each happens once. Only where units have a way
to acknowledge (personal links, or Slack buttons): without one, nobody could, and chasing would be noise.
"""

from __future__ import annotations

from datetime import date, datetime, timedelta

from fuquan.answers import ASKED
from fuquan.messages import Message, Occasion, replies_due, unacknowledged
from fuquan.policy import ZHUANBAN
from models import answer_io, outbox
from models.db import reading, transaction

from .context import Context


def chase(ctx: Context, report: object, today: date, now: datetime, occasion: Occasion,
          deliver: object, lease: timedelta) -> int:
    """Queue and send the repeats and escalations due today; returns how many reminders were chased."""
    sp, s = ctx.plan, ctx.settings
    if s.link_secret is None and s.slack_app_token is None and s.slack_signing_secret is None:
        return 0
    policy, cal = sp.plan.answers, sp.plan.work_calendar()
    with reading(ctx.engine) as session:
        late = [(r, m) for r, m in answer_io.unacknowledged(session, sp.id)
                if not r.key.startswith("again|") and cal.between(m.day, today) >= policy.ack_within]
        if not late:
            return 0
        seen = outbox.known_keys(session, sp.id, [f"again|{r.key}" for r, _ in late])
    late = [(r, m) for r, m in late if f"again|{r.key}" not in seen]
    kinds = {u.name: u.kind for u in sp.plan.units}
    # what each recipient gets: the unit its repeat, each lead and the 专班 the units that have not acknowledged
    mail: dict[tuple[str, str], list[tuple[str, int, str, date, int]]] = {}
    for r, m in late:
        item = (r.key, r.task_no, r.recipient, m.day, cal.between(m.day, today))
        mail.setdefault((r.recipient, "again"), []).append(item)
        lead = sp.plan.lead(sp.plan.task(r.task_no)) if r.task_no in sp.task_ids else None
        for to in {lead, ZHUANBAN} - {None, r.recipient}:
            mail.setdefault((to, "unacked"), []).append(item)  # type: ignore[arg-type]
    ids = []
    with transaction(ctx.engine) as session:
        for (to, kind), items in mail.items():
            again = kind == "again"  # a unit's own repeat; else an escalation about others
            keys = [f"again|{i[0]}" if again else f"unacked|{i[0]}|{to}" for i in items]
            known = outbox.known_keys(session, sp.id, keys)
            pairs = [(k, i) for k, i in zip(keys, items, strict=True) if k not in known]
            if not pairs:
                continue
            msg: Message = unacknowledged(to, [(no, unit, day, n) for _, (_, no, unit, day, n) in pairs], occasion,
                                          None if again else kinds)
            wanted, forwarded = sp.plan.channels.of(to)
            dest = ctx.router.destination(wanted)
            row = outbox.enqueue(session, sp.id, today, to,
                                 [{"key": k, "task_no": i[1], "about": i[2], "recipient": to, "kind": kind,
                                   "stage": "0", "due": None} for k, i in pairs],
                                 dest_kind=dest.kind, dest_target=dest.target,
                                 forwarded_for=to if forwarded and dest.kind != "console" else None,
                                 title=msg.title, body=msg.as_dict(), now=now)
            ids.append(row.id or 0)
    if ids:
        deliver(ctx, sp.id, report, now, lease, only=ids)  # type: ignore[operator]
    return len(late)


def chase_replies(ctx: Context, report: object, today: date, now: datetime, occasion: Occasion,
                  deliver: object, lease: timedelta) -> int:
    """Extension requests still undecided after their reply deadline (`reply_within` working days): the 专班 —
    and the task's lead unit where leads decide — are told once each."""
    sp = ctx.plan
    with reading(ctx.engine) as session:
        late = [e for e in answer_io.extensions_of(session, sp.id, states=[ASKED]) if e.reply_by < today]
    task_no = {tid: no for no, tid in sp.task_ids.items()}
    mail: dict[str, list[tuple[str, tuple[int, str, date, date]]]] = {}
    for e in late:
        no = task_no.get(e.task_id)
        if no is None:
            continue
        lead = sp.plan.lead(sp.plan.task(no)) if sp.plan.answers.extensions_by == "牵头单位" else None
        for to in {ZHUANBAN, lead} - {None}:
            mail.setdefault(str(to), []).append((f"reply|{e.id}|{to}", (no, sp.names[e.unit_id], e.new_due, e.reply_by)))
    ids = []
    with transaction(ctx.engine) as session:
        for to, items in mail.items():
            known = outbox.known_keys(session, sp.id, [k for k, _ in items])
            fresh = [(k, i) for k, i in items if k not in known]
            if not fresh:
                continue
            msg = replies_due(to, [i for _, i in fresh], occasion)
            wanted, forwarded = sp.plan.channels.of(to)
            dest = ctx.router.destination(wanted)
            row = outbox.enqueue(session, sp.id, today, to,
                                 [{"key": k, "task_no": i[0], "about": i[1], "recipient": to, "kind": "reply",
                                   "stage": "0", "due": i[3]} for k, i in fresh],
                                 dest_kind=dest.kind, dest_target=dest.target,
                                 forwarded_for=to if forwarded and dest.kind != "console" else None,
                                 title=msg.title, body=msg.as_dict(), now=now)
            ids.append(row.id or 0)
    if ids:
        deliver(ctx, sp.id, report, now, lease, only=ids)  # type: ignore[operator]
    return len(late)
