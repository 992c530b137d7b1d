"""The deadline language: a 完成时限 phrase + the plan year → a Deadline (deadline_model.py). Pure, no I/O.

A phrase is read in this order:
  1. an open kind, on the words as written (统一 must not become 统1): 持续推进, 按县委县政府部署, 适时, 立行立改;
  2. clauses, split at ，；： and brackets (5月底前完成，此后每月10日前报送; 分两批：6月底前、9月底前): a clause
     without a date is description and dropped; 此后/之后 starts a recurrence after the part before it;
     several clauses with dates make a compound deadline;
  3. each clause: 每… a recurrence; X起 an ongoing start; A至B a range; else one date with its time of day.
     A start followed by a time, in the same clause or the next (自6月起每月10日前, 自6月起，每月10日前,
     自6月起、每月10日前), starts that time: a recurrence is owed from then on, a date becomes the range from the start
     to it (自6月起，9月底前 = 6月至9月底), a range begins no earlier. A start alone (自今年5月起) is ongoing from then.
     Words that carry no date are dropped before (原则上、力争于、到) and after (实现全覆盖、基本完成).
An unknown phrase raises DeadlineError naming it: we never guess a date for the 专班.
"""

from __future__ import annotations

import re
from dataclasses import replace
from datetime import date, timedelta

from fuquan.dates.calendar_math import month_end
from fuquan.dates.deadline_model import OPEN_KINDS, Deadline, Recurrence, due_dates, owed_periods
from fuquan.dates.deadline_words import (
    AFTER,
    BEFORE,
    LEAD,
    STAGE,
    as_time,
    clauses,
    is_description,
    items,
    open_kind,
    strip_tail,
)
from fuquan.errors import DeadlineError
from fuquan.words.text import arabic_numerals, clean

__all__ = ["Deadline", "due_dates", "owed_periods", "parse_deadline"]  # what callers import from here

MAX_LENGTH = 120  # the longest real 完成时限 is a few clauses; more is a whole paragraph pasted into the cell
_WEEKDAY = {"1": 1, "2": 2, "3": 3, "4": 4, "5": 5, "6": 6, "7": 7, "日": 7, "天": 7, "末": 7}
_YEAR = r"(?:(?P<y>\d{4})年|(?P<next>次年|明年|下一年|翌年)|(?P<this>(?:当|本|今)年度?))?"
_DAY = re.compile(rf"^{_YEAR}(?P<m>\d{{1,2}})月(?:(?P<d>\d{{1,2}})[日号])?(?P<part>底|末|上旬|中旬|下旬|上中旬|中下旬|份|内|份内)?$")
_YEAR_PART = re.compile(rf"^{_YEAR}(?:第)?(?:(?P<q>[1-4])季度|(?P<h>上半年|下半年)|(?P<end>年底|年末|年内|全年|底|末|内|度|年度))?"
                        r"(?:末|底)?$")
_RANGE_SEP = re.compile(r"至|到|—+|–+|―+|~+|-+")
_START = re.compile(r"^(?:从|自|由)?(?P<at>.+?)(?:起|开始)(?P<rest>.*)$")
_PERCENT = re.compile(r"(?:\d+(?:\.\d+)?%|百分之\d+(?:\.\d+)?)(?:以上|以下|左右)?")
_ISO = re.compile(r"(?<!\d)(\d{4})[-./](\d{1,2})[-./](\d{1,2})(?!\d)")
_YEAR_MONTH = re.compile(r"(?<!\d)(\d{4})\.(\d{1,2})(?![\d.])")
_MONTH_DAY = re.compile(r"(?<![\d.])(1[0-2]|0?[1-9])\.(3[01]|[12]\d|0?[1-9])(?![\d.])")


