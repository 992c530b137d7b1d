"""`fuquan template KIND`: sheets pre-filled with the rows a unit fills in, drop-downs of the plan's names and forms,
the plan named in a title row — and what a unit sends back, filled in and nothing else edited, imports as it is;
a sheet of another plan is refused by name. (The importer's side: flows/imports.py with fuquan.words.sheets.read_title.)"""

from __future__ import annotations

from pathlib import Path

import pytest
from openpyxl import load_workbook

from fuquan.words.text import FORMULA_START
from models.items import (
    ExamSittingRow,
    LetterRow,
    MonthlyReportRow,
    TrainingDoneRow,
    TrainingPlanRow,
    TrainingSessionRow,
)
from tests.cli.test_import import count
from tests.conftest import REAL_CONFIG, ROOT

QINGSHAN = ROOT / "tests" / "plans" / "qingshan-2024.yaml"
W = ("--district", "芜湖市湾沚区", "--year", "2023", "--today", "2023-12-20")
# What a unit types into the first empty columns of a row, by kind (dates as Excel keeps them after typing).
FILL = {"letters": ["2023-04-20", "湾政〔2023〕1号"], "plans": ["2023-04-05"], "sessions": ["2023-04-10", "集中培训", "湾沚镇", 30],
        "training": ["2023-04-21"], "exams": ["2023-04-26", 20, 19, 18], "reports": ["2023-05-16", 12, 3]}
ROWS = {"letters": LetterRow, "plans": TrainingPlanRow, "sessions": TrainingSessionRow, "training": TrainingDoneRow,
        "exams": ExamSittingRow, "reports": MonthlyReportRow}


def test_a_letters_sheet_is_prefilled_with_its_cells_and_lists(run, tmp_path) -> None:  # type: ignore[no-untyped-def]
    out = tmp_path / "确认书.xlsx"
    r = run("template", "letters", "--config", str(QINGSHAN), "--out", str(out))
    assert r.code == 0, r.err
    assert "某市青山县 2024 年度 承接确认书登记表 (任务 2), 预填 94 行" in r.out  # 6 × 16, less 农业农村局 × 2 街道
    ws = load_workbook(out).active
    rows = list(ws.iter_rows(values_only=True))
    assert rows[0][0].startswith("某市青山县 2024 年度 承接确认书登记表 (任务 2)") and str(ws.merged_cells) == "A1:E1"
    assert rows[1] == ("部门", "乡镇（街道）", "签订日期", "文号", "签订人") and ws.freeze_panes == "A3"
    assert rows[2][:3] == ("县自然资源局", "青山镇", None) and ("县农业农村局", "城关街道") not in {r[:2] for r in rows}
    lists = {str(dv.sqref): dv.formula1 for dv in ws.data_validations.dataValidation}
    assert lists["A3:A296"] == '"县自然资源局,县市场监督管理局,县生态环境分局,县应急管理局,县农业农村局,县住房和城乡建设局"'
    assert lists["B3:B296"].startswith('"青山镇,龙潭镇,') and lists["B3:B296"].endswith(',城关街道,青峰街道"')
    assert ws["C3"].number_format == "yyyy-mm-dd"
    assert not [v for row in rows for v in row if isinstance(v, str) and v.startswith(FORMULA_START)]


def test_a_monthly_sheet_is_town_by_month_and_one_month_on_request(run, tmp_path) -> None:  # type: ignore[no-untyped-def]
    out = tmp_path / "月报.xlsx"
    assert run("template", "reports", "--config", str(QINGSHAN), "--out", str(out)).code == 0
    rows = [r for r in load_workbook(out).active.iter_rows(min_row=3, values_only=True) if r[0]]
    assert len(rows) == 16 * 10 and rows[0][:2] == ("青山镇", "2024-03") and rows[-1][:2] == ("青峰街道", "2024-12")
    r = run("template", "reports", "--config", str(QINGSHAN), "--out", str(out), "--month", "2024-05")
    assert r.code == 0 and "预填 16 行" in r.out
    r = run("template", "reports", "--config", str(QINGSHAN), "--out", str(out), "--month", "2023-05")
    assert r.code == 1 and "月份 2023-05 不是任务 15 要报送的月份; 可选: 2024-03、" in r.err


