"""`fuquan plan close` and `fuquan plan reopen`: the plan year in the database, chosen as every command chooses
it (--district, --year). A closed year sends no reminders and takes no new record, 反馈 or 延期; status and
reports still read it."""

from __future__ import annotations

import argparse
from datetime import datetime
from typing import TYPE_CHECKING, Any

from .common import Parents, actor, plan_context
from .output import console

if TYPE_CHECKING:
    from usecases.context import Context


def register(plan: Any, p: Parents) -> None:
    """Added to `fuquan plan`'s subcommands (cli/plan_cmds.py)."""
    c = plan.add_parser("close", parents=[p.plan, p.who], help="关闭计划年度: 不再发送提醒、不再登记新的进展、反馈或延期")
    c.add_argument("--note", default="", help="说明 (记入审计记录), 如 年度工作已总结")
    c.set_defaults(func=plan_close)
    plan.add_parser("reopen", parents=[p.plan, p.who], help="重新打开已关闭的计划年度").set_defaults(func=plan_reopen)


def plan_close(args: argparse.Namespace) -> int:
    from usecases.commands import ClosePlan
    from usecases.plans import close_plan

    with plan_context(args) as ctx:
        said = close_plan(ctx, ClosePlan(note=args.note), actor=actor(args), now=_now(args, ctx))
    console().print(said, markup=False, soft_wrap=True)  # the reopen command whole on its line, to copy
    return 0


def plan_reopen(args: argparse.Namespace) -> int:
    from usecases.commands import ReopenPlan
    from usecases.plans import reopen_plan

    with plan_context(args) as ctx:
        said = reopen_plan(ctx, ReopenPlan(), actor=actor(args), now=_now(args, ctx))
    console().print(said, markup=False)
    return 0


def _now(args: argparse.Namespace, ctx: Context) -> datetime:
    """The context's clock; with --today (a replay, a test) that day at the clock's time of day."""
    now = ctx.now()
    return datetime.combine(args.today, now.timetz()) if args.today_given else now
