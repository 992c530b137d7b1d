"""Reports leaders accept, on both test plans (湾沚区: 区, 镇; 青山县: 县, 乡镇（街道）), from one data set:
one department finished everything on time, one nothing, every other department its own work 10 days late,
and one town everything on time but one 月报. Rankings (towns and departments apart, in the 通报 and the
workbook), the workbook's print set-up, percentages, text that looks like a formula, and the charts."""

import re
import zipfile
from dataclasses import dataclass
from datetime import date, timedelta

import pytest
from openpyxl import load_workbook

from fuquan.dates.workdays import WorkCalendar
from fuquan.plans.loader import parse_plan
from fuquan.plans.plan import Plan
from models import records
from models.db import make_engine, reading, transaction
from models.ledger_io import load_ledger
from models.stored import StoredPlan, read_plan
from models.sync import sync_plan
from models.tables import PlanRow
from reports import gather, render
from reports.render import ReportFiles
from tests import dbs
from tests.conftest import ROOT

ACTOR = records.Actor("测试员", "test")
FORMULA = "=1+1 "  # a task's text that starts like a formula: written as text, never run


@dataclass
class Case:
    plan: Plan
    best: str  # finished everything on time
    idle: str  # finished nothing
    town: str  # everything on time but the month's 月报
    month: str  # the monthly report's period
    files: dict[str, ReportFiles]
    data: dict[str, gather.ReportData]


def _plan_text(name: str) -> str:
    text = (ROOT / "tests" / "plans" / name).read_text(encoding="utf-8")
    return re.sub(r"(\n    text: )(.+)", lambda m: f'{m[1]}"{FORMULA}{m[2]}"', text, count=1)


def _finish(s, sp: StoredPlan, day: date, rows, unit: str, *, late: int = 0, spare: str = "",  # type: ignore[no-untyped-def]
            skip: str = "") -> None:
    """Record every share of `unit` done `late` days after its due date: its letters and training with every
    town but `spare` (whose own share was recorded on time), its 月报 but the period `skip`."""
    towns_of = {t.no: t.track for t in sp.plan.tasks}
    for r in rows:
        if r.unit != unit or r.judgement.due is None or (skip and r.label == skip):
            continue
        on, track = r.judgement.due + timedelta(days=late), towns_of[r.task_no]
        by_hand = track.recorded_by(unit) is None
        if r.role == "report":
            records.submit_report(s, sp, ACTOR, day, task_no=r.task_no, town=unit, period=r.label.split()[-1],
                                  submitted_on=on, figures={})
        elif track.letters and unit in track.letters[0] + track.letters[1]:
            depts, towns = track.letters
            for d, t in ((unit, t) for t in towns) if unit in depts else ((d, unit) for d in depts):
                if track.applies("letters", d, t) and t != spare:
                    records.sign_letter(s, sp, ACTOR, day, task_no=r.task_no, department=d, town=t, signed_on=on)
        elif track.training and unit in track.training[0] + track.training[1]:
            depts, towns = track.training
            if unit in depts:
                records.file_training_plan(s, sp, ACTOR, day, task_no=r.task_no, department=unit, filed_on=on)
            for d, t in ((unit, t) for t in towns) if unit in depts else ((d, unit) for d in depts):
                if track.applies("training", d, t) and t != spare:
                    records.complete_training(s, sp, ACTOR, day, task_no=r.task_no, department=d, town=t, completed_on=on)
        elif track.exams and unit in track.exams:
            records.record_exam(s, sp, ACTOR, day, task_no=r.task_no, town=unit, exam_on=on, candidates=10, sat=10,
                                passed=10)
            records.set_exam_town(s, sp, ACTOR, day, task_no=r.task_no, town=unit, certified_on=on)
        elif by_hand:
            records.set_task_status(s, sp, ACTOR, day, task_no=r.task_no, unit=unit, status="已完成", completed_on=on,
                                    period=r.label or None)


@pytest.fixture(scope="module", params=["wanzhi-2023.yaml", "qingshan-2024.yaml"])
def case(request, tmp_path_factory: pytest.TempPathFactory) -> Case:  # type: ignore[no-untyped-def]
    tmp = tmp_path_factory.mktemp("fair")
    engine = make_engine(dbs.fresh_url(tmp, "fair"))
    plan = parse_plan(_plan_text(request.param))
    with transaction(engine) as s:
        plan_id = sync_plan(s, plan).plan_id
    year = plan.year
    depts = next(g.members for g in plan.groups if plan.unit(g.members[0]).kind == "department")
    towns = next(g.members for g in plan.groups if plan.unit(g.members[0]).kind == "town")
    best, idle, town, month = depts[0], depts[1], towns[0], f"{year}-06"
    day = date(year + 1, 1, 20)
    with transaction(engine) as s:
        sp = read_plan(s, s.get(PlanRow, plan_id))  # type: ignore[arg-type]
        rows = load_ledger(s, sp).rows(date(year, 12, 31), WorkCalendar(plan.calendar))
        _finish(s, sp, day, rows, town, skip=f"月报 {month}")  # first: its letters and training on their day
        _finish(s, sp, day, rows, best)
        for u in plan.units:
            if u.kind == "department" and u.name not in (best, idle):
                _finish(s, sp, day, rows, u.name, late=10, spare=town)
    with reading(engine) as s:
        sp = read_plan(s, s.get(PlanRow, plan_id))  # type: ignore[arg-type]
    data = {"monthly": gather.monthly(engine, sp, month, date(year, 12, 31)),
            "quarterly": gather.analysis(engine, sp, "quarterly", f"{year}Q2", date(year + 1, 1, 5)),
            "annual": gather.analysis(engine, sp, "annual", str(year), date(year + 1, 1, 5))}
    files = {k: render.write(d, tmp / "out") for k, d in data.items()}
    return Case(plan, best, idle, town, month, files, data)


