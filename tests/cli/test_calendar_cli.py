"""`fuquan calendar import|show`: the notice into a plan's `calendar:` block (comments and layout kept, whole or
not at all, replacing that year), and a year's holidays with where they come from."""

import difflib
import json
from pathlib import Path

import pytest

from tests.conftest import ROOT

NOTICES = ROOT / "tests" / "data" / "holiday_notices"
QINGSHAN = ROOT / "tests" / "plans" / "qingshan-2024.yaml"
# Not a published notice (2027's is not out): the brief's example year, written the way the notices are.
NOTICE_2027 = """国务院办公厅关于2027年部分节假日安排的通知
　　一、元旦：1月1日（周五）至3日（周日）放假，共3天。
　　二、春节：2月5日（农历除夕、周五）至13日（农历正月初八、周六）放假调休，共9天。2月14日（周日）、2月20日（周六）上班。
　　七、国庆节：10月1日（周五）至7日（周四）放假调休，共7天。9月26日（周日）、10月9日（周六）上班。
"""


@pytest.fixture
def plan_2027(tmp_path: Path) -> Path:
    path = tmp_path / "qingshan-2027.yaml"
    path.write_text(QINGSHAN.read_text(encoding="utf-8").replace("2024", "2027"), encoding="utf-8")
    return path


@pytest.fixture
def notice_2027(tmp_path: Path) -> Path:
    path = tmp_path / "2027.txt"
    path.write_text(NOTICE_2027, encoding="utf-8")
    return path


def test_import_prints_the_block_and_checks_it_against_the_package(run) -> None:  # type: ignore[no-untyped-def]
    r = run("calendar", "import", str(NOTICES / "2026.txt"))
    assert r.code == 0, r.err
    assert r.out.startswith("calendar:\n  2026:   # 据《国务院办公厅关于2026年部分节假日安排的通知》\n    holidays:\n"
                            "      - 2026-01-01~2026-01-03  # 元旦\n      - 2026-02-15~2026-02-23  # 春节\n")
    assert "    workdays:\n      - 2026-01-04             # 元旦\n" in r.out
    assert "7 个节日, 放假 33 天, 调休上班 6 天" in r.err and "与 chinese_calendar 包收录的 2026 年安排一致" in r.err
    assert "未写入任何文件" in r.err


def test_import_says_where_a_notice_for_a_covered_year_departs_from_the_package(run, tmp_path) -> None:  # type: ignore[no-untyped-def]
    notice = tmp_path / "2024.txt"
    notice.write_text("国务院办公厅关于2024年部分节假日安排的通知\n一、元旦：1月1日放假，与周末连休。\n"
                      "二、春节：2月9日至17日放假调休，共9天。\n", encoding="utf-8")
    r = run("calendar", "import", str(notice))
    assert r.code == 0 and "与 chinese_calendar 包收录的 2024 年安排有 22 天不同" in r.err
    assert "通知所写与包相反的 1 天 (写入计划文件后以计划文件为准): 2024-02-09(周五)\n" in r.err  # 除夕, a working day
    assert "通知没有写到、包中为放假或调休上班的 21 天 (仍按包计算): 2024-02-04(周日)、2024-02-18(周日)、" in r.err


def test_write_adds_the_block_keeps_every_other_line_and_the_plan_stops_warning(run, plan_2027, notice_2027) -> None:  # type: ignore[no-untyped-def]
    before = plan_2027.read_text(encoding="utf-8")
    assert "2027 年的法定节假日与调休安排尚未收录" in run("plan", "check", "--config", str(plan_2027)).err
    r = run("calendar", "import", str(notice_2027), "--write", str(plan_2027))
    assert r.code == 0, r.err
    assert f"已写入 {plan_2027}: calendar: 段 2027 年 (新增), 放假 19 天、调休上班 4 天; 计划文件检查无误" in r.out
    after = plan_2027.read_text(encoding="utf-8")
    ops = difflib.SequenceMatcher(None, before.splitlines(), after.splitlines(), autojunk=False).get_opcodes()
    assert [op[0] for op in ops if op[0] != "equal"] == ["insert"]  # only added: every comment and line kept
    assert "# ── 单位 ──" in after.split("calendar:\n  2027:")[1]  # above the units section, under its own heading
    check = run("plan", "check", "--config", str(plan_2027))
    assert check.code == 0 and "尚未收录" not in check.err


def test_a_second_write_replaces_the_years_entry(run, plan_2027, notice_2027) -> None:  # type: ignore[no-untyped-def]
    old = "calendar:\n  2027:\n    holidays: [2027-01-01, 2027-10-01~2027-10-07]   # 旧的\n    workdays: [2027-09-26]\n"
    plan_2027.write_text(plan_2027.read_text(encoding="utf-8").replace("\nunits:\n", f"\n{old}units:\n", 1), encoding="utf-8")
    first = run("calendar", "import", str(notice_2027), "--write", str(plan_2027))
    assert first.code == 0 and "2027 年 (替换了原有的条目)" in first.out
    once = plan_2027.read_bytes()
    assert b"# \xe6\x97\xa7\xe7\x9a\x84" not in once and once.count(b"\n  2027:") == 1  # the old entry (# 旧的) is gone
    assert run("calendar", "import", str(notice_2027), "--write", str(plan_2027)).code == 0
    assert plan_2027.read_bytes() == once
    shown = json.loads(run("calendar", "show", "--year", "2027", "--config", str(plan_2027), "--json").out)
    assert [(h["first"], h["last"]) for h in shown["holidays"]] == [
        ("2027-01-01", "2027-01-03"), ("2027-02-05", "2027-02-13"), ("2027-10-01", "2027-10-07")]


