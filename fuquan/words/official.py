"""The words of the 专班's Word documents — the monthly 通报, the quarterly and annual analyses, 督办单 — in the
register of a 公文: full-width punctuation, the plan's own names for its level and its towns, dates as officials
write them. Pure: what was late, done and due comes in as plain values; reports/documents.py and reports/slips.py
put these sentences on the page."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import date

from fuquan.plans.plan import Words
from fuquan.plans.policy import SlipPolicy

_CN = "〇一二三四五六七八九"
LEVEL_NAME = {"蓝": "蓝色", "黄": "黄色", "红": "红色"}


def cn_number(n: int) -> str:
    """1–9999 in words, as dates and list headings say them: 五, 十, 十二, 二十, 一百零五, 一千零一十."""
    out, gap = "", False
    for power, unit in ((1000, "千"), (100, "百"), (10, "十"), (1, "")):
        digit = n // power % 10
        if not digit:
            gap = bool(out)
            continue
        out += ("零" if gap else "") + _CN[digit] + unit
        gap = False
    return out.removeprefix("一") if 10 <= n < 20 else out


def chinese_date(d: date) -> str:
    """二〇二四年五月十五日: the date under a 公文's issuer, written out as the brief asks."""
    return "".join(_CN[int(c)] for c in str(d.year)) + f"年{cn_number(d.month)}月{cn_number(d.day)}日"


def day_text(d: date, year: int) -> str:
    """5月20日 in running text; the year too when it is not the plan's."""
    return f"{d.month}月{d.day}日" if d.year == year else f"{d.year}年{d.month}月{d.day}日"


def issuer(district: str, words: Words) -> str:
    """Who signs: the plan's 专班, named from its district and its programme (芜湖市湾沚区镇赋权工作专班)."""
    return f"{district}{words.programme}工作专班"


def addressees(words: Words) -> str:
    return f"各{words.towns}、{words.level}直有关单位："


def slip_number(year: int, number: int) -> str:
    return f"〔{year}〕督办第{number}号"


def few(names: Iterable[str], n: int = 5, what: str = "项") -> str:
    """A few names, the rest counted: 甲镇、乙镇等12个单位."""
    names = list(dict.fromkeys(names))
    return "、".join(names[:n]) + (f"等{len(names)}{what}" if len(names) > n else "")


@dataclass(frozen=True)
class Late:
    """One overdue share (or period, or batch of one) as the documents speak of it."""

    unit: str
    unit_kind: str
    task_no: int
    title: str
    deadline_text: str
    label: str
    due: date | None
    workdays_late: int
    missing: tuple[str, ...] = ()


def task_late(items: list[Late], year: int) -> str:
    """One task's overdue items of one unit (several periods together), in a clause."""
    first = items[0]
    which = f"；{first.label}" if len(items) == 1 and first.label else ""
    head = f"任务{first.task_no}“{first.title}”（完成时限：{first.deadline_text}{which}）"
    worst = max(i.workdays_late for i in items)
    dues = [i.due for i in items if i.due]
    since = f"应于{day_text(min(dues), year)}前完成" if dues else "已到期"
    if len(items) == 1:
        said = first.missing if not _only_the_period(first) else ()
        return f"{head}{since}，已逾期{worst}个工作日" + (f"，尚缺{few(said)}" if said else "")
    labels = few((i.label for i in items), 4)
    return f"{head}有{len(items)}项逾期（{labels}），最早一项{since}，最久已逾期{worst}个工作日"


def _only_the_period(i: Late) -> bool:
    """What is missing is the period itself (a town's 月报 of 2024-03): the label said it already."""
    return bool(i.label) and len(i.missing) == 1 and i.label.split()[-1] in i.missing[0]


def unit_problems(items: list[Late], year: int) -> str:
    """What one unit (or several with exactly the same overdue items) has late, task by task."""
    by_task: dict[int, list[Late]] = {}
    for i in sorted(items, key=lambda i: (i.task_no, i.due or date.min, i.label)):
        by_task.setdefault(i.task_no, []).append(i)
    return f"逾期未完成{len(items)}项：" + "；".join(task_late(group, year) for group in by_task.values()) + "。"


@dataclass(frozen=True)
class Totals:
    tasks: int
    shares: int
    done: int
    done_late: int
    red: int
    yellow: int
    green: int
    open: int  # 持续推进 and 待定: no finish line
    red_units: dict[str, int]  # the plan's word for a kind of unit → how many have overdue items


