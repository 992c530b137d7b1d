"""今日督办: the page the Prefect UI opens for the 专班, in Markdown and short — 红/黄/绿 totals, the worst ten overdue
items (unit, task, due date, working days late, what is missing), what was sent today and what was not, a link to
the web app's board (every overdue item, filters, the queues) and links to the detail tables (reports/status.py),
the by-town and by-unit tables among them. Every word that names the plan's units comes from the plan (Words: 镇 or
乡镇（街道）, 区 or 县). Pure."""

from __future__ import annotations

from collections.abc import Sequence

from fuquan.tracking.judge import DONE, DONE_LATE, GREEN, ONGOING, PENDING, RED, YELLOW, RollUp
from fuquan.tracking.ledger import Row

from .status import COLOUR, Sent, Snapshot, due_text, markdown_table, missing_text, overdue_by_unit, title_of, totals

TOWN = "town"


def title(s: Snapshot) -> str:
    return f"**今日督办** · {s.district} {s.year} 年度{s.words.programme} · 截至 {s.today}"


def headline(s: Snapshot) -> str:
    """The colour totals in one line."""
    n = totals(s)
    return "　".join(f"{COLOUR[c]} {n[c]}" for c in (RED, YELLOW, GREEN))


WORST = 10  # overdue items on the Prefect board; the web board lists them all


def markdown(s: Snapshot, sent: list[Sent], note: str | None = None, links: Sequence[tuple[str, str]] = (),
             web: str | None = None) -> str:
    """The board. `sent`: the day's messages; `note`: why this run sent nothing, if it did not (quiet hours,
    a day off, a bad token); `links`: (label, url) of the detail tables; `web`: the web app's board."""
    parts = [title(s), f"### {headline(s)}", _counts(s), _late_line(s) + " " + _sent_line(sent, note)]
    if answered := answers_line(s.rows, s.unacked):
        parts.append(answered)
    if web:
        parts.append(f"**[网页督办看板]({web})**: 全部逾期事项, 按单位、{s.words.towns}、任务筛选, 复核反馈和审批延期 "
                     "(专班成员用本人的专属链接登录)")
    if links:
        parts.append("详细: " + " · ".join(f"[{label}]({url})" for label, url in links))
    red = sorted((r for r in s.rows if r.judgement.colour == RED),
                 key=lambda r: (-r.judgement.workdays_late, r.unit, r.task_no))
    if red:  # who is late comes first: it is what the board is opened for
        more = f" (共 {len(red)} 项, 其余见逾期清单{'和网页看板' if web else ''})" if len(red) > WORST else ""
        parts += [f"#### 逾期最久的 {min(len(red), WORST)} 项{more}", worst_table(red[:WORST], s.year)]
    detail = _sent_detail(sent)
    if detail:
        parts += ["#### 今日提醒", detail]
    return "\n\n".join(parts) + "\n"


def worst_table(rows: list[Row], year: int) -> str:
    return markdown_table([{"单位": r.unit, "任务": f"{r.task_no} {title_of(r)}" + (f" {r.label}" if r.label else ""),
                            "截止": due_text(r.judgement.due, year), "逾期(工作日)": r.judgement.workdays_late,
                            "尚缺": missing_text(r, 3) or "未登记完成"} for r in rows])


def rollup_tables(s: Snapshot) -> str:
    """By town, then the other units (a detail table of the board)."""
    towns = {r.unit for r in s.rows if r.unit_kind == TOWN}
    others = [r for r in s.by_unit if r.key not in towns]
    parts = [f"#### 按{s.words.towns}", _rollup_table(s.by_town, s.words.towns)]
    if others:
        parts += [f"#### 按单位 ({s.words.towns}见上表)", _rollup_table(others, "单位")]
    return "\n\n".join(parts)


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
