"""Reports as Markdown, in the register of a 通报 (ready to paste). Pure."""

from __future__ import annotations

from typing import Any

from .plan import Words
from .reports import RATE_LABEL, Diff, Score, rank

COLOUR_ORDER = ("红", "黄", "绿", "逾期完成", "已完成", "持续", "待定")


def table(heads: list[str], rows: list[list[Any]]) -> str:
    if not rows:
        return "(无)"
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
    parts.append("## 三、与上月相比\n\n" + _diff(diff, towns))
    parts.append("## 四、各任务进展\n\n" + table(["序号", "主要任务", "状态", "完成"],
                                              [[t["no"], _short(t["text"]), t["colour"], f"{t['done']}/{t['total']}"]
                                               for t in snap["tasks"]]))
    late = [r for r in snap["rows"] if r["colour"] == "红"]
    parts.append("## 五、逾期事项\n\n" + table(["单位", "任务", "事项", "截止日期", "逾期工作日"],
                                            [[r["unit"], r["task"], r["label"], r["due"], r["workdays_late"]] for r in late]))
    return "\n\n".join(parts) + "\n"


def _diff(d: Diff, towns: str) -> str:
    if d.empty():
        return "与上月相比无变化。"
    out = []
    if d.newly_done:
        out.append("新完成: " + "、".join(d.newly_done) + "。")
    if d.newly_overdue:
        out.append("新增逾期: " + "、".join(d.newly_overdue) + "。")
    if d.figures:
        out.append(table([towns, "指标", "上月", "本月", "变化"],
                         [[t, n, a, b, _delta(a, b)] for t, n, a, b in d.figures]))
    return "\n\n".join(out)


def _delta(a: float | None, b: float | None) -> str:
    if a is None:
        return "新报"
    if b is None:
        return "未报"
    return f"{'+' if b >= a else ''}{b - a:g}"


def period(district: str, title: str, as_of: str, scores: list[Score], figures: dict[str, dict[str, float]],
           names: tuple[str, ...], words: Words) -> str:
    towns = [s for s in scores if s.unit_kind == "town"]
    depts = [s for s in scores if s.unit_kind != "town"]
    parts = [f"# {district}{words.programme}工作{title}", f"(统计截至 {as_of})",
             f"## 一、各{words.towns}得分排名\n\n" + _ranking(towns),
             f"## 二、{words.level}级部门得分\n\n" + _ranking(depts),
             "## 三、月报指标合计\n\n" + table([words.towns, *names],
                                             [[t] + [v.get(n) for n in names] for t, v in figures.items()])]
    return "\n\n".join(parts) + "\n"


def _ranking(scores: list[Score]) -> str:
    rows = [[place, s.unit, f"{s.score:.1f}", *(f"{s.rates[k]:.0%}" if k in s.rates else "—" for k in RATE_LABEL),
             s.workdays_late, "; ".join(s.lost) or "满分"] for place, s in rank(scores)]
    return table(["名次", "单位", "得分", *RATE_LABEL.values(), "逾期工作日", "失分原因"], rows)


def _short(text: str, n: int = 28) -> str:
    return text if len(text) <= n else text[: n - 1] + "…"
