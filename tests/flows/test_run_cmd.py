"""`fuquan run` in-process: it says why a deadline check sent nothing, and --force sends anyway. (Here, not
in tests/cli, to share the session's one Prefect harness: tests/flows/conftest.py.)"""

import os
import re
from pathlib import Path

import pytest

from cli.service_cmds import _said
from tests.conftest import SMALL_PLAN

# Its own year: the harness is shared, and tests/flows/test_prefect_flows.py counts the versions of p1-2023's artifacts.
PLAN = SMALL_PLAN.replace("year: 2023", "year: 2025").replace("2023-04-18", "2025-04-18")
HEAD = "已运行 deadline-check (测试区 2025 年度): 分工 9 项, 到期提醒 "


@pytest.fixture
def fuquan(run, tmp_path: Path, monkeypatch: pytest.MonkeyPatch, prefect_harness):  # type: ignore[no-untyped-def]
    from prefect.settings import PREFECT_API_URL

    monkeypatch.setenv("PREFECT_API_URL", str(PREFECT_API_URL.value()))  # the harness: `run` links its board
    monkeypatch.setenv("PREFECT_HOME", str(tmp_path / "prefect"))
    monkeypatch.setenv("PREFECT_LOGGING_LEVEL", "WARNING")
    monkeypatch.setenv("FUQUAN_DATA_DIR", str(tmp_path / "data"))
    monkeypatch.delenv("SLACK_BOT_TOKEN", raising=False)
    plan = tmp_path / "tasks.yaml"
    plan.write_text(PLAN, encoding="utf-8")
    assert run("sync", "--config", str(plan)).code == 0
    return run


def said(out: str) -> str:
    """The summary line, its board link checked and cut off."""
    line = next(x for x in out.splitlines() if x.startswith("已运行"))
    assert re.search(r"; 看板: http://127\.0\.0\.1:\d+/v2/runs/flow-run/[0-9a-f-]{36}$", line), line
    return line.split("; 看板: ")[0]


def test_a_day_off_says_why_nothing_was_sent_and_force_sends_once(fuquan) -> None:  # type: ignore[no-untyped-def]
    day_off = ("--today", "2025-05-01")  # 劳动节
    r = fuquan("run", "deadline-check", *day_off)
    assert r.code == 0, r.err
    assert said(r.out) == HEAD + "10 条, 本次发送 0 条 —— 2025-05-01 不是工作日, 不发送提醒 (加 --force 可强制发送)"
    r = fuquan("run", "deadline-check", *day_off, "--force")
    assert r.code == 0, r.err
    assert said(r.out) == HEAD + "10 条, 本次发送 4 条 (其中 4 条未配置发送渠道, 只显示在屏幕上并记入提醒文件)"
    r = fuquan("run", "deadline-check", *day_off, "--force")
    assert said(r.out) == HEAD + "10 条, 本次发送 0 条 —— 到期提醒都已发送过 (每条提醒只发一次)"


def test_force_is_refused_for_a_flow_that_sends_no_reminders(run) -> None:  # type: ignore[no-untyped-def]
    r = run("run", "monthly-status", "--force")
    assert (r.code, r.out) == (1, "")
    assert r.err == "错误: --force 只用于 deadline-check (非工作日或免打扰时段也发送提醒); monthly-status 不发送提醒\n"


@pytest.mark.parametrize(("result", "words"), [
    ({"rows": 9, "due": 4, "sent": 0, "undelivered": 0,
      "skipped": "当前为免打扰时段 (发送时间 09:00–18:00), 不发送提醒 (加 --force 可强制发送)"},
     "分工 9 项, 到期提醒 4 条, 本次发送 0 条 —— 当前为免打扰时段 (发送时间 09:00–18:00), 不发送提醒 (加 --force 可强制发送)"),
    ({"rows": 9, "due": 0, "sent": 0, "undelivered": 0, "skipped": None},
     "分工 9 项, 到期提醒 0 条, 本次发送 0 条 —— 没有到期的提醒"),
    ({"rows": 9, "due": 4, "sent": 1, "undelivered": 2, "skipped": None},
     "分工 9 项, 到期提醒 4 条, 本次发送 1 条, 2 条未送达 (原因见 fuquan reminders log)"),
    ({"rows": 9, "due": 4, "sent": 2, "shown": 0, "undelivered": 0, "skipped": None},
     "分工 9 项, 到期提醒 4 条, 本次发送 2 条"),
    ("2023年4月 月度情况通报", "2023年4月 月度情况通报"),
])
def test_said_names_the_reason(result: object, words: str) -> None:
    assert _said(result) == words


def test_a_dead_prefect_api_url_is_said_in_chinese(run, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:  # type: ignore[no-untyped-def]
    """Pointed at a Prefect server that does not answer (issue 27: the wrong port was printed, then a traceback)."""
    import socket

    with socket.socket() as s:  # a port nothing listens on
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    monkeypatch.setenv("PREFECT_API_URL", f"http://user:secret@127.0.0.1:{port}/api")
    monkeypatch.setenv("PREFECT_HOME", str(tmp_path / "prefect"))
    monkeypatch.setenv("FUQUAN_DATA_DIR", str(tmp_path / "data"))
    plan = tmp_path / "tasks.yaml"
    plan.write_text(PLAN, encoding="utf-8")
    assert run("sync", "--config", str(plan)).code == 0
    r = run("run", "deadline-check", "--config", str(plan), "--today", "2025-05-06")
    assert r.code == 1 and "Traceback" not in r.err
    assert f"PREFECT_API_URL 指向的 Prefect 服务 (http://127.0.0.1:{port}) 无法连接" in r.err
    assert "secret" not in r.err and "4200" not in r.err


def test_only_the_configured_prefect_server_is_attached_to(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """Issue 27: with no PREFECT_API_URL, fuquan attached to whatever answered on 127.0.0.1:4200. Now: the variable,
    else the server `make run` recorded for this data folder, else Prefect's ephemeral mode."""
    from flows.prefect_env import ENVIRONMENT
    from usecases.settings import SERVER_RECORD, prefect_environment

    asked: list[str] = []

    def anything_answers(url: str) -> bool:
        asked.append(url)
        return True

    monkeypatch.delenv("PREFECT_API_URL", raising=False)
    monkeypatch.setenv("PREFECT_HOME", str(tmp_path / "prefect"))
    assert prefect_environment(tmp_path, defaults=ENVIRONMENT, healthy=anything_answers) is None
    assert asked == [] and "PREFECT_API_URL" not in os.environ  # nothing probed, nothing adopted
    (tmp_path / "prefect" / SERVER_RECORD).write_text("http://127.0.0.1:4311/api\n", encoding="utf-8")
    assert prefect_environment(tmp_path, defaults=ENVIRONMENT, healthy=anything_answers) == "http://127.0.0.1:4311/api"
    assert os.environ["PREFECT_API_URL"] == "http://127.0.0.1:4311/api"
    monkeypatch.delenv("PREFECT_API_URL")
    assert prefect_environment(tmp_path, defaults=ENVIRONMENT, healthy=lambda url: False) is None  # recorded, but down
