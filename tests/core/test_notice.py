"""Reading a 任务清单 out of a notice: the seed notice's text as Word copies it (a cell a line), tables a row a line
(Markdown, tabs), columns in any order under their many names, sections as merged rows or cells, numbers that
restart per section; 责任单位 cells split with the lead first; the title, district and issue date found."""

from datetime import date

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from fuquan.notices.notice import Section, read_meta, section_of, task_list, text_table
from fuquan.notices.notice_units import guess_kind, resolve, resolver, split_units
from fuquan.plans.loader import load_plan
from fuquan.plans.plan_text import scalar
from tests.conftest import REAL_CONFIG, ROOT

SEED = ROOT / "tests" / "data" / "notices" / "wanzhi-2023.txt"


def read(text: str):  # type: ignore[no-untyped-def]
    rows, around = text_table(text)
    return task_list([rows] if rows else []), read_meta(around)


def test_the_seed_notice_gives_its_fifteen_tasks_sections_and_meta() -> None:
    tasks, meta = read(SEED.read_text(encoding="utf-8"))
    assert meta.title == "芜湖市湾沚区推进镇赋权工作实施方案" and meta.district == "芜湖市湾沚区"
    assert meta.issued == date(2023, 4, 18) and meta.year == 2023
    assert [s.no for s in tasks.sections] == list("一二三四五六")
    assert [i.no for i in tasks.items] == list(range(1, 16)) and not tasks.renumbered and not tasks.skipped
    tenth = tasks.items[9]  # its section cell repeated ("四、…" again, as Word copies a merged cell over a page)
    assert tenth.section == Section("四", "强化镇执法能力建设") and tenth.deadline == "4月底前"
    assert tenth.units == "区级执法单位、各镇、区司法局" and tasks.items[13].units == "区委编办 区司法局"


def test_a_stray_bar_in_the_notices_words_is_not_the_table() -> None:
    tasks, meta = read(SEED.read_text(encoding="utf-8").replace("一、工作目标", "一、工作目标 | 附注"))
    assert len(tasks.items) == 15 and meta.issued == date(2023, 4, 18)


def test_a_markdown_table_with_lead_and_partner_columns_in_another_order() -> None:
    text = """某县人民政府关于印发《某县2024年乡镇赋权工作要点》的通知
| 时间节点 | 工作任务 | 编号 | 配合单位 | 牵头单位 |
|---|---|---|---|---|
| （一）赋权承接 | | | | |
| 6月底前 | 签订确认书 | 1 | 县司法局、各乡镇 | 县委编办 |
| 每季度末 | 开展评查 | 2 | | 县司法局 |
| （二）能力建设 | | | | |
| 年底前 | 组织培训, 持续跟班学习 | 1 | 各乡镇 | 县司法局 |
某县人民政府办公室
二〇二四年三月五日
"""
    tasks, meta = read(text)
    assert meta == type(meta)("某县2024年乡镇赋权工作要点", "某县", date(2024, 3, 5), 2024)
    assert [(s.no, s.title) for s in tasks.sections] == [("一", "赋权承接"), ("二", "能力建设")]
    assert tasks.renumbered and [(i.no, i.written_no) for i in tasks.items] == [(1, "1"), (2, "2"), (3, "1")]
    last = tasks.items[2]
    assert (last.text, last.deadline, last.lead, last.partner) == ("组织培训, 持续跟班学习", "年底前", "县司法局", "各乡镇")
    assert last.section == Section("二", "能力建设")


def test_tab_separated_text_and_a_table_without_numbers() -> None:
    text = "关于印发《甲区推进镇赋权工作实施方案》的通知\n2023年5月6日印发\n重点任务\t完成时限\t责任单位\n" \
           "一、承接\t\t\n确定事项\t3月底前\t区委编办\n签订确认书\t4月底前\t区委编办、各镇\n"
    tasks, meta = read(text)
    assert (meta.district, meta.issued) == ("甲区", date(2023, 5, 6))
    assert [(i.no, i.written_no, i.section.no if i.section else None) for i in tasks.items] == [(1, "", "一"), (2, "", "一")]
    assert not tasks.renumbered  # there was nothing to renumber


def test_text_without_a_table_has_no_task_list() -> None:
    assert read("关于印发《某方案》的通知\n各单位:\n现印发给你们。\n")[0] is None


@pytest.mark.parametrize("text, no, title", [
    ("一、积极稳妥开展赋权承接工作", "一", "积极稳妥开展赋权承接工作"), ("（三）强化能力", "三", "强化能力"),
    ("(十二) 其他", "十二", "其他"), ("第二部分 跟踪问效", "二", "跟踪问效"), ("赋权承接", "四", "赋权承接"),
])
def test_section_headings(text: str, no: str, title: str) -> None:
    assert section_of(text, made=3) == Section(no, title)


@pytest.mark.parametrize("cell, lead, partner, names", [
    ("区委编办、区司法局", "", "", ["区委编办", "区司法局"]),
    ("区委编办 区司法局", "", "", ["区委编办", "区司法局"]),
    ("区司法局\n区委编办", "", "", ["区司法局", "区委编办"]),
    ("区司法局、各镇配合，区委编办牵头", "", "", ["*区委编办", "区司法局", "各镇"]),
    ("牵头单位：区委编办；配合单位：区司法局、各镇", "", "", ["*区委编办", "区司法局", "各镇"]),
    ("区司法局（配合）、区委编办（牵头）", "", "", ["*区委编办", "区司法局"]),
    ("各乡镇（街道）、区住房和城乡建设局", "", "", ["各乡镇（街道）", "区住房和城乡建设局"]),  # never split at 和
    ("", "区委编办", "区司法局、各镇", ["*区委编办", "区司法局", "各镇"]),
    ("区司法局、区委编办", "区委编办", "", ["*区委编办", "区司法局"]),  # named twice: once, as the lead
    ("区水务局等相关单位", "", "", ["区水务局"]),
])
def test_unit_cells(cell: str, lead: str, partner: str, names: list[str]) -> None:
    assert [("*" if n.lead else "") + n.text for n in split_units(cell, lead, partner)] == names


def test_names_resolve_by_name_full_name_and_width_and_unknown_ones_are_kept() -> None:
    keys = resolver(load_plan(REAL_CONFIG))
    got = resolve(split_units("芜湖市湾沚区司法局、区委编办、区级執法單位、区法制办"), keys)
    assert [(r.name, r.known) for r in got] == [("区司法局", True), ("区委编办", True), ("区级执法单位", True),
                                                ("区法制办", False)]
    assert [guess_kind(n) for n in ("城关街道", "云岭乡", "青山镇", "青山经济开发区", "县法制办")] == \
           ["街道", "乡", "镇", "园区", "部门"]


@settings(max_examples=150, deadline=None)
@given(st.text(alphabet=st.characters(blacklist_categories=("Cs", "Cc")), min_size=1, max_size=30))
def test_any_text_is_written_as_a_scalar_that_reads_back_the_same(value: str) -> None:
    from ruamel.yaml import YAML

    assert YAML(typ="safe").load(f"k: {scalar(value)}") == {"k": value}
    assert YAML(typ="safe").load(f"[{scalar(value, flow=True)}]") == [value]