def _table(markdown: str, heading: str) -> list[list[str]]:
    section = markdown.split(heading, 1)[1].split("\n## ", 1)[0]
    return [[c.strip() for c in line.strip("|").split("|")] for line in section.splitlines()[4:] if line.startswith("|")]


def _sheet(ws) -> list[dict]:  # type: ignore[no-untyped-def, type-arg]
    heads = [c.value for c in ws[3]]
    return [dict(zip(heads, (c.value for c in r), strict=True)) for r in ws.iter_rows(min_row=4)]


@pytest.mark.parametrize("kind", ["quarterly", "annual"])
def test_all_on_time_first_nothing_last_in_the_markdown(case: Case, kind: str) -> None:
    words = case.plan.words
    text = case.files[kind].markdown.read_text(encoding="utf-8")
    depts = _table(text, f"{words.level}级部门得分排名")
    assert depts[0][:3] == ["1", case.best, "100.0"]
    assert depts[-1][1:3] == [case.idle, "0.0"] and int(depts[-1][0]) == len(depts)  # alone in last place
    assert all(float(r[2]) > 0 for r in depts if r[4] != "0%")  # late work counts: no one who finished any is at 0
    towns = _table(text, f"各{words.towns}得分排名")
    assert {r[1] for r in towns} == set(case.plan.group(f"各{words.towns}").members)  # type: ignore[union-attr]
    assert not {r[1] for r in towns} & {r[1] for r in depts}


@pytest.mark.parametrize("kind", ["monthly", "quarterly", "annual"])
def test_workbook_ranks_towns_and_departments_apart(case: Case, kind: str) -> None:
    words = case.plan.words
    wb = load_workbook(case.files[kind].excel)
    # the sheets in the plan's own words: towns and departments scored on sheets of their own
    assert wb.sheetnames == ["汇总", "任务", "逾期清单", "按单位", f"按{words.towns}", f"{words.towns}得分",
                             f"{words.level}级部门得分", "确认书", "培训", "考试", "月报数据"]
    depts, towns = _sheet(wb[f"{words.level}级部门得分"]), _sheet(wb[f"{words.towns}得分"])
    assert (depts[0]["名次"], depts[0]["单位"], depts[0]["得分"]) == (1, case.best, 100)
    assert (depts[-1]["名次"], depts[-1]["单位"], depts[-1]["得分"]) == (len(depts), case.idle, 0)
    assert {r["单位"] for r in towns} <= set(case.plan.group(f"各{words.towns}").members)  # type: ignore[union-attr]
    assert towns[0]["名次"] == 1 and towns[0]["单位"] == case.town


def test_a_town_that_missed_one_report_is_not_zero(case: Case) -> None:
    """The month's ranking counts the year so far: the June 月报 missed, everything else on time."""
    d = case.data["monthly"]
    [town] = [s for s in d.scores if s.unit == case.town]
    assert town.reports.missed == 1 and town.tasks.missed == 0 and town.score > 90
    assert town.lost[0].startswith("月报未报 1 期")
    assert f"各{case.plan.words.towns}累计得分: {case.town} {town.score}" in render.summary(d).sections[0].lines[-1]


@pytest.mark.parametrize("kind", ["monthly", "quarterly", "annual"])
def test_workbook_is_print_ready(case: Case, kind: str) -> None:
    d, path = case.data[kind], case.files[kind].excel
    wb = load_workbook(path)
    for ws in wb.worksheets:
        setup = ws.page_setup
        assert (setup.orientation, int(setup.paperSize)) == ("landscape", 9), ws.title
        assert ws.sheet_properties.pageSetUpPr.fitToPage is True, ws.title
        assert (setup.fitToWidth, setup.fitToHeight) == (1, 0), ws.title
        assert ws.print_title_rows == "$3:$3" and ws.freeze_panes == "A4"
        assert ws["A1"].value.startswith(f"{d.district}{d.words.programme}工作{d.title}")
        assert ws["A2"].value.startswith(f"统计截至 {d.as_of}")
        heads = [c.value for c in ws[3]]
        for row in ws.iter_rows(min_row=4):
            for head, cell in zip(heads, row, strict=True):
                if cell.value is None:
                    continue
                assert cell.alignment.wrap_text, (ws.title, head)
                if head and head.endswith("率"):
                    assert cell.number_format in ("0%", "0.0%") and 0 <= cell.value <= 1, (ws.title, head, cell.value)
    assert all(c.data_type != "f" for ws in wb.worksheets for row in ws.iter_rows() for c in row)
    with zipfile.ZipFile(path) as z:
        assert not [n for n in z.namelist() if n.startswith("xl/worksheets/") and b"<f>" in z.read(n)]
    texts = [c.value for row in wb["任务"].iter_rows(min_row=4) for c in row if isinstance(c.value, str)]
    assert any(t.startswith(FORMULA) for t in texts)  # there, as text


def test_charts_end_at_the_as_of_date(case: Case) -> None:
    d = case.data["monthly"]
    assert d.history[-1][0] == d.as_of and d.history[0][0].month == case.plan.issued.month
    assert [p.name for p in case.files["monthly"].charts] == [f"monthly-{case.month}-preview-completion.png",
                                                              f"monthly-{case.month}-preview-overdue.png"]
    assert all(p.stat().st_size > 20_000 for f in case.files.values() for p in f.charts)
