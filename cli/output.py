"""Terminal output: Rich tables with Chinese headers, and a stable JSON form for every read command."""

from __future__ import annotations

import json
import sys
from typing import Any

from rich.console import Console
from rich.table import Table

from fuquan.tracking.judge import DONE, DONE_LATE, GREEN, ONGOING, PENDING, RED, YELLOW

STATE_STYLE: dict[str, str] = {RED: "bold red", YELLOW: "yellow", GREEN: "green", DONE: "cyan",
                               DONE_LATE: "magenta", ONGOING: "blue", PENDING: "dim"}


def console(stderr: bool = False) -> Console:
    # Not a terminal (a pipe, CI): wide enough that Chinese table cells do not wrap mid-word.
    file = sys.stderr if stderr else sys.stdout
    return Console(file=file, width=None if file.isatty() else 160, highlight=False)


def print_json(data: Any) -> None:
    sys.stdout.write(json.dumps(data, ensure_ascii=False, indent=2, default=str) + "\n")


def table(title: str, headers: list[str]) -> Table:
    t = Table(title=title, title_justify="left", show_lines=False)
    for h in headers:
        t.add_column(h, overflow="fold")
    return t


def state_cell(state: str) -> str:
    return f"[{STATE_STYLE.get(state, '')}]{state}[/]"
