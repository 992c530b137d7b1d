"""The names in a 任务清单's 责任单位 cells: split, ordered lead first, resolved against a plan's units. Pure.

Cells are written many ways: 区委编办、区司法局 / 区委编办 区司法局 / 区委编办牵头，区司法局、各镇配合 /
牵头单位：区委编办；配合单位：区司法局 / 区委编办（牵头）、区司法局（配合）, or 牵头 and 配合 in columns of their
own. A name is split at 、，,；; / and spaces — never at 和 or 及 (区住房和城乡建设局 is one unit) — and the lead is
put first, which is what a plan's `units:` order means.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from fuquan.plans.plan import Plan
from fuquan.words.text import name_key

_LABEL = re.compile(r"(牵头单位|牵头部门|责任单位|责任部门|配合单位|配合部门|协办单位|协同单位|参与单位)\s*[:：]")
_MARK = re.compile(r"[（(]\s*(牵头|牵头单位|牵头部门|配合|配合单位|协办|协同|参与)\s*[）)]")
_TAIL = re.compile(r"(?:按职责分工)?(牵头|负责|配合|参与|协助|协同|协办|落实)(?:落实|实施|推进)?$")
_SPLIT = re.compile(r"[、，,；;/\s]+")
_ETC = re.compile(r"等(?:相关)?(?:单位|部门)?$")


@dataclass(frozen=True)
class Named:
    text: str  # as written
    lead: bool


def split_units(units: str, lead: str = "", partner: str = "") -> list[Named]:
    """Every name in the cells, each once, the lead (牵头) first and the rest in written order."""
    found: list[Named] = []
    for cell, role in ((lead, "lead"), (units, ""), (partner, "partner")):
        for seg_role, segment in _segments(cell):
            for clause in re.split(r"[；;。，,\n]", segment):
                found += _names(clause, seg_role or role)
    seen: dict[str, Named] = {}
    for n in found:
        key = name_key(n.text)
        if key not in seen or (n.lead and not seen[key].lead):
            seen[key] = Named(seen[key].text if key in seen else n.text, n.lead or (key in seen and seen[key].lead))
    ordered = list(seen.values())
    return [n for n in ordered if n.lead] + [n for n in ordered if not n.lead]


def _segments(cell: str) -> list[tuple[str, str]]:
    """牵头单位：A；配合单位：B → [(lead, A), (partner, B)]; a cell without labels is one segment."""
    parts = _LABEL.split(cell)
    out = [("", parts[0])]
    for label, text in zip(parts[1::2], parts[2::2], strict=True):
        out.append(("lead" if label.startswith("牵头") else "partner" if not label.startswith("责任") else "", text))
    return out


def _names(clause: str, role: str) -> list[Named]:
    clause = clause.strip()
    tail = _TAIL.search(clause)
    if tail and tail.start() > 0:
        role = {"牵头": "lead", "负责": role, "落实": role}.get(tail[1], "partner")
        clause = clause[:tail.start()]
    out = []
    for piece in _SPLIT.split(clause):
        mark = _MARK.search(piece)
        name = _ETC.sub("", _MARK.sub("", piece)).strip(" “”\"'《》:：.。-•·●")
        if not name:
            continue
        is_lead = (mark[1].startswith("牵头") if mark else role == "lead")
        out.append(Named(name, is_lead))
    return out


@dataclass(frozen=True)
class Resolved:
    written: str
    name: str  # the plan's name for it, or the written name when the plan has none
    known: bool


def resolver(plan: Plan) -> dict[str, str]:
    """Name key → the plan's unit or group name, by name, full name (全称) and former names (曾用名)."""
    keys: dict[str, str] = {}
    for u in plan.units:
        for alias in (*u.former_names, *([u.full_name] if u.full_name else [])):
            keys.setdefault(name_key(alias), u.name)
    keys.update({name_key(n): n for n in plan.known_names()})
    return keys


def resolve(names: list[Named], keys: dict[str, str]) -> list[Resolved]:
    out: list[Resolved] = []
    for n in names:
        canonical = keys.get(name_key(n.text))
        r = Resolved(n.text, canonical or n.text, canonical is not None)
        if all(x.name != r.name for x in out):  # a unit written twice, once by its full name
            out.append(r)
    return out


def guess_kind(name: str) -> str:
    """An unknown unit's kind, from how its name ends (the clerk checks it: the draft marks it 待核对)."""
    if name.endswith("街道") or name.endswith("街道办事处"):
        return "街道"
    if re.search(r"(开发区|园区|管委会|高新区|产业园)$", name):
        return "园区"
    if name.endswith("乡") or name.endswith("乡人民政府"):
        return "乡"
    if name.endswith("镇") or name.endswith("镇人民政府"):
        return "镇"
    return "部门"


def is_group_name(name: str) -> bool:
    """各镇, 各乡镇（街道）, 县级执法部门, 有关单位: a name for several units, whose members a notice seldom lists."""
    return name.startswith("各") or re.search(r"(有关|相关|成员|级|直).*(单位|部门)$", name) is not None


def group_kind(name: str) -> str:
    """What a group's members are, from its name (各乡镇 → town, 县级执法部门 → department), to suggest tracking."""
    return "town" if re.search(r"镇|乡|街道|村", name) else "department"
