"""Who has read the 签收 chase's repeat, end to end on three counties' plans (莲河县: 乡 and no 街道), through the
local DingTalk fake and SMS gateway: units reached by DingTalk cards get their repeat as the robot's 1:1 message
(exactly once, however often the run goes and through 429s and cut connections); each run asks DingTalk who has
read it; the 专班's desk shows 未读 / 已读未签收 per person; a contact who has still not opened it `ack_within`
working days on gets one text (with a mobile number) or is named to the 专班 to call (without); a 签收 on the first
card closes its repeat too, and nobody of that unit is chased further."""

from __future__ import annotations

import json
import re
from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import date, datetime
from pathlib import Path
from typing import Any

import pytest
from starlette.testclient import TestClient

from flows import dispatch
from fuquan.tracking.actor import Actor
from tests import dbs
from tests.dingtalk_server import FakeDingTalk
from tests.sms_server import TOKEN, FakeSms
from tests.web.test_dingtalk_cards import CASES, TZ, WEB, Case, Web, environment, office
from usecases import answers
from usecases.commands import Acknowledge
from usecases.context import open_context
from usecases.settings import Settings
from web.serve import build

MOBILE = "139 0556 0001"  # the town's second contact's: the others have landlines (tests.web.test_dingtalk_cards)


@dataclass
class World:
    case: Case
    fake: FakeDingTalk
    sms: FakeSms
    url: str
    run: Any
    said: list[str] = field(default_factory=list)

    def days(self) -> tuple[date, date, date, date]:
        """The first reminders' day; the repeat's (ack_within working days on); the next working day; the unread
        step's (ack_within working days after the repeat)."""
        with open_context(Settings.from_env()) as ctx:
            sp = ctx.choose().plan
            cal, n = sp.plan.work_calendar(), sp.plan.answers.ack_within
        d0 = self.case.now.astimezone(TZ).date()
        d1 = cal.add(d0, n)
        return d0, d1, cal.add(d1, 1), cal.add(d1, n)

    def later(self, day: date) -> date:
        """The next working day."""
        with open_context(Settings.from_env()) as ctx:
            return ctx.choose().plan.plan.work_calendar().add(day, 1)

    def remind(self, day: date) -> None:
        r = self.run("remind", "--today", day.isoformat(), "--now", f"{day}T10:00", "--force")
        assert r.code == 0, r.err
        self.said += [r.out, r.err]

    def rows(self, sql: str, **params: Any) -> list[tuple[Any, ...]]:
        return dbs.rows(self.url, sql, **params)

    def repeats(self) -> dict[str, tuple[str, str | None]]:
        """unit → (status, external id) of its repeat sent as the robot's 1:1 message."""
        got = self.rows("SELECT recipient, status, external_id FROM message WHERE dest_kind = 'dingtalk-oto'")
        assert len(got) == len({r[0] for r in got})  # one per unit
        return {u: (s, e) for u, s, e in got}

    def texts(self) -> list[dict[str, Any]]:
        """The text messages of the unread step (the plan's overdue step texts too: 严重逾期)."""
        return [m for m in self.sms.messages if "未读" in m["text"]]

    def bodies(self, title: str) -> list[str]:
        """The text of each message to the 专班 whose title has `title`."""
        got = self.rows("SELECT body FROM message WHERE recipient = '专班' AND title LIKE :t", t=f"%{title}%")
        return [json.dumps(b if isinstance(b, dict) else json.loads(b), ensure_ascii=False) for (b,) in got]

    def reads(self) -> dict[str, tuple[bool, bool]]:
        """person id → (checked, read) on the repeats."""
        return {p: (c is not None, r is not None) for p, c, r in
                self.rows("SELECT person_id, checked_at, read_at FROM card_reach WHERE platform = 'dingtalk-oto'")}

    def desk(self, day: date) -> str:
        clock = datetime.combine(day, datetime.min.time(), TZ).replace(hour=10)
        with open_context(Settings.from_env(), clock=lambda: clock) as ctx:
            app, stop = build(ctx)
            try:
                return office(Web(ctx, TestClient(app, base_url=WEB), stop), self.case)
            finally:
                stop()


def row(html: str, title: str) -> str:
    """The desk's row of the reminder with this title."""
    [found] = [r for r in re.findall(r"<tr class=\"[^\"]*\">.*?</tr>", html, re.S) if title in r]
    return found