def progress(t: Totals, as_of: date, year: int) -> str:
    base = t.shares - t.open
    rate = f"，完成率{100 * t.done / base:.1f}%" if base else ""
    units = "、".join(f"{n}个{kind}" for kind, n in t.red_units.items() if n)
    late = f"逾期未完成{t.red}项，涉及{units}" if t.red else "无逾期未完成事项"
    tail = f"持续推进、待定的{t.open}项不计完成率。" if t.open else ""
    return (f"截至{day_text(as_of, year)}，{t.tasks}项任务分解到各单位的分工共{t.shares}项（按期报送、分批完成的任务每期、"
            f"每批各算一项），已完成{t.done}项，其中逾期完成{t.done_late}项{rate}；正在推进{t.green + t.yellow}项，"
            f"其中{t.yellow}项临近截止；{late}。{tail}")


def reports_line(towns_word: str, reported: int, missing: list[str], month: str) -> str:
    total = reported + len(missing)
    if not missing:
        return f"{month}月报应报送的{total}个{towns_word}均已报送。"
    return f"{month}月报应报送的{total}个{towns_word}中，{reported}个已报送，{few(missing, 8, '个' + towns_word)}未报送。"


def month_change(done: int, overdue: int, basis: str) -> str:
    """This month against last (basis: closed, computed from last month's close day, or none)."""
    if basis == "none":
        return "上月无数据，本月不作对比。"
    how = "（上月未关账，按上月关账日数据计算）" if basis == "computed" else ""
    if not done and not overdue:
        return f"与上月相比{how}，无新完成和新增逾期事项。"
    return f"与上月相比{how}，新完成{done}项，新增逾期{overdue}项。"


def period_change(label: str, due: int, on_time: int, late: int, finished: int) -> str:
    open_ = due - on_time - late
    return (f"{label}到期的分工{due}项，按时完成{on_time}项，逾期完成{late}项，尚未完成{open_}项；"
            f"{label}内新完成分工{finished}项。")


def ranking(kind_word: str, ranked: list[tuple[str, float]]) -> str:
    """Scores of one kind of unit, highest first: all when few, else the first and last three."""
    if not ranked:
        return ""
    if len({s for _, s in ranked}) == 1:
        return f"{kind_word}得分均为{ranked[0][1]:.1f}分。"
    said = [f"{u}{s:.1f}分" for u, s in ranked]
    if len(said) > 6:
        return f"{kind_word}得分前三位为{'、'.join(said[:3])}，后三位为{'、'.join(said[-3:])}。"
    return f"{kind_word}得分依次为{'、'.join(said)}。"


def catch_up(units: list[str], within: int) -> str:
    return (f"请{few(units, 8, '个单位')}对照上述逾期事项，自本文印发之日起{within}个工作日内补办完成，通过本单位专属链接反馈办理情况、"
            "上传佐证材料；确有困难需要延期的，应在截止日期前申请并说明理由。逾期仍未完成的，专班将出具督办单。")


def upcoming(title: str, task_no: int, due: date, units: list[str], year: int) -> str:
    return f"任务{task_no}“{title}”应于{day_text(due, year)}前完成，尚有{few(units, 6, '个单位')}未完成，请按期推进。"


def follow_up() -> str:
    return "专班将继续逐日跟踪各项任务进展，对逾期事项按规定提醒、督办，并在下期通报中通报办理情况。"


def slip_intro(day: date, n: int, level: str, year: int) -> str:
    return (f"经核查，截至{day_text(day, year)}，你单位承担的以下{n}项工作已逾期未完成，现予{LEVEL_NAME[level]}督办。")


def slip_request(answer_by: date, link: str | None, web_url: str, year: int) -> str:
    where = (f"通过本单位专属链接（{link}）" if link
             else f"请登录单位反馈页面（{web_url}，登录用的本单位专属链接请向专班索取）")
    return (f"请于{day_text(answer_by, year)}前办理完毕，并{where}反馈办理情况、上传佐证材料；"
            "确有困难需要延期的，请在该页面申请延期并说明理由。")


def slip_rule(p: SlipPolicy) -> str:
    return (f"督办等级按逾期最久的一项确定：逾期{p.yellow_after}个工作日以内为蓝色，"
            f"{p.yellow_after + 1}至{p.red_after}个工作日为黄色，超过{p.red_after}个工作日为红色。")
