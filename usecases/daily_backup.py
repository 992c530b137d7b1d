"""The scheduled backup (the `backup` flow): one archive a day in the backup folder (FUQUAN_BACKUP_DIR, default
<data>/backups), the newest `keep` kept. Each is `fuquan backup`'s archive, so `fuquan restore` takes it as it is.

The archive holds the link secret: the folder is made 0700 and every archive is 0600 (usecases/backup.py). A
day's archive already written is not written again: two plans in one database, each with its own `backup`
schedule, make one archive, and a re-run after a failure the next. Only names this module writes are rotated:
anything else a county puts in the folder stays.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import date
from pathlib import Path

from fuquan.errors import StorageError

from .backup import Made, Say, backup
from .context import Clock
from .settings import Settings

NAME = re.compile(r"fuquan-(\d{4}-\d{2}-\d{2})\.tar\.gz")


@dataclass(frozen=True)
class Kept:
    path: Path
    made: Made | None  # None: the day's archive was already there
    removed: tuple[str, ...]  # older archives rotated out
    kept: int

    def said(self) -> str:
        what = (f"已写入 {self.path} ({self.made.members} 个文件)" if self.made else f"今天的备份已存在: {self.path}")
        gone = f"; 删除较早的 {len(self.removed)} 份 ({'、'.join(self.removed)})" if self.removed else ""
        return f"{what}; 共保留 {self.kept} 份{gone}。备份含链接密钥, 仅限系统管理员查看"


def daily_backup(settings: Settings, *, day: date, keep: int, clock: Clock, say: Say) -> Kept:
    folder = settings.backup_dir
    try:
        folder.mkdir(parents=True, exist_ok=True)
        folder.chmod(0o700)
    except OSError as e:
        raise StorageError(f"备份文件夹 {folder} 无法使用 ({e.strerror}); 请检查权限, 或用 FUQUAN_BACKUP_DIR 指定另一个") from e
    out = folder / f"fuquan-{day:%Y-%m-%d}.tar.gz"
    made = None if out.is_file() else backup(settings, out, clock=clock, say=say)
    ours = sorted((p for p in folder.iterdir() if NAME.fullmatch(p.name) and p.is_file()), key=lambda p: p.name)
    removed = ours[:-keep] if len(ours) > keep else []
    for p in removed:
        p.unlink()
    return Kept(out, made, tuple(p.name for p in removed), len(ours) - len(removed))
