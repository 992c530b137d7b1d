"""`fuquan plan import` and `fuquan plan new` as a clerk runs them: the seed notice's text gives the shipped plan's
fifteen tasks, a Word notice with its columns in another order, merged section rows and 牵头/配合 wording gives
all of its own, an Excel one too; names the like-plan lacks are added and listed; next year's copy passes
`plan check` and differs only where it says; bad input is one `错误:` and no file."""

from __future__ import annotations

import difflib
import re
from pathlib import Path

import pytest
from docx import Document
from openpyxl import Workbook

from fuquan.plans.loader import load_plan
from tests.conftest import REAL_CONFIG, ROOT

SEED = ROOT / "tests" / "data" / "notices" / "wanzhi-2023.txt"
QINGSHAN = ROOT / "tests" / "plans" / "qingshan-2024.yaml"


@pytest.fixture
def like(tmp_path: Path) -> Path:
    """湾沚区's units, groups and settings with tasks that are something else: the import must not use them."""
    text = REAL_CONFIG.read_text(encoding="utf-8")
    path = tmp_path / "like.yaml"
    path.write_text(text[:text.index("# ── 章节")] + "sections:\n  - {no: 一, title: 别的工作}\ntasks:\n"
                    "  - {no: 1, section: 一, text: 别的任务, deadline: 5月底前, units: [区司法局]}\n"
                    "  - {no: 14, section: 一, text: 月报, deadline: 每月20日前, units: [区委编办]}\n", encoding="utf-8")
    return path


def tasks_of(path: Path) -> list[tuple[int, str, str, str, tuple[str, ...], str]]:
    return [(t.no, t.section.no, t.section.title, t.deadline.text, t.units, t.text) for t in load_plan(path).tasks]


def test_the_seed_notice_gives_the_plans_fifteen_tasks(run, like, tmp_path) -> None:  # type: ignore[no-untyped-def]
    out = tmp_path / "draft.yaml"
    r = run("plan", "import", str(SEED), "--like", str(like), "--out", str(out))
    assert r.code == 0, r.err
    assert r.out.startswith(f"已生成计划草稿 {out}: 芜湖市湾沚区 2023 年度, 6 个部分, 15 项任务")
    assert "草稿检查无误: fuquan plan check" in r.out and "不在 --like 计划" not in r.err
    assert tasks_of(out) == tasks_of(REAL_CONFIG)
    draft, shipped = load_plan(out), load_plan(REAL_CONFIG)
    assert (draft.title, draft.district, draft.year, draft.issued) == (shipped.title, shipped.district, 2023, shipped.issued)
    # the task list never names the 开发区, so the draft does not carry it
    assert draft.units == tuple(u for u in shipped.units if u.name != "安徽新芜经济开发区")
    assert draft.groups == shipped.groups and draft.policy.overrides == {}
    text = out.read_text(encoding="utf-8")
    assert "  # overrides:" in text and "    #   letters: {departments: [区级执法单位], towns: [各镇]}\n" in text
    assert "任务 2 按承接确认书\n  任务 9 按法律知识考试\n  任务 10 按岗前培训\n  任务 14 按月报" in r.err
    assert run("plan", "check", "--config", str(out)).code == 0


def test_names_the_like_plan_lacks_are_added_marked_and_listed(run, tmp_path) -> None:  # type: ignore[no-untyped-def]
    out = tmp_path / "draft.yaml"
    r = run("plan", "import", str(SEED), "--like", str(QINGSHAN), "--out", str(out))
    assert r.code == 0, r.err
    assert "通知中的名称不在 --like 计划的单位和单位组中, 已暂列为新单位或单位组:\n  区委编办 (任务 1、2、3、4、5、6、7、8、14、15)\n" in r.err
    assert "  各镇 (任务 1、2、3、8、9、10、13)\n" in r.err
    text = out.read_text(encoding="utf-8")
    assert "  - name: 各镇  # 待核对: 通知中的单位组, 见任务 1、2、3、8、9、10、13\n    # members: [ ]  # 待核对:" in text
    assert "  - {name: 区委编办, kind: 部门}  # 待核对: 通知中的名称, 见任务 1、2、3、4、5、6、7、8、14、15; 类别按名称推测\n" in text
    assert "草稿中标有 “待核对” 的 22 处改好后才能通过 fuquan plan check" in r.err and text.count("# 待核对") == 22
    assert "缺少必填字段 成员(members)" in r.err
    check = run("plan", "check", "--config", str(out))
    assert check.code == 1 and "缺少必填字段 成员(members)" in check.err


