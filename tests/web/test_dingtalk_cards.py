"""DingTalk interactive cards end to end, on three counties' plans (莲河县: 乡 and no 街道) whose units list `contacts:` with DingTalk userIds:
`fuquan remind` delivers each unit's card once to its contacts through the local fake (tests/dingtalk_server.py)
and records whom it reached; `fuquan web` (web.serve.build) holds the Stream connection with the real
dingtalk_stream SDK, where a contact's 签收 records the unit's acks once and every other press records nothing;
the 专班's desk names who has not answered. No secret reaches a log, the notify file, the database or a page."""

from __future__ import annotations

import json
import logging
import re
import threading
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any
from urllib.parse import quote_plus
from zoneinfo import ZoneInfo

import pytest
from starlette.testclient import TestClient

from flows import dispatch
from notifications.base import track_id
from tests import dbs
from tests.conftest import ROOT, Result
from tests.dingtalk_server import CLIENT_ID, CLIENT_SECRET, FAKE_LOGGER, ROBOT_CODE, TEMPLATE_ID, FakeDingTalk
from usecases import unit_links
from usecases.context import Context, open_context
from usecases.settings import Settings
from web.serve import build

WEB = "http://127.0.0.1:8300"
TZ = ZoneInfo("Asia/Shanghai")  # both plans' time zone


@dataclass(frozen=True)
class Case:
    file: str
    now: datetime  # 10:00 on a working day on which every unit is reminded
    contacts: dict[str, tuple[tuple[str, str], ...]]  # unit → its (userId, name) with a DingTalk account, in order
    channels: str  # what stands for "  units: {}" under `channels:`
    extra: dict[str, str] = field(default_factory=dict)  # unit → one more contact, without DingTalk

    def plan(self) -> str:
        text = (ROOT / "tests" / "plans" / self.file).read_text(encoding="utf-8")
        assert text.count("\n  units: {}\n") == 1  # (under `channels:`)
        text = text.replace("\n  units: {}\n", f"\n{self.channels}\n")
        for unit, people in self.contacts.items():
            listed = [f'{{name: {name}, phone: "0556-52000{i:02d}", dingtalk: {uid}}}' for i, (uid, name) in
                      enumerate(people)] + ([self.extra[unit]] if unit in self.extra else [])
            assert text.count(f"{{name: {unit}, ") == 1, unit
            text = text.replace(f"{{name: {unit}, ", f"{{name: {unit}, contacts: [{', '.join(listed)}], ")
        return text

    @property
    def town(self) -> str:  # the unit with two DingTalk contacts
        return next(iter(self.contacts))

    @property
    def other(self) -> str:
        return list(self.contacts)[1]


CASES = {
    "qingshan": Case("qingshan-2024.yaml", datetime(2024, 4, 10, 2, 0, tzinfo=UTC),
                     {"青山镇": (("user-wf", "王芳"), ("user-lq", "李强")), "龙潭镇": (("user-zm", "赵敏"),),
                      "县委编办": (("user-cg", "陈刚"),)},
                     "  persons: dingtalk\n  units: {}",  # plan-wide: every unit with DingTalk contacts
                     {"青山镇": "{name: 孙丽, wecom: sunli}"}),
    "wanzhi": Case("wanzhi-2023.yaml", datetime(2023, 4, 28, 1, 0, tzinfo=UTC),
                   {"湾沚镇": (("user-ly", "刘洋"), ("user-hj", "何静")), "六郎镇": (("user-wl", "吴磊"),)},
                   "  units:\n    湾沚镇: {persons: dingtalk}\n    六郎镇: {persons: dingtalk}"),  # unit by unit
    "lianhe": Case("lianhe-2025.yaml", datetime(2025, 5, 8, 2, 0, tzinfo=UTC),  # 乡 and no 街道
                   {"杏花乡": (("user-xh1", "许红"), ("user-xh2", "夏禾")), "枫林乡": (("user-fl", "方林"),),
                    "县司法局": (("user-sf", "沈斐"),)},
                   "  persons: dingtalk\n  units: {}"),
}


