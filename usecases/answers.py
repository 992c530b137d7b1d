"""Units answering back, and the 专班 deciding: 签收, 反馈 (with 佐证), 复核, 申请延期 and its decision. The web
pages, Slack's buttons and the CLI call these; none of them touches the database itself. Each write is one short
transaction that first checks the plan year is open; a form's nonce makes a double submission record once.

A share judged from tracked items (letters, training, exams, 月报) is answered in its own terms: the unit names
which of its missing items are done, with their facts (a letter's date and 文号, a month's figures), and 通过
records exactly those through usecases.record — as `fuquan letter sign` or `fuquan report submit` would — so
status changes with them. An untracked share's 反馈 says 进行中 or 已完成 with the day it was finished, and 通过
records that day. A granted extension is one `extension` row, per period where the task recurs, which the ledger
reads for status, reminders, reports and the board.
"""

from __future__ import annotations

from collections.abc import Iterator
from datetime import date, datetime
from typing import TypeVar

from sqlmodel import Session

from fuquan.answers.rules import check_extension, check_feedback
from fuquan.answers.uploads import kind_of
from fuquan.errors import AlreadyDecided, InvalidValue, NotYours
from fuquan.tracking import progress
from fuquan.tracking.actor import Actor
from fuquan.tracking.ledger import Row
from fuquan.tracking.states import Extension, Progress, Review, decided, reviewed
from models import answer_io as io
from models.answers import ExtensionRow, FeedbackRow
from models.db import reading, transaction, whole_file_lock
from models.stored import StoredPlan

from .commands import Acknowledge, AskExtension, DecideExtension, GiveFeedback, ReportedItem, ReviewFeedback, SetStatus
from .context import Context
from .evidence import store
from .guard import open_plan
from .pages import unit_rows_in
from .record import item_command, record_in

Decided = TypeVar("Decided", FeedbackRow, ExtensionRow)  # what the 专班 (or a lead unit) decides on

ACKED_BEFORE = "该提醒此前已签收"


def acknowledge(ctx: Context, cmd: Acknowledge, *, actor: Actor, now: datetime) -> str:
    n = acknowledged(ctx, cmd, actor=actor, now=now)
    return f"已签收该提醒 (含 {n} 项事项)" if n else ACKED_BEFORE


def acknowledged(ctx: Context, cmd: Acknowledge, *, actor: Actor, now: datetime) -> int:
    """签收, for a door that words the answer itself (a card's button): how many reminders it newly acknowledged."""
    with transaction(ctx.engine, plan=ctx.plan.id, lanes=[ctx.plan.reminders_lane(cmd.unit)]) as session:
        open_plan(session, ctx.plan)
        return io.acknowledge(session, ctx.plan, actor, cmd.unit, cmd.message_id, now)


def answering(sp: StoredPlan, task_no: int) -> list[str]:
    """Who answers for a task: its units, and the towns that send its 月报 (each for its own months)."""
    task = sp.plan.task(task_no)
    units = [a.unit for a in sp.plan.assignees(task)]
    return units + [t for t in task.track.monthly_reports or () if t not in units]


def share_row(ctx: Context, unit: str, task_no: int, period: str, today: date) -> Row:
    """The unit's row for this task and period: what it owes now. Another unit's task is "not found"."""
    with reading(ctx.engine) as session:
        return share_row_in(session, ctx.plan, unit, task_no, period, today)


def share_row_in(session: Session, sp: StoredPlan, unit: str, task_no: int, period: str, today: date) -> Row:
    """The same, in the caller's transaction (a 反馈 judges the row it answers under its own lock)."""
    if unit not in answering(sp, task_no):
        raise NotYours("任务")
    rows = [r for r in unit_rows_in(session, sp, unit, today, task_no) if r.task_no == task_no]
    for r in rows:
        if r.period == period:
            return r
    have = "、".join(r.period for r in rows if r.period) or "(整项, 不分期)"
    raise InvalidValue(f"任务 {task_no} 没有“{period or '整项'}”这一期; {unit} 可办理的期: {have}")


