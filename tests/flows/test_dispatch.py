"""The reminder run end to end: outbox and dispatch on an in-process recording notifier; the real
slack_sdk client against a local Slack-like server only where Slack's HTTP behaviour is the point."""

import logging
import re
import socket
import threading
from collections import Counter
from collections.abc import Callable, Iterator
from datetime import datetime, timedelta
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest
from pydantic import SecretStr
from sqlalchemy.engine import Engine
from sqlmodel import col, select

import models.outbox as outbox_module
from flows import dispatch
from flows.dispatch import RunReport, run_reminders
from fuquan.errors import NotificationError
from fuquan.plans.loader import load_plan
from models.db import make_engine, reading, transaction
from models.outbox import MessageRow, SendLogRow
from models.stored import read_plan
from models.sync import sync_plan
from models.tables import PlanRow
from notifications.base import Outgoing
from notifications.fake import RecordingNotifier
from notifications.router import Router
from notifications.slack import SlackNotifier
from tests import dbs
from tests.conftest import REAL_CONFIG
from tests.slack_server import TOKEN, FakeSlack
from usecases.context import Context
from usecases.settings import Settings

TZ = ZoneInfo("Asia/Shanghai")
DAY = datetime(2023, 4, 28, 9, 5, tzinfo=TZ)
PLAN = load_plan(REAL_CONFIG)
UNITS = [u.name for u in PLAN.units if u.kind != "zone"]
CHANNEL = {name: f"C0UNIT{i:03d}" for i, name in enumerate(UNITS)}
ZHUANBAN = "C0ZHUANBAN"
EXPECTED = 19  # grouped messages due on 2023-04-28 on the 2023 plan (区数据资源管理局 owes nothing due yet)


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
    server = FakeSlack(set(CHANNEL.values()) | {ZHUANBAN})
    # serve_forever polls for shutdown every 0.5 s by default: each test's teardown would wait that long
    server.thread = threading.Thread(target=server.httpd.serve_forever, kwargs={"poll_interval": 0.02}, daemon=True)
    with server:
        yield server


@pytest.fixture
def fake(monkeypatch: pytest.MonkeyPatch) -> RecordingNotifier:
    """The router's Slack notifier, in process. It has no rate limit, so the run need not pace its posts."""
    monkeypatch.setitem(dispatch.PACE, "slack", 0.0)
    return RecordingNotifier()


def setup(tmp_path: Path, **kw) -> tuple[Engine, int]:  # type: ignore[no-untyped-def]
    engine = make_engine(dbs.fresh_url(tmp_path))
    with transaction(engine) as s:
        report = sync_plan(s, load_plan(plan_yaml(tmp_path, **kw)))
    return engine, report.plan_id


def router(slack: FakeSlack, token: str = TOKEN) -> Router:
    client = SlackNotifier(SecretStr(token), slack.url, timeout=1, sleep=lambda _s: None)
    return Router(slack_token=SecretStr(token), slack_api_url=slack.url, slack=client)


def fake_router(fake: RecordingNotifier) -> Router:
    return Router(slack=fake)


def context(engine: Engine, plan_id: int, r: Router, settle: float = 20) -> Context:
    """The runtime context a run gets at the edge, here with the test's own engine, router and settle time."""
    with reading(engine) as s:
        stored = read_plan(s, s.get(PlanRow, plan_id))  # type: ignore[arg-type]
    return Context(Settings.from_env({"FUQUAN_SETTLE_SECONDS": str(settle)}), engine, r, stored=stored)


def remind(engine: Engine, plan_id: int, slack: FakeSlack, now: datetime = DAY, **kw) -> RunReport:  # type: ignore[no-untyped-def]
    """One run through the real Slack client against the local server."""
    r = kw.pop("router", None) or router(slack)
    return run_reminders(context(engine, plan_id, r), today=now.date(), now=now, **kw)


def remind_fake(engine: Engine, plan_id: int, fake: RecordingNotifier, now: datetime = DAY, **kw) -> RunReport:  # type: ignore[no-untyped-def]
    """One run with the recording notifier as the router's Slack notifier."""
    r = kw.pop("router", None) or fake_router(fake)
    return run_reminders(context(engine, plan_id, r), today=now.date(), now=now, **kw)


def texts(fake: RecordingNotifier, unit: str) -> list[str]:
    return [s.text for s in fake.to(CHANNEL.get(unit, ZHUANBAN))]


def keys(fake: RecordingNotifier) -> list[str]:
    return [s.key for s in fake.sent]


