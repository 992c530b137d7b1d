"""The scale-out path, tried on one machine as separate processes (`make scaleout`):

    PostgreSQL (scripts/pg.sh)  ←  Prefect server (its database on PostgreSQL)
                                ←  fuquan's tracker database on PostgreSQL
    `fuquan deploy --pool fuquan`   the plan's flows registered to a process work pool
    N × `prefect worker start --pool fuquan`   workers that pick runs up and run them

Then it starts a handful of flow runs — the same day's deadline check twice, so that two workers race for
the same reminders — follows each to its end, and prints which worker ran which and whether any reminder
went out twice. Every run starts from empty databases. With
--keep everything stays up (the UI on http://127.0.0.1:PORT) until Ctrl-C. Logs: data/scaleout/.
On other machines the same: point PREFECT_API_URL at the server and FUQUAN_DATABASE_URL at the database,
check out this repository, run the worker command.
"""

from __future__ import annotations

import argparse
import os
import re
import signal
import subprocess
import sys
import time
from pathlib import Path
from urllib.parse import quote

import httpx
from sqlalchemy import create_engine, text
from sqlalchemy.engine import make_url

from flows.prefect_env import healthy
from flows.registry import deployment_name

ROOT = Path(__file__).resolve().parent.parent
BIN = Path(sys.executable).parent
# force: the demonstration runs at any hour; a real daily check keeps to the send window and working days
RUNS = [("deadline-check", {"today": "2023-04-28", "force": True}), ("deadline-check", {"today": "2023-04-28", "force": True}),
        ("monthly-status", {"today": "2023-06-21"}), ("quarterly-analysis", {"today": "2023-07-05"})]


def database(admin: str, name: str, driver: str) -> str:
    """A new, empty database NAME (the demonstration's own: an earlier one is dropped)."""
    engine = create_engine(admin, isolation_level="AUTOCOMMIT")
    with engine.connect() as conn:
        conn.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
        conn.execute(text(f'CREATE DATABASE "{name}"'))
    engine.dispose()
    return make_url(admin).set(drivername=driver, database=name).render_as_string(hide_password=False)


def wait_healthy(api: str, proc: subprocess.Popen[bytes], log: Path) -> None:
    for _ in range(180):
        if proc.poll() is not None:
            sys.exit(f"错误: Prefect 服务退出了, 见 {log}")
        if healthy(api, timeout=2):
            return
        time.sleep(1)
    sys.exit(f"错误: Prefect 服务 180 秒内未就绪, 见 {log}")


def start_run(api: str, flow: str, params: dict[str, object]) -> str:
    name = quote(deployment_name(flow, "芜湖市湾沚区", 2023))  # what the flow does and for which plan
    dep = httpx.get(f"{api}/deployments/name/{flow}/{name}", timeout=10).raise_for_status().json()
    run = httpx.post(f"{api}/deployments/{dep['id']}/create_flow_run", json={"parameters": params},
                     timeout=10).raise_for_status().json()
    return str(run["id"])


def follow(api: str, run_ids: dict[str, str], timeout: float) -> dict[str, str]:
    states: dict[str, str] = {}
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline and len(states) < len(run_ids):
        for rid, label in run_ids.items():
            if rid in states:
                continue
            state = httpx.get(f"{api}/flow_runs/{rid}", timeout=10).raise_for_status().json()["state"]
            if state["type"] in ("COMPLETED", "FAILED", "CRASHED", "CANCELLED"):
                states[rid] = state["type"]
                print(f"  {label}: {state['name']}")
        time.sleep(1)
    return states


