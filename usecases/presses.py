"""A button pressed on a reminder that reached a person in DingTalk or WeCom: the one use case both platforms'
doors call (the DingTalk Stream connection, the WeCom callback), as Slack's buttons call `answers.acknowledge`.

A press names only our id of the message (DingTalk's outTrackId, WeCom's task_id), the person's platform id and
the button. It counts only when that message reached that very person (`card_reach`) and the person is, in the plan
as it stands now, a contact of the message's unit: a forged id, a card forwarded to someone else, or a contact
removed since records nothing. Each platform delivery is handled once (its message id or its event's
sender+time+task), so a redelivered frame records nothing twice. 签收 records the message's reminders as
acknowledged, by the person (the audit names them); 反馈进展 and 申请延期 need a form with files and dates, so the
card's buttons open the unit's page — the press itself is noted (the person has seen the card), nothing else.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from enum import StrEnum

from fuquan.errors import FuquanError
from fuquan.plans.policy import LABELS
from fuquan.tracking.actor import Actor
from models import reach
from models.db import reading, transaction
from models.outbox import MessageRow

from . import answers, links_door
from .commands import Acknowledge
from .context import Context


class Button(StrEnum):
    ACK = "ack"
    FEEDBACK = "feedback"
    EXTENSION = "extension"


class Outcome(StrEnum):
    RECORDED = "recorded"  # 签收 recorded now
    ALREADY = "already"  # the message was acknowledged before (by this person or another)
    OPENED = "opened"  # 反馈进展 / 申请延期: noted; the unit's page does the rest
    REPLAYED = "replayed"  # this delivery was handled before
    REFUSED = "refused"  # not a message this person may answer: nothing recorded


@dataclass(frozen=True, kw_only=True)
class PressButton:
    platform: str  # dingtalk | wecom
    track: str  # our id of the message on the platform
    person_id: str  # the presser's DingTalk userId / WeCom UserID
    button: str  # ack | feedback | extension (anything else is refused)
    delivery: str  # the platform's id of this delivery, for handling it once


@dataclass(frozen=True)
class Pressed:
    outcome: Outcome
    unit: str = ""
    person: str = ""  # the presser's name, from the plan
    text: str = ""  # what the card may say now (签收 → 已签收)


def press(base: Context, cmd: PressButton, *, now: datetime, plans: links_door.PlanCache | None = None) -> Pressed:
    """Record a press (see the module's doc). Never raises for a bad press: the door answers the platform either
    way, and a refusal is only logged. `plans`: the door's plan cache (a new one reads the plan afresh)."""
    if cmd.button not in {b.value for b in Button} or not cmd.track or not cmd.person_id:
        return Pressed(Outcome.REFUSED)
    if not links_door.first_use(base, f"{cmd.platform}-press:{cmd.delivery}"[:200]):
        return Pressed(Outcome.REPLAYED)
    with reading(base.engine) as session:
        mine = reach.reached(session, cmd.platform, cmd.track, cmd.person_id)
        msg = session.get(MessageRow, mine.message_id) if mine else None
    if msg is None:
        return Pressed(Outcome.REFUSED)
    ctx = (plans or links_door.PlanCache(base)).context(msg.plan_id)
    person = next((p for p in ctx.plan.plan.people_of(msg.recipient, cmd.platform) if p.on(cmd.platform) == cmd.person_id),
                  None)
    if person is None:  # no longer (or never) one of the unit's contacts
        return Pressed(Outcome.REFUSED, msg.recipient)
    actor = Actor(f"{msg.recipient} ({person.name})", f"{LABELS[cmd.platform]} {cmd.person_id}")
    with transaction(base.engine, plan=msg.plan_id, lanes=[ctx.plan.reminders_lane(msg.recipient)]) as session:
        if row := reach.reached(session, cmd.platform, cmd.track, cmd.person_id):  # (read again, in the lock)
            reach.answered(session, row, cmd.button, now)
    if cmd.button != Button.ACK:
        return Pressed(Outcome.OPENED, msg.recipient, person.name)
    try:
        n = answers.acknowledged(ctx, Acknowledge(unit=msg.recipient, message_id=msg.id or 0), actor=actor, now=now)
    except FuquanError as e:  # the plan year closed since, say
        return Pressed(Outcome.REFUSED, msg.recipient, person.name, str(e))
    return Pressed(Outcome.RECORDED if n else Outcome.ALREADY, msg.recipient, person.name, "已签收")
