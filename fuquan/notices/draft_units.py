"""The draft's `units:` and `groups:`: those of the like-plan the notice names, and the notice's other names
proposed for the clerk; the tracking its groups suggest; what marks a like-plan comment as its county's. Pure.

The like-plan is some county's plan file, often another county's. What it knows beyond a name the notice also
uses — a 全称, a contact, the members of 各镇 — is that county's, so it is carried only when the notice is of the
same district. Otherwise a unit comes with its kind alone and a group with its members left for the clerk.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from typing import Any

from fuquan.notices.notice_units import group_kind, guess_kind, is_group_name
from fuquan.plans.plan import Plan
from fuquan.plans.plan_text import Block, drop_comments, flow, scalar, seq_items, trailing_blank
from fuquan.words.text import name_key

CHECK = "待核对"
GROUPS_HEADING = ["# ── 单位组 ─────────────────────────────────────────────────────────────────\n",
                  "# 任务清单里的一组单位 (如“各乡镇”): 组内每个成员都要各自完成该任务。\n"]
_ENTRY = re.compile(r"#\s*([^\s:#]+)\s*:\s*\{\s*(?:slack|dingtalk|wecom)\s*:\s*([A-Za-z0-9_]+)")


@dataclass
class Roster:
    named: dict[str, list[int]]  # every name the tasks use (the like-plan's spelling where it has one) → its tasks
    same_county: bool  # the notice is of the like-plan's district: what it knows of a name holds here
    units: list[str] = field(default_factory=list)  # the like-plan's units kept, in its order
    groups: list[str] = field(default_factory=list)  # the like-plan's groups kept with their members
    new_units: list[str] = field(default_factory=list)  # the notice's names, proposed as units
    new_groups: list[str] = field(default_factory=list)  # groups whose members the clerk is to list

    def tasks(self, name: str) -> str:
        return "、".join(map(str, self.named[name]))


def same_county(district: str | None, like: str) -> bool:
    """湾沚区 and 芜湖市湾沚区 are one district; a notice that names none is not taken for the like-plan's."""
    a, b = name_key(district or ""), name_key(like)
    return bool(a) and (a == b or a.endswith(b) or b.endswith(a))


def roster(named: dict[str, list[int]], like: Plan, same: bool) -> Roster:
    groups = {g.name: g for g in like.groups}
    units = {u.name for u in like.units}
    r = Roster(named, same)
    keep: set[str] = set()
    for name in named:
        if name in groups and same:
            keep |= {name, *groups[name].members}
        elif name in groups or (name not in units and is_group_name(name)):
            r.new_groups.append(name)
        elif name in units:
            keep.add(name)
        else:
            r.new_units.append(name)
    r.units = [u.name for u in like.units if u.name in keep]
    r.groups = [g.name for g in like.groups if g.name in keep]
    return r


def foreign_words(root: Any, like: Plan, r: Roster, channel_lines: list[str]) -> re.Pattern[str]:
    """What marks a like-plan comment as speaking of its own county: its task numbers (任务 14), its units and
    groups (all of them when the notice is another county's), its place name, its units' channels — the live
    ones and those in its channels block's commented-out lines (#   湾沚镇: {dingtalk: WANZHI})."""
    kept = {*r.units, *r.groups} if r.same_county else set()
    words = {g.name for g in like.groups if g.name not in kept}
    for u in like.units:
        if u.name not in kept:
            words |= {u.name, *u.former_names, *([u.full_name] if u.full_name else [])}
    place = re.sub(r"[区县旗市]$", "", re.sub(r"^.*?[市州盟](?=.)", "", like.district))
    if not r.same_county and len(place) >= 2:
        words.add(place)
    channels = root.get("channels") or {}
    live = [*(channels.get("units") or {}).values(), *([channels["专班"]] if "专班" in channels else [])]
    words |= {str(v) for spec in live for v in (spec or {}).values()}
    words |= {m[2] for line in channel_lines if (m := _ENTRY.search(line)) and m[1] != "专班"}
    return re.compile("|".join([r"任务\s*\d+", *(re.escape(w) for w in sorted(words, key=len, reverse=True) if w)]))


def is_entry(line: str) -> bool:
    """A commented-out line of a channels block naming a channel (#   区委编办: {slack: C0456EFGH})."""
    return bool(_ENTRY.search(line)) and not line.split("#")[0].strip()