def give_feedback(ctx: Context, cmd: GiveFeedback, *, actor: Actor, today: date) -> str:
    sp = ctx.plan
    check_feedback(cmd.status, cmd.note)
    progress.text(cmd.note, "进展说明")
    if cmd.unit not in answering(sp, cmd.task_no):
        raise NotYours("任务")
    ref = _ref(cmd.task_no, cmd.unit, cmd.period)
    files = [f for f in cmd.files if f.data or f.name]
    for f in files:  # every file checked before any is kept: a refused one leaves nothing behind
        kind_of(f.data, f.name)
    review = sp.plan.answers.review
    task_id, unit_id = sp.task_id(cmd.task_no), sp.unit_ids[cmd.unit]
    # The row it answers is judged under this answer's own lane (PostgreSQL: one session, not two, and nothing
    # between the check and the write); SQLite's lock is the whole file's, so there it is judged before (measured:
    # a quarter of the 反馈's hold, which every other writer waited out).
    early = share_row(ctx, cmd.unit, cmd.task_no, cmd.period, today) if whole_file_lock(ctx.engine) else None
    with transaction(ctx.engine, plan=ctx.plan.id, lanes=[sp.lane(cmd.task_no, cmd.unit)]) as session:
        open_plan(session, sp)
        # (every refusal comes before any file is stored: a refused form leaves nothing on disk)
        row = early if early is not None else share_row_in(session, sp, cmd.unit, cmd.task_no, cmd.period, today)
        if row.judgement.colour.finished:
            raise InvalidValue(f"{ref} 已完成, 无需再反馈")
        status, done_on = _what_is_reported(sp, row, cmd, today)
        if cmd.nonce is not None and not io.first_use(session, f"feedback:{unit_id}:{cmd.nonce}"):
            return "该反馈已提交, 未重复登记"
        if review and io.feedback_waiting(session, sp.id, task_id, unit_id, cmd.period):
            raise InvalidValue(f"{ref} 已有一份反馈等待复核; 复核或退回后再提交新的反馈")
        with _trial(session):  # the items are checked now as 通过 will record them, so 通过 never fails on them
            _record_items(session, sp, cmd.task_no, [i.as_dict() for i in cmd.items], actor, today)
        fb = FeedbackRow(plan_id=sp.id, task_id=task_id, unit_id=unit_id, period=cmd.period, status=status,
                         note=cmd.note, state=Review.WAITING if review else Review.ACCEPTED, submitted_on=today,
                         done_on=done_on, items=[i.as_dict() for i in cmd.items], by=actor.by, source=actor.source,
                         decided_by=None if review else "无需复核",
                         evidence=[io.add_evidence(session, sp, unit_id, store(ctx, f)).id or 0 for f in files])
        session.add(fb)
        session.flush()
        io.audit(session, sp, actor, entity="feedback", ref=ref, field="反馈", new=f"{status}: {cmd.note}")
        said = "" if review else _apply(session, sp, fb, actor, today)
    return "反馈已提交, 等待工作专班复核" if review else f"反馈已登记; {said}"


def _what_is_reported(sp: StoredPlan, row: Row, cmd: GiveFeedback, today: date) -> tuple[str, date | None]:
    """(status, completion date) the feedback claims, checked against what the row owes."""
    if row.tracked:
        if not cmd.items:
            owed = "、".join(i.label for i in row.owed)
            raise InvalidValue(f"任务 {cmd.task_no} 按事项判断完成情况: 请勾选已完成的事项 (尚缺: {owed}) 并填写日期")
        owed_keys = {i.key for i in row.owed}
        for item in cmd.items:
            key = "|".join((item.kind, item.department, item.town, item.period))
            if key not in owed_keys:
                raise InvalidValue(f"“{item.department or item.town} {item.period}”不是 {cmd.unit} 在任务 "
                                   f"{cmd.task_no} 中尚缺的事项")
            progress.done_date(item.on, today, sp.plan.year, "完成日期")
        done = len({(i.kind, i.department, i.town, i.period) for i in cmd.items}) == len(owed_keys)
        return (Progress.DONE if done else Progress.IN_PROGRESS), max(i.on for i in cmd.items)
    if cmd.items:
        raise InvalidValue(f"任务 {cmd.task_no} 不按事项跟踪, 请直接填写进展")
    if cmd.status != Progress.DONE:
        return Progress(cmd.status), None
    done_on = cmd.done_on or today
    progress.done_date(done_on, today, sp.plan.year, "完成日期")
    return Progress.DONE, done_on


class _trial:
    """A savepoint that is always rolled back: checks run exactly as the real write would, nothing stays."""

    def __init__(self, session: Session) -> None:
        self.session = session

    def __enter__(self) -> None:
        self.nested = self.session.begin_nested()

    def __exit__(self, *exc: object) -> None:
        self.nested.rollback()
        self.session.info.pop("replaced", None)


