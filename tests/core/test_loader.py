import re
from datetime import date
from pathlib import Path

import pytest

from fuquan.errors import PlanError
from fuquan.plans.loader import load_plan, parse_plan
from tests.conftest import REAL_CONFIG, ROOT, SMALL_PLAN

SEED = ROOT.parent / "shared" / "seeds" / "002_e5c13e3fee90df88.txt"


def problems(text: str) -> list[str]:
    with pytest.raises(PlanError) as e:
        parse_plan(text, "tasks.yaml")
    return [p.render() for p in e.value.problems]


def test_real_plan_has_fifteen_tasks_with_their_due_dates() -> None:
    plan = load_plan(REAL_CONFIG)
    assert (plan.district, plan.year, plan.issued) == ("芜湖市湾沚区", 2023, date(2023, 4, 18))
    due = {t.no: (t.deadline.kind, t.deadline.due) for t in plan.tasks}
    assert [t.no for t in plan.tasks] == list(range(1, 16))
    assert due[1] == due[3] == ("date", date(2023, 3, 31))
    assert due[2] == due[4] == due[9] == due[10] == ("date", date(2023, 4, 30))
    assert due[5] == due[7] == due[11] == ("date", date(2023, 6, 20))
    assert due[6] == ("date", date(2023, 5, 31))
    assert due[13] == ("date", date(2023, 6, 30))
    assert due[8] == ("ongoing", None)
    assert due[12] == ("per_higher_level", None)
    assert due[15] == ("to_be_decided", None)
    assert plan.task(14).deadline.rule is not None and plan.task(14).deadline.rule.as_dict() == {"freq": "monthly", "day": 20}


def test_groups_expand_and_the_first_unit_leads() -> None:
    plan = load_plan(REAL_CONFIG)
    towns = ["湾沚镇", "六郎镇", "陶辛镇", "红杨镇", "花桥镇"]
    assert plan.group("各镇") is not None and list(plan.group("各镇").members) == towns  # type: ignore[union-attr]
    t10 = plan.task(10)
    assert t10.lead_unit == "区级执法单位"
    assignees = plan.assignees(t10)
    assert [a.unit for a in assignees][-6:] == towns + ["区司法局"]
    assert all(a.role == "lead" for a in assignees if a.via_group == "区级执法单位")
    assert "安徽新芜经济开发区" not in [a.unit for t in plan.tasks for a in plan.assignees(t)]


@pytest.mark.skipif(not SEED.exists(), reason="shared/seeds not beside the checkout")
def test_real_plan_is_a_faithful_transcription_of_the_seed() -> None:
    annex = SEED.read_text(encoding="utf-8").split("芜湖市湾沚区推进镇赋权工作任务清单\n序号")[1]
    cells = [c.strip() for c in re.split(r"\s*\|\s*", annex)]
    pos = 0
    for t in load_plan(REAL_CONFIG).tasks:
        for expected in (t.text, t.deadline.text):
            pos = cells.index(expected, pos)  # in written order: each after the previous
        written = cells[pos + 1]
        assert re.split(r"[、\s]+", written) == list(t.units), f"task {t.no}"


def test_traditional_and_spaced_unit_names_resolve() -> None:
    text = SMALL_PLAN.replace("units: [区委编办, 各镇]", "units: [區委編辦, 各 镇]")
    plan = parse_plan(text)
    assert plan.task(1).units == ("区委编办", "各镇")


@pytest.mark.parametrize(("mutate", "expected"), [
    (lambda s: s.replace("  year: 2023", "  year: [2023"), r"tasks\.yaml:\d+:\d+: YAML 语法错误"),
    (lambda s: s.replace("units: [区委编办]", "units: [区委办]"),
     r"tasks\.yaml:31:13: 任务 3: 未知单位 “区委办”; 已有单位和单位组: 区委编办、区司法局、甲镇、乙镇、各镇"),
    (lambda s: s.replace("  - no: 3\n", "  - no: 2\n"), r"tasks\.yaml:27:9: 任务序号 2 重复: 第 22 行与第 27 行"),
    (lambda s: s.replace("    deadline: 4月底前\n", ""), r"tasks\.yaml:22:5: 缺少必填字段 完成时限\(deadline\)"),
    (lambda s: s.replace("issued: 2023-04-18", "issued: 2023-04-31"),
     r"tasks\.yaml:5:11: 印发日期\(issued\) 应为日期 YYYY-MM-DD, 实为 “2023-04-31”"),
    (lambda s: s.replace("deadline: 3月底前", "deadline: 三月份左右"),
     r"tasks\.yaml:20:15: 任务 1: 无法识别的完成时限 “三月份左右”"),
    (lambda s: s.replace("kind: 部门}", "kind: 科室}", 1), r"tasks\.yaml:7:24: 类别\(kind\) 的值 “科室” 不允许; 可选: 部门、镇、乡、街道、园区"),
    (lambda s: s.replace("    text: 月报", "    txt: 月报"), r"未知字段 “txt”; 允许的字段: no, section, text, short, deadline, units"),
    (lambda s: s.replace("  year: 2023", "  year: 2023\n  year: 2024"), r"tasks\.yaml:5:3: YAML 语法错误: 重复的键 “year”"),
    (lambda s: s.replace("members: [甲镇, 乙镇]", "members: [甲镇, 丙镇]"), r"成员 “丙镇” 不是已定义的单位"),
    (lambda s: s.replace("section: 一\n    text: 月报", "section: 七\n    text: 月报"), r"任务 3: 未知章节 “七”; 已有章节: 一"),
    (lambda s: s.replace("units: [区委编办, 各镇]", "units: [区委编办, 区委编办]"), r"责任单位 “区委编办” 重复列出"),
    (lambda s: s.replace("  year: 2023", "  year: NO"), r"计划年度\(year\) 应为整数, 实为 “NO”"),
    (lambda s: "- just\n- a list\n", r"tasks\.yaml:1:1: 计划文件应为键值映射"),
])
def test_bad_plan_names_file_line_and_field(mutate, expected: str) -> None:  # type: ignore[no-untyped-def]
    found = problems(mutate(SMALL_PLAN))
    assert any(re.search(expected, p) for p in found), found


def test_every_problem_is_reported_not_just_the_first() -> None:
    text = SMALL_PLAN.replace("units: [区委编办]", "units: [区委办]").replace("deadline: 3月底前", "deadline: 某时")
    found = problems(text)
    assert len(found) == 2 and found[0].startswith("tasks.yaml:20:15:") and found[1].startswith("tasks.yaml:31:13:")


def test_missing_file_is_a_plan_error(tmp_path: Path) -> None:
    with pytest.raises(PlanError, match="无法读取计划文件"):
        load_plan(tmp_path / "nope.yaml")


def test_bom_and_full_width_text_load(tmp_path: Path) -> None:
    path = tmp_path / "bom.yaml"
    path.write_text("\ufeff" + SMALL_PLAN.replace("3月底前", "３月底前"), encoding="utf-8")
    plan = load_plan(path)
    assert plan.task(1).deadline.text == "３月底前" and plan.task(1).deadline.due == date(2023, 3, 31)
