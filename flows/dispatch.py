"""The reminder run: status → reminders due → outbox → send → mark. Plain Python (no Prefect), so
`fuquan remind` starts fast; the deadline-check flow calls the same function.

Order matters for exactly-once: (1) record what is due in one short transaction, (2) claim in
another, (3) send with no transaction open, (4) record each outcome in its own short transaction.
A crash anywhere leaves messages pending, unknown or claimed — all picked up, and reconciled where
the channel allows, by the next run.
"""

from __future__ import annotations

import os
import socket
import threading
import time
import uuid
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta
from zoneinfo import ZoneInfo

from sqlalchemy.engine import Engine
from sqlalchemy.exc import IntegrityError
from sqlmodel import Session

from fuquan.dates.workdays import WorkCalendar
from fuquan.errors import Failure, NotificationError
from fuquan.plans.plan import Plan
from fuquan.plans.policy import PERSON_CHANNELS, ZHUANBAN, Channels, Destination
from fuquan.tracking.judge import RED, YELLOW
from fuquan.tracking.ledger import Row
from fuquan.tracking.reminders import Reminder, by_recipient, due_reminders
from fuquan.tracking.states import Colour, SendResult
from fuquan.words.messages import Message, Occasion, compose, notice, year_over
from models import outbox, reach
from models.db import make_way, reading, transaction
from models.ledger_io import load_ledger
from models.outbox import MessageRow
from notifications.base import Outgoing, redact
from notifications.router import Router
from usecases.context import Context
from usecases.unit_links import link_maker

from .chase import chase, chase_replies
from .queue import queue_once
from .reads import poll_reads, unread_step
from .sms_step import phones, sms_step


@dataclass
class Planned:
    recipient: str
    dest: Destination
    forwarded_for: str | None
    message: Message
    reminders: list[Reminder]

    @property
    def destination(self) -> str:
        return _label(self.dest)


@dataclass
class Outcome:
    recipient: str
    destination: str
    result: SendResult
    code: str | None = None
    detail: str | None = None
    stop: str | None = None  # set when this failure must stop the whole run (a token problem)


@dataclass
class RunReport:
    day: date
    run: str
    due: int = 0
    planned: list[Planned] = field(default_factory=list)
    outcomes: list[Outcome] = field(default_factory=list)
    skipped: str | None = None
    stopped: str | None = None
    warnings: list[str] = field(default_factory=list)
    chased: int = 0  # unacknowledged reminders sent again and escalated (flows/chase.py)


def new_run_id() -> str:
    return f"{socket.gethostname()}:{os.getpid()}:{uuid.uuid4().hex[:8]}"


def _is_dead(run: str) -> bool:
    """A claim left by a process on this host that no longer exists (killed mid-send)."""
    host, _, rest = run.partition(":")
    pid = rest.partition(":")[0]
    if host != socket.gethostname() or not pid.isdigit():
        return False
    try:
        os.kill(int(pid), 0)
    except ProcessLookupError:
        return True
    except PermissionError:
        return False
    return False