def _record_items(session: Session, sp: StoredPlan, task_no: int, items: list[dict[str, object]], actor: Actor,
                  today: date) -> list[str]:
    said = []
    for d in items:
        item = ReportedItem.from_dict(d)  # type: ignore[arg-type]
        record_in(session, sp, item_command(task_no, item), actor=actor, today=today)
        said.append(f"{item.department or item.town}{(' ' + item.period) if item.period else ''} {item.kind_label} "
                    f"{item.on}")
    return said


def _apply(session: Session, sp: StoredPlan, fb: FeedbackRow, actor: Actor, today: date) -> str:
    """Record accepted feedback: a tracked share's items as the CLI records them, else the share's (or
    period's) status with the completion date the unit reported. Returns what was recorded, in words."""
    no, unit = _no(sp, fb.task_id), sp.names[fb.unit_id]
    if fb.items:
        return "已登记: " + "; ".join(_record_items(session, sp, no, fb.items, actor, today))
    if sp.plan.task(no).track.recorded_by(unit):
        raise InvalidValue(f"任务{no} 中 {unit} 的完成情况按事项判断, 这份反馈没有写明哪些事项已完成; "
                           "请退回并请单位按事项重新反馈")
    record_in(session, sp, SetStatus(task_no=no, unit=unit, status=fb.status, completed_on=fb.done_on, note=fb.note,
                                     evidence=f"反馈#{fb.id}" if fb.evidence else None, period=fb.period or None),
              actor=actor, today=max(today, fb.done_on or today))
    if fb.status == Progress.DONE:
        return f"按单位报告的完成日期 {fb.done_on or fb.submitted_on} 登记为已完成"
    return f"登记为{fb.status}"


def review_feedback(ctx: Context, cmd: ReviewFeedback, *, actor: Actor, now: datetime) -> str:
    sp = ctx.plan
    progress.text(cmd.reason, "理由")
    with transaction(ctx.engine, plan=ctx.plan.id) as session:
        open_plan(session, sp)
        fb = _own(session, sp, FeedbackRow, cmd.feedback_id, "反馈")
        try:
            state = reviewed(fb.state, cmd.accept, cmd.reason, fb.decided_by)
        except AlreadyDecided as e:
            return str(e)
        unit, no = sp.names[fb.unit_id], _no(sp, fb.task_id)
        fb.state, fb.decided_by, fb.decided_at, fb.reason = state.value, actor.by, now, cmd.reason or None
        io.audit(session, sp, actor, entity="feedback", ref=_ref(no, unit, fb.period), field="复核",
                 old=Review.WAITING, new=state + (f": {cmd.reason}" if cmd.reason else ""))
        said = _apply(session, sp, fb, actor, now.date()) if state == Review.ACCEPTED else ""
    return f"已{'通过' if cmd.accept else '退回'}: {unit} 任务{no}" + (f"; {said}" if said else "")


def _own(session: Session, sp: StoredPlan, model: type[Decided], row_id: int, what: str) -> Decided:
    """A feedback or an extension request of this plan; another plan's, or none, is "not found"."""
    row = session.get(model, row_id)
    if row is None or row.plan_id != sp.id:
        raise NotYours(what)
    return row


def _no(sp: StoredPlan, task_id: int) -> int:
    return next(n for n, tid in sp.task_ids.items() if tid == task_id)


def _ref(task_no: int, unit: str, period: str) -> str:
    return f"任务{task_no}/{unit}" + (f"/{period}" if period else "")


def _members(ctx: Context, cmd: AskExtension) -> Iterator[str]:
    sp = ctx.plan
    owners = answering(sp, cmd.task_no)
    known = {u.name for u in sp.plan.units}
    for name in sp.plan.members(cmd.unit):
        if name in known and name not in owners:
            raise NotYours("任务")  # (a unit's page must not learn who else shares the task)
        yield sp.plan.pick(name, owners, f"任务 {cmd.task_no} 的责任单位")


