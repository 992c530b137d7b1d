"""Every flow's recipe, once, for both runners: Prefect (flows/prefect_flows.py: each step a task, results
as artifacts) and APScheduler (flows/scheduler.py: steps called directly, results as files and log lines).

A recipe is a thin list of steps from flows/jobs.py. What differs between the runners — how a step is run,
where the status and reports are shown — is the Runner they pass in.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import date, datetime
from pathlib import Path
from typing import Any, Protocol, TypeVar

from fuquan.errors import FuquanError
from fuquan.plans.policy import BACKUP_KEEP, FLOWS
from fuquan.tracking.judge import GREEN, RED, YELLOW
from fuquan.tracking.states import SendResult
from reports import status
from usecases.context import Context

from . import jobs
from .dispatch import RunReport
from .jobs import Snapshot

T = TypeVar("T")
REPORT_KIND = {"monthly-status": "monthly", "quarterly-analysis": "quarterly", "annual-evaluation": "annual"}


class Runner(Protocol):
    def step(self, name: str, fn: Callable[[], T], *, network: bool = False) -> T:
        """Run one step (a Prefect task, or a plain call); `network` steps get retries and a timeout. `name` is
        a key of STEPS."""
        ...

    def publish_status(self, snap: Snapshot, report: RunReport) -> None: ...

    def publish_report(self, data: Any, files: Any) -> None: ...

    def log(self, message: str) -> None: ...


# What the 专班 sees in the Prefect UI: the deployments and runs by these names (flows keep their slugs, which
# deployments' entrypoints and `fuquan run` name), every step by its own.
TITLES = {"sync-plan": "载入计划", "deadline-check": "每日检查", "monthly-status": "月度通报",
          "quarterly-analysis": "季度分析", "annual-evaluation": "年度评估", "backup": "每日备份"}
STEPS = {"evaluate-status": "计算进度", "close-months": "月报关账", "send-reminders": "发送提醒",
         "publish-status": "更新看板", "build-report": "生成报告", "publish-report": "发布报告",
         "send-summary": "发送要点", "check-plan-file": "检查计划文件", "load-yaml-into-database": "写入数据库",
         "write-backup": "写入备份", "issue-slips": "出具督办单"}


def deployment_name(flow: str, district: str, year: int) -> str:
    """A deployment's name: what it does and for which plan (two counties of one year never collide)."""
    return f"{TITLES[flow]} · {district} {year}"  # short: the UI's list cuts a name at about 17 characters


def _do(r: Runner, name: str, fn: Callable[[], T], said: Callable[[T], str], *, network: bool = False) -> T:
    """Run a step and log, inside it, one line in words saying how it went (逾期 38 项; 发出 19 条 …)."""
    def body() -> T:
        result = fn()
        r.log(f"{STEPS[name]}: {said(result)}")
        return result

    return r.step(name, body, network=network)


@dataclass(frozen=True)
class Options:
    """What a run of any flow may be told; each recipe reads what it needs."""

    today: date | None = None  # None: the plan's today by the clock
    now: datetime | None = None  # the moment quiet hours are judged at: a replay's, given; else the clock
    period: str | None = None
    force: bool = False
    config: Path | None = None
    scheduled: bool = False  # a tick of a schedule (workdays_only applies), not a run asked for by hand


def _today(ctx: Context, opts: Options) -> tuple[date, datetime]:
    now = opts.now or ctx.now()
    return opts.today or now.date(), now


def deadline_check(r: Runner, ctx: Context, opts: Options) -> dict[str, Any]:
    day, now = _today(ctx, opts)
    snap = _do(r, "evaluate-status", lambda: jobs.evaluate(ctx, day), _judged)
    for warning in snap.warnings:
        r.log(warning)
    # On a 月报 due date the month closes: as of the real date (the clock), whatever day was asked for.
    _do(r, "close-months", lambda: jobs.close_months(ctx, ctx.today()),
        lambda closed: f"已关账 {'、'.join(closed)}" if closed else "今天没有到关账日的月份")
    report = _do(r, "send-reminders", lambda: jobs.send_reminders(ctx, day, now, force=opts.force),
                 lambda rep: f"到期提醒 {rep.due} 条; {sent_said(rep)}", network=True)
    for warning in report.warnings:
        r.log(warning)
    if ctx.plan.plan.policy.slips.daily:  # (a step only where the plan asks for slips from the daily run)
        _do(r, "issue-slips", lambda: jobs.daily_slips(ctx, now),
            lambda made: f"出具督办单 {n} 份" if (n := sum(s.fresh for s in made)) else "没有需要新出具的督办单")
    _do(r, "publish-status", lambda: r.publish_status(snap, report), lambda _: "看板已更新")
    if report.stopped:
        raise FuquanError(report.stopped)
    sent = jobs.sent(report)
    # sent: every message delivered, those only shown on the screen (no channel configured: `shown`) included;
    # undelivered: left for the next run (failed, to retry, fate unknown); skipped: why nothing was sent
    return {"rows": len(snap.rows), "due": report.due, "sent": sum(s.result == SendResult.SENT for s in sent),
            "shown": sum(s.shown_only and s.result == SendResult.SENT for s in sent),
            "undelivered": sum(not SendResult(s.result).delivered for s in sent), "skipped": report.skipped}