def fail_once_each(category: str, code: str, times: int = 1,
                   which: Callable[[Outgoing], bool] = lambda _o: True) -> tuple[Callable[[Outgoing], NotificationError | None], list[str]]:
    """A `fail` for the fake: the first message `which` accepts fails `times` times (one per send), then goes
    through. Returns it and the list of keys it failed, in order."""
    failed: list[str] = []
    lock = threading.Lock()

    def fail(out: Outgoing) -> NotificationError | None:
        with lock:
            if which(out) and len(failed) < times and (not failed or failed[0] == out.key):
                failed.append(out.key)
                return NotificationError(category, code, out.destination.label(), "稍后重试")
        return None

    return fail, failed


def statuses(engine: Engine) -> Counter[str]:
    with reading(engine) as s:
        return Counter(m.status for m in s.exec(select(MessageRow)))


# -- outbox and dispatch, on the recording notifier -------------------------------------------------

def test_every_unit_owing_tasks_2_9_10_gets_one_grouped_message(tmp_path, fake) -> None:  # type: ignore[no-untyped-def]
    engine, plan_id = setup(tmp_path)
    report = remind_fake(engine, plan_id, fake)
    assert {o.result for o in report.outcomes} == {"sent"}
    owing = {a.unit: [t.no for t in PLAN.tasks if t.no in (2, 9, 10) and a.unit in [x.unit for x in PLAN.assignees(t)]]
             for t in PLAN.tasks if t.no in (2, 9, 10) for a in PLAN.assignees(t)}
    assert owing
    for unit, tasks in owing.items():
        got = texts(fake, unit)
        assert len(got) == 1, unit
        for no in tasks:
            assert f"任务{no}「" in got[0], (unit, no)
    # tasks 1 and 3, overdue since 03-31, escalate to their lead 区委编办 and to the 专班
    for who in ("区委编办", "专班"):
        (text,) = texts(fake, who)
        section = text.split("**请督促**")[1]
        assert "任务1「确定承接事项」 逾期 20 个工作日: " in section and "个镇 未完成" in section and "任务3「" in section
    assert len(fake.sent) == len(report.outcomes) == EXPECTED
    assert len(set(keys(fake))) == EXPECTED and fake.checks == 1  # one token check per run, before the posts
    assert statuses(engine) == {"sent": EXPECTED}


def test_second_run_the_same_day_sends_nothing(tmp_path, fake) -> None:  # type: ignore[no-untyped-def]
    engine, plan_id = setup(tmp_path)
    remind_fake(engine, plan_id, fake)
    assert len(fake.sent) == EXPECTED
    again = remind_fake(engine, plan_id, fake, DAY + timedelta(hours=2))
    assert again.outcomes == [] and again.due > 0
    assert len(fake.sent) == EXPECTED


def test_a_failed_send_stays_pending_and_goes_out_next_run(tmp_path, fake) -> None:  # type: ignore[no-untyped-def]
    engine, plan_id = setup(tmp_path)
    fake.fail, failed = fail_once_each("retry", "ratelimited")
    first = remind_fake(engine, plan_id, fake)
    assert Counter(o.result for o in first.outcomes) == {"sent": EXPECTED - 1, "retry": 1}
    assert len(failed) == 1 and failed[0] not in keys(fake)
    with reading(engine) as s:
        (pending,) = s.exec(select(MessageRow).where(MessageRow.status == "pending"))
    assert pending.key == failed[0] and pending.last_error is not None and "ratelimited" in pending.last_error
    second = remind_fake(engine, plan_id, fake, DAY + timedelta(hours=1))
    assert [o.result for o in second.outcomes] == ["sent"] and fake.sent[-1].key == failed[0]
    assert len(keys(fake)) == len(set(keys(fake))) == EXPECTED


def test_crash_between_send_and_mark_is_reconciled_not_resent(tmp_path, fake, monkeypatch) -> None:  # type: ignore[no-untyped-def]
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
        remind_fake(engine, plan_id, fake, run=f"{socket.gethostname()}:999999:dead", workers=1)  # a pid that does not exist
    monkeypatch.setattr(outbox_module, "finish", real_finish)
    assert len(fake.sent) == 3  # the third was delivered but never marked
    third = fake.sent[2].key
    assert statuses(engine) == {"sent": 2, "sending": EXPECTED - 2}
    # a minute later, well inside the lease: the claiming process is gone, so its claims are in doubt
    report = remind_fake(engine, plan_id, fake, DAY + timedelta(minutes=1))
    assert Counter(o.result for o in report.outcomes) == {"sent": 16, "reconciled": 1}
    assert len(keys(fake)) == len(set(keys(fake))) == EXPECTED  # every message out, none twice
    with reading(engine) as s:
        (row,) = s.exec(select(MessageRow).where(MessageRow.key == third))
    assert row.status == "sent" and row.external_id == fake.delivered[third] == "m3"  # the id `find` returned
    assert statuses(engine) == {"sent": EXPECTED}


