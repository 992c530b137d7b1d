from datetime import date, timedelta
from pathlib import Path

import pytest
from openpyxl import Workbook, load_workbook
from sqlmodel import Session, create_engine, func, select

from fuquan.plans.loader import load_plan
from models.items import AuditRow, ExamSittingRow, LetterRow, MonthlyReportRow, TrainingSessionRow
from tests.conftest import REAL_CONFIG

T = ("--today", "2023-12-31")
TOWNS = ["湾沚镇", "六郎镇", "陶辛镇", "红杨镇", "花桥镇"]


@pytest.fixture
def loaded(run):  # type: ignore[no-untyped-def]
    assert run("sync", "--config", str(REAL_CONFIG)).code == 0
    return run


def count(db_url: str, model) -> int:  # type: ignore[no-untyped-def]
    with Session(create_engine(db_url)) as s:
        return s.exec(select(func.count()).select_from(model)).one()


def sessions_csv(path: Path, bad_line: int | None = None) -> Path:
    """1,000 training sessions of 2023, each its own (department, day, towns, attendees)."""
    depts = load_plan(REAL_CONFIG).tracked("training").track.training[0]  # type: ignore[index]
    lines = ["部门,培训日期,培训形式,参训镇,参训人次"]
    for i in range(1000):
        day = "2023-02-30" if i + 2 == bad_line else date(2023, 1, 1) + timedelta(days=i % 360)
        lines.append(f"{depts[i % len(depts)]},{day},集中培训,{TOWNS[i % 5]},{i + 1}")
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")
    return path


def test_one_bad_row_among_1000_writes_nothing_and_is_named(loaded, tmp_path, db_url) -> None:  # type: ignore[no-untyped-def]
    path = sessions_csv(tmp_path / "培训场次.csv", bad_line=618)
    r = loaded("import", str(path), *T)
    assert r.code == 1
    assert r.err.splitlines() == [f"错误: {path}: 1 处错误, 未导入任何数据:",
                                  "培训场次.csv 第 618 行 “培训日期”列: 日期应写作 YYYY-MM-DD, 实为 “2023-02-30”"]
    assert count(db_url, TrainingSessionRow) == 0 and count(db_url, AuditRow) == 0


def test_a_clean_1000_row_file_writes_all(loaded, tmp_path, db_url) -> None:  # type: ignore[no-untyped-def]
    r = loaded("import", str(sessions_csv(tmp_path / "培训场次.csv")), *T, "--operator", "统计员")
    assert r.code == 0, r.err
    assert r.out.strip() == "芜湖市湾沚区 2023 年度: 已导入 培训场次.csv: 培训场次 1000 行"
    assert count(db_url, TrainingSessionRow) == 1000
    with Session(create_engine(db_url)) as s:
        row = s.exec(select(TrainingSessionRow).where(TrainingSessionRow.attendees == 1)).first()
        assert row is not None and row.towns == ["湾沚镇"] and row.held_on == date(2023, 1, 1)
        assert {a.source for a in s.exec(select(AuditRow))} == {"import:培训场次.csv"}


def test_a_month_outside_the_plan_year_is_refused(loaded, tmp_path, db_url) -> None:  # type: ignore[no-untyped-def]
    path = tmp_path / "月报.csv"
    path.write_text("镇,月份,报送日期\n湾沚镇,2023-05,2023-05-19\n湾沚镇,2024-01,2023-12-20\n花桥镇,2023-06,1999-06-18\n",
                    encoding="utf-8")
    r = loaded("import", str(path), *T)
    assert r.code == 1 and "第 3 行: 月份 2024-01 不在计划年度 2023 内" in r.err
    assert "第 4 行: 报送日期 1999-06-18 早于计划年度 2023 年 (应不早于 2022 年), 请检查是否输错" in r.err
    assert count(db_url, MonthlyReportRow) == 0


