"""签收 and its chase: a reminder nobody acknowledged is sent once more after the plan's `ack_within` working days
and escalated to the task's lead unit and the 专班; an acknowledged one is not; nothing is chased twice. Time is
injected (`--today`, and the acknowledgement's own `now`), on the 县 plan and the 区 plan."""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path

import pytest

from fuquan.tracking.actor import Actor
from tests import dbs
from tests.conftest import ROOT
from usecases import answers, pages
from usecases.commands import Acknowledge, AskExtension, DecideExtension
from usecases.context import open_context
from usecases.settings import Settings

PLANS = ROOT / "tests" / "plans"
# (plan file, a town that acknowledges, one that does not, the lead of a task both owe, first day, +1, +2 working days)
CASES = {
    "qingshan": ("qingshan-2024.yaml", "青山镇", "龙潭镇", "县委编办", "2024-04-10", "2024-04-11", "2024-04-12"),
    "wanzhi": ("wanzhi-2023.yaml", "湾沚镇", "六郎镇", "区委编办", "2023-05-10", "2023-05-11", "2023-05-12"),
}


@pytest.fixture(params=list(CASES))
def case(request: pytest.FixtureRequest, run, db_url: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch):  # type: ignore[no-untyped-def]
    file, *rest = CASES[request.param]
    monkeypatch.setenv("FUQUAN_DATA_DIR", str(tmp_path / "data"))
    monkeypatch.setenv("FUQUAN_CONFIG", str(PLANS / file))
    monkeypatch.setenv("FUQUAN_LINK_SECRET", "chase-test-link-secret-0123456789")
    assert run("sync").code == 0
    return rest


def _messages(url: str, recipient: str, title: str) -> list[tuple[str, str]]:
    return dbs.rows(url, "SELECT day, title FROM message WHERE recipient = :r AND title LIKE :t ORDER BY id",
                    r=recipient, t=f"%{title}%")


def test_unacknowledged_reminder_is_sent_again_once_and_escalated(case, run, db_url: str) -> None:  # type: ignore[no-untyped-def]
    acks, silent, lead, day0, day1, day2 = case
    assert run("remind", "--today", day0, "--force").code == 0
    [(mid,)] = dbs.rows(db_url, "SELECT id FROM message WHERE recipient = :r", r=acks)
    with open_context(Settings.from_env(), clock=lambda: datetime.fromisoformat(f"{day0}T03:00+00:00")) as ctx:
        said = answers.acknowledge(ctx.choose(), Acknowledge(unit=acks, message_id=mid),
                                   actor=Actor(f"{acks} (专属链接)", "web 127.0.0.1"), now=ctx.now())
    assert said.startswith("已签收")

    assert run("remind", "--today", day1, "--force").code == 0  # one working day: not yet
    assert _messages(db_url, silent, "未签收") == []

    r = run("remind", "--today", day2, "--force")  # ack_within = 2 working days (the default)
    assert r.code == 0 and "超过签收时限未签收" in r.out
    assert [str(d) for d, _ in _messages(db_url, silent, "请签收")] == [day2]
    assert _messages(db_url, acks, "未签收") == []  # acknowledged: not chased
    again = dbs.rows(db_url, "SELECT key FROM reminder WHERE recipient = :r AND kind = 'again'", r=silent)
    assert again and all(k.startswith("again|") for k, in again)
    # escalated: the lead unit and the 专班 each hear which units have not acknowledged
    for to in (lead, "专班"):
        escalations = dbs.rows(db_url, "SELECT about FROM reminder WHERE recipient = :r AND kind = 'unacked'", r=to)
        about = {a for a, in escalations}
        assert silent in about and acks not in about, to

    # once only: later runs chase nothing of day 0 again
    before = dbs.rows(db_url, "SELECT count(*) FROM reminder WHERE key LIKE 'again|%' OR key LIKE 'unacked|%'")
    run("remind", "--today", day2, "--force")
    assert dbs.rows(db_url, "SELECT count(*) FROM reminder WHERE key LIKE 'again|%' OR key LIKE 'unacked|%'") == before
    keys = [k for k, in dbs.rows(db_url, "SELECT key FROM reminder WHERE key LIKE 'again|%'")]
    assert len(keys) == len(set(keys))