def word_notice(path: Path) -> Path:
    """A county's notice as Word holds it: 时间节点 first, 序号 in the middle, 牵头/配合 columns, section rows merged
    across, a cell of two paragraphs, 牵头/配合 written inside a cell, and a deadline nobody can read."""
    doc = Document()
    for line in ("某市青山县人民政府办公室", "关于印发《某市青山县推进乡镇（街道）赋权工作实施方案》的通知",
                 "各乡镇人民政府、街道办事处，县直各单位：", "二〇二四年三月八日"):
        doc.add_paragraph(line)
    table = doc.add_table(rows=1, cols=5)
    for cell, text in zip(table.rows[0].cells, ["时间节点", "重点任务", "序号", "牵头单位", "配合单位"], strict=True):
        cell.text = text

    def section(text: str) -> None:
        row = table.add_row()
        row.cells[0].merge(row.cells[4]).text = text

    def task(*cells: str | list[str]) -> None:
        row = table.add_row()
        for cell, value in zip(row.cells, cells, strict=True):
            cell.text = value[0] if isinstance(value, list) else value
            for more in value[1:] if isinstance(value, list) else []:
                cell.add_paragraph(more)

    section("一、做好赋权事项承接")
    task("2月底前", ["对照省级指导目录，", "确定各乡镇（街道）承接的赋权事项"], "1", "县委编办", "县级执法部门、各乡镇（街道）")
    task("4月15日前", "签订承接确认书", "2", "县委编办", ["县司法局", "县级执法部门", "各乡镇（街道）"])
    section("二、提升基层执法能力")
    task("每季度末", "开展案卷评查", "3", "县级执法部门（配合）、县司法局（牵头）", "")
    task("4月前", "一项时限写得含糊的任务", "4", "县司法局", "县法制办")
    doc.save(str(path))
    return path


def test_a_word_notice_with_columns_in_another_order_gives_all_its_tasks(run, tmp_path) -> None:  # type: ignore[no-untyped-def]
    out = tmp_path / "qs.yaml"
    r = run("plan", "import", str(word_notice(tmp_path / "通知.docx")), "--like", str(QINGSHAN), "--out", str(out))
    assert r.code == 0, r.err
    assert "某市青山县 2024 年度, 2 个部分, 4 项任务" in r.out
    assert "无法识别的完成时限, 已照录原文:\n  任务 4 “4月前”: “X月前”有歧义" in r.err
    assert "  县法制办 (任务 4)\n" in r.err
    text = out.read_text(encoding="utf-8")
    assert "plan:\n  title: 某市青山县推进乡镇（街道）赋权工作实施方案\n  district: 某市青山县\n  year: 2024\n  issued: 2024-03-08\n" in text
    assert "sections:\n  - {no: 一, title: 做好赋权事项承接}\n  - {no: 二, title: 提升基层执法能力}\n" in text
    assert ("    text: 对照省级指导目录，确定各乡镇（街道）承接的赋权事项\n    deadline: 2月底前\n"
            "    units: [县委编办, 县级执法部门, 各乡镇（街道）]  # 通知原文: 牵头单位: 县委编办；配合单位: 县级执法部门、各乡镇（街道）\n") in text
    assert "    units: [县委编办, 县司法局, 县级执法部门, 各乡镇（街道）]" in text
    assert "    units: [县司法局, 县级执法部门]  # 通知原文: 牵头单位: 县级执法部门（配合）、县司法局（牵头）\n" in text
    assert "    deadline: 4月前  # 待核对: 无法识别" in text
    check = run("plan", "check", "--config", str(out))  # the unread deadline stops it, at its line
    line = text.splitlines().index(next(x for x in text.splitlines() if x.startswith("    deadline: 4月前"))) + 1
    assert check.code == 1 and f"{out}:{line}:15: 任务 4: 无法识别的完成时限 “4月前”" in check.err


def test_a_word_notice_with_the_section_in_a_merged_column(run, tmp_path, like) -> None:  # type: ignore[no-untyped-def]
    """The seed's own layout in Word: 主要任务 spans two columns, the left one the section merged down its tasks."""
    doc = Document()
    doc.add_paragraph("关于印发《芜湖市湾沚区推进镇赋权工作实施方案》的通知")
    doc.add_paragraph("2023年4月18日")
    table = doc.add_table(rows=4, cols=5)
    head = table.rows[0].cells
    head[0].text, head[3].text, head[4].text = "序号", "完成时限", "责任单位"
    head[1].merge(head[2]).text = "主 要 任 务"
    table.cell(1, 1).merge(table.cell(2, 1)).text = "一、积极稳妥开展赋权承接工作"
    table.cell(3, 1).text = "二、推动基层综合执法机构设置"
    for r, (no, text, due, units) in enumerate([("1", "确定承接事项", "3月底前", "区委编办、区级执法单位、各镇"),
                                                ("2", "签订赋权事项承接确认书", "4月底前", "区委编办、区司法局、区级执法单位、各镇"),
                                                ("3", "全面梳理区镇两级执法相关机构编制、人员队伍等情况", "3月底前", "区委编办\n区级执法单位\n各镇")], 1):
        cells = table.rows[r].cells
        cells[0].text, cells[2].text, cells[3].text, cells[4].text = no, text, due, units
    doc.save(str(tmp_path / "n.docx"))
    out = tmp_path / "d.yaml"
    r = run("plan", "import", str(tmp_path / "n.docx"), "--like", str(like), "--out", str(out))
    assert r.code == 0, r.err
    assert tasks_of(out) == tasks_of(REAL_CONFIG)[:3]


