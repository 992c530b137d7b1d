"""Secrets never show (issue: never corrupt, never leak): a Slack token, robot URLs and a signing secret are
seeded through every path that once leaked one — a robot URL without its scheme, a quoted one, a proxy
echoing the request (Authorization: Bearer …) as a non-JSON answer, a robot whose errmsg echoes its
access_token and sign, answers that are not a robot's at all — and every output is scanned: stdout, stderr,
log records, the notify file, the messages delivered, and every row of the database."""

import json
import logging
import re

from sqlmodel import SQLModel

from tests import dbs
from tests.cli.test_remind_cli import NOW
from tests.faults import FIGURES
from tests.flows.test_dispatch import CHANNEL, ZHUANBAN, plan_yaml
from tests.notifications.test_webhooks import Robot
from tests.slack_server import TOKEN, FakeSlack

ROBOT_TOKEN, SIGN_SECRET = "ROBOT-access-token-4711", "SEC-signing-secret-0815"
BARE, QUOTED = "BARE-url-token-1234", "QUOTED-wecom-key-5678"
# the unit loop's: links are signed with it and sent (the link, never the key), and Slack's two for buttons
LINK_KEY, SLACK_SIGNING, APP_TOKEN = "LINK-signing-key-2024-qwerty", "SLACK-signing-secret-9931", "xapp-1-A0-secret-77"


def dump(db_url: str) -> str:
    return "\n".join(f"{t}: {r}" for t in sorted(SQLModel.metadata.tables)
                     for r in dbs.rows(db_url, f'SELECT * FROM "{t}" ORDER BY 1'))


def test_no_secret_leaves_the_process_by_any_path(run, tmp_path, monkeypatch, db_url, caplog) -> None:  # type: ignore[no-untyped-def]
    caplog.set_level(logging.DEBUG)
    robot = Robot()
    mapped = {"红杨镇": "{dingtalk: HONGYANG}", "陶辛镇": "{dingtalk: TAOXIN}", "花桥镇": "{wecom: HUAQIAO}"}
    text = plan_yaml(tmp_path).read_text(encoding="utf-8")
    for town, dest in mapped.items():
        text = text.replace(f"{town}: {{slack: {CHANNEL[town]}}}", f"{town}: {dest}")
    (tmp_path / "tasks.yaml").write_text(text, encoding="utf-8")
    hongyang = robot.url(f"access_token={ROBOT_TOKEN}")
    # the robot refuses the signature and echoes what it was sent, as DingTalk's errmsg does
    robot.answers += [(200, {"errcode": 310000, "errmsg": f"sign not match, more: {hongyang}&timestamp=1&sign=abc"}),
                      (200, []), (200, None), (200, {"errcode": "abc"})]
    secrets = [TOKEN, hongyang, ROBOT_TOKEN, SIGN_SECRET, BARE, QUOTED, LINK_KEY, SLACK_SIGNING, APP_TOKEN]
    with FakeSlack(set(CHANNEL.values()) | {ZHUANBAN}) as slack:
        for k, v in {"SLACK_BOT_TOKEN": TOKEN, "FUQUAN_SLACK_API_URL": slack.url, "FUQUAN_WEBHOOK_HONGYANG": hongyang,
                     "FUQUAN_WEBHOOK_HONGYANG_SECRET": SIGN_SECRET,
                     "FUQUAN_WEBHOOK_TAOXIN": f"oapi.dingtalk.com/robot/send?access_token={BARE}",
                     "FUQUAN_WEBHOOK_HUAQIAO": f"'https://127.0.0.1:9/cgi-bin/webhook/send?key={QUOTED}'",
                     "FUQUAN_NOTIFY_FILE": str(tmp_path / "n.md"), "FUQUAN_LINK_SECRET": LINK_KEY,
                     "SLACK_SIGNING_SECRET": SLACK_SIGNING, "SLACK_APP_TOKEN": APP_TOKEN}.items():
            monkeypatch.setenv(k, v)
        assert run("sync", "--config", str(tmp_path / "tasks.yaml")).code == 0
        slack.fault("chat.postMessage", ("echo", 200), ("echo", 502))
        outputs = [run("remind", *NOW)]
        for hour in (10, 11, 12):  # the robot's other answers, on later runs
            outputs.append(run("remind", "--today", "2023-04-28", "--now", f"2023-04-28T{hour}:05", "--json"))
        outputs += [run("reminders", "log"), run("reminders", "log", "--json"), run("status", "--today", "2023-04-28"),
                    run("report", "monthly", "--today", "2023-05-22", "--out", str(tmp_path / "r"), "--send")]
        delivered = json.dumps(slack.messages, ensure_ascii=False) + json.dumps(robot.received, ensure_ascii=False)
    robot.httpd.shutdown()
    assert all(o.code == 0 for o in outputs), [o.err[-500:] for o in outputs if o.code]
    log = json.loads(outputs[5].out)
    codes = {e["error_code"] for e in log if e["error_code"]}
    assert {"bad_webhook_url", "errcode_310000", "bad_answer"} <= codes, codes
    assert all(re.fullmatch(r"[a-z][a-z0-9_]*", c) for c in codes), codes  # words, never a raw answer
    files = ""  # on SQLite the file itself too: its free pages and WAL keep what rows no longer show
    if dbs.BACKEND == "sqlite":
        path = dbs.sqlite_path(db_url)
        files = "".join(p.read_bytes().decode("utf-8", "ignore") for p in path.parent.glob(f"{path.name}*"))
    everything = ("".join(o.out + o.err for o in outputs) + dump(db_url) + delivered + files
                  + "\n".join(p.read_text(encoding="utf-8") for p in tmp_path.rglob("*.md")) + "\n".join(r.getMessage() for r in caplog.records))
    leaks = [s for s in secrets if s in everything] + re.findall(r"Bearer xox|access_token=[^*\s]|sign=[^*\s]", everything)
    assert "/l/" in delivered  # the units' messages did carry their links (signed with LINK_KEY)
    FIGURES.append(f"secrets: {len(secrets)} seeded through 6 fault paths, {len(everything):,} characters scanned, "
                   f"{len(leaks)} found")
    assert leaks == []
    assert "FUQUAN_WEBHOOK_TAOXIN 应为以 https:// 开头的完整网址" in everything  # the clerk is told what to fix


def test_a_failed_flow_tells_the_zhuanban_without_the_secret_in_its_message(tmp_path, monkeypatch) -> None:  # type: ignore[no-untyped-def]
    from types import SimpleNamespace

    from flows.failure import notify_failure

    url = f"oapi.dingtalk.com/robot/send?access_token={BARE}"
    monkeypatch.setenv("FUQUAN_DATABASE_URL", dbs.fresh_url(tmp_path))
    monkeypatch.setenv("FUQUAN_DATA_DIR", str(tmp_path / "data"))
    monkeypatch.setenv("FUQUAN_NOTIFY_FILE", str(tmp_path / "n.md"))
    monkeypatch.delenv("SLACK_BOT_TOKEN", raising=False)
    state = SimpleNamespace(message=f"ValueError: unknown url type: '{url}' (Bearer {TOKEN})",
                            type=SimpleNamespace(value="FAILED"))
    notify_failure(SimpleNamespace(name="deadline-check"), SimpleNamespace(name="run-1", id="x", parameters={}), state)
    told = (tmp_path / "n.md").read_text(encoding="utf-8")
    assert "每日检查 (deadline-check) 运行失败" in told and "access_token=***" in told
    assert BARE not in told and TOKEN not in told
