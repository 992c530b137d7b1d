"""Synthetic plans at district, province and nation scale, with a realistic mix of progress.

A province is modelled as what it is: every county (区县) runs its own plan — 15 towns and 20
departments each — so a province of 1,500 towns is 100 county plans, and the nation's 40,000 towns
about 2,700. Plans go in through the real loader and sync; progress is bulk-inserted (its own speed
is not what is measured).
"""

from __future__ import annotations

import random
from datetime import date, timedelta

from sqlalchemy import insert
from sqlalchemy.engine import Engine
from sqlmodel import select

from fuquan.loader import parse_plan
from models.db import transaction
from models.items import LetterRow, MonthlyReportRow
from models.sync import sync_plan
from models.tables import AssignmentRow, TaskRow, UnitRow

SCALES = {"district": 1, "province": 100, "nation": 2700}  # county plans
TOWNS, DEPTS = 15, 20

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


def county_yaml(n: int) -> str:
    towns = [f"第{n}县{i}镇" for i in range(TOWNS)]
    depts = [f"第{n}县执法{i}局" for i in range(DEPTS)]
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


def build(engine: Engine, counties: int, seed: int = 2023) -> list[int]:
    """Load `counties` plans and a plausible state of progress as of late November."""
    rng = random.Random(seed)
    plan_ids = []
    for n in range(counties):
        with transaction(engine) as s:
            plan_ids.append(sync_plan(s, parse_plan(county_yaml(n), f"county-{n}.yaml")).plan_id)
    with transaction(engine) as s:
        tasks = {(t.plan_id, t.no): t.id for t in s.exec(select(TaskRow).where(TaskRow.plan_id.in_(plan_ids)))}  # type: ignore[attr-defined]
        units = list(s.exec(select(UnitRow).where(UnitRow.plan_id.in_(plan_ids))))  # type: ignore[attr-defined]
        towns = [u for u in units if u.kind == "town"]
        depts = [u for u in units if u.kind == "department" and "执法" in u.name]
        letters = [{"task_id": tasks[(t.plan_id, 2)], "department_id": d.id, "town_id": t.id,
                    "signed_on": date(2023, 4, 1) + timedelta(days=rng.randint(0, 60))}
                   for t in towns for d in depts if d.plan_id == t.plan_id and rng.random() < 0.7]
        reports = [{"task_id": tasks[(t.plan_id, 14)], "town_id": t.id, "period": f"2023-{m:02d}",
                    "submitted_on": date(2023, m, rng.randint(10, 25)), "figures": '{"审批办件量": 10}'}
                   for t in towns for m in range(4, 12) if rng.random() < 0.85]
        for chunk in range(0, len(letters), 5000):
            s.execute(insert(LetterRow), letters[chunk:chunk + 5000])
        for chunk in range(0, len(reports), 5000):
            s.execute(insert(MonthlyReportRow), reports[chunk:chunk + 5000])
        done = [a for a in s.exec(select(AssignmentRow).where(AssignmentRow.task_id.in_(list(tasks.values()))))  # type: ignore[attr-defined]
                if rng.random() < 0.5]
        for a in done:
            a.status, a.completed_on = "已完成", date(2023, 3, 1) + timedelta(days=rng.randint(0, 120))
    return plan_ids
