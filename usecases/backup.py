"""Backing up and restoring a tracker as one .tar.gz: a consistent snapshot of the database (SQLite's online
backup API, or pg_dump's custom format), the 佐证 files, the link-signing secret and the plan file, and
`manifest.json` with every member's sha256 and size.

A restore checks every member against the manifest in a staging folder before it changes anything, refuses a
target that already holds work unless forced, then opens the database the normal way (migrations run when the
backup is older than the code). The archive holds the link secret, so it is written 0600: whoever has it can
sign in as any unit.
"""

from __future__ import annotations

import gzip
import hashlib
import io
import json
import os
import re
import shutil
import sqlite3
import subprocess
import tarfile
import tempfile
import zlib
from collections.abc import Callable
from contextlib import closing
from dataclasses import dataclass
from pathlib import Path
from typing import IO, Any

from sqlalchemy import create_engine, inspect, text
from sqlalchemy.engine import URL, make_url
from sqlalchemy.exc import ArgumentError, SQLAlchemyError
from sqlalchemy.pool import NullPool
from sqlmodel import col, select

from fuquan import __version__
from fuquan.errors import InvalidValue, StorageError
from models.db import reading
from models.migrate import HEAD
from models.tables import PlanRow

from .context import Clock, open_context
from .settings import Settings

FORMAT = "fuquan-backup/1"
MANIFEST, SECRET = "manifest.json", "link.secret"
DUMPS = {"sqlite": "database/fuquan.sqlite", "postgresql": "database/fuquan.pgdump"}
MEMBER = re.compile(r"database/fuquan\.(sqlite|pgdump)|evidence/[0-9a-f]{2}/[0-9a-f]{64}|link\.secret|plan/[^/]*[^/.][^/]*")
Say = Callable[[str], None]


@dataclass(frozen=True)
class Database:
    """The configured database: its kind, its URL and, for SQLite, its file."""

    kind: str  # sqlite | postgresql
    url: str
    path: Path | None = None

    @property
    def shown(self) -> str:
        return make_url(self.url).render_as_string(hide_password=True)


def database(url: str) -> Database:
    try:
        parsed = make_url(url)
    except ArgumentError as e:
        raise InvalidValue("数据库地址 (FUQUAN_DATABASE_URL) 格式不对") from e
    backend = parsed.get_backend_name()
    if backend == "sqlite":
        if parsed.database in (None, "", ":memory:"):
            raise InvalidValue("内存中的 SQLite 数据库无法备份或恢复; 请用 FUQUAN_DATABASE_URL 指定一个数据库文件")
        return Database("sqlite", url, Path(parsed.database or ""))
    if backend in ("postgresql", "postgres"):  # with the driver fuquan installs (psycopg 3), as models.db does
        return Database("postgresql", parsed.set(drivername="postgresql+psycopg").render_as_string(hide_password=False))
    raise InvalidValue(f"不支持的数据库 “{backend}”; 备份和恢复支持 SQLite 和 PostgreSQL")


@dataclass(frozen=True)
class Made:
    path: Path
    members: int
    size: int
    secret: bool  # the archive holds the link secret


def backup(settings: Settings, out: Path, *, clock: Clock, say: Say) -> Made:
    """Write the archive `out` (.tar.gz) whole or not at all, mode 0600."""
    if not out.name.endswith((".tar.gz", ".tgz")):
        raise InvalidValue(f"备份文件名应以 .tar.gz 结尾 (如 fuquan-备份.tar.gz), 实为 “{out.name}”")
    db, created = database(settings.database_url), clock()
    if db.path is not None and not db.path.is_file():
        raise StorageError(f"数据库文件 {db.path} 不存在; 请检查 FUQUAN_DATABASE_URL 或 FUQUAN_DATA_DIR")
    _folder(out.parent)
    with tempfile.TemporaryDirectory(dir=out.parent, prefix=".fuquan-backup-") as folder:
        stage = Path(folder)
        revision = _snapshot(db, stage / "db", say)
        evidence = [(f"evidence/{p.parent.name}/{p.name}", p) for p in sorted((settings.data_dir / "evidence").glob("*/*"))]
        evidence = [(name, p) for name, p in evidence if MEMBER.fullmatch(name)]  # (a stray temp file is not one)
        say(f"  佐证材料 {len(evidence)} 个文件, {size_text(sum(p.stat().st_size for _, p in evidence))}")
        members = [(DUMPS[db.kind], stage / "db"), *evidence]
        if secret := _secret_file(settings, stage / SECRET, say):
            members.append((SECRET, secret))
        if settings.config.is_file():
            members.append((f"plan/{settings.config.name}", settings.config))
            say(f"  计划文件 {settings.config}")
        else:
            say(f"  计划文件 {settings.config} 不存在, 未备份")
        manifest = {"format": FORMAT, "fuquan": __version__, "schema_head": HEAD, "schema": revision,
                    "database": db.kind, "created_at": created.isoformat(timespec="seconds"), "plan_file": str(settings.config)}
        _write_archive(out, members, manifest, int(created.timestamp()))
    return Made(out, len(members), out.stat().st_size, secret is not None)


