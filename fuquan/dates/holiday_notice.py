"""The State Council's annual holiday notice (《国务院办公厅关于2026年部分节假日安排的通知》), read as published,
and the plan file's `calendar:` block written from it.

Pure: text in, dates and text out. Each festival line (二、春节：2月15日（…周日）至23日（…周一）放假调休，共9天。
2月14日（周六）、2月28日（周六）上班。) is read whole or refused with its line number; the weekday and the day count
printed beside the dates are checked, so a wrong year or a typo stops the import instead of moving a holiday.
Sentences that arrange nothing (鼓励……安排职工在除夕休息, 与周末连休) are passed over.
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import date, timedelta
from typing import Any, NoReturn

from ruamel.yaml import YAML
from ruamel.yaml.comments import CommentedMap

from fuquan.errors import InvalidValue
from fuquan.words.text import arabic_numerals, clean

# Matched against a line after clean() (full-width → ASCII), arabic_numerals() and with all whitespace removed.
_D = r"(?:\d{4}年)?(?:\d{1,2}月)?\d{1,2}日(?:\([^)]*\))?"
_DATE = re.compile(r"(?:(\d{4})年)?(?:(\d{1,2})月)?(\d{1,2})日(?:\(([^)]*)\))?")
_RANGE = re.compile(rf"({_D})(?:(?:至|到|~|—|–|-)({_D}))?")
_TITLE = re.compile(r"(\d{4})年(?:部分)?节假日(?:放假)?安排")
_SECTION = re.compile(r"(?:\d{1,2}[、.])?([^:,。()]{1,20}):(.*)")
_ORDINAL = re.compile(r"\d{1,2}、")
_CLAUSE = re.compile(r"[,;。](?![^(]*\))")  # a separator outside parentheses: (农历除夕,周二) stays whole
_ITEM = re.compile(r"[、和及](?![^(]*\))")
_WEEKDAY = re.compile(r"(?:周|星期)([1-7日天])")
WEEKDAYS = "一二三四五六日"
EXAMPLE = "应为 “1月1日（周四）至3日（周六）放假调休，共3天” 或 “1月4日（周日）上班” 这样的写法"


@dataclass(frozen=True)
class Festival:
    name: str  # 春节, 国庆节、中秋节: as the notice names it
    line: int
    holidays: tuple[date, ...]  # every day of its 放假 range(s)
    workdays: tuple[date, ...]  # its 调休 make-up working days


@dataclass(frozen=True)
class Notice:
    year: int
    title: str  # the title line as given; "" when the year came from the caller
    festivals: tuple[Festival, ...]

    @property
    def holidays(self) -> frozenset[date]:
        return frozenset(d for f in self.festivals for d in f.holidays)

    @property
    def workdays(self) -> frozenset[date]:
        return frozenset(d for f in self.festivals for d in f.workdays)

    @property
    def years(self) -> list[int]:
        """The notice's own year, and any other its dates reach (2018年12月30日至2019年1月1日)."""
        return sorted({self.year} | {d.year for d in self.holidays | self.workdays})


@dataclass(frozen=True)
class _Where:
    source: str
    line: int
    text: str

    def fail(self, reason: str) -> NoReturn:
        shown = self.text.strip()
        shown = shown if len(shown) <= 60 else shown[:59] + "…"
        raise InvalidValue(f"{self.source} 第 {self.line} 行 “{shown}”: {reason}")