def plan_text(case: Case) -> str:
    """The cards' plan, with the text-message step on and a mobile number for the town's second contact."""
    text = case.plan()
    (_, name) = case.contacts[case.town][1]
    old = f'{{name: {name}, phone: "0556-5200001"'
    assert text.count(old) == 1
    text = text.replace(old, f'{{name: {name}, phone: "{MOBILE}"')
    assert text.count("\nreminders:\n") == 1
    return text.replace("\nreminders:\n", "\nreminders:\n  sms: {after: 30, max_chars: 200}\n")


@pytest.fixture(params=list(CASES))
def world(request: pytest.FixtureRequest, run: Any, db_url: str, tmp_path: Path,
          monkeypatch: pytest.MonkeyPatch) -> Iterator[World]:
    case = CASES[request.param]
    for kind in ("dingtalk-app", "dingtalk-oto", "sms"):
        monkeypatch.setitem(dispatch.PACE, kind, 0.0)
    for proxy in ("HTTPS_PROXY", "https_proxy", "HTTP_PROXY", "http_proxy"):
        monkeypatch.delenv(proxy, raising=False)
    plan = tmp_path / "plan.yaml"
    plan.write_text(plan_text(case), encoding="utf-8")
    with FakeDingTalk({uid for people in case.contacts.values() for uid, _ in people}) as fake, FakeSms() as sms:
        for name, value in {**environment(fake, plan, tmp_path / "data"), "FUQUAN_SMS_URL": sms.url,
                            "FUQUAN_SMS_TOKEN": TOKEN}.items():
            monkeypatch.setenv(name, value)
        assert run("sync").code == 0
        yield World(case, fake, sms, db_url, run)


def test_the_repeat_goes_once_as_the_robot_s_one_to_one_message_to_each_unit_s_contacts(world: World) -> None:
    d0, d1, _, _ = world.days()
    world.remind(d0)
    assert not world.fake.oto
    world.remind(d1)
    world.remind(d1)
    assert world.fake.token_fetches == 3  # one a run: the cards and the 1:1 messages share the app's token
    repeats = world.repeats()
    assert set(repeats) == set(world.case.contacts) and all(s == "sent" for s, _ in repeats.values())
    assert {e for _, e in repeats.values()} == set(world.fake.oto)  # the handle of each one's read status kept
    assert world.fake.calls.count("batchSend") == len(world.case.contacts)
    for unit, people in world.case.contacts.items():
        [body] = [b for b in world.fake.oto.values() if b["userIds"] == [uid for uid, _ in people]]
        assert unit in body["msgParam"]["title"] and body["msgParam"]["singleURL"].startswith(f"{WEB}/l/")
    # (every other message of those days went as a card, once; the repeats are no cards)
    cards = world.rows("SELECT count(*) FROM message WHERE dest_kind = 'dingtalk-app'")[0][0]
    assert world.fake.calls.count("createAndDeliver") == len(world.fake.cards) == cards


@pytest.mark.parametrize("fault", [("status", 429), ("status", 502)])
def test_a_refused_repeat_is_sent_once_by_the_next_run(world: World, fault: tuple[Any, ...]) -> None:
    d0, d1, d2, _ = world.days()
    world.remind(d0)
    world.fake.fault("batchSend", fault)
    world.remind(d1)
    assert sorted(s for s, _ in world.repeats().values()) == ["pending"] + ["sent"] * (len(world.case.contacts) - 1)
    world.remind(d2)
    assert all(s == "sent" for s, _ in world.repeats().values())
    assert len(world.fake.oto) == len(world.case.contacts)


def test_a_repeat_cut_off_in_flight_is_never_sent_twice_and_the_office_is_told(world: World) -> None:
    d0, d1, d2, d3 = world.days()
    world.remind(d0)
    world.fake.fault("batchSend", ("drop_after_store",))
    for day in (d1, d1, d2, d3):
        world.remind(day)
    # every repeat (the first days' and the next days') delivered once: the one cut off is never tried again
    sent = world.rows("SELECT recipient, day, status FROM message WHERE dest_kind = 'dingtalk-oto'")
    assert len(world.fake.oto) == world.fake.calls.count("batchSend") == len(sent) > len(world.case.contacts)
    [unit] = [u for u, day, s in sent if s == "unknown"]
    assert any(unit in b and "结果未知" in b for b in world.bodies("提醒未送达"))
    # nobody of that unit is texted on a read status nobody could ask for
    assert not [m for m in world.texts() if unit in m["text"]]


