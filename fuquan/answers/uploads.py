"""What a 佐证 upload is, told by its bytes, never by its name or the browser's word. Pure.

Accepted: PDF, JPEG, PNG, and the two Office Open XML kinds offices send (.docx, .xlsx) — a ZIP whose
[Content_Types].xml names a Word document or a workbook. Anything else (an .exe renamed .pdf, HTML, SVG with
script, a macro workbook) is refused by name.
"""

from __future__ import annotations

import io
import re
import unicodedata
import zipfile
from dataclasses import dataclass

from fuquan.errors import InvalidValue


@dataclass(frozen=True)
class Upload:
    """A file as a door received it: the name its sender gave and its bytes (told by content, fuquan.answers.uploads)."""

    name: str
    data: bytes

MAX_BYTES = 20 * 1024 * 1024
KINDS = {"pdf": "application/pdf", "jpg": "image/jpeg", "png": "image/png",
         "docx": "application/vnd.openxmlformats-officedocument.wordprocessingml.document",
         "xlsx": "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"}
OOXML = {"docx": "wordprocessingml.document.main+xml", "xlsx": "spreadsheetml.sheet.main+xml"}
# What a ZIP (docx, xlsx) may unpack to: a few KB that inflate to gigabytes is a zip bomb, not a document
MAX_UNPACKED, MAX_RATIO, MAX_PART = 300 * 1024 * 1024, 100, 1024 * 1024


def zip_problem(z: zipfile.ZipFile, name: str) -> str | None:
    """Why a ZIP must not be unpacked (sizes as its directory states them), or None."""
    infos = z.infolist()
    total = sum(i.file_size for i in infos)
    packed = sum(i.compress_size for i in infos) or 1
    types = next((i for i in infos if i.filename == "[Content_Types].xml"), None)
    if total > MAX_UNPACKED or total / packed > MAX_RATIO or (types is not None and types.file_size > MAX_PART):
        return (f"文件 {safe_name(name)} 解压后有 {total / 1024 / 1024:.0f} MB (压缩比 {total / packed:.0f}:1), "
                "不像正常的 Word/Excel 文件, 未接收")
    return None


def kind_of(data: bytes, name: str = "") -> str:
    """pdf | jpg | png | docx | xlsx, or InvalidValue naming the file."""
    if len(data) > MAX_BYTES:
        raise InvalidValue(f"文件 {safe_name(name)} 超过 20 MB")
    if not data:
        raise InvalidValue(f"文件 {safe_name(name)} 是空的")
    if data.startswith(b"%PDF-"):
        return "pdf"
    if data.startswith(b"\xff\xd8\xff"):
        return "jpg"
    if data.startswith(b"\x89PNG\r\n\x1a\n"):
        return "png"
    if data.startswith(b"PK\x03\x04"):
        try:
            with zipfile.ZipFile(io.BytesIO(data)) as z:
                if why := zip_problem(z, name):
                    raise InvalidValue(why)
                types = z.read("[Content_Types].xml").decode("utf-8", "replace")
        except (zipfile.BadZipFile, KeyError, OSError, RuntimeError):
            types = ""
        for kind, marker in OOXML.items():
            if marker in types and "macroEnabled" not in types:
                return kind
    raise InvalidValue(f"文件 {safe_name(name)} 不是 PDF、JPG、PNG、Word(.docx) 或 Excel(.xlsx) 文件, 未接收")


def safe_name(name: str, kind: str | None = None) -> str:
    """The uploaded name as shown and offered back: no path, no control or quoting characters, ≤ 80
    characters, ending in the extension its content has."""
    base = unicodedata.normalize("NFC", name or "").replace("\\", "/").rsplit("/", 1)[-1]
    base = "".join(c for c in base if unicodedata.category(c)[0] != "C")
    base = re.sub(r'[<>:"|?*;\'`$%]', "_", base).strip(" .") or "佐证材料"
    stem = base.rsplit(".", 1)[0] if "." in base else base
    stem = stem[:72] or "佐证材料"
    return f"{stem}.{kind}" if kind else base[:80]