def gbk(path: Path) -> Path:
    path.write_bytes(NOTICE_2027.encode("gbk"))
    return path


@pytest.mark.parametrize("make, args, said", [
    (lambda p: p.write_text(NOTICE_2027.replace("至13日", "至十三号"), encoding="utf-8"), [],
     "第 3 行 “二、春节：2月5日（农历除夕、周五）至十三号"),
    (lambda p: p.write_text(NOTICE_2027.split("\n", 1)[1], encoding="utf-8"), [], "没有找到通知标题里的年份"),
    (lambda p: p.write_text(NOTICE_2027, encoding="utf-8"), ["--year", "2028"], "与指定的 2028 年不一致"),
    (gbk, [], "不是 UTF-8 编码 (第 1 行起无法按 UTF-8 读取, 可能是 GBK)"),
    (lambda p: None, [], "找不到通知文件"),
])
def test_a_bad_notice_is_an_error_and_the_plan_is_untouched(run, plan_2027, tmp_path, make, args, said) -> None:  # type: ignore[no-untyped-def]
    notice = tmp_path / "通知.txt"
    make(notice)
    before = plan_2027.read_bytes()
    r = run("calendar", "import", str(notice), "--write", str(plan_2027), *args)
    assert r.code == 1 and r.err.startswith("错误: ") and said in r.err, r.err
    assert r.out == "" and plan_2027.read_bytes() == before


def test_a_plan_that_is_not_utf8_or_missing_is_an_error(run, plan_2027, notice_2027, tmp_path) -> None:  # type: ignore[no-untyped-def]
    plan_2027.write_bytes(before := plan_2027.read_text(encoding="utf-8").encode("gb18030"))
    r = run("calendar", "import", str(notice_2027), "--write", str(plan_2027))
    assert r.code == 1 and f"错误: 计划文件 {plan_2027} 不是 UTF-8 编码" in r.err and plan_2027.read_bytes() == before
    r = run("calendar", "import", str(notice_2027), "--write", str(tmp_path / "none.yaml"))
    assert r.code == 1 and "错误: 找不到计划文件" in r.err and not (tmp_path / "none.yaml").exists()
    assert [p.name for p in tmp_path.iterdir() if p.name.startswith(".")] == []  # no temporary file left behind


def test_a_plan_that_does_not_load_is_reported_not_edited(run, plan_2027, notice_2027) -> None:  # type: ignore[no-untyped-def]
    plan_2027.write_text(plan_2027.read_text(encoding="utf-8").replace("warn_working_days: 5", "warn_working_days: 五"),
                         encoding="utf-8")
    before = plan_2027.read_bytes()
    line = before.decode("utf-8").splitlines().index("  warn_working_days: 五") + 1
    r = run("calendar", "import", str(notice_2027), "--write", str(plan_2027))
    assert r.code == 1 and r.err.startswith("错误: 计划配置有 1 处错误:") and f"{plan_2027}:{line}:" in r.err, r.err
    assert plan_2027.read_bytes() == before


def test_show_a_year_the_package_covers(run) -> None:  # type: ignore[no-untyped-def]
    config = str(QINGSHAN)
    shown = json.loads(run("calendar", "show", "--year", "2026", "--config", config, "--json").out)
    assert shown["source"] == "package" and shown["warnings"] == []
    assert shown["holidays"][1] == {"name": "春节", "first": "2026-02-15", "last": "2026-02-23", "days": 9,
                                    "source": "chinese_calendar 包"}
    assert [w["date"] for w in shown["workdays"]] == ["2026-01-04", "2026-02-14", "2026-02-28", "2026-05-09",
                                                      "2026-09-20", "2026-10-10"]
    r = run("calendar", "show", "--year", "2026", "--config", config)
    assert r.code == 0 and r.out.startswith("2026 年节假日安排, 来源: chinese_calendar 包\n")
    assert "国庆节 │ 2026-10-01(周四) 至 2026-10-07(周三) │ 7" in r.out and "2026-02-28(周六) │ 春节" in r.out


def test_show_a_year_from_the_plans_block_and_without_one(run, plan_2027, notice_2027) -> None:  # type: ignore[no-untyped-def]
    bare = run("calendar", "show", "--year", "2027", "--config", str(plan_2027))
    assert bare.code == 0 and bare.out == "2027 年节假日安排, 来源: 未收录(按周一至周五计算)\n全年 261 个工作日; 放假 0 天, 调休上班 0 天\n"
    assert "2027 年的法定节假日与调休安排尚未收录" in bare.err
    assert run("calendar", "import", str(notice_2027), "--write", str(plan_2027)).code == 0
    r = run("calendar", "show", "--year", "2027", "--config", str(plan_2027))
    assert r.code == 0 and r.err == "" and r.out.startswith(f"2027 年节假日安排, 来源: 计划文件 calendar: 段 ({plan_2027})\n")
    shown = json.loads(run("calendar", "show", "--year", "2027", "--config", str(plan_2027), "--json").out)
    assert shown["source"] == "plan" and shown["warnings"] == []
    assert [w["date"] for w in shown["workdays"]] == ["2027-02-14", "2027-02-20", "2027-09-26", "2027-10-09"]
    assert shown["working_days"] == 261 - 12 + 4  # 12 weekday holidays off, 4 make-up weekend days on
