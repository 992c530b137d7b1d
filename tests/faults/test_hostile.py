"""Fault suite, hostile input on every entry point: the recording commands, import and the plan file. Each
generated case must be refused with `错误: …`, no traceback, within bounds of time — and a whole batch of
refusals must leave the database exactly as it was (compared once per batch: every case in it is a refusal).
Hand-made cases cover what generation would rarely hit: an alias bomb, a lying workbook, GBK bytes."""

from __future__ import annotations

import io
import re
import subprocess
import sys
import time
from contextlib import redirect_stderr, redirect_stdout
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from cli.main import main
from fuquan.errors import PlanError
from fuquan.plans.loader import parse_plan
from tests import dbs
from tests.conftest import ROOT
from tests.faults import FIGURES

PLAN = ROOT / "tests" / "plans" / "qingshan-2024.yaml"
TODAY = ["--today", "2024-06-28"]
COUNTS = {"commands": 0, "imports": 0, "plans": 0}
FINGERPRINT: list[str] = []  # the database right after the sync: every case after it is a refusal

HOSTILE_TEXT = st.one_of(
    st.text(st.characters(categories=["Cc"]), min_size=1, max_size=5).map(lambda s: f"区水{s}务局"),  # control
    st.sampled_from(["\udcb2\udce2", "区\udcd5务局"]),  # GBK bytes through a UTF-8 terminal (surrogateescape)
    st.integers(4001, 12000).map(lambda n: "字" * n),  # a paste gone wrong
    st.sampled_from(["=cmd|' /C calc'!A0", "=HYPERLINK(\"http://evil\",\"x\")", "+1+1", "@SUM(A1)", "-2+3"]),
    st.sampled_from(["'; DROP TABLE unit; --", "1 OR 1=1", "区水务局\" --", "🏛️镇", "​", "　"]),
    st.text(min_size=1, max_size=30).filter(lambda s: "区" not in s and "县" not in s),  # no unit has this name
)
BAD_DATE = st.one_of(st.sampled_from(["2024-02-30", "0000-01-01", "9999-12-31", "2024/6/31", "昨天", "", "2024-13-01",
                                      "1999-01-01", "2101-01-01", "2024-W01"]),
                     st.text(max_size=12).filter(lambda s: not re.search(r"\d{4}", s)))
BAD_COUNT = st.one_of(st.integers(max_value=-1).map(str), st.integers(min_value=1_000_001).map(str),
                      st.sampled_from(["1e9", "三", "NaN", "inf", "", "1.5", "0x10", "2" * 30]))


def call(*args: str) -> tuple[int, str]:
    err = io.StringIO()
    started = time.monotonic()
    with redirect_stdout(io.StringIO()), redirect_stderr(err):
        try:
            code = main(list(args))
        except SystemExit as e:
            code = int(e.code or 0)
    assert time.monotonic() - started < 10, args
    return code, err.getvalue()


def refused(*args: str) -> None:
    code, err = call(*args)
    assert code != 0 and "错误:" in err and "Traceback" not in err, (args, code, err[-600:])


@pytest.fixture(scope="module")
def loaded(tmp_path_factory: pytest.TempPathFactory):  # type: ignore[no-untyped-def]
    url = dbs.fresh_url(tmp_path_factory.mktemp("hostile"), "hostile")
    mp = pytest.MonkeyPatch()
    mp.setenv("FUQUAN_DATABASE_URL", url)
    mp.setenv("FUQUAN_NOTIFY_FILE", str(tmp_path_factory.mktemp("notify") / "n.md"))
    assert call("sync", "--config", str(PLAN))[0] == 0
    FINGERPRINT.append(dbs.fingerprint(url))
    yield url
    mp.undo()
    FIGURES.append(f"hostile input: {COUNTS['commands']} commands, {COUNTS['imports']} import files, "
                   f"{COUNTS['plans']} plan files — every one refused with 错误:, no traceback, database unchanged")


