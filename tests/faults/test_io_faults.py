"""Faults around the database file, the output folders and the values at the door: each is one clear Chinese
error (or, for a channel, one failed message) and changes nothing — no traceback, no half-written file."""

import errno
import os
from pathlib import Path

import pytest

import reports.files
from tests import dbs
from tests.conftest import REAL_CONFIG
from tests.faults import FIGURES

T = ("--today", "2023-06-01")


@pytest.fixture
def loaded(run):  # type: ignore[no-untyped-def]
    assert run("sync", "--config", str(REAL_CONFIG)).code == 0
    return run


@pytest.mark.skipif(dbs.BACKEND != "sqlite", reason="a damaged file is an SQLite matter")
def test_a_damaged_database_file_says_which_file_and_how_to_recover(run, tmp_path, monkeypatch) -> None:  # type: ignore[no-untyped-def]
    bad = tmp_path / "fuquan.db"
    bad.write_bytes(b"not a database, a spreadsheet saved over it\n" * 200)
    monkeypatch.setenv("FUQUAN_DATABASE_URL", f"sqlite:///{bad}")
    before = bad.read_bytes()
    for args in (("status", *T), ("sync", "--config", str(REAL_CONFIG)), ("remind", "--dry-run", *T)):
        r = run(*args)
        assert r.code == 1 and "这个文件已损坏或不是 SQLite 数据库" in r.err and str(bad) in r.err and ".bak" in r.err, args
    assert bad.read_bytes() == before


def test_a_data_folder_that_is_a_file_is_a_clear_error(run, tmp_path, monkeypatch) -> None:  # type: ignore[no-untyped-def]
    (tmp_path / "data").write_text("oops", encoding="utf-8")
    monkeypatch.setenv("FUQUAN_DATA_DIR", str(tmp_path / "data"))
    r = run("status", *T)
    assert r.code == 1 and r.err.startswith(f"错误: 数据目录 {tmp_path / 'data'} 无法使用")


def test_report_outputs_whole_or_not_at_all(loaded, tmp_path, monkeypatch) -> None:  # type: ignore[no-untyped-def]
    a_file = tmp_path / "out.txt"
    a_file.write_text("x", encoding="utf-8")
    r = loaded("report", "annual", *T, "--out", str(a_file))
    assert r.code == 1 and f"无法使用输出目录 {a_file}" in r.err and a_file.read_text(encoding="utf-8") == "x"
    deep = tmp_path / "new" / "folder"
    assert loaded("report", "annual", *T, "--out", str(deep)).code == 0 and any(deep.iterdir())
    before = {p.name: p.read_bytes() for p in deep.iterdir()}

    def full(src: object, dst: object) -> None:
        raise OSError(errno.ENOSPC, os.strerror(errno.ENOSPC))

    monkeypatch.setattr(reports.files.os, "replace", full)  # the disk fills up while writing
    r = loaded("report", "annual", *T, "--out", str(deep))
    assert r.code == 1 and "磁盘已满" in r.err and "Traceback" not in r.err
    assert {p.name: p.read_bytes() for p in deep.iterdir()} == before  # the old files whole, no .tmp left
    t = loaded("template", "reports", "--config", str(REAL_CONFIG), "--out", str(tmp_path / "t.xlsx"))
    assert t.code == 1 and "磁盘已满" in t.err and not list(tmp_path.glob("*.tmp*"))
    FIGURES.append("io: damaged database, data folder a file, --out a file, a full disk — each one clear error")


@pytest.mark.parametrize("args, said", [
    (("task", "set", "4", "区委编办", "进行中", "--note", "a\x00b"), "参数 --note 含有控制字符 U+0000"),
    (("task", "set", "4", "区委编办", "进行中", "--evidence", "x" * 5000), "参数 --evidence 过长 (5000 字符"),
    (("task", "set", "4", "区委编办", "进行中", "--operator", "\x1b[31m红"), "参数 --operator 含有控制字符"),
    (("task", "set", "4", "区委编办", "进行中", "--note", "\udcb2\udce2"), "参数 --note 含有无法识别的字符"),
    (("exam", "result", "湾沚镇", "--on", "2023-05-01", "--candidates", "3000000000", "--sat", "1", "--passed", "1"),
     "应考人数应在 0 到 1000000 之间"),
    (("training", "session", "区水务局", "--on", "2023-05-01", "--form", "集中培训", "--towns", "湾沚镇",
      "--attendees", str(2 ** 63)), "参训人次应在 0 到 1000000 之间"),
])
def test_nul_control_characters_and_huge_values_are_refused_at_the_door(loaded, db_url, args, said) -> None:  # type: ignore[no-untyped-def]
    before = dbs.fingerprint(db_url)
    r = loaded(*args, *T)
    assert r.code == 2 and said in r.err and "Traceback" not in r.err  # refused before anything is opened
    assert dbs.fingerprint(db_url) == before


def test_an_unwritable_notify_file_leaves_the_reminders_pending(loaded, tmp_path, monkeypatch) -> None:  # type: ignore[no-untyped-def]
    blocked = tmp_path / "blocked"
    blocked.write_text("a file where a folder should be", encoding="utf-8")
    monkeypatch.delenv("SLACK_BOT_TOKEN", raising=False)
    monkeypatch.setenv("FUQUAN_NOTIFY_FILE", str(blocked / "notifications.md"))
    r = loaded("remind", "--today", "2023-04-28", "--now", "2023-04-28T09:05", "--json")
    assert r.code == 0, r.err
    import json

    outcomes = json.loads(r.out)["outcomes"]
    assert outcomes and {o["result"] for o in outcomes} == {"retry"} and {o["code"] for o in outcomes} == {"notify_file"}
    monkeypatch.setenv("FUQUAN_NOTIFY_FILE", str(tmp_path / "notifications.md"))
    again = json.loads(loaded("remind", "--today", "2023-04-28", "--now", "2023-04-28T10:05", "--json").out)
    assert {o["result"] for o in again["outcomes"]} == {"sent"} and len(again["outcomes"]) == len(outcomes)
    assert Path(tmp_path / "notifications.md").read_text(encoding="utf-8").count("待办提醒 (2023-04-28)") == 19
