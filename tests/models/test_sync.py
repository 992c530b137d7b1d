from pathlib import Path

import pytest
from sqlalchemy import func
from sqlmodel import select

import models.sync as sync_module
from fuquan.errors import FuquanError
from fuquan.plans.loader import load_plan, parse_plan
from models.db import make_engine, reading, transaction
from models.queries import counts_by_table
from models.stored import find_plan
from models.sync import sync_plan
from models.tables import AssignmentRow, SyncRunRow, TaskRow, UnitRow
from tests import dbs
from tests.conftest import REAL_CONFIG, SMALL_PLAN


def dump(url: str) -> str:
    return dbs.content(url)


def do_sync(url: str, text: str = SMALL_PLAN):  # type: ignore[no-untyped-def]
    engine = make_engine(url)
    with transaction(engine) as session:
        return sync_plan(session, parse_plan(text, "t.yaml"), source_text=text)


def test_first_sync_loads_everything(db_url: str) -> None:
    report = do_sync(db_url)
    assert report.summary() == "新增计划 1, 新增单位 4, 新增单位组 1, 新增任务 3, 新增分工 8"
    with reading(make_engine(db_url)) as s:
        assert counts_by_table(s, report.plan_id) == {"units": 4, "tasks": 3, "assignments": 8}


def test_second_sync_changes_nothing(db_url: str) -> None:
    do_sync(db_url)
    before = dump(db_url)
    report = do_sync(db_url)
    assert not report.changed and report.summary() == "无变化"
    assert dump(db_url) == before


def test_edit_updates_in_place_and_keeps_progress(db_url: str) -> None:
    do_sync(db_url)
    engine = make_engine(db_url)
    with transaction(engine) as s:  # progress recorded against task 1 (unchanged by the edit)
        a = s.exec(select(AssignmentRow).join(TaskRow).where(TaskRow.no == 1)).first()
        assert a is not None
        a.status, a.note = "已完成", "已上报"
        kept_id = a.id
    edited = (SMALL_PLAN.replace("text: 签订确认书", "text: 签订赋权事项承接确认书")
              .replace("deadline: 4月底前", "deadline: 5月底前")
              .replace("  - no: 3\n    section: 一\n    text: 月报\n    deadline: 每月20日前\n    units: [区委编办]\n", ""))
    report = do_sync(db_url, edited)
    assert report.changes["updated:task"] == 1 and report.changes["retired:task"] == 1
    assert report.changes["retired:assignment"] == 1
    with reading(engine) as s:
        a = s.get(AssignmentRow, kept_id)
        assert a is not None and (a.status, a.note, a.active) == ("已完成", "已上报", True)
        t2 = s.exec(select(TaskRow).where(TaskRow.no == 2)).one()
        assert (t2.text, t2.deadline_text, str(t2.due)) == ("签订赋权事项承接确认书", "5月底前", "2023-05-31")
        t3 = s.exec(select(TaskRow).where(TaskRow.no == 3)).one()
        assert not t3.active  # retired, not deleted
        assert [t.no for t in s.exec(select(TaskRow).where(TaskRow.active).order_by(TaskRow.no))] == [1, 2]
        assert len(list(s.exec(select(SyncRunRow)))) == 2
    # putting the task back revives it with its rows
    report = do_sync(db_url)
    assert report.changes["added:task"] == 0 and report.changes["updated:task"] == 2


def test_two_plan_years_live_side_by_side(db_url: str) -> None:
    do_sync(db_url)
    do_sync(db_url, SMALL_PLAN.replace("year: 2023", "year: 2024"))
    with reading(make_engine(db_url)) as s:
        with pytest.raises(FuquanError, match="有 2 个计划符合条件: 测试区 2023、测试区 2024; 请用 --district 和 --year"):
            find_plan(s)  # never "the latest"
        with pytest.raises(FuquanError, match="有 2 个计划"):
            find_plan(s, district="测试区")
        for year in (2023, 2024):
            plan = find_plan(s, year=year)
            dues = s.exec(select(TaskRow.due).where(TaskRow.plan_id == plan.id).order_by(TaskRow.no))
            assert [str(d) for d in dues][:2] == [f"{year}-03-31", f"{year}-04-30"]
        assert len(list(s.exec(select(UnitRow)))) == 8


def test_a_failure_mid_sync_writes_nothing(db_url: str, monkeypatch: pytest.MonkeyPatch) -> None:
    do_sync(db_url)
    before = dump(db_url)

    def boom(*_a, **_k):  # type: ignore[no-untyped-def]
        raise RuntimeError("disk full")

    monkeypatch.setattr(sync_module, "_sync_tasks", boom)
    with pytest.raises(RuntimeError):
        do_sync(db_url, SMALL_PLAN.replace("区司法局", "区法院"))  # units would change before the failure
    assert dump(db_url) == before


def test_real_plan_expands_groups_into_assignments(db_url: str) -> None:
    engine = make_engine(db_url)
    with transaction(engine) as s:
        report = sync_plan(s, load_plan(REAL_CONFIG))
    with reading(engine) as s:
        n = counts_by_table(s, report.plan_id)
        per_task = dict(s.exec(select(TaskRow.no, func.count()).join(AssignmentRow).group_by(TaskRow.no)).all())
        lead = s.exec(select(UnitRow.name).join(AssignmentRow).join(TaskRow)
                      .where(TaskRow.no == 2, AssignmentRow.role == "lead")).all()
    assert n["tasks"] == 15 and n["units"] == 20 and n["assignments"] == 108
    # task 2: 区委编办 + 区司法局 + 11 departments + 5 towns
    assert per_task[2] == 18 and lead == ["区委编办"]
    assert per_task[9] == 6 and per_task[14] == 2


def test_unreachable_database_is_a_clear_error(tmp_path: Path) -> None:
    from fuquan.errors import StorageError

    with pytest.raises(StorageError, match="无法打开数据库"):
        make_engine(f"sqlite:///{tmp_path}/missing-dir/x.db")


def test_an_unreachable_postgresql_is_a_clear_error_without_the_password() -> None:
    from fuquan.errors import StorageError

    with pytest.raises(StorageError, match="无法打开数据库") as e:
        make_engine("postgresql+psycopg://fuquan:s3cret-pw@127.0.0.1:1/fuquan")
    assert "s3cret-pw" not in str(e.value) and "127.0.0.1:1" in str(e.value)


@pytest.mark.parametrize(("url", "said"), [
    ("postgresql://fuquan:pw-x1@127.0.0.1:1/x", "无法打开数据库: postgresql+psycopg://fuquan:***@127.0.0.1:1/x"),
    ("postgres://fuquan:pw-x1@127.0.0.1:1/x", "无法打开数据库: postgresql+psycopg://fuquan:***@127.0.0.1:1/x"),
    ("mysql://x:pw-x1@127.0.0.1/x", "不支持的数据库 “mysql”"),
    ("not a url", "数据库地址 (FUQUAN_DATABASE_URL) 格式不对"),
])
def test_database_urls_fuquan_cannot_use_say_so_without_the_password(url: str, said: str) -> None:
    from fuquan.errors import StorageError

    with pytest.raises(StorageError) as e:
        make_engine(url)
    assert said in str(e.value) and "pw-x1" not in str(e.value)