@st.composite
def command(draw: st.DrawFn) -> list[str]:
    """A recording command with at least one argument no clerk should get through."""
    text, day, n = draw(HOSTILE_TEXT), draw(BAD_DATE), draw(BAD_COUNT)
    good_day = "2024-06-20"
    which = draw(st.integers(0, 9))
    return [
        ["letter", "sign", text, "青山镇", "--on", good_day],
        ["letter", "sign", "县农业农村局", "青山镇", "--on", day],
        ["letter", "sign", "县农业农村局", text, "--on", good_day, "--doc-no", "青政〔2024〕1号"],
        ["training", "session", "县农业农村局", "--on", good_day, "--form", text, "--towns", "青山镇",
         "--attendees", "10"],
        ["training", "session", "县农业农村局", "--on", good_day, "--form", "集中培训", "--towns", "青山镇",
         "--attendees", n],
        ["exam", "pretrain", text, "--on", good_day] if draw(st.booleans()) else ["training", "plan", text, "--on", good_day],
        ["task", "set", "10", "县司法局", "已完成", "--on", good_day, "--period", "2024Q1", "--note", text]
        if _never_valid_note(text) else ["task", "set", "10", text, "已完成", "--on", good_day],
        ["task", "set", n, "县司法局", "已完成", "--on", good_day],
        ["report", "submit", text, "--month", "2024-05", "--on", good_day],
        ["task", "set", "12", "县司法局", "申请延期", "--new-due", day, "--reason", "人手不足"],
    ][which] + TODAY


def _never_valid_note(text: str) -> bool:
    """A note is free text: only what the boundary refuses (control characters, bad bytes, too long)."""
    try:
        text.encode("utf-8")
    except UnicodeEncodeError:
        return True
    return len(text) > 4000 or any(ord(c) < 32 or ord(c) == 127 for c in text)


@settings(max_examples=560, deadline=None, suppress_health_check=list(HealthCheck), database=None)
@given(args=command())
def test_generated_recording_commands_are_refused(loaded, args) -> None:  # type: ignore[no-untyped-def]
    refused(*args)
    COUNTS["commands"] += 1


def test_refused_commands_changed_nothing(loaded) -> None:  # type: ignore[no-untyped-def]
    before = dbs.fingerprint(loaded)
    for args in (["letter", "sign", "=cmd|' /C calc'!A0", "青山镇", "--on", "2024-06-20"],
                 ["training", "session", "县农业农村局", "--on", "2024-06-20", "--form", "集中培训", "--towns", "青山镇",
                  "--attendees", "99999999999999999999999"],
                 ["task", "set", "10", "县司法局", "已完成", "--on", "2024-06-20", "--period", "2024Q1", "--note",
                  "\udcb2\udce2"]):
        refused(*args, *TODAY)
    assert dbs.fingerprint(loaded) == before


CELL = {"name": HOSTILE_TEXT, "date": BAD_DATE.filter(bool) | st.just(""),
        "count": BAD_COUNT.filter(bool) | st.sampled_from(["9" * 40, "1e400", "-5"])}


@st.composite
def sheet(draw: st.DrawFn) -> tuple[str, bytes]:
    """A letters or exams sheet with one hostile cell, in one of the encodings Excel saves."""
    if draw(st.booleans()):
        head, row = ["部门", "乡镇（街道）", "签订日期"], ["县农业农村局", "青山镇", "2024-06-20"]
        types = ["name", "name", "date"]
    else:
        head, row = ["乡镇（街道）", "考试日期", "应考人数", "实考人数", "通过人数"], ["青山镇", "2024-06-20", "10", "9", "8"]
        types = ["name", "date", "count", "count", "count"]
    bad = draw(st.integers(0, len(row) - 1))
    row[bad] = draw(CELL[types[bad]]).replace(",", "，").replace("\n", " ").replace("\r", " ").replace('"', "“")
    text = ",".join(head) + "\n" + ",".join(row) + "\n"
    encoding = draw(st.sampled_from(["utf-8", "utf-8-sig", "utf-16", "gb18030"]))
    return encoding, text.encode(encoding, errors="surrogateescape" if encoding.startswith("utf-8") else "replace")