@dataclass
class World:
    case: Case
    fake: FakeDingTalk
    url: str
    run: Any
    data: Path
    said: list[str] = field(default_factory=list)  # everything the CLI printed

    def remind(self) -> Result:
        day = self.case.now.astimezone(TZ).date().isoformat()
        r = self.run("remind", "--today", day, "--now", f"{day}T10:00", "--force")
        self.said += [r.out, r.err]
        return r

    def rows(self, sql: str, **params: Any) -> list[tuple[Any, ...]]:
        return dbs.rows(self.url, sql, **params)

    def messages(self) -> dict[str, tuple[str, str, str | None]]:
        """unit → (its card's outTrackId, status, last error) of the messages sent to persons in DingTalk."""
        got = self.rows("SELECT recipient, key, status, last_error FROM message WHERE dest_kind = 'dingtalk-app'")
        assert len(got) == len({r[0] for r in got})  # one message per unit
        return {u: (track_id(k), s, e) for u, k, s, e in got}

    def track(self, unit: str) -> str:
        return self.messages()[unit][0]

    def acks(self, unit: str) -> int:
        return int(self.rows("SELECT count(*) FROM ack a JOIN unit u ON u.id = a.unit_id WHERE u.name = :u",
                             u=unit)[0][0])

    def reach(self) -> set[tuple[Any, ...]]:
        return set(self.rows("SELECT unit, track, person_id, person_name, action FROM card_reach"))

    def secrets(self) -> list[str]:
        return [CLIENT_SECRET, *self.fake.tokens, *self.fake.tickets, *(quote_plus(t) for t in self.fake.tickets)]


def environment(fake: FakeDingTalk, plan: Path, data: Path) -> dict[str, str]:
    """What a county sets for its DingTalk app, pointed at the local fake, with the plan and a data directory."""
    return {"FUQUAN_CONFIG": str(plan), "FUQUAN_DATA_DIR": str(data),
            "FUQUAN_LINK_SECRET": "dingtalk-test-link-secret-0123456789",
            "DINGTALK_CLIENT_ID": CLIENT_ID, "DINGTALK_CLIENT_SECRET": CLIENT_SECRET, "DINGTALK_ROBOT_CODE": ROBOT_CODE,
            "DINGTALK_CARD_TEMPLATE_ID": TEMPLATE_ID, "DINGTALK_OPENAPI_ENDPOINT": fake.api_base}


@pytest.fixture(params=list(CASES))
def world(request: pytest.FixtureRequest, run: Any, db_url: str, tmp_path: Path,
          monkeypatch: pytest.MonkeyPatch) -> Iterator[World]:
    case = CASES[request.param]
    monkeypatch.setitem(dispatch.PACE, "dingtalk-app", 0.0)  # DingTalk's pace is not what is tested here
    for proxy in ("HTTPS_PROXY", "https_proxy", "HTTP_PROXY", "http_proxy"):
        monkeypatch.delenv(proxy, raising=False)  # the SDK's requests would go through one
    plan = tmp_path / "plan.yaml"
    plan.write_text(case.plan(), encoding="utf-8")
    with FakeDingTalk({uid for people in case.contacts.values() for uid, _ in people}) as fake:
        for name, value in environment(fake, plan, tmp_path / "data").items():
            monkeypatch.setenv(name, value)
        r = run("sync")
        assert r.code == 0, r.err
        yield World(case, fake, db_url, run, tmp_path / "data")


@dataclass
class Web:
    ctx: Context
    client: TestClient
    stop: Callable[[], None]


@pytest.fixture
def web(world: World) -> Iterator[Web]:
    """The reminders sent, then the web app built as `fuquan web` builds it: its Stream connected to the fake."""
    assert world.remind().code == 0
    with open_context(Settings.from_env(), clock=lambda: world.case.now) as ctx:
        app, stop = build(ctx)
        try:
            assert world.fake.wait_connected()
            yield Web(ctx, TestClient(app, base_url=WEB), stop)
        finally:
            stop()


