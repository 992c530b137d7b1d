"""The words around a date in a 完成时限 (deadline.py reads the date itself). Pure.

Open kinds are matched on the text before Chinese numerals become digits (统一 must stay 统一, 第一时间 too).
"""

from __future__ import annotations

import re

from fuquan.errors import DeadlineError

# Whose deployment a task waits for: a level of government or a body of it.
_LEVEL = r"(?:上级|国家|中央|省|市|州|盟|县|区|旗|镇|乡|街道|党委|政府|委|部|厅|局|办|领导小组|指挥部)"
_OPEN_RULES = (
    ("to_be_decided", r"(?:另行(?:通知|规定|确定|安排|明确|部署)|(?:具体)?时间另定|适时(?:开展|推进|启动|实施|组织)?|待定"
                      r"|视情况?(?:而定|确定|安排)?|(?:根据|视|结合)(?:工作)?(?:需要|实际|进展|情况)(?:确定|而定|安排)?)"),
    ("per_higher_level", rf"(?:按照?|根据|依据|遵照|服从)[^\d]{{0,16}}?{_LEVEL}[^\d]{{0,16}}?"
                         r"(?:统一)?(?:部署|要求|安排|规定|时限|时间节点|进度)(?:执行|推进|落实|完成|开展|进行|实施)?"),
    ("immediate", r"(?:立即|即时|马上|即刻|立刻|即日起|立行立改|即知即改|即查即改|立查立改|边查边改|第一时间|及时|随时)"
                  r"(?:执行|开展|落实|整改|办理|推进|完成|启动|报告|上报|报送|处置|响应|更新)?"),
    ("ongoing", r"(?:持续|长期|常态化|常年|贯穿全年|全年|长效|动态|持之以恒|常抓不懈|久久为功)"
                r"(?:推进|开展|坚持|跟进|实施|执行|落实|有效|更新|调整|管理|监管|抓好)?(?:中)?"),
)
_OPEN = [(kind, re.compile(rf"(?:原则上|须|需|要|应|务必|必须)?{rule}")) for kind, rule in _OPEN_RULES]

LEAD = re.compile(r"^(?:原则上|力争|争取|确保|务必|必须|最迟|最晚|不晚于|不迟于|须|需|要|应|在|于|截至|截止|到|至)+")
AFTER = re.compile(r"^(?:此后|之后|以后|其后|后续|随后|然后|并且?|且|再|同时|今后)")
STAGE = re.compile(r"^(?:分\d+(?:批|个?阶段|步|轮)(?:完成|实施|推进|进行)?|第\d+(?:批|个?阶段|步|轮)|首批|末批|最后1批)")
BEFORE = re.compile(r"(?:以前|之前|前)$")
# A tail of what is to be achieved (实现全覆盖, 基本完成, 报送上月情况): words that say no time. What stops it:
# digits and the characters of dates, times and hedges (3月底前后, 6月底左右 are refused, not shortened).
# 上月/本季度 anywhere, 年度/半年 before more words (年度总结), are objects of the work, not its date.
_STOP = r"\d年月日号旬季度周前后底末内每初午班时点:~\-—左右约或许"
_TAIL = re.compile(rf"(?:(?:上|本|当)个?(?:月|季度|年度|周)|(?<![\d第每上下本当全])(?:年度|季度|月度|月份|半年)(?=[^{_STOP}])"
                   rf"|(?<!\d)[点时]|[^{_STOP}])+$")  # 试点 is a word, 5点 a time
_AFTER_BEFORE = re.compile(r"(?:以前|之前|前)(?P<rest>[^\d:]+)$")
_HEDGE = re.compile(r"后|左右|约|或|至|到")  # 3月底前后: refused, not shortened
_RELATIVE = re.compile(r"(?:上|本|当|下)?个?(?:月度|月|季度|年度|半年|周)")
_DATE_IN_TAIL = re.compile(r"[年月日号旬季周]")
_DATE_WORD = re.compile(r"[\d年月日号旬季周前底末内每]")
_TIME = re.compile(r"(?P<ampm>上午|下午|中午|晚上|早上|凌晨|晚)?(?:(?P<h>\d{1,2})(?::(?P<mi>\d{2})|[点时](?:(?P<m2>\d{1,2})分?|(?P<half>半)|整)?)"
                   r"|(?P<off>下班))$")
_WEEKDAY_NOTE = re.compile(r"\((?:星期|周|礼拜)[一二三四五六日天1-7]\)")


def open_kind(s: str) -> str | None:
    for kind, rule in _OPEN:
        if rule.fullmatch(s):
            return kind
    return None


def clauses(base: str) -> list[str]:
    """Clauses of a phrase: split at ，；。： (not the colon of 5:30) and brackets; 5月10日（星期三） stays one."""
    s = _WEEKDAY_NOTE.sub("", base)
    return [c for c in re.split(r"[,;。()\[\]【】]|(?<!\d):|:(?!\d)", s) if c]


def items(s: str) -> list[str]:
    """A list of dates: 5月、11月 / 6月底和7月底 / 每月5日、15日、25日前; a later item borrows the year or the month
    it leaves out from the one before (2024年5月、11月; 4月5日、15日). Fewer than two dates: not a list."""
    pieces = [p for p in re.split(r"、|和|及", s) if p]
    if sum(not is_description(p) for p in pieces) < 2:
        return [s]  # 6月底前完成调研和起草: one date, and what is to be done
    pieces = [p for p in pieces if not is_description(p)]
    out: list[str] = []
    for p in pieces:
        prev = out[-1] if out else ""
        if re.match(r"\d{1,2}[日号]", p) and (m := re.search(r"(\d{4}年)?\d{1,2}月(?=\d{1,2}[日号])", prev)):
            p = m[0] + p
        elif re.match(r"\d{1,2}月", p) and (y := re.match(r"\d{4}年", prev)):
            p = y[0] + p
        out.append(p)
    return out


def is_description(s: str) -> bool:
    """A clause that names no time at all (完成初稿, 基本完成): what is to be done."""
    return not _DATE_WORD.search(s)


def strip_tail(s: str) -> str:
    """年底前实现全覆盖 → 年底前; 每月10日前报送上月情况 → 每月10日前. A phrase that is only words stays."""
    m = _AFTER_BEFORE.search(s)  # the first 前 followed by words alone (3月底前完成摸底调查)
    if m and not _HEDGE.match(m["rest"]) and not _DATE_IN_TAIL.search(_RELATIVE.sub("", m["rest"])):
        return s[:m.start("rest")]
    m = _TAIL.search(s, 1)  # no 前 (年内见成效): from the second character, a phrase of words alone stays whole
    return s[:m.start()] if m else s


def as_time(text: str, s: str) -> tuple[str, str | None]:
    """Split a time of day off the end: 下午5:30 → 17:30, 中午12时 → 12:00, 上午下班 → 上午下班."""
    m = _TIME.search(s)
    if not m or m.start() == 0:
        return s, None
    ampm = m["ampm"] or ""
    if m["off"]:
        return s[:m.start()], f"{ampm}下班"
    hour, minute = int(m["h"]), int(m["mi"] or m["m2"] or (30 if m["half"] else 0))
    if ampm in ("下午", "晚上", "晚") and hour < 12:
        hour += 12
    if hour > 24 or minute > 59 or (hour == 24 and minute):
        raise DeadlineError(text, f"时刻 {m[0]} 不存在")
    return s[:m.start()], f"{hour:02d}:{minute:02d}"
