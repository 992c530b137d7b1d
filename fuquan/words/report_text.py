"""Reports as Markdown, in the register of a 通报 (ready to paste). Pure.

Long lists are grouped, never one paragraph of names: what changed and what is overdue go by kind of unit (in the
plan's words), one line or row per unit with its tasks; and no table keeps a column that is empty in every row."""

from __future__ import annotations

from typing import Any

from fuquan.plans.plan import Words
from fuquan.plans.policy import Weights
from fuquan.tracking.scores import (
    COMPUTED,
    KINDS,
    NO_BASIS,
    RATE_LABEL,
    Adjustment,
    Change,
    Diff,
    Score,
    by_kind,
    late_share,
    rank,
)

COLOUR_ORDER = ("红", "黄", "绿", "逾期完成", "已完成", "持续", "待定")


def table(heads: list[str], rows: list[list[Any]]) -> str:
    """A Markdown table without the columns that are empty in every row (a 事项 column only recurring tasks fill)."""
    if not rows:
        return "(无)"
    keep = [i for i in range(len(heads)) if any(r[i] not in (None, "") for r in rows)] or [0]
    heads, rows = [heads[i] for i in keep], [[r[i] for i in keep] for r in rows]
    out = ["| " + " | ".join(heads) + " |", "|" + "---|" * len(heads)]
    out += ["| " + " | ".join("" if v is None else str(v).replace("|", "/") for v in r) + " |" for r in rows]
    return "\n".join(out)


def monthly(district: str, snap: dict[str, Any], diff: Diff, provisional: bool, figures: tuple[str, ...],
            words: Words) -> str:
    """The month's 通报 in the plan's words (its towns word, its programme's name)."""
    period = snap["period"]
    y, m = period.split("-")
    towns = words.towns
    head = f"# {district}{words.programme}工作{y}年{int(m)}月情况通报"
    state = f"(截至 {snap['closed_on']}, 尚未关账, 数据可能变化)" if provisional else f"(已于 {snap['closed_on']} 关账, 数据已冻结)"
    counts = snap["counts"]
    summary = "、".join(f"{c} {counts[c]} 项" for c in COLOUR_ORDER if counts.get(c))
    parts = [head, state, f"## 一、总体情况\n\n各单位分工共 {sum(counts.values())} 项: {summary or '无'}。"]
    missing = snap["missing"]
    reported = list(snap["reports"])
    parts.append("## 二、月报报送\n\n" + (f"已报送: {'、'.join(reported)}。" if reported else f"本月无{towns}报送月报。")
                 + (f"\n\n**未报送: {'、'.join(missing)}。**" if missing else f"\n\n各{towns}均已报送。"))
    rows = [[t] + [snap["reports"][t]["figures"].get(f) for f in figures] for t in reported]
    parts.append("### 月报指标\n\n" + table([towns, *figures], rows))
    name = {t["no"]: t.get("title") or _short(t["text"]) for t in snap["tasks"]}  # (months frozen before titles)
    kinds = {r["unit"]: r.get("unit_kind", "department") for r in snap["rows"]}
    parts.append("## 三、与上月相比\n\n" + _diff(diff, words, name, kinds, snap["closed_on"]))
    parts.append("## 四、各任务进展\n\n" + table(["序号", "任务", "状态", "完成"],
                                              [[t["no"], name[t["no"]], t["colour"], f"{t['done']}/{t['total']}"]
                                               for t in snap["tasks"]]))
    parts.append("## 五、逾期事项\n\n" + _overdue([r for r in snap["rows"] if r["colour"] == "红"], name, words))
    return "\n\n".join(parts) + "\n"


