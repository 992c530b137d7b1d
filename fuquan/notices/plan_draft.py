"""A draft plan file from a notice's 任务清单 and a plan file to take everything else from (`--like`). Pure.

The draft is the like-plan's text with its `plan:`, `sections:` and `tasks:` blocks written from the notice, the
names the like-plan does not know added to `units:`, and its per-task reminder overrides commented out (they
name the like-plan's task numbers). Everything a clerk must look at carries a `# 待核对` comment.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from datetime import date
from typing import Any

from fuquan.dates.deadline import parse_deadline
from fuquan.errors import DeadlineError, InvalidValue
from fuquan.notices.notice import Meta, Section, TaskList
from fuquan.notices.notice_units import Resolved, guess_kind, resolve, resolver, split_units
from fuquan.plans.plan import Plan
from fuquan.plans.plan_text import Block, blocks, comment_out, flow_list, scalar, trailing_blank

CHECK = "待核对"
STYLE = "# 书写约定: 字段名用英文(不要翻译), 字段值照原文填写; 日期写 YYYY-MM-DD。\n"


@dataclass
class Draft:
    text: str = ""
    plan: str = ""  # 芜湖市湾沚区 2023 年度
    tasks: int = 0
    unknown: dict[str, list[int]] = field(default_factory=dict)  # name → the tasks that name it
    deadlines: list[str] = field(default_factory=list)  # 任务 3 “4月前”: why not read
    meta: list[str] = field(default_factory=list)  # what the notice did not say and the like-plan gave
    tracks: list[str] = field(default_factory=list)  # tasks that look tracked (suggested, commented out)
    notes: list[str] = field(default_factory=list)  # other things said once (renumbering, overrides set aside)
    marks: int = 0  # 待核对 comments written


def draft(tasks: TaskList, meta: Meta, like_text: str, like: Plan, *, notice: str, like_name: str,
          out_name: str) -> Draft:
    d = Draft(tasks=len(tasks.items))
    title, district, year, issued = _meta(meta, like, d)
    d.plan = f"{district[0]} {year[0]} 年度"
    keys = resolver(like)
    preamble, parts, root = blocks(like_text)
    task_lines = _tasks(tasks, year, keys, like, d)
    unknown_lines = [f"  - {{name: {scalar(n, True)}, kind: {guess_kind(n)}}}  # {CHECK}: 通知中的名称, 见任务 "
                     f"{'、'.join(map(str, nos))}; {_kind_note(n)}\n" for n, nos in d.unknown.items()]
    out = []
    for b in parts:
        if b.key == "plan":
            out += [*PLAN_HEADING, *_plan(b, root, title, district, year, issued, d), "\n"]
        elif b.key == "sections":
            out += [*SECTIONS_HEADING, *_sections(tasks), "\n"]
        elif b.key == "tasks":
            out += [*b.heading, *task_lines]
        elif b.key == "units" and unknown_lines:
            out += _units(b, root, unknown_lines)
        elif b.key == "reminders":
            out += _reminders(b, root, d)
        else:
            out += [*b.heading, *b.body]
    body = "".join(out).rstrip("\n") + "\n"
    d.marks = body.count(f"# {CHECK}")
    d.text = "".join(_header(notice, like_name, out_name, d)) + body
    return d


PLAN_HEADING = ["# ── 计划信息 ───────────────────────────────────────────────────────────────\n",
                "# 取自通知: title 方案名称, district 区县, year 计划年度(完成时限按这一年计算), issued 印发日期。\n"]
SECTIONS_HEADING = ["# ── 章节 ───────────────────────────────────────────────────────────────────\n",
                    "# 通知任务清单的各个部分; 任务用 section 引用这里的 no。\n"]


def _header(notice: str, like_name: str, out_name: str, d: Draft) -> list[str]:
    check = f"标有 “{CHECK}” 的 {d.marks} 处请逐一核对后改写, 再" if d.marks else "请通读一遍, 然后"
    return ["# 任务清单 —— fuquan 的计划配置文件 (由 fuquan plan import 生成的草稿)\n", "#\n",
            f"# 计划信息、章节和 {d.tasks} 项任务读自通知 {notice} 的任务清单;\n",
            f"# 单位、单位组、提醒策略、接收渠道、定时运行、节假日安排等其余各段取自 {like_name} (其中的任务未用)。\n",
            f"# {check}运行\n", f"#     fuquan plan check --config {out_name}\n",
            f"#     fuquan sync --config {out_name}\n", "#\n", STYLE, "\n"]


def _meta(meta: Meta, like: Plan, d: Draft) -> tuple[tuple[str, str], tuple[str, str], tuple[int, str], tuple[date, str]]:
    """(value, comment) for title, district, year, issued: the notice's, else the like-plan's marked 待核对."""
    def given(value, fallback, what):  # type: ignore[no-untyped-def]
        if value is not None:
            return value, ""
        d.meta.append(f"{what}: 通知中没有找到, 暂取 {fallback}")
        return fallback, f"  # {CHECK}: 通知中没有找到{what}, 暂取自 --like 计划"

    year = given(meta.year, like.year, "计划年度")
    issued = given(meta.issued, like.issued if meta.year is None else date(year[0], 1, 1), "印发日期")
    return given(meta.title, like.title, "方案名称"), given(meta.district, like.district, "区县"), year, issued


def _plan(b: Block, root: Any, title: tuple[str, str], district: tuple[str, str], year: tuple[int, str],
          issued: tuple[date, str], d: Draft) -> list[str]:
    lines = ["plan:\n", f"  title: {scalar(title[0])}{title[1]}\n", f"  district: {scalar(district[0])}{district[1]}\n",
             f"  year: {year[0]}{year[1]}\n", f"  issued: {issued[0].isoformat()}{issued[1]}\n"]
    spec = root["plan"]
    keys = [k for k in spec if k not in ("title", "district", "year", "issued")]
    keys = [k for k in keys if not (k == "level" and str(spec[k]) != district[0][-1])
            and not (k == "programme" and str(spec[k]) not in title[0])]
    if getattr(spec, "fa", None) is not None and spec.fa.flow_style():
        return lines + [f"  {k}: {scalar(str(spec[k]))}\n" for k in keys if not isinstance(spec[k], dict)]
    first = root.lc.key("plan")[0]
    body_end = first + trailing_blank(b.body)
    order = list(spec)
    for k in keys:
        start = spec.lc.key(k)[0]
        nxt = order.index(k) + 1
        end = spec.lc.key(order[nxt])[0] if nxt < len(order) else body_end
        lines += b.body[start - first:end - first]
    return lines


def _sections(tasks: TaskList) -> list[str]:
    sections = list(tasks.sections)
    if not sections or any(i.section is None for i in tasks.items):
        sections.insert(0, Section("〇" if sections else "一", "任务清单"))
    lines = ["sections:\n"]
    for s in sections:
        lines.append(f"  - {{no: {scalar(s.no, True)}, title: {scalar(s.title, True)}}}\n")
    return lines


def _tasks(tasks: TaskList, year: tuple[int, str], keys: dict[str, str], like: Plan, d: Draft) -> list[str]:
    lines = ["tasks:\n"]
    default = "〇" if tasks.sections else "一"
    section = None
    if tasks.renumbered:
        d.notes.append("通知中的序号有缺漏或重复 (如每个部分各自从 1 起), 草稿按顺序重新编号, 原序号写在注释中")
    for item in tasks.items:
        if item.section != section:
            section = item.section
            lines.append(f"  # {section.no}、{section.title}\n" if section else "  # (未分部分)\n")
        names = split_units(item.units, item.lead, item.partner)
        resolved = resolve(names, keys)
        for r in resolved:
            if not r.known:
                d.unknown.setdefault(r.name, []).append(item.no)
        renum = f"  # 通知中序号为 {item.written_no}" if tasks.renumbered and item.written_no else ""
        lines += [f"  - no: {item.no}{renum}\n",
                  f"    section: {scalar(section.no if section else default)}\n",
                  f"    text: {scalar(item.text)}\n",
                  f"    deadline: {scalar(item.deadline)}{_deadline_note(item.no, item.deadline, year[0], d)}\n",
                  f"    units: {flow_list([r.name for r in resolved])}{_units_note(item.units, item.lead, item.partner, resolved)}\n"]
        lines += _track(item.text, item.deadline, year[0], [r.name for r in resolved], like, item.no, d)
        lines.append("\n")
    return lines


def _deadline_note(no: int, text: str, year: int, d: Draft) -> str:
    if not text:
        d.deadlines.append(f"任务 {no}: 通知中没有完成时限")
        return f"  # {CHECK}: 通知中此项没有完成时限"
    try:
        deadline = parse_deadline(text, year)
    except DeadlineError as e:
        d.deadlines.append(f"任务 {no} “{text}”: {e.reason}")
        return f"  # {CHECK}: 无法识别 ({e.reason}); 请按通知原意改写, 可先用 fuquan deadline parse 试写法"
    if past := [x for x in deadline.dates() if not year - 1 <= x.year <= year + 1]:
        d.deadlines.append(f"任务 {no} “{text}”: {past[0].year} 年不在计划年度 {year} 年前后")
        return f"  # {CHECK}: {past[0].year} 年不在计划年度 {year} 年前后"
    return ""


def _kind_note(name: str) -> str:
    if name.startswith("各") or re.search(r"(有关|相关|成员|级).*(单位|部门)$", name):
        return "像是一组单位: 如是, 请移到 groups: 并列出成员"
    return "类别按名称推测"


def _units_note(units: str, lead: str, partner: str, resolved: list[Resolved]) -> str:
    """A 待核对 for a missing or unknown unit; the cell as written when the list reads differently (a 全称, a
    牵头 moved first), so the clerk sees both."""
    if not resolved:
        return f"  # {CHECK}: 通知中此项没有责任单位"
    unknown = [r.name for r in resolved if not r.known]
    if unknown:
        return f"  # {CHECK}: {'、'.join(unknown)} 不在 --like 计划的单位中, 已暂列为新单位"
    cells = [x for x in (f"牵头单位: {lead}" if lead else "", units, f"配合单位: {partner}" if partner else "") if x]
    written = re.sub(r"[、，,；;/\s]+", "、", "；".join(cells).strip())
    return "" if written == "、".join(r.name for r in resolved) else f"  # 通知原文: {' '.join('；'.join(cells).split())}"


def _track(text: str, deadline: str, year: int, units: list[str], like: Plan, no: int, d: Draft) -> list[str]:
    """A `track:` block the task's words suggest, commented out: what backs a task is the clerk's decision."""
    kinds = {u.name: u.kind for u in like.units}

    def group(kind: str) -> str | None:
        groups = [g for g in like.groups if all(kinds.get(m) == kind for m in g.members)]
        named = [g.name for g in groups if g.name in units]
        return named[0] if named else max(groups, key=lambda g: len(g.members)).name if groups else None

    depts, towns = group("department"), group("town")
    try:
        monthly = parse_deadline(deadline, year).rule
    except DeadlineError:
        monthly = None
    found = None
    if "确认书" in text and depts and towns:
        found = ("承接确认书", f"letters: {{departments: [{depts}], towns: [{towns}]}}")
    elif "培训" in text and ("岗前" in text or "培训指导计划" in text) and depts and towns:
        found = ("岗前培训", f"training: {{departments: [{depts}], towns: [{towns}]}}")
    elif "考试" in text and towns:
        found = ("法律知识考试", f"exams: {{towns: [{towns}]}}")
    elif monthly and monthly.freq == "monthly" and any(w in text for w in ("月报", "按月", "月收集", "每月报送")) and towns:
        found = ("月报", f"monthly_reports: {{towns: [{towns}]}}")
    if not found:
        return []
    d.tracks.append(f"任务 {no} 按{found[0]}")
    return [f"    # 建议: 按{found[0]}逐项跟踪; 确认后去掉下面两行行首的 “# ”\n", "    # track:\n", f"    #   {found[1]}\n"]


def _units(b: Block, root: Any, added: list[str]) -> list[str]:
    seq = root["units"]
    if seq.fa.flow_style():
        raise InvalidValue("--like 计划的 units: 写在一行 [ … ] 中, 无法添加通知中的新单位; 请先改为每个单位一行")
    end = trailing_blank(b.body)
    note = f"  # 以下是通知中出现、但 --like 计划中没有的名称 ({CHECK}: 是新单位, 还是已有单位的别称或全称?)\n"
    return [*b.heading, *b.body[:end], note, *added, *b.body[end:]]


def _reminders(b: Block, root: Any, d: Draft) -> list[str]:
    spec: Any = root["reminders"]
    if not hasattr(spec, "lc") or not spec.get("overrides"):
        return [*b.heading, *b.body]
    if spec.fa.flow_style():
        raise InvalidValue("--like 计划的 reminders: 写在一行 { … } 中; 请先删去其中的 overrides (按任务调整) 再导入")
    first = root.lc.key("reminders")[0]
    order = list(spec)
    at = order.index("overrides")
    start = spec.lc.key("overrides")[0] - first
    end = spec.lc.key(order[at + 1])[0] - first if at + 1 < len(order) else trailing_blank(b.body)
    indent = spec.lc.key("overrides")[1]
    d.notes.append("--like 计划的 reminders.overrides (按任务调整) 写的是它自己的任务序号, 已在草稿中注释掉")
    note = " " * indent + "# 以下按任务调整写的是 --like 计划的任务序号, 与本计划的任务不对应, 已停用; 需要时按本计划的序号改写并去掉 #\n"
    return [*b.heading, *b.body[:start], note, *comment_out(b.body[start:end], indent), *b.body[end:]]