def test_reads_are_asked_for_shown_on_the_desk_and_unread_contacts_chased_once(world: World) -> None:
    case, fake = world.case, world.fake
    d0, d1, d2, d3 = world.days()
    (uid, name), (uid2, name2) = case.contacts[case.town]
    world.remind(d0)
    world.remind(d1)
    title = f"{case.town} 提醒未签收, 请签收 ({d1})"  # the town's repeat, as the desk lists it
    assert f"未回应: {name}、{name2} (钉钉)" in row(world.desk(d1), title)  # nobody has asked DingTalk yet
    fake.read(uid)
    world.remind(d2)
    reads = world.reads()
    assert reads[uid] == (True, True) and reads[uid2] == (True, False)
    assert all(r == (True, False) for p, r in reads.items() if p != uid)
    html = world.desk(d2)
    assert f"未读: {name2} (钉钉); 已读未签收: {name} (钉钉)" in row(html, title)
    for unit, people in list(case.contacts.items())[1:]:
        assert f"未读: {'、'.join(n for _, n in people)} (钉钉)" in row(html, f"{unit} 提醒未签收, 请签收 ({d1})")
    assert world.texts() == []  # not yet: ack_within working days after the repeat
    world.remind(d3)
    world.remind(d3)
    # the town's unread contact with a mobile number: one text, to that number only; the one who read it: none
    [text] = world.texts()
    assert text["phones"] == [MOBILE.replace(" ", "")] and name2 in text["text"] and "http" not in text["text"]
    # the unread without one are named to the 专班, to call: each once
    [lines] = world.bodies("钉钉提醒未读")
    for unit, people in list(case.contacts.items())[1:]:
        assert all(f"{unit} {n}" in lines for _, n in people)
    assert name not in lines and name2 not in lines
    # (the step repeats nothing in DingTalk: each batchSend is one repeat, the later days' included)
    assert world.fake.calls.count("batchSend") == world.rows(
        "SELECT count(*) FROM message WHERE dest_kind = 'dingtalk-oto'")[0][0]


def test_a_sign_on_the_first_card_closes_the_repeat_and_stops_the_chase(world: World) -> None:
    case = world.case
    d0, d1, d2, d3 = world.days()
    world.remind(d0)
    world.remind(d1)
    [(first,)] = world.rows("SELECT id FROM message WHERE recipient = :u AND dest_kind = 'dingtalk-app' AND day = :d",
                            u=case.town, d=d0.isoformat())
    with open_context(Settings.from_env()) as base:
        n = answers.acknowledged(base.choose(), Acknowledge(unit=case.town, message_id=first),
                                 actor=Actor(f"{case.town} (测试)", "测试"), now=case.now)
    [(repeat,)] = world.rows("SELECT id FROM message WHERE recipient = :u AND dest_kind = 'dingtalk-oto'", u=case.town)
    on_repeat = world.rows("SELECT count(*) FROM reminder WHERE message_id = :m", m=repeat)[0][0]
    acked = world.rows("SELECT count(*) FROM ack a JOIN reminder r ON r.id = a.reminder_id WHERE r.message_id = :m",
                       m=repeat)[0][0]
    assert on_repeat > 0 and acked == on_repeat and n > on_repeat
    world.remind(d2)
    world.remind(d3)
    # DingTalk is asked who read the others' repeats, never the town's: it has acknowledged
    handles = dict(world.rows("SELECT recipient, external_id FROM message WHERE dest_kind = 'dingtalk-oto' AND day = :d",
                              d=d1.isoformat()))
    assert handles[case.other] in world.fake.asked and handles[case.town] not in world.fake.asked
    # the others' unread contacts are chased; nobody of the town is (its later repeats are not due their step yet)
    assert world.texts() == []
    [body] = world.bodies("钉钉提醒未读")
    assert case.other in body and case.town not in body
    html = world.desk(d3)  # the town's repeat is off the desk with its first card; the other unit's is on it
    assert f"{case.town} 提醒未签收, 请签收 ({d1})" not in html and f"{case.other} 提醒未签收, 请签收 ({d1})" in html


def test_nobody_is_texted_on_a_day_dingtalk_cannot_say_who_read(world: World) -> None:
    case, fake = world.case, world.fake
    d0, d1, _, d3 = world.days()
    (_, name2) = case.contacts[case.town][1]
    world.remind(d0)
    world.remind(d1)
    fake.fault("readStatus", *[("status", 503)] * 20)  # every question of the day refused
    world.remind(d3)
    assert world.texts() == [] and world.bodies("钉钉提醒未读") == []
    assert "查询钉钉消息已读状态失败" in world.said[-1]  # the run says so (stderr)
    fake.faults["readStatus"].clear()
    world.remind(world.later(d3))
    [text] = world.texts()
    assert name2 in text["text"]
