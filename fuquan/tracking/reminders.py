"""Which reminders are due today. Pure: ledger rows + policy + today → reminders, each with an identity.

Every reminder belongs to a *stage* (before-5, before-2, before-0, overdue-k, escalation-k, nudge-n),
and its identity is (task, unit, item, kind, due date, stage, recipient). Only the latest stage
reached is produced, so a day the machine was down is caught up once, never replayed; the outbox
makes sure an identity is sent at most once.

Escalation (≥ escalate_after working days overdue) also goes to the task's lead unit — when the lead
is a single unit other than the late one — and to the 专班. Open-ended work (持续推进, 按省级部署 …)
gets a progress nudge every `ongoing_every` working days instead of an overdue alarm.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import date

from fuquan.dates.workdays import WorkCalendar
from fuquan.plans.policy import ZHUANBAN, ReminderPolicy
from fuquan.tracking.judge import GREEN, ONGOING, PENDING, RED, YELLOW, Judgement
from fuquan.tracking.ledger import Row

KINDS = ("overdue", "escalation", "before", "nudge")  # the order sections appear in a message


@dataclass(frozen=True)
class Reminder:
    recipient: str
    about: str  # whose share this is
    task_no: int
    task_text: str
    label: str  # "" or e.g. 月报 2023-05
    deadline_text: str
    kind: str  # before | overdue | escalation | nudge
    stage: str
    judgement: Judgement
    missing: tuple[str, ...]
    lead: str | None
    about_kind: str = ""  # department | town | zone: escalations count them apart
    title: str = ""  # the task's short title

    @property
    def key(self) -> str:
        due = self.judgement.due.isoformat() if self.judgement.due else "-"
        return "|".join((str(self.task_no), self.about, self.label, self.kind, due, self.stage, self.recipient))


def due_reminders(rows: Iterable[Row], policy: ReminderPolicy, today: date, cal: WorkCalendar,
                  issued: date, leads: dict[int, str | None]) -> list[Reminder]:
    out: list[Reminder] = []
    for row in rows:
        p = policy.for_task(row.task_no)
        j = row.judgement

        def make(kind: str, stage: str, recipient: str, row: Row = row, j: Judgement = j) -> Reminder:
            return Reminder(recipient, row.unit, row.task_no, row.task_text, row.label, row.deadline_text,
                            kind, stage, j, row.missing, leads.get(row.task_no), row.unit_kind, row.title)

        if j.colour in (GREEN, YELLOW) and j.workdays_left is not None:
            reached = [o for o in p.before_due if j.workdays_left <= o]
            if reached:
                out.append(make("before", f"before-{min(reached)}", row.unit))
            elif row.role == "report" and j.due and (today.year, today.month) == (j.due.year, j.due.month) \
                    and today.day >= p.report_ask_day:
                out.append(make("before", "ask", row.unit))  # 催报: the period's 月报 is asked for
        elif j.colour == RED and j.workdays_late >= 1:
            out.append(make("overdue", f"overdue-{(j.workdays_late - 1) // p.overdue_every}", row.unit))
            if j.workdays_late >= p.escalate_after:
                stage = f"escalation-{(j.workdays_late - p.escalate_after) // p.overdue_every}"
                lead = leads.get(row.task_no)
                for recipient in ([lead] if lead and lead != row.unit else []) + [ZHUANBAN]:
                    out.append(make("escalation", stage, recipient))
        elif j.colour in (ONGOING, PENDING):
            n = cal.between(issued, today) // p.ongoing_every
            if n >= 1:
                out.append(make("nudge", f"nudge-{n}", row.unit))
    return out


def by_recipient(reminders: Iterable[Reminder]) -> dict[str, list[Reminder]]:
    """One message per recipient and day: its reminders, most urgent kind first, then by task."""
    grouped: dict[str, list[Reminder]] = {}
    for r in reminders:
        grouped.setdefault(r.recipient, []).append(r)
    for items in grouped.values():
        items.sort(key=lambda r: (KINDS.index(r.kind), r.task_no))  # stable: keeps the plan's unit order
    return grouped