def _snapshot(db: Database, target: Path, say: Say) -> str | None:
    """The database copied to `target` as of one moment; returns its schema revision."""
    if db.kind == "postgresql":
        revision = _pg_read(db, "alembic_version", "SELECT version_num FROM alembic_version")
        _pg_run("pg_dump", ["--format=custom", "--no-owner", "--file", str(target)], db)
        say(f"  数据库快照 (PostgreSQL, pg_dump) {size_text(target.stat().st_size)}")
        return revision
    assert db.path is not None
    try:
        with closing(sqlite3.connect(db.path)) as src, closing(sqlite3.connect(target)) as dst:
            src.backup(dst)  # one read transaction: a consistent copy while others keep writing
            dst.execute("PRAGMA journal_mode=DELETE")  # one self-contained file (fuquan turns WAL on again)
            has = dst.execute("SELECT 1 FROM sqlite_master WHERE name='alembic_version'").fetchone()
            revision = dst.execute("SELECT version_num FROM alembic_version").fetchone()[0] if has else None
    except sqlite3.Error as e:
        raise StorageError(f"无法读取数据库 {db.path}: {e}") from e
    say(f"  数据库快照 (SQLite) {size_text(target.stat().st_size)}")
    return revision


def _secret_file(settings: Settings, staged: Path, say: Say) -> Path | None:
    """The link secret in use (FUQUAN_LINK_SECRET, else `<data>/link.secret`), as a staged file."""
    on_disk = settings.data_dir / SECRET
    file_text = on_disk.read_text(encoding="utf-8") if on_disk.is_file() else None
    in_use = settings.link_secret.get_secret_value() if settings.link_secret else None
    if in_use is None and file_text is None:
        say("  链接签名密钥: 未设置 FUQUAN_LINK_SECRET, 也没有 link.secret, 未备份")
        return None
    if in_use is not None and (file_text or "").strip() != in_use:
        if file_text is not None:
            say(f"  注意: {on_disk} 与环境变量 FUQUAN_LINK_SECRET 不同; 备份的是正在使用的 FUQUAN_LINK_SECRET")
        file_text = f"{in_use}\n"
    staged.write_text(file_text or "", encoding="utf-8")
    say("  链接签名密钥 (link.secret)")
    return staged


class _Hashing:
    """A file read through sha256 (tarfile reads it once; the digest is the bytes that went in)."""

    def __init__(self, f: IO[bytes]) -> None:
        self.f, self.sha = f, hashlib.sha256()

    def read(self, n: int = -1) -> bytes:
        data = self.f.read(n)
        self.sha.update(data)
        return data


def _write_archive(out: Path, members: list[tuple[str, Path]], manifest: dict[str, Any], mtime: int) -> None:
    fd, tmp = tempfile.mkstemp(dir=out.parent, prefix=f".{out.name}.", suffix=".tmp")  # mode 0600
    try:
        with os.fdopen(fd, "wb") as raw:
            with tarfile.open(fileobj=raw, mode="w:gz", compresslevel=6) as tar:
                listed = []
                for name, path in members:
                    with path.open("rb") as f:
                        info = _info(name, os.fstat(f.fileno()).st_size, mtime)
                        hashing = _Hashing(f)
                        tar.addfile(info, hashing)
                    listed.append({"name": name, "sha256": hashing.sha.hexdigest(), "size": info.size})
                data = json.dumps({**manifest, "members": listed}, ensure_ascii=False, indent=2).encode()
                tar.addfile(_info(MANIFEST, len(data), mtime), io.BytesIO(data))
            raw.flush()
            os.fsync(raw.fileno())
        os.replace(tmp, out)
    except OSError as e:
        raise StorageError(f"无法写入备份文件 {out}: {e.strerror or e} (未留下写了一半的文件)") from e
    finally:
        Path(tmp).unlink(missing_ok=True)


