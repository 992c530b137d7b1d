"""PNG charts with a CJK font (the set-up installs Debian's fonts-noto-cjk): completion by task over
time, and overdue shares by unit. matplotlib renders missing glyphs as boxes silently, so the font is
looked up explicitly and a missing one is an error, never tofu."""

from __future__ import annotations

from pathlib import Path

import matplotlib

matplotlib.use("Agg")  # no display on a server
import matplotlib.pyplot as plt  # noqa: E402
from matplotlib import font_manager  # noqa: E402
from matplotlib.figure import Figure  # noqa: E402
from matplotlib.ticker import MaxNLocator  # noqa: E402

from fuquan.errors import FuquanError  # noqa: E402

from .files import folder, replacing  # noqa: E402
from .gather import ReportData  # noqa: E402

CJK_FAMILIES = ("Noto Sans CJK SC", "Noto Serif CJK SC", "WenQuanYi Zen Hei", "Source Han Sans SC")


def cjk_font() -> tuple[str, str]:
    """(family, file) of an installed CJK font."""
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


def _completion(d: ReportData, path: Path) -> Path:
    fig, ax = plt.subplots(figsize=(10, 5.5), dpi=110)
    ax.set_prop_cycle(color=[plt.get_cmap("tab20")(i) for i in range(20)])  # 15 tasks: tab10 would repeat
    months = [f"{m:%Y-%m}" for m, _ in d.history]
    for no in sorted({no for _, per_task in d.history for no in per_task}):
        ax.plot(months, [per_task.get(no, 0) for _, per_task in d.history], marker="o", label=f"任务{no}")
    ax.set_title(f"{d.district} {d.year} 年度 各任务完成率")
    ax.set_ylabel("完成率 (%)")
    ax.set_ylim(0, 105)
    ax.grid(alpha=0.3)
    if d.history:
        ax.legend(ncol=5, fontsize=8, loc="upper left")
    else:
        ax.text(0.5, 0.5, "暂无数据", ha="center", va="center", transform=ax.transAxes)
    fig.autofmt_xdate()
    return _save(fig, path)


def _overdue(d: ReportData, path: Path) -> Path:
    late: dict[str, int] = {}
    for r in d.rows:
        if r.judgement.colour == "红":
            late[r.unit] = late.get(r.unit, 0) + 1
    fig, ax = plt.subplots(figsize=(10, max(3.0, 0.35 * len(late) + 1.5)), dpi=110)
    ax.xaxis.set_major_locator(MaxNLocator(integer=True))  # counts of items: no 0.25 of one
    if late:
        units = sorted(late, key=lambda u: late[u])
        ax.barh(units, [late[u] for u in units], color="#d9534f")
        ax.set_xlabel("逾期事项数")
    else:
        ax.text(0.5, 0.5, "无逾期事项", ha="center", va="center", transform=ax.transAxes)
        ax.set_yticks([])
    ax.set_title(f"各单位逾期事项 (截至 {d.as_of})")
    return _save(fig, path)
