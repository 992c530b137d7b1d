"""`fuquan calendar import|show`: the State Council's holiday notice into a plan file's `calendar:` block, and a
year's holidays and make-up working days as reminders and deadlines count them. Files only, never the database."""

from __future__ import annotations

import argparse
import shutil
import sys
from datetime import date, timedelta
from pathlib import Path
from typing import TYPE_CHECKING, Any

from fuquan.dates.holiday_notice import WEEKDAYS
from fuquan.errors import FuquanError

from .common import YEAR, Parents, load_plan, print_warnings, settings
from .output import console, print_json, table

if TYPE_CHECKING:
    from fuquan.dates.holiday_notice import Notice
    from fuquan.dates.workdays import PlanCalendar

PLAN, PACKAGE, NONE = "计划文件 calendar: 段", "chinese_calendar 包", "未收录(按周一至周五计算)"


def register(sub: Any, p: Parents) -> None:
    cal = sub.add_parser("calendar", help="节假日安排: 导入国务院办公厅的放假通知, 查看某年的放假和调休")
    cmds = cal.add_subparsers(dest="calendar_cmd", required=True, metavar="子命令")
    im = cmds.add_parser("import", help="读取放假通知全文 (文本文件), 生成计划文件的 calendar: 段")
    im.add_argument("notice", metavar="通知文件", help="《国务院办公厅关于…年部分节假日安排的通知》全文, UTF-8 文本, 含标题")
    im.add_argument("--year", type=YEAR, help="年度 (通知没有带标题时指明)")
    im.add_argument("--write", metavar="计划文件", help="写入该计划文件的 calendar: 段 (替换同一年的条目, 保留其余内容和注释)")
    im.set_defaults(func=calendar_import)
    show = cmds.add_parser("show", parents=[p.config, p.as_json], help="某年的放假日期和调休上班日期, 及其来源")
    show.add_argument("--year", type=YEAR, required=True, help="年度")
    show.set_defaults(func=calendar_show)


def calendar_import(args: argparse.Namespace) -> int:
    from fuquan.dates.holiday_notice import parse_notice, render_block

    path = Path(args.notice)
    notice = parse_notice(_read(path, "通知文件")[0], args.year, source=str(path))
    wrote = _write(Path(args.write), notice) if args.write else ""
    sys.stdout.write(render_block(notice))  # plain: the YAML must reach a pipe unchanged
    n_off, n_on = len(notice.holidays), len(notice.workdays)
    print(f"{notice.title or f'{notice.year} 年放假通知'}: {len(notice.festivals)} 个节日, 放假 {n_off} 天, "
          f"调休上班 {n_on} 天", file=sys.stderr)
    print_warnings(_against_package(notice.year, notice.holidays, notice.workdays))
    if wrote:
        print(wrote)  # plain: a long path must not be wrapped
    else:
        print("未写入任何文件; 加 --write 计划文件 可写入该文件的 calendar: 段", file=sys.stderr)
    return 0


def _read(path: Path, what: str) -> tuple[str, bool]:
    """The file's text and whether it began with a BOM; a missing or non-UTF-8 file is one clear error."""
    try:
        data = path.read_bytes()
    except FileNotFoundError:
        raise FuquanError(f"找不到{what} {path}") from None
    except IsADirectoryError:
        raise FuquanError(f"{what} {path} 是一个文件夹, 应为文件") from None
    except OSError as e:
        raise FuquanError(f"无法读取{what} {path}: {e.strerror}") from e
    try:
        return data.decode("utf-8-sig"), data.startswith(b"\xef\xbb\xbf")
    except UnicodeDecodeError as e:
        line = data[:e.start].count(b"\n") + 1
        raise FuquanError(f"{what} {path} 不是 UTF-8 编码 (第 {line} 行起无法按 UTF-8 读取, 可能是 GBK); "
                          "请用记事本等“另存为”UTF-8 编码后再试") from None


def _write(path: Path, notice: Notice) -> str:
    """Splices the notice into the plan file, whole or not at all, and only if the plan loads before and after."""
    from fuquan.dates.holiday_notice import into_plan
    from fuquan.errors import PlanError
    from fuquan.plans.loader import parse_plan
    from reports.files import replacing

    text, bom = _read(path, "计划文件")
    parse_plan(text, str(path))  # a plan that is wrong already is reported, not edited
    new, replaced = into_plan(text, notice)
    try:
        parse_plan(new, str(path))
    except PlanError as e:
        raise FuquanError(f"写入 calendar: 段后计划文件将无法载入, 未做任何修改: {e}") from e
    with replacing(path.resolve()) as tmp:
        tmp.write_text(new, encoding="utf-8-sig" if bom else "utf-8", newline="")
        shutil.copymode(path, tmp)
    print_warnings(load_plan(path).calendar_warnings())  # read back: what a command will now see
    years = "、".join(f"{y} 年" for y in notice.years)
    how = "替换了原有的条目" if replaced else "新增"
    return f"已写入 {path}: calendar: 段 {years} ({how}), 放假 {len(notice.holidays)} 天、调休上班 {len(notice.workdays)} 天; 计划文件检查无误"