def _info(name: str, size: int, mtime: int) -> tarfile.TarInfo:
    info = tarfile.TarInfo(name)
    info.size, info.mode, info.mtime = size, 0o600, mtime
    return info


@dataclass(frozen=True)
class Restored:
    created_at: str
    plans: list[tuple[str, int]]  # (district, year) of every plan the restored database holds


def restore(settings: Settings, archive: Path, *, force: bool, clock: Clock, say: Say) -> Restored:
    """Put a backup in place of the configured database and data folder; nothing changes unless every member
    matches the manifest (and, without `force`, the target holds no plan and no 佐证 file)."""
    db = database(settings.database_url)
    if not archive.is_file():
        raise InvalidValue(f"找不到备份文件 {archive}")
    if not force:
        _refuse_work(db, settings.data_dir)
    near = next((p for p in settings.data_dir.absolute().parents if p.is_dir()), Path(tempfile.gettempdir()))
    with tempfile.TemporaryDirectory(dir=near, prefix=".fuquan-restore-") as folder:  # on the data folder's disk
        stage = Path(folder)
        manifest = _unpack(archive, stage, db)
        say(f"已校验 {archive}: {len(manifest['members'])} 个文件, 校验值全部相符 (fuquan {manifest.get('fuquan')}, "
            f"{manifest.get('created_at')} 备份, 结构版本 {manifest.get('schema') or '—'})")
        _put_database(db, stage / DUMPS[db.kind])
        say(f"  数据库 → {db.shown}")
        blobs = sorted((stage / "evidence").glob("*/*"))
        for blob in blobs:
            target = settings.data_dir / "evidence" / blob.parent.name / blob.name
            if not target.exists():  # named by content: one already there is the same file
                _place(blob, target, 0o600)
        say(f"  佐证材料 {len(blobs)} 个文件 → {settings.data_dir / 'evidence'}")
        if (stage / SECRET).is_file():
            _put_secret(stage / SECRET, settings, say)
        if plans := sorted((stage / "plan").glob("*")):
            _put_plan(plans[0], settings.config, manifest, say)
    with open_context(settings, clock=clock) as ctx, reading(ctx.engine) as session:
        held = [(r.district, r.year) for r in session.exec(select(PlanRow).order_by(col(PlanRow.district), col(PlanRow.year)))]
    if (revision := manifest.get("schema")) != HEAD:
        say(f"  数据库结构已从 {revision or '0.1.0'} 升级到 {HEAD}")
    return Restored(str(manifest.get("created_at")), held)


def _refuse_work(db: Database, data_dir: Path) -> None:
    plans = _plan_count(db)
    blobs = sum(1 for _ in (data_dir / "evidence").glob("*/*"))
    if plans or blobs:
        held = "、".join(w for w in (f"数据库 {db.shown} 已有 {plans} 个计划" if plans else "",
                                     f"{data_dir / 'evidence'} 已有 {blobs} 个佐证文件" if blobs else "") if w)
        raise InvalidValue(f"目标不是空的: {held}; 恢复会替换它们, 未做任何改动。确认要替换请先停止 fuquan web、serve、"
                           "scheduler, 再加 --force 重新运行")


def _plan_count(db: Database) -> int:
    if db.path is None:
        return int(_pg_read(db, "plan", "SELECT count(*) FROM plan") or 0)
    if not db.path.exists():
        return 0
    try:
        with closing(sqlite3.connect(f"{db.path.resolve().as_uri()}?mode=ro", uri=True)) as conn:  # (never created)
            has = conn.execute("SELECT 1 FROM sqlite_master WHERE type='table' AND name='plan'").fetchone()
            return int(conn.execute("SELECT count(*) FROM plan").fetchone()[0]) if has else 0
    except sqlite3.Error as e:
        raise StorageError(f"无法读取数据库 {db.path}: {e}") from e


