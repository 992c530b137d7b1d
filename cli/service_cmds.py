"""`fuquan run`, `fuquan serve` and `fuquan scheduler`: the commands that run flows. Only these
import Prefect (or APScheduler), and only after pointing Prefect at the right server."""

from __future__ import annotations

import argparse
import signal
import sys
import threading
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from typing import Any, cast
from zoneinfo import ZoneInfo

from fuquan.errors import FuquanError, InvalidValue
from fuquan.plans.policy import FLOWS

from .common import Parents, load_plan, plan_context, settings
from .output import console

ROOT = Path(__file__).resolve().parent.parent  # the checkout workers run the flows from


def register(sub: Any, p: Parents) -> None:
    rn = sub.add_parser("run", parents=[p.plan, p.config], help="立即运行一个流程 (记录在 Prefect 看板)")
    rn.add_argument("flow", choices=list(FLOWS), metavar="流程", help="、".join(FLOWS))
    rn.add_argument("--force", action="store_true", help="deadline-check: 非工作日或免打扰时段也发送提醒")
    rn.add_argument("--now", help=argparse.SUPPRESS)  # ISO time of a replay (quiet hours judged at it), for tests
    rn.set_defaults(func=run)
    sv = sub.add_parser("serve", parents=[p.config], help="按 config/tasks.yaml 的 schedules 登记并运行 Prefect 定时流程")
    sv.set_defaults(func=serve)
    dp = sub.add_parser("deploy", parents=[p.config], help="把定时流程登记到 Prefect 工作池, 由 worker 进程执行 (扩展部署)")
    dp.add_argument("--pool", default="fuquan", help="工作池名称 (默认 fuquan; 不存在则创建 process 类型)")
    dp.set_defaults(func=deploy)
    sc = sub.add_parser("scheduler", parents=[p.config], help="无 Prefect 服务时的定时器 (APScheduler, 任务存于数据库)")
    sc.add_argument("--once", action="store_true", help="只登记定时任务并显示下次运行时间, 然后退出")
    sc.set_defaults(func=scheduler)



def _prefect(args: argparse.Namespace) -> str | None:
    from flows.prefect_env import ENVIRONMENT, healthy
    from usecases.settings import prefect_environment

    url = prefect_environment(settings(args).data_dir, defaults=ENVIRONMENT, healthy=healthy)
    if url is None:
        print("注意: 没有为本数据目录运行的 Prefect 服务 (make run 启动的, 或环境变量 PREFECT_API_URL 指定的), 以临时模式"
              "运行, 启动较慢, 运行记录不进看板; 运行 make run 可启动看板", file=sys.stderr)
    return url


def _moment(text: str, tz: str) -> datetime:
    """--now as an aware moment (in the plan's time zone unless it says)."""
    try:
        t = datetime.fromisoformat(text)
    except ValueError:
        raise InvalidValue(f"--now 应为 YYYY-MM-DDTHH:MM, 实为 “{text}”") from None
    return t if t.tzinfo else t.replace(tzinfo=ZoneInfo(tz))


def run(args: argparse.Namespace) -> int:
    if args.force and args.flow != "deadline-check":
        raise InvalidValue(f"--force 只用于 deadline-check (非工作日或免打扰时段也发送提醒); {args.flow} 不发送提醒")
    url = _prefect(args)
    params: dict[str, Any] = {"force": True} if args.force else {}
    if args.flow == "sync-plan":
        params["config"] = args.config
        plan = load_plan(args.config)
        district, year = plan.district, plan.year
    else:
        with plan_context(args) as ctx:
            district, year = ctx.plan.plan.district, ctx.plan.plan.year
        params.update(year=year, district=district)
        if args.today_given:
            params["today"] = args.today.isoformat()
        if args.now:
            params["now"] = _moment(args.now, ctx.plan.plan.timezone).isoformat()
    from prefect import tags
    from prefect.states import State

    from flows.prefect_flows import PREFECT_FLOWS

    with tags("fuquan", district, f"{year}年度"):
        final = cast(State, PREFECT_FLOWS[args.flow](**params, return_state=True))
    run_id = final.state_details.flow_run_id
    from flows.prefect_env import run_path, site_url

    where = f"; 看板: {site_url(url)}{run_path(run_id)}" if url else ""
    if final.is_failed() or final.is_crashed():
        raise FuquanError(f"{args.flow} 运行失败: {final.message}{where}")
    console().print(f"已运行 {args.flow} ({district} {year} 年度): {_said(final.result())}{where}", soft_wrap=True)
    return 0


