"""Quiet wrongs made loud or right: a re-imported sheet records nothing twice, a message whose fate stays
unknown is reported to the 专班 once, and a channel that is down cannot hold a run past its time budget."""

import time
from dataclasses import replace
from datetime import timedelta
from pathlib import Path

from flows import dispatch
from flows.dispatch import run_reminders
from fuquan.errors import NotificationError
from notifications.fake import RecordingNotifier
from tests import dbs
from tests.conftest import REAL_CONFIG
from tests.faults import FIGURES
from tests.flows.test_dispatch import CHANNEL, DAY, ZHUANBAN, context, fake_router, setup


def test_re_importing_the_same_sessions_sheet_changes_nothing(run, db_url, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    assert run("sync", "--config", str(REAL_CONFIG)).code == 0
    sheet = tmp_path / "培训场次.csv"
    sheet.write_text("部门,培训日期,培训形式,参训镇,参训人次\n区水务局,2023-05-10,集中培训,湾沚镇、六郎镇,30\n"
                     "区水务局,2023-05-11,现场观摩,湾沚镇,12\n", encoding="utf-8")
    assert run("import", str(sheet), "--today", "2023-06-01").code == 0
    once = dbs.fingerprint(db_url)
    again = run("import", str(sheet), "--today", "2023-06-01")
    assert again.code == 0 and dbs.fingerprint(db_url) == once
    assert dbs.rows(db_url, "SELECT COUNT(*) FROM training_session") == [(2,)]


def test_a_message_whose_fate_stays_unknown_is_reported_to_the_zhuanban_once(tmp_path, monkeypatch) -> None:  # type: ignore[no-untyped-def]
    monkeypatch.setitem(dispatch.PACE, "slack", 0.0)
    engine, plan_id = setup(tmp_path)
    hongyang = CHANNEL["红杨镇"]
    fake = RecordingNotifier(fail=lambda out: NotificationError("unknown", "ReadTimeout", "Slack", "无回应")
                             if out.destination.target == hongyang else None)
    ctx = context(engine, plan_id, fake_router(fake), settle=20)
    first = run_reminders(ctx, today=DAY.date(), now=DAY)
    assert [o.result for o in first.outcomes if o.recipient == "红杨镇"] == ["unknown"]
    assert not [s for s in fake.to(ZHUANBAN) if "结果未知" in s.text]  # too soon to tell
    for minutes in (1, 2):  # later runs: still unknown, now past the settle time
        run_reminders(ctx, today=DAY.date(), now=DAY + timedelta(minutes=minutes))
    told = [s for s in fake.to(ZHUANBAN) if "结果未知" in s.text]
    assert len(told) == 1 and "红杨镇" in told[0].text and "请与该单位核实" in told[0].text
    FIGURES.append("unknown: a message unknown past the settle time reported to the 专班 once in 3 runs")


def test_a_channel_that_is_down_cannot_hold_the_run_past_its_budget(tmp_path, monkeypatch) -> None:  # type: ignore[no-untyped-def]
    monkeypatch.setitem(dispatch.PACE, "slack", 0.0)
    engine, plan_id = setup(tmp_path)

    def down(out):  # type: ignore[no-untyped-def]
        time.sleep(0.2)  # each post waits for a timeout
        return NotificationError("retry", "ConnectionRefusedError", "Slack")

    fake = RecordingNotifier(fail=down)
    ctx = context(engine, plan_id, fake_router(fake))
    ctx = replace(ctx, settings=replace(ctx.settings, send_budget_seconds=0.5))
    started = time.monotonic()
    report = run_reminders(ctx, today=DAY.date(), now=DAY, workers=1)
    took = time.monotonic() - started
    assert 1 <= len(report.outcomes) < 19  # it stopped taking messages when the budget ran out
    assert any("其余" in w and "留待下次运行" in w for w in report.warnings)
    assert dbs.rows(engine.url.render_as_string(hide_password=False),
                    "SELECT COUNT(*) FROM message WHERE status = 'pending'") == [(19,)]
    FIGURES.append(f"budget: a channel down — the run stopped sending after {took:.1f} s, 19 messages pending")