def test_an_excel_task_list_with_merged_cells(run, tmp_path) -> None:  # type: ignore[no-untyped-def]
    wb = Workbook()
    ws = wb.active
    ws.append(["某市青山县推进乡镇（街道）赋权工作任务清单"])
    ws.append(["序号", "工作任务", "责任单位", "完成时间"])
    ws.append(["一、做好赋权事项承接"])
    ws.append([1, "确定承接事项", "县委编办牵头，县级执法部门、各乡镇（街道）配合", "2月底前"])
    ws.append([2, "摸清编制底数", None, "2月底前"])
    ws.merge_cells("A1:D1")
    ws.merge_cells("A3:D3")
    ws.merge_cells("C4:C5")  # one 责任单位 for both tasks
    wb.save(tmp_path / "清单.xlsx")
    out = tmp_path / "d.yaml"
    r = run("plan", "import", str(tmp_path / "清单.xlsx"), "--like", str(QINGSHAN), "--out", str(out))
    assert r.code == 0, r.err
    plan = load_plan(out)
    assert (plan.district, plan.year) == ("某市青山县", 2024)  # the year from the like-plan, marked
    assert [(t.no, t.text, t.units) for t in plan.tasks] == [(1, "确定承接事项", ("县委编办", "县级执法部门", "各乡镇（街道）")),
                                                               (2, "摸清编制底数", ("县委编办", "县级执法部门", "各乡镇（街道）"))]
    assert "  issued: 2024-03-08  # 待核对: 通知中没有找到印发日期, 暂取自 --like 计划" in out.read_text(encoding="utf-8")
    assert "通知中没有找到, 暂取自 --like 计划:\n  计划年度: 通知中没有找到, 暂取 2024\n" in r.err