@dataclass
class Spec:
    """One deployment of a flow, as config/tasks.yaml's `schedules:` asks for it."""

    flow: str
    name: str
    cron: str | None
    timezone: str
    tags: list[str]
    parameters: dict[str, Any]
    description: str


def _specs(config: str) -> list[Spec]:
    plan = load_plan(config)
    from flows.registry import TITLES, deployment_name

    labels = ["fuquan", plan.district, f"{plan.year}年度"]
    specs = [Spec(s.name, deployment_name(s.name, plan.district, plan.year), s.cron, plan.timezone, labels,
                  {"year": plan.year, "district": plan.district},
                  f"{TITLES[s.name]}: {FLOWS[s.name]} · {plan.district} {plan.year} 年度 · 定时 {s.cron}")
             for s in plan.schedules if s.name != "sync-plan"]
    specs.append(Spec("sync-plan", deployment_name("sync-plan", plan.district, plan.year), None, plan.timezone,
                      labels, {"config": str(config)}, f"{TITLES['sync-plan']}: 按需运行, 校验并载入计划配置"))
    return specs


def serve(args: argparse.Namespace) -> int:
    """The flows in this process (Prefect's runner): what `make run` does on one machine."""
    url = _prefect(args)
    if url is None:
        raise FuquanError("未找到 Prefect 服务; 请用 make run 启动 (会同时启动服务和看板), 或设置 PREFECT_API_URL")
    from prefect import serve as prefect_serve
    from prefect.deployments.runner import RunnerDeployment
    from prefect.schedules import Cron

    from flows.prefect_flows import PREFECT_FLOWS

    deployments = [cast(RunnerDeployment, PREFECT_FLOWS[d.flow].to_deployment(
        name=d.name, schedule=Cron(d.cron, timezone=d.timezone) if d.cron else None, tags=d.tags,
        parameters=d.parameters, description=d.description)) for d in _specs(args.config)]
    from flows.prefect_env import deployments_path, site_url

    console().print(f"已登记 {len(deployments)} 个定时流程: {site_url(url)}{deployments_path()}", soft_wrap=True)
    _print_board(args, url)
    _stop_on_sigterm()
    prefect_serve(*deployments, print_starting_message=False)
    return 0


def _print_board(args: argparse.Namespace, url: str) -> None:
    """Where the 专班 looks each day (今日督办, the latest board of the plan), once the plan is in the database: published
    now, so the address works before the first daily check."""
    from flows.prefect_env import board_path, site_url
    from flows.prefect_flows import publish_board
    from usecases.context import open_context

    plan = load_plan(args.config)
    try:
        with open_context(settings(args)) as ctx:
            ctx = ctx.choose(plan.year, plan.district)
            plan_id, year = ctx.plan.id, plan.year
            publish_board(ctx)
    except FuquanError as e:
        console().print(f"今日督办暂未发布 ({e}); 每日检查运行后发布", soft_wrap=True)
        return  # not synced yet: `make run` syncs first
    console().print(f"今日督办: {site_url(url)}{board_path(plan_id, year)}", soft_wrap=True)


