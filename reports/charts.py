"""PNG charts with a CJK font (the set-up installs Debian's fonts-noto-cjk): completion as a task × month
heat map ending at the as-of date (work not yet due grey, never 0 %), and overdue items by unit with towns and
departments apart. matplotlib renders missing glyphs as boxes silently, so the font is looked up explicitly and a
missing one is an error, never tofu."""

from __future__ import annotations

from datetime import date
from pathlib import Path

import matplotlib

matplotlib.use("Agg")  # no display on a server
import matplotlib.pyplot as plt  # noqa: E402
import numpy as np  # noqa: E402
from dateutil.relativedelta import relativedelta  # noqa: E402
from matplotlib import font_manager  # noqa: E402
from matplotlib.cm import ScalarMappable  # noqa: E402
from matplotlib.colors import Normalize, to_rgba  # noqa: E402
from matplotlib.figure import Figure  # noqa: E402
from matplotlib.patches import Patch  # noqa: E402
from matplotlib.ticker import MaxNLocator  # noqa: E402

from fuquan.errors import FuquanError  # noqa: E402
from fuquan.tracking.judge import RED  # noqa: E402
from fuquan.tracking.scores import KINDS  # noqa: E402
from fuquan.words.report_text import kind_heading  # noqa: E402

from .files import folder, replacing  # noqa: E402
from .gather import ReportData  # noqa: E402

CJK_FAMILIES = ("Noto Sans CJK SC", "Noto Serif CJK SC", "WenQuanYi Zen Hei", "Source Han Sans SC")


def cjk_font() -> tuple[str, str]:
    """(family, file) of an installed CJK font. matplotlib caches its font list the first time it runs and never
    looks again: a font installed afterwards (as the error below tells people to do) stays invisible. So when none
    is found the list is rebuilt once from the system's fonts before giving up."""
    for rescan in (False, True):
        if rescan:
            font_manager.fontManager = font_manager._load_fontmanager(try_read_cache=False)  # type: ignore[attr-defined]
        installed = {f.name: f.fname for f in font_manager.fontManager.ttflist}
        for family in CJK_FAMILIES:
            if family in installed:
                return family, installed[family]
    raise FuquanError("未找到中文字体, 图表无法显示中文; 请安装 fonts-noto-cjk (make run / make test 会自动安装)")


def write_charts(d: ReportData, out: Path, stem: str) -> tuple[list[Path], str]:
    family, file = cjk_font()
    plt.rcParams["font.family"] = family
    plt.rcParams["axes.unicode_minus"] = False
    folder(out)
    paths = [_completion(d, out / f"{stem}-completion.png"), _overdue(d, out / f"{stem}-overdue.png")]
    return paths, file


def _save(fig: Figure, path: Path) -> Path:
    fig.tight_layout()
    try:
        with replacing(path) as tmp:
            fig.savefig(tmp)
    finally:
        plt.close(fig)
    return path


def _column(day: date, last: bool) -> str:
    """A heat map column: the month, or — for a last point that is not a month end — the day itself."""
    month_end = (day.replace(day=28) + relativedelta(days=4)).replace(day=1) - relativedelta(days=1)
    return f"{day.month}月" if day == month_end or not last else f"{day.month}月{day.day}日"


# Cells that are not a completion rate are grey, never a colour of the scale: not yet due (nothing owed by then)
# in a mid grey, no finish line at all (持续, 待定) in a light one. Each has its legend entry.
NOT_DUE, NO_LINE = "#bdbdbd", "#eeeeee"
SCALE = plt.get_cmap("RdYlGn")


def cell_colour(value: float | None) -> tuple[float, float, float, float]:
    """The RGBA a heat map cell is painted: % done on the red–green scale; None (not yet due) and NaN (no
    finish line) grey."""
    if value is None:
        return to_rgba(NOT_DUE)
    if np.isnan(value):
        return to_rgba(NO_LINE)
    return tuple(SCALE(value / 100))  # type: ignore[return-value]


def _cell_text(value: float | None) -> tuple[str, str]:
    if value is None:
        return "未到期", "#555555"
    if np.isnan(value):
        return "—", "black"
    return f"{value:.0f}%", "white" if value < 15 or value > 85 else "black"


