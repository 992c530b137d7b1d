"""Reading a sheet file an office sent back, whatever it really is: its kind is told by its bytes, not its
name; text is decoded from UTF-8 (with or without BOM), UTF-16 (Excel's "Unicode text") or GB18030; a workbook
is read in streaming mode and stops at MAX_ROWS rows or MAX_CELLS cells, so a sheet whose `<dimension>` lies
about a million rows costs seconds and little memory, not gigabytes. Every failure is a Chinese InvalidValue.
"""

from __future__ import annotations

import csv
import io
import zipfile
from pathlib import Path
from typing import Any

from fuquan.answers.uploads import zip_problem
from fuquan.errors import InvalidValue

MAX_BYTES = 50 * 1024 * 1024  # a month's sheets of a province are a few MB
MAX_ROWS = 20_000  # rows per sheet: a county's letters grid is a few hundred
MAX_COLS = 200
MAX_CELLS = 1_000_000  # in the whole file
ZIP, OLE2 = b"PK\x03\x04", b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1"

Table = tuple[str, list[list[Any]]]  # a sheet's name and its rows


def read_tables(path: Path, shown: str | None = None) -> list[Table]:
    """Every sheet of `path` as (name, rows); a CSV is one sheet named after the file. Errors name the file
    `shown` (a unit's upload: the name of its own file, not a path on this server), else by its path."""
    where = shown or str(path)
    if not path.exists():
        raise InvalidValue(f"找不到文件: {where}")
    if not path.is_file():
        raise InvalidValue(f"{where} 不是文件 (是一个文件夹?), 请给出 .csv 或 .xlsx 文件")
    try:
        size = path.stat().st_size
        with path.open("rb") as f:
            head = f.read(8)
    except OSError as e:
        raise InvalidValue(f"无法读取 {where}: {e.strerror or e}") from None
    if size > MAX_BYTES:
        raise InvalidValue(f"{where} 有 {size / 1024 / 1024:.0f} MB, 超过 {MAX_BYTES // 1024 // 1024} MB 上限; "
                           "请按月或按单位拆分后导入")
    if head.startswith(OLE2):
        raise InvalidValue(f"{where} 是加密的 Excel 文件或旧版 .xls 文件; 请去掉密码, 另存为 .xlsx 后导入")
    if head.startswith(ZIP):
        return _workbook(path, where)
    if path.suffix.lower() == ".xlsx":
        raise InvalidValue(f"{where} 不是有效的 Excel 文件 (内容不是 .xlsx 格式, 可能已损坏或只是改了扩展名)")
    return [(Path(where).name, _csv(path, where))]


def _csv(path: Path, where: str) -> list[list[Any]]:
    text = decode(path.read_bytes(), where)
    if "\x00" in text:
        raise InvalidValue(f"{where} 不是文本表格 (含有二进制内容); 请另存为 CSV (UTF-8) 或 .xlsx")
    rows = []
    try:
        for i, row in enumerate(csv.reader(io.StringIO(text, newline=""))):
            if i >= MAX_ROWS or len(row) > MAX_COLS:
                raise InvalidValue(_too_big(where, i + 1, len(row)))
            rows.append(row)
    except csv.Error as e:
        raise InvalidValue(f"{where} 无法按 CSV 读取: {e}") from None
    return rows


def decode(data: bytes, where: str) -> str:
    """UTF-8 (BOM or not), UTF-16 with its BOM (Excel's 'Unicode text'), else GB18030 (Excel on Chinese Windows)."""
    if data.startswith((b"\xff\xfe", b"\xfe\xff")):
        try:
            return data.decode("utf-16")
        except UnicodeDecodeError:
            raise InvalidValue(f"{where} 的 UTF-16 编码有误, 请另存为 CSV (UTF-8)") from None
    for encoding in ("utf-8-sig", "gb18030"):
        try:
            return data.decode(encoding)
        except UnicodeDecodeError:
            continue
    raise InvalidValue(f"{where} 的文字编码无法识别; 请另存为 CSV (UTF-8)")


def _workbook(path: Path, where: str) -> list[Table]:
    from openpyxl import load_workbook

    try:
        with zipfile.ZipFile(path) as z:
            if "xl/workbook.xml" not in z.namelist():
                raise InvalidValue(f"{where} 是压缩包而不是 Excel 工作簿; 请给出 .xlsx 或 .csv 文件")
            if why := zip_problem(z, Path(where).name):  # streamed or not, one cell can inflate to gigabytes
                raise InvalidValue(why)
        wb = load_workbook(path, read_only=True, data_only=True)
    except InvalidValue:
        raise
    except (zipfile.BadZipFile, KeyError, ValueError, OSError, EOFError) as e:
        raise InvalidValue(f"{where} 无法作为 Excel 工作簿打开 (文件可能已损坏): {type(e).__name__}") from None
    out: list[Table] = []
    cells = 0
    try:
        for ws in wb.worksheets:
            rows = []
            # rows as stored, never ws.max_row: a sheet's <dimension> may claim a million rows it does not have
            # and columns bounded too (a lying dimension pads every row out to its last column)
            for i, row in enumerate(ws.iter_rows(values_only=True, max_col=MAX_COLS + 1)):
                wide = len(row) > MAX_COLS and row[MAX_COLS] is not None
                if i >= MAX_ROWS or wide or cells > MAX_CELLS:
                    raise InvalidValue(_too_big(where, i + 1, len(row), ws.title))
                cells += len(row)
                rows.append(_cut(list(row[:MAX_COLS])))
            out.append((ws.title, _trim(rows)))
    except InvalidValue:
        raise
    except Exception as e:  # a damaged part inside the zip surfaces while streaming
        raise InvalidValue(f"{where} 的内容无法读取 (文件可能已损坏): {type(e).__name__}") from None
    finally:
        wb.close()
    return out


def _cut(row: list[Any]) -> list[Any]:
    while row and row[-1] is None:
        row.pop()
    return row


def _trim(rows: list[list[Any]]) -> list[list[Any]]:
    """Trailing empty rows (a formatted but empty range) are not rows to import."""
    while rows and all(v is None or str(v).strip() == "" for v in rows[-1]):
        rows.pop()
    return rows


def _too_big(where: str, row: int, cols: int, sheet: str | None = None) -> str:
    place = where + (f" 的工作表 “{sheet}”" if sheet else "")
    return (f"{place} 超过导入上限 (第 {row} 行, {cols} 列; 每表最多 {MAX_ROWS} 行、{MAX_COLS} 列): "
            "请确认是要导入的登记表, 必要时拆分后导入")
