"""A draft plan file from a notice's 任务清单 and a plan file to take everything else from (`--like`). Pure.

The draft is the like-plan's text with its `plan:`, `sections:` and `tasks:` blocks written from the notice. The
like-plan gives the policy, the shape of its channels, its schedules and calendar, and of its units and groups
only those the notice names (draft_units.py); its comments about its own tasks, units, towns and channels are left
out, and its per-task reminder overrides commented out (they name its task numbers). Everything a clerk must
look at carries a `# 待核对` comment.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from datetime import date
from typing import Any

from fuquan.dates.deadline import parse_deadline
from fuquan.errors import DeadlineError, InvalidValue
from fuquan.notices.draft_units import (
    CHECK,
    Roster,
    foreign_words,
    group_kinds,
    groups_block,
    is_entry,
    roster,
    same_county,
    suggest_track,
    units_block,
)
from fuquan.notices.notice import Meta, Section, TaskList, dated_year
from fuquan.notices.notice_units import Resolved, resolve, resolver, split_units
from fuquan.plans.plan import Plan
from fuquan.plans.plan_text import Block, blocks, comment_out, drop_comments, flow_list, scalar, trailing_blank

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
    title, district, year, issued = _meta(meta, tasks, like, d)
    d.plan = f"{district[0]} {year[0]} 年度"
    _, parts, root = blocks(like_text)
    keys = resolver(like)
    resolved = [resolve(split_units(i.units, i.lead, i.partner), keys) for i in tasks.items]
    named: dict[str, list[int]] = {}
    for item, names in zip(tasks.items, resolved, strict=True):
        for n in names:
            named.setdefault(n.name, []).append(item.no)
    r = roster(named, like, same_county(meta.district, like.district))
    d.unknown = {n: nos for n, nos in named.items() if n not in set(like.known_names())}
    channels = next((b.heading + b.body for b in parts if b.key == "channels"), [])
    foreign = foreign_words(root, like, r, channels)
    level = district[0][-1] if district[0][-1] in "区县市旗" else "县"
    out = []
    for b in parts:
        if b.key == "plan":
            out += [*PLAN_HEADING, *_plan(b, root, title=title, district=district, year=year, issued=issued, r=r, foreign=foreign), "\n"]
        elif b.key == "sections":
            out += [*SECTIONS_HEADING, *_sections(tasks), "\n"]
        elif b.key == "tasks":
            out += [*drop_comments(b.heading, foreign), *_tasks(tasks, resolved, year[0], r, like, d)]
        elif b.key == "units":
            out += units_block(b, root, r, foreign, level)
            if "groups" not in root:
                out += groups_block(None, root, r, like, foreign)
        elif b.key == "groups":
            out += groups_block(b, root, r, like, foreign)
        elif b.key == "channels":
            out += _channels(b, root, r, foreign, d)
        elif b.key == "reminders":
            out += _reminders(b, root, foreign, d)
        else:
            out += drop_comments([*b.heading, *b.body], foreign)
    _notes(r, like, d)
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
            f"# 计划信息、章节和 {d.tasks} 项任务读自通知 {notice} 的任务清单; 单位和单位组按通知列出。\n",
            f"# 提醒策略、接收渠道的写法、定时运行、节假日安排等其余各段取自 {like_name} (其中的任务和各单位的渠道未用)。\n",
            f"# {check}运行\n", f"#     fuquan plan check --config {out_name}\n",
            f"#     fuquan sync --config {out_name}\n", "#\n", STYLE, "\n"]


def _meta(meta: Meta, tasks: TaskList, like: Plan, d: Draft) -> tuple[tuple[str, str], tuple[str, str],
                                                                     tuple[int, str], tuple[date, str]]:
    """(value, comment) for title, district, year, issued: the notice's; a year its deadlines write out (a bare
    table); else the like-plan's marked 待核对."""
    def given(value, fallback, what, new_year=False):  # type: ignore[no-untyped-def]
        if value is not None:
            return value, ""
        (d.notes if new_year else d.meta).append(f"{what}: 通知中没有找到, {'暂填' if new_year else '暂取'} {fallback}")
        return fallback, f"  # {CHECK}: 通知中没有找到{what}, {'暂填 1 月 1 日' if new_year else '暂取自 --like 计划'}"

    dated = dated_year(tasks.items) if meta.year is None else None
    if dated:
        year = (dated, f"  # {CHECK}: 通知中没有写明年度, 按完成时限中写明的 {dated} 年")
        d.notes.append(f"通知中没有写明年度, 按完成时限中写明的年份定为 {dated} 年")
    else:
        year = given(meta.year, like.year, "计划年度")
    if meta.year is None and not dated:
        issued = given(meta.issued, like.issued, "印发日期")
    else:
        issued = given(meta.issued, date(year[0], 1, 1), "印发日期", new_year=True)
    like_title = like.title.replace(f"{like.year}年", f"{year[0]}年")  # a 2024年 title for a 2025 draft
    return given(meta.title, like_title, "方案名称"), given(meta.district, like.district, "区县"), year, issued


