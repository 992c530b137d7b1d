"""The `fuquan` command. Parses arguments, runs one command, and is the only place where a
FuquanError becomes `错误: …` on stderr and an exit code. Unexpected errors keep their traceback.

Read-only commands import neither Prefect nor the database layer unless they need it.
"""

from __future__ import annotations

import argparse
import os
import sys
from collections.abc import Callable, Sequence
from datetime import date, datetime
from zoneinfo import ZoneInfo

from fuquan.errors import FuquanError

DEFAULT_CONFIG = "config/tasks.yaml"
Handler = Callable[[argparse.Namespace], int]


def _today(text: str) -> date:
    try:
        return date.fromisoformat(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"日期应为 YYYY-MM-DD, 实为 “{text}”") from None


def clock_today(tz: str = "Asia/Shanghai") -> date:
    """The one place the CLI reads the clock; everything below takes `today` as a parameter."""
    return datetime.now(ZoneInfo(tz)).date()


def _lazy(module: str, name: str) -> Handler:
    def run(args: argparse.Namespace) -> int:
        import importlib

        return int(getattr(importlib.import_module(f"cli.{module}"), name)(args))

    return run


def build_parser() -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(prog="fuquan", description="镇赋权任务督办: 计划、进度、提醒")
    sub = p.add_subparsers(dest="command", required=True, metavar="命令")
    config = argparse.ArgumentParser(add_help=False)
    config.add_argument("--config", default=os.environ.get("FUQUAN_CONFIG", DEFAULT_CONFIG),
                        help=f"计划配置文件 (默认 {DEFAULT_CONFIG}, 或环境变量 FUQUAN_CONFIG)")
    as_json = argparse.ArgumentParser(add_help=False)
    as_json.add_argument("--json", action="store_true", help="以 JSON 输出 (字段稳定, 供程序读取)")

    plan = sub.add_parser("plan", help="检查或查看计划配置").add_subparsers(dest="plan_cmd", required=True, metavar="子命令")
    plan.add_parser("check", parents=[config], help="检查计划配置, 列出全部错误").set_defaults(func=_lazy("plan_cmds", "plan_check"))
    plan.add_parser("show", parents=[config, as_json], help="显示 15 项任务及截止日期").set_defaults(func=_lazy("plan_cmds", "plan_show"))

    dl = sub.add_parser("deadline", help="完成时限解析").add_subparsers(dest="deadline_cmd", required=True, metavar="子命令")
    parse = dl.add_parser("parse", parents=[as_json], help="解析完成时限写法")
    parse.add_argument("--year", type=int, default=clock_today().year, help="计划年度 (默认今年)")
    parse.add_argument("text", nargs="+", help="完成时限原文, 如 3月底前")
    parse.set_defaults(func=_lazy("plan_cmds", "deadline_parse"))

    sync = sub.add_parser("sync", parents=[config, as_json], help="把计划配置写入数据库 (单一事务)")
    sync.set_defaults(func=_lazy("db_cmds", "sync"))

    st = sub.add_parser("status", parents=[as_json], help="各项任务的进度与逾期情况")
    st.add_argument("--today", type=_today, default=None, help="按哪一天计算 (YYYY-MM-DD, 默认今天)")
    st.add_argument("--year", type=int, help="计划年度 (默认最新)")
    st.add_argument("--district", help="区县 (数据库中有多个区县时必填)")
    st.add_argument("--warn-days", type=int, default=5, help="临近截止的提醒天数 (默认 5)")
    st.set_defaults(func=_lazy("db_cmds", "status"))
    return p


def main(argv: Sequence[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    if getattr(args, "today", "absent") is None:
        args.today = clock_today()
    try:
        return args.func(args)  # type: ignore[no-any-return]
    except FuquanError as e:
        print(f"错误: {e}", file=sys.stderr)
        return e.exit_code
    except KeyboardInterrupt:
        print("已中断", file=sys.stderr)
        return 130


if __name__ == "__main__":
    sys.exit(main())