def answered(answer: dict[str, Any] | None, message_id: str) -> dict[str, Any]:
    assert answer is not None and answer["code"] == 200 and answer["headers"]["messageId"] == message_id
    return answer


def outcomes(caplog: pytest.LogCaptureFixture) -> list[str]:
    """What the door made of each press, in order (its log line: outcome and unit)."""
    return [r.getMessage().removeprefix("钉钉按钮:").strip() for r in caplog.records
            if r.name == "fuquan.cards" and r.getMessage().startswith("钉钉按钮:")]


def office(w: Web, case: Case) -> str:
    """The 专班's desk, entered with a 专班 member's link."""
    link = unit_links.personal_link(w.ctx.choose(), "专班", case.now, "周敏").rsplit("/l/", 1)[1]
    assert w.client.get(f"/l/{link}").status_code == 200
    page = w.client.get("/office")
    assert page.status_code == 200
    return page.text


def unacked_units(html: str) -> list[str]:
    return re.findall(r"<tr class=\"(?:red)?\"><td>([^<]+)<", html)


# -- the reminder run ----------------------------------------------------------------------------------

def test_each_unit_s_card_goes_once_to_its_contacts_and_a_second_run_sends_nothing(world: World) -> None:
    assert world.remind().code == 0
    sent = world.messages()
    assert set(sent) == set(world.case.contacts) and all(s == "sent" for _, s, _ in sent.values())
    assert set(world.fake.cards) == {t for t, _, _ in sent.values()}
    assert world.fake.calls.count("createAndDeliver") == len(sent) and world.fake.token_fetches == 1
    for unit, people in world.case.contacts.items():
        body = world.fake.cards[sent[unit][0]]
        assert body["outTrackId"] == sent[unit][0]
        assert body["openSpaceId"] == "dtv1.card//" + ";".join(f"IM_ROBOT.{uid}" for uid, _ in people)
        assert body["imRobotOpenDeliverModel"] == {"spaceType": "IM_ROBOT", "robotCode": ROBOT_CODE}
        assert unit in body["cardData"]["cardParamMap"]["title"]
        assert body["cardData"]["cardParamMap"]["link"].startswith(f"{WEB}/l/")
    assert world.remind().code == 0
    assert world.fake.calls.count("createAndDeliver") == len(sent)


def test_card_reach_has_one_row_per_person_the_card_reached(world: World) -> None:
    world.remind()
    sent = world.messages()
    assert world.reach() == {(unit, sent[unit][0], uid, name, None)
                             for unit, people in world.case.contacts.items() for uid, name in people}
    world.remind()
    assert len(world.rows("SELECT id FROM card_reach")) == len(world.reach())


@pytest.mark.parametrize("status", [429, 500])
def test_a_refused_first_attempt_stays_pending_and_the_next_run_sends_it_once(world: World, status: int) -> None:
    world.fake.fault("createAndDeliver", ("status", status))
    world.remind()
    [(unit, (track, state, error))] = [(u, m) for u, m in world.messages().items() if m[1] != "sent"]
    assert state == "pending" and (error or "").startswith("throttling" if status == 429 else "service_unavailable")
    assert track not in world.fake.cards and not [r for r in world.reach() if r[0] == unit]
    calls = world.fake.calls.count("createAndDeliver")
    assert world.remind().code == 0
    assert world.fake.calls.count("createAndDeliver") == calls + 1 and len(world.fake.cards) == len(world.case.contacts)
    assert all(s == "sent" for _, s, _ in world.messages().values())
    assert {r[2] for r in world.reach() if r[0] == unit} == {uid for uid, _ in world.case.contacts[unit]}