def _overdue(late: list[dict[str, Any]], names: dict[int, str], words: Words) -> str:
    """Per kind of unit, one row per unit: how many items and each with its due date and working days late."""
    if not late:
        return "无逾期事项。"
    out = []
    for kind in KINDS:
        units: dict[str, list[dict[str, Any]]] = {}
        for r in late:
            if r.get("unit_kind", "department") == kind:
                units.setdefault(r["unit"], []).append(r)
        if not units:
            continue
        order = sorted(units, key=lambda u: -len(units[u]))  # most first; equal counts keep the plan's order
        rows = [[u, len(units[u]), "; ".join(f"{_task(r['task'], names)}{' ' + r['label'] if r['label'] else ''}"
                                             f" ({_day(r['due'])}到期, 逾期 {r['workdays_late']} 个工作日)" for r in units[u])]
                for u in order]
        out.append(f"### {kind_heading(kind, words)} (逾期 {sum(map(len, units.values()))} 项)\n\n"
                   + table(["单位", "项数", "逾期事项"], rows))
    return "\n\n".join(out)


def _day(iso: str) -> str:
    """A due date as a 通报 writes it (the plan year goes without saying): 2023-03-31 → 3月31日."""
    return f"{int(iso[5:7])}月{int(iso[8:10])}日"


def _task(no: int, names: dict[int, str]) -> str:
    return f"任务{no}「{names[no]}」" if names.get(no) else f"任务{no}"


def _diff(d: Diff, words: Words, names: dict[int, str], kinds: dict[str, str], as_of: str) -> str:
    month, day = (f"{int(d.prev_period[5:])}月" if d.prev_period else ""), (d.prev_day or "")[5:]
    if d.basis == NO_BASIS:  # nothing to compare with: nothing is new, least of all what was late long before
        why = (f"{month}关账日 {day} 尚未到" if d.prev_day and d.prev_day > as_of
               else f"{month}关账日 {day} 时本计划尚未印发" if d.prev_day else f"{month}未关账")
        return f"上月无数据 ({why}), 本月不作对比, 不列新增、新完成事项; 本月逾期事项见第五部分。"
    out = []
    if d.basis == COMPUTED:
        out.append(f"上月未关账, 对比按上月 ({month}) 关账日 {day} 的数据计算"
                   " (数据未冻结: 此后补录或更正上月事项, 对比结果会随之变化)。")
    if d.empty():
        return "\n\n".join([*out, "与上月相比无变化。"])
    out += [f"**{head} {len(changes)} 项:**\n\n" + _by_unit(changes, names, kinds, words)
            for head, changes in (("新完成", d.done), ("新增逾期", d.overdue)) if changes]
    if d.figures:
        rows = [[t, n, a, b, _delta(a, b)] for t, n, a, b in d.figures]
        out.append("**月报指标变化:**\n\n" + table([words.towns, "指标", "上月", "本月", "变化"], rows))
    return "\n\n".join(out)


def _by_unit(changes: list[Change], names: dict[int, str], kinds: dict[str, str], words: Words) -> str:
    """Per kind of unit (各镇, 区级部门), one list item per unit with its tasks: `- 六郎镇: 任务14「月报报送」 月报
    2025-05、月报 2025-06; 任务2「…」` — a leader finds a unit on its own line, not in a paragraph of forty names."""
    units: dict[str, dict[int, list[str]]] = {}
    for c in changes:
        units.setdefault(c.unit, {}).setdefault(c.task, []).append(c.label)
    blocks = []
    for kind in KINDS:
        mine = [u for u in units if kinds.get(u, "department") == kind]
        if not mine:
            continue
        lines = [f"- {u}: " + "; ".join(_task(no, names) + (" " + "、".join(x for x in labels if x) if any(labels) else "")
                                        for no, labels in sorted(units[u].items())) for u in mine]
        blocks.append(f"{kind_heading(kind, words)} ({len(mine)} 个):\n\n" + "\n".join(lines))
    return "\n\n".join(blocks)


def _delta(a: float | None, b: float | None) -> str:
    if a is None:
        return "新报"
    if b is None:
        return "未报"
    return f"{'+' if b >= a else ''}{b - a:g}"


NUMERALS = "一二三四五六七八九十"


def kind_heading(kind: str, words: Words) -> str:
    """How a report heads each kind of unit's ranking, in the plan's words."""
    return {"town": f"各{words.towns}", "department": f"{words.level}级部门", "zone": "园区"}[kind]


