"""A draft from a third county's notice (莲河县: 九镇十二乡, no 街道) taken three ways — text pasted out of Word with
its section rows as bare lines, the Word file, an Excel sheet holding only the table — against another county's
plan as `--like`: the same sections and tasks every time; none of the like-plan's units, groups, towns, tasks or
channels carried over unless the notice names them; what the notice needs and the like-plan lacks proposed and
marked 待核对; the year read from the notice, down to the deadlines of a bare table."""

from __future__ import annotations

import re
from pathlib import Path

import pytest
from docx import Document
from openpyxl import Workbook
from ruamel.yaml import YAML

from fuquan.notices.notice import read_meta, task_list, text_table
from fuquan.notices.notice_files import read_notice
from fuquan.notices.plan_draft import Draft, draft
from fuquan.plans.loader import load_plan
from tests.conftest import ROOT

NOTICES = ROOT / "tests" / "data" / "notices"
LIANHE = NOTICES / "lianhe-2025.txt"
LIKES = {"wanzhi": ROOT / "tests" / "plans" / "wanzhi-2023.yaml", "qingshan": ROOT / "tests" / "plans" / "qingshan-2024.yaml"}
SECTIONS = [("一", "做好赋权事项承接"), ("二", "理顺执法体制"), ("三", "提升执法能力"), ("四", "规范清单运行"), ("五", "加强跟踪问效")]
GROUPS = {"县级执法部门", "各乡镇"}


def notice_rows() -> tuple[list[str], list[str], list[list[str]]]:
    """The fixture's words above the table, its header, and its rows (a section row is one cell)."""
    lines = LIANHE.read_text(encoding="utf-8").splitlines()
    at = next(i for i, line in enumerate(lines) if line.startswith("序号\t"))
    return lines[:at], lines[at].split("\t"), [line.split("\t") for line in lines[at + 1:] if line.strip()]


def word_notice(path: Path) -> Path:
    """The same notice as the Word file it was copied from: section rows merged across the table."""
    body, header, rows = notice_rows()
    doc = Document()
    for line in body:
        doc.add_paragraph(line)
    table = doc.add_table(rows=1, cols=len(header))
    for cell, text in zip(table.rows[0].cells, header, strict=True):
        cell.text = text
    for cells in rows:
        row = table.add_row()
        if len(cells) == 1:
            row.cells[0].merge(row.cells[-1]).text = cells[0]
        else:
            for cell, text in zip(row.cells, cells, strict=True):
                cell.text = text
    doc.save(str(path))
    return path


def excel_notice(path: Path) -> Path:
    """Only the table, as a county sends its 任务清单 in Excel: no title, no issue date, no year but the deadlines'."""
    _, header, rows = notice_rows()
    wb = Workbook()
    ws = wb.active
    ws.append(header)
    for cells in rows:
        ws.append([int(c) if c.isdigit() else c for c in cells])
        if len(cells) == 1:
            ws.merge_cells(start_row=ws.max_row, start_column=1, end_row=ws.max_row, end_column=len(header))
    wb.save(path)
    return path


def notice_file(kind: str, tmp_path: Path) -> Path:
    return {"txt": lambda: LIANHE, "docx": lambda: word_notice(tmp_path / "莲河县通知.docx"),
            "xlsx": lambda: excel_notice(tmp_path / "任务清单.xlsx")}[kind]()


def draft_of(notice: Path, like: Path) -> Draft:
    """What `fuquan plan import NOTICE --like LIKE` writes (cli/plan_cmds.py does these same calls)."""
    source = read_notice(notice)
    tasks = task_list(source.tables)
    assert tasks is not None
    return draft(tasks, read_meta(source.body), like.read_text(encoding="utf-8"), load_plan(like), notice=notice.name,
                 like_name=like.name, out_name="草稿.yaml")


def block(text: str, key: str) -> list[str]:
    """The lines of a top-level block of the draft, from its key to the next top-level line."""
    lines = text.splitlines()
    start = lines.index(f"{key}:") if f"{key}:" in lines else next(i for i, x in enumerate(lines) if x.startswith(f"{key}:"))
    end = next((i for i in range(start + 1, len(lines)) if lines[i][:1] not in ("", " ", "#")), len(lines))
    return lines[start:end]


def like_comments(like: Path) -> list[str]:
    """The comments of a plan file (whole lines and the ends of lines), as written."""
    out = []
    for line in like.read_text(encoding="utf-8").splitlines():
        at = line.find("#")
        if at >= 0 and (at == 0 or line[at - 1] in " \t") and line[:at].count('"') % 2 == 0:
            out.append(line[at:].strip())
    return out


