"""A plan file as text: its top-level blocks with their heading comments, and YAML scalars written so that they
read back as the same text. Pure.

Drafts and next year's copies are spliced from the text of an existing plan file instead of dumped from a parsed
one: a dump would re-flow hand-wrapped lists and lose the layout a clerk knows. Only the blocks a command changes
are rewritten; every other line stays byte for byte.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from functools import lru_cache

from ruamel.yaml import YAML
from ruamel.yaml.comments import CommentedMap
from ruamel.yaml.error import YAMLError


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


def trailing_blank(body: list[str]) -> int:
    """Where the blank lines (and comments leading into the next block) at the end of a block begin."""
    end = len(body)
    while end > 1 and (not body[end - 1].strip() or body[end - 1].lstrip().startswith("#")):
        end -= 1
    return end


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


def comment_out(lines: list[str], indent: int) -> list[str]:
    """Lines turned into comments at `indent` (what they said stays readable, to be restored by hand)."""
    return [line[:indent] + "# " + line[indent:] if line.strip() else line for line in lines]
