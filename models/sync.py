"""sync_plan: write a validated Plan into the database in the caller's one transaction.

Set-based: one query per table to read what exists, then inserts/updates of what differs.
Identity is natural: plan = (district, year), unit = name, task = number, assignment = (task, unit).
Re-syncing an unchanged plan writes nothing; an edited plan is updated in place; what left the
YAML is marked inactive (never deleted), so recorded progress survives.
"""

from __future__ import annotations

import hashlib
from collections import Counter
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import Any

from sqlmodel import Session, col, select

from fuquan.plans.plan import Plan, Task

from .db import lock_plan
from .tables import AssignmentRow, GroupMemberRow, GroupRow, PlanRow, SyncRunRow, TaskRow, UnitRow, utcnow

LABELS = {"plan": "计划", "unit": "单位", "group": "单位组", "task": "任务", "assignment": "分工"}
VERBS = {"added": "新增", "updated": "更新", "retired": "停用"}


@dataclass
class SyncReport:
    plan_id: int
    changes: Counter[str] = field(default_factory=Counter)  # e.g. {"added:task": 15}

    @property
    def changed(self) -> bool:
        return any(self.changes.values())

    def summary(self) -> str:
        if not self.changed:
            return "无变化"
        return ", ".join(f"{VERBS[v]}{LABELS[k]} {self.changes[f'{v}:{k}']}"
                         for v in VERBS for k in LABELS if self.changes[f"{v}:{k}"])


def content_hash(text: str) -> str:
    return hashlib.sha256(text.encode()).hexdigest()[:16]


def sync_plan(session: Session, plan: Plan, *, source_text: str = "", by: str = "fuquan sync") -> SyncReport:
    row = session.exec(select(PlanRow).where(PlanRow.district == plan.district,
                                             PlanRow.year == plan.year)).first()
    if row is not None and row.id is not None:  # the plan's write lock (PostgreSQL), then the row as it is now
        lock_plan(session, row.id)
        session.refresh(row)
    fields: dict[str, Any] = {"title": plan.title, "issued": plan.issued, "timezone": plan.timezone,
              "warn_workdays": plan.warn_workdays, "report_figures": list(plan.report_figures),
              "settings": {"reminders": plan.policy.as_dict(), "channels": plan.channels.as_dict(),
                           "schedules": [s.as_dict() for s in plan.schedules], "evaluation": plan.weights.as_dict(),
                           "words": plan.words.as_dict(), "decimal_figures": list(plan.decimal_figures),
                           "calendar": plan.calendar.as_dict(), "contacts": dict(plan.contacts),
                           "answers": plan.answers.as_dict(), "people": [p.as_dict() for p in plan.people]}}
    if row is None:
        row = PlanRow(district=plan.district, year=plan.year, source=plan.source, **fields)
        session.add(row)
        session.flush()
        report = SyncReport(row.id or 0)
        report.changes["added:plan"] += 1
    else:
        report = SyncReport(row.id or 0)
        _update(row, fields, report, "plan")
    assert row.id is not None
    units = _sync_units(session, plan, row.id, report)
    _sync_groups(session, plan, row.id, units, report)
    _sync_tasks(session, plan, row.id, units, report)
    if report.changed:
        digest = content_hash(source_text)
        row.content_hash, row.source, row.synced_at = digest, plan.source, utcnow()
        session.add(SyncRunRow(plan_id=row.id, source=plan.source, content_hash=digest,
                               summary=report.summary(), by=by))
    return report


def _update(row: object, values: Mapping[str, object], report: SyncReport, kind: str) -> None:
    if any(getattr(row, k) != v for k, v in values.items()):
        for k, v in values.items():
            setattr(row, k, v)
        report.changes[f"updated:{kind}"] += 1


def _retire(rows: list, keep: set, key, report: SyncReport, kind: str) -> None:  # type: ignore[no-untyped-def]
    for r in rows:
        if key(r) not in keep and r.active:
            r.active = False
            report.changes[f"retired:{kind}"] += 1


