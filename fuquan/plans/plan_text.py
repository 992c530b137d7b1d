"""A plan file as text: its top-level blocks with their heading comments, and YAML scalars written so that they
read back as the same text. Pure.

Drafts and next year's copies are spliced from the text of an existing plan file instead of dumped from a parsed
one: a dump would re-flow hand-wrapped lists and lose the layout a clerk knows. Only the blocks a command changes
are rewritten; every other line stays byte for byte.
"""

from __future__ import annotations

import json
import re
from dataclasses import dataclass
from functools import lru_cache
from typing import Any

from ruamel.yaml import YAML
from ruamel.yaml.comments import CommentedMap, CommentedSeq
from ruamel.yaml.error import YAMLError

from fuquan.errors import Problem


@dataclass
class Block:
    key: str  # the top-level key (plan, units, tasks …)
    heading: list[str]  # the comment lines directly above it
    body: list[str]  # from the key's line up to the next block's heading (trailing blank lines included)


def blocks(text: str) -> tuple[list[str], list[Block], CommentedMap]:
    """The lines before the first block's heading, every top-level block in order, and the parsed document
    (its `lc` marks give the lines inside a block). Lines keep their line ends."""
    root = YAML(typ="rt").load(text)
    lines = text.splitlines(keepends=True)
    if lines and not lines[-1].endswith("\n"):
        lines[-1] += "\n"
    starts = [root.lc.key(k)[0] for k in root]
    heads = [heading_start(lines, s) for s in starts]
    out = [Block(str(k), lines[h:s], lines[s:(heads[i + 1] if i + 1 < len(starts) else len(lines))])
           for i, (k, h, s) in enumerate(zip(root, heads, starts, strict=True))]
    return lines[:heads[0]] if heads else lines, out, root


def heading_start(lines: list[str], at: int) -> int:
    """The first line of the comment block right above line `at` (no blank line between)."""
    while at > 0 and lines[at - 1].lstrip().startswith("#") and not lines[at - 1].startswith(" "):
        at -= 1
    return at


def trailing_blank(body: list[str], start: int = 0) -> int:
    """Where the blank lines (and comments leading into the next block) at the end of a block begin; `start`: of
    the lines from there on (an item of a sequence)."""
    end = len(body)
    while end > start + 1 and (not body[end - 1].strip() or body[end - 1].lstrip().startswith("#")):
        end -= 1
    return end


def seq_items(seq: CommentedSeq, body: list[str], first: int) -> list[tuple[list[str], list[str]]]:
    """Each item of a block sequence whose key opens `body` (at file line `first`): the comment and blank lines
    right above it, and its own lines (a flow mapping may run on over several)."""
    starts = [seq.lc.item(i)[0] - first for i in range(len(seq))]
    out, done = [], 1
    for i, start in enumerate(starts):
        end = trailing_blank(body[:starts[i + 1]] if i + 1 < len(starts) else body, start)
        out.append((body[done:start], body[start:end]))
        done = end
    return out


def split_comment(line: str) -> tuple[str, str]:
    """A line's YAML and its comment (from the #, with the line end; "" when none). A # opens a comment at the
    start or after a space, never inside a quoted scalar ("0 9 * * *", "C#1")."""
    quote, prev, i = "", " ", 0
    while i < len(line):
        ch = line[i]
        if quote:
            if ch == "\\" and quote == '"':
                i += 1
            elif ch == quote:
                quote = ""
        elif ch in "\"'" and prev in " \t[{,:-":
            quote = ch
        elif ch == "#" and prev in " \t":
            return line[:i], line[i:]
        prev, i = ch, i + 1
    return line, ""


def drop_comments(lines: list[str], foreign: re.Pattern[str]) -> list[str]:
    """`lines` less the comments `foreign` finds in: a comment line goes, a comment after a value is cut off."""
    out = []
    for line in lines:
        code, comment = split_comment(line)
        if not comment or not foreign.search(comment):
            out.append(line)
        elif code.strip():
            out.append(code.rstrip() + "\n")
    return out


@lru_cache(maxsize=4096)
def scalar(value: str, flow: bool = False) -> str:
    """`value` as a YAML scalar that reads back as this very string: plain when it can be, else double-quoted.
    `flow`: inside [ ] or { }, where , [ ] { } end a plain scalar."""
    if value and value == value.strip():
        probe = f"[{value}]" if flow else f"k: {value}"
        try:
            got = YAML(typ="safe").load(probe)
        except YAMLError:
            got = None
        if (got == [value]) if flow else (got == {"k": value}):
            return value
    return json.dumps(value, ensure_ascii=False)  # a JSON string is a YAML double-quoted scalar


def flow_list(values: list[str] | tuple[str, ...]) -> str:
    return "[" + ", ".join(scalar(v, flow=True) for v in values) + "]"


def flow(value: Any) -> str:
    """A parsed value written back in flow style on one line: {name: 县委编办, kind: 部门}."""
    if isinstance(value, dict):
        return "{" + ", ".join(f"{scalar(str(k), True)}: {flow(v)}" for k, v in value.items()) + "}"
    if isinstance(value, list | tuple):
        return "[" + ", ".join(flow(v) for v in value) + "]"
    if isinstance(value, bool):
        return "true" if value else "false"
    return str(value) if isinstance(value, int | float) else scalar(str(value), True)


def comment_out(lines: list[str], indent: int) -> list[str]:
    """Lines turned into comments at `indent` (what they said stays readable, to be restored by hand)."""
    return [line[:indent] + "# " + line[indent:] if line.strip() else line for line in lines]


REVIEW_MARK = "# 待核对"


def review_marks(text: str, path: str) -> list[Problem]:
    """Every `# 待核对` a draft still carries (`fuquan plan import` marks what a person must confirm), as problems
    with their lines: a plan is not loaded into the database until each was looked at and its mark removed."""
    out = []
    for no, line in enumerate(text.splitlines(), 1):
        if (col := line.find(REVIEW_MARK)) >= 0:
            what = line[col + len(REVIEW_MARK):].strip(" :：") or "请核对这一行"
            shown = line[:col].strip() or "(注释行)"
            out.append(Problem(no, col + 1, f"待核对: {shown} — {what}; 核对或改正后删去这条 “# 待核对” 注释", path))
    return out