@settings(max_examples=250, deadline=None, suppress_health_check=list(HealthCheck), database=None)
@given(case=sheet())
def test_generated_import_files_are_refused(loaded, tmp_path_factory, case) -> None:  # type: ignore[no-untyped-def]
    encoding, data = case
    path = tmp_path_factory.mktemp("imp") / "sheet.csv"
    path.write_bytes(data)
    code, err = call("import", str(path), *TODAY)
    if code == 0:  # a "hostile" cell that is in fact fine (say 　 in a date column was not the drawn cell)
        pytest.fail(f"accepted: {data!r}")
    assert "错误:" in err and "Traceback" not in err, err[-600:]
    COUNTS["imports"] += 1


def test_hostile_files_are_refused_and_change_nothing(loaded, tmp_path) -> None:  # type: ignore[no-untyped-def]
    before = dbs.fingerprint(loaded)
    files = {"notzip.xlsx": b"not a zip at all", "empty.xlsx": b"", "ole.xlsx": bytes.fromhex("d0cf11e0a1b11ae1") + bytes(512),
             "binary.csv": bytes(range(256)) * 4}
    for name, data in files.items():
        (tmp_path / name).write_bytes(data)
        refused("import", str(tmp_path / name), *TODAY)
    (tmp_path / "x.csv").mkdir()
    refused("import", str(tmp_path / "x.csv"), *TODAY)
    refused("import", str(tmp_path / "missing.csv"), *TODAY)
    assert dbs.fingerprint(loaded) == before


def _lying_workbook(path: Path, last_row: int) -> None:
    """A workbook whose <dimension> claims A1:XFD1048576, with a real cell at `last_row`."""
    import re
    import zipfile

    from openpyxl import Workbook

    wb = Workbook()
    ws = wb.active
    ws.title = "承接确认书"
    ws.append(["部门", "乡镇（街道）", "签订日期"])
    ws.cell(row=last_row, column=1, value="县农业农村局")
    plain = path.with_suffix(".plain.xlsx")
    wb.save(plain)
    with zipfile.ZipFile(plain) as zin, zipfile.ZipFile(path, "w", zipfile.ZIP_DEFLATED) as zout:
        for item in zin.infolist():
            data = zin.read(item.filename)
            if item.filename.startswith("xl/worksheets/sheet"):
                data = re.sub(rb'<dimension ref="[^"]*"/>', b'<dimension ref="A1:XFD1048576"/>', data)
            zout.writestr(item, data)


def test_a_lying_workbook_is_refused_in_seconds_and_bounded_memory(loaded, tmp_path) -> None:  # type: ignore[no-untyped-def]
    path = tmp_path / "lying.xlsx"
    _lying_workbook(path, 1_000_000)
    before = dbs.fingerprint(loaded)
    # VmHWM, not ru_maxrss: the latter survives exec and so carries the forking test process's own size
    probe = ("import re, sys\nfrom cli.main import main\n"
             f"code = main(['import', {str(path)!r}, '--today', '2024-06-28'])\n"
             "hwm = re.search(r'VmHWM:\\s+(\\d+)', open('/proc/self/status').read())[1]\n"
             "print('maxrss_kb', hwm, file=sys.stderr)\n"
             "sys.exit(code)\n")
    started = time.monotonic()
    r = subprocess.run([sys.executable, "-c", probe], capture_output=True, text=True, timeout=60, cwd=ROOT,
                       env={**__import__("os").environ, "FUQUAN_DATABASE_URL": loaded})
    took = time.monotonic() - started
    peak_mb = int(r.stderr.rsplit("maxrss_kb", 1)[1].split()[0]) / 1024
    assert r.returncode != 0 and "超过导入上限" in r.stderr and "Traceback" not in r.stderr, r.stderr[-800:]
    # (bounded memory says the million rows were never read; the time is a figure, not a bound: CI shares two cores)
    assert peak_mb < 200, (took, peak_mb)
    assert dbs.fingerprint(loaded) == before
    FIGURES.append(f"lying workbook (dimension A1:XFD1048576, a cell at row 1,000,000): refused in {took:.1f} s, "
                   f"peak {peak_mb:.0f} MB")


