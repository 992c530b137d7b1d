"""What the 专班 sees each day: the status as of a day (Snapshot, gathered in one read), and as rows with
Chinese headers (Prefect table artifacts) and Markdown (artifacts and the scheduler's status files): the
status table, the overdue list, the letter grid and what was sent."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date
from typing import Any

from sqlmodel import Session

from fuquan import report_text
from fuquan.errors import LookupFailed
from fuquan.judge import DONE, DONE_LATE, GREEN, ONGOING, PENDING, RED, YELLOW, RollUp
from fuquan.ledger import Row
from fuquan.plan import Words
from fuquan.status import TaskSummary, rollups, summarise
from fuquan.workdays import WorkCalendar
from models.ledger_io import load_ledger
from models.queries import LetterGrid, letter_grid
from models.stored import StoredPlan


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


def snapshot(session: Session, sp: StoredPlan, today: date) -> Snapshot:
    cal = WorkCalendar(sp.plan.calendar)
    ledger = load_ledger(session, sp)
    rows = ledger.rows(today, cal)
    try:
        grid: LetterGrid | None = letter_grid(session, sp, today)
    except LookupFailed:
        grid = None  # this plan tracks no letters
    return Snapshot(sp.id, sp.plan.district, sp.plan.year, today, summarise(rows), rows, rollups(rows, "unit"),
                    rollups(rows, "town"), grid, sp.plan.words, ledger.warnings(cal))


@dataclass(frozen=True)
class Sent:
    """One message of a reminder run, as the 专班's "what was sent to whom" table shows it."""

    recipient: str
    destination: str
    items: int | str
    result: str  # sent | reconciled | retry | unknown | failed
    code: str | None

# Plain words, no emoji: the 专班's machines (and the test browser) may lack an emoji font.
DOT = {RED: "红·逾期", YELLOW: "黄·临近", GREEN: "绿·正常", DONE: "已完成", DONE_LATE: "逾期完成",
       ONGOING: "持续", PENDING: "待定"}


def status_table(s: Snapshot) -> list[dict[str, Any]]:
    return [{"序号": t.no, "主要任务": _short(t.text), "完成时限": t.deadline_text,
             "截止日期": t.due.isoformat() if t.due else "—", "状态": DOT[t.colour],
             "红": t.rollup.counts[RED], "黄": t.rollup.counts[YELLOW], "绿": t.rollup.counts[GREEN],
             "已完成": f"{t.rollup.done}/{t.rollup.total}",
             "完成率": "—" if t.rollup.percent is None else f"{t.rollup.percent:.0f}%",
             "最多逾期(工作日)": t.rollup.workdays_late_max} for t in s.tasks]


def overdue_table(rows: list[Row]) -> list[dict[str, Any]]:
    late = sorted((r for r in rows if r.judgement.colour == RED), key=lambda r: (-r.judgement.workdays_late, r.task_no))
    return [{"单位": r.unit, "任务": r.task_no, "事项": r.label or _short(r.task_text, 16),
             "截止日期": r.judgement.due.isoformat() if r.judgement.due else "—",
             "逾期工作日": r.judgement.workdays_late, "逾期天数": r.judgement.days_late,
             "尚缺": "、".join(r.missing[:6]) + (" 等" if len(r.missing) > 6 else "")} for r in late]


RESULT = {"sent": "已发送", "reconciled": "已送达(核对)", "retry": "待重试", "unknown": "结果未知", "failed": "失败"}


def sent_table(sent: list[Sent]) -> list[dict[str, Any]]:
    return [{"接收单位": s.recipient, "渠道": s.destination, "事项数": s.items, "结果": RESULT.get(s.result, s.result),
             "错误码": s.code or ""} for s in sent]


def letters_markdown(s: Snapshot) -> str:
    g = s.letters
    if g is None:
        return "本计划未跟踪承接确认书。"
    head = f"### 任务 {g.task} 承接确认书签订情况 (截至 {s.today}): 已签 {g.n_signed} / {g.n_total}\n\n"
    lines = ["| 部门 | " + " | ".join(g.towns) + " | 已签 |", "|---" * (len(g.towns) + 2) + "|"]
    for d in g.departments:
        cells = ["不适用" if not g.applies(d, t) else f"已签 {g.rows[(d, t)].signed_on:%m-%d}" if g.signed(d, t)
                 else "起草中" if g.drafted(d, t) else "**未签**" for t in g.towns]
        lines.append(f"| {d} | " + " | ".join(cells) + f" | {g.of_department(d)} |")
    return head + "\n".join(lines)


def markdown_table(rows: list[dict[str, Any]]) -> str:
    heads = list(rows[0]) if rows else []
    return report_text.table(heads, [[r[h] for h in heads] for r in rows])


def status_markdown(s: Snapshot, sent: list[Sent] | None = None, skipped: str | None = None) -> str:
    counts = {c: sum(t.rollup.counts[c] for t in s.tasks) for c in DOT}
    parts = [f"# {s.district} {s.year} 年度{s.words.programme}任务进度 (截至 {s.today})",
             "合计: " + "  ".join(f"{DOT[c]} {n}" for c, n in counts.items() if n),
             "## 按任务", markdown_table(status_table(s)),
             "## 逾期清单", markdown_table(overdue_table(s.rows)),
             "## 承接确认书", letters_markdown(s)]
    if sent is not None:
        parts += ["## 本次提醒", skipped or markdown_table(sent_table(sent))]
    return "\n\n".join(parts) + "\n"


def _short(text: str, n: int = 24) -> str:
    return text if len(text) <= n else text[: n - 1] + "…"