def _merge(session: Session, rows: list[Any], key: str, wanted: dict[Any, dict[str, Any]], *,
           make: Callable[..., Any], report: SyncReport, kind: str) -> dict[Any, Any]:
    """Rows keyed by `key` made to hold `wanted` (key → values): updated in place, added, or retired."""
    existing = {getattr(r, key): r for r in rows}
    for k, values in wanted.items():
        if k in existing:
            _update(existing[k], values, report, kind)
        else:
            existing[k] = make(**{key: k}, **values)
            session.add(existing[k])
            report.changes[f"added:{kind}"] += 1
    _retire(rows, set(wanted), lambda r: getattr(r, key), report, kind)
    session.flush()
    return existing


def _sync_units(session: Session, plan: Plan, plan_id: int, report: SyncReport) -> dict[str, int]:
    rows = list(session.exec(select(UnitRow).where(UnitRow.plan_id == plan_id)))
    by_name = {r.name: r for r in rows}
    for u in plan.units:  # 机构改革: the row of a former name becomes this unit, with everything recorded on it
        old = next((by_name[f] for f in u.former_names if f in by_name), None)
        if old is not None and u.name not in by_name:
            old.name = u.name
            by_name[u.name] = old
            report.changes["updated:unit"] += 1
    wanted = {u.name: {"kind": u.kind, "full_name": u.full_name, "active": True} for u in plan.units}
    existing = _merge(session, rows, "name", wanted, make=lambda **v: UnitRow(plan_id=plan_id, **v), report=report,
                      kind="unit")
    return {name: r.id for name, r in existing.items() if r.id is not None}


def _sync_groups(session: Session, plan: Plan, plan_id: int, units: dict[str, int], report: SyncReport) -> None:
    rows = list(session.exec(select(GroupRow).where(GroupRow.plan_id == plan_id)))
    wanted = {g.name: {"note": g.note, "active": True} for g in plan.groups}
    existing = _merge(session, rows, "name", wanted, make=lambda **v: GroupRow(plan_id=plan_id, **v), report=report,
                      kind="group")
    ids = [r.id for r in existing.values()]
    members = list(session.exec(select(GroupMemberRow).where(col(GroupMemberRow.group_id).in_(ids))))
    have = {(m.group_id, m.unit_id, m.position) for m in members}
    want = {(existing[g.name].id, units[m], i) for g in plan.groups for i, m in enumerate(g.members)}
    if have != want:
        for m in members:
            session.delete(m)  # membership is derived data: rewriting it loses nothing
        session.flush()
        session.add_all(GroupMemberRow(group_id=g, unit_id=u, position=i) for g, u, i in sorted(want))  # type: ignore[arg-type]
        if rows:  # on a first sync the members are part of "added"
            report.changes["updated:group"] += 1


def _task_values(task: Task) -> dict[str, Any]:
    d = task.deadline
    return {
        "section_no": task.section.no, "section_title": task.section.title, "text": task.text,
        "short": task.short or None,
        "deadline_text": d.text, "deadline_kind": d.kind, "due": d.due, "start": d.start,
        "rule": d.rule.as_dict() if d.rule else None, "deadline": d.as_dict(), "units": list(task.units), "active": True,
        "track": task.track.as_dict(),
    }


def _sync_tasks(session: Session, plan: Plan, plan_id: int, units: dict[str, int], report: SyncReport) -> None:
    rows = list(session.exec(select(TaskRow).where(TaskRow.plan_id == plan_id)))
    wanted = {t.no: _task_values(t) for t in plan.tasks}
    existing = _merge(session, rows, "no", wanted, make=lambda **v: TaskRow(plan_id=plan_id, **v), report=report,
                      kind="task")
    task_ids = [r.id for r in existing.values()]
    arows = list(session.exec(select(AssignmentRow).where(col(AssignmentRow.task_id).in_(task_ids))))
    have = {(a.task_id, a.unit_id): a for a in arows}
    keep = set()
    for t in plan.tasks:
        tid = existing[t.no].id
        for pos, a in enumerate(plan.assignees(t)):
            key = (tid, units[a.unit])
            keep.add(key)
            values = {"via_group": a.via_group, "role": a.role, "position": pos, "active": True}
            if key in have:
                _update(have[key], values, report, "assignment")
            else:
                session.add(AssignmentRow(task_id=tid, unit_id=units[a.unit], **values))  # type: ignore[arg-type]
                report.changes["added:assignment"] += 1
    _retire(arows, keep, lambda r: (r.task_id, r.unit_id), report, "assignment")
