"""The reminder run end to end: outbox, real slack_sdk client, local Slack-like server."""

import re
import socket
import threading
from collections import Counter
from collections.abc import Iterator
from datetime import datetime, timedelta
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest
from pydantic import SecretStr
from sqlalchemy.engine import Engine
from sqlmodel import select

import models.outbox as outbox_module
from flows.dispatch import run_reminders
from fuquan.loader import load_plan
from models.db import make_engine, reading, transaction
from models.outbox import MessageRow, SendLogRow
from models.sync import sync_plan
from notifications.router import Router
from notifications.slack import SlackNotifier
from tests import dbs
from tests.conftest import REAL_CONFIG
from tests.slack_server import TOKEN, FakeSlack

TZ = ZoneInfo("Asia/Shanghai")
DAY = datetime(2023, 4, 28, 9, 5, tzinfo=TZ)
PLAN = load_plan(REAL_CONFIG)
UNITS = [u.name for u in PLAN.units if u.kind != "zone"]
CHANNEL = {name: f"C0UNIT{i:03d}" for i, name in enumerate(UNITS)}
ZHUANBAN = "C0ZHUANBAN"


def plan_yaml(tmp: Path, unmapped: tuple[str, ...] = ()) -> Path:
    lines = [f"  专班: {{slack: {ZHUANBAN}}}", "  units:"]
    lines += [f"    {u}: {{slack: {CHANNEL[u]}}}" for u in UNITS if u not in unmapped]
    path = tmp / "tasks.yaml"
    text = re.sub(r"\nchannels:\n.*?\n\n", lambda _m: "\nchannels:\n" + "\n".join(lines) + "\n\n",
                  REAL_CONFIG.read_text(encoding="utf-8"), count=1, flags=re.S)
    path.write_text(text, encoding="utf-8")
    return path


@pytest.fixture
def slack() -> Iterator[FakeSlack]:
    with FakeSlack(set(CHANNEL.values()) | {ZHUANBAN}) as server:
        yield server


def setup(tmp_path: Path, **kw) -> tuple[Engine, int]:  # type: ignore[no-untyped-def]
    engine = make_engine(dbs.fresh_url(tmp_path))
    with transaction(engine) as s:
        report = sync_plan(s, load_plan(plan_yaml(tmp_path, **kw)))
    return engine, report.plan_id


def router(slack: FakeSlack, token: str = TOKEN) -> Router:
    client = SlackNotifier(SecretStr(token), slack.url, timeout=1, sleep=lambda _s: None)
    return Router({"SLACK_BOT_TOKEN": token, "FUQUAN_SLACK_API_URL": slack.url}, slack=client)


def remind(engine: Engine, plan_id: int, slack: FakeSlack, now: datetime = DAY, **kw):  # type: ignore[no-untyped-def]
    return run_reminders(engine, plan_id, today=now.date(), now=now, router=kw.pop("router", None) or router(slack), **kw)


def texts(slack: FakeSlack, unit: str) -> list[str]:
    return [m["text"] for m in slack.messages[CHANNEL.get(unit, ZHUANBAN)]]


def test_every_unit_owing_tasks_2_9_10_gets_one_grouped_message(tmp_path, slack) -> None:  # type: ignore[no-untyped-def]
    engine, plan_id = setup(tmp_path)
    report = remind(engine, plan_id, slack)
    assert {o.result for o in report.outcomes} == {"sent"}
    owing = {a.unit: [t.no for t in PLAN.tasks if t.no in (2, 9, 10) and a.unit in [x.unit for x in PLAN.assignees(t)]]
             for t in PLAN.tasks if t.no in (2, 9, 10) for a in PLAN.assignees(t)}
    for unit, tasks in owing.items():
        got = texts(slack, unit)
        assert len(got) == 1, unit
        for no in tasks:
            assert f"任务{no}「" in got[0], (unit, no)
    # tasks 1 and 3, overdue since 03-31, escalate to their lead 区委编办 and to the 专班
    for who in ("区委编办", "专班"):
        (text,) = texts(slack, who)
        section = text.split("**逾期升级 · 请督促**")[1]
        assert "湾沚镇: 任务1「确定承接事项」 已逾期 20 个工作日" in section and "湾沚镇: 任务3「" in section
    assert sum(len(v) for v in slack.messages.values()) == len(report.outcomes) == 19  # 区数据资源管理局 owes nothing due yet


def test_second_run_the_same_day_sends_nothing(tmp_path, slack) -> None:  # type: ignore[no-untyped-def]
    engine, plan_id = setup(tmp_path)
    remind(engine, plan_id, slack)
    before = sum(len(v) for v in slack.messages.values())
    again = remind(engine, plan_id, slack, DAY + timedelta(hours=2))
    assert again.outcomes == [] and again.due > 0
    assert sum(len(v) for v in slack.messages.values()) == before


