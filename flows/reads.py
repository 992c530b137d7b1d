"""Who has read the 签收 chase's repeat, and what happens to whoever has not: DingTalk's "N 人未读", then its 短信
DING. The repeat to a unit reached by DingTalk cards goes as the robot's 1:1 message (notifications.dingtalk_oto),
the one kind of message DingTalk reports read per person.

Each daily run, before the chase, asks DingTalk who has read each repeat of the last `POLL_DAYS` days that
someone has not, and records it (card_reach.read_at). A contact who has still not opened it `ack_within` working
days after it was sent, while the unit has not acknowledged, gets one text message (the plan's `reminders: sms:`
and a mobile number in `contacts:`); one no text can reach is named to the 专班 instead, with their phone, to
call. Each once: the key is `unread|<the repeat's key>|<person>`. Nobody is texted on a stale answer: only a
repeat DingTalk answered for in this run counts (or one too old to ask about, on its last answer).
"""

from __future__ import annotations

from datetime import date, datetime, timedelta
from functools import partial

from fuquan.errors import Failure, NotificationError
from fuquan.plans.policy import READ_RECEIPTS, ZHUANBAN, Destination
from fuquan.words.messages import Message, Occasion, unread_notice, unread_text
from models import answer_io, reach
from models.db import reading, transaction
from models.outbox import MessageRow, ReminderRow, aware
from notifications.base import ReadStatus
from usecases.context import Context

from .queue import queue_once
from .sms_step import SMS, phones

POLL_DAYS = 7  # how far back DingTalk is asked (how long it keeps read status is unverified; Feishu's is 7 days)
UNREAD = "unread"  # the kind of the reminders this step queues


def poll_reads(ctx: Context, now: datetime) -> tuple[set[int], list[str]]:
    """Record who has read each recent repeat: (the messages DingTalk answered for, what went wrong, in Chinese)."""
    if ctx.settings.dingtalk is None:
        return set(), []
    since = now - timedelta(days=POLL_DAYS)
    with reading(ctx.engine) as session:
        recent = {m.id or 0: m.external_id for _, m in answer_io.unacknowledged(session, ctx.plan.id, READ_RECEIPTS)
                  if m.external_id and aware(m.created_at) >= since}
        due = {r.message_id for r in reach.not_read(session, ctx.plan.id, READ_RECEIPTS, recent)}
    if not due:
        return set(), []
    try:
        notifier = ctx.router.notifier(Destination(READ_RECEIPTS, ""))
    except NotificationError as e:  # (the app's variables went missing since the repeats were sent)
        return set(), [f"查询钉钉消息已读状态失败: {e}"]
    if not isinstance(notifier, ReadStatus):
        return set(), []
    answered: dict[int, dict[str, datetime | None]] = {}
    problems = []
    for mid in sorted(due):
        try:
            answered[mid] = notifier.reads(str(recent[mid]), now)
        except NotificationError as e:
            problems.append(f"查询钉钉消息已读状态失败: {e}")
            if e.category == Failure.AUTH:
                break
    if answered:
        with transaction(ctx.engine, plan=ctx.plan.id, lanes=()) as session:
            reach.mark_reads(session, ctx.plan.id, READ_RECEIPTS, answered, now)
    return set(answered), problems[:3]


def unread_step(ctx: Context, today: date, now: datetime, occasion: Occasion, polled: set[int]) -> list[int]:
    """Queue the texts (and the 专班's notice) for contacts who have not opened a repeat; the messages to deliver."""
    sp, cal = ctx.plan, ctx.plan.plan.work_calendar()
    since = now - timedelta(days=POLL_DAYS)
    with reading(ctx.engine) as session:
        open_: dict[int, tuple[MessageRow, list[ReminderRow]]] = {}
        for r, m in answer_io.unacknowledged(session, sp.id, READ_RECEIPTS):
            if cal.between(m.day, today) >= sp.plan.answers.ack_within and (
                    (m.id or 0) in polled or aware(m.created_at) < since):
                open_.setdefault(m.id or 0, (m, []))[1].append(r)
        rows = reach.not_read(session, sp.id, READ_RECEIPTS, open_, checked=True)
    texts: dict[tuple[str, str], dict[str, tuple[int, date, int]]] = {}  # (unit, person) → key → facts
    calls: dict[str, tuple[str, str, str, int, date, int]] = {}
    for row in rows:
        m, reminders = open_[row.message_id]
        person = next((p for p in sp.plan.people_of(m.recipient, READ_RECEIPTS)
                       if p.on(READ_RECEIPTS) == row.person_id), None)
        if person is None:  # no longer one of the unit's contacts
            continue
        texted = sp.plan.policy.sms is not None and bool(phones(ctx, m.recipient, person.name))
        for r in reminders:
            key, facts = f"{UNREAD}|{r.key}|{row.person_id}", (r.task_no, m.day, cal.between(m.day, today))
            if texted:
                texts.setdefault((m.recipient, person.name), {})[key] = facts
            else:
                calls[f"{key}|{ZHUANBAN}"] = (m.recipient, person.name, person.phone, *facts)
    ids = []
    with transaction(ctx.engine, plan=sp.id) as session:
        for (unit, name), items in texts.items():
            queued = queue_once(session, ctx, day=today, now=now, to=unit, via=Destination(SMS, name),
                                reminders={k: {"task_no": f[0], "about": unit, "kind": UNREAD, "stage": "0",
                                               "due": None} for k, f in items.items()},
                                message=partial(_text, occasion, name, unit, items))
            ids += [queued[0]] if queued else []
        if calls and (queued := queue_once(
                session, ctx, day=today, now=now, to=ZHUANBAN,
                reminders={k: {"task_no": c[3], "about": c[0], "kind": UNREAD, "stage": "0", "due": None}
                           for k, c in calls.items()},
                message=partial(_notice, occasion, calls))):
            ids.append(queued[0])
    return ids


def _text(o: Occasion, name: str, unit: str, items: dict[str, tuple[int, date, int]], fresh: list[str]) -> Message:
    return unread_text(name, unit, [items[k] for k in fresh], o)


def _notice(o: Occasion, calls: dict[str, tuple[str, str, str, int, date, int]], fresh: list[str]) -> Message:
    return unread_notice([calls[k] for k in fresh], o)

