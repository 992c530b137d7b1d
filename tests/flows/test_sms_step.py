"""The last step reaches a phone, on two counties' plans (莲河县: 乡 and no 街道; 湾沚区): with `reminders: sms:` a
share escalated and at least `after` working days late gets its unit's contacts' mobile numbers one text through
the county's gateway (a local fake, tests/sms_server.py), at most `max_chars` characters, no link; each once however
often the run goes; nothing without `sms:` in the plan, nothing to a landline; no secret anywhere."""

from __future__ import annotations

import re
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest

from tests import dbs
from tests.conftest import ROOT
from tests.sms_server import KEY, TOKEN, FakeSms


@dataclass(frozen=True)
class Case:
    file: str
    day: str  # a working day on which the units below have shares escalated
    mobile: dict[str, str]  # unit → a contact's mobile number, written as people write them
    landline_only: str  # a unit whose only contact has a landline


CASES = {
    "lianhe": Case("lianhe-2025.yaml", "2025-05-20", {"杏花乡": "+86 139-0557-0001", "县委编办": "13805570002"}, "荷塘镇"),
    "wanzhi": Case("wanzhi-2023.yaml", "2023-05-19", {"湾沚镇": "139 0553 0001", "六郎镇": "13805530002"}, "花桥镇"),
}


def plan_text(case: Case, sms: str) -> str:
    text = (ROOT / "tests" / "plans" / case.file).read_text(encoding="utf-8")
    people = {**{u: f'{{name: 联系人{i}, phone: "{p}"}}' for i, (u, p) in enumerate(case.mobile.items())},
              case.landline_only: '{name: 座机, phone: "0553-5880000"}'}
    for unit, person in people.items():
        assert text.count(f"{{name: {unit}, ") == 1, unit
        text = text.replace(f"{{name: {unit}, ", f"{{name: {unit}, contacts: [{person}], ")
    return text.replace("\nreminders:\n", f"\nreminders:\n{sms}", 1) if sms else text


@dataclass
class World:
    case: Case
    fake: FakeSms
    url: str
    run: Any
    said: list[str]

    def remind(self) -> None:
        r = self.run("remind", "--today", self.case.day, "--now", f"{self.case.day}T10:00", "--force")
        assert r.code == 0, r.err
        self.said += [r.out, r.err]

    def escalated(self) -> set[str]:
        """The units with a share escalated today (the 专班's escalation reminders name them)."""
        return {a for (a,) in dbs.rows(self.url, "SELECT DISTINCT about FROM reminder WHERE kind = 'escalation'")}


def world_for(request: pytest.FixtureRequest, run: Any, db_url: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch,
              sms: str) -> Iterator[World]:
    case = CASES[request.param]
    plan = tmp_path / "plan.yaml"
    plan.write_text(plan_text(case, sms), encoding="utf-8")
    with FakeSms() as fake:
        for name, value in {"FUQUAN_CONFIG": str(plan), "FUQUAN_DATA_DIR": str(tmp_path / "data"),
                            "FUQUAN_SMS_URL": fake.url, "FUQUAN_SMS_TOKEN": TOKEN,
                            "FUQUAN_SMS_SIGN": "督办系统"}.items():
            monkeypatch.setenv(name, value)
        assert run("sync").code == 0
        yield World(case, fake, db_url, run, [])


@pytest.fixture(params=list(CASES))
def world(request: pytest.FixtureRequest, run: Any, db_url: str, tmp_path: Path,
          monkeypatch: pytest.MonkeyPatch) -> Iterator[World]:
    yield from world_for(request, run, db_url, tmp_path, monkeypatch, "  sms: {after: 5, max_chars: 70}\n")


@pytest.fixture(params=list(CASES))
def quiet_world(request: pytest.FixtureRequest, run: Any, db_url: str, tmp_path: Path,
                monkeypatch: pytest.MonkeyPatch) -> Iterator[World]:
    yield from world_for(request, run, db_url, tmp_path, monkeypatch, "")


def test_an_escalated_unit_s_contacts_get_one_text_once(world: World) -> None:
    world.remind()
    texted = {u for u in world.case.mobile if u in world.escalated()}
    assert texted, "the case's day must escalate a unit with a mobile contact"
    phones = {"杏花乡": "13905570001", "县委编办": "13805570002", "湾沚镇": "13905530001", "六郎镇": "13805530002"}
    assert sorted(tuple(m["phones"]) for m in world.fake.messages) == sorted((phones[u],) for u in texted)
    unit_of = {v: k for k, v in phones.items()}
    for m in world.fake.messages:
        assert len(m["text"]) <= 70 and m["text"].startswith("【督办系统】")
        # the unit, how many shares, each task by its plan's short title with how late it is (the latest first)
        unit = unit_of[m["phones"][0]]
        assert f"{unit}: " in m["text"] and "项严重逾期" in m["text"], m["text"]
        late = [int(n) for n in re.findall(r"已逾期 (\d+) ", m["text"])]  # (a cut never splits a number)
        assert late and late == sorted(late, reverse=True), m["text"]
        assert re.search(r"任务\d+「[^」]+」", m["text"]), m["text"]
        assert "http" not in m["text"] and "/l/" not in m["text"] and "专属链接" not in m["text"]
    sent = dbs.rows(world.url, "SELECT recipient, status FROM message WHERE dest_kind = 'sms'")
    assert sorted(sent) == sorted((u, "sent") for u in texted)
    world.remind()
    world.remind()
    assert len(world.fake.messages) == len(texted) and len(world.fake.requests) == len(texted)  # once, ever


def test_no_text_to_a_landline(world: World) -> None:
    world.remind()
    assert world.case.landline_only in world.escalated()  # (escalated, but its only number is a landline)
    assert world.case.landline_only not in {r for (r,) in dbs.rows(world.url, "SELECT recipient FROM message "
                                                                              "WHERE dest_kind = 'sms'")}


def test_no_text_without_the_plan_asking(quiet_world: World) -> None:
    quiet_world.remind()
    assert quiet_world.escalated() and not quiet_world.fake.messages
    assert not dbs.rows(quiet_world.url, "SELECT id FROM message WHERE dest_kind = 'sms'")


def test_a_gateway_fault_is_retried_by_the_next_run_and_nothing_secret_shows(world: World) -> None:
    world.fake.fault(("status", 500), ("status", 500))  # (each case texts two units: see the first test)
    world.remind()
    assert not world.fake.messages
    pending = dbs.rows(world.url, "SELECT status, last_error FROM message WHERE dest_kind = 'sms'")
    assert pending and {s for s, _ in pending} == {"pending"}
    world.remind()
    assert len(world.fake.messages) == len(pending)
    rows = dbs.rows(world.url, "SELECT detail, error_code FROM send_log") + dbs.rows(
        world.url, "SELECT last_error, title FROM message")
    for text in [*world.said, repr(rows)]:
        assert KEY not in text and TOKEN not in text


def test_a_bad_plan_setting_is_a_chinese_error(run: Any, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    case = CASES["lianhe"]
    plan = tmp_path / "plan.yaml"
    plan.write_text(plan_text(case, "  sms: {after: 5, max_chars: 1000}\n"), encoding="utf-8")
    monkeypatch.setenv("FUQUAN_CONFIG", str(plan))
    r = run("plan", "check")
    assert r.code != 0 and "短信最多字数" in r.err and "Traceback" not in r.err
