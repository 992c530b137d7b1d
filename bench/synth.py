"""Synthetic plans at district, province and nation scale, with a realistic mix of progress.

A province is modelled as what it is: every county (区县) runs its own plan — 15 towns and 20
departments each — so a province of 1,500 towns is 100 county plans, and the nation's 40,000 towns
about 2,700. One county goes in through the real loader and sync; the others are bulk copies of its
rows with the county's names (what sync would have written, checked by `python -m bench.run check`),
because loading 2,700 plans one by one through sync takes half an hour and is not what is measured.
Progress is bulk-inserted too.
"""

from __future__ import annotations

import random
import tempfile
from collections.abc import Iterator
from datetime import date, timedelta
from pathlib import Path
from typing import Any

from sqlalchemy import insert, select, text
from sqlalchemy.engine import Connection, Engine

from fuquan.plans.loader import parse_plan
from models.db import make_engine, transaction
from models.items import LetterRow, MonthlyReportRow
from models.sync import sync_plan
from models.tables import AssignmentRow, GroupMemberRow, GroupRow, PlanRow, TaskRow, UnitRow

MARK = "@"  # stands for the county number in the template's names
# county plans × (towns, enforcing departments) each: a district is the real 2023 plan's shape (5 towns, 11
# departments); a county elsewhere has about 15 towns and 20 departments.
# `province-plan` is the other reading of "a province runs one plan": one plan naming all 1,500 towns.
SCALES = {"district": (1, 5, 11), "province": (100, 15, 20), "nation": (2700, 15, 20),
          "province-plan": (1, 1500, 20)}

TASKS = [  # (no, deadline, units, track) — the shape of the 2023 plan
    (1, "3月底前", "[县委编办, 执法单位, 各镇]", None),
    (2, "4月底前", "[县委编办, 司法局, 执法单位, 各镇]", "{letters: {departments: [执法单位], towns: [各镇]}}"),
    (3, "3月底前", "[县委编办, 执法单位, 各镇]", None),
    (4, "4月底前", "[县委编办]", None),
    (5, "6月中旬前", "[县委编办]", None),
    (6, "5月底前", "[县委编办]", None),
    (7, "6月中旬前", "[县委编办]", None),
    (8, "持续推进", "[县委编办, 各镇]", None),
    (9, "4月底前", "[司法局, 各镇]", "{exams: {towns: [各镇]}}"),
    (10, "4月底前", "[执法单位, 各镇, 司法局]", "{training: {departments: [执法单位], towns: [各镇]}}"),
    (11, "6月中旬前", "[司法局]", None),
    (12, "按省级部署", "[司法局]", None),
    (13, "6月底前", "[数据局, 各镇, 执法单位]", None),
    (14, "每月20日前", "[县委编办, 司法局]", "{monthly_reports: {towns: [各镇]}}"),
    (15, "结合工作实际确定", "[县委编办, 司法局]", None),
]


def county_yaml(n: int | str, towns_n: int = 15, depts_n: int = 20) -> str:
    towns = [f"第{n}县{i}镇" for i in range(towns_n)]
    depts = [f"第{n}县执法{i}局" for i in range(depts_n)]
    units = ["县委编办", "司法局", "数据局"]
    lines = [f"plan: {{title: 第{n}县镇赋权方案, district: 第{n}县, year: 2023, issued: 2023-04-18}}",
             "monthly_report: {figures: [审批办件量, 执法案件数]}", "units:"]
    lines += [f"  - {{name: {u}{n}, kind: 部门}}" for u in units]
    lines += [f"  - {{name: {d}, kind: 部门}}" for d in depts] + [f"  - {{name: {t}, kind: 镇}}" for t in towns]
    lines += ["groups:", f"  - {{name: 执法单位, members: [{', '.join(depts)}]}}",
              f"  - {{name: 各镇, members: [{', '.join(towns)}]}}", "sections: [{no: 一, title: 全部任务}]", "tasks:"]
    for no, deadline, who, track in TASKS:
        who = who.replace("县委编办", f"县委编办{n}").replace("司法局", f"司法局{n}").replace("数据局", f"数据局{n}")
        lines.append(f"  - {{no: {no}, section: 一, text: 任务{no}, deadline: {deadline}, units: {who}"
                     + (f", track: {track}" if track else "") + "}")
    return "\n".join(lines) + "\n"