def not_a_notice(tmp_path: Path) -> dict[str, Path]:
    files = {"doc": tmp_path / "旧.doc", "pdf": tmp_path / "n.pdf", "plain": tmp_path / "n.txt",
             "docx": tmp_path / "坏.docx", "gbk": tmp_path / "gbk.txt"}
    files["doc"].write_bytes(b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1" + b"\0" * 100)
    files["pdf"].write_bytes(b"%PDF-1.4\n...")
    files["plain"].write_text("关于印发《某方案》的通知\n各单位:\n现印发给你们, 请认真执行。\n", encoding="utf-8")
    files["docx"].write_bytes(b"PK\x03\x04 not really")
    files["gbk"].write_bytes(SEED.read_text(encoding="utf-8").replace("湾沚", "").encode("gb18030"))
    return files


@pytest.mark.parametrize("which, said", [
    ("missing", "找不到通知文件"), ("doc", "是旧版 .doc/.xls 或加密的文件; 请在 Word/WPS 中去掉密码并另存为 .docx"),
    ("pdf", "是 PDF"), ("plain", "中没有找到任务清单表格"), ("docx", "无法打开 (文件可能已损坏)"),
    ("exists", "已存在; 请换一个文件名, 或加 --force 覆盖"), ("same", "就是来源计划文件"), ("like", "计划配置有 1 处错误"),
])
def test_bad_input_is_one_error_and_writes_nothing(run, like, tmp_path, which, said) -> None:  # type: ignore[no-untyped-def]
    files = not_a_notice(tmp_path)
    notice, out = files.get(which, SEED if which in ("exists", "same", "like") else tmp_path / "无.txt"), tmp_path / "d.yaml"
    if which == "exists":
        out.write_text("原有内容\n", encoding="utf-8")
    if which == "same":
        out = like
    if which == "like":
        like.write_text(like.read_text(encoding="utf-8").replace("kind: 镇", "kind: 村", 1), encoding="utf-8")
    before = {p.name: p.read_bytes() for p in tmp_path.iterdir()}
    r = run("plan", "import", str(notice), "--like", str(like), "--out", str(out))
    assert r.code == 1 and r.err.startswith("错误: ") and said in r.err and "Traceback" not in r.err, r.err
    assert {p.name: p.read_bytes() for p in tmp_path.iterdir()} == before


def test_a_notice_saved_as_gbk_text_reads_too(run, like, tmp_path) -> None:  # type: ignore[no-untyped-def]
    out = tmp_path / "d.yaml"
    r = run("plan", "import", str(not_a_notice(tmp_path)["gbk"]), "--like", str(like), "--out", str(out))
    assert r.code == 0 and "芜湖市区 2023 年度, 6 个部分, 15 项任务" in r.out, r.err


# ── plan new ──────────────────────────────────────────────────────────────────────────────────────────────────


def test_next_years_plan_passes_check_and_differs_only_where_listed(run, tmp_path) -> None:  # type: ignore[no-untyped-def]
    out = tmp_path / "qingshan-2025.yaml"
    r = run("plan", "new", "--from", str(QINGSHAN), "--year", "2025", "--out", str(out))
    assert r.code == 0, r.err
    listed = {int(n) for n in re.findall(r"^  第 (\d+) 行 ", r.out.split("未改动")[0], re.M)}
    before, after = QINGSHAN.read_text(encoding="utf-8").splitlines(), out.read_text(encoding="utf-8").splitlines()
    changed = {i + 1 for op, i1, i2, _, _ in difflib.SequenceMatcher(a=before, b=after).get_opcodes() if op != "equal"
               for i in range(i1, i2)}
    assert changed == listed and len(before) == len(after)
    assert "  第 17 行 印发日期: 2024-03-08 → 2025-01-01 (待填写: 新方案印发后改为印发日期)" in r.out
    assert re.search(r"第 \d+ 行 任务 14 完成时限: 2024年10月底前 → 2025年10月底前", r.out)
    assert "未改动, 请核对:\n  第 3 行 (注释, 未改动): # 来源: 虚构的《某市青山县推进乡镇（街道）赋权工作实施方案》(2024年3月8日印发)" in r.out
    check = run("plan", "check", "--config", str(out))
    assert check.code == 0 and "某市青山县 2025 年度, 16 项任务" in check.out
    old, new = load_plan(QINGSHAN), load_plan(out)
    assert (new.units, new.groups, new.channels, new.policy, new.schedules, new.calendar, new.weights) == \
           (old.units, old.groups, old.channels, old.policy, old.schedules, old.calendar, old.weights)


def test_plan_check_catches_a_copy_whose_years_were_not_moved(run, tmp_path) -> None:  # type: ignore[no-untyped-def]
    """The sed copy of the issue: only `year:` changed, 2024年10月底前 left in the 2025 plan."""
    text = QINGSHAN.read_text(encoding="utf-8")
    path = tmp_path / "sed.yaml"
    path.write_text(text.replace("  year: 2024", "  year: 2025").replace("issued: 2024-03-08", "issued: 2025-03-01"),
                    encoding="utf-8")
    r = run("plan", "check", "--config", str(path))
    line = text.splitlines().index("    deadline: 2024年10月底前") + 1
    assert r.code == 1 and f"{path}:{line}:15: 任务 14: 完成时限 “2024年10月底前” 的截止日期 2024-10-31 在计划年度 2025 年之前" in r.err
    far = tmp_path / "far.yaml"  # years farther off the loader refuses itself
    far.write_text(text.replace("  year: 2024", "  year: 2027"), encoding="utf-8")
    assert "中的 2024 年不在计划年度 2027 年前后" in run("plan", "check", "--config", str(far)).err


@pytest.mark.parametrize("args, said", [
    (("--year", "2024"), "新年度与原计划相同 (2024)"), (("--year", "1999"), "年度应在 2000 到 2100 之间"),
    (("--year", "2025", "--issued", "2025-02-30"), "日期应为 YYYY-MM-DD"),
])
def test_plan_new_refuses_bad_input_and_writes_nothing(run, tmp_path, args, said) -> None:  # type: ignore[no-untyped-def]
    out = tmp_path / "n.yaml"
    r = run("plan", "new", "--from", str(QINGSHAN), "--out", str(out), *args)
    assert r.code != 0 and said in r.err and "Traceback" not in r.err and not out.exists(), r.err
    out.write_text("x", encoding="utf-8")
    r = run("plan", "new", "--from", str(QINGSHAN), "--out", str(out), "--year", "2025")
    assert r.code == 1 and "已存在" in r.err and out.read_text(encoding="utf-8") == "x"
    r = run("plan", "new", "--from", str(QINGSHAN), "--out", str(out), "--year", "2025", "--issued", "2025-02-20", "--force")
    assert r.code == 0 and load_plan(out).issued.isoformat() == "2025-02-20" and "待填写" not in out.read_text(encoding="utf-8")