def _plan(b: Block, root: Any, *, title: tuple[str, str], district: tuple[str, str], year: tuple[int, str],
          issued: tuple[date, str], r: Roster, foreign: re.Pattern[str]) -> list[str]:
    lines = ["plan:\n", f"  title: {scalar(title[0])}{title[1]}\n", f"  district: {scalar(district[0])}{district[1]}\n",
             f"  year: {year[0]}{year[1]}\n", f"  issued: {issued[0].isoformat()}{issued[1]}\n"]
    spec = root["plan"]
    keys = [k for k in spec if k not in ("title", "district", "year", "issued")]
    keys = [k for k in keys if not (k == "level" and str(spec[k]) != district[0][-1])
            and not (k == "programme" and str(spec[k]) not in title[0])
            and not (k in ("contact", "towns") and not r.same_county)]  # another county's 专班 and its word for towns
    if getattr(spec, "fa", None) is not None and spec.fa.flow_style():
        return lines + [f"  {k}: {scalar(str(spec[k]))}\n" for k in keys if not isinstance(spec[k], dict)]
    first = root.lc.key("plan")[0]
    body_end = first + trailing_blank(b.body)
    order = list(spec)
    for k in keys:
        start = spec.lc.key(k)[0]
        nxt = order.index(k) + 1
        end = spec.lc.key(order[nxt])[0] if nxt < len(order) else body_end
        lines += drop_comments(b.body[start - first:end - first], foreign)
    return lines


def _sections(tasks: TaskList) -> list[str]:
    sections = list(tasks.sections)
    if not sections or any(i.section is None for i in tasks.items):
        sections.insert(0, Section("〇" if sections else "一", "任务清单"))
    lines = ["sections:\n"]
    for s in sections:
        lines.append(f"  - {{no: {scalar(s.no, True)}, title: {scalar(s.title, True)}}}\n")
    return lines


def _tasks(tasks: TaskList, resolved: list[list[Resolved]], year: int, r: Roster, like: Plan, d: Draft) -> list[str]:
    lines = ["tasks:\n"]
    default = "〇" if tasks.sections else "一"
    section = None
    kinds = group_kinds(r, like)
    if tasks.renumbered:
        d.notes.append("通知中的序号有缺漏或重复 (如每个部分各自从 1 起), 草稿按顺序重新编号, 原序号写在注释中")
    for item, names in zip(tasks.items, resolved, strict=True):
        if item.section != section:
            section = item.section
            lines.append(f"  # {section.no}、{section.title}\n" if section else "  # (未分部分)\n")
        units = [n.name for n in names]
        renum = f"  # 通知中序号为 {item.written_no}" if tasks.renumbered and item.written_no else ""
        lines += [f"  - no: {item.no}{renum}\n",
                  f"    section: {scalar(section.no if section else default)}\n",
                  f"    text: {scalar(item.text)}\n",
                  f"    deadline: {scalar(item.deadline)}{_deadline_note(item.no, item.deadline, year, d)}\n",
                  f"    units: {flow_list(units)}{_units_note(item.units, item.lead, item.partner, names, r)}\n"]
        if found := suggest_track(item.text, item.deadline, _monthly(item.deadline, year), units, r, kinds):
            d.tracks.append(f"任务 {item.no} 按{found[0]}")
            lines += [f"    # 建议: 按{found[0]}逐项跟踪; 确认后去掉下面两行行首的 “# ”\n", "    # track:\n",
                      f"    #   {found[1]}\n"]
        lines.append("\n")
    return lines