def parse_deadline(text: str, year: int) -> Deadline:
    """Parse one 完成时限 phrase against the plan year."""
    base = re.sub(r"\s+", "", clean(text)).strip(",.;:。、")
    if not base:
        raise DeadlineError(text, "完成时限为空")
    if len(base) > MAX_LENGTH:
        raise DeadlineError(text[:40] + "…", f"完成时限过长 ({len(base)} 字), 最多 {MAX_LENGTH} 字: 请只写时限, 任务内容写在 text 中")
    if kind := open_kind(base):
        return Deadline(text, kind)
    parts: list[Deadline] = []
    begun: Deadline | None = None  # a start clause alone (自6月起，…): it starts the next clause that names a time
    for clause in clauses(base):
        s = _numerals(clause)
        after = AFTER.match(s)
        s = STAGE.sub("", s[after.end():] if after else s)
        if not s or (is_description(s) and not open_kind(s)):
            continue  # 完成初稿, 第一批: what is to be done, not when
        since = _after([p for p in parts if p is not begun]) if after else None
        got = _clause(text, clause, s, year, since)
        if begun and begun.start and any(p.kind not in OPEN_KINDS for p in got):
            parts.remove(begun)  # 自6月起，每月10日前报送: the same as without the comma
            got = [_from(text, begun.start, p) for p in got]
            begun = None
        elif len(got) == 1 and got[0].kind == "ongoing" and got[0].start:
            begun = got[0]
        parts += got
    dated = [p for p in parts if p.kind not in OPEN_KINDS]
    if not parts:
        raise DeadlineError(text, _hint())
    if len(parts) == 1 or not dated:
        return replace(parts[0], text=text)
    if len(dated) == 1:
        return replace(dated[0], text=text)  # 3月底前完成，持续推进: the date is what can be late
    return Deadline(text, "compound", parts=tuple(parts))


def _numerals(s: str) -> str:
    s = arabic_numerals(s)
    s = _PERCENT.sub("", s)  # 完成60%以上: an amount of the work, not a date
    s = _ISO.sub(r"\1年\2月\3日", s)  # 2024-06-30, 2024.6.30, 2024/6/30
    s = _YEAR_MONTH.sub(r"\1年\2月", s)
    return _MONTH_DAY.sub(r"\1月\2日", s)  # 6.30


def _after(parts: list[Deadline]) -> date | None:
    """此后/之后: the day after the last date of the parts before."""
    last = [d for p in parts for d in ([p.due] if p.due else p.dates())]
    return max(last) + timedelta(days=1) if last else None


def _clause(text: str, raw: str, s: str, year: int, since: date | None) -> list[Deadline]:
    s = LEAD.sub("", s)
    if kind := open_kind(s):
        return [Deadline(raw, kind)]
    if s.startswith(("每", "按")):
        return [replace(p, start=since) if since else p for p in _recurrences(text, raw, s)]
    if started := _started(text, raw, s, year):  # before the list: 自6月起、每月10日前 is one start, not two items
        return [started]
    pieces = items(s)
    if len(pieces) > 1:
        return [_simple(text, piece, piece, year) for piece in pieces]
    return [_simple(text, raw, s, year)]


def _simple(text: str, raw: str, s: str, year: int) -> Deadline:
    s = LEAD.sub("", s)
    if started := _started(text, raw, s, year):
        return started
    s = re.sub(r"^(?:从|自)", "", strip_tail(s))
    s = re.sub(r"(?:开始|起)(?=至|到|-|—|~)", "", s)
    s = re.sub(r"(?:结束|为止|止)$", "", s)
    sides = _RANGE_SEP.split(s)
    if len(sides) == 2 and all(sides):
        if re.fullmatch(r"即日起?", sides[0]):  # 即日起至6月底: only the end can be late
            due, time = _when(text, sides[1], year)
            return Deadline(raw, "date", due=due, time=time)
        start, end = _range(text, sides[0], sides[1], year)
        return Deadline(raw, "range", due=end, start=start)
    if len(sides) > 2 or (len(sides) == 2 and not all(sides)):
        raise DeadlineError(text, "时段只能有一个起点和一个终点")
    due, time = _when(text, s, year)
    return Deadline(raw, "date", due=due, time=time)


def _started(text: str, raw: str, s: str, year: int) -> Deadline | None:
    """从2024年起 / 自今年5月起: ongoing from then on; 2024年6月起每月10日前: a recurrence from then on."""
    m = _START.match(s)
    if not m or s.startswith("即日") or _RANGE_SEP.search(m["rest"]):
        return None
    try:
        start = _point(text, LEAD.sub("", m["at"]), year, end=False)
    except DeadlineError:
        return None  # 6月底前起草: 起 is a word here, not a start
    after = m["rest"].lstrip("、")  # 自6月起、每月10日前: 、 after a start is the comma's
    rest = strip_tail(after)
    if not rest or is_description(rest):
        return Deadline(raw, "ongoing", start=start)
    if not rest.startswith("每") and _started(text, raw, after, year):
        raise DeadlineError(text, "只能有一个起点")  # 自6月起、7月起
    if rest.startswith("每"):
        timed = _recurrences(text, raw, rest)
    else:  # 自6月起9月底前: a date (or a list of dates) after the start
        timed = [p for r in items(rest) for p in _clause(text, raw if r == rest else r, r, year, None)]
    if any(p.kind in OPEN_KINDS for p in timed):
        raise DeadlineError(text, _hint())  # 5月起6月起, 5月起即日起: a start, then no time it starts
    timed = [_from(text, start, p) for p in timed]
    return timed[0] if len(timed) == 1 else Deadline(raw, "compound", parts=tuple(timed))


