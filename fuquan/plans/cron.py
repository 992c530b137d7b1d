"""Five-field cron expressions (分 时 日 月 周), checked when the plan is loaded: a schedule that cannot fire
must fail `plan check`, not crash the scheduler weeks later. Pure; the runners parse them again themselves."""

from __future__ import annotations

import re

FIELDS = (("分", 0, 59), ("时", 0, 23), ("日", 1, 31), ("月", 1, 12), ("周", 0, 7))
_NAMES = {3: "jan feb mar apr may jun jul aug sep oct nov dec".split(), 4: "sun mon tue wed thu fri sat".split()}


def check_cron(expr: str) -> str:
    """`expr` with its white space folded, or ValueError naming the field that is out of range."""
    parts = expr.split()
    if len(parts) != 5:
        raise ValueError(f"cron 表达式应为 5 段 (分 时 日 月 周), 实为 {len(parts)} 段")
    for i, part in enumerate(parts):
        name, low, high = FIELDS[i]
        for item in part.split(","):
            if not _item_ok(item.lower(), i, low, high):
                raise ValueError(f"cron 的“{name}”字段 “{part}” 不对: 应在 {low}–{high} 之间 (可用 * , - /)")
    return " ".join(parts)


def _item_ok(item: str, i: int, low: int, high: int) -> bool:
    m = re.fullmatch(r"(\*|[a-z0-9]+(?:-[a-z0-9]+)?)(?:/(\d+))?", item)
    if not m or (m[2] is not None and not 1 <= int(m[2]) <= high):
        return False
    if m[1] == "*":
        return True
    values = [_value(v, i) for v in m[1].split("-")]
    known = [v for v in values if v is not None]
    return len(known) == len(values) and all(low <= v <= high for v in known) and known == sorted(known)


def _value(text: str, i: int) -> int | None:
    if text.isdigit():
        return int(text)
    names = _NAMES.get(i, [])
    return names.index(text) + (1 if i == 3 else 0) if text in names else None
