"""The `fuquan` command. Reads the settings once, lets each command group add its subcommands (one file a
group), runs one command, and is the only place where a FuquanError becomes `错误: …` on stderr and an
exit code. Unexpected errors keep their traceback.

Each group's module is light at import (its handlers import the database layer, Prefect and the rest only
when they run), so `fuquan --help`, `plan check` and `deadline parse` stay fast.
"""

from __future__ import annotations

import argparse
import sys
import traceback
from collections.abc import Sequence

from fuquan.errors import FuquanError

from . import (
    backup_cmds,
    calendar_cmds,
    db_cmds,
    grid_cmds,
    import_cmds,
    ops_cmds,
    plan_cmds,
    record_cmds,
    remind_cmds,
    report_cmds,
    score_cmds,
    service_cmds,
    web_cmds,
)
from .common import Parents, Parser, argv_problem, clock_today

GROUPS = (plan_cmds, db_cmds, grid_cmds, record_cmds, report_cmds, remind_cmds, service_cmds, import_cmds, calendar_cmds,
          web_cmds, backup_cmds, ops_cmds, score_cmds)


def build_parser(default_config: str = "config/tasks.yaml") -> argparse.ArgumentParser:
    p = Parser(prog="fuquan", description="镇赋权任务督办: 计划、进度、提醒")
    sub = p.add_subparsers(dest="command", required=True, metavar="命令")
    parents = Parents(default_config)
    for group in GROUPS:
        group.register(sub, parents)
    return p


def main(argv: Sequence[str] | None = None) -> int:
    from notifications.base import redact
    from usecases.settings import Settings

    settings = Settings.from_env()
    secrets = settings.secrets()
    # An unexpected error keeps its traceback, without a credential in it (a robot's URL is one).
    sys.excepthook = lambda kind, value, tb: sys.stderr.write(
        redact("".join(traceback.format_exception(kind, value, tb)), secrets))
    argv = list(sys.argv[1:] if argv is None else argv)
    if problem := argv_problem(argv):
        print(f"错误: {problem}", file=sys.stderr)
        return 2
    args = build_parser(str(settings.config)).parse_args(argv)
    args.settings = settings
    args.today_given = getattr(args, "today", None) is not None
    if getattr(args, "today", "absent") is None:
        args.today = clock_today()
    try:
        return args.func(args)  # type: ignore[no-any-return]
    except FuquanError as e:
        print(f"错误: {redact(str(e), secrets)}", file=sys.stderr)
        return e.exit_code
    except KeyboardInterrupt:
        print("已中断", file=sys.stderr)
        return 130


if __name__ == "__main__":
    sys.exit(main())