def run_reminders(ctx: Context, *, today: date, now: datetime, dry_run: bool = False, force: bool = False,
                  run: str | None = None, lease: timedelta = timedelta(minutes=10), workers: int = 16) -> RunReport:
    """The reminder run for the context's plan, as of `today` (the working-day check) and `now` (quiet hours)."""
    report = RunReport(today, run or new_run_id())
    engine, sp, router = ctx.engine, ctx.plan, ctx.router
    plan, plan_id = sp.plan, sp.id
    policy, channels = plan.policy, plan.channels
    with reading(engine) as session:
        ledger, cal = load_ledger(session, sp), plan.work_calendar()
        rows, leads = ledger.rows(today, cal), ledger.leads
    if sp.closed:
        report.skipped = f"{sp.label} 计划{sp.closed}, 不再发送提醒 (恢复: fuquan plan reopen)"
    elif not force and not cal.is_workday(today):
        report.skipped = f"{today} 不是工作日, 不发送提醒 (加 --force 可强制发送)"
    elif not force and not dry_run and policy.quiet(now.astimezone(ZoneInfo(plan.timezone)).time()):
        report.skipped = f"当前为免打扰时段 (发送时间 {policy.send_at}–{policy.quiet_after}), 不发送提醒 (加 --force 可强制发送)"
    reminders = due_reminders(rows, policy, today, cal, plan.issued, leads)
    report.due, report.warnings = len(reminders), ledger.warnings(cal)
    if report.skipped:
        return report
    groups = by_recipient(reminders)
    occasion = _occasion(sp.plan, today, cal, rows, leads)
    if dry_run:
        with reading(engine) as session:
            seen = outbox.known_keys(session, plan_id, (r.key for r in reminders))
        report.planned = _plan(groups, seen, channels, router, occasion)
        return report
    recipients = list(groups)
    report.planned = []
    # a few dozen recipients a transaction: measured under the mixed load, 1,504 messages queued in one transaction
    # held the write lock 10 s, and units' answers waited behind it. On PostgreSQL a chunk takes its recipients'
    # reminder lanes (what their 签收 takes), not the whole plan: 75 chunks of 0.2 s each held every unit's 反馈 up
    # (mixed-load p95 0.4–0.6 s); another run queuing the same recipients waits for them, and its keys are then known.
    for i in range(0, len(recipients), ENQUEUE_CHUNK):
        chunk = {who: groups[who] for who in recipients[i:i + ENQUEUE_CHUNK]}
        for attempt in range(2):  # a concurrent run on PostgreSQL may win the unique key race once
            try:
                with transaction(engine, plan=plan_id, lanes=[sp.reminders_lane(who) for who in chunk]) as session:
                    seen = outbox.known_keys(session, plan_id, (r.key for rs in chunk.values() for r in rs))
                    planned = _plan(chunk, seen, channels, router, occasion)
                    for p in planned:
                        _enqueue(session, plan_id, today, now, p)
                report.planned += planned
                make_way(engine)
                break
            except IntegrityError:
                if attempt:
                    raise
    deliver(ctx, plan_id, report, now, lease, workers=workers)
    failures = [(o.recipient, o.destination, f"{o.code}: {o.detail}" if o.detail else o.code or "") for o in report.outcomes
                if o.result == SendResult.FAILED and o.recipient != ZHUANBAN]
    if failures and not report.stopped:
        _tell_zhuanban(ctx, failures, report, now, lease)
    if not report.stopped:
        _tell_unknown(ctx, report, now, lease)
    if not report.stopped:
        polled, problems = poll_reads(ctx, now)  # (before the chase: it texts whoever has not read)
        report.warnings += problems
        report.chased, chased = chase(ctx, today, now, occasion)
        if ids := chased + chase_replies(ctx, today, now, occasion) + unread_step(ctx, today, now, occasion, polled):
            deliver(ctx, plan_id, report, now, lease, only=ids)
    if not report.stopped and (texts := sms_step(ctx, reminders, today, now)):
        deliver(ctx, plan_id, report, now, lease, only=texts)
    if not report.stopped and today.year > plan.year:
        _tell_year_over(ctx, report, rows, now, lease)
    return report


def _tell_year_over(ctx: Context, report: RunReport, rows: list[Row], now: datetime, lease: timedelta) -> None:
    """The plan's year has ended with open work: the 专班 is told once (close it, or carry the work over)."""
    plan = ctx.plan.plan
    late = [r for r in rows if r.judgement.colour == Colour.RED]
    if late:
        send_to_zhuanban(ctx, report, now, kind="notice", keys=[f"year-over|{plan.year}"], lease=lease,
                         message=lambda _fresh: year_over(plan.district, plan.year, len(late),
                                                          len({r.unit for r in late}), programme=plan.words.programme))


def _occasion(plan: Plan, today: date, cal: WorkCalendar, rows: list[Row], leads: dict[int, str | None]) -> Occasion:
    """What the day's messages share; a lead unit's partners that are late or near, per task."""
    partners: dict[int, dict[str, str]] = {}
    for r in rows:
        if r.judgement.colour in (RED, YELLOW) and r.unit != leads.get(r.task_no):
            partners.setdefault(r.task_no, {})[r.unit] = r.unit_kind
    return Occasion(today, plan.district, plan.words, cal, dict(plan.contacts), leads,
                    {no: tuple(units.items()) for no, units in partners.items()},
                    {t.no: t.title for t in plan.tasks})


def _plan(groups: dict[str, list[Reminder]], seen: set[str], channels: Channels, router: Router,
          occasion: Occasion) -> list[Planned]:
    out = []
    for recipient, items in groups.items():
        fresh = [r for r in items if r.key not in seen]
        if not fresh:
            continue
        wanted, forwarded = channels.of(recipient)
        dest = router.destination(wanted)
        forwarded_for = recipient if forwarded and dest.kind != "console" else None
        out.append(Planned(recipient, dest, forwarded_for, compose(recipient, fresh, occasion, forwarded_for), fresh))
    return out


def _enqueue(session: Session, plan_id: int, today: date, now: datetime, p: Planned) -> None:
    dest = p.dest
    outbox.enqueue(session, plan_id, today, p.recipient,
                   [{"key": r.key, "task_no": r.task_no, "about": r.about, "recipient": r.recipient, "kind": r.kind,
                     "stage": r.stage, "due": r.judgement.due} for r in p.reminders],
                   dest_kind=dest.kind, dest_target=dest.target, forwarded_for=p.forwarded_for,
                   title=p.message.title, body=p.message.as_dict(), now=now)