def deploy(args: argparse.Namespace) -> int:
    """The same deployments, handed to a work pool: any number of `prefect worker start --pool …`
    processes (on this or other machines, with this checkout and FUQUAN_DATABASE_URL) run them."""
    url = _prefect(args)
    if url is None:
        raise FuquanError("未找到 Prefect 服务; 请设置 PREFECT_API_URL 指向 Prefect 服务 (如 http://主机:4200/api)")
    from prefect import Flow
    from prefect.deployments.runner import RunnerDeployment
    from prefect.schedules import Cron

    from flows.prefect_flows import PREFECT_FLOWS

    _ensure_pool(args.pool)
    specs = _specs(args.config)
    for d in specs:
        entry = PREFECT_FLOWS[d.flow]
        # (from a synchronous caller from_source returns the flow, not a coroutine)
        source = cast("Flow[..., Any]", entry.from_source(source=str(ROOT),
                                                          entrypoint=f"flows/prefect_flows.py:{entry.fn.__name__}"))
        # to_deployment + apply rather than Flow.deploy: 3.8.8's deploy() first lists the pool's workers with
        # `limit: null`, which its own server refuses (422), and fails after nothing was registered.
        deployment = cast(RunnerDeployment, source.to_deployment(
            name=d.name, work_pool_name=args.pool, tags=d.tags, parameters=d.parameters,
            schedule=Cron(d.cron, timezone=d.timezone) if d.cron else None, description=d.description))
        deployment.apply()
    console().print(f"已向工作池 {args.pool} 登记 {len(specs)} 个流程 (代码目录 {ROOT}); "
                    f"在每台执行机上运行: prefect worker start --pool {args.pool}")
    return 0


def _ensure_pool(name: str) -> None:
    from prefect.client.orchestration import get_client
    from prefect.client.schemas.actions import WorkPoolCreate
    from prefect.exceptions import ObjectAlreadyExists

    with get_client(sync_client=True) as client:
        try:
            client.create_work_pool(WorkPoolCreate(name=name, type="process"))
            console().print(f"已创建工作池 {name} (process 类型)")
        except ObjectAlreadyExists:
            pass


def scheduler(args: argparse.Namespace) -> int:
    from flows import scheduler as sched
    from usecases.reads import prepare_database

    plan = load_plan(args.config)
    url = settings(args).database_url
    prepare_database(url)  # the job store shares the database: create it and its schema first
    s = sched.build(url, plan.timezone)
    s.start(paused=True)
    for change in sched.install(s, list(plan.schedules), plan.timezone, (plan.district, plan.year)):
        console().print(f"定时任务: {change}")
    for name, when in sched.next_runs(s).items():
        console().print(f"  {name}: 下次运行 {when:%Y-%m-%d %H:%M %Z}" if when else f"  {name}: 无")
    if args.once:
        s.shutdown(wait=False)
        return 0
    stop = threading.Event()
    signal.signal(signal.SIGTERM, lambda *_: stop.set())
    console().print("定时器运行中 (Ctrl-C 退出)")
    s.resume()
    try:
        stop.wait()
    except KeyboardInterrupt:
        pass
    s.shutdown(wait=True)  # let a running job finish: it holds no lock across a send
    return 0


def _stop_on_sigterm() -> None:
    """Prefect 3.8.8's runner answers SIGTERM by calling its async stop() without awaiting it, and
    the process hangs (measured under `make run`). Turn SIGTERM into the KeyboardInterrupt that
    `serve()` already handles cleanly (it pauses the deployments and exits)."""
    from prefect.runner import runner as prefect_runner

    def handle_sigterm(self: Any, *args: Any, **kwargs: Any) -> None:
        raise KeyboardInterrupt

    prefect_runner.Runner.handle_sigterm = handle_sigterm  # type: ignore[method-assign]


def _said(result: Any) -> str:
    """A flow's return value, in words for the 专班; a deadline check that sent nothing says why."""
    if not (isinstance(result, dict) and {"rows", "due", "sent"} <= set(result)):
        return str(result)
    said = f"分工 {result['rows']} 项, 到期提醒 {result['due']} 条, 本次发送 {result['sent']} 条"
    if skipped := result.get("skipped"):  # not a working day, quiet hours: flows/dispatch.py's words
        return f"{said} —— {skipped}"
    if result.get("undelivered"):
        return f"{said}, {result['undelivered']} 条未送达 (原因见 fuquan reminders log)"
    if result.get("shown"):  # no channel configured for them: the console notifier printed and filed them
        return f"{said} (其中 {result['shown']} 条未配置发送渠道, 只显示在屏幕上并记入提醒文件)"
    if result["sent"]:
        return said
    if not result["due"]:
        return f"{said} —— 没有到期的提醒"
    return f"{said} —— 到期提醒都已发送过 (每条提醒只发一次)"
