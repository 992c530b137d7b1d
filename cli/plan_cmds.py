"""`fuquan plan check|show|import|new` and `fuquan deadline parse`: files only (plan files, notices), never the database.
`plan close|reopen` act on the plan year in the database and live in plan_year_cmds.py."""

from __future__ import annotations

import argparse
import sys
from pathlib import Path
from typing import Any

from fuquan.dates.deadline import parse_deadline
from fuquan.errors import DeadlineError, FuquanError, PlanError, Problem

from . import plan_year_cmds
from .common import YEAR, Parents, clock_today, day, load_plan, print_warnings
from .output import console, print_json, table


def register(sub: Any, p: Parents) -> None:
    plan = sub.add_parser("plan", help="检查或查看计划配置; 关闭或重新打开计划年度").add_subparsers(dest="plan_cmd", required=True, metavar="子命令")
    plan.add_parser("check", parents=[p.config], help="检查计划配置, 列出全部错误").set_defaults(func=plan_check)
    plan.add_parser("show", parents=[p.config, p.as_json], help="显示全部任务及截止日期").set_defaults(func=plan_show)
    im = plan.add_parser("import", help="读取通知的任务清单 (.docx / .txt / .xlsx), 生成计划文件草稿")
    im.add_argument("notice", metavar="通知文件", help="实施方案通知: Word (.docx)、复制出的文字 (.txt) 或 Excel (.xlsx)")
    im.add_argument("--like", required=True, metavar="计划文件",
                    help="提醒策略、渠道设置、定时运行、节假日安排取自这个计划文件 (其中的任务不用); 单位和单位组只取通知中列出的")
    im.add_argument("--out", required=True, metavar="草稿文件", help="写出的计划文件草稿 (.yaml)")
    im.add_argument("--force", action="store_true", help="草稿文件已存在时覆盖它")
    im.set_defaults(func=plan_import)
    new = plan.add_parser("new", help="生成下一年度的计划文件: 沿用单位、策略等, 年份顺延")
    new.add_argument("--from", dest="source", required=True, metavar="计划文件", help="本年度的计划文件")
    new.add_argument("--year", type=YEAR, required=True, help="新的计划年度")
    new.add_argument("--out", required=True, metavar="新计划文件", help="写出的新计划文件 (.yaml)")
    new.add_argument("--issued", type=day, help="新方案的印发日期 (不知道时不写: 暂填 1 月 1 日并标明待填写)")
    new.add_argument("--force", action="store_true", help="新计划文件已存在时覆盖它")
    new.set_defaults(func=plan_new)
    plan_year_cmds.register(plan, p)
    dl = sub.add_parser("deadline", help="完成时限解析").add_subparsers(dest="deadline_cmd", required=True, metavar="子命令")
    parse = dl.add_parser("parse", parents=[p.as_json], help="解析完成时限写法")
    parse.add_argument("--year", type=YEAR, default=clock_today().year, help="计划年度 (默认今年)")
    parse.add_argument("text", nargs="+", help="完成时限原文, 如 3月底前")
    parse.set_defaults(func=deadline_parse)



def plan_check(args: argparse.Namespace) -> int:
    from fuquan.plans.plan_roll import due_before_year
    from fuquan.plans.plan_text import review_marks

    try:
        plan = load_plan(args.config)  # PlanError lists every problem (in words, a file it cannot read too)
    except PlanError as e:  # with every 待核对 a draft still carries: `sync` refuses them
        raise PlanError(e.problems + _marks(Path(args.config))) from None
    text = _read(Path(args.config), "计划文件")
    if problems := due_before_year(plan, text) + review_marks(text, str(args.config)):  # and a year left behind
        raise PlanError(problems)
    print_warnings(plan.calendar_warnings())
    n_assign = sum(len(plan.assignees(t)) for t in plan.tasks)
    console().print(f"计划配置无误: {args.config} — {plan.district} {plan.year} 年度, "
                    f"{len(plan.tasks)} 项任务, {len(plan.units)} 个单位, {n_assign} 条分工")
    return 0


def plan_show(args: argparse.Namespace) -> int:
    plan = load_plan(args.config)
    if args.json:
        print_json(plan.as_dict())
        return 0
    t = table(f"{plan.title} ({plan.year} 年度, {plan.issued} 印发)",
              ["序号", "章节", "主要任务", "完成时限", "截止日期", "牵头单位", "责任单位"])
    for task in plan.tasks:
        d = task.deadline
        due = d.describe()  # an open kind describes itself by its label
        t.add_row(str(task.no), task.section.no, task.text, d.text, due, task.lead_unit, "、".join(task.units))
    console().print(t)
    return 0


def deadline_parse(args: argparse.Namespace) -> int:
    results: list[dict[str, Any]] = []
    failed = 0
    t = table(f"完成时限解析 (计划年度 {args.year})", ["原文", "类型", "截止日期与周期"])
    for text in args.text:
        try:
            d = parse_deadline(text, args.year)
        except DeadlineError as e:
            failed += 1
            results.append({"text": text, "error": e.reason})
            t.add_row(text, "[red]无法识别[/]", e.reason)
            continue
        results.append(d.as_dict())
        t.add_row(text, d.label, d.describe())
    if args.json:
        print_json(results)
    else:
        console().print(t)
    if failed and not args.json:
        raise FuquanError(f"{failed} 条完成时限无法识别")
    return 1 if failed else 0


