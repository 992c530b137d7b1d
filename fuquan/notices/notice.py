"""A 实施方案's 任务清单 read into sections and tasks, and the notice's title, district and issue date. Pure.

The table comes as rows of cell texts (a Word or Excel table) or as text copied out of the notice (`text_table`),
where cells arrive `|`-separated — a row a line, or a cell a line as Word gives them — or tab-separated. Columns
are found by their header words in any order; a row holding one text across (一、…, merged) or a cell of that
form starts a section. Names stay as written: notice_units.py splits and resolves them.
"""

from __future__ import annotations

import re
from collections import Counter
from dataclasses import dataclass
from datetime import date

from fuquan.words.text import arabic_numerals, clean

# Header words by column role, most specific first: 牵头单位/配合单位 in one header is a mixed 责任单位 column.
ROLE_WORDS: tuple[tuple[str, tuple[str, ...]], ...] = (
    ("no", ("序号", "编号")),
    ("partner", ("配合单位", "配合部门", "协同单位", "协办单位", "协助单位", "参与单位")),
    ("lead", ("牵头单位", "牵头部门", "牵头")),
    ("units", ("责任单位", "责任部门", "责任主体", "实施单位", "实施主体", "承办单位", "完成单位", "单位")),
    ("deadline", ("完成时限", "时间节点", "完成时间", "完成期限", "时限要求", "时间要求", "时限", "时间")),
    ("task", ("主要任务", "重点任务", "工作任务", "具体措施", "任务内容", "工作内容", "工作措施", "具体任务", "主要内容",
              "任务", "措施")),
    ("section", ("类别", "项目", "领域", "分类", "板块")),
)
NUMERAL = "一二三四五六七八九十"
_SECTION = re.compile(rf"^\s*(?:(?P<a>[{NUMERAL}]+)\s*[、.．]|[（(]\s*(?P<b>[{NUMERAL}]+)\s*[)）]"
                      rf"|第(?P<c>[{NUMERAL}]+)(?:部分|章|节|类|项)[、:：\s]*)\s*(?P<title>.*)$", re.S)
_NUMBER = re.compile(r"^[（(]?\s*(\d{1,4})\s*[)）.．、]?$")
_DATE = re.compile(r"(\d{4})\s*年\s*(\d{1,2})\s*月\s*(\d{1,2})\s*日")
_DISTRICT = re.compile(r"^(.{1,20}?[区县旗市])(?=推进|关于|深化|全面|加快|开展|做好|进一步|\d{4}年|乡镇|镇|街道|乡)")

Row = tuple[str, list[str]]  # (where it is: 第 40 行, 表 1 第 5 行) and its cells


@dataclass(frozen=True)
class Section:
    no: str  # 一
    title: str


@dataclass(frozen=True)
class Item:
    """One task as the notice writes it."""

    no: int
    written_no: str  # the 序号 cell ("" when the table has none)
    section: Section | None
    text: str
    deadline: str
    units: str  # the 责任单位 cell(s); 牵头/配合 columns kept apart
    lead: str
    partner: str
    where: str


@dataclass(frozen=True)
class Meta:
    title: str | None
    district: str | None
    issued: date | None
    year: int | None


@dataclass(frozen=True)
class TaskList:
    sections: tuple[Section, ...]
    items: tuple[Item, ...]
    renumbered: bool  # the notice's numbers were missing or repeated (1, 2 under each section): counted anew
    skipped: tuple[str, ...]  # rows read as neither a task nor a section, for the clerk to look at


def role_of(header: str) -> str | None:
    h = re.sub(r"\s+", "", clean(header))
    if not h or len(h) > 12:
        return None
    if "牵头" in h and ("配合" in h or "责任" in h):
        return "units"
    return next((role for role, words in ROLE_WORDS if any(w in h for w in words)), None)


def header_roles(cells: list[str]) -> list[str | None] | None:
    """The roles of a header row's columns, or None when the row is not a 任务清单 header."""
    roles = [role_of(c) for c in cells]
    if "task" in roles and ("deadline" in roles or {"units", "lead", "partner"} & set(roles)):
        return roles
    return None