def build(engine: Engine, counties: int, seed: int = 2023, *, towns: int = 15, depts: int = 20,
          progress: bool = True) -> list[int]:
    """Load `counties` plans and a plausible state of progress as of late November; returns plan ids."""
    rng = random.Random(seed)
    rows = _template(towns, depts)
    size = {k: max((r.get("id") or 0) for r in v) for k, v in rows.items()}
    plan_ids: list[int] = []
    with engine.begin() as conn:
        assert conn.execute(select(PlanRow.id)).first() is None, "build() wants an empty database"
        for batch in _chunks(range(counties), 50):
            new: dict[str, list[dict[str, Any]]] = {k: [] for k in rows}
            for n in batch:
                _copy(rows, size, n, new, rng)
                plan_ids.append(n + 1)
            for table in (PlanRow, UnitRow, GroupRow, GroupMemberRow, TaskRow, AssignmentRow):
                conn.execute(insert(table), new[table.__tablename__])
            if progress:
                print(f"  \u2026 {plan_ids[-1]}/{counties} county plans", end="\r", flush=True)
        _progress_items(conn, plan_ids, rng)
        if conn.dialect.name == "postgresql":
            for name in ("plan", "unit", "unit_group", "task", "assignment", "letter", "monthly_report"):
                conn.execute(text(f"SELECT setval(pg_get_serial_sequence('{name}', 'id'), (SELECT MAX(id) FROM {name}))"))
    return plan_ids


def _template(towns: int, depts: int) -> dict[str, list[dict[str, Any]]]:
    """One county through the real loader and sync, in a scratch SQLite file: its rows by table."""
    scratch = make_engine(f"sqlite:///{Path(tempfile.mkdtemp()) / 'template.sqlite'}")
    with transaction(scratch) as s:
        sync_plan(s, parse_plan(county_yaml(MARK, towns, depts), "county-template.yaml"))
    with scratch.connect() as conn:
        rows = {t.__tablename__: [dict(r._mapping) for r in conn.execute(select(t.__table__))]  # type: ignore[attr-defined]
                for t in (PlanRow, UnitRow, GroupRow, GroupMemberRow, TaskRow, AssignmentRow)}
    scratch.dispose()
    assert [p["id"] for p in rows["plan"]] == [1]
    return rows


def _chunks(seq: range, n: int) -> Iterator[range]:
    for i in range(0, len(seq), n):
        yield seq[i:i + n]


def _copy(rows: dict[str, list[dict[str, Any]]], size: dict[str, int], n: int, new: dict[str, list[dict[str, Any]]],
          rng: random.Random) -> None:
    """County n: the template's rows with ids moved on by n times each table's size and names filled in."""
    def named(v: Any) -> Any:
        if isinstance(v, list):
            return [named(x) for x in v]
        if isinstance(v, dict):
            return {named(k): named(x) for k, x in v.items()}
        return v.replace(MARK, str(n)) if isinstance(v, str) else v

    shift = {k: n * size[k] for k in size}
    ref = {"plan_id": "plan", "unit_id": "unit", "group_id": "unit_group", "task_id": "task"}
    for table, template_rows in rows.items():
        for r in template_rows:
            c = {k: named(v) for k, v in r.items()}
            if "id" in c and c["id"] is not None:
                c["id"] += shift[table]
            for col, target in ref.items():
                if col in c:
                    c[col] += shift[target]
            if table == "assignment" and rng.random() < 0.5:
                c["status"], c["completed_on"] = "已完成", date(2023, 3, 1) + timedelta(days=rng.randint(0, 120))
            new[table].append(c)


def _progress_items(conn: Connection, plan_ids: list[int], rng: random.Random) -> None:
    for batch in _chunks(range(len(plan_ids)), 200):
        ids = [plan_ids[i] for i in batch]
        tasks = {(p, no): tid for tid, p, no in conn.execute(
            select(TaskRow.id, TaskRow.plan_id, TaskRow.no).where(TaskRow.plan_id.in_(ids)))}  # type: ignore[attr-defined]
        units = list(conn.execute(select(UnitRow.id, UnitRow.plan_id, UnitRow.kind, UnitRow.name)
                                  .where(UnitRow.plan_id.in_(ids)).order_by(UnitRow.id)))  # type: ignore[attr-defined, arg-type]
        towns = [u for u in units if u.kind == "town"]
        depts: dict[int, list[int]] = {}
        for u in units:
            if u.kind == "department" and "执法" in u.name:
                depts.setdefault(u.plan_id, []).append(u.id)
        letters = [{"task_id": tasks[(t.plan_id, 2)], "department_id": d, "town_id": t.id,
                    "signed_on": date(2023, 4, 1) + timedelta(days=rng.randint(0, 60))}
                   for t in towns for d in depts[t.plan_id] if rng.random() < 0.7]
        reports = [{"task_id": tasks[(t.plan_id, 14)], "town_id": t.id, "period": f"2023-{m:02d}",
                    "submitted_on": date(2023, m, rng.randint(10, 25)), "figures": {"审批办件量": 10}}
                   for t in towns for m in range(4, 12) if rng.random() < 0.85]
        for chunk in range(0, len(letters), 5000):
            conn.execute(insert(LetterRow), letters[chunk:chunk + 5000])
        for chunk in range(0, len(reports), 5000):
            conn.execute(insert(MonthlyReportRow), reports[chunk:chunk + 5000])
