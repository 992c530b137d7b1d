"""What the 专班 sees each day: the status as of a day (Snapshot, gathered in one read) and its detail tables
as Markdown (Prefect artifacts and the scheduler's status files): every task, the overdue list grouped by unit,
the letters, what was sent. Markdown rather than Prefect's table artifacts, which show 10 rows a page; no table
has more than 7 columns, so each fits beside the Prefect UI's side panel at 1280 px. reports/board.py puts the
day's summary (今日督办) on top of these."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date
from typing import Any

from sqlmodel import Session

from fuquan.errors import LookupFailed
from fuquan.plans.plan import Words
from fuquan.tracking.judge import DONE, DONE_LATE, GREEN, ONGOING, PENDING, RED, YELLOW, RollUp
from fuquan.tracking.ledger import Row
from fuquan.tracking.states import Delivery
from fuquan.tracking.status import TaskSummary, rollups, summarise
from fuquan.words import report_text
from models import outbox
from models.answer_io import unacknowledged
from models.ledger_io import load_ledger
from models.queries import LetterGrid, letter_grid
from models.stored import StoredPlan
from notifications.router import CONSOLE


@dataclass
class Snapshot:
    plan_id: int
    district: str
    year: int
    today: date
    tasks: list[TaskSummary]
    rows: list[Row]
    by_unit: list[RollUp]
    by_town: list[RollUp]
    letters: LetterGrid | None
    words: Words
    warnings: list[str] = field(default_factory=list)
    unacked: tuple[int, int] = (0, 0)  # (units, reminders): sent to units and not acknowledged (签收) yet


def _unacked(session: Session, plan_id: int) -> tuple[int, int]:
    """(units, reminders) not acknowledged: a reminder is one message a unit received, however many items it
    names — counted as the unit's and the 专班's pages count them."""
    open_ = unacknowledged(session, plan_id)
    return len({r.recipient for r, _ in open_}), len({m.id for _, m in open_})


def snapshot(session: Session, sp: StoredPlan, today: date) -> Snapshot:
    cal = sp.plan.work_calendar()
    ledger = load_ledger(session, sp)
    rows = ledger.rows(today, cal)
    try:
        grid: LetterGrid | None = letter_grid(session, sp, today)
    except LookupFailed:
        grid = None  # this plan tracks no letters
    return Snapshot(sp.id, sp.plan.district, sp.plan.year, today, summarise(rows), rows, rollups(rows, "unit"),
                    rollups(rows, "town"), grid, sp.plan.words, ledger.warnings(cal),
                    _unacked(session, sp.id))


@dataclass(frozen=True)
class Sent:
    """One message of a day's reminders, as the 专班's "what was sent to whom" shows it."""

    recipient: str
    destination: str  # the channel's label: "Slack C0…", "钉钉 …", "控制台"
    result: str  # sent | reconciled | retry | unknown | failed
    code: str | None
    kind: str = ""  # the destination's kind (slack, dingtalk, wecom, console) when known

    @property
    def shown_only(self) -> bool:
        """Printed on the screen and filed in the notify file: nobody was sent anything."""
        return self.kind == CONSOLE.kind or self.destination == CONSOLE.target

    @property
    def outcome(self) -> Delivery:
        return Delivery.of(self.result, self.shown_only)


# An emoji for the colour and a word for what it means: the word still reads where no emoji font is installed.
DOT: dict[str, str] = {RED: "🔴 逾期", YELLOW: "🟡 临近", GREEN: "🟢 正常", DONE: "✅ 已完成", DONE_LATE: "✅ 逾期完成",
       ONGOING: "🔵 持续", PENDING: "⚪ 待定"}
COLOUR: dict[str, str] = {RED: "🔴 红", YELLOW: "🟡 黄", GREEN: "🟢 绿"}


def title_of(t: TaskSummary | Row) -> str:
    text = t.text if isinstance(t, TaskSummary) else t.task_text
    return t.title or short(text)


def due_text(due: date | None, year: int) -> str:
    return "—" if due is None else f"{due:%m-%d}" if due.year == year else due.isoformat()


def status_rows(s: Snapshot) -> list[dict[str, Any]]:
    """Every task, status next to its title; counts are of the units' shares."""
    return [{"序号": t.no, "任务": title_of(t), "状态": DOT[t.colour], "截止": due_text(t.due, s.year),
             "红/黄/绿": f"{t.rollup.counts[RED]}/{t.rollup.counts[YELLOW]}/{t.rollup.counts[GREEN]}",
             "已完成": f"{t.rollup.done}/{t.rollup.total}", "最久逾期": t.rollup.workdays_late_max or ""}
            for t in s.tasks]


def status_markdown_table(s: Snapshot) -> str:
    """The task table with the legend its short headers need (narrow enough for the UI's 585 px column)."""
    return ("红/黄/绿: 各单位分工中逾期 / 临近 / 正常的份数; 最久逾期: 工作日; 截止: 最近一个未完成的截止日期 "
            "(持续推进、待定的任务没有)。\n\n" + markdown_table(status_rows(s)))