def plan_import(args: argparse.Namespace) -> int:
    from fuquan.notices.notice import read_meta, task_list
    from fuquan.notices.notice_files import read_notice
    from fuquan.notices.plan_draft import draft

    out, like = Path(args.out), Path(args.like)
    _writable(out, args.force, like)
    like_plan = load_plan(like)
    source = read_notice(Path(args.notice))
    tasks = task_list(source.tables)
    if tasks is None:
        raise FuquanError(f"{args.notice} 中没有找到任务清单表格: 应有 “序号 | 主要任务 | 完成时限 | 责任单位” 这样的表头 "
                          "(列的次序、用词可以不同); 文本文件中的表格每格以 | 分隔")
    if not tasks.items:
        raise FuquanError(f"{args.notice} 的任务清单表格中没有读到任务 (表头下面没有带任务内容的行)")
    d = draft(tasks, read_meta(source.body), _read(like, "计划文件"), like_plan, notice=Path(args.notice).name,
              like_name=like.name, out_name=str(out))
    problems = _problems(d.text, str(out))
    _write(out, d.text)
    parts = f"{len(tasks.sections)} 个部分" if tasks.sections else "任务清单未分部分"
    print(f"已生成计划草稿 {out}: {d.plan}, {parts}, {d.tasks} 项任务; 各项设置取自 {like}, 单位和单位组按通知列出")
    for title, lines in (("通知中的名称不在 --like 计划的单位和单位组中, 已暂列为新单位或单位组", [f"{n} (任务 {'、'.join(map(str, nos))})"
                                                                for n, nos in d.unknown.items()]),
                         ("无法识别的完成时限, 已照录原文", d.deadlines), ("通知中没有找到, 暂取自 --like 计划", d.meta),
                         ("任务清单中略过的行", list(tasks.skipped)), ("说明", d.notes),
                         ("建议逐项跟踪 (草稿中已写好 track:, 核对后去掉 # 即可)", d.tracks)):
        if lines:
            print(f"{title}:\n" + "\n".join(f"  {line}" for line in lines), file=sys.stderr)
    if problems:
        print(f"草稿中标有 “待核对” 的 {d.marks} 处改好后才能通过 fuquan plan check; 现在的检查结果:\n{problems}", file=sys.stderr)
    else:
        print(f"草稿检查无误{f', 但有 {d.marks} 处待核对' if d.marks else ''}: fuquan plan check --config {out}")
    return 0


def plan_new(args: argparse.Namespace) -> int:
    from fuquan.plans.plan_roll import due_before_year, roll

    source, out = Path(args.source), Path(args.out)
    _writable(out, args.force, source)
    old = load_plan(source)
    rolled = roll(_read(source, "计划文件"), args.year, args.issued)
    try:
        from fuquan.plans.loader import parse_plan

        new = parse_plan(rolled.text, str(out))
        if stale := due_before_year(new, rolled.text):
            raise PlanError(stale)
    except PlanError as e:
        raise FuquanError(f"顺延年份后的计划无法通过检查, 未写入 {out}:\n{e}") from e
    _write(out, rolled.text)
    print(f"已生成 {out}: {new.district} {new.year} 年度 (由 {old.year} 年度的 {source} 复制), 改动 {len(rolled.changes)} 处:")
    for c in rolled.changes:
        print(f"  第 {c.line} 行 {c.what}: {c.old} → {c.new}")
    if rolled.review:
        print("未改动, 请核对:\n" + "\n".join(f"  {line}" for line in rolled.review))
    print_warnings(new.calendar_warnings())
    print(f"计划配置无误; 印发后填好 issued, 再运行 fuquan sync --config {out}")
    return 0


def _marks(path: Path) -> list[Problem]:
    """The 待核对 marks of a file the loader refused, when its text can be read at all."""
    from fuquan.plans.plan_text import review_marks

    try:
        return review_marks(path.read_text(encoding="utf-8-sig"), str(path))
    except (OSError, UnicodeDecodeError):
        return []  # the loader's own problem says why


def _read(path: Path, what: str) -> str:
    try:
        return path.read_text(encoding="utf-8-sig")
    except (OSError, UnicodeDecodeError) as e:
        raise FuquanError(f"无法读取{what} {path}: {getattr(e, 'strerror', None) or e}") from e


def _writable(out: Path, force: bool, source: Path) -> None:
    if out.exists() and out.resolve() == source.resolve():
        raise FuquanError(f"{out} 就是来源计划文件; 请另给一个文件名 (来源文件不会被改写)")
    if out.is_dir():
        raise FuquanError(f"{out} 是一个文件夹; 请给出要写出的 .yaml 文件名")
    if out.exists() and not force:
        raise FuquanError(f"{out} 已存在; 请换一个文件名, 或加 --force 覆盖")


def _write(out: Path, text: str) -> None:
    from reports.files import write_text

    write_text(out, text)


def _problems(text: str, source: str) -> str:
    """What `plan check` would say of a draft, "" when nothing."""
    from fuquan.plans.loader import parse_plan
    from fuquan.plans.plan_roll import due_before_year

    try:
        plan = parse_plan(text, source)
    except PlanError as e:
        return str(e)
    stale = due_before_year(plan, text)
    return str(PlanError(stale)) if stale else ""