def _from(text: str, start: date, d: Deadline) -> Deadline:
    """A deadline started at `start`: a recurrence owed from then (or from its own later start), a date the range
    from the start to it, a range begun no earlier than the start; an open kind as it is."""
    if d.kind == "compound":
        return replace(d, parts=tuple(_from(text, start, p) for p in d.parts))
    if d.kind == "recurring":
        return replace(d, start=max(start, d.start) if d.start else start)
    if d.kind in ("date", "range") and d.due:
        begin = max(start, d.start) if d.start else start
        if d.due < begin:
            raise DeadlineError(text, f"时段终点 {d.due} 早于起点 {begin}")
        return replace(d, kind="range", start=begin)
    return d


def _when(text: str, s: str, year: int) -> tuple[date, str | None]:
    """One date, as a due date: the tail of what is to be achieved and 前 dropped, a time of day kept."""
    s = strip_tail(s)
    if re.search(r"\d月份?(以前|之前|前)$", s):
        # "4月前" reads as "before April" to some and "by April's end" to others: ask, don't guess.
        raise DeadlineError(text, "“X月前”有歧义, 请写作 X月底前 或 X月1日前")
    s = BEFORE.sub("", s)
    s, time = as_time(text, s)
    return _point(text, s, year, end=True), time


def _point(text: str, s: str, year: int, *, end: bool) -> date:
    """One point in time; `end` picks the last day of a period (4月 → 04-30) or the first (04-01)."""
    if m := _DAY.match(s):
        y = _year(text, m, year)
        month = _check_month(text, int(m["m"]))
        part = m["part"]
        if m["d"]:
            if part and part.endswith("旬"):
                raise DeadlineError(text, "日期与上/中/下旬不能同时出现")
            return _make_date(text, y, month, int(m["d"]))
        if part and part.endswith("旬"):
            # 上旬 ends the 10th, 中旬 the 20th, 下旬 the month's end; a range starts at 1/11/21 (中下旬: 11 to the end).
            if end:
                return date(y, month, 10) if part == "上旬" else date(y, month, 20) if part in ("中旬", "上中旬") \
                    else month_end(y, month)
            return date(y, month, {"上旬": 1, "上中旬": 1, "中旬": 11, "中下旬": 11, "下旬": 21}[part])
        return month_end(y, month) if end else date(y, month, 1)
    if (m := _YEAR_PART.match(s)) and any(m[g] for g in ("y", "next", "this", "q", "h", "end")):
        y = _year(text, m, year)
        if m["q"]:
            first, last = 3 * int(m["q"]) - 2, 3 * int(m["q"])
        elif m["h"]:
            first, last = (1, 6) if m["h"] == "上半年" else (7, 12)
        else:
            first, last = 1, 12
        return month_end(y, last) if end else date(y, first, 1)
    raise DeadlineError(text, _hint())


def _range(text: str, a: str, b: str, year: int) -> tuple[date, date]:
    # 4月1日至10日 / 4至6月 / 2023-2025年 / 2024年4月1日--4月10日: a side that omits what the other says borrows it.
    if re.fullmatch(r"\d{1,2}[日号]", b) and (m := _DAY.match(a)) and m["d"]:
        b = f"{m['y'] + '年' if m['y'] else ''}{m['m']}月{b}"
    if re.fullmatch(r"\d{1,2}", a) and "月" in b:
        a = f"{a}月"
    if re.fullmatch(r"\d{4}", a) and re.match(r"\d{4}年", b):
        a = f"{a}年"
    if (y := re.match(r"\d{4}年", a)) and not re.match(r"\d{4}年|次年|明年|下一年|翌年", b):
        b = y[0] + b
    start = _point(text, a, year, end=False)
    end, _ = _when(text, b, year)
    if end < start:
        raise DeadlineError(text, f"时段终点 {end} 早于起点 {start}")
    return start, end


