"""Shared fixtures: a fresh database per test (SQLite, or PostgreSQL: tests/dbs.py), small plans written to
tmp_path, and the CLI in-process."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import pytest

from cli.main import main
from tests import dbs

ROOT = Path(__file__).resolve().parent.parent
REAL_CONFIG = ROOT / "tests" / "plans" / "wanzhi-2023.yaml"  # a copy of the shipped plan: editing config/tasks.yaml breaks no test

SMALL_PLAN = """\
plan:
  title: 测试方案
  district: 测试区
  year: 2023
  issued: 2023-04-18
units:
  - {name: 区委编办, kind: 部门}
  - {name: 区司法局, kind: 部门}
  - {name: 甲镇, kind: 镇}
  - {name: 乙镇, kind: 镇}
groups:
  - name: 各镇
    members: [甲镇, 乙镇]
sections:
  - {no: 一, title: 第一部分}
tasks:
  - no: 1
    section: 一
    text: 确定承接事项
    deadline: 3月底前
    units: [区委编办, 各镇]
  - no: 2
    section: 一
    text: 签订确认书
    deadline: 4月底前
    units: [区司法局, 区委编办, 各镇]
  - no: 3
    section: 一
    text: 月报
    deadline: 每月20日前
    units: [区委编办]
"""


@pytest.fixture
def db_url(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> str:
    url = dbs.fresh_url(tmp_path, "fuquan")
    monkeypatch.setenv("FUQUAN_DATABASE_URL", url)
    return url


@pytest.fixture
def write_plan(tmp_path: Path):  # type: ignore[no-untyped-def]
    def write(text: str = SMALL_PLAN, name: str = "tasks.yaml") -> Path:
        path = tmp_path / name
        path.write_text(text, encoding="utf-8")
        return path

    return write


@dataclass
class Result:
    code: int
    out: str
    err: str


@pytest.fixture
def run(capsys: pytest.CaptureFixture[str], db_url: str):  # type: ignore[no-untyped-def]
    """Run `fuquan ARGS…` in-process against the test's own database."""

    def invoke(*args: str) -> Result:
        try:
            code = main(list(args))
        except SystemExit as e:  # argparse usage errors
            code = int(e.code or 0)
        captured = capsys.readouterr()
        return Result(code, captured.out, captured.err)

    return invoke


def pytest_report_header() -> str:
    return f"fuquan database: {dbs.BACKEND}"


def pytest_sessionfinish() -> None:
    dbs.drop_all()


FIGURE = "fault suite"
_figures: list[str] = []  # what the fault suite's tests reported, in the process that prints the summary


@pytest.hookimpl(hookwrapper=True)
def pytest_runtest_makereport(item, call):  # type: ignore[no-untyped-def]
    """A fault test's figures travel in its report: with pytest-xdist the test ran in a worker process, and only
    the reports reach the process that prints the summary."""
    from tests.faults import FIGURES

    outcome = yield
    if FIGURES:
        outcome.get_result().user_properties.extend((FIGURE, line) for line in FIGURES)
        FIGURES.clear()


def pytest_runtest_logreport(report) -> None:  # type: ignore[no-untyped-def]
    _figures.extend(str(value) for name, value in report.user_properties if name == FIGURE)


def pytest_terminal_summary(terminalreporter) -> None:  # type: ignore[no-untyped-def]
    """The fault suite's figures (how much was thrown at the system, and what survived)."""
    terminalreporter.write_line(f"database: {dbs.BACKEND}")
    if _figures:
        terminalreporter.section("fault suite")
        for line in _figures:
            terminalreporter.write_line(line)