# ── plan files ──────────────────────────────────────────────────────────────────────────────────────────────
SOURCE = PLAN.read_text(encoding="utf-8")
PLAN_MUTATIONS = st.one_of(
    HOSTILE_TEXT.map(lambda t: SOURCE.replace("{name: 县委编办,", f"{{name: {_quoted(t)},", 1)),
    st.one_of(st.text(st.characters(categories=["Cc"]), min_size=1, max_size=3).map(lambda c: f"某市{c}青山县"),
              st.sampled_from(["=cmd|' /C calc'!A0", "@SUM(1)", "+青山县", "-青山县", "", "县" * 61])).map(
        lambda t: SOURCE.replace("  district: 某市青山县", f"  district: {_quoted(t)}", 1)),
    st.sampled_from(["Mars/Base", "../../etc/localtime", "UTC+8", ""]).map(
        lambda z: SOURCE.replace("timezone: Asia/Shanghai", f"timezone: {_quoted(z)}", 1)),
    st.sampled_from(["99 99 * * *", "* * * *", "0 9 * * 8", "@reboot", "0 9 31 2 *x"]).map(
        lambda c: re.sub(r'cron: "[^"]*"', lambda _m: f"cron: {_quoted(c)}", SOURCE, count=1)),
    st.sampled_from([".inf", "-.inf", ".nan", "-1", "1e400", "10000"]).map(
        lambda w: SOURCE.replace("on_time: 40", f"on_time: {w}", 1)),
    st.integers(10_000, 10**30).map(lambda n: SOURCE.replace("  - no: 16\n", f"  - no: {n}\n", 1)),
    st.sampled_from(["0000年3月底前", "9999年3月底前", "2199年3月底前", "1900年1月1日前", "3020年底前"]).map(
        lambda d: SOURCE.replace("deadline: 2024年10月底前", f"deadline: {d}", 1)),
    st.integers(13, 60).map(lambda d: SOURCE + "\nextra: " + "[" * d + "]" * d + "\n"),
    st.text(st.sampled_from("\x00\x01\x07\x1b\x7f"), min_size=1, max_size=3).map(
        lambda c: SOURCE.replace("某市青山县推进", f"某市{c}青山县推进", 1)),
)


def _quoted(text: str) -> str:
    return '"' + text.encode("unicode_escape").decode("ascii").replace('"', '\\"') + '"'


@pytest.fixture(scope="module")
def warm() -> None:
    parse_plan(SOURCE, "warm.yaml")  # the first name comparison loads OpenCC's tables (~2 s): not a case's time


@settings(max_examples=220, deadline=None, suppress_health_check=list(HealthCheck), database=None)
@given(text=PLAN_MUTATIONS)
def test_generated_plan_files_are_refused_with_a_place(warm, text: str) -> None:
    assert text != SOURCE  # (a mutation that found nothing to replace would test nothing)
    started = time.monotonic()
    with pytest.raises(PlanError) as e:
        parse_plan(text, "hostile.yaml")
    assert time.monotonic() - started < 10  # a hang, not a speed test (CI shares two cores)
    assert e.value.problems and all(p.render().startswith("hostile.yaml:") for p in e.value.problems)
    COUNTS["plans"] += 1


def test_an_alias_bomb_is_refused_before_it_expands(loaded, tmp_path) -> None:  # type: ignore[no-untyped-def]
    bomb = "a: &a [x, x, x, x, x, x, x, x, x]\n" + "".join(
        f"{n}: &{n} [{', '.join([f'*{p}'] * 9)}]\n" for p, n in zip("abcdefgh", "bcdefghi", strict=True))
    path = tmp_path / "bomb.yaml"
    path.write_text(bomb + SOURCE, encoding="utf-8")
    before = dbs.fingerprint(loaded)
    for cmd in ("plan", "sync"):
        started = time.monotonic()
        code, err = call(*(["plan", "check"] if cmd == "plan" else ["sync"]), "--config", str(path))
        assert time.monotonic() - started < 10, cmd  # a hang guard: expanded, the bomb is 9⁹ items (minutes, GBs)
        assert code == 1 and "bomb.yaml:1:4: 计划文件不支持 YAML 锚点和别名" in err, err
    assert dbs.fingerprint(loaded) == before


def test_after_every_generated_refusal_the_database_is_as_synced(loaded) -> None:  # type: ignore[no-untyped-def]
    assert COUNTS["commands"] + COUNTS["imports"] + COUNTS["plans"] >= 1000
    assert dbs.fingerprint(loaded) == FINGERPRINT[0]
