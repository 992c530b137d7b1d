"""Fault suite, bad input: generated malformed plans and deadline phrases. Each gives a clear error
naming file:line (or the phrase), and the database file is byte-identical afterwards."""

import io
from contextlib import redirect_stderr, redirect_stdout

import pytest
from hypothesis import HealthCheck, assume, given, settings
from hypothesis import strategies as st

from cli.main import main
from fuquan.dates.deadline import parse_deadline
from fuquan.errors import DeadlineError, PlanError
from fuquan.plans.loader import parse_plan
from tests import dbs
from tests.conftest import SMALL_PLAN
from tests.faults import FIGURES

LINES = SMALL_PLAN.splitlines()
TRIED = {"plans": 0, "unchanged": 0, "phrases": 0, "refused": 0}


@pytest.fixture(scope="module", autouse=True)
def figures():  # type: ignore[no-untyped-def]
    yield
    FIGURES.append(f"malformed plans: {TRIED['plans']} tried, database unchanged after {TRIED['unchanged']}; "
                   f"deadline phrases: {TRIED['phrases']} tried, {TRIED['refused']} refused by name")


NAMES = ["区司法所", "县委编办", "某某镇", "??", "区委编办 ", "各 乡"]
WORDS = st.text(st.sampled_from("月底前中旬每周日季度年内上下半次至到号日X前后的1234567890一二三十 ,:[]{}-#&*!|>'\""),
                min_size=1, max_size=12)


def mutate(kind: int, line: int, word: str) -> str:
    lines = list(LINES)
    i = line % len(lines)
    if kind == 0:  # an unparseable deadline on some task
        ds = [n for n, s in enumerate(lines) if s.strip().startswith("deadline:")]
        lines[ds[line % len(ds)]] = f"    deadline: 哈{word}"
    elif kind == 1:  # an unknown unit
        us = [n for n, s in enumerate(lines) if s.strip().startswith("units: [")]
        lines[us[line % len(us)]] = f"    units: [{NAMES[line % len(NAMES)]}{word.strip(' ,[]{}:#&*!|>')}]"
    elif kind == 2:  # a required key removed
        keys = [n for n, s in enumerate(lines) if s.strip().split(":")[0] in ("text", "deadline", "section", "title")]
        del lines[keys[line % len(keys)]]
    elif kind == 3:  # broken YAML: an unclosed flow sequence or a stray tab
        lines[i] = lines[i] + (": [unclosed" if line % 2 else "\t: x: y")
    elif kind == 4:  # a duplicated key
        keys = [n for n, s in enumerate(lines) if ":" in s and not s.strip().startswith("-")]
        n = keys[line % len(keys)]
        lines.insert(n + 1, lines[n])
    else:  # a value of the wrong type
        lines[lines.index("  year: 2023")] = f"  year: '{word}x'"
    return "\n".join(lines) + "\n"


DB: dict[str, str] = {}


@settings(max_examples=240, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(kind=st.integers(0, 5), line=st.integers(0, 200), word=WORDS)
def test_malformed_plans_change_nothing(tmp_path_factory, monkeypatch, kind: int, line: int, word: str) -> None:  # type: ignore[no-untyped-def]
    base = tmp_path_factory.getbasetemp() / "malformed"
    base.mkdir(exist_ok=True)
    fresh = "url" not in DB
    if fresh:  # one database for all examples, loaded once with the good plan
        DB["url"] = dbs.fresh_url(base, "malformed")
    monkeypatch.setenv("FUQUAN_DATABASE_URL", DB["url"])  # (restored after the test, not left for others)
    if fresh:
        good = base / "good.yaml"
        good.write_text(SMALL_PLAN, encoding="utf-8")
        assert _run("sync", "--config", str(good))[0] == 0
    before = dbs.fingerprint(DB["url"])
    text = mutate(kind, line, word)
    try:  # a mutation can land on something still valid (a plain scalar may hold " ["): not this test's case
        parse_plan(text)
        assume(False)
    except PlanError:
        pass
    bad = base / "tasks.yaml"
    bad.write_text(text, encoding="utf-8")
    code, out, err = _run("sync", "--config", str(bad))
    assert code == 1 and out == "", (kind, err)
    first = err.splitlines()[0]
    assert first.startswith("错误: 计划配置有 "), err
    assert err.splitlines()[1].startswith(f"{bad}:") and ":" in err.splitlines()[1][len(str(bad)) + 1:], err
    assert "Traceback" not in err
    assert dbs.fingerprint(DB["url"]) == before
    TRIED["plans"] += 1
    TRIED["unchanged"] += 1


def _run(*args: str) -> tuple[int, str, str]:
    out, err = io.StringIO(), io.StringIO()
    with redirect_stdout(out), redirect_stderr(err):
        code = main(list(args))
    return code, out.getvalue(), err.getvalue()


@settings(max_examples=300, deadline=None)
@given(st.one_of(WORDS, st.text(max_size=20)))
def test_any_phrase_parses_or_is_refused_by_name(phrase: str) -> None:
    TRIED["phrases"] += 1
    try:
        d = parse_deadline(phrase, 2023)
    except DeadlineError as e:
        assert f"“{phrase}”" in str(e) and e.reason
        TRIED["refused"] += 1
    else:
        assert d.text == phrase and d.kind in ("date", "range", "recurring", "ongoing", "per_higher_level",
                                               "to_be_decided", "immediate")
        if d.kind in ("date", "range"):
            assert d.due is not None and (d.start is None or d.start <= d.due)


