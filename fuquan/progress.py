"""Checks on recorded progress, shared by the CLI and the importers. Pure: `today` is passed in."""

from __future__ import annotations

import re
from datetime import date

from .errors import InvalidValue

TRAINING_FORMS = ("集中培训", "现场观摩", "跟班学习", "传帮带")
TASK_STATES = ("未开始", "进行中", "已完成", "申请延期")


def not_future(d: date | None, today: date, label: str) -> date | None:
    if d is not None and d > today:
        raise InvalidValue(f"{label} {d} 晚于今天 ({today}), 不能登记未来的日期")
    return d


def exam_counts(candidates: int | None, sat: int | None, passed: int | None) -> None:
    for label, n in (("应考人数", candidates), ("实考人数", sat), ("通过人数", passed)):
        if n is not None and n < 0:
            raise InvalidValue(f"{label}不能为负数: {n}")
    if candidates is not None and sat is not None and sat > candidates:
        raise InvalidValue(f"实考人数 {sat} 大于应考人数 {candidates}")
    if passed is not None and (sat is None or passed > sat):
        raise InvalidValue(f"通过人数 {passed} 大于实考人数 {sat if sat is not None else '(未填)'}")


def training_form(form: str) -> str:
    if form not in TRAINING_FORMS:
        raise InvalidValue(f"培训形式 “{form}” 不在可选范围: {'、'.join(TRAINING_FORMS)}")
    return form


def period(text: str) -> str:
    m = re.fullmatch(r"(\d{4})-?(\d{1,2})", text.strip())
    if not m or not 1 <= int(m[2]) <= 12:
        raise InvalidValue(f"月份应写作 YYYY-MM, 实为 “{text}”")
    return f"{m[1]}-{int(m[2]):02d}"


def figures(values: dict[str, str | float | int | None], allowed: tuple[str, ...]) -> dict[str, float | int]:
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
        if num < 0:
            raise InvalidValue(f"月报指标 {name} 不能为负数: {raw}")
        out[name] = int(num) if num.is_integer() else num
    return out


def task_state(state: str, completed_on: date | None, extended_due: date | None, reason: str | None) -> None:
    if state not in TASK_STATES:
        raise InvalidValue(f"状态 “{state}” 不在可选范围: {'、'.join(TASK_STATES)}")
    if state == "已完成" and completed_on is None:
        raise InvalidValue("状态为已完成时须填写完成日期 (--on)")
    if state == "申请延期" and (extended_due is None or not reason):
        raise InvalidValue("申请延期须填写新的截止日期 (--new-due) 和理由 (--reason)")
