"""Group names work wherever a unit or town is asked for (training, exams, `task set`, imports), expanded to
their members, the confirmation saying how many records were written."""

import json

import pytest

from tests import dbs
from tests.conftest import REAL_CONFIG

T = ("--today", "2023-06-01")
TOWNS = ["湾沚镇", "六郎镇", "陶辛镇", "红杨镇", "花桥镇"]


@pytest.fixture
def loaded(run):  # type: ignore[no-untyped-def]
    assert run("sync", "--config", str(REAL_CONFIG)).code == 0
    return run


def rows(run, task: int) -> list[dict]:  # type: ignore[no-untyped-def, type-arg]
    return json.loads(run("status", *T, "--task", str(task), "--json").out)["rows"]  # type: ignore[no-any-return]


def test_task_set_with_a_group_sets_every_member(loaded) -> None:  # type: ignore[no-untyped-def]
    r = loaded("task", "set", "1", "各镇", "已完成", "--on", "2023-05-10", *T)
    assert r.code == 0 and r.out.strip().endswith("(共 5 个单位)"), r.out
    done = {x["unit"]: x["colour"] for x in rows(loaded, 1)}
    assert all(done[t] == "逾期完成" for t in TOWNS) and done["区委编办"] == "红"


def test_training_and_exams_take_groups(loaded, db_url) -> None:  # type: ignore[no-untyped-def]
    r = loaded("training", "complete", "区级执法单位", "湾沚镇", "--on", "2023-05-10", *T)
    assert r.code == 0 and "(共 11 条)" in r.out
    assert dbs.rows(db_url, "SELECT COUNT(*) FROM training_done") == [(11,)]
    s = loaded("training", "session", "区水务局", "--on", "2023-05-11", "--form", "集中培训", "--towns", "各镇",
               "--attendees", "40", *T)
    assert s.code == 0
    assert dbs.rows(db_url, "SELECT COUNT(*) FROM training_session") == [(1,)]
    towns = dbs.rows(db_url, "SELECT towns FROM training_session")[0][0]
    assert (json.loads(towns) if isinstance(towns, str) else towns) == TOWNS
    e = loaded("exam", "certify", "各镇", "--on", "2023-05-12", *T)
    assert e.code == 0 and "(共 5 条)" in e.out


def test_an_imported_row_may_name_a_group(loaded, db_url, tmp_path) -> None:  # type: ignore[no-untyped-def]
    sheet = tmp_path / "岗前培训完成.csv"
    sheet.write_text("部门,镇,完成日期\n区级执法单位,六郎镇,2023-05-20\n区水务局,各镇,2023-05-20\n", encoding="utf-8")
    r = loaded("import", str(sheet), *T)
    assert r.code == 0 and r.out.strip().endswith("岗前培训完成 16 行"), r.out  # 11 departments + 5 towns
    assert dbs.rows(db_url, "SELECT COUNT(*) FROM training_done") == [(15,)]  # 区水务局 × 六郎镇 is one record


def test_a_re_import_that_would_change_records_lists_them_and_needs_replace(loaded, db_url, tmp_path) -> None:  # type: ignore[no-untyped-def]
    sheet = tmp_path / "月报.csv"
    sheet.write_text("镇,月份,报送日期\n湾沚镇,2023-05,2023-05-25\n", encoding="utf-8")
    assert loaded("import", str(sheet), *T).code == 0
    sheet.write_text("镇,月份,报送日期\n湾沚镇,2023-05,2023-05-15\n", encoding="utf-8")  # the late 月报 made on time
    before = dbs.fingerprint(db_url)
    r = loaded("import", str(sheet), *T)
    assert r.code == 1 and "将改变已有记录 任务14/湾沚镇/2023-05: 报送日期 2023-05-25 → 2023-05-15" in r.err
    assert dbs.fingerprint(db_url) == before
    assert loaded("import", str(sheet), *T, "--replace").code == 0
    assert str(dbs.rows(db_url, "SELECT submitted_on FROM monthly_report")[0][0]) == "2023-05-15"


def test_task_set_on_a_share_backed_by_items_says_what_to_record(loaded, db_url) -> None:  # type: ignore[no-untyped-def]
    before = dbs.fingerprint(db_url)
    r = loaded("task", "set", "2", "湾沚镇", "已完成", "--on", "2023-05-10", *T)
    assert r.code == 1 and "按承接确认书 (fuquan letter sign)自动判断" in r.err
    assert dbs.fingerprint(db_url) == before
    early = ("--today", "2023-04-25")  # before the share's due date (2023-04-30): a request is asked in time
    ok = loaded("task", "set", "2", "湾沚镇", "申请延期", "--new-due", "2023-06-30", "--reason", "机构调整",
                "--approved-by", "专班", *early)
    assert ok.code == 0, ok.err  # an extension still applies to such a share
    row = next(r for r in json.loads(loaded("status", *early, "--task", "2", "--json").out)["rows"] if r["unit"] == "湾沚镇")
    assert row["due"] == "2023-06-30"


def test_a_correction_says_what_it_replaced_and_figures_are_counts(loaded) -> None:  # type: ignore[no-untyped-def]
    assert loaded("report", "submit", "湾沚镇", "--month", "2023-05", "--on", "2023-05-25", *T).code == 0
    r = loaded("report", "submit", "湾沚镇", "--month", "2023-05", "--on", "2023-05-15", *T)
    assert r.code == 0 and "已修改 任务14/湾沚镇/2023-05 报送日期 2023-05-25 → 2023-05-15" in r.out
    half = loaded("report", "submit", "六郎镇", "--month", "2023-05", "--on", "2023-05-15", "--figure", "审批办件量=2.5", *T)
    assert half.code == 1 and "月报指标 审批办件量 是件数/人数, 应为整数, 实为 “2.5”" in half.err