def parse_notice(text: str, year: int | None = None, source: str = "通知") -> Notice:
    """The notice's festivals; `year` stands in for a title that was not pasted (and must agree with one that was)."""
    lines = [(n, raw, re.sub(r"\s+", "", arabic_numerals(clean(raw)))) for n, raw in enumerate(text.splitlines(), 1)]
    title = next(((raw.strip(), int(m[1])) for _, raw, t in lines if (m := _TITLE.search(t))), None)
    if title and year and title[1] != year:
        raise InvalidValue(f"{source} 是 {title[1]} 年的通知 (标题: {title[0]}), 与指定的 {year} 年不一致; "
                           "请核对文件, 或去掉 --year")
    if year is None:
        if title is None:
            raise InvalidValue(f"{source} 中没有找到通知标题里的年份; 请把标题(如《国务院办公厅关于2026年部分节假日"
                               "安排的通知》)一并粘贴进来, 或用 --year 指明年度")
        year = title[1]
    festivals = [f for n, raw, t in lines if (f := _festival(t, year, _Where(source, n, raw)))]
    if not festivals:
        raise InvalidValue(f"{source} 中没有找到任何放假安排 (应有 “一、元旦：1月1日放假……” 这样的行); "
                           "请确认这是国务院办公厅的节假日安排通知")
    _no_day_twice(festivals, source)
    return Notice(year, title[0] if title else "", tuple(festivals))


def _festival(t: str, year: int, where: _Where) -> Festival | None:
    m = _SECTION.fullmatch(t)
    if not m or not re.search("放假|上班", m[2]):
        if _ORDINAL.match(t) or (re.search(r"\d月\d{1,2}日", t) and re.search("放假|上班", t)):
            where.fail(f"看不出是哪个节日的什么安排; {EXAMPLE}, 前面写节日名称和冒号")
        return None  # title, 文号, addressees, the closing sentence, the signature
    holidays: list[date] = []
    workdays: list[date] = []
    last: list[date] = []  # the range a following 共N天 counts
    for clause in filter(None, _CLAUSE.split(m[2])):
        if "放假" in clause:
            last = _holiday(clause, year, where)
            holidays += last
        elif clause.endswith("上班"):
            workdays += _workdays(clause.removesuffix("上班").removesuffix("调休"), year, where)
        elif count := re.fullmatch(r"共(\d+)天", clause):
            _check_count(last, int(count[1]), where)
        elif "上班" in clause:
            where.fail(f"看不懂 “{clause}”; {EXAMPLE}")
    if not holidays:
        where.fail(f"没有找到放假日期; {EXAMPLE}")
    return Festival(m[1], where.line, tuple(holidays), tuple(workdays))


def _holiday(clause: str, year: int, where: _Where) -> list[date]:
    head, _, rest = clause.partition("放假")
    m = _RANGE.fullmatch(head)
    if not m or re.search(r"\d+[月日]", rest):
        where.fail(f"看不懂 “{clause}”; {EXAMPLE}")
    first = _date(m[1], year, None, where)
    last = _date(m[2], first.year, first.month, where) if m[2] else first
    if last < first:
        where.fail(f"放假的止日 {last} 早于起日 {first}")
    days = [first + timedelta(days=n) for n in range((last - first).days + 1)]
    if count := re.match(r"(\d+)天", rest):  # 放假1天
        _check_count(days, int(count[1]), where)
    return days


def _workdays(head: str, year: int, where: _Where) -> list[date]:
    days: list[date] = []
    for item in _ITEM.split(head):
        if not _DATE.fullmatch(item):
            where.fail(f"看不懂上班日期 “{item or head}”; {EXAMPLE}")
        days.append(_date(item, days[-1].year if days else year, days[-1].month if days else None, where))
    return days


def _date(token: str, year: int, month: int | None, where: _Where) -> date:
    m = _DATE.fullmatch(token)
    if not m:
        where.fail(f"看不懂日期 “{token}”; {EXAMPLE}")
    y, mo = int(m[1] or year), int(m[2]) if m[2] else month
    if mo is None:
        where.fail(f"“{token}” 缺少月份")
    try:
        d = date(y, mo, int(m[3]))
    except ValueError:
        where.fail(f"{y} 年没有 {mo}月{m[3]}日")
    if m[4] and (w := _WEEKDAY.search(m[4])):
        said = 6 if w[1] in "7日天" else int(w[1]) - 1
        if said != d.weekday():
            where.fail(f"{d} 是周{WEEKDAYS[d.weekday()]}, 通知写的是周{WEEKDAYS[said]}; 请核对年份(标题或 --year)和日期")
    return d


