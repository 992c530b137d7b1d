"""Who acts, and from where: every door (CLI, web, Slack, an import) names its actor once, and every record
and audit row carries it. Pure."""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class Actor:
    by: str  # a person (李明), a 专班 member (专班 李明), or a unit through its link (青山镇 (专属链接))
    source: str = "cli"  # cli / web <address> / slack socket <channel> / import <file>
    replace: bool = True  # may change what was recorded before (a command says so; an import needs --replace)
    how_to_replace: str = "确认要覆盖请加 --replace"  # what a refused correction tells the one who made it
