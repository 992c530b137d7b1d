"""Plan-file and sheet checks in the second county's words: a deadline left a year behind is refused by `sync` as by
`plan check`, with its place, and nothing is written; an import error names the town column as the plan does."""

from tests import dbs
from tests.conftest import ROOT


def test_sync_refuses_a_deadline_left_a_year_behind(run, db_url, tmp_path) -> None:  # type: ignore[no-untyped-def]
    text = (ROOT / "tests" / "plans" / "qingshan-2024.yaml").read_text(encoding="utf-8")
    stale = tmp_path / "qingshan-2025.yaml"
    stale.write_text(text.replace("  year: 2024", "  year: 2025").replace("issued: 2024-03-08", "issued: 2025-03-08"),
                     encoding="utf-8")
    line = stale.read_text(encoding="utf-8").splitlines().index("    deadline: 2024年10月底前") + 1
    before = dbs.fingerprint(db_url)
    for cmd in (("plan", "check"), ("sync",)):
        r = run(*cmd, "--config", str(stale))
        assert r.code == 1 and f"{stale}:{line}:15: 任务 14: 完成时限 “2024年10月底前” 的截止日期 2024-10-31 在计划年度 " \
               "2025 年之前" in r.err, (cmd, r.err)
    assert dbs.fingerprint(db_url) == before


def test_an_import_error_names_the_town_column_in_the_plans_words(run, tmp_path) -> None:  # type: ignore[no-untyped-def]
    assert run("sync", "--config", str(ROOT / "tests" / "plans" / "qingshan-2024.yaml")).code == 0
    sheet = tmp_path / "exams.csv"
    sheet.write_text("乡镇（街道）,考试日期,应考人数,实考人数,通过人数\n,2024-06-20,10,9,8\n", encoding="utf-8")
    r = run("import", str(sheet), "--today", "2024-06-28")
    assert r.code == 1 and "第 2 行 “乡镇（街道）”列: 不能为空" in r.err, r.err