def _check_count(days: list[date], count: int, where: _Where) -> None:
    if days and len(days) != count:
        where.fail(f"{days[0]} 至 {days[-1]} 共 {len(days)} 天, 通知写的是 {count} 天; 请核对日期")


def _no_day_twice(festivals: list[Festival], source: str) -> None:
    seen: dict[date, tuple[int, str]] = {}
    for f in festivals:
        for kind, days in (("放假", f.holidays), ("上班", f.workdays)):
            for d in days:
                if d in seen:
                    line, before = seen[d]
                    raise InvalidValue(f"{source} 第 {f.line} 行: {d} 已在第 {line} 行写为{before}, 这里又写为{kind}; "
                                       "请核对原文")
                seen[d] = (f.line, kind)


def ranges(days: Iterable[date]) -> list[tuple[date, date]]:
    """Consecutive days as (first, last) runs, in order."""
    runs: list[tuple[date, date]] = []
    for d in sorted(set(days)):
        if runs and d - runs[-1][1] == timedelta(days=1):
            runs[-1] = (runs[-1][0], d)
        else:
            runs.append((d, d))
    return runs


def span_text(first: date, last: date) -> str:
    return first.isoformat() if first == last else f"{first}~{last}"


Item = tuple[str, str]  # an entry of a holidays/workdays list (2026-02-15~2026-02-23) and its comment (春节)


def items(notice: Notice, year: int) -> tuple[list[Item], list[Item]]:
    """The `holidays:` and `workdays:` entries the notice gives `year`, each named by its festival."""
    holidays = [(span_text(a, b), f.name) for f in notice.festivals
                for a, b in ranges(d for d in f.holidays if d.year == year)]
    workdays = [(d.isoformat(), f.name) for f in notice.festivals for d in f.workdays if d.year == year]
    return sorted(holidays), sorted(workdays)


def entry_lines(year: int, holidays: list[Item], workdays: list[Item], *, indent: int = 2, step: int = 2,
                title: str = "") -> list[str]:
    """One year of the `calendar:` block, as block lists so each entry can carry its festival's name."""
    pad, inner = " " * indent, " " * (indent + step)
    lines = [f"{pad}{year}:" + (f"   # 据《{title.strip('《》')}》" if title else "")]
    for key, entries in (("holidays", holidays), ("workdays", workdays)):
        lines.append(f"{inner}{key}:" + ("" if entries else " []"))
        lines += [f"{inner}{' ' * step}- " + (f"{text:<21}  # {name}" if name else text) for text, name in entries]
    return lines


def render_block(notice: Notice) -> str:
    """The notice as the plan file's `calendar:` block (every year its dates reach)."""
    lines = ["calendar:"]
    for y in notice.years:
        lines += entry_lines(y, *items(notice, y), title=notice.title if y == notice.year else "")
    return "\n".join(lines) + "\n"


HEADING = ["# ── 节假日安排 " + "─" * 62,
           "# 按国务院办公厅当年的节假日安排通知填写 (可由 fuquan calendar import 导入); 写了的日子以此为准。"]


