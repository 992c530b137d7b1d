"""`fuquan remind` and `fuquan reminders log` through the CLI, including secrets staying secret."""

import json
import os
import subprocess
import sys

import pytest
from sqlmodel import SQLModel

from tests import dbs
from tests.conftest import REAL_CONFIG, ROOT
from tests.flows.test_dispatch import CHANNEL, ZHUANBAN, plan_yaml
from tests.slack_server import TOKEN, FakeSlack

NOW = ("--today", "2023-04-28", "--now", "2023-04-28T09:05")


TABLES = sorted(SQLModel.metadata.tables)


def dump(db_url: str) -> str:
    """Every row of every table, as text (so a leaked secret would show)."""
    return "\n".join(f"{t}: {r}" for t in TABLES for r in dbs.rows(db_url, f'SELECT * FROM "{t}" ORDER BY 1'))


@pytest.fixture
def console_run(run, tmp_path, monkeypatch):  # type: ignore[no-untyped-def]
    for var in [k for k in os.environ if k == "SLACK_BOT_TOKEN" or k.startswith("FUQUAN_WEBHOOK_")]:
        monkeypatch.delenv(var)
    monkeypatch.setenv("FUQUAN_NOTIFY_FILE", str(tmp_path / "notifications.md"))
    assert run("sync", "--config", str(REAL_CONFIG)).code == 0
    return run


def test_dry_run_shows_everything_and_writes_nothing(console_run, db_url, tmp_path) -> None:  # type: ignore[no-untyped-def]
    before = dump(db_url)
    r = console_run("remind", *NOW, "--dry-run")
    assert r.code == 0, r.err
    assert r.out.startswith("芜湖市湾沚区 2023 年度 · 预演 (不发送、不写入): 2023-04-28 共 162 条到期提醒, 其中 162 条尚未发送, 合并为 19 条消息")
    assert "── 发给 区水务局 · 控制台 · 4 项 ──" in r.out and "任务10「岗前业务培训」" in r.out
    assert dump(db_url) == before and not (tmp_path / "notifications.md").exists()
    data = json.loads(console_run("remind", *NOW, "--dry-run", "--json").out)
    assert data["dry_run"] is True and len(data["messages"]) == 19
    water = next(m for m in data["messages"] if m["recipient"] == "区水务局")
    assert sorted({r["task"] for r in water["reminders"]}) == [1, 2, 3, 10]
    assert dump(db_url) == before


def test_console_default_prints_and_files_and_sends_once(console_run, tmp_path) -> None:  # type: ignore[no-untyped-def]
    first = console_run("remind", *NOW)
    assert first.code == 0 and "── 发给 区委编办 ──" in first.out and "2023-04-28 提醒发送结果" in first.out
    filed = (tmp_path / "notifications.md").read_text(encoding="utf-8")
    assert filed.count("待办提醒 (2023-04-28)") == 19
    second = console_run("remind", *NOW)
    assert second.out.strip() == "芜湖市湾沚区 2023 年度: 2023-04-28 没有需要发送的提醒 (到期提醒 162 条均已发送过)"
    log = json.loads(console_run("reminders", "log", "--json", "--day", "2023-04-28").out)
    assert len(log) == 19 and {e["result"] for e in log} == {"sent"} and {e["channel"] for e in log} == {"控制台"}
    assert {e["delivery"] for e in log} == {"仅显示, 未发出"}  # printed and filed: nobody was sent anything
    table = console_run("reminders", "log")
    assert "提醒发送记录 (最近 19 条)" in table.out and "仅显示, 未发出" in table.out and "已发送" not in table.out