ENQUEUE_CHUNK = 20  # recipients whose messages are queued in one transaction

# Slack takes about one message per second per channel; the robots about twenty a minute.
PACE = {"slack": 1.0, "dingtalk": 3.0, "wecom": 3.0, "console": 0.0, "dingtalk-app": 0.5, "wecom-app": 0.5,
        "dingtalk-oto": 0.5}
Claimed = tuple[int, bool, Outgoing, str]


def deliver(ctx: Context, plan_id: int, report: RunReport, now: datetime, lease: timedelta,
            only: list[int] | None = None, *, workers: int = 16, pace: dict[str, float] = PACE) -> None:
    """Send every claimed message: destinations in parallel, each destination's messages in order and
    paced to its rate limit. A token problem stops all lanes; so does the run's time budget (a channel that
    is down must not hold the daily run for an hour). What was not tried is handed back, pending."""
    engine, router = ctx.engine, ctx.router
    deadline = time.monotonic() + ctx.settings.send_budget_seconds
    # how long a dead process's last post may still land at Slack: longer than the client timeout (10 s)
    settle = timedelta(seconds=ctx.settings.settle_seconds)
    with transaction(engine, plan=plan_id) as session:
        taken = outbox.claim(session, plan_id, report.run, now, lease=lease, is_dead=_is_dead, only=only, settle=settle)
    link = link_maker(ctx, now)  # (reads the database: never inside the write transaction above)
    claimed = [(m.id or 0, doubt, _outgoing(ctx, m, link(m.recipient)), m.recipient) for m, doubt in taken]
    lanes: dict[Destination, list[Claimed]] = {}
    for item in claimed:
        lanes.setdefault(item[2].destination, []).append(item)
    stop, lock, untried = threading.Event(), threading.Lock(), []
    try:
        router.preflight({d.kind for d in lanes})
    except NotificationError as e:
        report.stopped = redact(str(e), router.secrets())
        with transaction(engine, plan=plan_id) as session:
            outbox.release(session, [(c[0], c[1]) for c in claimed])
        return

    def lane(items: list[Claimed]) -> None:
        try:
            _lane(items)
        except BaseException:
            stop.set()  # a crash in one lane stops the others, as the death of the process would
            raise

    def _lane(items: list[Claimed]) -> None:
        last = 0.0
        for item in items:
            if stop.is_set() or time.monotonic() > deadline:
                with lock:
                    untried.append((item[0], item[1]))
                continue
            wait = last + pace.get(item[2].destination.kind, 1.0) - time.monotonic()
            if last and wait > 0:
                time.sleep(wait)
            outcome = _send_one(engine, plan_id, report.run, router, item, ctx.plan.plan, now)
            last = time.monotonic()  # from the answer: the channel saw the post no later than this
            with lock:
                report.outcomes.append(outcome)
                if outcome.stop:
                    report.stopped = report.stopped or outcome.stop
                    stop.set()

    if lanes:
        with ThreadPoolExecutor(max_workers=max(1, min(workers, len(lanes)))) as pool:
            list(pool.map(lane, lanes.values()))
    if untried:
        with transaction(engine, plan=plan_id) as session:
            outbox.release(session, untried)
        if not report.stopped:
            report.warnings.append(f"本次发送用时已达上限 ({ctx.settings.send_budget_seconds:.0f} 秒), "
                                   f"其余 {len(untried)} 条消息留待下次运行发送")


def _outgoing(ctx: Context, m: MessageRow, link: str | None) -> Outgoing:
    """A claimed message as its notifier takes it, with what is added only at sending: the unit's link, its
    contacts' ids on a platform that reaches persons or their phones for a text, and a text's length limit."""
    kind, sms = m.dest_kind, ctx.plan.plan.policy.sms
    # (a text's target is the unit, to all its contacts, or one contact's name: flows.reads texts one person)
    people = (tuple(p.on(kind) or "" for p in ctx.plan.plan.people_of(m.recipient, kind)) if kind in PERSON_CHANNELS
              else tuple(phones(ctx, m.recipient, None if m.dest_target == m.recipient else m.dest_target))
              if kind == "sms" else ())
    return Outgoing(m.key, Destination(kind, m.dest_target), Message.from_dict(m.body), m.created_at, link,
                    m.recipient != ZHUANBAN and not m.forwarded_for, people,
                    chars=sms.max_chars if kind == "sms" and sms else 0)


