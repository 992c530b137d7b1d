"""`fuquan import FILE` and `fuquan template KIND`: the CSV/Excel sheets offices send back and forth
(the import run itself is flows/imports.py; the blank sheets reports/templates.py)."""

from __future__ import annotations

import argparse
from dataclasses import replace
from pathlib import Path
from typing import Any

from .common import Parents, actor, load_plan, plan_context
from .output import console

KINDS = ["letters", "plans", "sessions", "training", "exams", "reports"]
HELP = "letters=承接确认书, plans=培训指导计划, sessions=培训场次, training=岗前培训完成, exams=考试结果, reports=月报"


def register(sub: Any, p: Parents) -> None:
    im = sub.add_parser("import", parents=[p.plan, p.who], help="从 CSV / Excel 导入登记数据 (先全部校验, 有错则不写入)")
    im.add_argument("file", metavar="文件", help=".csv 或 .xlsx; Excel 可含多个工作表")
    im.add_argument("--kind", choices=KINDS, help=f"表格类型 (默认按工作表名或表头识别): {HELP}")
    im.add_argument("--replace", action="store_true", help="允许覆盖已登记的内容 (默认: 会改变已有记录的行一律报错, 不写入)")
    im.set_defaults(func=import_file)
    tp = sub.add_parser("template", parents=[p.config, p.task],
                        help="生成登记表 (标明计划、预填要填的行、带下拉选项), 发给各单位填写")
    tp.add_argument("kind", choices=KINDS, help=HELP)
    tp.add_argument("--out", help="输出文件 (.xlsx 或 .csv; 默认 <表名>.xlsx)")
    tp.add_argument("--month", type=month, help="月报: 只预填这一个月 (YYYY-MM; 默认全年各月)")
    tp.set_defaults(func=template)


def import_file(args: argparse.Namespace) -> int:
    from rich.progress import Progress

    from usecases import imports

    path = Path(args.file)
    err = console(stderr=True)
    # A progress bar for people; nothing on a pipe or in CI, where it would only be noise.
    with plan_context(args) as ctx, Progress(console=err, transient=True, disable=not err.is_terminal) as bar:
        job = bar.add_task("校验并导入", total=None)
        who = replace(actor(args, f"import:{path.name}"), replace=args.replace)
        done = imports.import_file(ctx, path, kind=args.kind, actor=who, today=args.today,
                                   advance=lambda: bar.advance(job), started=lambda n: bar.update(job, total=n))
    console().print(f"{ctx.plan.label}: 已导入 {path.name}: " + ", ".join(f"{k} {n} 行" for k, n in done.items()))
    return 0


def month(text: str) -> str:
    """A month as 月报 periods are written (fuquan.tracking.progress.period: 2024-05, 2024-5)."""
    from fuquan.errors import InvalidValue
    from fuquan.tracking.progress import period

    try:
        return period(text)
    except InvalidValue as e:
        raise argparse.ArgumentTypeError(str(e)) from None


def template(args: argparse.Namespace) -> int:
    from fuquan.words.sheets import KINDS as SHEETS
    from reports.templates import write_template

    kind = SHEETS[args.kind]
    plan = load_plan(args.config)  # the sheet speaks the plan's words (乡镇（街道）), names its units and figures
    out = Path(args.out or f"{kind.label}.xlsx")
    t = write_template(kind, plan, out, args.task, args.month)
    rows = f"预填 {len(t.rows)} 行" if t.rows else "未预填 (计划中没有跟踪这类事项的任务)"
    console().print(f"已生成模板 {out}: {t.title.split(' — ')[0]}, {rows}; 表头: {'、'.join(t.headers)}")
    return 0