def test_no_secret_reaches_output_logs_or_database(run, tmp_path, monkeypatch, db_url) -> None:  # type: ignore[no-untyped-def]
    robot_url = "http://127.0.0.1:9/robot/send?access_token=ding-very-secret-token"  # refused: a failure path
    secrets = [TOKEN, robot_url, "ding-very-secret-token", "SEC-signing-secret"]
    yaml = plan_yaml(tmp_path).read_text(encoding="utf-8").replace(f"红杨镇: {{slack: {CHANNEL['红杨镇']}}}",
                                                                    "红杨镇: {dingtalk: HONGYANG}")
    (tmp_path / "tasks.yaml").write_text(yaml, encoding="utf-8")
    with FakeSlack(set(CHANNEL.values()) | {ZHUANBAN}) as slack:
        monkeypatch.setenv("SLACK_BOT_TOKEN", TOKEN)
        monkeypatch.setenv("FUQUAN_SLACK_API_URL", slack.url)
        monkeypatch.setenv("FUQUAN_WEBHOOK_HONGYANG", robot_url)
        monkeypatch.setenv("FUQUAN_WEBHOOK_HONGYANG_SECRET", "SEC-signing-secret")
        monkeypatch.setenv("FUQUAN_NOTIFY_FILE", str(tmp_path / "n.md"))
        assert run("sync", "--config", str(tmp_path / "tasks.yaml")).code == 0
        slack.fault("chat.postMessage", ("error", "fatal_error"), ("drop_after_accept",))
        outputs = [run("remind", *NOW), run("remind", *NOW, "--json"), run("reminders", "log"),
                   run("reminders", "log", "--json")]
        sent_texts = json.dumps(slack.messages, ensure_ascii=False)
    hongyang = [o for o in json.loads(outputs[1].out)["outcomes"] if o["recipient"] == "红杨镇"]
    assert hongyang and hongyang[0]["result"] == "retry"  # refused: nothing can have arrived, the next run sends it
    everything = "".join(o.out + o.err for o in outputs) + dump(db_url) + sent_texts
    everything += (tmp_path / "n.md").read_text(encoding="utf-8") if (tmp_path / "n.md").exists() else ""
    for secret in secrets:
        assert secret not in everything
    assert "钉钉 HONGYANG" in outputs[0].out


def test_a_revoked_token_exits_1_with_one_clear_message(run, tmp_path, monkeypatch) -> None:  # type: ignore[no-untyped-def]
    with FakeSlack(set(CHANNEL.values()) | {ZHUANBAN}, token="xoxb-the-right-one") as slack:
        monkeypatch.setenv("SLACK_BOT_TOKEN", "xoxb-revoked-token-1")
        monkeypatch.setenv("FUQUAN_SLACK_API_URL", slack.url)
        assert run("sync", "--config", str(plan_yaml(tmp_path))).code == 0
        r = run("remind", *NOW)
    assert r.code == 1
    assert r.err.strip().splitlines()[-1] == ("错误: 发送到 Slack 失败: invalid_auth (请检查 SLACK_BOT_TOKEN 及其权限); "
                                             "已停止发送, 未发出的提醒会在下次运行时补发")
    assert "xoxb-revoked-token-1" not in r.out + r.err


def test_two_processes_started_at_once_send_each_reminder_once(tmp_path, db_url) -> None:  # type: ignore[no-untyped-def]
    env = {**os.environ, "FUQUAN_DATABASE_URL": db_url, "SLACK_BOT_TOKEN": TOKEN,
           "FUQUAN_NOTIFY_FILE": str(tmp_path / "n.md")}
    cmd = [sys.executable, "-m", "cli.main"]
    with FakeSlack(set(CHANNEL.values()) | {ZHUANBAN}) as slack:
        env["FUQUAN_SLACK_API_URL"] = slack.url
        subprocess.run([*cmd, "sync", "--config", str(plan_yaml(tmp_path))], env=env, cwd=ROOT, check=True,
                       capture_output=True)
        procs = [subprocess.Popen([*cmd, "remind", *NOW, "--json"], env=env, cwd=ROOT, stdout=subprocess.PIPE,
                                  stderr=subprocess.PIPE, text=True) for _ in range(2)]
        results = [p.communicate(timeout=120) for p in procs]
        keys = slack.keys()
    assert all(p.returncode == 0 for p in procs), results
    assert len(keys) == len(set(keys)) == 19
    sent = sum(len(json.loads(out)["outcomes"]) for out, _ in results)
    assert sent == 19
