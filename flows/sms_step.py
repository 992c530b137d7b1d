"""The last step reaches a phone: a share escalated (`escalate_after` working days late, or the plan's
`reminders: sms: after:` if later) gets its unit's contacts a text message, through the county's SMS gateway
(notifications/sms.py, FUQUAN_SMS_URL). Only where the plan asks for it (`reminders: sms:`), only to the mobile
numbers in the unit's `contacts:`, one message per unit and day, each share once per escalation stage (every
`overdue_every` working days, as the escalation itself), never longer than the plan's `max_chars`, and never with
a link (an SMS is no place for a personal link: it says where to look instead).

Runs at the end of the daily reminder run, through the same outbox as everything else: the key is
`sms|<the escalation's key>`, so however often the run goes, each is sent once.
"""

from __future__ import annotations

from datetime import date, datetime
from functools import partial

from fuquan.plans.policy import ZHUANBAN, Destination
from fuquan.tracking.reminders import Reminder
from fuquan.words.messages import Message, overdue_text
from models.db import transaction
from notifications.sms import mobile
from usecases.context import Context

from .queue import queue_once

SMS = "sms"


def phones(ctx: Context, unit: str, person: str | None = None) -> list[str]:
    """The unit's contacts' mobile numbers (or the one named `person`'s), normalised, each once."""
    return list(dict.fromkeys(m for p in ctx.plan.plan.people_of(unit) if person in (None, p.name)
                              and (m := mobile(p.phone))))


def sms_step(ctx: Context, reminders: list[Reminder], today: date, now: datetime) -> list[int]:
    """Queue today's text messages; returns the messages to deliver."""
    plan = ctx.plan.plan
    policy = plan.policy.sms
    if policy is None:
        return []
    late: dict[str, dict[str, Reminder]] = {}
    for r in reminders:  # (an escalation goes to the 专班 always: one per late share and stage)
        if r.kind == "escalation" and r.recipient == ZHUANBAN and r.judgement.workdays_late >= (policy.after or 0):
            if phones(ctx, r.about):
                late.setdefault(r.about, {})[f"sms|{r.key}"] = r
    ids = []
    with transaction(ctx.engine, plan=ctx.plan.id) as session:
        for unit, items in late.items():
            queued = queue_once(session, ctx, day=today, now=now, to=unit, via=Destination(SMS, unit),
                                reminders={k: {"task_no": r.task_no, "about": unit, "kind": SMS, "stage": r.stage,
                                               "due": r.judgement.due} for k, r in items.items()},
                                message=partial(_message, unit, items, plan.words.programme))
            if queued:
                ids.append(queued[0])
    return ids


def _message(unit: str, items: dict[str, Reminder], programme: str, fresh: list[str]) -> Message:
    return overdue_text(unit, [items[k] for k in fresh], programme)
