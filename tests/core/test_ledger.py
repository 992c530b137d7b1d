from dataclasses import replace
from datetime import date

from fuquan.dates.workdays import WorkCalendar
from fuquan.plans.loader import parse_plan
from fuquan.plans.plan import Plan
from fuquan.tracking.judge import DONE, DONE_LATE, GREEN, RED, YELLOW
from fuquan.tracking.ledger import Context, Records, Row, Share, evaluate

PLAN = parse_plan("""\
plan: {title: 测试, district: 测试区, year: 2023, issued: 2023-04-18}
status: {warn_working_days: 3}
units:
  - {name: 区委编办, kind: 部门}
  - {name: 区司法局, kind: 部门}
  - {name: 甲局, kind: 部门}
  - {name: 乙局, kind: 部门}
  - {name: 甲镇, kind: 镇}
  - {name: 乙镇, kind: 镇}
groups:
  - {name: 执法单位, members: [甲局, 乙局]}
  - {name: 各镇, members: [甲镇, 乙镇]}
sections: [{no: 一, title: 一}]
tasks:
  - {no: 1, section: 一, text: 确定事项, deadline: 3月底前, units: [区委编办, 各镇]}
  - {no: 2, section: 一, text: 确认书, deadline: 4月底前, units: [区委编办, 执法单位, 各镇],
     track: {letters: {departments: [执法单位], towns: [各镇]}}}
  - {no: 9, section: 一, text: 考试, deadline: 4月底前, units: [区司法局, 各镇], track: {exams: {towns: [各镇]}}}
  - {no: 10, section: 一, text: 培训, deadline: 4月底前, units: [执法单位, 各镇, 区司法局],
     track: {training: {departments: [执法单位], towns: [各镇]}}}
  - {no: 14, section: 一, text: 月报, deadline: 每月20日前, units: [区委编办], track: {monthly_reports: {towns: [各镇]}}}
""")


def shares_of(plan: Plan) -> list[Share]:
    """Every share of a plan with nothing recorded yet (what a fresh sync holds)."""
    kinds = {u.name: u.kind for u in plan.units}
    return [Share(t.no, t.text, t.deadline, t.track, a.unit, kinds[a.unit], a.role, title=t.title)
            for t in plan.tasks for a in plan.assignees(t)]


def rows(rec: Records, today: date, shares=None) -> list[Row]:  # type: ignore[no-untyped-def]
    return evaluate(shares or shares_of(PLAN), rec, Context(today, 2023, PLAN.issued, WorkCalendar(), 3))


def pick(rs: list[Row], task: int, unit: str, label: str = "") -> Row:
    return next(r for r in rs if r.task_no == task and r.unit == unit and r.label == label)


def test_nothing_recorded() -> None:
    rs = rows(Records(), date(2023, 4, 28))
    assert {r.judgement.colour for r in rs if r.task_no == 1} == {RED}
    assert pick(rs, 1, "甲镇").judgement.workdays_late == 20
    assert pick(rs, 2, "甲镇").missing == ("甲局承接确认书", "乙局承接确认书")
    assert pick(rs, 2, "甲局").missing == ("甲镇承接确认书", "乙镇承接确认书")
    assert pick(rs, 2, "区委编办").missing == ()  # the organiser is tracked by its own status


def test_letters_finish_a_towns_share_and_nothing_else() -> None:
    rec = Records(letters={(2, "甲局", "甲镇"): date(2023, 4, 25), (2, "乙局", "甲镇"): date(2023, 4, 26)})
    rs = rows(rec, date(2023, 4, 28))
    town = pick(rs, 2, "甲镇").judgement
    assert (town.colour, town.completed_on) == (DONE, date(2023, 4, 26))
    assert pick(rs, 2, "乙镇").judgement.colour == YELLOW
    assert pick(rs, 2, "甲局").missing == ("乙镇承接确认书",)
    late = rows(Records(letters={**rec.letters, (2, "甲局", "乙镇"): date(2023, 5, 4), (2, "乙局", "乙镇"): date(2023, 5, 4)}),
                date(2023, 5, 10))
    assert pick(late, 2, "乙镇").judgement.colour == DONE_LATE and pick(late, 2, "乙镇").judgement.workdays_late == 1


def test_training_needs_the_plan_filed_and_every_town() -> None:
    rec = Records(training_done={(10, "甲局", "甲镇"): date(2023, 4, 20), (10, "甲局", "乙镇"): date(2023, 4, 21)})
    rs = rows(rec, date(2023, 4, 28))
    assert pick(rs, 10, "甲局").missing == ("培训指导计划报区司法局",)
    rec.training_plans[(10, "甲局")] = date(2023, 4, 10)
    rs = rows(rec, date(2023, 4, 28))
    assert pick(rs, 10, "甲局").judgement.colour == DONE
    assert pick(rs, 10, "甲镇").missing == ("乙局岗前培训",)


def test_exam_needs_a_sitting_and_certificates() -> None:
    rec = Records(exams_held={(9, "甲镇"): date(2023, 4, 26)})
    rs = rows(rec, date(2023, 4, 28))
    assert pick(rs, 9, "甲镇").missing == ("执法证件换领",)
    rec.certified[(9, "甲镇")] = date(2023, 4, 27)
    assert pick(rows(rec, date(2023, 4, 28)), 9, "甲镇").judgement.colour == DONE


def test_monthly_reports_one_row_per_town_and_period() -> None:
    rec = Records(reports={(14, "甲镇", "2023-04"): date(2023, 4, 19), (14, "乙镇", "2023-04"): date(2023, 4, 24)})
    rs = rows(rec, date(2023, 5, 22))
    labels = sorted({r.label for r in rs if r.task_no == 14 and r.label})
    assert labels == ["月报 2023-04", "月报 2023-05", "月报 2023-06"]  # past periods and the next one
    assert pick(rs, 14, "甲镇", "月报 2023-04").judgement.colour == DONE
    assert pick(rs, 14, "乙镇", "月报 2023-04").judgement.colour == DONE_LATE
    assert pick(rs, 14, "甲镇", "月报 2023-05").judgement.colour == RED
    assert pick(rs, 14, "甲镇", "月报 2023-06").judgement.colour == GREEN
    collector = pick(rs, 14, "区委编办")
    assert collector.judgement.colour == RED and collector.judgement.due == date(2023, 5, 20)
    assert collector.missing == ("甲镇 2023-05 月报", "乙镇 2023-05 月报")


def test_generic_status_and_extension() -> None:
    shares = shares_of(PLAN)
    shares = [replace(s, status="已完成", completed_on=date(2023, 3, 30)) if (s.task_no, s.unit) == (1, "甲镇") else s
              for s in shares]
    rec = Records(extended={(1, "乙镇", ""): date(2023, 5, 15)})  # a granted extension: its one record
    rs = rows(rec, date(2023, 4, 28), shares)
    assert pick(rs, 1, "甲镇").judgement.colour == DONE
    assert pick(rs, 1, "乙镇").judgement.colour == GREEN  # the approved new date replaces 03-31
    assert pick(rs, 1, "区委编办").judgement.colour == RED