def section_of(text: str, made: int) -> Section:
    """一、积极稳妥… → (一, 积极稳妥…); a heading without a numeral is numbered by its place (`made` so far)."""
    m = _SECTION.match(text)
    if m and m["title"].strip():
        return Section(m["a"] or m["b"] or m["c"], one_line(m["title"]))
    return Section(chinese_number(made + 1), one_line(text))


def chinese_number(n: int) -> str:
    if n <= 10:
        return NUMERAL[n - 1]
    tens, units = divmod(n, 10)
    return (NUMERAL[tens - 1] if tens > 1 else "") + "十" + (NUMERAL[units - 1] if units else "")


def one_line(text: str) -> str:
    """A cell's lines as one line: Chinese runs joined as they are, a space only between two Latin words."""
    out = ""
    for line in (s.strip() for s in text.splitlines()):
        if line:
            out += (" " if out and out[-1].isascii() and out[-1].isalnum() and line[0].isascii() and line[0].isalnum()
                    else "") + line
    return out


def cell_text(value: object) -> str:
    """A cell as text: tabs and stray control characters (Word's vertical tab) made spaces, lines kept."""
    text = "" if value is None else str(value)
    text = re.sub(r"[\u200b-\u200f\u202a-\u202e\u2066-\u2069\ufeff]", "", text)  # invisible and direction marks
    return re.sub(r"[\x00-\x09\x0b-\x1f\x7f]", " ", text.replace("\r\n", "\n")).strip()


def read_rows(rows: list[Row]) -> TaskList | None:
    """The task list of one table (header found anywhere in it), or None when it has no 任务清单 header."""
    for at, (_, cells) in enumerate(rows):
        roles = header_roles([cell_text(c) for c in cells])
        if roles:
            return _Reader(roles).read(rows[at + 1:])
    return None


class _Reader:
    def __init__(self, roles: list[str | None]) -> None:
        self.roles = roles
        self.sections: dict[str, Section] = {}
        self.current: Section | None = None
        self.items: list[Item] = []
        self.skipped: list[str] = []

    def read(self, rows: list[Row]) -> TaskList:
        for where, raw in rows:
            self.row(where, [cell_text(c) for c in raw])
        numbers = [i.written_no for i in self.items]
        written = [int(m[1]) if (m := _NUMBER.match(n)) else None for n in numbers]
        renumber = None in written or len(set(written)) != len(written)
        items = tuple(Item(n + 1 if renumber else written[n] or 0, *_rest(it)) for n, it in enumerate(self.items))
        return TaskList(tuple(self.sections.values()), items, renumber and any(numbers), tuple(self.skipped))

    def start(self, text: str) -> None:
        s = section_of(text, len(self.sections))
        known = self.sections.get(s.no)
        if known and known.title != s.title:  # （一） under 一、 or a repeated numeral: kept apart
            s = Section(f"{s.no}{len(self.sections) + 1}", s.title)
        self.current = self.sections.setdefault(s.no, s)

    def row(self, where: str, cells: list[str]) -> None:
        cells += [""] * (len(self.roles) - len(cells))
        if header_roles(cells) == self.roles:
            return  # the header again, at the top of a new page
        filled = list(dict.fromkeys(c for c in cells if c))
        if not filled:
            return
        by: dict[str, list[str]] = {}
        for role, text in zip(self.roles, cells, strict=False):
            if role and text and text not in by.setdefault(role, []):
                by[role].append(text)
        no = next(iter(by.get("no", [])), "")
        if not _NUMBER.match(no) and len(filled) == 1:
            text = filled[0]
            if _SECTION.match(text) or cells.count(text) > 1 or len(one_line(text)) <= 30:
                self.start(text)
            else:
                self.skipped.append(f"{where}: {one_line(text)[:40]}")
            return
        tasks = by.get("task", [])
        heads = by.get("section", []) + [t for t in tasks if len(tasks) > 1 and _SECTION.match(t)]
        if heads:
            self.start(heads[0])
        tasks = [t for t in tasks if t not in heads]
        if not tasks:
            self.skipped.append(f"{where}: 没有任务内容 ({'、'.join(one_line(c)[:20] for c in filled)})")
            return
        self.items.append(Item(0, no, self.current, "：".join(one_line(t) for t in tasks),
                               "，".join(one_line(t) for t in by.get("deadline", [])), "\n".join(by.get("units", [])),
                               "\n".join(by.get("lead", [])), "\n".join(by.get("partner", [])), where))


