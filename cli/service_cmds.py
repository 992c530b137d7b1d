"""`fuquan run`, `fuquan serve` and `fuquan scheduler`: the commands that run flows. Only these
import Prefect (or APScheduler), and only after pointing Prefect at the right server."""

from __future__ import annotations

import argparse
import signal
import sys
import threading
from typing import Any, cast

from fuquan.errors import FuquanError
from fuquan.loader import load_plan

from .output import console


def _prefect() -> str | None:
    from flows import prefect_env

    url = prefect_env.configure()
    if url is None:
        print("注意: 未检测到 Prefect 服务 (127.0.0.1:4200), 以临时模式运行, 启动较慢; "
              "运行 make run 可启动看板", file=sys.stderr)
    return url


def run(args: argparse.Namespace) -> int:
    url = _prefect()
    from flows import jobs, prefect_flows

    params: dict[str, Any] = {}
    if args.flow == "sync-plan":
        params["config"] = args.config
        plan = load_plan(args.config)
        district, year = plan.district, plan.year
    else:
        row = jobs.plan_row(args.year, args.district)
        district, year = row.district, row.year
        params.update(year=year, district=district)
        if args.today_given:
            params["today"] = args.today.isoformat()
    from prefect import tags
    from prefect.states import State

    with tags("fuquan", district, f"{year}年度"):
        final = cast(State, prefect_flows.FLOWS[args.flow](**params, return_state=True))
    run_id = final.state_details.flow_run_id
    where = f"; 看板: {url.removesuffix('/api')}/runs/flow-run/{run_id}" if url else ""
    if final.is_failed() or final.is_crashed():
        raise FuquanError(f"{args.flow} 运行失败: {final.message}{where}")
    console().print(f"已运行 {args.flow} ({district} {year} 年度): {_said(final.result())}{where}")
    return 0


def serve(args: argparse.Namespace) -> int:
    url = _prefect()
    if url is None:
        raise FuquanError("未找到 Prefect 服务; 请用 make run 启动 (会同时启动服务和看板), 或设置 PREFECT_API_URL")
    from prefect import serve as prefect_serve
    from prefect.deployments.runner import RunnerDeployment
    from prefect.schedules import Cron

    from flows.prefect_flows import FLOWS

    plan = load_plan(args.config)
    labels = ["fuquan", plan.district, f"{plan.year}年度"]
    deployments: list[RunnerDeployment] = [
        cast(RunnerDeployment, FLOWS[s.name].to_deployment(
            name=f"{plan.year}", schedule=Cron(s.cron, timezone=plan.timezone), tags=labels,
            parameters={"year": plan.year}, description=f"{plan.district} {plan.year} 年度 · {s.cron}"))
        for s in plan.schedules if s.name != "sync-plan"]
    deployments.append(cast(RunnerDeployment, FLOWS["sync-plan"].to_deployment(
        name=f"{plan.year}", tags=labels, parameters={"config": str(args.config)},
        description="按需运行: 校验并载入计划配置")))
    console().print(f"已登记 {len(deployments)} 个定时流程, 看板: {url.removesuffix('/api')}/deployments")
    _stop_on_sigterm()
    prefect_serve(*deployments, print_starting_message=False)
    return 0


def scheduler(args: argparse.Namespace) -> int:
    from flows import scheduler as sched
    from models.db import database_url

    plan = load_plan(args.config)
    s = sched.build(database_url(), plan.timezone)
    s.start(paused=True)
    for change in sched.install(s, list(plan.schedules), plan.timezone):
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
    """A flow's return value, in words for the 专班."""
    if isinstance(result, dict) and {"rows", "due", "sent"} <= set(result):
        return f"分工 {result['rows']} 项, 到期提醒 {result['due']} 条, 本次发送 {result['sent']} 条"
    return str(result)