def ask_extension(ctx: Context, cmd: AskExtension, *, actor: Actor, today: date) -> str:
    """申请延期 before the due date, for a later date, with a reason; one request waits at a time. From the CLI the
    request may come already approved (`approved_by`): asked and granted in one transaction."""
    sp = ctx.plan
    if not cmd.reason.strip():
        raise InvalidValue("请填写申请延期的理由")
    progress.text(cmd.reason, "延期理由")
    units = list(_members(ctx, cmd))
    rows = {u: share_row(ctx, u, cmd.task_no, cmd.period, today) for u in units}
    for u, row in rows.items():
        if row.judgement.colour.finished:
            raise InvalidValue(f"{_ref(cmd.task_no, u, cmd.period)} 已完成, 无需延期")
        check_extension(row.judgement.due, cmd.new_due, today, sp.plan.year)
    reply_by = sp.plan.answers.reply_by(today, sp.plan.work_calendar())
    task_id = sp.task_id(cmd.task_no)
    # (granted at once, from the CLI: a decision, plan-wide like the 专班's)
    lanes = None if cmd.approved_by else [sp.lane(cmd.task_no, u) for u in units]
    with transaction(ctx.engine, plan=ctx.plan.id, lanes=lanes) as session:
        open_plan(session, sp)
        if cmd.nonce is not None and not io.first_use(session, f"extension:{sp.unit_ids[units[0]]}:{cmd.nonce}"):
            return "该申请已提交, 未重复登记"
        for u, row in rows.items():
            ref = _ref(cmd.task_no, u, cmd.period)
            if io.open_extension(session, sp.id, task_id, sp.unit_ids[u], cmd.period):
                raise InvalidValue(f"{ref} 已有一份待批的延期申请, 请等待答复")
            ext = ExtensionRow(plan_id=sp.id, task_id=task_id, unit_id=sp.unit_ids[u], period=cmd.period,
                               due=row.judgement.due or today, new_due=cmd.new_due, reason=cmd.reason,
                               state=Extension.ASKED, asked_on=today, reply_by=reply_by, by=actor.by,
                               source=actor.source)
            session.add(ext)
            io.audit(session, sp, actor, entity="extension", ref=ref, field="申请延期", old=row.judgement.due, new=cmd.new_due)
            if cmd.approved_by:
                progress.text(cmd.approved_by, "批准人")
                session.flush()
                _decide(session, sp, ext, grant=True, reason="", actor=Actor(cmd.approved_by, actor.source),
                        now=datetime.combine(today, datetime.min.time()))
    who = "牵头单位" if sp.plan.answers.extensions_by == "牵头单位" else "工作专班"
    if cmd.approved_by:
        return f"已登记延期 (批准人 {cmd.approved_by}): {'、'.join(units)} 任务{cmd.task_no}" + (
            f" {cmd.period}" if cmd.period else "") + f" 截止日期延至 {cmd.new_due}"
    return f"延期申请已提交, {who}将于 {reply_by} 前答复"


def _decide(session: Session, sp: StoredPlan, ext: ExtensionRow, *, grant: bool, reason: str, actor: Actor,
            now: datetime) -> Extension:
    state = decided(ext.state, grant, reason, ext.decided_by)
    ext.state, ext.decided_by, ext.decided_at, ext.decision_reason = state.value, actor.by, now, reason or None
    io.audit(session, sp, actor, entity="extension", ref=_ref(_no(sp, ext.task_id), sp.names[ext.unit_id], ext.period),
             field="延期审批", old=Extension.ASKED, new=state + (f": {reason}" if reason else ""))
    return state


def decide_extension(ctx: Context, cmd: DecideExtension, *, actor: Actor, now: datetime) -> str:
    """批准 / 不批准 by the 专班, or by the task's lead unit when the plan says leads decide."""
    sp = ctx.plan
    progress.text(cmd.reason, "理由")
    with transaction(ctx.engine, plan=ctx.plan.id) as session:
        open_plan(session, sp)
        ext = _own(session, sp, ExtensionRow, cmd.extension_id, "延期申请")
        no, unit = _no(sp, ext.task_id), sp.names[ext.unit_id]
        if cmd.deciding_unit is not None and (sp.plan.answers.extensions_by != "牵头单位"
                                              or sp.plan.lead(sp.plan.task(no)) != cmd.deciding_unit
                                              or unit == cmd.deciding_unit):
            raise NotYours("延期申请")
        try:
            state = _decide(session, sp, ext, grant=cmd.grant, reason=cmd.reason, actor=actor, now=now)
        except AlreadyDecided as e:
            return str(e)
    period = f" {ext.period}" if ext.period else ""
    if state == Extension.GRANTED:
        return f"已批准: {unit} 任务{no}{period} 截止日期延至 {ext.new_due}"
    return f"未批准: {unit} 任务{no}{period} 申请延期至 {ext.new_due}, 截止日期仍为 {ext.due}"
