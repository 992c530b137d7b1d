"""The tracking acceptance on the real 2023 plan, through the CLI."""

import json

import pytest
from sqlmodel import Session, create_engine, select

from models.items import AuditRow
from tests.conftest import REAL_CONFIG

TOWNS = ["湾沚镇", "六郎镇", "陶辛镇", "红杨镇", "花桥镇"]
T = ("--today", "2023-04-28")


@pytest.fixture
def loaded(run):  # type: ignore[no-untyped-def]
    assert run("sync", "--config", str(REAL_CONFIG)).code == 0
    return run


def rows_of(run, *args: str) -> list[dict]:  # type: ignore[no-untyped-def]
    r = run("status", *T, "--json", *args)
    assert r.code == 0, r.err
    return json.loads(r.out)["rows"]


def test_tasks_1_and_3_are_red_for_every_unit_not_done(loaded) -> None:  # type: ignore[no-untyped-def]
    assert loaded("task", "set", "1", "湾沚镇", "已完成", "--on", "2023-03-30", *T).code == 0
    rows = rows_of(loaded)
    t1 = {r["unit"]: r for r in rows if r["task"] == 1}
    assert len(t1) == 17 and t1["湾沚镇"]["colour"] == "已完成"
    assert all(r["colour"] == "红" and r["workdays_late"] == 20 and r["days_late"] == 28
               for u, r in t1.items() if u != "湾沚镇")
    assert {r["colour"] for r in rows if r["task"] == 3} == {"红"}


def test_letter_grid_and_signing_one_town(loaded) -> None:  # type: ignore[no-untyped-def]
    grid = json.loads(loaded("letters", *T, "--json").out)
    assert grid["towns"] == TOWNS and len(grid["departments"]) == 11
    assert (grid["signed"], grid["unsigned"]) == (0, 55)
    before = {(r["task"], r["unit"]): r["colour"] for r in rows_of(loaded)}

    r = loaded("letter", "sign", "区级执法单位", "六郎镇", "--on", "2023-04-26", "--doc-no", "湾编〔2023〕5号", *T)
    assert r.code == 0, r.err
    grid = json.loads(loaded("letters", *T, "--json").out)
    assert (grid["signed"], grid["unsigned"]) == (11, 44)
    assert {c["town"] for c in grid["cells"] if c["signed"]} == {"六郎镇"}

    after = {(r["task"], r["unit"]): r["colour"] for r in rows_of(loaded)}
    assert after[(2, "六郎镇")] == "已完成"
    changed = {k for k in after if after[k] != before[k]}
    assert changed == {(2, "六郎镇")}
    table = loaded("letters", *T)
    assert "已签 11, 未签 44" in table.out and "✓ 04-26" in table.out


def test_status_by_unit_and_town(loaded) -> None:  # type: ignore[no-untyped-def]
    data = json.loads(loaded("status", *T, "--by", "town", "--json").out)
    assert [g["key"] for g in data["rollup"]] == TOWNS
    town = data["rollup"][0]
    assert set(town) == {"key", "counts", "total", "done", "percent", "workdays_late_max", "workdays_late_sum"}
    assert town["counts"]["红"] >= 2 and town["workdays_late_max"] == 20
    by_unit = json.loads(loaded("status", *T, "--by", "unit", "--json").out)["rollup"]
    assert by_unit[0]["key"] == "区委编办"
    text = loaded("status", *T, "--by", "unit")
    assert "按单位" in text.out and "逾期工作日(最多/合计)" in text.out


def test_status_json_schema(loaded) -> None:  # type: ignore[no-untyped-def]
    data = json.loads(loaded("status", *T, "--json").out)
    assert set(data) == {"district", "year", "today", "by", "calendar_warnings", "tasks", "rollup", "rows"}
    t1 = data["tasks"][0]
    assert set(t1) == {"no", "text", "short", "deadline_text", "colour", "due", "key", "counts", "total", "done", "percent",
                       "workdays_late_max", "workdays_late_sum"}
    assert (t1["colour"], t1["due"], t1["workdays_late_max"]) == ("红", "2023-03-31", 20)
    assert set(data["rows"][0]) == {"task", "unit", "unit_kind", "role", "label", "deadline_text", "colour", "due",
                                    "completed_on", "workdays_late", "days_late", "workdays_left", "missing", "review",
                                    "extension", "period"}