def test_a_card_stored_but_never_answered_is_found_not_sent_again(world: World) -> None:
    """A connection cut after DingTalk stored the card: the next run looks for it (by updating it under our
    outTrackId) instead of sending it again, marks it sent (reconciled), and records whom it reached, so presses
    on it count."""
    world.fake.fault("createAndDeliver", ("drop_after_store",))
    world.remind()
    [unit] = [u for u, (_, s, _) in world.messages().items() if s == "unknown"]
    world.remind()
    world.remind()
    track, status, _ = world.messages()[unit]
    assert list(world.fake.cards).count(track) == 1
    assert world.fake.calls.count("createAndDeliver") == len(world.case.contacts)  # one per unit: never re-sent
    assert world.fake.calls.count("instances") == 1  # looked for once (the card updated under its outTrackId)
    assert status == "sent"
    assert {r[2] for r in world.reach() if r[0] == unit} == {uid for uid, _ in world.case.contacts[unit]}
    results = world.rows("SELECT l.result FROM send_log l JOIN message m ON m.id = l.message_id "
                         "WHERE m.recipient = :u AND m.dest_kind = 'dingtalk-app' ORDER BY l.id", u=unit)
    assert [r for (r,) in results] == ["unknown", "reconciled"]


# -- presses over the Stream ---------------------------------------------------------------------------

def test_a_contact_s_ack_records_the_unit_s_acks_once_naming_the_person(world: World, web: Web,
                                                                       caplog: pytest.LogCaptureFixture) -> None:
    caplog.set_level(logging.INFO, logger="fuquan.cards")
    case, fake = world.case, world.fake
    unit, [(uid, name), (uid2, _)] = case.town, case.contacts[case.town]
    track = world.track(unit)
    assert fake.subscriptions == [[{"type": "CALLBACK", "topic": "/v1.0/card/instances/callback"}]]
    answer = answered(fake.push_press(uid, track, "ack", "press-1"), "press-1")
    assert json.loads(answer["data"]) == {"response": {"cardData": {"cardParamMap": {"status": "已签收"}}}}
    n = world.acks(unit)
    [(mid,)] = world.rows("SELECT id FROM message WHERE recipient = :u AND dest_kind = 'dingtalk-app'", u=unit)
    assert n == world.rows("SELECT count(*) FROM reminder WHERE message_id = :m", m=mid)[0][0] > 0
    assert world.rows("SELECT by, source FROM audit WHERE entity = 'ack'") == [(f"{unit} ({name})", f"钉钉 {uid}")]
    assert world.rows("SELECT by FROM ack WHERE reminder_id IN (SELECT id FROM reminder WHERE message_id = :m)",
                      m=mid)[0] == (f"{unit} ({name})",)
    answered(fake.push_press(uid, track, "ack", "press-1"), "press-1")  # the same frame redelivered
    answered(fake.push_press(uid2, track, "ack", "press-2"), "press-2")  # the other contact: already acknowledged
    assert world.acks(unit) == n and len(world.rows("SELECT id FROM audit WHERE entity = 'ack'")) == 1
    assert outcomes(caplog) == [f"recorded {unit}", "replayed", f"already {unit}"]
    assert {(r[2], r[4]) for r in world.reach() if r[0] == unit} == {(uid, "ack"), (uid2, "ack")}
    assert all(world.acks(u) == 0 for u in case.contacts if u != unit)