def main() -> int:
    p = argparse.ArgumentParser(description="fuquan scale-out: Prefect on PostgreSQL, a work pool, workers")
    p.add_argument("--workers", type=int, default=2)
    p.add_argument("--limit", type=int, default=1, help="flow runs at once per worker (default 1)")
    p.add_argument("--port", type=int, default=4300)
    p.add_argument("--keep", action="store_true", help="keep everything running until Ctrl-C")
    p.add_argument("--timeout", type=float, default=300, help="seconds to wait for the runs")
    p.add_argument("--admin-url", help="a PostgreSQL admin URL (default: the server of scripts/pg.sh, started)")
    p.add_argument("--name", default="scaleout", help="prefix of the two databases, and data/NAME for the logs")
    args = p.parse_args()

    admin = args.admin_url or subprocess.run(["bash", str(ROOT / "scripts" / "pg.sh"), "start"], check=True,
                                             capture_output=True, text=True).stdout.strip()
    logs = ROOT / "data" / args.name
    logs.mkdir(parents=True, exist_ok=True)
    api = f"http://127.0.0.1:{args.port}/api"
    env = {**os.environ, "PREFECT_HOME": str(logs / "prefect"), "PREFECT_API_URL": api, "PREFECT_UI_API_URL": api,
           "PREFECT_SERVER_ANALYTICS_ENABLED": "false",
           "PREFECT_API_DATABASE_CONNECTION_URL": database(admin, f"{args.name}_prefect", "postgresql+asyncpg"),
           "FUQUAN_DATABASE_URL": database(admin, f"{args.name}_fuquan", "postgresql+psycopg"),
           "FUQUAN_NOTIFY_FILE": str(logs / "notifications.md"),
           # the logs are files here, and which worker ran which flow run is read from them (INFO lines)
           "PREFECT_LOGGING_LEVEL": "INFO", "PREFECT_LOGGING_HANDLERS_CONSOLE_LEVEL": "INFO"}
    env.pop("SLACK_BOT_TOKEN", None)  # a demonstration: reminders go to the file
    (logs / "prefect").mkdir(exist_ok=True)
    (logs / "notifications.md").unlink(missing_ok=True)
    procs: list[subprocess.Popen[bytes]] = []

    def spawn(cmd: list[str], log: Path) -> subprocess.Popen[bytes]:
        proc = subprocess.Popen(cmd, cwd=ROOT, env=env, stdout=log.open("wb"), stderr=subprocess.STDOUT,
                                start_new_session=True)
        procs.append(proc)
        return proc

    def fuquan(*a: str) -> None:
        subprocess.run([str(BIN / "fuquan"), *a], cwd=ROOT, env=env, check=True)

    try:
        print(f"Prefect 服务 (数据库: PostgreSQL) → http://127.0.0.1:{args.port}")
        server_log = logs / "server.log"
        server = spawn([str(BIN / "prefect"), "server", "start", "--host", "127.0.0.1", "--port", str(args.port)],
                       server_log)
        wait_healthy(api, server, server_log)
        fuquan("sync")
        fuquan("deploy", "--pool", "fuquan")
        for i in range(1, args.workers + 1):
            spawn([str(BIN / "prefect"), "worker", "start", "--pool", "fuquan", "--name", f"worker-{i}",
                   "--limit", str(args.limit)],
                  logs / f"worker-{i}.log")
        print(f"已启动 {args.workers} 个 worker; 触发 {len(RUNS)} 次流程运行 …")
        t = time.monotonic()
        run_ids = {start_run(api, flow, params): f"{flow} {params['today']}" for flow, params in RUNS}
        states = follow(api, run_ids, args.timeout)
        took = time.monotonic() - t
        by_worker = {}
        for i in range(1, args.workers + 1):
            log = (logs / f"worker-{i}.log").read_text(encoding="utf-8", errors="replace")
            by_worker[f"worker-{i}"] = len({rid for rid in run_ids if re.search(re.escape(rid), log)})
        done = sum(1 for s in states.values() if s == "COMPLETED")
        print(f"结果: {done}/{len(run_ids)} 次运行完成, 用时 {took:.0f} 秒; 各 worker 执行: "
              + ", ".join(f"{w} {n} 次" for w, n in by_worker.items()))
        sent = re.findall(r"<!-- (\S+) -->", (logs / "notifications.md").read_text(encoding="utf-8"))
        print(f"发出的消息: {len(sent)} 条, 其中不重复 {len(set(sent))} 条 (同一天的检查运行了两次)")
        if args.keep:
            print(f"看板: http://127.0.0.1:{args.port}  (Ctrl-C 停止)")
            signal.pause()
        return 0 if done == len(run_ids) and all(by_worker.values()) and sent and len(sent) == len(set(sent)) else 1
    except KeyboardInterrupt:
        return 0
    finally:
        for proc in reversed(procs):
            if proc.poll() is None:
                os.killpg(proc.pid, signal.SIGTERM)
        for proc in procs:
            try:
                proc.wait(20)
            except subprocess.TimeoutExpired:
                os.killpg(proc.pid, signal.SIGKILL)


if __name__ == "__main__":
    sys.exit(main())