def _rest(it: Item) -> tuple[str, Section | None, str, str, str, str, str, str]:
    return it.written_no, it.section, it.text, it.deadline, it.units, it.lead, it.partner, it.where


def task_list(tables: list[list[Row]]) -> TaskList | None:
    """The 任务清单 of a notice: every table with its header, read in order (a list split over two tables is
    one list); None when no table has one."""
    found = [t for t in map(read_rows, tables) if t is not None]
    if not found:
        return None
    sections = {s.no: s for t in found for s in t.sections}
    items = tuple(i for t in found for i in t.items)
    renumbered = any(t.renumbered for t in found) or len({i.no for i in items}) != len(items)
    if renumbered:
        items = tuple(Item(n, *_rest(i)) for n, i in enumerate(items, 1))
    return TaskList(tuple(sections.values()), items, renumbered, tuple(s for t in found for s in t.skipped))


def read_meta(text: str) -> Meta:
    """The plan's title (in 《》, a 方案 before a 清单), district (the title's opening place name), issue date
    (the date before 印发, else a line that is only a date) and year (the title's, else the issue date's)."""
    titles = [t.strip() for t in re.findall(r"《([^《》\n]{4,80})》", text)]
    title = (next((t for t in titles if "方案" in t), None) or next((t for t in titles if re.search(r"计划|要点|意见", t)), None)
             or next((line.strip() for line in text.splitlines()
                      if re.search(r"(方案|计划|要点|任务清单)$", line.strip()) and not line.strip().startswith("关于")
                      and len(line.strip()) <= 60), None))
    digits = arabic_numerals(clean(text))
    issued = None
    for m in [*re.finditer(_DATE.pattern + r"\s*印发", digits),
              *re.finditer(r"(?m)^\s*" + _DATE.pattern + r"\s*$", digits)]:
        try:
            issued = date(int(m[1]), int(m[2]), int(m[3]))
            break
        except ValueError:
            continue
    year_in_title = re.search(r"(\d{4})\s*年", arabic_numerals(title)) if title else None
    year = int(year_in_title[1]) if year_in_title else issued.year if issued else None
    district = _DISTRICT.match(title) if title else None
    return Meta(title, district[1] if district else None, issued, year)


def dated_year(items: tuple[Item, ...]) -> int | None:
    """The year the deadlines write out (2025年10月底前), the most common and then the earliest: the plan's year
    when the notice says it nowhere else (an Excel sheet holding only the table)."""
    years = Counter(int(y) for i in items for y in re.findall(r"(\d{4})\s*年", arabic_numerals(clean(i.deadline)))
                    if 2000 <= int(y) <= 2100)
    return min(years, key=lambda y: (-years[y], y)) if years else None


def text_table(text: str) -> tuple[list[Row], str]:
    """The table in pasted text as rows (the first the header), and the text around it."""
    lines = text.splitlines()
    piped = [i for i, line in enumerate(lines) if "|" in line]
    if piped:
        first, last = _header_line(lines, piped), piped[-1]
        tail = lines[last][lines[last].rfind("|") + 1:]
        outside = "\n".join([*lines[:first], tail, *lines[last + 1:]])
        if 2 * sum(lines[i].count("|") >= 2 for i in piped) >= len(piped):
            return _line_rows(lines, first, last, "|"), outside
        return _stream_rows(lines, first, last), outside
    tabbed = [i for i, line in enumerate(lines) if line.count("\t") >= 2 and header_roles(line.split("\t"))]
    if tabbed:
        first = tabbed[0]
        last = max(i for i, line in enumerate(lines) if "\t" in line)
        return _line_rows(lines, first, last, "\t"), "\n".join([*lines[:first], *lines[last + 1:]])
    return [], text