def completion_figure(d: ReportData) -> Figure:
    """Task × month: of what had fallen due by each month end (the last column: the as-of date), the % done."""
    names = {t.no: f"{t.no} {t.title or t.text[:10]}" for t in d.tasks}
    tasks = sorted({no for _, per_task in d.history for no in per_task})
    cells = [[per_task.get(no, np.nan) for _, per_task in d.history] for no in tasks]
    cols = [_column(day, i == len(d.history) - 1) for i, (day, _) in enumerate(d.history)]
    fig, ax = plt.subplots(figsize=(max(6.0, 3.0 + 0.75 * len(cols)), max(3.4, 2.0 + 0.38 * len(tasks))), dpi=110)
    ax.set_title(f"{d.district} 各任务到期事项完成率 (截至 {d.as_of})")
    if not tasks:
        ax.text(0.5, 0.5, "暂无数据", ha="center", va="center", transform=ax.transAxes)
        ax.set_xticks([])
        ax.set_yticks([])
        return fig
    ax.imshow(np.array([[cell_colour(v) for v in row] for row in cells]), aspect="auto")
    for i, row in enumerate(cells):
        for j, v in enumerate(row):
            text, colour = _cell_text(v)
            ax.text(j, i, text, ha="center", va="center", fontsize=8, color=colour)
    ax.set_xticks(range(len(cols)), cols)
    ax.set_yticks(range(len(tasks)), [names.get(no, f"任务{no}") for no in tasks])
    ax.tick_params(length=0)
    ax.set_xticks(np.arange(-0.5, len(cols)), minor=True)
    ax.set_yticks(np.arange(-0.5, len(tasks)), minor=True)
    ax.grid(which="minor", color="white", linewidth=1.5)
    for side in ax.spines.values():
        side.set_visible(False)
    fig.colorbar(ScalarMappable(Normalize(0, 100), SCALE), ax=ax, fraction=0.04, pad=0.02).set_label("到期事项完成率 (%)")
    keys = [Patch(color=NOT_DUE, label="未到期")]
    if any(v is not None and np.isnan(v) for row in cells for v in row):
        keys.append(Patch(color=NO_LINE, label="无完成时限 (持续、待定)"))
    ax.legend(handles=keys, loc="upper center", bbox_to_anchor=(0.5, -0.06), ncol=2, frameon=False, fontsize=9)
    return fig


def _completion(d: ReportData, path: Path) -> Path:
    return _save(completion_figure(d), path)


def _overdue(d: ReportData, path: Path) -> Path:
    """Overdue items per unit, one panel per kind of unit (each ranked on its own), on one scale."""
    late: dict[str, int] = {}
    kinds: dict[str, str] = {}
    for r in d.rows:
        kinds.setdefault(r.unit, r.unit_kind)
        late[r.unit] = late.get(r.unit, 0) + (r.judgement.colour == RED)
    order = list(late)  # the plan's order: equal counts stay in it
    groups = [(k, sorted((u for u in order if kinds[u] == k), key=lambda u: -late[u])) for k in KINDS]
    groups = [(k, units) for k, units in groups if units]
    if not groups:
        fig, ax = plt.subplots(figsize=(10, 3), dpi=110)
        ax.text(0.5, 0.5, "无逾期事项", ha="center", va="center", transform=ax.transAxes)
        ax.set_axis_off()
        ax.set_title(f"各单位逾期事项 (截至 {d.as_of})")
        return _save(fig, path)
    heights = [len(units) + 1.2 for _, units in groups]
    fig, axes = plt.subplots(len(groups), 1, figsize=(10, 1.2 + 0.32 * sum(heights)), dpi=110, squeeze=False,
                             gridspec_kw={"height_ratios": heights})
    top = max(max(late.values()), 1)
    for ax, (kind, units) in zip(axes[:, 0], groups, strict=True):
        values = [late[u] for u in units]
        ax.barh(units, values, color=["#d9534f" if v else "#bbbbbb" for v in values], height=0.7)
        for y, v in enumerate(values):
            ax.text(v + top * 0.01, y, str(v), va="center", fontsize=9)
        ax.set_xlim(0, top * 1.08)
        ax.invert_yaxis()  # most overdue on top
        ax.xaxis.set_major_locator(MaxNLocator(integer=True))  # counts of items: no 0.25 of one
        ax.set_title(f"{kind_heading(kind, d.words)} (逾期 {sum(values)} 项)", loc="left", fontsize=11)
        ax.grid(axis="x", alpha=0.3)
    axes[-1, 0].set_xlabel("逾期事项数")
    fig.suptitle(f"各单位逾期事项 (截至 {d.as_of})")
    return _save(fig, path)