def test_faults_across_a_whole_run_deliver_each_message_once(tmp_path, slack) -> None:  # type: ignore[no-untyped-def]
    engine, plan_id = setup(tmp_path)
    slack.fault("chat.postMessage", ("status", 429, {"Retry-After": "2"}), ("drop_after_accept",), ("status", 500),
                ("status", 429, {"Retry-After": "http-date"}), ("status", 502), ("drop_after_accept",),
                ("slow_after_accept", 1.5), ("error", "fatal_error"), ("status", 503))
    results = [o.result for o in remind(engine, plan_id, slack).outcomes]
    # a lookup that itself times out leaves a message "unknown": the next run reconciles it
    for hour in (1, 2):
        if "unknown" in results or "retry" in results:
            results += [o.result for o in remind(engine, plan_id, slack, DAY + timedelta(hours=hour)).outcomes]
    assert results.count("sent") + results.count("reconciled") == 19
    keys = slack.keys()
    assert len(keys) == len(set(keys)) == 19


def test_a_failed_send_stays_pending_and_goes_out_next_run(tmp_path, slack) -> None:  # type: ignore[no-untyped-def]
    engine, plan_id = setup(tmp_path)
    slack.fault("chat.postMessage", *[("status", 429, {"Retry-After": "1"})] * 5)  # the first message gives up
    first = remind(engine, plan_id, slack, workers=1)  # one lane, so the five 429s hit one message
    assert [o.result for o in first.outcomes].count("retry") == 1
    with reading(engine) as s:
        assert len(list(s.exec(select(MessageRow).where(MessageRow.status == "pending")))) == 1
    second = remind(engine, plan_id, slack, DAY + timedelta(hours=1))
    assert [o.result for o in second.outcomes] == ["sent"]
    assert len(slack.keys()) == len(set(slack.keys())) == 19


def test_crash_between_send_and_mark_is_reconciled_not_resent(tmp_path, slack, monkeypatch) -> None:  # type: ignore[no-untyped-def]
    engine, plan_id = setup(tmp_path)
    real_finish = outbox_module.finish
    calls = Counter[str]()

    def crash_after_third(*a, **kw):  # type: ignore[no-untyped-def]
        calls["n"] += 1
        if calls["n"] == 3:
            raise KeyboardInterrupt("killed between send and mark")
        return real_finish(*a, **kw)

    monkeypatch.setattr(outbox_module, "finish", crash_after_third)
    with pytest.raises(KeyboardInterrupt):
        remind(engine, plan_id, slack, run=f"{socket.gethostname()}:999999:dead", workers=1)  # a pid that does not exist
    monkeypatch.setattr(outbox_module, "finish", real_finish)
    assert len(slack.keys()) == 3  # the third was delivered but never marked
    # a minute later, well inside the lease: the claiming process is gone, so its claims are in doubt
    report = remind(engine, plan_id, slack, DAY + timedelta(minutes=1))
    assert len(slack.keys()) == 19  # every message out, none twice
    results = Counter(o.result for o in report.outcomes)
    assert results == {"sent": 16, "reconciled": 1}
    assert len(slack.keys()) == len(set(slack.keys())) == 19


def test_a_claim_by_a_live_run_is_left_alone_until_its_lease_ends(tmp_path, slack, monkeypatch) -> None:  # type: ignore[no-untyped-def]
    engine, plan_id = setup(tmp_path)
    with pytest.raises(SystemExit):  # a run on another machine claims, then loses power mid-send
        remind(engine, plan_id, slack, run="otherhost:1:x", router=_stalled_router(slack))
    with reading(engine) as s:
        assert {m.status for m in s.exec(select(MessageRow))} == {"sending"}
    soon = remind(engine, plan_id, slack, DAY + timedelta(minutes=5))
    assert soon.outcomes == []
    later = remind(engine, plan_id, slack, DAY + timedelta(minutes=11))
    assert Counter(o.result for o in later.outcomes) == {"sent": 19}
    assert len(slack.keys()) == 19


def _stalled_router(slack: FakeSlack) -> Router:
    """A router whose every send dies mid-flight, like a machine losing power after claiming."""
    r = router(slack)
    real = r.notifier

    def notifier(dest):  # type: ignore[no-untyped-def]
        if dest.kind == "slack":
            raise SystemExit("power lost")
        return real(dest)

    r.notifier = notifier  # type: ignore[method-assign]
    return r


def test_wrong_destination_tells_the_zhuanban_and_others_still_go(tmp_path, slack) -> None:  # type: ignore[no-untyped-def]
    slack.archived.add(CHANNEL["陶辛镇"])
    engine, plan_id = setup(tmp_path)
    report = remind(engine, plan_id, slack)
    failed = [o for o in report.outcomes if o.result == "failed"]
    assert [(o.recipient, o.code) for o in failed] == [("陶辛镇", "is_archived")]
    assert sum(1 for o in report.outcomes if o.result == "sent") == 19  # 18 others + the notice
    notice = texts(slack, "专班")[-1]
    assert "提醒未送达" in notice and "陶辛镇 (Slack C0UNIT" in notice and "is_archived" in notice
    again = remind(engine, plan_id, slack, DAY + timedelta(hours=1))
    assert [(o.recipient, o.result) for o in again.outcomes] == [("陶辛镇", "failed")]  # retried, no second notice
    slack.archived.clear()
    fixed = remind(engine, plan_id, slack, DAY + timedelta(hours=2))
    assert [(o.recipient, o.result) for o in fixed.outcomes] == [("陶辛镇", "sent")]