def _unpack(archive: Path, stage: Path, db: Database) -> dict[str, Any]:
    """Every member into `stage`, then checked against the manifest (names, sizes, sha256, nothing missing or extra)
    and against the target (the same kind of database, a schema this code knows)."""
    got: dict[str, tuple[str, int]] = {}
    try:
        with tarfile.open(archive, "r:gz") as tar:
            for info in tar:
                if not info.isfile() or info.name in got or not (info.name == MANIFEST or MEMBER.fullmatch(info.name)):
                    raise InvalidValue(f"{archive}: 含有不属于 fuquan 备份的成员 “{info.name}”; 未做任何改动")
                (stage / info.name).parent.mkdir(parents=True, exist_ok=True)
                with tar.extractfile(info) as src, (stage / info.name).open("wb") as out:  # type: ignore[union-attr]
                    hashing = _Hashing(src)
                    shutil.copyfileobj(hashing, out, 1 << 20)
                    got[info.name] = hashing.sha.hexdigest(), out.tell()
    except (tarfile.TarError, EOFError, zlib.error, gzip.BadGzipFile) as e:
        raise InvalidValue(f"{archive}: 不是 fuquan 的备份文件, 或文件已损坏 ({e}); 未做任何改动") from e
    except OSError as e:
        raise StorageError(f"无法解开备份文件 {archive}: {e.strerror or e}; 未做任何改动") from e
    try:
        manifest = json.loads((stage / MANIFEST).read_text(encoding="utf-8"))
        listed = {m["name"]: (m["sha256"], int(m["size"])) for m in manifest["members"]}
        assert manifest["format"] == FORMAT
    except (OSError, ValueError, KeyError, TypeError, AssertionError) as e:
        raise InvalidValue(f"{archive}: 没有可读的 manifest.json, 不是 fuquan 的备份文件; 未做任何改动") from e
    got.pop(MANIFEST)
    bad = sorted(n for n in listed.keys() | got.keys() if listed.get(n) != got.get(n)
                 or (n.startswith("evidence/") and n != f"evidence/{got[n][0][:2]}/{got[n][0]}"))
    if bad:
        raise InvalidValue(f"{archive}: {len(bad)} 个文件与清单不符 (已损坏或被改动): {'、'.join(bad[:5])}; 未做任何改动")
    if manifest.get("database") != db.kind:
        raise InvalidValue(f"{archive} 是 {manifest.get('database')} 数据库的备份, 而 FUQUAN_DATABASE_URL 指向 "
                           f"{db.kind}; 不能跨数据库种类恢复; 未做任何改动")
    revision = str(manifest.get("schema") or "")
    if revision.isdigit() and HEAD.isdigit() and int(revision) > int(HEAD):
        raise InvalidValue(f"{archive} 来自较新的 fuquan (数据库结构 {revision}, 本程序 {HEAD}); "
                           "请先升级 fuquan 再恢复; 未做任何改动")
    return manifest  # type: ignore[no-any-return]


def _put_database(db: Database, dump: Path) -> None:
    if db.kind == "postgresql":
        _pg_run("pg_restore", ["--clean", "--if-exists", "--no-owner", "--no-acl", "--single-transaction", str(dump)], db)
        return
    assert db.path is not None
    for suffix in ("-wal", "-shm", "-journal"):  # the old file's log would be replayed onto the new one
        db.path.with_name(db.path.name + suffix).unlink(missing_ok=True)
    _place(dump, db.path, 0o600)


def _put_secret(staged: Path, settings: Settings, say: Say) -> None:
    target = settings.data_dir / SECRET
    _place(staged, target, 0o600)
    say(f"  链接签名密钥 → {target} (仅本人可读写)")
    in_use = settings.link_secret.get_secret_value() if settings.link_secret else None
    if in_use is not None and in_use != staged.read_text(encoding="utf-8").strip():
        say("  注意: 环境变量 FUQUAN_LINK_SECRET 已设置且与备份中的密钥不同, 它优先; 备份前发出的专属链接要用备份中的密钥"
            f"才能打开: 请删去该变量 (make run 会读取 {target})")