def into_plan(plan_text: str, notice: Notice) -> tuple[str, bool]:
    """The plan file's text with the notice in its `calendar:` block: the notice's year replaced if there, a year
    its dates only reach added to. The rest stays byte for byte: the lines are spliced in where ruamel's round-trip
    loader places the keys (dumping the document would re-flow the plan's hand-wrapped lists).
    Returns the text and whether the notice's year was already there."""
    root = YAML(typ="rt").load(plan_text)
    lines = plan_text.splitlines(keepends=True)
    nl = "\r\n" if "\r\n" in plan_text else "\n"
    if lines and not lines[-1].endswith(("\n", "\r")):
        lines[-1] += nl
    edits: list[tuple[int, int, list[str]]] = []  # (first line, end line, new lines) on the original numbering
    replaced = False
    if "calendar" not in root:
        at = _heading_start(lines, root.lc.key("units")[0]) if "units" in root else len(lines)
        block = [line for y in notice.years for line in _entry(notice, y, None, 2, 2)]
        edits.append((at, at, [*HEADING, "calendar:", *block, ""]))
    else:
        cal = root["calendar"]
        start, stop = _span(root, "calendar", len(lines), lines)
        if not isinstance(cal, CommentedMap) or not cal or cal.fa.flow_style():
            # `calendar:` with nothing under it, or a flow mapping: written out again in block form, years kept
            given = {y: v for k, v in (cal or {}).items() if (y := _year(k)) is not None}
            replaced = notice.year in given
            block = [line for y in sorted(set(given) | set(notice.years))
                     for line in _entry(notice, y, given.get(y), 2, 2)]
            edits.append((start, stop, ["calendar:", *block]))
        else:
            keys = {_year(k): k for k in cal}
            indent, step = cal.lc.key(next(iter(cal)))[1], _step(cal)
            added: list[str] = []
            for y in notice.years:
                if y in keys:
                    s, e = _span(cal, keys[y], stop, lines)
                    edits.append((s, e, _entry(notice, y, cal[keys[y]], indent, step)))
                    replaced |= y == notice.year
                else:
                    added += _entry(notice, y, None, indent, step)
            if added:
                edits.append((stop, stop, added))
    for s, e, new in sorted(edits, reverse=True):
        lines[s:e] = [line + nl for line in new]
    return "".join(lines), replaced


def _entry(notice: Notice, year: int, given: object, indent: int, step: int) -> list[str]:
    holidays, workdays = items(notice, year)
    if year != notice.year and given is not None:  # a year the notice only reaches: its entry is added to
        holidays, workdays = _merge(_listed(given, "holidays"), holidays), _merge(_listed(given, "workdays"), workdays)
    return entry_lines(year, holidays, workdays, indent=indent, step=step,
                       title=notice.title if year == notice.year else "")


def _listed(given: object, key: str) -> list[str]:
    values = given.get(key) if isinstance(given, dict) else None
    return [str(v) for v in values or []]


def _merge(old: list[str], new: list[Item]) -> list[Item]:
    have = {d for text in old for d in _expand(text)}
    return sorted([(text, "") for text in old] + [(t, n) for t, n in new if not set(_expand(t)) <= have])


def _expand(text: str) -> list[date]:
    a, sep, b = text.partition("~")
    try:
        first = date.fromisoformat(a.strip())
        last = date.fromisoformat(b.strip()) if sep else first
    except ValueError:
        return []
    return [first + timedelta(days=n) for n in range((last - first).days + 1)]


def _year(key: object) -> int | None:
    text = str(key).strip()
    return int(text) if text.isdigit() else None


def _span(mapping: Any, key: object, end: int, lines: list[str]) -> tuple[int, int]:
    """The lines of `key`'s entry: up to the next key (or `end`), without the comments and blank lines that lead
    into what follows."""
    keys = list(mapping)
    at = keys.index(key)
    start = mapping.lc.key(key)[0]
    stop = mapping.lc.key(keys[at + 1])[0] if at + 1 < len(keys) else end
    while stop > start + 1 and (not lines[stop - 1].strip() or lines[stop - 1].lstrip().startswith("#")):
        stop -= 1
    return start, stop


def _step(cal: Any) -> int:
    """How far the plan indents a year's keys under the year (2 unless an entry shows otherwise)."""
    for key, value in cal.items():
        if isinstance(value, CommentedMap) and value and not value.fa.flow_style():
            return int(value.lc.key(next(iter(value)))[1] - cal.lc.key(key)[1])
    return 2


def _heading_start(lines: list[str], at: int) -> int:
    """The first line of the comment block heading the top-level key on line `at` (the new block goes above it)."""
    while at > 0 and lines[at - 1].startswith("#"):
        at -= 1
    return at