def _monthly(deadline: str, year: int) -> bool:
    try:
        rule = parse_deadline(deadline, year).rule
    except DeadlineError:
        return False
    return rule is not None and rule.freq == "monthly"


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


def _units_note(units: str, lead: str, partner: str, resolved: list[Resolved], r: Roster) -> str:
    """A 待核对 for a missing or unknown unit; the cell as written when the list reads differently (a 全称, a
    牵头 moved first), so the clerk sees both."""
    if not resolved:
        return f"  # {CHECK}: 通知中此项没有责任单位"
    unknown = [x.name for x in resolved if not x.known and x.name in r.new_units]
    if unknown:
        return f"  # {CHECK}: {'、'.join(unknown)} 不在 --like 计划的单位中, 已暂列为新单位"
    cells = [x for x in (f"牵头单位: {lead}" if lead else "", units, f"配合单位: {partner}" if partner else "") if x]
    written = re.sub(r"[、，,；;/\s]+", "、", "；".join(cells).strip())
    return "" if written == "、".join(x.name for x in resolved) else f"  # 通知原文: {' '.join('；'.join(cells).split())}"


def _channels(b: Block, root: Any, r: Roster, foreign: re.Pattern[str], d: Draft) -> list[str]:
    """The block's shape with no channel of the like-plan's units: `units: {}` and an example line naming a unit
    of the draft. 专班's own channel stays only for the same county."""
    spec: Any = root["channels"]
    example = next(iter([*r.units, *r.new_units]), "单位")
    units = ["  units: {}  # 各单位的渠道 (--like 计划的未沿用): 填写时去掉 {}, 每个单位一行, 如下一行\n",
             f"  #   {example}: {{dingtalk: 机器人名称}}\n"]
    if isinstance(spec, dict) and spec.get("units"):
        d.notes.append("--like 计划中各单位的接收渠道未沿用 (channels.units 已清空), 请按本计划的单位填写")
    body, head = b.body, drop_comments([line for line in b.heading if not is_entry(line)], foreign)
    if not hasattr(spec, "lc") or spec.fa.flow_style() or set(spec) - {"units", "专班"}:
        return [*head, "channels:\n", *units, *body[trailing_blank(body):]]
    first, order = root.lc.key("channels")[0], list(spec)
    for key in reversed(order):  # from the end, so the marks of the keys before still hold
        at = order.index(key)
        start = spec.lc.key(key)[0] - first
        end = spec.lc.key(order[at + 1])[0] - first if at + 1 < len(order) else trailing_blank(body)
        if key == "units":
            body = [*body[:start], *units, *body[end:]]
        elif not r.same_county:
            body = [*body[:start], "  # 专班: {dingtalk: 机器人名称}  # 专班的渠道 (--like 计划的未沿用)\n", *body[end:]]
    if "units" not in spec:
        body = [*body[:trailing_blank(body)], *units, *body[trailing_blank(body):]]
    ours = set(units) | {line for line in body if "(--like 计划的未沿用)" in line}
    return [*head, *(line for line in drop_comments(body, foreign) if line in ours or not is_entry(line))]


def _reminders(b: Block, root: Any, foreign: re.Pattern[str], d: Draft) -> list[str]:
    spec: Any = root["reminders"]
    if not hasattr(spec, "lc") or not spec.get("overrides"):
        return drop_comments([*b.heading, *b.body], foreign)
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
    return [*drop_comments([*b.heading, *b.body[:start]], foreign), note,
            *comment_out(drop_comments(b.body[start:end], foreign), indent), *drop_comments(b.body[end:], foreign)]


def _notes(r: Roster, like: Plan, d: Draft) -> None:
    if r.new_groups:
        d.notes.append(f"单位组 {'、'.join(r.new_groups)} 的成员通知中没有列出: 草稿中 members 一行已注释掉, "
                       "列出成员后才能通过 fuquan plan check")
    if left := [n for n in like.known_names() if n not in {*r.units, *r.groups}] if r.same_county else []:
        d.notes.append(f"--like 计划中的 {'、'.join(left)} 任务清单中没有出现, 未列入草稿 (需要时从 --like 计划照抄)")
    if r.units and not r.same_county:
        d.notes.append(f"{'、'.join(r.units)} 与 --like 计划 ({like.district}) 中的单位同名: 只取了类别, 全称、联系人未沿用")