def _header_line(lines: list[str], piped: list[int]) -> int:
    """The line the table's header starts on: a row of header words (| 序号 | 主要任务 | …), or a header word
    ending in | followed by the others a line each; a stray | in the notice's words before it is passed over."""
    for n, i in enumerate(piped):
        if header_roles(lines[i].split("|")):
            return i
        words = [lines[j].rsplit("|", 1)[0] for j in piped[n:n + 8]]
        if role_of(words[0]) and header_roles(words):
            return i
    return piped[0]


def _line_rows(lines: list[str], first: int, last: int, sep: str) -> list[Row]:
    """A row a line (| a | b | or a<TAB>b); a line without the separator continues the row before, unless it reads
    as a section heading: Word and WPS copy a merged row as its bare text."""
    rows: list[Row] = []
    for i in range(first, last + 1):
        line = lines[i]
        if sep not in line:
            if heading := bare_heading(line):
                rows.append((f"第 {i + 1} 行", [heading]))
            elif rows and line.strip():
                rows[-1][1][-1] += "\n" + line.strip()
            continue
        cells = [c.strip() for c in line.split(sep)]
        if sep == "|" and line.strip().startswith("|"):
            cells = cells[1:]
        if sep == "|" and line.strip().endswith("|"):
            cells = cells[:-1]
        if cells and all(re.fullmatch(r":?-{2,}:?", c) for c in cells if c):
            continue  # a Markdown rule under the header
        rows.append((f"第 {i + 1} 行", cells))
    return rows


def bare_heading(line: str) -> str | None:
    """The heading a line holds alone (一、… （一）… 第一部分 …), else None. A heading is short and is not a
    sentence: a cell's second line that happens to open with （一） ends in punctuation, or runs on."""
    text = line.strip().strip("\"“”'")
    return text if (_SECTION.match(text) and len(text) <= 40 and text[-1] not in "。；;，,：:、") else None


def _stream_rows(lines: list[str], first: int, last: int) -> list[Row]:
    """Cells a line each, ending in |, as Word copies a table (the seed notice): empty cells fall out, a row
    starts at its 序号 (or every len(header) cells when the first column is not 序号), a 一、… cell is a section:
    of the row it opens, or of the next row when it comes after the content of one."""
    region = "\n".join(lines[first:last + 1])
    chunks = region.split("|")[:-1]
    cells: list[tuple[str, str]] = []
    line = first + 1
    for chunk in chunks:
        n = line + chunk[:len(chunk) - len(chunk.lstrip())].count("\n")
        head, _, rest = chunk.strip().partition("\n")
        if rest.strip() and (heading := bare_heading(head)):  # a bare section line, glued to the next cell
            cells += [(f"第 {n} 行", heading), (f"第 {n + 1} 行", rest.strip())]
        elif chunk.strip():
            cells.append((f"第 {n} 行", chunk.strip()))
        line += chunk.count("\n")
    header: list[str] = []
    while cells and (role := role_of(cells[0][1])) and role not in map(role_of, header) \
            and not _SECTION.match(cells[0][1]):
        header.append(cells.pop(0)[1])
    rows: list[Row] = [(f"第 {first + 1} 行", header)]
    numbered = bool(header) and role_of(header[0]) == "no"
    record: list[str] = []
    at = ""

    def close() -> None:
        if record:
            rows.append((at, list(record)))
            record.clear()

    for where, text in cells:
        if _SECTION.match(text) and not _NUMBER.match(text):
            if len(record) > 1 or (record and not numbered):
                close()
            rows.append((where, [text]))
            continue
        if (numbered and _NUMBER.match(text) and record) or (not numbered and len(record) == len(header)):
            close()
        if not record:
            at = where
        record.append(text)
    close()
    return rows