def test_a_token_problem_stops_the_run_with_one_clear_error(tmp_path, slack) -> None:  # type: ignore[no-untyped-def]
    engine, plan_id = setup(tmp_path)
    report = remind(engine, plan_id, slack, router=router(slack, token="xoxb-revoked-999"))
    assert report.outcomes == [] and slack.calls == ["auth.test"]  # stopped before a single post
    assert report.stopped == "发送到 Slack 失败: invalid_auth (请检查 SLACK_BOT_TOKEN 及其权限)"
    assert slack.keys() == []
    with reading(engine) as s:
        assert {m.status for m in s.exec(select(MessageRow))} == {"pending"}
    fixed = remind(engine, plan_id, slack, DAY + timedelta(hours=1))
    assert Counter(o.result for o in fixed.outcomes) == {"sent": 19}


def test_an_unmapped_unit_goes_to_the_zhuanban_with_a_note(tmp_path, slack) -> None:  # type: ignore[no-untyped-def]
    engine, plan_id = setup(tmp_path, unmapped=("花桥镇",))
    remind(engine, plan_id, slack)
    forwarded = [t for t in texts(slack, "专班") if "花桥镇 尚未配置接收渠道, 本提醒发至专班, 请转达。" in t]
    assert len(forwarded) == 1 and "花桥镇 待办提醒" in forwarded[0]


def test_two_runs_at_once_send_each_reminder_once(tmp_path, slack) -> None:  # type: ignore[no-untyped-def]
    engine, plan_id = setup(tmp_path)
    url = engine.url.render_as_string(hide_password=False)
    barrier = threading.Barrier(2)
    errors: list[BaseException] = []

    def run() -> None:
        try:
            eng = make_engine(url, busy_timeout_ms=30000)
            barrier.wait()
            remind(eng, plan_id, slack)
        except BaseException as e:  # noqa: BLE001 - surfaced below
            errors.append(e)

    threads = [threading.Thread(target=run) for _ in range(2)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert errors == []
    keys = slack.keys()
    assert len(keys) == len(set(keys)) == 19


def test_dry_run_writes_nothing_and_sends_nothing(tmp_path, slack) -> None:  # type: ignore[no-untyped-def]
    engine, plan_id = setup(tmp_path)
    report = remind(engine, plan_id, slack, dry_run=True)
    assert len(report.planned) == 19 and report.outcomes == [] and slack.calls == []
    with reading(engine) as s:
        assert list(s.exec(select(MessageRow))) == [] and list(s.exec(select(SendLogRow))) == []


def test_non_working_day_and_quiet_hours_are_skipped(tmp_path, slack) -> None:  # type: ignore[no-untyped-def]
    engine, plan_id = setup(tmp_path)
    sunday = remind(engine, plan_id, slack, datetime(2023, 4, 30, 9, 5, tzinfo=TZ))
    assert sunday.skipped and "不是工作日" in sunday.skipped
    early = remind(engine, plan_id, slack, datetime(2023, 4, 28, 7, 0, tzinfo=TZ))
    assert early.skipped and "免打扰" in early.skipped
    makeup = remind(engine, plan_id, slack, datetime(2023, 4, 23, 9, 5, tzinfo=TZ))  # make-up Sunday
    assert makeup.skipped is None and makeup.outcomes
    assert slack.calls.count("chat.postMessage") == len(makeup.outcomes)


def test_every_attempt_is_in_the_send_log(tmp_path, slack) -> None:  # type: ignore[no-untyped-def]
    engine, plan_id = setup(tmp_path)
    slack.fault("chat.postMessage", ("status", 429, {"Retry-After": "1"}), ("status", 502))
    remind(engine, plan_id, slack, workers=1)  # one lane: the first message meets both faults
    with reading(engine) as s:
        first = s.exec(select(MessageRow).order_by(MessageRow.id)).first()
        assert first is not None
        log = [(r.result, r.error_code) for r in s.exec(select(SendLogRow).where(SendLogRow.message_id == first.id)
                                                         .order_by(SendLogRow.id))]
    assert log == [("attempt", "ratelimited"), ("attempt", "internal_error"), ("sent", None)]


def test_library_logs_never_carry_a_secret(tmp_path, slack, caplog) -> None:  # type: ignore[no-untyped-def]
    import logging

    caplog.set_level(logging.DEBUG)
    engine, plan_id = setup(tmp_path)
    slack.fault("chat.postMessage", ("drop_before_accept",), ("drop_after_accept",))
    r = router(slack)
    logging.getLogger("slack_sdk.web.base_client").error("Failed to send with token %s", TOKEN)  # as if the SDK leaked it
    remind(engine, plan_id, slack, router=r)
    assert caplog.records and all(TOKEN not in rec.getMessage() for rec in caplog.records)