@pytest.mark.parametrize("like", sorted(LIKES))
@pytest.mark.parametrize("kind", ["txt", "docx", "xlsx"])
def test_a_third_countys_notice_gives_its_own_draft(kind: str, like: str, tmp_path: Path) -> None:
    like_path = LIKES[like]
    d = draft_of(notice_file(kind, tmp_path), like_path)
    doc = YAML(typ="safe").load(d.text)  # a draft the clerk still has to finish, but YAML throughout

    # the same sections and tasks whichever way the notice came
    assert [(s["no"], s["title"]) for s in doc["sections"]] == SECTIONS
    tasks = {t["no"]: t for t in doc["tasks"]}
    assert list(tasks) == list(range(1, 16)) and d.tasks == 15
    assert [tasks[n]["section"] for n in (1, 3, 4, 5, 6, 8, 9, 12, 13, 15)] == list("一一二二三三四四五五")
    assert tasks[3]["deadline"] == "6月中旬前"  # not glued to the section line below it
    assert tasks[2]["deadline"] == "分两批：6月底前、9月底前"
    assert tasks[13]["deadline"] == "5月底前完成，此后每月10日前报送"
    assert tasks[14]["deadline"] == "自6月起，每月10日前报送"
    assert tasks[2]["units"] == ["县委编办", "县司法局", "县级执法部门", "各乡镇"]
    assert tasks[10]["units"] == ["各乡镇", "县委编办"] and tasks[11]["units"] == ["县数据资源管理局", "各乡镇"]

    # the year is the notice's: its issue date, or for the bare table its deadlines (2025年6月底前 …)
    assert doc["plan"]["year"] == 2025
    if kind != "xlsx":
        assert doc["plan"]["district"] == "某市莲河县" and str(doc["plan"]["issued"]) == "2025-03-14"
    assert "2023" not in doc["plan"]["title"] and "2024" not in doc["plan"]["title"]

    # nothing of the like-plan's county unless the notice names it
    plan = load_plan(like_path)
    named = {u for t in doc["tasks"] for u in t["units"]}
    assert named == {"县委编办", "县司法局", "县数据资源管理局", "县级执法部门", "各乡镇"}
    foreign = {u.name for u in plan.units} | {g.name for g in plan.groups} | {u.full_name for u in plan.units if u.full_name}
    for name in foreign - named:
        assert name not in d.text, name
    assert {u["name"] for u in doc["units"]} | {g["name"] for g in doc.get("groups") or []} <= named
    assert {g["name"] for g in doc["groups"]} == GROUPS and all("members" not in g for g in doc["groups"])

    # what the notice needs and the like-plan lacks is proposed, every line of it marked
    known = {u.name for u in plan.units}
    for line in block(d.text, "units"):
        m = re.match(r"  - \{name: ([^,}]+)", line)
        if m and m[1] not in known:
            assert "# 待核对" in line, line
    groups = block(d.text, "groups")
    items = [line for line in groups if line.startswith("  - ")]
    assert [re.match(r"  - name: (\S+)", x)[1] for x in items] == ["县级执法部门", "各乡镇"]  # type: ignore[index]
    assert all("# 待核对" in x for x in items)
    placeholders = [line for line in groups if line.lstrip().startswith("# members:")]
    assert len(placeholders) == 2 and all("# 待核对" in x for x in placeholders)
    kinds = {u["name"]: u["kind"] for u in doc["units"]}
    assert kinds == {"县委编办": "部门", "县司法局": "部门", "县数据资源管理局": "部门"}

    # suggested tracking names the notice's groups
    tracks = [line for line in d.text.splitlines() if re.match(r"    #   (letters|training|exams|monthly_reports):", line)]
    assert tracks == ["    #   letters: {departments: [县级执法部门], towns: [各乡镇]}",
                      "    #   training: {departments: [县级执法部门], towns: [各乡镇]}",
                      "    #   exams: {towns: [各乡镇]}",
                      "    #   monthly_reports: {towns: [各乡镇]}"]

    # no comment of the like-plan about its own towns, units, tasks or channels
    stem = re.sub(r"^.*?市(?=.)", "", plan.district)[:-1]
    for comment in like_comments(like_path):
        if (any(n in comment for n in foreign - named) or re.search(r"任务\s*\d+", comment) or stem in comment
                or re.search(r"\{\s*(slack|dingtalk|wecom)\s*:", comment)):
            assert comment not in d.text, comment
    channels = YAML(typ="safe").load("\n".join(block(d.text, "channels")))["channels"]
    assert channels["units"] == {}