@pytest.mark.parametrize("kind", list(FILL))
@pytest.mark.parametrize("suffix", [".xlsx", ".csv"])
def test_a_filled_in_template_round_trips(run, tmp_path, db_url, kind, suffix) -> None:  # type: ignore[no-untyped-def]
    assert run("sync", "--config", str(REAL_CONFIG)).code == 0
    out = tmp_path / f"{kind}{suffix}"
    assert run("template", kind, "--config", str(REAL_CONFIG), "--out", str(out)).code == 0
    filled = fill(out, FILL[kind], rows=(0, 2))
    r = run("import", str(out), *W)
    assert r.code == 0, r.err
    assert r.out.strip().endswith(" 2 行") and len(filled) == 2  # the rows nobody filled in are not rows
    assert count(db_url, ROWS[kind]) == 2
    again = run("import", str(out), *W)  # the same values again change nothing
    assert again.code == 0 and count(db_url, ROWS[kind]) == 2, again.err


def fill(path: Path, values: list[object], rows: tuple[int, ...]) -> list[list[object]]:
    """Type `values` into the first empty cells of the given pre-filled rows, as a unit would; nothing else."""
    done = []
    if path.suffix == ".csv":
        lines = path.read_text(encoding="utf-8-sig").splitlines()
        for n in rows:
            cells = lines[2 + n].split(",")
            at = next(i for i, c in enumerate(cells) if not c)
            cells[at:at + len(values)] = [str(v) for v in values]
            lines[2 + n] = ",".join(cells)
            done.append(cells)
        path.write_text("\n".join(lines) + "\n", encoding="utf-8-sig")
        return done
    wb = load_workbook(path)
    ws = wb.active
    for n in rows:
        row = ws[3 + n]
        at = next(i for i, c in enumerate(row) if c.value is None)
        for i, v in enumerate(values):
            row[at + i].value = v
        done.append([c.value for c in row])
    wb.save(path)
    return done


def test_a_sheet_of_another_plan_is_refused_by_name(run, tmp_path, db_url) -> None:  # type: ignore[no-untyped-def]
    assert run("sync", "--config", str(REAL_CONFIG)).code == 0
    assert run("sync", "--config", str(QINGSHAN)).code == 0
    out = tmp_path / "qs.xlsx"
    assert run("template", "exams", "--config", str(QINGSHAN), "--out", str(out)).code == 0
    fill(out, ["2024-04-26", 20, 19, 18], rows=(0,))
    r = run("import", str(out), *W)
    assert r.code == 1 and "此表是 某市青山县 2024 年度的考试结果登记表, 不能导入 芜湖市湾沚区 2023 年度的计划" in r.err
    assert "请用 --district 某市青山县 --year 2024 导入到它的计划" in r.err
    ok = run("import", str(out), "--district", "某市青山县", "--year", "2024", "--today", "2024-06-30")
    assert ok.code == 0, ok.err


def test_a_missing_column_is_named_at_the_header_row_under_the_title(run, tmp_path, db_url) -> None:  # type: ignore[no-untyped-def]
    assert run("sync", "--config", str(REAL_CONFIG)).code == 0
    out = tmp_path / "letters.xlsx"
    assert run("template", "letters", "--config", str(REAL_CONFIG), "--out", str(out)).code == 0
    wb = load_workbook(out)
    ws = wb.active
    dated = next(c for c in ws[2] if c.value == "签订日期")  # the header is row 2, under the plan's title row
    dated.value = None
    wb.save(out)
    r = run("import", str(out), *W)
    assert r.code == 1 and "第 2 行 “签订日期”列: 缺少此列" in r.err, r.err