def _put_plan(staged: Path, configured: Path, manifest: dict[str, Any], say: Say) -> None:
    """The plan file where the settings look for it, if nothing is there; never over another file."""
    if not configured.exists():
        _place(staged, configured, 0o644)
        say(f"  计划文件 → {configured}")
    elif configured.read_bytes() == staged.read_bytes():
        say(f"  计划文件 {configured} 与备份中的相同")
    else:
        day = str(manifest.get("created_at", ""))[:10] or "backup"
        beside = configured.with_name(f"{configured.stem}.备份-{day}{configured.suffix}")
        if not beside.exists():
            _place(staged, beside, 0o644)
        say(f"  计划文件 {configured} 已存在且与备份中的不同, 未覆盖; 备份中的计划文件在 {beside}, 请比较后决定用哪一个")


def _place(src: Path, target: Path, mode: int) -> None:
    """`src`'s bytes at `target`, whole or not at all."""
    _folder(target.parent)
    fd, tmp = tempfile.mkstemp(dir=target.parent, prefix=f".{target.name}.", suffix=".tmp")
    try:
        with os.fdopen(fd, "wb") as out, src.open("rb") as f:
            shutil.copyfileobj(f, out, 1 << 20)
            out.flush()
            os.fsync(out.fileno())
        os.chmod(tmp, mode)
        os.replace(tmp, target)
    except OSError as e:
        raise StorageError(f"无法写入 {target}: {e.strerror or e}") from e
    finally:
        Path(tmp).unlink(missing_ok=True)


def pg_command(tool: str, args: list[str], db: Database) -> tuple[list[str], dict[str, str]]:
    """pg_dump / pg_restore on the configured database: (argv, the child's environment). The password goes in
    PGPASSWORD, never on the command line; the environment is only that (this module reads no environment, and
    libpq still finds ~/.pgpass and ~/.postgresql through the user's home)."""
    url = make_url(db.url)
    bare = URL.create("postgresql", url.username, None, url.host, url.port, url.database, url.query)  # (set() keeps
    conninfo = bare.render_as_string(hide_password=False)  # a password given as None)
    return [_pg_tool(tool), *args, "--dbname", conninfo], {"PGPASSWORD": str(url.password)} if url.password else {}


def _pg_run(tool: str, args: list[str], db: Database) -> None:
    argv, env = pg_command(tool, args, db)
    try:
        done = subprocess.run(argv, env=env, capture_output=True, text=True)
    except OSError as e:
        raise StorageError(f"无法运行 {tool}: {e.strerror or e}") from e
    if done.returncode != 0:
        said = done.stderr.strip()
        for secret in env.values():
            said = said.replace(secret, "***")
        raise StorageError(f"{tool} 失败 (退出码 {done.returncode}), 数据库 {db.shown}: {said[-800:]}")


def _pg_tool(name: str) -> str:
    bundled = sorted(Path("/usr/lib/postgresql").glob(f"*/bin/{name}"), key=lambda p: p.parts[-3].zfill(4))
    found = shutil.which(name) or (bundled[-1] if bundled else None)  # (the newest dumps older servers too)
    if found is None:
        raise StorageError(f"找不到 {name}: 请安装 PostgreSQL 客户端 (Debian: apt-get install postgresql-client)")
    return str(found)


def _pg_read(db: Database, table: str, sql: str) -> Any:
    """One value from the configured PostgreSQL database (None without `table`), read without migrating it."""
    engine = create_engine(db.url, poolclass=NullPool)
    try:
        with engine.connect() as conn:
            return conn.execute(text(sql)).scalar() if inspect(conn).has_table(table) else None
    except SQLAlchemyError as e:
        raise StorageError(f"无法连接数据库 {db.shown}: {e.__class__.__name__}") from e
    finally:
        engine.dispose()


def _folder(path: Path) -> None:
    try:
        path.mkdir(parents=True, exist_ok=True)
    except OSError as e:
        raise StorageError(f"无法使用文件夹 {path}: {e.strerror or e}") from e


def size_text(size: int) -> str:
    return f"{size / 1_000_000:.1f} MB" if size >= 100_000 else f"{size / 1000:.1f} KB"