def overdue_by_unit(rows: list[Row]) -> list[tuple[str, list[Row]]]:
    """Red rows grouped by unit: the unit late the longest first, each unit's rows longest late first."""
    groups: dict[str, list[Row]] = {}
    for r in sorted((r for r in rows if r.judgement.colour == RED),
                    key=lambda r: (-r.judgement.workdays_late, r.task_no, r.label)):
        groups.setdefault(r.unit, []).append(r)
    return sorted(groups.items(), key=lambda g: (-g[1][0].judgement.workdays_late, -len(g[1])))


def missing_text(r: Row, n: int = 6) -> str:
    more = f" 等 {len(r.missing)} 项" if len(r.missing) > n else ""
    return "、".join(r.missing[:n]) + more


def overdue_rows(s: Snapshot) -> list[dict[str, Any]]:
    out = []
    for unit, rows in overdue_by_unit(s.rows):
        for i, r in enumerate(rows):
            out.append({"单位": f"**{unit}**" if i == 0 else "",
                        "任务": f"{r.task_no} {title_of(r)}" + (f" ({r.label})" if r.label else ""),
                        "逾期(工作日)": r.judgement.workdays_late, "尚缺": missing_text(r) or "未登记完成"})
    return out


def letters_rows(g: LetterGrid) -> list[dict[str, Any]]:
    """One row a department (a grid of towns would be as wide as the plan has towns)."""
    rows = []
    for d in g.departments:
        towns = [t for t in g.towns if g.applies(d, t)]
        drafted = [t for t in towns if not g.signed(d, t) and g.drafted(d, t)]
        unsigned = [t for t in towns if not g.signed(d, t) and t not in drafted]
        rows.append({"部门": d, "已签": g.of_department(d), "未签": "、".join(unsigned) or "—",
                     "起草中": "、".join(drafted) or "—"})
    return rows


def letters_markdown(s: Snapshot) -> str:
    g = s.letters
    if g is None:
        return "本计划未跟踪承接确认书。"
    by_town = " · ".join(f"{t} {g.of_town(t)}" for t in g.towns)
    return (f"**任务 {g.task} 承接确认书: 已签 {g.n_signed} / {g.n_total}** (截至 {s.today})\n\n"
            f"各{s.words.towns}已签: {by_town}\n\n" + markdown_table(letters_rows(g)))


def sent_rows(sent: list[Sent]) -> list[dict[str, Any]]:
    return [{"接收单位": s.recipient, "渠道": s.destination, "结果": s.outcome, "错误码": s.code or ""} for s in sent]


def sent_on(session: Session, plan_id: int, day: date) -> list[Sent]:
    """The day's messages (every run of that day), each with its latest outcome."""
    latest: dict[int, Sent] = {}
    for log, msg in outbox.send_log(session, plan_id, day=day, limit=5000):  # newest first
        if msg.id is not None and msg.id not in latest:
            latest[msg.id] = Sent(msg.recipient, log.channel, log.result, log.error_code, msg.dest_kind)
    return [latest[k] for k in sorted(latest)]


def scores_markdown(rows: list[dict[str, Any]], width: int = 7) -> str:
    """A report's score table (reports/render.py score_table) in at most `width` columns: one table per kind
    of unit (the 类别 column becomes its heading), the rate columns (…率) side by side in one when needed."""
    if not rows:
        return "本期没有到期事项。"
    parts = []
    for kind in dict.fromkeys(r.get("类别", "") for r in rows):
        group = [{k: v for k, v in r.items() if k != "类别"} for r in rows if r.get("类别", "") == kind]
        heads = list(group[0])
        rates = [h for h in heads if h.endswith("率")]
        if len(heads) > width and len(rates) > 1:
            merged = " / ".join(rates)
            group = [{(merged if h == rates[0] else h): (" / ".join(str(r[x]) for x in rates) if h == rates[0] else r[h])
                      for h in heads if h not in rates[1:]} for r in group]
        parts += [f"#### {kind}" if kind else "", markdown_table(group)]
    return "\n\n".join(p for p in parts if p)


def markdown_table(rows: list[dict[str, Any]]) -> str:
    heads = list(rows[0]) if rows else []
    return report_text.table(heads, [[r[h] for h in heads] for r in rows])


def totals(s: Snapshot) -> dict[str, int]:
    return {c: sum(t.rollup.counts[c] for t in s.tasks) for c in DOT}


def status_markdown(s: Snapshot, sent: list[Sent] | None = None, skipped: str | None = None) -> str:
    """The whole day in one file (the scheduler's status-<day>.md)."""
    parts = [f"# {s.district} {s.year} 年度{s.words.programme}任务进度 (截至 {s.today})",
             "合计: " + "  ".join(f"{DOT[c]} {n}" for c, n in totals(s).items() if n),
             "## 各任务", status_markdown_table(s),
             "## 逾期事项 (按单位)", markdown_table(overdue_rows(s)) if any(r.judgement.colour == RED for r in s.rows)
             else "无逾期事项。",
             "## 承接确认书", letters_markdown(s)]
    if sent is not None:
        parts += ["## 本次提醒", skipped or markdown_table(sent_rows(sent))]
    return "\n\n".join(parts) + "\n"


def short(text: str, n: int = 16) -> str:
    return text if len(text) <= n else text[: n - 1] + "…"