def test_the_like_plans_policy_schedules_and_calendar_still_come_with_it(tmp_path: Path) -> None:
    like = LIKES["qingshan"]
    doc = YAML(typ="safe").load(draft_of(LIANHE, like).text)
    source = YAML(typ="safe").load(like.read_text(encoding="utf-8"))
    for key in ("status", "monthly_report", "evaluation", "answers", "schedules"):
        assert doc[key] == source[key], key
    assert {k: v for k, v in doc["reminders"].items() if k != "overrides"} == \
           {k: v for k, v in source["reminders"].items() if k != "overrides"}
    assert "contact" not in doc["plan"]  # the like county's 专班 contact is not this county's


def test_the_same_countys_plan_as_like_keeps_what_the_notice_names_as_written(tmp_path: Path) -> None:
    """The seed notice against its own county's plan: the groups it names come with their members, the units with
    their full names; a unit the task list never names (the 开发区) stays behind, and the draft passes check."""
    like = LIKES["wanzhi"]
    d = draft_of(NOTICES / "wanzhi-2023.txt", like)
    path = tmp_path / "d.yaml"
    path.write_text(d.text, encoding="utf-8")
    got, source = load_plan(path), load_plan(like)
    assert got.groups == source.groups and d.marks == 0 and not d.unknown
    assert [u.name for u in got.units] == [u.name for u in source.units if u.name != "安徽新芜经济开发区"]
    assert got.units[0] == source.units[0]  # 区委编办 with its 全称
    assert "  - {name: 区委编办, kind: 部门, full_name: 中共芜湖市湾沚区委机构编制委员会办公室}\n" in d.text


@pytest.mark.parametrize("kind", ["txt", "docx"])
def test_the_notice_against_its_own_countys_plan_passes_check(kind: str, tmp_path: Path) -> None:
    """莲河县's notice with 莲河县's plan as `--like`: its groups come with their twenty-one 乡镇 and eight departments."""
    like = ROOT / "tests" / "plans" / "lianhe-2025.yaml"
    d = draft_of(notice_file(kind, tmp_path), like)
    path = tmp_path / "d.yaml"
    path.write_text(d.text, encoding="utf-8")
    got, source = load_plan(path), load_plan(like)
    assert d.marks == 0 and not d.unknown and got.units == source.units and got.groups == source.groups
    assert [(t.no, t.deadline.text) for t in got.tasks][12:14] == [(13, "5月底前完成，此后每月10日前报送"),
                                                                   (14, "自6月起，每月10日前报送")]


@pytest.mark.parametrize("heading", ["二、理顺执法体制", "  二、理顺执法体制　", "（二）理顺执法体制", "第二部分 理顺执法体制",
                                     "二．理顺执法体制"], ids=["bare", "spaced", "bracketed", "part", "dotted"])
@pytest.mark.parametrize("sep", ["\t", "|"], ids=["tabs", "bars"])
def test_a_section_row_pasted_as_a_bare_line_is_a_section(heading: str, sep: str) -> None:
    """Word and WPS copy a merged row as its text alone, without the separators of the rows around it."""
    def row(*cells: str) -> str:
        return sep.join(cells) if sep == "\t" else "| " + " | ".join(cells) + " |"

    text = "\n".join([row("序号", "重点任务", "牵头单位", "时间节点"), "一、做好赋权事项承接",
                      row("1", "确定承接事项", "县委编办", "6月中旬前"), heading,
                      row("2", "配强执法人员", "县委编办", "分两批："), "（一）6月底前；（二）9月底前。",
                      row("3", "案卷评查", "县司法局", "每季度末"), ""])
    rows, _ = text_table(text)
    tasks = task_list([rows])
    assert tasks is not None
    assert [(s.no, s.title) for s in tasks.sections] == [("一", "做好赋权事项承接"), ("二", "理顺执法体制")]
    assert [(i.no, i.section.no if i.section else None, i.deadline) for i in tasks.items] == \
           [(1, "一", "6月中旬前"), (2, "二", "分两批：（一）6月底前；（二）9月底前。"), (3, "二", "每季度末")]


def test_a_bare_section_line_in_a_table_copied_a_cell_a_line() -> None:
    """Word's cell-a-line copy (each cell ends in |): the bare heading would otherwise open the next row's 序号."""
    text = "序号 |\n重点任务 |\n时间节点 |\n牵头单位 |\n一、做好赋权事项承接 |\n1 |\n确定承接事项 |\n6月中旬前 |\n县委编办 |\n" \
           "二、理顺执法体制\n2 |\n配强执法人员 |\n6月底前 |\n县委编办 |\n"
    rows, _ = text_table(text)
    tasks = task_list([rows])
    assert tasks is not None
    assert [(i.no, i.section.title if i.section else None, i.deadline) for i in tasks.items] == \
           [(1, "做好赋权事项承接", "6月中旬前"), (2, "理顺执法体制", "6月底前")]
