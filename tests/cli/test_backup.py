"""`fuquan backup` and `fuquan restore`: a county's tracker (progress, a unit's 反馈 with a PDF, a personal link) backed
up and restored into a fresh database and data folder reads exactly as before, its evidence byte for byte and its old
link still opening; a target holding work is refused without --force; a tampered or damaged archive is refused with
nothing written. On SQLite, and on PostgreSQL under `make test`; time injected."""

from __future__ import annotations

import io
import json
import stat
import tarfile
from datetime import UTC, datetime
from hashlib import sha256
from pathlib import Path

import pytest
from starlette.testclient import TestClient

from fuquan.answers.uploads import Upload
from fuquan.tracking.actor import Actor
from models.migrate import HEAD
from tests import dbs
from tests.conftest import ROOT
from usecases import answers, unit_links
from usecases.backup import backup, database, pg_command
from usecases.commands import GiveFeedback
from usecases.context import open_context
from usecases.settings import Settings
from web.app import make_app

QINGSHAN = ROOT / "tests" / "plans" / "qingshan-2024.yaml"
NOW = datetime(2024, 4, 10, 2, 0, tzinfo=UTC)
TODAY = "2024-04-10"
SECRET = "backup-test-link-secret-0123456789abcdef"
PDF = Upload("验收单.pdf", b"%PDF-1.4\n1 0 obj << /Type /Catalog >> endobj\n%%EOF\n")
BLOB = f"evidence/{sha256(PDF.data).hexdigest()[:2]}/{sha256(PDF.data).hexdigest()}"