def test_presses_that_are_not_the_presser_s_to_make_record_nothing(world: World, web: Web,
                                                                   caplog: pytest.LogCaptureFixture) -> None:
    caplog.set_level(logging.INFO, logger="fuquan.cards")
    case, fake = world.case, world.fake
    uid = case.contacts[case.town][0][0]
    stranger_of_other_unit = case.contacts[case.other][0][0]
    track = world.track(case.town)
    before = world.reach()
    for i, (who, on, action) in enumerate([
            (stranger_of_other_unit, track, "ack"),  # a contact of another unit, on this unit's card
            (uid, track_id("reminder|nowhere|2024-01-01"), "ack"),  # a card we never sent
            (uid, track, "dance"),  # a button the template does not have
            ("user-nobody", track, "ack")]):  # not in the plan at all
        answered(fake.push_press(who, on, action, f"bad-{i}"), f"bad-{i}")
    assert all(world.acks(u) == 0 for u in case.contacts)
    assert world.rows("SELECT count(*) FROM audit WHERE entity = 'ack'") == [(0,)] and world.reach() == before
    assert outcomes(caplog) == ["refused"] * 4
    answered(fake.push_press(stranger_of_other_unit, world.track(case.other), "ack", "ok-1"), "ok-1")
    assert world.acks(case.other) > 0 and world.acks(case.town) == 0  # the connection still works


def test_the_office_names_who_has_not_answered_until_the_ack(world: World, web: Web) -> None:
    case, fake = world.case, world.fake
    (uid, name), (uid2, name2) = case.contacts[case.town]
    html = office(web, case)
    assert set(unacked_units(html)) >= set(case.contacts)
    assert f"未回应: {name}、{name2} (钉钉)" in html
    for people in list(case.contacts.values())[1:]:
        assert f"未回应: {'、'.join(n for _, n in people)} (钉钉)" in html
    answered(fake.push_press(uid2, world.track(case.town), "feedback", "fb-1"), "fb-1")  # noted: has seen it
    html = office(web, case)
    assert f"未回应: {name} (钉钉)" in html and case.town in unacked_units(html)
    answered(fake.push_press(uid, world.track(case.town), "ack", "ack-1"), "ack-1")
    html = office(web, case)
    assert case.town not in unacked_units(html) and f"未回应: {name}" not in html
    assert case.other in unacked_units(html)


def test_the_stop_function_closes_the_stream(world: World, web: Web) -> None:
    assert world.fake.connections == 1
    web.stop()
    assert world.fake.wait_closed()
    assert not [t for t in threading.enumerate() if t.name == "dingtalk-stream"]
    assert world.fake.connections == 1 and world.fake.calls.count("open") == 1


def test_no_secret_in_logs_notify_file_database_or_pages(world: World, caplog: pytest.LogCaptureFixture) -> None:
    caplog.set_level(logging.DEBUG)
    fake, case = world.fake, world.case
    fake.fault("createAndDeliver", ("echo",), ("status", 429))  # a proxy's page quoting the request, token and all
    world.remind()
    with open_context(Settings.from_env(), clock=lambda: case.now) as ctx:
        app, stop = build(ctx)
        try:
            assert fake.wait_connected()
            web = Web(ctx, TestClient(app, base_url=WEB), stop)
            answered(fake.push_press(case.contacts[case.town][0][0], "fq-not-ours", "ack", "s-1"), "s-1")
            world.remind()  # the refused ones, sent now
            answered(fake.push_press(case.contacts[case.town][0][0], world.track(case.town), "ack", "s-2"), "s-2")
            pages = office(web, case) + web.client.get("/office/board").text
            fake.drop()  # a reconnect: a second ticket
            assert fake.wait_connected(2)
        finally:
            stop()
    assert len(fake.tickets) == 2 and fake.tokens and fake.calls.count("createAndDeliver") == len(case.contacts) + 2
    logged = "\n".join(r.getMessage() for r in caplog.records if not r.name.startswith(FAKE_LOGGER))
    assert "/v1.0/gateway/connections/open" in logged  # (urllib3's DEBUG lines were captured)
    notify = "".join(p.read_text(encoding="utf-8") for p in world.data.glob("*.md"))
    db = repr(world.rows("SELECT * FROM message") + world.rows("SELECT * FROM send_log"))
    assert "throttling" in db and notify
    for where, text in {"logs": logged, "notify file": notify, "database": db, "pages": pages,
                        "output": "".join(world.said)}.items():
        assert not [s for s in world.secrets() if s in text], where
