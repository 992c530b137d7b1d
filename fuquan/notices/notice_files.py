"""A notice file as its words and its tables: Word (.docx), text copied out of it (.txt), or a workbook (.xlsx).

The one place a notice is opened (as loader.py is for a plan file). A file is told by its bytes, not its name;
what cannot be read — an old .doc, an encrypted or damaged file, a PDF, a file far larger than any notice — is one
Chinese InvalidValue saying what to do instead.
"""

from __future__ import annotations

import zipfile
from dataclasses import dataclass
from pathlib import Path

from fuquan.errors import InvalidValue
from fuquan.notices.notice import Row, cell_text, text_table

MAX_BYTES = 20 * 1024 * 1024  # a notice with its pictures is well under this
MAX_XML = 20 * 1024 * 1024  # unpacked document or sheets: a zip bomb stops here
MAX_ROWS, MAX_COLS = 5_000, 60  # a task list is tens of rows
ZIP, OLE2, PDF = b"PK\x03\x04", b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1", b"%PDF"


@dataclass(frozen=True)
class NoticeText:
    body: str  # the words outside the tables: title, salutation, dates
    tables: list[list[Row]]


def read_notice(path: Path) -> NoticeText:
    try:
        if not path.is_file():
            raise InvalidValue(f"找不到通知文件 {path}" if not path.exists() else f"{path} 是一个文件夹, 应为通知文件")
        if path.stat().st_size > MAX_BYTES:
            raise InvalidValue(f"{path} 超过 {MAX_BYTES // 1024 // 1024} MB, 不像一份通知; 请确认文件")
        data = path.read_bytes()
    except OSError as e:
        raise InvalidValue(f"无法读取通知文件 {path}: {e.strerror or e}") from None
    if data.startswith(OLE2):
        raise InvalidValue(f"{path} 是旧版 .doc/.xls 或加密的文件; 请在 Word/WPS 中去掉密码并另存为 .docx 后再导入")
    if data.startswith(PDF):
        raise InvalidValue(f"{path} 是 PDF; 请用通知的 Word 版, 或把 PDF 中的文字复制到 .txt 文件后导入")
    if data.startswith(ZIP):
        return _zipped(path)
    if path.suffix.lower() in (".docx", ".xlsx"):
        raise InvalidValue(f"{path} 不是有效的 {path.suffix} 文件 (可能已损坏, 或只是改了扩展名)")
    body, table = _text(data, path)
    return NoticeText(body, [table] if table else [])


def _text(data: bytes, path: Path) -> tuple[str, list[Row]]:
    if data.startswith((b"\xff\xfe", b"\xfe\xff")):
        encodings = ["utf-16"]
    else:
        encodings = ["utf-8-sig", "gb18030"]  # Notepad on a Chinese Windows saves GBK
    for encoding in encodings:
        try:
            text = data.decode(encoding)
        except UnicodeDecodeError:
            continue
        if "\x00" in text:
            break
        rows, around = text_table(text)
        return around, rows
    raise InvalidValue(f"{path} 不是文本文件, 也不是 .docx 或 .xlsx; 请把通知全文复制到 UTF-8 文本文件后导入")


def _zipped(path: Path) -> NoticeText:
    try:
        with zipfile.ZipFile(path) as z:
            sizes = {i.filename: i.file_size for i in z.infolist()}
    except (zipfile.BadZipFile, OSError) as e:
        raise InvalidValue(f"{path} 无法打开 (文件可能已损坏): {type(e).__name__}") from None
    if "word/document.xml" in sizes:
        if sizes["word/document.xml"] > MAX_XML:
            raise InvalidValue(f"{path} 的正文解压后超过 {MAX_XML // 1024 // 1024} MB, 不像一份通知")
        return _docx(path)
    if "xl/workbook.xml" in sizes:
        if sum(n for f, n in sizes.items() if f.startswith(("xl/worksheets/", "xl/sharedStrings"))) > MAX_XML:
            raise InvalidValue(f"{path} 的表格解压后超过 {MAX_XML // 1024 // 1024} MB, 不像一份任务清单")
        return _xlsx(path)
    raise InvalidValue(f"{path} 是压缩包, 不是 Word 或 Excel 文件; 请给出 .docx、.xlsx 或 .txt")


def _docx(path: Path) -> NoticeText:
    import docx

    try:
        doc = docx.Document(str(path))
        body = "\n".join(p.text for p in doc.paragraphs)
        tables = []
        for n, table in enumerate(doc.tables, 1):
            rows = [(f"表 {n} 第 {i} 行", [cell_text(c.text) for c in row.cells]) for i, row in enumerate(table.rows, 1)]
            _bounded(path, rows)
            tables.append(rows)
    except InvalidValue:
        raise
    except Exception as e:  # python-docx raises what lxml and zipfile raise on a damaged part
        raise InvalidValue(f"{path} 的内容无法读取 (文件可能已损坏): {type(e).__name__}") from None
    return NoticeText(body, tables)


def _xlsx(path: Path) -> NoticeText:
    """Every sheet, merged cells filled with their value (a 责任单位 merged down several tasks belongs to each);
    rows with one text only (a title above the table) also make the body."""
    from openpyxl import load_workbook

    try:
        wb = load_workbook(path, data_only=True)
        tables, body = [], []
        for ws in wb.worksheets:
            grid = {(c.row, c.column): c.value for row in ws.iter_rows() for c in row if c.value is not None}
            for merged in ws.merged_cells.ranges:
                value = grid.get((merged.min_row, merged.min_col))
                grid.update({(r, c): value for r in range(merged.min_row, merged.max_row + 1)
                             for c in range(merged.min_col, merged.max_col + 1)} if value is not None else {})
            last_row = max((r for r, _ in grid), default=0)
            last_col = max((c for _, c in grid), default=0)
            if last_row > MAX_ROWS or last_col > MAX_COLS:
                raise InvalidValue(f"{path} 的工作表 “{ws.title}” 有 {last_row} 行、{last_col} 列, 不像一份任务清单")
            rows = [(f"工作表 “{ws.title}” 第 {r} 行", [cell_text(grid.get((r, c))) for c in range(1, last_col + 1)])
                    for r in range(1, last_row + 1)]
            body += [ws.title] + [next(c for c in cells if c) for _, cells in rows if len(set(filter(None, cells))) == 1]
            tables.append(rows)
    except InvalidValue:
        raise
    except Exception as e:
        raise InvalidValue(f"{path} 无法作为 Excel 工作簿读取 (文件可能已损坏或加密): {type(e).__name__}") from None
    return NoticeText("\n".join(body), tables)


def _bounded(path: Path, rows: list[Row]) -> None:
    if len(rows) > MAX_ROWS or any(len(cells) > MAX_COLS for _, cells in rows):
        raise InvalidValue(f"{path} 中的表格超过 {MAX_ROWS} 行或 {MAX_COLS} 列, 不像一份任务清单")