def test_a_claim_by_a_live_run_is_left_alone_until_its_lease_ends(tmp_path, fake) -> None:  # type: ignore[no-untyped-def]
    engine, plan_id = setup(tmp_path)
    with pytest.raises(SystemExit):  # a run on another machine claims, then loses power mid-send
        remind_fake(engine, plan_id, fake, run="otherhost:1:x", router=_stalled(fake_router(fake)))
    assert statuses(engine) == {"sending": EXPECTED} and fake.sent == []
    soon = remind_fake(engine, plan_id, fake, DAY + timedelta(minutes=5))
    assert soon.outcomes == [] and fake.sent == []
    later = remind_fake(engine, plan_id, fake, DAY + timedelta(minutes=11))
    assert Counter(o.result for o in later.outcomes) == {"sent": EXPECTED}
    assert len(keys(fake)) == len(set(keys(fake))) == EXPECTED


def _stalled(r: Router) -> Router:
    """The router with every Slack send dying mid-flight, like a machine losing power after claiming."""
    real = r.notifier

    def notifier(dest):  # type: ignore[no-untyped-def]
        if dest.kind == "slack":
            raise SystemExit("power lost")
        return real(dest)

    r.notifier = notifier  # type: ignore[method-assign]
    return r


def test_wrong_destination_tells_the_zhuanban_and_others_still_go(tmp_path, fake) -> None:  # type: ignore[no-untyped-def]
    archived = {CHANNEL["陶辛镇"]}

    def fail(out: Outgoing) -> NotificationError | None:
        if out.destination.target in archived:
            return NotificationError("destination", "is_archived", out.destination.label(), "频道已归档")
        return None

    fake.fail = fail
    engine, plan_id = setup(tmp_path)
    report = remind_fake(engine, plan_id, fake)
    failed = [o for o in report.outcomes if o.result == "failed"]
    assert [(o.recipient, o.code) for o in failed] == [("陶辛镇", "is_archived")]
    assert sum(1 for o in report.outcomes if o.result == "sent") == EXPECTED  # 18 others + the notice
    assert texts(fake, "陶辛镇") == [] and len(fake.sent) == EXPECTED
    notice = texts(fake, "专班")[-1]
    assert "提醒未送达" in notice and f"陶辛镇 (Slack {CHANNEL['陶辛镇']}): is_archived: 频道已归档" in notice
    again = remind_fake(engine, plan_id, fake, DAY + timedelta(hours=1))
    assert [(o.recipient, o.result) for o in again.outcomes] == [("陶辛镇", "failed")]  # retried, no second notice
    assert len(fake.sent) == EXPECTED
    archived.clear()
    fixed = remind_fake(engine, plan_id, fake, DAY + timedelta(hours=2))
    assert [(o.recipient, o.result) for o in fixed.outcomes] == [("陶辛镇", "sent")]
    assert len(texts(fake, "陶辛镇")) == 1 and len(fake.sent) == EXPECTED + 1


def test_a_token_problem_stops_the_run_with_one_clear_error(tmp_path, fake) -> None:  # type: ignore[no-untyped-def]
    engine, plan_id = setup(tmp_path)
    tried: list[str] = []

    def record(out: Outgoing) -> None:  # every send the run tries; none fails
        tried.append(out.key)

    fake.fail = record
    fake.bad_credential = "invalid_auth"
    report = remind_fake(engine, plan_id, fake)
    assert report.outcomes == [] and fake.checks == 1 and tried == [] and fake.sent == []  # stopped before a post
    assert report.stopped == "发送到 slack 失败: invalid_auth (请检查令牌)"
    assert statuses(engine) == {"pending": EXPECTED}
    fake.bad_credential = None
    fixed = remind_fake(engine, plan_id, fake, DAY + timedelta(hours=1))
    assert Counter(o.result for o in fixed.outcomes) == {"sent": EXPECTED} and len(tried) == EXPECTED


def test_an_unmapped_unit_goes_to_the_zhuanban_with_a_note(tmp_path, fake) -> None:  # type: ignore[no-untyped-def]
    engine, plan_id = setup(tmp_path, unmapped=("花桥镇",))
    remind_fake(engine, plan_id, fake)
    forwarded = [t for t in texts(fake, "专班") if "花桥镇 尚未配置接收渠道, 本提醒发至专班, 请转达。" in t]
    assert len(forwarded) == 1 and "花桥镇 待办提醒" in forwarded[0]
    assert [s.recipient for s in fake.to(ZHUANBAN)].count("花桥镇") == 1
    assert len(fake.sent) == EXPECTED


