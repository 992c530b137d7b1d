"""今日督办: the one page the 专班 opens each day, in Markdown: 红/黄/绿 totals, the by-town and by-unit tables,
the overdue items grouped by unit with what is missing, what was sent today and what was not, and links to
the detail tables (reports/status.py). Every word that names the plan's units comes from the plan
(Words: 镇 or 乡镇（街道）, 区 or 县). Pure."""

from __future__ import annotations

from collections.abc import Sequence

from fuquan.tracking.judge import DONE, DONE_LATE, GREEN, ONGOING, PENDING, RED, YELLOW, RollUp
from fuquan.tracking.ledger import Row

from .status import COLOUR, Sent, Snapshot, markdown_table, missing_text, overdue_by_unit, title_of, totals

TOWN = "town"


def title(s: Snapshot) -> str:
    return f"**今日督办** · {s.district} {s.year} 年度{s.words.programme} · 截至 {s.today}"


def headline(s: Snapshot) -> str:
    """The colour totals in one line."""
    n = totals(s)
    return "　".join(f"{COLOUR[c]} {n[c]}" for c in (RED, YELLOW, GREEN))


def markdown(s: Snapshot, sent: list[Sent], note: str | None = None, links: Sequence[tuple[str, str]] = ()) -> str:
    """The board. `sent`: the day's messages; `note`: why this run sent nothing, if it did not (quiet hours,
    a day off, a bad token); `links`: (label, url) of the detail tables."""
    parts = [title(s), f"### {headline(s)}", _counts(s), _late_line(s) + " " + _sent_line(sent, note)]
    if answered := answers_line(s.rows, s.unacked):
        parts.append(answered)
    if links:
        parts.append("详细: " + " · ".join(f"[{label}]({url})" for label, url in links))
    late = overdue_by_unit(s.rows)
    if late:  # who is late comes first: it is what the board is opened for
        parts += ["#### 逾期事项 · 按单位 (括号内为逾期工作日, 逾期最久的在前)", _late_list(late)]
    parts += [f"#### 按{s.words.towns}", _rollup_table(s.by_town, s.words.towns)]
    towns = {r.unit for r in s.rows if r.unit_kind == TOWN}
    others = [r for r in s.by_unit if r.key not in towns]
    if others:
        parts += [f"#### 按单位 ({s.words.towns}见上表)", _rollup_table(others, "单位")]
    detail = _sent_detail(sent)
    if detail:
        parts += ["#### 今日提醒", detail]
    return "\n\n".join(parts) + "\n"


def _counts(s: Snapshot) -> str:
    n = totals(s)
    rest = " · ".join(f"{label} {n[c]}" for c, label in ((DONE, "已完成"), (DONE_LATE, "逾期完成"), (ONGOING, "持续推进"),
                                                         (PENDING, "待定")) if n[c] or c == DONE)
    return f"共 {sum(n.values())} 项分工 (单位×任务): {rest}"


def _late_line(s: Snapshot) -> str:
    late = overdue_by_unit(s.rows)
    if not late:
        return "**今天没有逾期事项。**"
    n = sum(len(rows) for _, rows in late)
    longest = late[0][1][0].judgement.workdays_late
    return f"**逾期 {n} 项, 涉及 {len(late)} 个单位, 最久 {longest} 个工作日。**"


def answers_line(rows: list[Row], unacked: tuple[int, int] = (0, 0)) -> str:
    """Where the units' answers stand: feedback waiting for 复核 or sent back, extensions asked, reminders
    nobody acknowledged: (units, reminders), as the 专班's page counts them ("" when there is nothing of the kind)."""
    n = {"待复核": 0, "已退回": 0, "延期待批": 0}
    for r in rows:
        if r.review:
            n[r.review] += 1
        if r.extension == "待批":
            n["延期待批"] += 1
    said = [f"{k} {n[k]} 项" for k in ("待复核", "已退回", "延期待批") if n[k]]
    said += [f"未签收提醒 {unacked[0]} 个单位 ({unacked[1]} 条)"] if unacked[1] else []
    return "单位反馈: " + " · ".join(said) + " (专班页面办理)。" if said else ""


def _sent_line(sent: list[Sent], note: str | None) -> str:
    out = sum(s.result in ("sent", "reconciled") and not s.shown_only for s in sent)
    shown = sum(s.result in ("sent", "reconciled") and s.shown_only for s in sent)
    failed = len(sent) - out - shown
    said = [f"已发出 {out} 条"] if out or not sent else []
    said += [f"仅显示, 未发出 {shown} 条"] if shown else []
    said += [f"未能发送 {failed} 条"] if failed else []
    line = "今日提醒: " + (" · ".join(said) if sent else "没有发送提醒")
    return line + (f"; 本次运行: {note}" if note else "") + "。"


def _rollup_table(rollups: list[RollUp], head: str) -> str:
    return markdown_table([{head: r.key, COLOUR[RED]: r.counts[RED], COLOUR[YELLOW]: r.counts[YELLOW],
                            COLOUR[GREEN]: r.counts[GREEN], "已完成": f"{r.done}/{r.total}",
                            "最久逾期(工作日)": r.workdays_late_max or ""} for r in rollups])


def _late_list(late: list[tuple[str, list[Row]]]) -> str:
    """One line per unit, as a list (a table would squeeze the items beside a long cell of names); units late on
    exactly the same items (a task every department missed) share a line, so the board stays one page."""
    units: dict[str, list[str]] = {}
    for unit, rows in late:
        units.setdefault(_items(rows), []).append(unit)
    return "\n".join(f"- **{'、'.join(names)}**{f' ({len(names)} 个)' if len(names) > 2 else ''}: {items}"
                     for items, names in units.items())


def _items(rows: list[Row]) -> str:
    items = []
    for r in rows:
        item = f"任务{r.task_no} {title_of(r)}" + (f" {r.label}" if r.label and not r.missing else "")
        item += f" ({r.judgement.workdays_late})"
        if r.missing:
            item += f": 尚缺 {missing_text(r, 3)}"
        item += "".join(f" [{tag}]" for tag in (r.review, "延期" + r.extension if r.extension else "") if tag)
        items.append(item)
    return "；".join(items)


def _sent_detail(sent: list[Sent]) -> str:
    lines = []
    shown = [s.recipient for s in sent if s.shown_only and s.result in ("sent", "reconciled")]
    if shown:
        lines.append(f"- **仅显示, 未发出 {len(shown)} 条** (没有配置 Slack 或钉钉/企业微信机器人, 提醒只显示在屏幕上"
                     f"并写入提醒文件): {'、'.join(shown)}")
    for s in sent:
        if s.result not in ("sent", "reconciled"):
            lines.append(f"- **{s.outcome}**: {s.recipient} · {s.destination}" + (f" ({s.code})" if s.code else ""))
    return "\n".join(lines)
