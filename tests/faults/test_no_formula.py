"""No formula leaves fuquan: with formula-looking text recorded through every free-text field (a 文号, a note, an
evidence link, a task's wording), every workbook fuquan writes — the monthly, quarterly and annual reports and every
blank template, for both plans — is opened with openpyxl: no cell is a formula, and every text cell a spreadsheet
would read as one (= + - @, tab, CR) is marked as text (quotePrefix); CSV fields get a leading apostrophe."""

from __future__ import annotations

from pathlib import Path

import pytest
from openpyxl import load_workbook

from fuquan.words.text import FORMULA_START
from tests import dbs
from tests.conftest import ROOT
from tests.faults import FIGURES

PLANS = {"wanzhi": (ROOT / "tests" / "plans" / "wanzhi-2023.yaml", "2023", "区委编办", "区水务局", "花桥镇"),
         "qingshan": (ROOT / "tests" / "plans" / "qingshan-2024.yaml", "2024", "县委编办", "县农业农村局", "青山镇")}
EVIL = ["=cmd|' /C calc'!A0", "=HYPERLINK(\"http://evil\",\"点这里\")", "+1+1", "-2+3", "@SUM(A1:A9)"]
SEEN = {"workbooks": 0, "cells": 0, "marked": 0}


@pytest.fixture(scope="module", autouse=True)
def figures():  # type: ignore[no-untyped-def]
    yield
    FIGURES.append(f"no formula: {SEEN['workbooks']} workbooks, {SEEN['cells']:,} cells opened, "
                   f"{SEEN['marked']} formula-looking texts stored as text")


@pytest.fixture(params=list(PLANS), scope="module")
def made(request, tmp_path_factory):  # type: ignore[no-untyped-def]
    """Every workbook and CSV fuquan writes for one plan, after formula-looking text went in everywhere it can."""

    path, year, lead, dept, town = PLANS[request.param]
    home = tmp_path_factory.mktemp(request.param)
    text = path.read_text(encoding="utf-8")
    first_text = next(line for line in text.splitlines() if line.startswith("    text: "))
    plan = home / "plan.yaml"
    plan.write_text(text.replace(first_text, f'    text: "{EVIL[0]}"', 1), encoding="utf-8")
    mp = pytest.MonkeyPatch()
    mp.setenv("FUQUAN_DATABASE_URL", dbs.fresh_url(home, "f"))
    mp.setenv("FUQUAN_NOTIFY_FILE", str(home / "n.md"))
    run = _runner()
    today = f"{year}-06-28"
    assert run("sync", "--config", str(plan)).code == 0
    assert run("letter", "sign", dept, town, "--on", f"{year}-04-10", "--doc-no", EVIL[0], f"--signed-by={EVIL[3]}",
               "--today", today).code == 0
    assert run("task", "set", "4", lead, "进行中", "--note", EVIL[1], "--evidence", EVIL[2], "--today", today).code == 0
    files: list[Path] = []
    for kind, period in (("monthly", f"{year}-05"), ("quarterly", f"{year}Q2"), ("annual", year)):
        out = home / kind
        r = run("report", kind, "--period", period, "--today", f"{year}-12-31" if kind == "annual" else today,
                "--out", str(out))
        assert r.code == 0, r.err
        files += sorted(out.rglob("*.xlsx"))
    for kind in ("letters", "plans", "sessions", "training", "exams", "reports"):
        for suffix in (".xlsx", ".csv"):
            out = home / f"{kind}{suffix}"
            assert run("template", kind, "--config", str(plan), "--out", str(out)).code == 0
            files.append(out)
    yield files
    mp.undo()


def _runner():  # type: ignore[no-untyped-def]
    import io
    from contextlib import redirect_stderr, redirect_stdout

    from cli.main import main
    from tests.conftest import Result

    def invoke(*args: str) -> Result:
        out, err = io.StringIO(), io.StringIO()
        with redirect_stdout(out), redirect_stderr(err):
            try:
                code = main(list(args))
            except SystemExit as e:
                code = int(e.code or 0)
        return Result(code, out.getvalue(), err.getvalue())

    return invoke


def test_no_workbook_holds_a_formula_or_text_read_as_one(made: list[Path]) -> None:
    workbooks = [f for f in made if f.suffix == ".xlsx"]
    assert len(workbooks) >= 9  # three reports and six templates
    marked = 0
    for f in workbooks:
        wb = load_workbook(f)
        for ws in wb.worksheets:
            for row in ws.iter_rows():
                for cell in row:
                    SEEN["cells"] += 1
                    assert cell.data_type != "f", (f.name, ws.title, cell.coordinate, cell.value)
                    if isinstance(cell.value, str) and cell.value.startswith(FORMULA_START):
                        assert cell.quotePrefix, (f.name, ws.title, cell.coordinate, cell.value)
                        marked += 1
        SEEN["workbooks"] += 1
    assert marked >= 2  # the evil task text and 文号 did reach the reports: the check above looked at them
    SEEN["marked"] += marked


def test_csv_fields_are_made_safe() -> None:
    # A CSV template holds only the plan's names (which the schema refuses when formula-like: tests/faults/
    # test_hostile.py), so the writer's own rule is tested here directly.
    from fuquan.words.text import spreadsheet_safe

    assert [spreadsheet_safe(v) for v in (*EVIL, "\tx", "区水务局", 12, -3)] == \
        [f"'{v}" for v in EVIL] + ["'\tx", "区水务局", 12, -3]
