"""What every command group shares: the parent parsers (plan choice, --json, --config, operator, task),
argparse with Chinese usage errors, and the edge where a command's runtime context is built.

Light on purpose: `fuquan --help` and `fuquan plan check` import this, and neither needs the database.
"""

from __future__ import annotations

import argparse
import re
import sys
import unicodedata
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from datetime import date, datetime
from pathlib import Path
from typing import TYPE_CHECKING, NoReturn
from zoneinfo import ZoneInfo

if TYPE_CHECKING:
    from fuquan.plans.plan import Plan
    from fuquan.tracking.actor import Actor
    from usecases.context import Context
    from usecases.settings import Settings

MAX_ARG = 4000  # characters of one argument: a note or a path; more is a paste gone wrong


def argv_problem(argv: Sequence[str]) -> str | None:
    """The first argument no command should receive, in words: bytes the terminal sent in another encoding
    (GBK), control characters, or a paste of thousands of characters. Checked before anything is opened."""
    for i, arg in enumerate(argv):
        name = f"参数 {argv[i - 1]}" if i and argv[i - 1].startswith("--") else f"第 {i + 1} 个参数"
        try:
            arg.encode("utf-8")
        except UnicodeEncodeError:
            return f"{name} 含有无法识别的字符: 终端的编码可能不是 UTF-8 (如 GBK); 请把终端改为 UTF-8 后重试"
        if bad := re.search(r"[\x00-\x1f\x7f]", arg):
            return f"{name} 含有控制字符 U+{ord(bad[0]):04X}; 请删去后重试"
        if len(arg) > MAX_ARG:
            return f"{name} 过长 ({len(arg)} 字符, 上限 {MAX_ARG})"
    return None


def bounded(low: int, high: int, what: str) -> Callable[[str], int]:
    """An argparse type: a whole number within [low, high] (全角 digits too); anything else a Chinese error."""

    def parse(text: str) -> int:
        try:
            n = int(unicodedata.normalize("NFKC", text).strip())
        except ValueError:
            raise argparse.ArgumentTypeError(f"{what}应为整数, 实为 “{text}”") from None
        if not low <= n <= high:
            raise argparse.ArgumentTypeError(f"{what}应在 {low} 到 {high} 之间, 实为 {n}")
        return n

    return parse


YEAR = bounded(2000, 2100, "年度")
TASK_NO = bounded(1, 9999, "任务序号")


def day(text: str) -> date:
    try:
        m = re.fullmatch(r"(\d{4})-?(\d{2})-?(\d{2})", text.strip())  # 2024-06-01 or 20240601, nothing looser
        if not m:
            raise ValueError(text)
        d = date(int(m[1]), int(m[2]), int(m[3]))
    except ValueError:
        raise argparse.ArgumentTypeError(f"日期应为 YYYY-MM-DD, 实为 “{text}”") from None
    if not 2000 <= d.year <= 2100:  # a typo (2400, 0023): every working-day count up to it would be built
        raise argparse.ArgumentTypeError(f"日期 {text} 不在 2000–2100 年之间, 请检查是否输错")
    return d


def clock_today(tz: str = "Asia/Shanghai") -> date:
    """The one place the CLI reads the clock; everything below takes `today` as a parameter."""
    return datetime.now(ZoneInfo(tz)).date()


class Parser(argparse.ArgumentParser):
    """argparse with its usage errors in Chinese (its built-in messages are English)."""

    WORDS = ((r"the following arguments are required: (.*)", "缺少参数: {0}"),
             (r"argument (\S+): invalid choice: '(.*?)' \(choose from (.*)\)", "参数 {0} 的值 “{1}” 无效; 可选: {2}"),
             (r"unrecognized arguments: (.*)", "无法识别的参数: {0}"),
             (r"argument (\S+): expected one argument", "参数 {0} 需要一个值"),
             (r"argument (\S+): invalid int value: '(.*)'", "参数 {0} 应为整数, 实为 “{1}”"),
             (r"argument (\S+): (.*)", "参数 {0}: {1}"))

    def error(self, message: str) -> NoReturn:
        for pattern, words in self.WORDS:
            if m := re.fullmatch(pattern, message):
                message = words.format(*m.groups())
                break
        self.print_usage(sys.stderr)
        self.exit(2, f"错误: {message}\n")


class Parents:
    """The option sets commands share, built once per parser."""

    def __init__(self, default_config: str) -> None:
        self.config = Parser(add_help=False)
        self.config.add_argument("--config", default=default_config,
                                 help="计划配置文件 (默认 config/tasks.yaml, 或环境变量 FUQUAN_CONFIG)")
        self.as_json = Parser(add_help=False)
        self.as_json.add_argument("--json", action="store_true", help="以 JSON 输出 (字段稳定, 供程序读取)")
        self.plan = Parser(add_help=False)
        self.plan.add_argument("--year", type=YEAR, help="计划年度 (数据库中有多个计划时与 --district 一起指明; 否则按计划文件)")
        self.plan.add_argument("--district", help="区县 (数据库中有多个计划时指明)")
        self.plan.add_argument("--today", type=day, default=None, help="按哪一天计算 (YYYY-MM-DD, 默认今天)")
        self.who = Parser(add_help=False)
        self.who.add_argument("--operator", help="登记人 (记入审计记录; 默认环境变量 FUQUAN_USER 或系统用户名)")
        self.task = Parser(add_help=False)
        self.task.add_argument("--task", type=TASK_NO, help="任务序号 (有多项同类任务时必填)")
        self.record = [self.plan, self.who, self.task]


def settings(args: argparse.Namespace) -> Settings:
    return args.settings  # type: ignore[no-any-return]  # read once in main()


@contextmanager
def plan_context(args: argparse.Namespace, *, stream: object = None) -> Iterator[Context]:
    """The runtime context of one command, on the plan its --year/--district name."""
    from usecases.context import open_context

    with open_context(settings(args), stream=stream) as ctx:  # type: ignore[arg-type]
        yield ctx.choose(getattr(args, "year", None), getattr(args, "district", None), by_file=lambda: file_plan(args))


def load_plan(path: str | Path) -> Plan:
    """The plan file, validated (ruamel and the schema load here: only the commands that read YAML pay)."""
    from fuquan.plans.loader import load_plan

    return load_plan(path)


def file_plan(args: argparse.Namespace) -> tuple[str, int] | None:
    """(district, year) of the plan file in use (--config, FUQUAN_CONFIG, config/tasks.yaml), if it reads."""
    from fuquan.errors import PlanError

    try:
        plan = load_plan(getattr(args, "config", None) or settings(args).config)
    except PlanError:
        return None
    return plan.district, plan.year


def actor(args: argparse.Namespace, source: str = "cli") -> Actor:
    from fuquan.tracking.actor import Actor

    return Actor(getattr(args, "operator", None) or settings(args).user, source)


def print_warnings(warnings: list[str]) -> None:
    for w in warnings:
        print(w, file=sys.stderr)
