"""Writing a file people will open, whole or not at all: written beside its final name, then renamed onto it.
A full disk, an unwritable folder or an --out that is a file is one clear error; the old file stays as it was
and no half-written one is left behind."""

from __future__ import annotations

import os
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

from fuquan.errors import FuquanError


def folder(path: Path) -> Path:
    """`path` as a folder that exists (made if missing), or a clear error."""
    try:
        path.mkdir(parents=True, exist_ok=True)
    except OSError as e:
        raise FuquanError(f"无法使用输出目录 {path}: {_why(e)}") from e
    return path


@contextmanager
def replacing(path: Path) -> Iterator[Path]:
    """A temporary path to write to; on success it becomes `path`, on any failure it is removed."""
    folder(path.parent)
    tmp = path.with_name(f".{path.name}.{os.getpid()}.tmp{path.suffix}")  # same suffix: savefig/save read it
    try:
        yield tmp
        os.replace(tmp, path)
    except OSError as e:
        raise FuquanError(f"无法写入 {path}: {_why(e)} (未留下写了一半的文件)") from e
    finally:
        tmp.unlink(missing_ok=True)


def write_text(path: Path, text: str, encoding: str = "utf-8") -> Path:
    with replacing(path) as tmp:
        tmp.write_text(text, encoding=encoding)
    return path


def _why(e: OSError) -> str:
    words = {28: "磁盘已满", 13: "没有写入权限", 17: "同名文件已存在 (应为文件夹)", 20: "路径中有一段是文件, 不是文件夹",
             21: "这是一个文件夹", 30: "只读文件系统"}
    return words.get(e.errno or 0, e.strerror or str(e))