def test_each_kind_is_recorded_and_audited(loaded, db_url) -> None:  # type: ignore[no-untyped-def]
    cmds = [
        ("training", "plan", "区水务局", "--on", "2023-04-10"),
        ("training", "session", "区水务局", "--on", "2023-04-20", "--form", "集中培训", "--towns", "湾沚镇、六郎镇", "--attendees", "30"),
        ("training", "complete", "区水务局", "湾沚镇", "--on", "2023-04-20"),
        ("exam", "pretrain", "湾沚镇", "--on", "2023-04-15"),
        ("exam", "schedule", "湾沚镇", "--on", "2023-04-26", "--candidates", "20"),
        ("exam", "result", "湾沚镇", "--on", "2023-04-26", "--candidates", "20", "--sat", "19", "--passed", "18"),
        ("exam", "certify", "湾沚镇", "--on", "2023-04-27"),
        ("report", "submit", "湾沚镇", "--month", "2023-04", "--on", "2023-04-19", "--figure", "审批办件量=12"),
        ("task", "set", "4", "区委编办", "申请延期", "--new-due", "2023-05-15", "--reason", "待区政府审定", "--approved-by", "专班"),
    ]
    for c in cmds:
        r = loaded(*c, *T, "--operator", "张三")
        assert r.code == 0, (c, r.err)
    rows = rows_of(loaded)
    get = lambda task, unit, label="": next(r for r in rows if (r["task"], r["unit"], r["label"]) == (task, unit, label))  # noqa: E731
    assert get(9, "湾沚镇")["colour"] == "已完成"
    assert get(10, "湾沚镇")["missing"][0] == "区市场监督管理局岗前培训"
    assert "培训指导计划报区司法局" not in get(10, "区水务局")["missing"] and "六郎镇岗前培训" in get(10, "区水务局")["missing"]
    assert get(14, "湾沚镇", "月报 2023-04")["colour"] == "已完成"
    assert (get(4, "区委编办")["colour"], get(4, "区委编办")["due"]) == ("绿", "2023-05-15")
    with Session(create_engine(db_url)) as s:
        audit = list(s.exec(select(AuditRow)))
    assert {a.by for a in audit if a.field != "延期审批"} == {"张三"}
    assert {a.by for a in audit if a.field == "延期审批"} == {"专班"}  # asked by the operator, granted by the approver
    assert {a.entity for a in audit} >= {"training_plan", "training_session", "training_done", "exam_town",
                                         "exam_sitting", "monthly_report", "extension"}
    sat = next(a for a in audit if a.entity == "exam_sitting" and a.field == "sat")
    assert (sat.old, sat.new, sat.ref) == (None, "19", "任务9/湾沚镇/考试2023-04-26")
    # a second change to the same row records old → new
    assert loaded("exam", "certify", "湾沚镇", "--on", "2023-04-28", *T, "--operator", "李四").code == 0
    with Session(create_engine(db_url)) as s:
        last = s.exec(select(AuditRow).order_by(AuditRow.id.desc())).first()  # type: ignore[union-attr]
    assert last is not None and (last.by, last.field, last.old, last.new) == ("李四", "certified_on", "2023-04-27", "2023-04-28")


@pytest.mark.parametrize(("args", "message"), [
    (("exam", "result", "湾沚镇", "--on", "2023-04-26", "--candidates", "20", "--sat", "10", "--passed", "11"),
     "通过人数 11 大于实考人数 10"),
    (("exam", "result", "湾沚镇", "--on", "2023-04-26", "--candidates", "5", "--sat", "10", "--passed", "1"),
     "实考人数 10 大于应考人数 5"),
    (("letter", "sign", "区水务局", "湾沚镇", "--on", "2023-05-02"), "签订日期 2023-05-02 晚于今天 (2023-04-28)"),
    (("letter", "sign", "区水务局", "湾址镇", "--on", "2023-04-02"),
     "未知镇 “湾址镇”; 已有镇: 湾沚镇、六郎镇、陶辛镇、红杨镇、花桥镇"),
    (("letter", "sign", "区委编办", "湾沚镇", "--on", "2023-04-02"), "未知部门 “区委编办”; 已有部门: 区市场监督管理局"),
    (("training", "session", "区水务局", "--on", "2023-04-20", "--form", "自学", "--towns", "湾沚镇", "--attendees", "3"),
     "培训形式 “自学” 不在可选范围: 集中培训、现场观摩、跟班学习、传帮带"),
    (("report", "submit", "湾沚镇", "--month", "2023-13", "--on", "2023-04-19"), "月份应写作 YYYY-MM"),
    (("report", "submit", "湾沚镇", "--month", "2023-04", "--on", "2023-04-19", "--figure", "罚款金额=3"), "未知月报指标 “罚款金额”"),
    (("task", "set", "4", "湾沚镇", "进行中"), "未知任务 4 的责任单位 “湾沚镇”; 已有任务 4 的责任单位: 区委编办"),
    (("task", "set", "16", "湾沚镇", "进行中"), "未知任务 “16”"),
    (("task", "set", "4", "区委编办", "已完成"), "状态为已完成时须填写完成日期"),
    (("task", "set", "4", "区委编办", "搁置"), "状态 “搁置” 不在可选范围"),
])
def test_impossible_values_are_refused_and_nothing_is_written(loaded, db_url, args, message) -> None:  # type: ignore[no-untyped-def]
    r = loaded(*args, *T)
    assert r.code == 1 and r.err.startswith("错误: ") and message in r.err, r.err
    with Session(create_engine(db_url)) as s:
        assert list(s.exec(select(AuditRow))) == []


def test_a_year_the_holiday_calendar_does_not_cover_warns_once(run, write_plan) -> None:  # type: ignore[no-untyped-def]
    from tests.conftest import SMALL_PLAN

    assert run("sync", "--config", str(write_plan(SMALL_PLAN.replace("year: 2023", "year: 2031")
                                                  .replace("issued: 2023-04-18", "issued: 2031-04-18")))).code == 0
    r = run("status", "--today", "2031-05-06", "--json")
    assert r.code == 0
    warning = "注意: 2031 年的法定节假日与调休安排尚未收录, 该年按周一至周五计算工作日; 请按国务院办公厅当年的通知在计划文件中加上 calendar: 段"
    assert r.err.strip() == warning
    data = json.loads(r.out)
    assert data["calendar_warnings"] == [warning]
    t1 = next(t for t in data["tasks"] if t["no"] == 1)
    assert (t1["colour"], t1["workdays_late_max"]) == ("红", 26)  # Mon–Fri from 04-01 to 05-06
