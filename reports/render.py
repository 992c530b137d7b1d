"""Writing a report out: Markdown (通报), Excel workbook, Word 公文 (.docx), PNG charts; and the short summary for the
专班 channel (flows/jobs.py sends it through the outbox, once per report)."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Any

from fuquan.errors import FuquanError
from fuquan.plans.policy import ZHUANBAN
from fuquan.tracking.scores import RATE_LABEL, by_kind, rank, sum_figures
from fuquan.words import report_text
from fuquan.words.messages import Message, Section

from .files import folder, write_text
from .gather import ReportData


@dataclass
class ReportFiles:
    markdown: Path
    excel: Path
    charts: list[Path]
    font: str
    document: Path | None = None  # the same report as a Word 公文 (reports/documents.py), the workbook its 附件


def markdown(d: ReportData) -> str:
    if d.kind == "monthly":
        assert d.snapshot is not None and d.diff is not None
        return report_text.monthly(d.district, d.snapshot, d.diff, d.provisional, d.figure_names, d.words)
    first, last = (f"{d.year}-01", f"{d.year}-12") if d.kind == "annual" else _months(d)
    return report_text.period(d.district, d.title, as_of=d.as_of.isoformat(), scored_from=f"{d.scored_from or d.as_of}",
                              scores=d.scores, figures=sum_figures(d.reports, first, last), names=d.figure_names,
                              words=d.words, weights=d.weights, unscored=d.unscored)


def _months(d: ReportData) -> tuple[str, str]:
    y, q = d.period.upper().replace("季", "Q").split("Q")
    return f"{y}-{3 * int(q) - 2:02d}", f"{y}-{3 * int(q):02d}"


def write(d: ReportData, out: Path) -> ReportFiles:
    # A preview (the month not closed yet, the quarter or year not over) never takes the official file's name.
    stem = f"{d.kind}-{d.period}" + ("-preview" if d.provisional else "")
    md = write_text(folder(out) / f"{stem}.md", markdown(d))
    # matplotlib and openpyxl load in a second: only a run that writes a report pays for them (not sync, remind)
    from .charts import write_charts
    from .documents import write_document
    from .excel import write_workbook

    xlsx = write_workbook(d, out / f"{stem}.xlsx")
    docx = write_document(d, out / f"{stem}.docx", xlsx)  # the workbook is its 附件
    try:
        charts, font = write_charts(d, out, stem)
    except FuquanError as e:  # the text and the workbook are there: say so, a missing font is no reason to hide them
        raise FuquanError(f"{e}; 通报、工作簿和 Word 文档已生成: {md}、{xlsx}、{docx} (图表未生成)") from e
    return ReportFiles(md, xlsx, charts, font, docx)


def summary(d: ReportData) -> Message:
    lines = [f"统计截至 {d.as_of}{' (未关账)' if d.provisional else ''}"]
    if d.snapshot is not None:
        lines.append(f"月报未报送: {'、'.join(d.snapshot['missing']) or '无'}")
    red = sum(t.rollup.counts['红'] for t in d.tasks)
    lines.append(f"逾期分工 {red} 项")
    towns = rank([s for s in d.scores if s.unit_kind == 'town'])
    if towns:
        cumulative = "累计" if d.kind == "monthly" else ""  # a month's scores count the year so far
        lines.append(f"各{d.words.towns}{cumulative}得分: " + "、".join(f"{s.unit} {s.score:.1f}" for _, s in towns))
    return Message(ZHUANBAN, f"【{d.district}{d.words.programme}督办】{d.title}", (Section("要点", tuple(lines)),),
                   closing="完整报告 (Markdown、Excel、Word、图表) 已生成, 请在看板或 data/reports 中查看。")


def score_table(d: ReportData) -> list[dict[str, Any]]:
    """Scores with their reasons, towns and departments each ranked on their own (名次 restarts at 1)."""
    adjusted = any(s.adjustments for s in d.scores)  # the adjustment columns only when there is one
    return [{"类别": d.words.kind(kind), "名次": place, "单位": s.unit, "得分": s.score,
             **({"调整分": f"{s.adjusted:+g}" if s.adjustments else ""} if adjusted else {}),
             **{RATE_LABEL[k]: f"{s.rates[k]:.0%}" if k in s.rates else "—" for k in RATE_LABEL},
             "逾期工作日": s.workdays_late, "失分原因": "; ".join(s.lost) or "满分",
             **({"调整原因": "; ".join(map(str, s.adjustments))} if adjusted else {})}
            for kind, group in by_kind(d.scores) for place, s in rank(group)]
