"""What most commands start from: the database, the plan they address, who is acting, and the ledger."""

from __future__ import annotations

import argparse
import getpass
import os
import sys
from collections.abc import Iterator
from contextlib import contextmanager

from sqlalchemy.engine import Engine
from sqlmodel import Session

from fuquan.workdays import WorkCalendar
from models.db import make_engine
from models.ledger_io import plan_rows as ledger_rows  # noqa: F401  (re-exported for commands)
from models.queries import find_plan
from models.records import Actor
from models.tables import PlanRow


@contextmanager
def database() -> Iterator[Engine]:
    """The tracker's database for one command, closed afterwards (SQLite checkpoints its WAL then,
    not at some later garbage collection)."""
    eng = make_engine()
    try:
        yield eng
    finally:
        eng.dispose()


def plan_of(session: Session, args: argparse.Namespace) -> PlanRow:
    return find_plan(session, year=getattr(args, "year", None), district=getattr(args, "district", None))


def actor(args: argparse.Namespace, source: str = "cli") -> Actor:
    return Actor(getattr(args, "operator", None) or os.environ.get("FUQUAN_USER") or getpass.getuser(), source)


def print_warnings(cal: WorkCalendar) -> None:
    for w in cal.warnings:
        print(w, file=sys.stderr)