@pytest.fixture
def tracker(run, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> str:  # type: ignore[no-untyped-def]
    """The 县 plan synced, some progress recorded, 青山镇's 反馈 with a PDF, and 青山镇's personal link (returned)."""
    plan = tmp_path / "plan.yaml"
    plan.write_bytes(QINGSHAN.read_bytes())
    monkeypatch.setenv("FUQUAN_CONFIG", str(plan))
    monkeypatch.setenv("FUQUAN_DATA_DIR", str(tmp_path / "data"))
    monkeypatch.setenv("FUQUAN_LINK_SECRET", SECRET)
    assert run("sync").code == 0
    for args in (("task", "set", "3", "县委编办", "已完成", "--on", "2024-03-20"),
                 ("task", "set", "4", "龙潭镇", "进行中", "--on", "2024-04-08")):
        assert run(*args, "--today", TODAY).code == 0
    with open_context(Settings.from_env(), clock=lambda: NOW) as base:
        ctx = base.choose()
        answers.give_feedback(ctx, GiveFeedback(unit="青山镇", task_no=4, status="已完成", note="已梳理完毕", files=(PDF,),
                                                nonce="n-1"), actor=Actor("青山镇 (专属链接)", "web 127.0.0.1"), today=NOW.date())
        return unit_links.personal_link(ctx, "青山镇", NOW)


def fresh_target(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> tuple[str, Path]:
    """Another database and data folder, the plan file not there yet, no link secret in the environment."""
    url = dbs.fresh_url(tmp_path, "restored")
    monkeypatch.setenv("FUQUAN_DATABASE_URL", url)
    monkeypatch.setenv("FUQUAN_DATA_DIR", str(tmp_path / "restored"))
    monkeypatch.setenv("FUQUAN_CONFIG", str(tmp_path / "elsewhere" / "plan.yaml"))
    monkeypatch.delenv("FUQUAN_LINK_SECRET")
    return url, tmp_path / "restored"


def status(run) -> str:  # type: ignore[no-untyped-def]
    r = run("status", "--json", "--today", TODAY)
    assert r.code == 0, r.err
    return r.out  # type: ignore[no-any-return]


def enter(link: str) -> tuple[int, bytes]:
    """Open a personal link at the web app's door, then the unit's page; the 佐证 file's bytes when listed."""
    with open_context(Settings.from_env(), clock=lambda: NOW) as ctx:
        client = TestClient(make_app(ctx), base_url="http://127.0.0.1:8300")
        code = client.get(link.removeprefix("http://127.0.0.1:8300"), follow_redirects=False).status_code
        page = client.get("/u").text if code == 200 else ""  # (the door's page sets the session cookie)
        file_id = page.split('href="/files/')[1].split('"')[0] if 'href="/files/' in page else ""
        return code, client.get(f"/files/{file_id}").content if file_id else b""


def test_backup_then_restore_into_a_fresh_tracker(tracker: str, run, tmp_path: Path,  # type: ignore[no-untyped-def]
                                                  monkeypatch: pytest.MonkeyPatch) -> None:
    before = status(run)
    archive = tmp_path / "out" / "fuquan.tar.gz"
    r = run("backup", str(archive))
    assert r.code == 0, r.err
    assert "谁拿到它就能以任何单位的身份登录; 请妥善保管" in r.out and SECRET not in r.out + r.err
    assert stat.S_IMODE(archive.stat().st_mode) == 0o600
    assert [p.name for p in archive.parent.iterdir()] == ["fuquan.tar.gz"]  # no temp file left beside it
    with tarfile.open(archive) as tar:
        manifest = json.loads(tar.extractfile("manifest.json").read())  # type: ignore[union-attr]
    assert (manifest["schema_head"], manifest["schema"], manifest["database"]) == (HEAD, HEAD, dbs.BACKEND)
    assert {m["name"] for m in manifest["members"]} == {
        "database/fuquan.sqlite" if dbs.BACKEND == "sqlite" else "database/fuquan.pgdump", BLOB, "link.secret", "plan/plan.yaml"}

    url, data = fresh_target(tmp_path, monkeypatch)
    r = run("restore", str(archive))
    assert r.code == 0, r.err
    assert r.out.strip().splitlines()[-1].endswith("数据库中的计划: 某市青山县 2024 年度")
    assert f"计划文件 → {tmp_path / 'elsewhere' / 'plan.yaml'}" in r.out
    assert status(run) == before
    assert (data / BLOB).read_bytes() == PDF.data
    assert (tmp_path / "elsewhere" / "plan.yaml").read_bytes() == QINGSHAN.read_bytes()
    secret = data / "link.secret"
    assert stat.S_IMODE(secret.stat().st_mode) == 0o600 and secret.read_text().strip() == SECRET
    monkeypatch.setenv("FUQUAN_LINK_SECRET", secret.read_text().strip())  # as make run reads <data>/link.secret
    assert enter(tracker) == (200, PDF.data)


def test_restore_over_work_needs_force(tracker: str, run, tmp_path: Path, db_url: str) -> None:  # type: ignore[no-untyped-def]
    before = status(run)
    archive = tmp_path / "fuquan.tar.gz"
    assert run("backup", str(archive)).code == 0
    assert run("task", "set", "5", "县委编办", "进行中", "--on", "2024-04-09", "--today", TODAY).code == 0
    changed, evidence = dbs.fingerprint(db_url), sorted((tmp_path / "data").rglob("*"))
    r = run("restore", str(archive))
    assert r.code == 1 and r.out == ""
    assert r.err.startswith("错误: 目标不是空的: 数据库 ") and "已有 1 个计划" in r.err and "已有 1 个佐证文件" in r.err
    assert "--force" in r.err and "未做任何改动" in r.err
    assert dbs.fingerprint(db_url) == changed and sorted((tmp_path / "data").rglob("*")) == evidence
    r = run("restore", str(archive), "--force")
    assert r.code == 0, r.err
    assert "计划文件 " in r.out and "与备份中的相同" in r.out
    assert status(run) == before  # the task recorded after the backup is gone with the rest


def test_a_tampered_or_damaged_archive_is_refused_and_nothing_is_written(  # type: ignore[no-untyped-def]
        tracker: str, run, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    archive, said = tmp_path / "fuquan.tar.gz", []  # type: ignore[var-annotated]
    backup(Settings.from_env(), archive, clock=lambda: NOW, say=said.append)
    with tarfile.open(archive) as tar:
        members = [(info, tar.extractfile(info).read()) for info in tar]  # type: ignore[union-attr]
    assert json.loads(members[-1][1])["created_at"] == "2024-04-10T02:00:00+00:00"  # the injected clock
    tampered = tmp_path / "tampered.tar.gz"
    with tarfile.open(tampered, "w:gz") as tar:
        for info, data in members:
            if info.name == BLOB:
                data = data[:10] + bytes([data[10] ^ 1]) + data[11:]  # one byte of the PDF changed
            tar.addfile(info, io.BytesIO(data))
    damaged = tmp_path / "damaged.tar.gz"
    raw = bytearray(archive.read_bytes())
    raw[len(raw) // 2] ^= 0xFF
    damaged.write_bytes(bytes(raw))

    url, data = fresh_target(tmp_path, monkeypatch)
    empty, around = dbs.fingerprint(url), sorted(tmp_path.iterdir())
    r = run("restore", str(tampered))
    assert r.code == 1 and r.out == ""
    assert r.err == f"错误: {tampered}: 1 个文件与清单不符 (已损坏或被改动): {BLOB}; 未做任何改动\n"
    r = run("restore", str(damaged))
    assert r.code == 1 and r.err.startswith(f"错误: {damaged}: ") and "未做任何改动" in r.err
    assert dbs.fingerprint(url) == empty and sorted(tmp_path.iterdir()) == around and not data.exists()


def test_the_postgresql_password_reaches_pg_dump_in_its_environment_only() -> None:
    db = database("postgresql+psycopg://fuquan:s3cret%40pw@db.example:5433/tracker?sslmode=require")
    argv, env = pg_command("pg_dump", ["--format=custom", "--no-owner", "--file", "x.pgdump"], db)
    assert env == {"PGPASSWORD": "s3cret@pw"} and not any("s3cret" in a for a in argv)
    assert argv[1:] == ["--format=custom", "--no-owner", "--file", "x.pgdump",
                        "--dbname", "postgresql://fuquan@db.example:5433/tracker?sslmode=require"]
    assert "s3cret" not in db.shown