def test_business_rule_violations_are_listed_with_the_row(loaded, tmp_path, db_url) -> None:  # type: ignore[no-untyped-def]
    path = tmp_path / "exams.csv"
    path.write_text("镇,考试日期,应考人数,实考人数,通过人数\n湾沚镇,2023-04-26,20,19,18\n"
                    "六郎镇,2023-04-26,20,19,25\n湾址镇,2023-04-26,1,1,1\n陶辛镇,2023-04-26,x,1,1\n", encoding="utf-8")
    r = loaded("import", str(path), *T)
    assert r.code == 1
    assert r.err.splitlines()[1:] == [
        "exams.csv 第 3 行: 通过人数 25 大于实考人数 19",
        "exams.csv 第 4 行 “镇”列: 未知镇 “湾址镇”; 已有镇: 湾沚镇、六郎镇、陶辛镇、红杨镇、花桥镇",
        "exams.csv 第 5 行 “应考人数”列: 应为非负整数, 实为 “x”",
    ]
    assert count(db_url, ExamSittingRow) == 0


def test_excel_workbook_with_several_sheets(loaded, tmp_path, db_url) -> None:  # type: ignore[no-untyped-def]
    wb = Workbook()
    ws = wb.active
    ws.title = "承接确认书"
    ws.append(["部门", "镇", "签订日期", "文号", "签订人"])
    for d in ("区水务局", "区城市管理局"):
        ws.append([d, "湾沚镇", "2023-04-20", "湾编〔2023〕1号", "王五"])
    exams = wb.create_sheet("Sheet2")  # recognised by its headers
    exams.append(["镇", "考试日期", "应考人数", "实考人数", "通过人数"])
    exams.append(["花桥镇", "2023-04-26", 12, 12, 11])
    wb.save(tmp_path / "进度.xlsx")
    r = loaded("import", str(tmp_path / "进度.xlsx"), *T)
    assert r.code == 0, r.err
    assert r.out.strip() == "芜湖市湾沚区 2023 年度: 已导入 进度.xlsx: 承接确认书 2 行, 考试结果 1 行"
    assert count(db_url, LetterRow) == 2 and count(db_url, ExamSittingRow) == 1


def test_gbk_csv_from_excel_on_windows(loaded, tmp_path, db_url) -> None:  # type: ignore[no-untyped-def]
    path = tmp_path / "letters.csv"
    path.write_bytes("部门,镇,签订日期\n区水务局,红杨镇,2023年4月21日\n".encode("gb18030"))
    assert loaded("import", str(path), *T).code == 0
    assert count(db_url, LetterRow) == 1


def test_unknown_sheet_and_missing_column(loaded, tmp_path) -> None:  # type: ignore[no-untyped-def]
    path = tmp_path / "x.csv"
    path.write_text("名字,日期\n甲,2023-01-01\n", encoding="utf-8")
    r = loaded("import", str(path), *T)
    assert r.code == 1 and "x.csv 第 1 行: 无法识别表格类型" in r.err
    r = loaded("import", str(path), *T, "--kind", "letters")
    assert r.code == 1 and "x.csv 第 1 行 “部门”列: 缺少此列" in r.err


def test_templates_have_the_right_headers(run, tmp_path) -> None:  # type: ignore[no-untyped-def]
    out = tmp_path / "月报.xlsx"
    r = run("template", "reports", "--config", str(REAL_CONFIG), "--out", str(out))
    assert r.code == 0
    ws = load_workbook(out).active  # row 1: the plan's title (tests/cli/test_plan_import_templates.py)
    assert [c.value for c in ws[2]] == ["镇", "月份", "报送日期", "审批办件量", "执法检查次数", "执法案件数",
                                        "复议诉讼数", "培训场次", "培训人次", "持证人数"]
    assert ws.title == "月报" and ws.freeze_panes == "A3"
    csv_out = tmp_path / "letters.csv"
    assert run("template", "letters", "--config", str(REAL_CONFIG), "--out", str(csv_out)).code == 0
    assert csv_out.read_text(encoding="utf-8-sig").splitlines()[1] == "部门,镇,签订日期,文号,签订人"
