"""Units answering back, as runs over the context: the web app and the Slack handlers call these, never the
database directly. Each write is one short transaction; a form's nonce makes a double submission record once.

Feedback (反馈) goes to the 专班 for 复核 unless the plan turns review off; once accepted it is recorded the
way `fuquan task set` records a status (audited, per period for recurring tasks). A granted extension moves
the share's due date (or one period's) everywhere the ledger is read.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date, datetime

from sqlmodel import Session

from fuquan.answers.rules import (
    ACCEPTED,
    ASKED,
    GRANTED,
    PENDING_REVIEW,
    REFUSED,
    RETURNED,
    check_extension,
    check_feedback,
)
from fuquan.answers.uploads import kind_of
from fuquan.errors import InvalidValue
from fuquan.tracking import progress
from fuquan.tracking.judge import FINISHED
from fuquan.tracking.ledger import Row
from models import answer_io as io
from models.answers import EvidenceRow, ExtensionRow, FeedbackRow
from models.db import reading, transaction
from models.ledger_io import load_ledger
from models.outbox import MessageRow, ReminderRow
from models.records import Actor, set_task_status, upsert
from models.stored import StoredPlan
from models.tables import AssignmentRow

from .context import Context
from .evidence import Upload, store


@dataclass
class UnitPage:
    plan: StoredPlan
    unit: str
    rows: list[Row]
    reminders: list[tuple[MessageRow, list[ReminderRow]]]
    feedback: list[FeedbackRow]
    extensions: list[ExtensionRow]
    to_decide: list[ExtensionRow] = field(default_factory=list)  # partners' requests, when leads decide
    files: dict[int, EvidenceRow] = field(default_factory=dict)


@dataclass
class OfficePage:
    plan: StoredPlan
    unacked: list[tuple[ReminderRow, MessageRow, int]]  # with working days since it was sent
    feedback: list[FeedbackRow]
    extensions: list[ExtensionRow]
    decided: list[FeedbackRow | ExtensionRow]
    files: dict[int, EvidenceRow] = field(default_factory=dict)


def unit_page(ctx: Context, unit: str, today: date) -> UnitPage:
    sp = ctx.plan
    uid = sp.unit_ids[unit]
    rows = unit_page_rows(ctx, unit, today)
    with reading(ctx.engine) as session:
        page = UnitPage(sp, unit, rows, io.open_reminders(session, sp.id, unit), io.feedback_of(session, sp.id, unit_id=uid),
                        io.extensions_of(session, sp.id, unit_id=uid))
        if sp.plan.answers.extensions_by == "牵头单位":
            led = [sp.task_ids[t.no] for t in sp.plan.tasks if sp.plan.lead(t) == unit]
            page.to_decide = [e for e in io.extensions_of(session, sp.id, task_ids=led, states=[ASKED]) if e.unit_id != uid]
        page.files = _files(session, sp.id, page.feedback)
    return page


def office_page(ctx: Context, today: date) -> OfficePage:
    sp, cal = ctx.plan, ctx.plan.plan.work_calendar()
    with reading(ctx.engine) as session:
        unacked = [(r, m, cal.between(m.day, today)) for r, m in io.unacknowledged(session, sp.id)]
        feedback = io.feedback_of(session, sp.id, states=[PENDING_REVIEW])
        asked = io.extensions_of(session, sp.id, states=[ASKED])
        decided: list[FeedbackRow | ExtensionRow] = [
            *io.feedback_of(session, sp.id, states=[ACCEPTED, RETURNED]),
            *io.extensions_of(session, sp.id, states=[GRANTED, REFUSED])]
        decided.sort(key=lambda r: r.decided_at or r.at, reverse=True)
        page = OfficePage(sp, unacked, feedback, asked, decided[:30], _files(session, sp.id, feedback + [
            d for d in decided if isinstance(d, FeedbackRow)]))
    return page


def _files(session: Session, plan_id: int, feedback: list[FeedbackRow]) -> dict[int, EvidenceRow]:
    return io.evidence_of(session, plan_id, {i for f in feedback for i in f.evidence})


def acknowledge(ctx: Context, unit: str, message_id: int, actor: Actor, now: datetime) -> str:
    with transaction(ctx.engine) as session:
        n = io.acknowledge(session, ctx.plan, actor, unit, message_id, now)
    return f"已签收 {n} 条提醒" if n else "该提醒此前已签收"


def _share(ctx: Context, unit: str, task_no: int, period: str, today: date) -> Row:
    """The unit's row for this task (and period): what it owes now. Another unit's task is "not found"."""
    sp = ctx.plan
    task = sp.plan.task(task_no)
    if unit not in [a.unit for a in sp.plan.assignees(task)]:
        raise io.NotYours("任务")
    for r in unit_page_rows(ctx, unit, today):
        if r.task_no == task_no and (r.label == period or (not period and not r.label)):
            return r
    raise InvalidValue(f"任务 {task_no} 没有“{period}”这一期; 请从本单位页面提交")


def unit_page_rows(ctx: Context, unit: str, today: date) -> list[Row]:
    sp = ctx.plan
    # a town's 月报 rows come from its collector's share of the task: those tasks' shares are read too
    reports = tuple(sp.task_ids[t.no] for t in sp.plan.tasks if unit in (t.track.monthly_reports or ()))
    with reading(ctx.engine) as session:
        ledger = load_ledger(session, sp, unit_id=sp.unit_ids[unit], with_tasks=reports)
        return [r for r in ledger.rows(today, sp.plan.work_calendar()) if r.unit == unit]


def give_feedback(ctx: Context, unit: str, task_no: int, period: str, status: str, note: str, files: list[Upload],
                  nonce: str, actor: Actor, today: date) -> str:
    sp = ctx.plan
    check_feedback(status, note)
    progress.text(note, "进展说明")
    row = _share(ctx, unit, task_no, period, today)
    if row.judgement.colour in FINISHED:
        raise InvalidValue(f"任务 {task_no} {period} 已完成, 无需再反馈")
    files = [f for f in files if f.data or f.name]
    for f in files:  # every file checked before any is kept: a refused one leaves nothing behind
        kind_of(f.data, f.name)
    review = sp.plan.answers.review
    task_id, unit_id = sp.task_id(task_no), sp.unit_ids[unit]
    with transaction(ctx.engine) as session:
        # (both refusals come before any file is stored: a refused form leaves nothing on disk)
        if not io.first_use(session, f"feedback:{unit_id}:{nonce}"):
            return "该反馈已提交, 未重复登记"
        if review and io.feedback_waiting(session, sp.id, task_id, unit_id, period):
            raise InvalidValue(f"{_ref(task_no, unit, period)} 已有一份反馈等待复核; 复核或退回后再提交新的反馈")
        fb = FeedbackRow(plan_id=sp.id, task_id=task_id, unit_id=unit_id, period=period, status=status, note=note,
                         state=PENDING_REVIEW if review else ACCEPTED, submitted_on=today, by=actor.by,
                         source=actor.source, decided_by=None if review else "无需复核",
                         evidence=[io.add_evidence(session, sp, unit_id, *store(ctx, f)).id or 0 for f in files])
        session.add(fb)
        session.flush()
        io.audit(session, sp, actor, "feedback", _ref(task_no, unit, period), "反馈", new=f"{status}: {note}")
        if not review:
            _apply(session, ctx, fb, unit, actor)
    return "反馈已提交, 等待工作专班复核" if review else "反馈已登记"


def _ref(task_no: int, unit: str, period: str) -> str:
    return f"任务{task_no}/{unit}" + (f"/{period}" if period else "")


def _apply(session: object, ctx: Context, fb: FeedbackRow, unit: str, actor: Actor) -> None:
    """Record accepted feedback as the share's (or period's) status. A share judged from tracked items
    (letters, training, exams, 月报) keeps following them: the feedback stays on file as 佐证."""
    sp = ctx.plan
    no = _no(sp, fb.task_id)
    if sp.plan.task(no).track.recorded_by(unit):
        return
    set_task_status(session, sp, actor, fb.submitted_on, task_no=no, unit=unit, status=fb.status,  # type: ignore[arg-type]
                    completed_on=fb.submitted_on if fb.status == "已完成" else None, note=fb.note,
                    evidence=f"反馈#{fb.id}" if fb.evidence else None, period=fb.period or None)


def review_feedback(ctx: Context, feedback_id: int, accept: bool, reason: str, actor: Actor, now: datetime) -> str:
    sp = ctx.plan
    with transaction(ctx.engine) as session:
        fb = session.get(FeedbackRow, feedback_id)
        if fb is None or fb.plan_id != sp.id:
            raise io.NotYours("反馈")
        if fb.state != PENDING_REVIEW:
            return f"该反馈已{fb.state} ({fb.decided_by}), 未重复处理"
        if not accept and not reason.strip():
            raise InvalidValue("退回时请写明理由, 以便单位补充")
        progress.text(reason, "理由")
        unit = sp.names[fb.unit_id]
        fb.state, fb.decided_by, fb.decided_at, fb.reason = ACCEPTED if accept else RETURNED, actor.by, now, reason or None
        io.audit(session, sp, actor, "feedback", _ref(_no(sp, fb.task_id), unit, fb.period), "复核", PENDING_REVIEW,
                 fb.state + (f": {reason}" if reason else ""))
        if accept:
            _apply(session, ctx, fb, unit, actor)
    return f"已{'通过' if accept else '退回'}: {unit} 任务{_no(sp, fb.task_id)}"


def _no(sp: StoredPlan, task_id: int) -> int:
    return next(n for n, tid in sp.task_ids.items() if tid == task_id)


def ask_extension(ctx: Context, unit: str, task_no: int, period: str, new_due: date, reason: str, nonce: str,
                  actor: Actor, today: date) -> str:
    sp = ctx.plan
    if not reason.strip():
        raise InvalidValue("请填写申请延期的理由")
    progress.text(reason, "延期理由")
    row = _share(ctx, unit, task_no, period, today)
    if row.judgement.colour in FINISHED:
        raise InvalidValue(f"任务 {task_no} {period} 已完成, 无需延期")
    check_extension(row.judgement.due, new_due, today, sp.plan.year)
    reply_by = sp.plan.answers.reply_by(today, sp.plan.work_calendar())
    with transaction(ctx.engine) as session:
        if not io.first_use(session, f"extension:{sp.unit_ids[unit]}:{nonce}"):
            return "该申请已提交, 未重复登记"
        if io.open_extension(session, sp.id, sp.task_id(task_no), sp.unit_ids[unit], period):
            raise InvalidValue(f"任务 {task_no} 已有一份待批的延期申请, 请等待答复")
        session.add(ExtensionRow(plan_id=sp.id, task_id=sp.task_id(task_no), unit_id=sp.unit_ids[unit], period=period,
                                 due=row.judgement.due or today, new_due=new_due, reason=reason, state=ASKED,
                                 asked_on=today, reply_by=reply_by, by=actor.by, source=actor.source))
        io.audit(session, sp, actor, "extension", _ref(task_no, unit, period), "申请延期", row.judgement.due, new_due)
    who = "牵头单位" if sp.plan.answers.extensions_by == "牵头单位" else "工作专班"
    return f"延期申请已提交, {who}将于 {reply_by} 前答复"


def decide_extension(ctx: Context, ext_id: int, grant: bool, reason: str, actor: Actor, now: datetime,
                     deciding_unit: str | None = None) -> str:
    """批准 / 不批准 by the 专班, or by the task's lead unit when the plan says leads decide."""
    sp = ctx.plan
    with transaction(ctx.engine) as session:
        ext = session.get(ExtensionRow, ext_id)
        if ext is None or ext.plan_id != sp.id:
            raise io.NotYours("延期申请")
        no, unit = _no(sp, ext.task_id), sp.names[ext.unit_id]
        if deciding_unit is not None and (sp.plan.answers.extensions_by != "牵头单位"
                                          or sp.plan.lead(sp.plan.task(no)) != deciding_unit or unit == deciding_unit):
            raise io.NotYours("延期申请")
        if ext.state != ASKED:
            return f"该申请已{ext.state} ({ext.decided_by}), 未重复处理"
        if not grant and not reason.strip():
            raise InvalidValue("不批准时请写明理由")
        progress.text(reason, "理由")
        ext.state, ext.decided_by, ext.decided_at = GRANTED if grant else REFUSED, actor.by, now
        ext.decision_reason = reason or None
        io.audit(session, sp, actor, "extension", _ref(no, unit, ext.period), "延期审批", ASKED,
                 ext.state + (f": {reason}" if reason else ""))
        if grant and not ext.period:
            upsert(session, AssignmentRow, {"task_id": ext.task_id, "unit_id": ext.unit_id},
                   {"extended_due": ext.new_due, "extension_reason": ext.reason, "extension_approved_by": actor.by},
                   actor, _ref(no, unit, ""), plan_id=sp.id)
    if grant:
        return f"已批准: {unit} 任务{no} 截止日期延至 {ext.new_due}"
    return f"未批准: {unit} 任务{no} 申请延期至 {ext.new_due}, 截止日期仍为 {ext.due}"