def period(district: str, title: str, *, as_of: str, scored_from: str, scores: list[Score],
           figures: dict[str, dict[str, float]], names: tuple[str, ...], words: Words, weights: Weights,
           unscored: list[Adjustment] | None = None) -> str:
    """A quarter's or a year's analysis: towns and departments ranked apart (each score with its adjustments and
    their reasons), the 月报 figures, the rule."""
    sections = [(f"{kind_heading(k, words)}得分排名", _ranking(group, with_reports=k == "town"))
                for k, group in by_kind(scores)] or [("得分排名", "本期没有到期事项。")]
    sections += [("月报指标合计", table([words.towns, *names], [[t] + [v.get(n) for n in names]
                                                              for t, v in figures.items()])),
                 ("得分说明", score_rule(weights, words) + adjustment_note(scores, unscored or []))]
    parts = [f"# {district}{words.programme}工作{title}", f"(统计截至 {as_of}; 得分计 {scored_from} 至 {as_of} 到期的事项)"]
    parts += [f"## {NUMERALS[i]}、{head}\n\n{body}" for i, (head, body) in enumerate(sections)]
    return "\n\n".join(parts) + "\n"


def _ranking(scores: list[Score], with_reports: bool) -> str:
    rates = [k for k in RATE_LABEL if with_reports or k != "reports"]
    rows = [[place, s.unit, f"{s.score:.1f}", f"{s.adjusted:+g}" if s.adjustments else "",
             *(f"{s.rates[k]:.0%}" if k in s.rates else "—" for k in rates),
             s.workdays_late, "; ".join(s.lost) or "满分", "; ".join(map(str, s.adjustments))] for place, s in rank(scores)]
    # (调整分 and 调整原因 are dropped with the other empty columns when nobody's score was adjusted)
    return table(["名次", "单位", "得分", "调整分", *(RATE_LABEL[k] for k in rates), "逾期工作日", "失分原因", "调整原因"], rows)


def adjustment_note(scores: list[Score], unscored: list[Adjustment]) -> str:
    """What the rule says of adjustments, when there are any: included in 得分, each with its reason; and those of
    units with nothing due in the period, which have no score to move."""
    if not unscored and not any(s.adjustments for s in scores):
        return ""
    note = " 得分含考评加减分 (调整分; 每一笔的分值、理由、登记人和日期见调整原因), 调整前得分 = 得分 − 调整分。"
    if unscored:
        note += " 以下单位本期没有到期事项, 调整未计入排名: " + "; ".join(f"{a.unit} {a}" for a in unscored) + "。"
    return note


def score_rule(w: Weights, words: Words) -> str:
    """The scoring rule with the plan's own weights, for the 通报 and the workbook."""
    share = late_share(w)
    tasks, reports = w.on_time + w.completion, w.reports
    return (f"到期的每一项(各单位的每项分工、各{words.towns}的每期月报)单独计分: 按时完成 100 分; "
            f"逾期完成 {share:g} 分, 每逾期一个工作日扣 {w.late_penalty:g} 分, 每项最多扣 {min(w.late_penalty_cap, share):g} 分; "
            f"未完成 0 分。任务得分、月报得分各取平均{_roles(w)}, 得分 = (任务得分 × {tasks:g} + 月报得分 × {reports:g}) ÷ {tasks + reports:g}"
            f"(部门没有月报, 得分即任务得分)。{words.towns}与部门分别排名; 得分相同的, 完成项数多的在前, "
            f"其次按时完成多的在前, 再次逾期工作日少的在前。")


def _roles(w: Weights) -> str:
    """How the task part weighs shares by role, when the plan makes 牵头 and 配合 weigh differently."""
    if w.lead == w.partner:
        return ""
    return f"(任务得分按分工加权平均: 牵头单位的分工每项权重 {w.lead:g}, 配合单位的 {w.partner:g})"


def _short(text: str, n: int = 28) -> str:
    return text if len(text) <= n else text[: n - 1] + "…"