def _send_one(engine: Engine, plan_id: int, run: str, router: Router, item: Claimed, plan: Plan,
              now: datetime) -> Outcome:
    mid, doubt, out, recipient = item
    label, secrets = _label(out.destination), router.secrets()
    trail: list[tuple[str, str]] = []
    ext = code = detail = stop = None
    try:
        notifier = router.notifier(out.destination)
        found = notifier.find(out) if doubt and notifier.can_reconcile else None
        if found is not None:
            result, ext = SendResult.RECONCILED, found
        else:
            try:
                result, ext = SendResult.SENT, notifier.send(out)
            finally:
                trail = notifier.trail  # every HTTP attempt goes in the send log
    except NotificationError as e:
        result = SendResult.of_refusal(e.category)
        code, detail = e.code, redact(e.detail or str(e), secrets)
        if e.category == Failure.AUTH:
            stop = redact(str(e), secrets)
    # (only this claimed message's rows: no lane; the plan's lock shared, so units' answers go on meanwhile)
    with transaction(engine, plan=plan_id, lanes=()) as session:
        for step, step_code in trail[:-1] if result != SendResult.SENT else trail:
            outbox.log_attempt(session, mid, run, label, result=step, code=step_code)
        outbox.finish(session, mid, run, label, result=result, external_id=ext, code=code, detail=detail)
        # whom it reached, or may have (an uncertain send): their presses on it must count either way
        reached = result.delivered or result == SendResult.UNKNOWN
        if reached and out.people and out.destination.kind in PERSON_CHANNELS:
            kind = out.destination.kind
            names = {p.on(kind): p.name for p in plan.people_of(recipient, kind)}
            # (a card's rows are its platform's, where presses name it; the repeat's keep its kind: no press names it)
            reach.record_sent(session, plan_id=plan_id, message_id=mid, platform=kind.removesuffix("-app"),
                              track=out.track, unit=recipient, people=[(i, names.get(i, i)) for i in out.people],
                              now=now)
    return Outcome(recipient, label, result, code, detail, stop)


def _tell_zhuanban(ctx: Context, failures: list[tuple[str, str, str]], report: RunReport, now: datetime,
                   lease: timedelta) -> None:
    """One notice to the 专班 listing undelivered messages; its key makes it once per failure."""
    keyed = {f"notice|{who}|{where}|{why}|{report.day}": (who, where, why) for who, where, why in failures}
    send_to_zhuanban(ctx, report, now, kind="notice", keys=list(keyed), lease=lease,
                     message=lambda fresh: notice([keyed[k] for k in fresh], report.day, ctx.plan.plan.district,
                                                      programme=ctx.plan.plan.words.programme))


def _tell_unknown(ctx: Context, report: RunReport, now: datetime, lease: timedelta) -> None:
    """Messages whose fate stayed unknown through three tries and past the settle time (a robot cannot be
    asked whether a message arrived; a wrongly quoted URL never answers): the 专班 hears of each once, and
    they are tried again meanwhile."""
    cutoff = now - timedelta(seconds=ctx.settings.settle_seconds)
    with reading(ctx.engine) as session:
        stuck = outbox.stuck(session, ctx.plan.id, before=cutoff)
    keyed = {f"notice|unknown|{m.key}": (m.recipient, _label(Destination(m.dest_kind, m.dest_target)),
                                         f"结果未知 ({m.last_error or '无回应'}), 无法确认是否送达, 请与该单位核实")
             for m in stuck if m.recipient != ZHUANBAN}
    if keyed:
        send_to_zhuanban(ctx, report, now, kind="notice", keys=list(keyed), lease=lease,
                         message=lambda fresh: notice([keyed[k] for k in fresh], report.day, ctx.plan.plan.district,
                                                      programme=ctx.plan.plan.words.programme))


def send_to_zhuanban(ctx: Context, report: RunReport, now: datetime, *, kind: str, keys: list[str],
                     message: Callable[[list[str]], Message], lease: timedelta = timedelta(minutes=10)) -> None:
    """Queue one message to the 专班 for whichever of `keys` were never sent, then deliver it: the
    outbox's exactly-once, for notices and report summaries as for reminders."""
    with transaction(ctx.engine, plan=ctx.plan.id) as session:
        queued = queue_once(session, ctx, day=report.day, now=now, to=ZHUANBAN,
                            reminders={k: {"task_no": 0, "about": ZHUANBAN, "kind": kind, "stage": "0", "due": None}
                                       for k in keys},
                            message=message)
    if queued:
        deliver(ctx, ctx.plan.id, report, now, lease, only=[queued[0]])


def _label(dest: Destination) -> str:
    return "控制台" if dest.kind == "console" else dest.label()