def test_no_chase_where_units_cannot_acknowledge(case, run, db_url: str, monkeypatch: pytest.MonkeyPatch) -> None:  # type: ignore[no-untyped-def]
    """Without links or Slack buttons nobody could acknowledge: chasing would only be noise."""
    monkeypatch.delenv("FUQUAN_LINK_SECRET")
    _, silent, _, day0, _, day2 = case
    run("remind", "--today", day0, "--force")
    run("remind", "--today", day2, "--force")
    assert dbs.rows(db_url, "SELECT count(*) FROM reminder WHERE kind IN ('again', 'unacked')") == [(0,)]
    assert _messages(db_url, silent, "未签收") == []


def test_the_repeat_acknowledged_acknowledges_the_first(case, run, db_url: str) -> None:  # type: ignore[no-untyped-def]
    _, silent, _, day0, _, day2 = case
    run("remind", "--today", day0, "--force")
    run("remind", "--today", day2, "--force")
    [(mid,)] = dbs.rows(db_url, "SELECT id FROM message WHERE recipient = :r AND title LIKE '%请签收%'", r=silent)
    with open_context(Settings.from_env(), clock=lambda: datetime(2030, 1, 1, tzinfo=UTC)) as ctx:
        answers.acknowledge(ctx.choose(), Acknowledge(unit=silent, message_id=mid), actor=Actor(silent), now=ctx.now())
    # the first message's reminders, which the repeat stood for, are acknowledged with it; later ones are not
    def open_on(day: str) -> list[tuple[int]]:
        return dbs.rows(db_url, "SELECT count(*) FROM reminder r JOIN message m ON m.id = r.message_id "
                                "LEFT JOIN ack a ON a.reminder_id = r.id WHERE r.recipient = :r AND a.id IS NULL "
                                "AND m.day = :d", r=silent, d=datetime.fromisoformat(day).date())
    assert open_on(day0) == [(0,)]
    assert open_on(day2) != [(0,)]


@pytest.mark.parametrize("case", ["qingshan"], indirect=True)
def test_an_extension_left_undecided_past_its_reply_deadline_is_chased_once(case, run, db_url: str) -> None:  # type: ignore[no-untyped-def]
    from datetime import date

    acks, *_ = case
    with open_context(Settings.from_env(), clock=lambda: datetime(2024, 4, 10, 2, tzinfo=UTC)) as ctx:
        ctx = ctx.choose()
        answers.ask_extension(ctx, AskExtension(unit=acks, task_no=12, new_due=date(2024, 7, 15), reason="汛期",
                                                nonce="x1"), actor=Actor(acks), today=date(2024, 4, 10))
        answers.ask_extension(ctx, AskExtension(unit="龙潭镇", task_no=12, new_due=date(2024, 7, 20), reason="人手不足",
                                                nonce="x2"), actor=Actor("龙潭镇"), today=date(2024, 4, 10))
        [_, theirs] = sorted(pages.office_page(ctx, date(2024, 4, 10)).extensions, key=lambda e: e.id or 0)
        answers.decide_extension(ctx, DecideExtension(extension_id=theirs.id or 0, grant=False, reason="不可调整"),
                                 actor=Actor("专班 李明"), now=ctx.now())
    run("remind", "--today", "2024-04-15", "--force")  # the reply deadline itself: not yet
    assert _messages(db_url, "专班", "延期申请待答复") == []
    run("remind", "--today", "2024-04-16", "--force")
    run("remind", "--today", "2024-04-17", "--force")
    [(day, _)] = _messages(db_url, "专班", "延期申请待答复")
    assert str(day) == "2024-04-16"
    about = dbs.rows(db_url, "SELECT about FROM reminder WHERE kind = 'reply'")
    assert about == [(acks,)]  # the decided request is not chased
