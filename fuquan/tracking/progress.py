"""Checks on recorded progress, shared by the CLI and the importers. Pure: `today` is passed in."""

from __future__ import annotations

import re
from datetime import date

from fuquan.errors import InvalidValue
from fuquan.tracking.states import Progress

MAX_TEXT = 2000  # characters of a note, a document number, a name: more is a paste gone wrong
MAX_COUNT = 1_000_000  # people, sessions: more is a typo (and PostgreSQL's integers end at 2^31)


def text(value: str, label: str) -> str:
    """Free text as it may be stored: UTF-8, no control characters (NUL ends a PostgreSQL string), bounded."""
    try:
        value.encode("utf-8")
    except UnicodeEncodeError:
        raise InvalidValue(f"{label} 含有无法识别的字符 (终端的编码可能不是 UTF-8, 请改用 UTF-8 后重试)") from None
    if re.search(r"[\x00-\x08\x0b-\x1f\x7f]", value):
        raise InvalidValue(f"{label} 含有控制字符, 请删去后重试")
    if len(value) > MAX_TEXT:
        raise InvalidValue(f"{label} 过长 ({len(value)} 字), 最多 {MAX_TEXT} 字")
    return value


def count(n: int | None, label: str) -> int | None:
    if n is not None and not 0 <= n <= MAX_COUNT:
        raise InvalidValue(f"{label}应在 0 到 {MAX_COUNT} 之间, 实为 {n}")
    return n


def not_future(d: date | None, today: date, label: str) -> date | None:
    if d is not None and d > today:
        raise InvalidValue(f"{label} {d} 晚于今天 ({today}), 不能登记未来的日期")
    return d


def in_plan_years(d: date | None, year: int, label: str) -> date | None:
    """Within the plan's year or the years either side: a 1999 or 9999 is a typo, and one far date would
    make every working-day count of the run slow or impossible."""
    if d is not None and not year - 1 <= d.year <= year + 1:
        raise InvalidValue(f"{label} {d} 不在计划年度 {year} 年前后 (应在 {year - 1}–{year + 1} 年之间), 请检查是否输错")
    return d


def exam_counts(candidates: int | None, sat: int | None, passed: int | None) -> None:
    for label, n in (("应考人数", candidates), ("实考人数", sat), ("通过人数", passed)):
        if n is not None and n < 0:
            raise InvalidValue(f"{label}不能为负数: {n}")
        count(n, label)
    if candidates is not None and sat is not None and sat > candidates:
        raise InvalidValue(f"实考人数 {sat} 大于应考人数 {candidates}")
    if passed is not None and (sat is None or passed > sat):
        raise InvalidValue(f"通过人数 {passed} 大于实考人数 {sat if sat is not None else '(未填)'}")


def training_form(form: str, forms: tuple[str, ...]) -> str:
    """One of the plan's training forms (`training_forms:`; 集中培训、现场观摩、跟班学习、传帮带 unless it says)."""
    if form not in forms:
        raise InvalidValue(f"培训形式 “{form}” 不在可选范围: {'、'.join(forms)}")
    return form


def period(text: str, year: int | None = None) -> str:
    """A month YYYY-MM, of the plan year when one is given (a 2025-01 月报 belongs to no 2024 plan)."""
    m = re.fullmatch(r"(\d{4})-?(\d{1,2})", text.strip())
    if not m or not 1 <= int(m[2]) <= 12:
        raise InvalidValue(f"月份应写作 YYYY-MM, 实为 “{text}”")
    if year is not None and int(m[1]) != year:
        raise InvalidValue(f"月份 {text} 不在计划年度 {year} 内")
    return f"{m[1]}-{int(m[2]):02d}"


def figures(values: dict[str, str | float | int | None], allowed: tuple[str, ...],
            decimal: tuple[str, ...] = ()) -> dict[str, float | int]:
    """月报 figures as numbers: known names, ≥ 0, whole counts unless the plan lets a figure have decimals."""
    out: dict[str, float | int] = {}
    for name, raw in values.items():
        if name not in allowed:
            raise InvalidValue(f"未知月报指标 “{name}”; 可填指标: {'、'.join(allowed)}")
        if raw is None or str(raw).strip() == "":
            continue
        try:
            num = float(str(raw).replace(",", ""))
        except ValueError:
            raise InvalidValue(f"月报指标 {name} 应为数字, 实为 “{raw}”") from None
        if num < 0 or not num < 1e12:  # (inf and nan too)
            raise InvalidValue(f"月报指标 {name} 应为 0 到 10^12 之间的数, 实为 “{raw}”")
        if not num.is_integer() and name not in decimal:
            raise InvalidValue(f"月报指标 {name} 是件数/人数, 应为整数, 实为 “{raw}”")
        out[name] = int(num) if num.is_integer() else num
    return out


def task_state(state: str, completed_on: date | None) -> Progress:
    if state not in list(Progress):
        raise InvalidValue(f"状态 “{state}” 不在可选范围: {'、'.join(Progress)}")
    if state == Progress.DONE and completed_on is None:
        raise InvalidValue("状态为已完成时须填写完成日期 (--on)")
    return Progress(state)


def done_date(d: date | None, today: date, year: int, label: str) -> date | None:
    """A date something was done: not after today, and not before the year before the plan's. Finishing after the
    plan's year is real (a late share of a closed-out year is still finished, and recorded as it was)."""
    not_future(d, today, label)
    if d is not None and d.year < year - 1:
        raise InvalidValue(f"{label} {d} 早于计划年度 {year} 年 (应不早于 {year - 1} 年), 请检查是否输错")
    return d