def units_block(b: Block, root: Any, r: Roster, foreign: re.Pattern[str], level: str) -> list[str]:
    seq = root["units"]
    lines = ["units:\n"]
    if r.same_county and not seq.fa.flow_style():
        for (lead, own), spec in zip(seq_items(seq, b.body, root.lc.key("units")[0]), seq, strict=True):
            if spec["name"] in r.units:
                lines += drop_comments(lead + own, foreign)
    else:
        specs = {str(s["name"]): s for s in seq}
        for name in r.units:
            if r.same_county:
                lines.append(f"  - {flow(specs[name])}\n")
            else:
                lines.append(f"  - {flow({'name': name, 'kind': specs[name]['kind']})}  # 与 --like 计划中的单位同名, "
                             f"只取了类别; 全称、联系人按本{level}填写\n")
    if r.new_units:
        lines.append(f"  # 以下是通知中出现、--like 计划中没有的名称 ({CHECK}: 是新单位, 还是已有单位的别称或全称?)\n")
        lines += [f"  - {{name: {scalar(n, True)}, kind: {guess_kind(n)}}}  # {CHECK}: 通知中的名称, 见任务 {r.tasks(n)}; "
                  "类别按名称推测\n" for n in r.new_units]
    if len(lines) == 1:
        lines = [f"units: []  # {CHECK}: 通知中只有单位组; 请在这里列出各组的成员单位\n"]
    return [*drop_comments(b.heading, foreign), *lines, *b.body[trailing_blank(b.body):]]


def groups_block(b: Block | None, root: Any, r: Roster, like: Plan, foreign: re.Pattern[str]) -> list[str]:
    lines = ["groups:\n"]
    seq: Any = root.get("groups") or []
    if r.groups and b is not None and not seq.fa.flow_style():
        for (lead, own), spec in zip(seq_items(seq, b.body, root.lc.key("groups")[0]), seq, strict=True):
            if spec["name"] in r.groups:
                lines += drop_comments(lead + own, foreign)
    else:
        lines += [f"  - {flow(spec)}\n" for spec in seq if spec["name"] in r.groups]
    theirs = {g.name for g in like.groups}
    for n in r.new_groups:
        other = "; --like 计划中的同名单位组是另一区县的, 成员未沿用" if n in theirs else ""
        lines += [f"  - name: {scalar(n)}  # {CHECK}: 通知中的单位组, 见任务 {r.tasks(n)}{other}\n",
                  f"    # members: [ ]  # {CHECK}: 通知中没有列出成员; 请在 [ ] 中列出 (须是 units: 中的单位), 再去掉行首的 “# ”\n"]
    if len(lines) == 1:
        lines = ["groups: []\n"]
    if b is None:
        return [*GROUPS_HEADING, *lines, "\n"]
    return [*drop_comments(b.heading, foreign), *lines, *b.body[trailing_blank(b.body):]]


def group_kinds(r: Roster, like: Plan) -> dict[str, str]:
    """Each group of the draft → department or town: by its members' kinds when kept, else by its name."""
    kinds = {u.name: u.kind for u in like.units}
    out = {g.name: k.pop() for g in like.groups if g.name in r.groups and len(k := {kinds.get(m) for m in g.members}) == 1}
    return {n: out.get(n) or group_kind(n) for n in r.named if n in out or n in r.new_groups}


def suggest_track(text: str, deadline: str, monthly: bool, units: list[str], r: Roster,
                  kinds: dict[str, str]) -> tuple[str, str] | None:
    """(what, the `track:` line) a task's words suggest, naming the draft's groups: the one the task names, else
    the one most tasks name."""
    def group(kind: str) -> str | None:
        pool = [g for g, k in kinds.items() if k == kind]
        here = [g for g in pool if g in units]
        return here[0] if here else max(pool, key=lambda g: len(r.named[g]), default=None)

    depts, towns = group("department"), group("town")
    if "确认书" in text and depts and towns:
        return "承接确认书", f"letters: {{departments: [{depts}], towns: [{towns}]}}"
    if "培训" in text and ("岗前" in text or "培训指导计划" in text) and depts and towns:
        return "岗前培训", f"training: {{departments: [{depts}], towns: [{towns}]}}"
    if "考试" in text and towns:
        return "法律知识考试", f"exams: {{towns: [{towns}]}}"
    if (monthly or "每月" in deadline) and any(w in text for w in ("月报", "按月", "月收集", "每月报送")) and towns:
        return "月报", f"monthly_reports: {{towns: [{towns}]}}"
    return None