def _against_package(y: int, holidays: frozenset[date], workdays: frozenset[date]) -> list[str]:
    """For a year the calendar package knows: whether the notice says the same (a mistyped or partly pasted notice
    shows here). A day the notice lists overrides the package once written; a day it leaves out does not."""
    import chinese_calendar

    from fuquan.dates.workdays import covered_by_package

    if not covered_by_package(y):
        return []
    differ = [d for d in _days(y) if (d in workdays or (d not in holidays and d.weekday() < 5))
              != chinese_calendar.is_workday(d)]
    if not differ:
        return [f"与 chinese_calendar 包收录的 {y} 年安排一致"]
    listed = [d for d in differ if d in holidays or d in workdays]
    left_out = [d for d in differ if d not in listed]
    said = [f"注意: 与 chinese_calendar 包收录的 {y} 年安排有 {len(differ)} 天不同"]
    if listed:
        said.append(f"  通知所写与包相反的 {len(listed)} 天 (写入计划文件后以计划文件为准): {_dates(listed)}")
    if left_out:
        said.append(f"  通知没有写到、包中为放假或调休上班的 {len(left_out)} 天 (仍按包计算): {_dates(left_out)}")
    return [*said, "  请核对通知原文是否完整、有无错字"]


def _dates(days: list[date]) -> str:
    return "、".join(f"{d}(周{WEEKDAYS[d.weekday()]})" for d in days[:8]) + (" 等" if len(days) > 8 else "")


def calendar_show(args: argparse.Namespace) -> int:
    view = _year_view(args.year, *_plan_calendar(args))
    if args.json:
        print_json(view)
        return 0
    print_warnings(view["warnings"])
    out = console()
    print(f"{args.year} 年节假日安排, 来源: {view['source_text']}", flush=True)  # plain: the path is not wrapped
    mixed = view["source"] == "plan+package"
    off = table("放假", ["节日", "放假日期", "天数"] + (["来源"] if mixed else []))
    for h in view["holidays"]:
        when = _day(h["first"]) if h["first"] == h["last"] else f"{_day(h['first'])} 至 {_day(h['last'])}"
        off.add_row(h["name"] or "—", when, str(h["days"]), *([h["source"]] if mixed else []))
    on = table("调休上班", ["日期", "节日"] + (["来源"] if mixed else []))
    for w in view["workdays"]:
        on.add_row(_day(w["date"]), w["name"] or "—", *([w["source"]] if mixed else []))
    if view["holidays"] or view["workdays"]:
        out.print(off)
        out.print(on)
    out.print(f"全年 {view['working_days']} 个工作日; 放假 {sum(h['days'] for h in view['holidays'])} 天, "
              f"调休上班 {len(view['workdays'])} 天")
    return 0


def _plan_calendar(args: argparse.Namespace) -> tuple[PlanCalendar, str | None]:
    """The plan file's `calendar:` block; none when the default plan file is absent (a machine without one)."""
    from fuquan.dates.workdays import PlanCalendar

    if args.config == str(settings(args).config) and not Path(args.config).exists():
        return PlanCalendar(), None
    return load_plan(args.config).calendar, args.config


def _year_view(y: int, cal: PlanCalendar, plan_file: str | None) -> dict[str, Any]:
    """The year as reminders count it: the plan's block where it lists a day, else the package, else Mon–Fri."""
    import chinese_calendar

    from fuquan.dates.workdays import HOLIDAY_NAMES, WorkCalendar, covered_by_package

    covered, listed = covered_by_package(y), y in cal.years
    days: dict[date, tuple[bool, str, str]] = {}  # day → (holiday?, name, source)
    for d in _days(y):
        off, name = chinese_calendar.get_holiday_detail(d) if covered else (False, None)
        named: str = HOLIDAY_NAMES.get(name or "", name or "")
        if d in cal.holidays or d in cal.workdays:
            days[d] = (d in cal.holidays, named if bool(off) == (d in cal.holidays) else "", PLAN)
        elif name:
            days[d] = (bool(off), named, PACKAGE)
    work = WorkCalendar(cal)
    source = {(True, True): "plan+package", (True, False): "plan", (False, True): "package"}.get((listed, covered), "none")
    text = {"plan+package": f"{PLAN} ({plan_file}), 未写到的日子按 {PACKAGE}", "plan": f"{PLAN} ({plan_file})",
            "package": PACKAGE, "none": NONE}[source]
    return {"year": y, "source": source, "source_text": text, "plan_file": plan_file,
            "holidays": _runs([(d, n, s) for d, (h, n, s) in days.items() if h]),
            "workdays": [{"date": d.isoformat(), "name": n, "source": s} for d, (h, n, s) in days.items() if not h],
            "working_days": sum(work.is_workday(d) for d in _days(y)), "warnings": work.warnings}


def _runs(days: list[tuple[date, str, str]]) -> list[dict[str, Any]]:
    """Holiday days as consecutive runs from one source, named by every festival in them (国庆节、中秋节)."""
    runs: list[dict[str, Any]] = []
    for d, name, source in days:
        last = runs[-1] if runs else None
        if last and last["source"] == source and date.fromisoformat(last["last"]) + timedelta(days=1) == d:
            last["last"], last["days"] = d.isoformat(), last["days"] + 1
            if name and name not in last["names"]:
                last["names"].append(name)
        else:
            runs.append({"first": d.isoformat(), "last": d.isoformat(), "days": 1, "names": [name] if name else [],
                         "source": source})
    return [{"name": "、".join(r.pop("names")), **r} for r in runs]


def _days(y: int) -> list[date]:
    first = date(y, 1, 1)
    return [first + timedelta(days=n) for n in range((date(y + 1, 1, 1) - first).days)]


def _day(iso: str) -> str:
    return f"{iso}(周{WEEKDAYS[date.fromisoformat(iso).weekday()]})"