def _recurrences(text: str, raw: str, s: str) -> list[Deadline]:
    """每月5日、15日、25日前 → one recurrence per day written; 每月10日前 → one."""
    s = re.sub(r"^按", "每", s)
    s = re.sub(r"^每(?:1?个|1)(?=[月季周星礼年半])", "每", s)
    s = re.sub(r"^每(月|年)\1", r"每\1", s)  # 每月月底, 每年年底
    pieces = items(s)
    freq = re.match(r"每(月|季度|季|半年|年|周|星期|礼拜)", pieces[0])
    out = []
    for piece in pieces:
        if not piece.startswith("每"):
            piece = "每" + (piece if re.match(r"(周|星期|礼拜|月|季|年|半年)", piece) or not freq else freq[1] + piece)
        rule, time = _recurrence(text, piece[1:])
        out.append(Deadline(piece if len(pieces) > 1 else raw, "recurring", rule=rule, time=time))
    return out


def _recurrence(text: str, s: str) -> tuple[Recurrence, str | None]:
    s = re.sub(r"(?:至少|不少于|不低于)?[1一]次[^\d年月日号旬季度周前后底末内每]*$", "", s)  # 开展1次评估
    s = strip_tail(s)
    s = BEFORE.sub("", s)
    s, time = as_time(text, s)
    return _rule(text, s), time


def _rule(text: str, s: str) -> Recurrence:
    if m := re.fullmatch(r"月(?:(\d{1,2})[日号]|(底|末)|(上旬|中旬|下旬))?", s):
        if m[1]:
            day = int(m[1])
            if not 1 <= day <= 31:
                raise DeadlineError(text, f"每月 {day} 日不存在")
            return Recurrence("monthly", day=day)
        if m[3]:
            return Recurrence("monthly", day={"上旬": 10, "中旬": 20, "下旬": 0}[m[3]])
        return Recurrence("monthly")
    if re.fullmatch(r"季度?(?:末|底|结束)?", s):
        return Recurrence("quarterly")
    if m := re.fullmatch(r"季度?(?:的)?(首月|初月|末月|最后1个?月|第?([1-3])个?月)的?(?:(\d{1,2})[日号]|底|末)?", s):
        month = 1 if m[1] in ("首月", "初月") else 3 if m[1] in ("末月",) or m[1].startswith("最后") else int(m[2])
        return Recurrence("quarterly", day=_day_of_month(text, m[3]), month=month)
    if re.fullmatch(r"半年度?(?:末|底)?", s):
        return Recurrence("half_yearly")
    if m := re.fullmatch(r"(?:周|星期|礼拜)([1-7日天末])?", s):
        return Recurrence("weekly", weekday=_WEEKDAY[m[1]] if m[1] else 7)
    if m := re.fullmatch(r"年度?(?:第)?(?:([1-4])季度|(上|下)半年)(?:末|底)?", s):
        return Recurrence("yearly", month=3 * int(m[1]) if m[1] else 6 if m[2] == "上" else 12)
    if m := re.fullmatch(r"年度?(?:(\d{1,2})月(?:(\d{1,2})[日号]|底|末|(上旬|中旬|下旬))?|底|末)?", s):
        month = _check_month(text, int(m[1])) if m[1] else 12
        day = int(m[2]) if m[2] else {"上旬": 10, "中旬": 20}.get(m[3] or "", 0)
        if day:
            _make_date(text, 2024, month, day)  # validates against a leap year
        return Recurrence("yearly", day=day, month=month)
    raise DeadlineError(text, "周期写法应为 每月X日前、每月底前、每季度末、每季度首月X日前、每半年、每周X前、"
                              "每年X月X日前 或 每季度报送一次")


def _day_of_month(text: str, day: str | None) -> int:
    if day and not 1 <= int(day) <= 31:
        raise DeadlineError(text, f"{day} 日不存在")
    return int(day) if day else 0


def _year(text: str, m: re.Match[str], year: int) -> int:
    if m["y"]:
        if not 1949 < int(m["y"]) < 2200:
            raise DeadlineError(text, f"年份 {m['y']} 不合理, 请检查是否输错")
        return int(m["y"])
    return year + 1 if m["next"] else year


def _check_month(text: str, month: int) -> int:
    if not 1 <= month <= 12:
        raise DeadlineError(text, f"月份 {month} 不存在")
    return month


def _make_date(text: str, y: int, month: int, day: int) -> date:
    try:
        return date(y, month, day)
    except ValueError:
        raise DeadlineError(text, f"{y}年{month}月{day}日不存在") from None


def _hint() -> str:
    return ("可用写法: X月底前、X月上/中/下旬前、X月X日前(可带时刻, 如 下午5:30前)、YYYY年X月底前、年底前、一季度、"
            "上半年、次年X月底前、每月X日前、每季度末、每季度首月X日前、每周X前、4月至6月、2024年起、"
            "5月底前完成，此后每月10日前报送、持续推进、按上级部署、另行通知、立即")
