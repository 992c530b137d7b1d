"""Closing and reopening a plan year. A closed plan sends no reminders and no 签收 chase, its links open
read-only pages, and no new 反馈, 延期 or record is taken; status and reports still work. Both are audited."""

from __future__ import annotations

from datetime import datetime

from fuquan.errors import InvalidValue
from fuquan.tracking import progress
from fuquan.tracking.actor import Actor
from models import answer_io as io
from models.db import transaction
from models.stored import local_day
from models.tables import PlanRow

from .commands import ClosePlan, ReopenPlan
from .context import Context


def close_plan(ctx: Context, cmd: ClosePlan, *, actor: Actor, now: datetime) -> str:
    sp = ctx.plan
    progress.text(cmd.note, "说明")
    with transaction(ctx.engine, plan=ctx.plan.id) as session:
        row = session.get(PlanRow, sp.id)
        assert row is not None  # the context's plan exists
        if row.closed_at is not None:
            raise InvalidValue(f"{sp.label} 已于 {local_day(row.closed_at, row.timezone)} 由 {row.closed_by} 关闭, 无需再关闭")
        row.closed_at, row.closed_by = now, actor.by
        session.add(row)
        io.audit(session, sp, actor, entity="plan", ref=sp.label, field="关闭", new=cmd.note or "关闭计划年度")
    return (f"{sp.label}: 已关闭。不再发送提醒和催办, 单位页面只能查看; 进度和报告照常可查。"
            f"如需恢复: fuquan plan reopen --district {sp.plan.district} --year {sp.plan.year}")


def reopen_plan(ctx: Context, cmd: ReopenPlan, *, actor: Actor, now: datetime) -> str:
    sp = ctx.plan
    with transaction(ctx.engine, plan=ctx.plan.id) as session:
        row = session.get(PlanRow, sp.id)
        assert row is not None
        if row.closed_at is None:
            raise InvalidValue(f"{sp.label} 没有关闭, 无需重新打开")
        was = f"{local_day(row.closed_at, row.timezone)} 由 {row.closed_by} 关闭"
        row.closed_at, row.closed_by = None, None
        session.add(row)
        io.audit(session, sp, actor, entity="plan", ref=sp.label, field="重新打开", old=was, new=f"{now:%Y-%m-%d} 重新打开")
    return f"{sp.label}: 已重新打开, 恢复提醒和单位反馈"