def test_two_runs_at_once_send_each_reminder_once(tmp_path, fake) -> None:  # type: ignore[no-untyped-def]
    engine, plan_id = setup(tmp_path)
    url = engine.url.render_as_string(hide_password=False)
    barrier = threading.Barrier(2)
    errors: list[BaseException] = []
    reports: list[RunReport] = []

    def run() -> None:
        try:
            eng = make_engine(url, busy_timeout_ms=30000)
            barrier.wait()
            reports.append(remind_fake(eng, plan_id, fake))
            eng.dispose()
        except BaseException as e:  # noqa: BLE001 - surfaced below
            errors.append(e)

    threads = [threading.Thread(target=run) for _ in range(2)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert errors == [] and len(reports) == 2
    assert sum(o.result == "sent" for r in reports for o in r.outcomes) == EXPECTED
    assert len(keys(fake)) == len(set(keys(fake))) == EXPECTED


def test_dry_run_writes_nothing_and_sends_nothing(tmp_path, fake) -> None:  # type: ignore[no-untyped-def]
    engine, plan_id = setup(tmp_path)
    report = remind_fake(engine, plan_id, fake, dry_run=True)
    assert len(report.planned) == EXPECTED and report.outcomes == []
    assert fake.sent == [] and fake.checks == 0  # not even the token check
    with reading(engine) as s:
        assert list(s.exec(select(MessageRow))) == [] and list(s.exec(select(SendLogRow))) == []


def test_non_working_day_and_quiet_hours_are_skipped(tmp_path, fake) -> None:  # type: ignore[no-untyped-def]
    engine, plan_id = setup(tmp_path)
    sunday = remind_fake(engine, plan_id, fake, datetime(2023, 4, 30, 9, 5, tzinfo=TZ))
    assert sunday.skipped and "不是工作日" in sunday.skipped
    early = remind_fake(engine, plan_id, fake, datetime(2023, 4, 28, 7, 0, tzinfo=TZ))
    assert early.skipped and "免打扰" in early.skipped
    assert fake.sent == [] and fake.checks == 0 and statuses(engine) == {}
    makeup = remind_fake(engine, plan_id, fake, datetime(2023, 4, 23, 9, 5, tzinfo=TZ))  # make-up Sunday
    assert makeup.skipped is None and makeup.outcomes
    assert len(fake.sent) == len(makeup.outcomes)


def test_every_attempt_of_a_message_is_in_the_send_log(tmp_path, fake) -> None:  # type: ignore[no-untyped-def]
    engine, plan_id = setup(tmp_path)
    fake.fail, failed = fail_once_each("retry", "ratelimited")
    remind_fake(engine, plan_id, fake)
    fake.fail, _ = fail_once_each("unknown", "ReadTimeout", which=lambda out: out.key == failed[0])
    remind_fake(engine, plan_id, fake, DAY + timedelta(hours=1))  # retried: the outcome is unknown this time
    remind_fake(engine, plan_id, fake, DAY + timedelta(hours=2))  # in doubt: looked for (not there), then sent
    with reading(engine) as s:
        (first,) = s.exec(select(MessageRow).where(MessageRow.key == failed[0]))
        log = [(r.result, r.error_code) for r in s.exec(select(SendLogRow).where(SendLogRow.message_id == first.id)
                                                         .order_by(col(SendLogRow.id)))]
        rows = len(list(s.exec(select(SendLogRow))))
    assert log == [("retry", "ratelimited"), ("unknown", "ReadTimeout"), ("sent", None)]
    assert rows == EXPECTED + 2 and keys(fake).count(failed[0]) == 1


# -- the real Slack client under HTTP faults, against the local Slack-like server ---------------------

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
    assert results.count("sent") + results.count("reconciled") == EXPECTED
    keys = slack.keys()
    assert len(keys) == len(set(keys)) == EXPECTED


def test_every_attempt_is_in_the_send_log(tmp_path, slack) -> None:  # type: ignore[no-untyped-def]
    engine, plan_id = setup(tmp_path)
    slack.fault("chat.postMessage", ("status", 429, {"Retry-After": "1"}), ("status", 502))
    remind(engine, plan_id, slack, workers=1)  # one lane: the first message meets both faults
    with reading(engine) as s:
        first = s.exec(select(MessageRow).order_by(col(MessageRow.id))).first()
        assert first is not None
        log = [(r.result, r.error_code) for r in s.exec(select(SendLogRow).where(SendLogRow.message_id == first.id)
                                                         .order_by(col(SendLogRow.id)))]
    assert log == [("attempt", "ratelimited"), ("attempt", "internal_error"), ("sent", None)]


def test_library_logs_never_carry_a_secret(tmp_path, slack, caplog) -> None:  # type: ignore[no-untyped-def]
    caplog.set_level(logging.DEBUG)
    engine, plan_id = setup(tmp_path)
    slack.fault("chat.postMessage", ("drop_before_accept",), ("drop_after_accept",))
    r = router(slack)
    logging.getLogger("slack_sdk.web.base_client").error("Failed to send with token %s", TOKEN)  # as if the SDK leaked it
    remind(engine, plan_id, slack, router=r)
    assert caplog.records and all(TOKEN not in rec.getMessage() for rec in caplog.records)
