"""What units upload: 佐证 files kept by content hash outside any served folder, and a unit's own filled sheet
sent through the import run, its own rows only. A file is written beside its place under a temp name and renamed
onto it; what a killed process left half-written is swept away when `fuquan web` starts (`sweep_uploads`)."""

from __future__ import annotations

import os
import re
import stat
import tempfile
from datetime import date, datetime
from hashlib import sha256
from pathlib import Path

from fuquan.answers.uploads import Upload, kind_of, safe_name
from fuquan.errors import FileMissing, InvalidValue, StorageError
from fuquan.tracking.actor import Actor
from models import answer_io as io
from models.answers import EvidenceRow
from models.db import reading

from .context import Context

TEMP_PREFIX, TEMP_SUFFIX = ".upload-", ".part"
_TEMP = re.compile(rf"{re.escape(TEMP_PREFIX)}[a-z0-9_]+{re.escape(TEMP_SUFFIX)}|tmp[a-z0-9_]{{8}}")  # (and mkstemp's
# default names, which uploads had before they got their own: a blob is named by its 64-hex digest, never so)


def store(ctx: Context, upload: Upload) -> tuple[str, str, int, str]:
    """Write an upload into the evidence store (by content hash, outside any served folder), whole or not at all."""
    kind = kind_of(upload.data, upload.name)
    digest = sha256(upload.data).hexdigest()
    target = _blob(ctx, digest)
    # (not reports.files.replacing: its error names the server's path, and a unit is shown this one)
    try:
        target.parent.mkdir(parents=True, exist_ok=True)
        if not target.exists():
            fd, tmp = tempfile.mkstemp(TEMP_SUFFIX, TEMP_PREFIX, target.parent)
            try:
                with os.fdopen(fd, "wb") as f:
                    f.write(upload.data)
                os.replace(tmp, target)
            finally:
                Path(tmp).unlink(missing_ok=True)  # (nothing once replaced; a half-written file otherwise)
    except OSError as e:
        raise StorageError(f"佐证材料无法保存 ({e.strerror}); 请稍后再试或联系工作专班") from e
    return digest, kind, len(upload.data), safe_name(upload.name, kind)


def sweep_uploads(ctx: Context, started: datetime) -> int:
    """Remove the temp files of uploads cut short (a killed process) from the evidence store: our own temp names
    only, last written before `started` (this process's start, so none of its own uploads). Returns how many."""
    removed, cut = 0, started.timestamp()
    for path in _temp_files(ctx.settings.data_dir / "evidence"):
        try:
            st = path.lstat()
            if stat.S_ISREG(st.st_mode) and st.st_mtime < cut:
                path.unlink()
                removed += 1
        except OSError:  # (gone meanwhile, or not ours to remove: the next start tries again)
            continue
    return removed


def _temp_files(root: Path) -> list[Path]:
    try:
        return [p for d in root.iterdir() if d.is_dir() and not d.is_symlink() for p in d.iterdir()
                if _TEMP.fullmatch(p.name)]
    except OSError:  # (no store yet, or one this process cannot read: nothing to sweep)
        return []


def import_sheet(ctx: Context, unit: str, upload: Upload, actor: Actor, today: date) -> str:
    """A unit's own filled sheet (月报, 确认书 …) through the import run, its own rows only: all or nothing."""
    from .imports import import_file

    if not upload.data:
        raise InvalidValue("请选择要上传的登记表 (Excel 或 CSV)")
    name = safe_name(upload.name if upload.name.lower().endswith((".csv", ".xlsx")) else f"{upload.name}.xlsx")
    with tempfile.TemporaryDirectory() as folder:
        path = Path(folder) / name
        path.write_bytes(upload.data)
        done = import_file(ctx, path, kind=None, actor=actor, today=today, only_unit=unit, shown=name)
    said = "、".join(f"{label} {n} 条" for label, n in done.items())
    return f"已导入: {said}" if said else "表中没有已填写的行, 未导入任何数据"


def evidence_row(ctx: Context, evidence_id: int, unit_id: int | None) -> EvidenceRow:
    """A 佐证 file of the plan: of `unit_id` only, or any (None: the 专班)."""
    with reading(ctx.engine) as session:
        return io.evidence(session, ctx.plan.id, evidence_id, unit_id)


def evidence_path(ctx: Context, row: EvidenceRow) -> Path:
    """Where an evidence file's bytes are; FileMissing when they are not there (restored without data/evidence)."""
    path = _blob(ctx, row.sha256)
    if not path.is_file():
        raise FileMissing(f"佐证材料“{row.name}”的文件不在服务器上 (记录仍在)。请联系工作专班: 恢复备份时需一并恢复佐证材料"
                          " (fuquan restore 会恢复全部文件)。")
    return path


def _blob(ctx: Context, digest: str) -> Path:
    return ctx.settings.data_dir / "evidence" / digest[:2] / digest