def _judged(snap: Snapshot) -> str:
    n = status.totals(snap)
    return f"逾期 {n[RED]} 项, 临近 {n[YELLOW]} 项, 正常 {n[GREEN]} 项 (共 {len(snap.rows)} 项分工)"


def sent_said(report: RunReport) -> str:
    """A sending run in words: what went out, what was only shown, what failed, or why nothing was sent."""
    if report.stopped:
        return f"发送中止, 未发送: {report.stopped}"
    if report.skipped:  # a day off, quiet hours: dispatch's own words, which say nothing was sent
        return report.skipped
    sent = jobs.sent(report)
    if not sent:
        return "没有需要发送的消息"
    counts = {"发出": sum(SendResult(s.result).delivered and not s.shown_only for s in sent),
              "仅显示, 未发出": sum(SendResult(s.result).delivered and s.shown_only for s in sent),
              "未能发送": sum(not SendResult(s.result).delivered for s in sent)}
    return "; ".join(f"{what} {n} 条" for what, n in counts.items() if n)


def report_run(kind: str) -> Callable[[Runner, Context, Options], str]:
    def recipe(r: Runner, ctx: Context, opts: Options) -> str:
        day, now = _today(ctx, opts)
        data, files = _do(r, "build-report", lambda: jobs.build_report(ctx, kind, opts.period, day),
                          lambda built: f"{built[0].title}{' (未关账, 预览)' if built[0].provisional else ''}: "
                                        f"{built[1].markdown}")
        _do(r, "publish-report", lambda: r.publish_report(data, files), lambda _: "已发布到看板")
        _do(r, "send-summary", lambda: jobs.send_summary(ctx, data, now), network=True,
            said=lambda rep: sent_said(rep) if rep.outcomes or rep.skipped or rep.stopped else "本期要点已发送过, 不再重复")
        return f"{data.title}{' (未关账)' if data.provisional else ''}"

    return recipe


def sync_plan(r: Runner, ctx: Context, opts: Options) -> str:
    config = opts.config or ctx.settings.config
    plan, text = _do(r, "check-plan-file", lambda: jobs.read_plan_file(config),
                     lambda read: f"{config}: {read[0].district} {read[0].year} 年度, 任务 {len(read[0].tasks)} 项, "
                                  f"单位 {len(read[0].units)} 个, 检查通过")
    report = _do(r, "load-yaml-into-database", lambda: jobs.sync(ctx, plan, text, "fuquan (sync-plan)"),
                 lambda rep: rep.summary())
    return report.summary()


def backup(r: Runner, ctx: Context, opts: Options) -> str:
    schedule = next((s for s in ctx.plan.plan.schedules if s.name == "backup"), None)
    keep = schedule.keep if schedule is not None and schedule.keep else BACKUP_KEEP
    kept = _do(r, "write-backup", lambda: jobs.backup(ctx, keep), lambda k: k.said())
    return str(kept.path)


RECIPES: dict[str, Callable[[Runner, Context, Options], Any]] = {
    "sync-plan": sync_plan, "deadline-check": deadline_check, "backup": backup,
    **{name: report_run(kind) for name, kind in REPORT_KIND.items()},
}
assert set(RECIPES) == set(FLOWS) == set(TITLES), "every flow of fuquan.plans.policy.FLOWS has a recipe and a title"


def run(name: str, r: Runner, ctx: Context, opts: Options) -> Any:
    """Run flow `name` for the context's plan. A scheduled tick of a `workdays_only` schedule does nothing on
    a day off (China's calendar, 调休 included)."""
    if opts.scheduled and name != "sync-plan":
        schedule = next((s for s in ctx.plan.plan.schedules if s.name == name), None)
        day = opts.today or ctx.today()
        if schedule and schedule.workdays_only and not ctx.plan.plan.work_calendar().is_workday(day):
            r.log(f"{day} 不是工作日, {TITLES[name]}按计划只在工作日运行, 本次跳过")
            return f"{day} 不是工作日, 跳过"
    return RECIPES[name](r, ctx, opts)
