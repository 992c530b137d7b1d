"""Next year's plan file from this year's: the same file with the year moved on. Pure.

Everything a plan keeps from year to year (units, groups, channels, policy, schedules, calendar, comments) stays
byte for byte. What changes: `year`; `issued`, set to 1 January and marked for the clerk (the new 方案's issue date
is not known yet, and an old one would make recurring tasks owe last year's periods); and every explicit year
within a year of the plan's (2024年10月底前, 2023-2025年, 二〇二四年) in the title, section titles, task texts,
short titles, deadlines and group notes — moved by the same number of years, each edit listed. Years further off
(到2035年, a 2019 document) and years in comments are listed for the clerk, not changed.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import date

from ruamel.yaml import YAML
from ruamel.yaml.nodes import MappingNode, Node, ScalarNode, SequenceNode

from fuquan.dates.deadline import Deadline
from fuquan.errors import InvalidValue, Problem
from fuquan.plans.loader import position
from fuquan.plans.plan import Plan

CN_DIGITS = "〇一二三四五六七八九"
_FULL = str.maketrans("０１２３４５６７８９", "0123456789")
_YEAR = re.compile(r"(?<![0-9０-９〔\[［【])([12][0-9]{3}|[１２][０-９]{3}|[〇○零一二][〇○零一二三四五六七八九]{3})"
                   r"(?=\s*(?:年|[-./—–~至到－／．]\s*[0-9０-９]))")
ISSUED_NOTE = "待填写: 新方案印发后改为印发日期"


@dataclass(frozen=True)
class Change:
    line: int
    what: str  # 计划年度, 任务 14 完成时限 …
    old: str
    new: str


@dataclass
class Rolled:
    text: str = ""
    changes: list[Change] = field(default_factory=list)
    review: list[str] = field(default_factory=list)  # years left as they were, for the clerk to look at


def year_value(token: str) -> int:
    if token[0] in "〇○零一二":
        return int("".join(str(CN_DIGITS.index("〇" if c in "○零" else c)) for c in token))
    return int(token.translate(_FULL))


def year_token(value: int, like: str) -> str:
    """`value` written as `like` is: 2025, ２０２５ or 二〇二五 (with the zero it used)."""
    if like[0] in "〇○零一二":
        zero = next((c for c in like if c in "〇○零"), "〇")
        return "".join(zero if d == "0" else CN_DIGITS[int(d)] for d in str(value))
    if like[0] in "１２":
        return str(value).translate(str.maketrans("0123456789", "０１２３４５６７８９"))
    return str(value)


def roll(text: str, year: int, issued: date | None = None) -> Rolled:
    root = YAML(typ="rt").compose(text)
    plan = _get(root, "plan")
    old = _get(plan, "year")
    if not isinstance(old, ScalarNode) or not old.value.isdigit():
        raise InvalidValue("计划文件中没有 plan.year (计划年度)")
    delta = year - int(old.value)
    if delta == 0:
        raise InvalidValue(f"新年度与原计划相同 ({year}); 请给出另一个年度")
    out = Rolled()
    edits: list[tuple[int, int, str]] = [(old.start_mark.index, old.end_mark.index, str(year))]
    out.changes.append(Change(_line(text, old), "计划年度", old.value, str(year)))
    if (given := _get(plan, "issued")) is not None:
        new = (issued or date(year, 1, 1)).isoformat()
        note = "" if issued else f"  # {ISSUED_NOTE}"
        tail = text[given.end_mark.index:text.find("\n", given.end_mark.index)]
        edits.append((given.start_mark.index, given.end_mark.index, new + (note if not tail.strip(" ") or
                                                                          tail.lstrip().startswith("#") else "")))
        out.changes.append(Change(_line(text, given), "印发日期", str(given.value), new + (f" ({ISSUED_NOTE})" if note else "")))
    for what, node in _texts(root):
        source = text[node.start_mark.index:node.end_mark.index]
        moved, far = _move(source, int(old.value), delta)
        out.review += [f"第 {_line(text, node)} 行 {what}: {y} 年不在计划年度前后, 未改动" for y in far]
        if moved != source:
            edits.append((node.start_mark.index, node.end_mark.index, moved))
            out.changes.append(Change(_line(text, node), what, source, moved))
    for n, line in enumerate(text.splitlines(), 1):
        comment = _comment(line)
        if comment and any(abs(year_value(m[1]) - int(old.value)) <= 1 for m in _YEAR.finditer(comment)):
            out.review.append(f"第 {n} 行 (注释, 未改动): {comment.strip()}")
    for start, end, new in sorted(edits, reverse=True):
        text = text[:start] + new + text[end:]
    out.text = text
    out.changes.sort(key=lambda c: c.line)
    return out


def _move(source: str, year: int, delta: int) -> tuple[str, list[int]]:
    """`source` with its years near `year` moved by `delta`, and the years it left (too far to be the plan's)."""
    far: list[int] = []

    def repl(m: re.Match[str]) -> str:
        value = year_value(m[1])
        if abs(value - year) > 1:
            far.append(value)
            return m[1]
        return year_token(value + delta, m[1])

    return _YEAR.sub(repl, source), far


def _get(node: Node | None, key: str) -> Node | None:
    if isinstance(node, MappingNode):
        return next((v for k, v in node.value if isinstance(k, ScalarNode) and k.value == key), None)
    return None


def _texts(root: Node) -> Iterator[tuple[str, ScalarNode]]:
    """The scalars whose years move, each with what it is for the list of changes."""
    if isinstance(title := _get(_get(root, "plan"), "title"), ScalarNode):
        yield "方案名称", title
    for key, fields in (("sections", ("title",)), ("tasks", ("text", "short", "deadline")), ("groups", ("note",))):
        seq = _get(root, key)
        for item in seq.value if isinstance(seq, SequenceNode) else ():
            label = _label(key, item)
            for f in fields:
                if isinstance(node := _get(item, f), ScalarNode):
                    yield f"{label}{ {'title': '标题', 'text': '内容', 'short': '简称', 'deadline': '完成时限', 'note': '备注'}[f]}", node


def _label(key: str, item: Node) -> str:
    name = _get(item, "no") if key != "groups" else _get(item, "name")
    value = name.value if isinstance(name, ScalarNode) else "?"
    return {"sections": f"章节 {value} ", "tasks": f"任务 {value} ", "groups": f"单位组 {value} "}[key]


def _comment(line: str) -> str:
    """The comment part of a line (from a # at its start or after a space), roughly: enough to spot a year."""
    m = re.search(r"(?:^|\s)#", line)
    return line[m.end() - 1:] if m else ""


def _line(text: str, node: Node) -> int:
    return text.count("\n", 0, node.start_mark.index) + 1


def due_before_year(plan: Plan, text: str) -> list[Problem]:
    """Deadlines due before the plan's year, with their place: a plan copied from last year whose dates were
    left behind (2024年10月底前 in a 2025 plan). The loader allows a year either side; a due date a year back is
    still a stale copy."""
    stale = {t.no: (t.deadline.text, d) for t in plan.tasks for d in _dues(t.deadline) if d.year < plan.year}
    if not stale:
        return []
    root = YAML(typ="rt").load(text)
    out = []
    for i, spec in enumerate(root["tasks"]):
        if (no := spec.get("no")) in stale:
            written, due = stale.pop(no)
            out.append(Problem(*position(root, ("tasks", i, "deadline")),
                               f"任务 {no}: 完成时限 “{written}” 的截止日期 {due} 在计划年度 {plan.year} 年之前; 是否沿用"
                               f"上一年度的计划时漏改了年份? (fuquan plan new 会把年份一并顺延)", plan.source))
    return out


def _dues(d: Deadline) -> list[date]:
    return ([d.due] if d.due and d.kind in ("date", "range") else []) + [x for p in d.parts for x in _dues(p)]
