"""Trying to break `fuquan web` (issue 17): forged, expired, rotated and foreign links; the session cookie; CSRF on
every POST; one unit reaching another's rows on every route; uploads told by their bytes (and archives by their
inflated size); a unit's sheet holding its own rows only; hostile form fields; the failed-link rate limit; double
submissions and nonces; and the audit trail naming who did what from where.

Both plans (qingshan-2024: 县 / 乡镇（街道）, wanzhi-2023: 区 / 镇) are synced into one database once per module,
with reminders sent on a working day of each; every test then works on a copy of that database of its own (the
`db_url` fixture's database), its own data dir (tmp_path) and an injected clock, so no test sees another's writes.
"""

from __future__ import annotations

import base64
import io
import json
import re
import secrets
import sqlite3
import struct
import zipfile
import zlib
from collections.abc import Iterator
from contextlib import closing
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, timedelta
from hashlib import sha256
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import create_engine, text
from sqlalchemy.engine import make_url
from starlette.applications import Starlette
from starlette.testclient import TestClient

from cli.main import main
from fuquan.answers.links import OFFICE, Claims, sign
from fuquan.answers.uploads import MAX_BYTES, Upload
from fuquan.tracking.actor import Actor
from fuquan.tracking.judge import FINISHED
from tests import dbs
from usecases import answers, pages, unit_links
from usecases.commands import AskExtension, GiveFeedback
from usecases.context import Context, open_context
from usecases.settings import Settings
from web.app import make_app
from web.guard import COOKIE, FAIL_WINDOW, FAILS_ALLOWED

ROOT = Path(__file__).resolve().parents[2]
BASE = "http://127.0.0.1:8300"
SECRET = "test-link-secret-for-security-tests"
MEMBER = "李明"
ZHUANBAN = "专班"
TABLES = ("feedback", "extension", "ack", "audit", "evidence", "form_use")


@dataclass(frozen=True)
class Case:
    file: str
    year: int
    district: str
    day: date  # a working day: reminders are sent on it and the clock stands at 10:00 (Asia/Shanghai) on it
    town: str
    dept: str
    other_town: str

    @property
    def now(self) -> datetime:
        return datetime(self.day.year, self.day.month, self.day.day, 2, 0, tzinfo=UTC)


CASES = {
    "qingshan": Case("tests/plans/qingshan-2024.yaml", 2024, "某市青山县", date(2024, 4, 10), "青山镇", "县司法局", "龙潭镇"),
    "wanzhi": Case("tests/plans/wanzhi-2023.yaml", 2023, "芜湖市湾沚区", date(2023, 5, 10), "湾沚镇", "区司法局", "六郎镇"),
    "lianhe": Case("tests/plans/lianhe-2025.yaml", 2025, "某市莲河县", date(2025, 5, 8), "杏花乡", "县司法局", "枫林乡"),
}

# ── files ────────────────────────────────────────────────────────────────────────────────────────────────────────
PDF = (b"%PDF-1.4\n1 0 obj<</Type/Catalog/Pages 2 0 R>>endobj\n2 0 obj<</Type/Pages/Kids[]/Count 0>>endobj\n"
       b"trailer<</Root 1 0 R>>\n%%EOF\n")


def png() -> bytes:
    """A real 1×1 red PNG."""
    def chunk(kind: bytes, data: bytes) -> bytes:
        return struct.pack(">I", len(data)) + kind + data + struct.pack(">I", zlib.crc32(kind + data) & 0xFFFFFFFF)

    return (b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", struct.pack(">IIBBBBB", 1, 1, 8, 2, 0, 0, 0))
            + chunk(b"IDAT", zlib.compress(b"\x00\xff\x00\x00")) + chunk(b"IEND", b""))


def docx() -> bytes:
    from docx import Document

    doc = Document()
    doc.add_paragraph("承接事项清单已梳理完毕")
    out = io.BytesIO()
    doc.save(out)
    return out.getvalue()


def zipped(members: dict[str, str]) -> bytes:
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w") as z:
        for name, body in members.items():
            z.writestr(name, body)
    return out.getvalue()


def bomb(part: str, marker: str, inflated: int = 64 * 1024 * 1024) -> bytes:
    """A zip of about 64 KB whose `part` inflates to 64 MB (about 1000:1, as far as deflate goes): `marker` in it,
    so that only its size can give it away."""
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w", zipfile.ZIP_DEFLATED) as z:
        head = f'<?xml version="1.0"?><Types><Override ContentType="application/{marker}"/><!--'.encode()
        z.writestr(part, head + b" " * (inflated - len(head) - 3) + b"-->")
    return out.getvalue()


BAD_FILES = {  # what a browser could send under an innocent name: (name, bytes)
    "exe": ("x.pdf", b"MZ\x90\x00\x03\x00\x00\x00\x04\x00\x00\x00\xff\xff\x00\x00" + b"\x00" * 64 + b"This program"),
    "html": ("照片.png", b"<!DOCTYPE html><html><body><script>alert(document.cookie)</script></body></html>"),
    "svg": ("图.png", b'<svg xmlns="http://www.w3.org/2000/svg"><script>alert(1)</script></svg>'),
    "empty": ("空白.pdf", b""),
    "zip": ("材料.docx", zipped({"readme.txt": "not an office file"})),
    "docm": ("宏.docx", zipped({"[Content_Types].xml": '<Types><Override ContentType="application/'
                                "vnd.ms-word.document.macroEnabled.main+xml\"/></Types>"})),
}

# ── the database, built once per module and copied per test ─────────────────────────────────────────────────────


def _clean_env(mp: pytest.MonkeyPatch) -> None:
    """Nothing from the developer's shell may send a message anywhere or move the web app elsewhere."""
    import os

    for name in ("SLACK_BOT_TOKEN", "SLACK_APP_TOKEN", "SLACK_SIGNING_SECRET", "FUQUAN_SLACK_API_URL", "FUQUAN_WEB_URL",
                 "FUQUAN_WEB_PORT", "FUQUAN_NOTIFY_FILE", "FUQUAN_CONFIG"):
        mp.delenv(name, raising=False)
    for name in [k for k in os.environ if k.startswith("FUQUAN_WEBHOOK_")]:
        mp.delenv(name)


@pytest.fixture(scope="module")
def template(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    """Both plans synced and reminded (on PostgreSQL a database nobody stays connected to: it is copied)."""
    root = tmp_path_factory.mktemp("web-security")
    url = dbs.fresh_url(root, "websec_template")
    with pytest.MonkeyPatch.context() as mp:
        _clean_env(mp)
        mp.setenv("FUQUAN_DATABASE_URL", url)
        mp.setenv("FUQUAN_DATA_DIR", str(root))
        mp.setenv("FUQUAN_LINK_SECRET", SECRET)
        for c in CASES.values():
            assert main(["sync", "--config", str(ROOT / c.file)]) == 0
            assert main(["remind", "--today", c.day.isoformat(), "--force", "--year", str(c.year),
                         "--district", c.district]) == 0
    yield url


def clone(template: str, target: str) -> None:
    """Make the (not yet used) database behind `target` a copy of `template`."""
    if not dbs.ON_PG:
        with closing(sqlite3.connect(dbs.sqlite_path(template))) as src, \
                closing(sqlite3.connect(dbs.sqlite_path(target))) as dst:
            src.backup(dst)
        return
    admin = create_engine(dbs.PG_ADMIN, isolation_level="AUTOCOMMIT")
    try:
        with admin.connect() as conn:
            name, source = make_url(target).database, make_url(template).database
            conn.execute(text(f'DROP DATABASE "{name}" WITH (FORCE)'))
            conn.execute(text(f'CREATE DATABASE "{name}" TEMPLATE "{source}"'))
    finally:
        admin.dispose()


@dataclass
class Session:
    client: TestClient
    csrf: str
    page: str  # the page the session landed on (/u or /office)

    def post(self, path: str, data: dict[str, str], files: list[tuple[str, tuple[str, bytes, str]]] | None = None,
             csrf: str | None = None) -> Any:
        body = dict(data)
        if csrf is not None:
            body["csrf"] = csrf
        return self.client.post(path, data=body, files=files)


@dataclass
class World:
    case: Case
    ctx: Context
    app: Starlette
    url: str
    data: Path
    times: list[datetime]  # times[0] is what the injected clock says
    _extendable: dict[tuple[str, str | None], tuple[int, date]] = field(default_factory=dict)

    @property
    def plan_id(self) -> int:
        return self.ctx.plan.id

    def unit_id(self, unit: str) -> int:
        return self.ctx.plan.unit_ids[unit]

    def client(self, base_url: str = BASE) -> TestClient:
        return TestClient(self.app, base_url=base_url, raise_server_exceptions=False)

    def token(self, holder: str, member: str = "") -> str:
        return unit_links.personal_link(self.ctx, holder, self.times[0], member).rsplit("/l/", 1)[1]

    def enter(self, holder: str, member: str = "") -> Session:
        c = self.client()
        r = c.get(f"/l/{self.token(holder, member or (MEMBER if holder == ZHUANBAN else ''))}")
        assert r.status_code == 200, r.text
        page = c.get("/office" if holder == ZHUANBAN else "/u")
        assert page.status_code == 200, page.text
        m = re.search(r'name="csrf" value="([^"]+)"', page.text)  # (the 专班's page has forms only with work queued)
        return Session(c, m.group(1) if m else "", page.text)

    def counts(self) -> dict[str, int]:
        sql = "SELECT " + ", ".join(f"(SELECT count(*) FROM {t})" for t in TABLES)
        return dict(zip(TABLES, dbs.rows(self.url, sql)[0], strict=True))

    def stored_files(self) -> list[Path]:
        return sorted(p for p in (self.data / "evidence").rglob("*") if p.is_file())

    def messages(self, page: str) -> list[str]:
        return re.findall(r'name="message" value="(\d+)"', page)

    def extendable(self, unit: str, *, not_of: str | None = None) -> tuple[int, date]:
        """A task (no period, judged from a status: its 反馈 says 进行中 or 已完成) the unit may still answer and ask
        an extension for, and its due date; with `not_of`, one that unit has no share in. (As the test began: what
        the test itself sends changes nothing.)"""
        if (unit, not_of) not in self._extendable:
            self._extendable[unit, not_of] = self._find_extendable(unit, not_of)
        return self._extendable[unit, not_of]

    def _find_extendable(self, unit: str, not_of: str | None) -> tuple[int, date]:
        sp, today = self.ctx.plan, self.case.day
        for r in pages.unit_rows(self.ctx, unit, today):
            due = r.judgement.due
            shared = not_of is not None and not_of in [a.unit for a in sp.plan.assignees(sp.plan.task(r.task_no))]
            if not r.tracked and not r.period and due is not None and due >= today and not shared \
                    and r.judgement.colour not in FINISHED:
                return r.task_no, due
        raise AssertionError(f"{unit} has no task to ask an extension for (not of {not_of})")

    def answerable(self, unit: str) -> list[int]:
        """The tasks (no period, judged from a status) the unit may send feedback on."""
        return [r.task_no for r in pages.unit_rows(self.ctx, unit, self.case.day)
                if not r.tracked and not r.period and r.judgement.colour not in FINISHED]

    def sheet(self, towns: list[str], case: Case | None = None, submitted: date | None = None) -> bytes:
        """A 月报 sheet (CSV) of last month from `fuquan template reports`, one filled row per town in `towns`,
        sent on `submitted` (the case's day)."""
        case = case or self.case
        month = (case.day.replace(day=1) - timedelta(days=1)).strftime("%Y-%m")
        out = self.data / f"template-{case.year}.csv"
        if not out.exists():
            assert main(["template", "reports", "--config", str(ROOT / case.file), "--month", month,
                         "--out", str(out)]) == 0
        title, header = out.read_text(encoding="utf-8-sig").splitlines()[:2]
        figures = len(header.split(",")) - 3
        rows = [f"{town},{month},{(submitted or case.day).isoformat()}," + ",".join(["1"] * figures) for town in towns]
        return ("\ufeff" + "\n".join([title, header, *rows]) + "\n").encode("utf-8")

    def reports_of(self, unit: str) -> int:
        return dbs.rows(self.url, "SELECT count(*) FROM monthly_report WHERE town_id = :u",
                        u=self.unit_id(unit))[0][0]  # (unit ids are the plan's own)

    def seed(self, unit: str) -> dict[str, int]:
        """A pending feedback (with one PDF) and a pending extension request of `unit`, through the service layer."""
        actor = Actor(f"{unit} (专属链接)", "seed")
        task, due = self.extendable(unit)
        answers.give_feedback(self.ctx, GiveFeedback(unit=unit, task_no=task, status="进行中", note="种子反馈",
                                                     files=(Upload("seed.pdf", PDF + unit.encode()),),
                                                     nonce=f"seed-f-{unit}-{self.plan_id}"), actor=actor, today=self.case.day)
        answers.ask_extension(self.ctx, AskExtension(unit=unit, task_no=task, new_due=due + timedelta(days=10),
                                                     reason="种子申请", nonce=f"seed-e-{unit}-{self.plan_id}"),
                              actor=actor, today=self.case.day)
        where = {"p": self.plan_id, "u": self.unit_id(unit)}
        one = "SELECT max(id) FROM {} WHERE plan_id = :p AND unit_id = :u"
        return {t: dbs.rows(self.url, one.format(t), **where)[0][0] for t in ("feedback", "extension", "evidence")}


@pytest.fixture(params=list(CASES))
def world(request: pytest.FixtureRequest, template: str, db_url: str, tmp_path: Path,
          monkeypatch: pytest.MonkeyPatch) -> Iterator[World]:
    case = CASES[request.param]
    clone(template, db_url)
    _clean_env(monkeypatch)
    monkeypatch.setenv("FUQUAN_DATA_DIR", str(tmp_path))
    monkeypatch.setenv("FUQUAN_LINK_SECRET", SECRET)
    settings = Settings.from_env()
    times = [case.now]
    with open_context(settings, clock=lambda: times[0]) as ctx:
        ctx = ctx.choose(case.year, case.district)
        yield World(case, ctx, make_app(ctx), db_url, tmp_path, times)


ONE_PLAN = pytest.mark.parametrize("world", ["qingshan"], indirect=True)


def said(r: Any) -> str:
    m = re.search(r'<p id="message">([^<]*)</p>', r.text)
    return m.group(1) if m else r.text[:200]


def no_cookie(r: Any, client: TestClient) -> None:
    assert "set-cookie" not in r.headers, r.headers.get("set-cookie")
    assert COOKIE not in client.cookies


def forge(token: str, **changes: Any) -> str:
    """The token with its claims changed and its MAC kept."""
    body, _, mac = token.partition(".")
    claims = json.loads(base64.urlsafe_b64decode(body + "=" * (-len(body) % 4)))
    claims.update(changes)
    raw = json.dumps(claims, ensure_ascii=False, separators=(",", ":")).encode()
    return base64.urlsafe_b64encode(raw).rstrip(b"=").decode() + "." + mac


def flip(s: str) -> str:
    return s[:-1] + ("A" if s[-1] != "A" else "B")


# ── 1. links ─────────────────────────────────────────────────────────────────────────────────────────────────────


def test_forged_links_get_403_and_no_session(world: World) -> None:
    good = world.token(world.case.town)
    body, mac = good.split(".")
    now = world.times[0]
    forged = {
        "payload: another unit": forge(good, holder=world.unit_id(world.case.dept)),
        "payload: the 专班": forge(good, holder=OFFICE, member="冒充"),
        "payload: a later expiry": forge(good, expires=int((now + timedelta(days=3650)).timestamp())),
        "payload: a later generation": forge(good, generation=2),
        "MAC changed": f"{body}.{flip(mac)}",
        "MAC of another secret": sign(Claims(world.plan_id, world.unit_id(world.case.town), 1,
                                             int((now + timedelta(days=9)).timestamp())), "another-secret"),
        "signed as a session": sign(Claims(world.plan_id, world.unit_id(world.case.town), 1,
                                           int((now + timedelta(days=9)).timestamp()), sid="x" * 22), SECRET, "session"),
        "truncated MAC": good[:-4],
        "no MAC": body,
        "MAC only": f".{mac}",
        "half": good[: len(good) // 2],
        "3000 characters": ("A" * 2999) + ".",
        "3000 characters, good start": good + "A" * (3000 - len(good)),
    }
    assert len(forged) < FAILS_ALLOWED  # the rate limit must not be what refuses them
    for what, token in forged.items():
        c = world.client()
        r = c.get(f"/l/{token}")
        assert r.status_code == 403, (what, r.status_code, said(r))
        assert "链接" in said(r), what
        no_cookie(r, c)
        assert c.get("/u").status_code == 403 and c.get("/office").status_code == 403, what
    for empty in ("/l/", "/l/."):  # no such route (the client folds "." away)
        c = world.client()
        r = c.get(empty)
        assert r.status_code in (403, 404), empty
        no_cookie(r, c)
    c = world.client()
    assert c.get(f"/l/{good}").status_code == 200 and COOKIE in c.cookies  # the genuine link still works


def test_non_ascii_links_get_403_not_a_crash(world: World) -> None:
    good = world.token(world.case.town)
    body, mac = good.split(".")
    tokens = {"latin": "abc.é", "cjk": "链接.无效", "after a good token": f"{good}é", "in the MAC": f"{body}.{mac[:-1]}é",
              "in the body": f"é{good}"}
    got = {}
    for what, token in tokens.items():
        c = world.client()
        r = c.get(f"/l/{token}")
        got[what] = r.status_code
        assert "set-cookie" not in r.headers, what
    assert got == dict.fromkeys(tokens, 403)


def test_non_ascii_session_cookie_gets_403_not_a_crash(world: World) -> None:
    c = world.client()
    r = c.get("/u", headers={"cookie": f"{COOKIE}=abc.\u00e9".encode("latin-1")})  # type: ignore[dict-item]
    assert r.status_code == 403, (r.status_code, r.text[:200])


def test_expired_link_and_session_end_with_the_link(world: World) -> None:
    days = world.ctx.plan.plan.answers.link_days
    issued = world.times[0]
    token = world.token(world.case.town)
    world.times[0] = issued + timedelta(days=days) - timedelta(hours=1)  # still valid: an hour left
    c = world.client()
    assert c.get(f"/l/{token}").status_code == 200
    assert c.get("/u").status_code == 200
    world.times[0] = issued + timedelta(days=days, minutes=1)
    assert c.get("/u").status_code == 403, "a session may not outlive its link"
    late = world.client()
    r = late.get(f"/l/{token}")
    assert r.status_code == 403 and "过期" in said(r), said(r)
    no_cookie(r, late)


def test_session_lasts_twelve_hours(world: World) -> None:
    start = world.times[0]
    s = world.enter(world.case.dept)
    world.times[0] = start + timedelta(hours=11, minutes=59)
    assert s.client.get("/u").status_code == 200
    world.times[0] = start + timedelta(hours=12, seconds=1)
    r = s.client.get("/u")
    assert r.status_code == 403
    r = s.post("/u/ack", {"message": world.messages(s.page)[0]}, csrf=s.csrf)
    assert r.status_code == 403


def test_rotated_link_voids_old_link_and_session(world: World) -> None:
    town, dept = world.case.town, world.case.dept
    old_token = world.token(town)
    old = world.enter(town)
    other = world.enter(dept)
    office = world.enter(ZHUANBAN)
    before = world.counts()
    assert unit_links.rotate_link(world.ctx, town, world.times[0], Actor("专班 测试", "test")) == 2
    c = world.client()
    r = c.get(f"/l/{old_token}")
    assert r.status_code == 403, said(r)
    no_cookie(r, c)
    assert old.client.get("/u").status_code == 403
    r = old.post("/u/ack", {"message": world.messages(old.page)[0]}, csrf=old.csrf)
    assert r.status_code == 403
    assert world.counts()["ack"] == before["ack"]
    assert other.client.get("/u").status_code == 200, "rotating one unit's link leaves the others alone"
    assert office.client.get("/office").status_code == 200
    fresh = world.client()
    assert fresh.get(f"/l/{world.token(town)}").status_code == 200
    r = fresh.get("/u")
    assert r.status_code == 200 and town in r.text
    # the 专班's links and sessions rotate the same way
    unit_links.rotate_link(world.ctx, ZHUANBAN, world.times[0], Actor("专班 测试", "test"))
    assert office.client.get("/office").status_code == 403


def test_link_of_another_plan_gets_403(world: World) -> None:
    other = next(c for c in CASES.values() if c != world.case)
    other_plan = world.ctx.choose(other.year, other.district).plan
    expires = int((world.times[0] + timedelta(days=9)).timestamp())
    town_id = world.unit_id(world.case.town)
    tokens = {
        "this unit under the other plan": sign(Claims(other_plan.id, town_id, 1, expires), SECRET),
        "the other plan's unit under this plan": sign(Claims(world.plan_id, other_plan.unit_ids[other.town], 1,
                                                              expires), SECRET),
        "a plan that does not exist": sign(Claims(world.plan_id + 1000, town_id, 1, expires), SECRET),
        "a unit that does not exist": sign(Claims(world.plan_id, 999_999, 1, expires), SECRET),
    }
    for what, token in tokens.items():
        c = world.client()
        r = c.get(f"/l/{token}")
        assert r.status_code == 403, (what, r.status_code, said(r))
        no_cookie(r, c)


# ── 2. the session cookie ────────────────────────────────────────────────────────────────────────────────────────


def test_entry_sets_a_strict_httponly_cookie_and_the_token_goes_no_further(world: World) -> None:
    token = world.token(world.case.town)
    c = world.client()
    r = c.get(f"/l/{token}")
    assert r.status_code == 200
    cookie = r.headers["set-cookie"]
    parts = [p.strip().lower() for p in cookie.split(";")]
    assert parts[0].startswith(f"{COOKIE}=")
    assert "httponly" in parts and "samesite=strict" in parts and "path=/" in parts, cookie
    assert not any(p.startswith("domain=") for p in parts), cookie
    assert "secure" not in parts  # plain http on 127.0.0.1 (see the https test below)
    assert r.headers["referrer-policy"] == "no-referrer"
    assert r.headers["cache-control"] == "no-store"
    assert token not in r.text and token.split(".")[1] not in r.text, "the entry page must not repeat the token"
    assert "url=/u" in r.text
    value = c.cookies[COOKIE]
    assert value != token
    bare = world.client()  # a browser that never saw the link: the cookie alone opens the page
    r = bare.get("/u", headers={"cookie": f"{COOKIE}={value}"})
    assert r.status_code == 200 and world.case.town in r.text
    assert token not in r.text
    assert r.headers["cache-control"] == "no-store"
    assert world.client().get("/u").status_code == 403  # and nothing opens it without


def test_cookie_is_secure_behind_https(world: World, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("FUQUAN_WEB_URL", "https://127.0.0.1:8300")
    with open_context(Settings.from_env(), clock=lambda: world.times[0]) as ctx:
        ctx = ctx.choose(world.case.year, world.case.district)
        link = unit_links.personal_link(ctx, world.case.town, world.times[0])
        assert link.startswith("https://127.0.0.1:8300/l/")
        c = TestClient(make_app(ctx), base_url="https://127.0.0.1:8300", raise_server_exceptions=False)
        r = c.get(link.removeprefix("https://127.0.0.1:8300"))
        assert r.status_code == 200
        assert "secure" in [p.strip().lower() for p in r.headers["set-cookie"].split(";")]


def test_session_and_link_tokens_are_not_interchangeable(world: World) -> None:
    token = world.token(world.case.town)
    s = world.enter(world.case.town)
    session_value = s.client.cookies[COOKIE]
    c = world.client()
    r = c.get(f"/l/{session_value}")
    assert r.status_code == 403
    no_cookie(r, c)
    r = world.client().get("/u", headers={"cookie": f"{COOKIE}={token}"})
    assert r.status_code == 403


def test_security_headers_on_pages_and_refusals(world: World) -> None:
    unit = world.enter(world.case.town)
    office = world.enter(ZHUANBAN)
    responses = {"/u": unit.client.get("/u"), "/office": office.client.get("/office"),
                 "403": world.client().get("/u"), "404": unit.client.get("/office"),
                 "400": unit.post("/u/ack", {"message": "1"}, csrf="x")}
    for what, r in responses.items():
        h = r.headers
        assert h.get("x-frame-options") == "DENY", what
        assert "frame-ancestors 'none'" in h.get("content-security-policy", ""), what
        assert h.get("x-content-type-options") == "nosniff", what
        assert h.get("cache-control") == "no-store", what
        assert h.get("referrer-policy") == "no-referrer", what


# ── 3. CSRF ──────────────────────────────────────────────────────────────────────────────────────────────────────

ROUTES = ["/u/ack", "/u/feedback", "/u/extension", "/u/sheet", "/decide", "/office/review"]


def _valid_form(world: World, route: str, town: Session, seeded: dict[str, int], n: int) -> dict[str, Any]:
    """A form that would be recorded, had it the right csrf (`n` keeps nonces apart)."""
    task, due = world.extendable(world.case.town)
    if route == "/u/ack":
        return {"data": {"message": world.messages(town.page)[0]}}
    if route == "/u/feedback":
        return {"data": {"nonce": f"csrf-f-{n}", "task": str(task), "period": "", "status": "进行中", "note": "进展"},
                "files": [("files", ("证明.pdf", PDF, "application/pdf"))]}
    if route == "/u/extension":
        return {"data": {"nonce": f"csrf-e-{n}", "task": str(task), "period": "",
                         "new_due": (due + timedelta(days=7)).isoformat(), "reason": "人手不足"}}
    if route == "/u/sheet":
        return {"data": {}, "files": [("files", ("月报.csv", world.sheet([world.case.town]), "text/csv"))]}
    if route == "/decide":
        return {"data": {"id": str(seeded["extension"]), "decision": "不批准", "reason": "时限不可调整"}}
    return {"data": {"id": str(seeded["feedback"]), "decision": "退回", "reason": "佐证不足"}}


@pytest.mark.parametrize("route", ROUTES)
def test_post_without_the_sessions_csrf_is_400_and_records_nothing(world: World, route: str) -> None:
    seeded = world.seed(world.case.dept)
    office_route = route in ("/decide", "/office/review")
    town, dept = world.enter(world.case.town), world.enter(world.case.dept)
    me = world.enter(ZHUANBAN) if office_route else town
    twin = world.enter(ZHUANBAN, "王芳") if office_route else world.enter(world.case.town)  # same holder, other session
    stranger = town if office_route else dept  # a session of someone else altogether
    assert twin.csrf != me.csrf and stranger.csrf != me.csrf
    wrong = {"missing": None, "empty": "", "another session of the same holder": twin.csrf,
             "someone else's session": stranger.csrf, "garbage": "A" * len(me.csrf), "one character off": flip(me.csrf),
             "the link token": world.token(world.case.town)}
    before, files_before = world.counts(), world.stored_files()
    for n, (what, csrf) in enumerate(wrong.items()):
        form = _valid_form(world, route, town, seeded, n)
        r = me.post(route, form["data"], form.get("files"), csrf=csrf)
        assert r.status_code == 400, (what, r.status_code, said(r))
        assert "CSRF" in said(r), (what, said(r))
        assert world.counts() == before, what
        assert world.stored_files() == files_before, what
    form = _valid_form(world, route, town, seeded, 99)  # the control: the same form with the right csrf goes through
    r = me.post(route, form["data"], form.get("files"), csrf=me.csrf)
    assert r.status_code == 200, said(r)
    assert world.counts()["audit"] > before["audit"]


@ONE_PLAN
def test_non_ascii_csrf_is_400_not_a_crash(world: World) -> None:
    seeded = world.seed(world.case.dept)
    town, office = world.enter(world.case.town), world.enter(ZHUANBAN)
    before = world.counts()
    got = {}
    for n, route in enumerate(ROUTES):
        me = office if route in ("/decide", "/office/review") else town
        form = _valid_form(world, route, town, seeded, n)
        got[route] = me.post(route, form["data"], form.get("files"), csrf="令牌é").status_code
    assert got == dict.fromkeys(ROUTES, 400)
    assert world.counts() == before


# ── 4. one unit, its own rows ────────────────────────────────────────────────────────────────────────────────────


@pytest.mark.parametrize("direction", ["town→dept", "dept→town"])
def test_a_unit_reaches_none_of_another_units_rows(world: World, direction: str) -> None:
    a, b = (world.case.town, world.case.dept) if direction == "town→dept" else (world.case.dept, world.case.town)
    seeded = world.seed(b)
    sa, sb = world.enter(a), world.enter(b)
    b_message = world.messages(sb.page)[0]
    assert b_message not in world.messages(sa.page)
    b_task, b_due = world.extendable(b, not_of=a)
    before, files_before = world.counts(), world.stored_files()
    attempts = {
        "ack B's message": sa.post("/u/ack", {"message": b_message}, csrf=sa.csrf),
        "feedback on B's task": sa.post("/u/feedback", {"nonce": "x1", "task": str(b_task), "period": "",
                                                        "status": "已完成", "note": "冒名反馈"},
                                        [("files", ("a.pdf", PDF, "application/pdf"))], csrf=sa.csrf),
        "extension of B's task": sa.post("/u/extension", {"nonce": "x2", "task": str(b_task), "period": "",
                                                          "new_due": (b_due + timedelta(days=5)).isoformat(),
                                                          "reason": "冒名申请"}, csrf=sa.csrf),
        "B's evidence": sa.client.get(f"/files/{seeded['evidence']}"),
        "review B's feedback": sa.post("/office/review", {"id": str(seeded["feedback"]), "decision": "通过"},
                                       csrf=sa.csrf),
        "decide B's extension": sa.post("/decide", {"id": str(seeded["extension"]), "decision": "批准"}, csrf=sa.csrf),
        "the 专班 page": sa.client.get("/office"),
    }
    for what, r in attempts.items():
        assert r.status_code == 404, (what, r.status_code, said(r))
        assert PDF not in r.content, what
    assert world.counts() == before and world.stored_files() == files_before
    states = dbs.rows(world.url, "SELECT f.state, e.state FROM feedback f, extension e WHERE f.id = :f AND e.id = :e",
                      f=seeded["feedback"], e=seeded["extension"])
    assert states == [("待复核", "待批")]
    assert world.messages(sb.client.get("/u").text)[0] == b_message  # still waiting for B's own 签收


def test_the_office_cannot_use_unit_pages_but_reads_every_units_evidence(world: World) -> None:
    seeded = world.seed(world.case.town)
    town = world.enter(world.case.town)
    office = world.enter(ZHUANBAN)
    task, _ = world.extendable(world.case.town)
    before = world.counts()
    attempts = {"/u": office.client.get("/u"),
                "/u/ack": office.post("/u/ack", {"message": world.messages(town.page)[0]}, csrf=office.csrf),
                "/u/feedback": office.post("/u/feedback", {"nonce": "o1", "task": str(task), "period": "",
                                                           "status": "已完成", "note": "代报"}, csrf=office.csrf),
                "/u/sheet": office.post("/u/sheet", {}, [("files", ("月报.csv", world.sheet([world.case.town]),
                                                                   "text/csv"))], csrf=office.csrf)}
    for what, r in attempts.items():
        assert r.status_code == 404, (what, r.status_code, said(r))
    assert world.counts() == before
    r = office.client.get(f"/files/{seeded['evidence']}")
    assert r.status_code == 200 and r.content == PDF + world.case.town.encode()


def test_ids_of_another_plan_are_not_found(world: World) -> None:
    other_case = next(c for c in CASES.values() if c != world.case)
    other = World(other_case, world.ctx.choose(other_case.year, other_case.district), world.app, world.url, world.data,
                  world.times)
    seeded = other.seed(other_case.town)
    other_message = dbs.rows(world.url, "SELECT max(id) FROM message WHERE plan_id = :p AND recipient = :r",
                             p=other.plan_id, r=other_case.town)[0][0]
    world.seed(world.case.dept)  # work queued on this plan's 专班 page: its forms (and csrf) show
    town, office = world.enter(world.case.town), world.enter(ZHUANBAN)
    assert office.csrf
    before = world.counts()
    attempts = {"ack": town.post("/u/ack", {"message": str(other_message)}, csrf=town.csrf),
                "unit file": town.client.get(f"/files/{seeded['evidence']}"),
                "office file": office.client.get(f"/files/{seeded['evidence']}"),
                "review": office.post("/office/review", {"id": str(seeded["feedback"]), "decision": "通过"},
                                      csrf=office.csrf),
                "decide": office.post("/decide", {"id": str(seeded["extension"]), "decision": "批准"}, csrf=office.csrf)}
    for what, r in attempts.items():
        assert r.status_code == 404, (what, r.status_code, said(r))
    assert world.counts() == before


def test_malformed_ids_are_refused_not_a_crash(world: World) -> None:
    world.seed(world.case.dept)
    town, office = world.enter(world.case.town), world.enter(ZHUANBAN)
    before = world.counts()
    crashed = []
    for raw in ["", "abc", "-1", "0", "1e3", "1.0", " 1", "9" * 12, "٣", "²", "①"]:
        attempts = {"ack": town.post("/u/ack", {"message": raw}, csrf=town.csrf),
                    "unit file": town.client.get(f"/files/{raw}"),
                    "office file": office.client.get(f"/files/{raw}"),
                    "review": office.post("/office/review", {"id": raw, "decision": "通过"}, csrf=office.csrf),
                    "decide": office.post("/decide", {"id": raw, "decision": "批准"}, csrf=office.csrf)}
        crashed += [(what, raw, r.status_code) for what, r in attempts.items()
                    if r.status_code not in (400, 404)]
    assert crashed == []
    assert world.counts() == before


def test_evidence_download_is_an_attachment_under_a_sanitised_name(world: World) -> None:
    town = world.enter(world.case.town)
    task, _ = world.extendable(world.case.town)
    one, two = PDF + b"% one\n", PDF + b"% two\n"
    r = town.post("/u/feedback", {"nonce": "names", "task": str(task), "period": "", "status": "进行中", "note": "佐证"},
                  [("files", ("../../etc/passwd.pdf", one, "application/pdf")),
                   ("files", ("<script>alert(1)</script>.pdf", two, "application/pdf"))], csrf=town.csrf)
    assert r.status_code == 200, said(r)
    rows = dbs.rows(world.url, "SELECT id, name, sha256 FROM evidence WHERE plan_id = :p AND unit_id = :u ORDER BY id",
                    p=world.plan_id, u=world.unit_id(world.case.town))
    assert len(rows) == 2
    for _, name, _ in rows:
        assert not re.search(r"[/\\<>\"']", name) and ".." not in name and name.endswith(".pdf"), name
    assert rows[0][1] == "passwd.pdf"
    assert not (world.data / "etc").exists() and not (world.data.parent / "etc" / "passwd.pdf").exists()
    office = world.enter(ZHUANBAN)
    for (eid, name, sha), data in zip(rows, (one, two), strict=True):
        path = world.data / "evidence" / sha[:2] / sha
        assert sha == sha256(data).hexdigest() and path.read_bytes() == data
        for who in (town, office):
            r = who.client.get(f"/files/{eid}")
            assert r.status_code == 200
            assert r.content == data
            disposition = r.headers["content-disposition"]
            assert disposition.startswith("attachment;"), disposition
            assert name in disposition and "/" not in disposition.split(";", 1)[1], disposition
            assert r.headers["x-content-type-options"] == "nosniff"
            assert r.headers["content-type"].startswith("application/pdf")
    page = office.client.get("/office").text
    assert "<script>alert" not in page and "passwd.pdf" in page


def test_feedback_text_is_escaped_on_both_pages(world: World) -> None:
    town = world.enter(world.case.town)
    task, _ = world.extendable(world.case.town)
    note = '<script>alert("x")</script>"><img src=x onerror=alert(1)>'
    r = town.post("/u/feedback", {"nonce": "xss", "task": str(task), "period": "", "status": "进行中", "note": note},
                  csrf=town.csrf)
    assert r.status_code == 200, said(r)
    for page in (world.enter(ZHUANBAN).client.get("/office").text, town.client.get("/u").text):
        assert "&lt;script&gt;" in page
        assert "<script>alert" not in page and "<img src=x" not in page


# ── 5. uploads ───────────────────────────────────────────────────────────────────────────────────────────────────


def _feedback(world: World, s: Session, files: list[tuple[str, bytes]], nonce: str) -> Any:
    task, _ = world.extendable(world.case.town)
    return s.post("/u/feedback", {"nonce": nonce, "task": str(task), "period": "", "status": "已完成", "note": "附佐证"},
                  [("files", (name, data, "application/octet-stream")) for name, data in files], csrf=s.csrf)


def test_file_over_20_mb_is_refused_and_nothing_kept(world: World) -> None:
    town = world.enter(world.case.town)
    before = world.counts()
    big = PDF + b"0" * (MAX_BYTES + 1 - len(PDF))
    r = _feedback(world, town, [("大文件.pdf", big)], "big")
    assert r.status_code in (400, 413), r.status_code
    assert "20 MB" in said(r)
    assert world.counts() == before and world.stored_files() == []


@ONE_PLAN
def test_body_over_three_files_worth_is_413(world: World) -> None:
    town = world.enter(world.case.town)
    before = world.counts()
    chunk = PDF + b"0" * (MAX_BYTES + 512 * 1024)
    r = _feedback(world, town, [(f"{i}.pdf", chunk) for i in range(3)], "huge")
    assert r.status_code == 413, r.status_code
    assert world.counts() == before and world.stored_files() == []


def test_disguised_or_empty_files_are_refused_by_name(world: World) -> None:
    town = world.enter(world.case.town)
    before = world.counts()
    for kind, (name, data) in BAD_FILES.items():
        r = _feedback(world, town, [(name, data)], f"bad-{kind}")
        assert r.status_code == 400, (kind, r.status_code, said(r))
        message = said(r)
        assert name in message and re.search(r"[\u4e00-\u9fff]", message.replace(name, "")), (kind, message)
        assert world.counts() == before and world.stored_files() == [], kind


def test_a_refused_file_among_good_ones_leaves_nothing_behind(world: World) -> None:
    town = world.enter(world.case.town)
    before = world.counts()
    r = _feedback(world, town, [("好.pdf", PDF), BAD_FILES["exe"]], "mixed")
    assert r.status_code == 400 and BAD_FILES["exe"][0] in said(r), said(r)
    assert world.counts() == before
    assert world.stored_files() == [], "a refused submission must not leave the good file in the evidence store"


@ONE_PLAN
def test_more_than_three_files_is_refused(world: World) -> None:
    town = world.enter(world.case.town)
    before = world.counts()
    r = _feedback(world, town, [(f"{i}.pdf", PDF + bytes([i])) for i in range(4)], "four")
    assert r.status_code == 400 and "最多 3 个文件" in said(r), (r.status_code, said(r))  # our page, not Starlette's
    assert world.counts() == before and world.stored_files() == []


def test_real_pdf_png_and_docx_are_accepted_and_stored_by_hash(world: World) -> None:
    town = world.enter(world.case.town)
    files = {"pdf": ("方案.pdf", PDF), "png": ("现场照片.png", png()), "docx": ("清单.docx", docx())}
    before = world.counts()
    r = _feedback(world, town, list(files.values()), "real")
    assert r.status_code == 200, said(r)
    rows = dbs.rows(world.url, "SELECT id, kind, name, size, sha256 FROM evidence WHERE plan_id = :p ORDER BY id",
                    p=world.plan_id)
    assert [k for _, k, *_ in rows] == list(files)
    assert world.counts()["feedback"] == before["feedback"] + 1
    for (eid, _, name, size, sha), (sent_name, data) in zip(rows, files.values(), strict=True):
        assert name == sent_name and size == len(data) and sha == sha256(data).hexdigest()
        assert (world.data / "evidence" / sha[:2] / sha).read_bytes() == data
        r = town.client.get(f"/files/{eid}")
        assert r.status_code == 200 and r.content == data
    assert len(world.stored_files()) == 3


def test_feedback_refused_while_one_waits_leaves_no_file_behind(world: World) -> None:
    town = world.enter(world.case.town)
    first = _feedback(world, town, [("第一份.pdf", PDF + b"% first\n")], "wait-1")
    assert first.status_code == 200, said(first)
    before, kept = world.counts(), world.stored_files()
    second = _feedback(world, town, [("第二份.pdf", PDF + b"% second\n")], "wait-2")  # same task, a new form
    if second.status_code == 200:  # (a plan may let several wait: then it is recorded whole)
        assert world.counts()["evidence"] == before["evidence"] + 1 and len(world.stored_files()) == len(kept) + 1
    else:
        assert second.status_code == 400, said(second)
        assert world.counts() == before
        assert world.stored_files() == kept, f"refused ({said(second)}) but its file was kept in the evidence store"


def test_hostile_form_fields_never_crash_and_record_all_or_nothing(world: World) -> None:
    """NUL (PostgreSQL refuses it in text), escape codes, an incompressible 10 KB value (over PostgreSQL's btree row
    limit) and one over the 64 KB field limit, in every field of the two unit forms: refused as bad input (4xx,
    nothing kept, no database error shown) or recorded whole, never a 500."""
    town = world.enter(world.case.town)
    tasks = world.answerable(world.case.town)
    ext_task, due = world.extendable(world.case.town)
    hostile = {"NUL": "a\x00b", "escape": "\x1b[31m红\x1b[0m", "10 KB": secrets.token_hex(5000), "70 KB": "长" * 70_000}
    broken: list[tuple[str, str, str, int, str]] = []
    n = 0
    for route, fields in (("/u/feedback", ("nonce", "period", "status", "note", "task")),
                          ("/u/extension", ("nonce", "period", "new_due", "reason", "task"))):
        for field_name in fields:
            for what, value in hostile.items():
                n += 1
                if route == "/u/feedback":  # (no files: a refused form's file is the upload tests' business)
                    data = {"nonce": f"h{n}", "task": str(tasks[n % len(tasks)]), "period": "", "status": "进行中",
                            "note": "进展"}
                else:
                    data = {"nonce": f"h{n}", "task": str(ext_task), "period": "",
                            "new_due": (due + timedelta(days=n)).isoformat(), "reason": "理由"}
                data[field_name] = value
                before, files_before = world.counts(), world.stored_files()
                r = town.post(route, data, csrf=town.csrf)
                after, files_after = world.counts(), world.stored_files()
                table = "feedback" if route == "/u/feedback" else "extension"
                ok = (r.status_code == 200 and after[table] in (before[table], before[table] + 1)) or (
                    400 <= r.status_code < 500 and after == before and files_after == files_before
                    and "数据库" not in said(r) and "index row" not in said(r))  # bad input, not the database's words
                if not ok:
                    broken.append((route, field_name, what, r.status_code, said(r)[:60]))
    assert broken == [], broken


def test_a_units_sheet_imports_its_own_rows_only(world: World) -> None:
    """/u/sheet: a row of another town (alone or beside the unit's own), a department sending a town's 月报, or the
    other plan's sheet: refused whole, the database untouched; the unit's own row alone goes in."""
    town, dept = world.enter(world.case.town), world.enter(world.case.dept)
    other_town = world.case.other_town
    other_case = next(c for c in CASES.values() if c != world.case)
    fingerprint = dbs.content(world.url)
    refused = {"another town's row": (town, world.sheet([other_town])),
               "its own row beside another town's": (town, world.sheet([world.case.town, other_town])),
               "a department sending a town's 月报": (dept, world.sheet([world.case.town])),
               "the other plan's sheet": (town, world.sheet([other_case.town], other_case))}
    for what, (who, data) in refused.items():
        r = who.post("/u/sheet", {}, [("files", ("月报.csv", data, "text/csv"))], csrf=who.csrf)
        assert r.status_code == 400, (what, r.status_code, said(r))
        assert dbs.content(world.url) == fingerprint, what
    r = town.post("/u/sheet", {}, [("files", ("月报.csv", world.sheet([world.case.town]), "text/csv"))], csrf=town.csrf)
    assert r.status_code == 200 and said(r).startswith("已导入"), said(r)
    assert world.reports_of(world.case.town) == 1 and world.reports_of(other_town) == 0
    by = dbs.rows(world.url, 'SELECT DISTINCT "by", source FROM audit WHERE plan_id = :p AND entity = :e',
                  p=world.plan_id, e="monthly_report")
    assert by == [(f"{world.case.town} (专属链接)", "web testclient")], by


def test_a_units_sheet_cannot_silently_rewrite_what_was_recorded(world: World) -> None:
    """An import changes a recorded value only when told to (`fuquan import --replace`: "a late 月报 re-imported as
    on time must never happen silently"). A unit's own upload is an import: its 月报, recorded as sent on the day,
    may not be re-sent as sent a fortnight earlier."""
    town = world.enter(world.case.town)
    r = town.post("/u/sheet", {}, [("files", ("月报.csv", world.sheet([world.case.town]), "text/csv"))], csrf=town.csrf)
    assert r.status_code == 200, said(r)
    recorded = dbs.rows(world.url, "SELECT submitted_on FROM monthly_report WHERE town_id = :u",
                        u=world.unit_id(world.case.town))
    fingerprint = dbs.content(world.url)
    earlier = world.sheet([world.case.town], submitted=world.case.day - timedelta(days=14))
    r = town.post("/u/sheet", {}, [("files", ("月报.csv", earlier, "text/csv"))], csrf=town.csrf)
    assert r.status_code == 400, f"{r.status_code} {said(r)}: the unit rewrote its own 报送日期"
    assert dbs.content(world.url) == fingerprint
    assert dbs.rows(world.url, "SELECT submitted_on FROM monthly_report WHERE town_id = :u",
                    u=world.unit_id(world.case.town)) == recorded


def test_a_broken_sheet_is_refused_naming_the_file_not_a_server_path(world: World) -> None:
    town = world.enter(world.case.town)
    fingerprint = dbs.content(world.url)
    broken = {"我的月报.xlsx": b"PK\x03\x04" + b"\x00" * 64, "汇总.xlsx": zipped({"readme.txt": "x"}),
              "网页.xlsx": b"<html><script>alert(1)</script></html>", "表.csv": "乡镇,月份\n青山镇\x00,2024-03\n".encode()}
    for name, data in broken.items():
        r = town.post("/u/sheet", {}, [("files", (name, data, "application/octet-stream"))], csrf=town.csrf)
        assert r.status_code == 400, (name, r.status_code, said(r))
        message = said(r)
        assert "/tmp" not in message and "upload." not in message, f"the refusal shows a server path: {message}"
        assert name in message, f"the refusal does not name the file the unit sent: {message}"
        assert dbs.content(world.url) == fingerprint, name


@ONE_PLAN
def test_a_zip_bomb_is_refused_before_it_is_inflated(world: World) -> None:
    """A 64 KB "docx" whose [Content_Types].xml inflates to 64 MB (a 20 MB one would be 20 GB: the server's memory),
    as 佐证 and as a sheet: refused, nothing kept."""
    town = world.enter(world.case.town)
    before, fingerprint = world.counts(), dbs.content(world.url)
    docx_bomb = bomb("[Content_Types].xml", "vnd.openxmlformats-officedocument.wordprocessingml.document.main+xml")
    assert len(docx_bomb) < 200 * 1024
    r = _feedback(world, town, [("炸弹.docx", docx_bomb)], "bomb")
    assert r.status_code == 400, f"a 1000:1 archive was taken as 佐证: {r.status_code} {said(r)}"
    assert world.counts() == before and world.stored_files() == []
    sheet_bomb = bomb("xl/workbook.xml", "vnd.openxmlformats-officedocument.spreadsheetml.sheet.main+xml")
    r = town.post("/u/sheet", {}, [("files", ("炸弹.xlsx", sheet_bomb, "application/octet-stream"))], csrf=town.csrf)
    assert r.status_code == 400, (r.status_code, said(r))
    assert dbs.content(world.url) == fingerprint


# ── 6. the failed-link rate limit ────────────────────────────────────────────────────────────────────────────────


def test_twenty_bad_links_slow_the_address_but_good_links_open(world: World) -> None:
    good = world.token(world.case.town)
    c = world.client()
    for i in range(FAILS_ALLOWED):
        r = c.get(f"/l/{flip(good)}{i}")
        assert r.status_code == 403, (i, r.status_code)
    r = c.get(f"/l/{flip(good)}")
    assert r.status_code == 429 and "次数过多" in said(r)
    no_cookie(r, c)
    for token in (good, world.token(ZHUANBAN, MEMBER)):  # a good link always opens (behind a proxy: every unit)
        assert world.client().get(f"/l/{token}").status_code == 200
    # ten minutes later (by the app's clock) the address is told 链接无效 again, not 次数过多
    world.times[0] += timedelta(seconds=FAIL_WINDOW + 1)
    assert world.client().get(f"/l/{flip(good)}z").status_code == 403


# ── 7. double submission ─────────────────────────────────────────────────────────────────────────────────────────


def test_the_same_feedback_form_twice_records_once(world: World) -> None:
    town = world.enter(world.case.town)
    before = world.counts()
    first = _feedback(world, town, [("证明.pdf", PDF)], "twice-f")
    second = _feedback(world, town, [("证明.pdf", PDF)], "twice-f")
    assert first.status_code == 200 and second.status_code == 200, (said(first), said(second))
    assert "未重复登记" in said(second) and "未重复" not in said(first)
    after = world.counts()
    assert after["feedback"] == before["feedback"] + 1 and after["evidence"] == before["evidence"] + 1


def test_the_same_extension_form_twice_records_once(world: World) -> None:
    town = world.enter(world.case.town)
    task, due = world.extendable(world.case.town)
    form = {"nonce": "twice-e", "task": str(task), "period": "", "new_due": (due + timedelta(days=7)).isoformat(),
            "reason": "人手不足"}
    before = world.counts()
    first = town.post("/u/extension", form, csrf=town.csrf)
    second = town.post("/u/extension", form, csrf=town.csrf)
    assert first.status_code == 200 and second.status_code == 200, (said(first), said(second))
    assert "未重复登记" in said(second)
    assert world.counts()["extension"] == before["extension"] + 1


def test_acknowledging_twice(world: World) -> None:
    town = world.enter(world.case.town)
    message = world.messages(town.page)[0]
    before = world.counts()
    first = town.post("/u/ack", {"message": message}, csrf=town.csrf)
    assert first.status_code == 200 and said(first).startswith("已签收"), said(first)
    middle = world.counts()
    assert middle["ack"] > before["ack"]
    second = town.post("/u/ack", {"message": message}, csrf=town.csrf)
    assert second.status_code == 200 and "此前已签收" in said(second), said(second)
    assert world.counts() == middle
    assert message not in world.messages(town.client.get("/u").text)


def test_a_nonce_is_one_forms_not_another_kinds_or_units(world: World) -> None:
    """A nonce that one form used must not make a different form (another kind, another unit) report "已提交"
    while recording nothing."""
    town, dept = world.enter(world.case.town), world.enter(world.case.dept)
    task, due = world.extendable(world.case.town)
    assert _feedback(world, town, [("证明.pdf", PDF)], "shared-nonce").status_code == 200
    r = town.post("/u/extension", {"nonce": "shared-nonce", "task": str(task), "period": "",
                                   "new_due": (due + timedelta(days=7)).isoformat(), "reason": "人手不足"}, csrf=town.csrf)
    asked = dbs.rows(world.url, "SELECT count(*) FROM extension WHERE plan_id = :p AND unit_id = :u",
                     p=world.plan_id, u=world.unit_id(world.case.town))[0][0]
    assert r.status_code == 400 or asked == 1, f"the extension form said “{said(r)}” and recorded nothing"
    d_task = world.answerable(world.case.dept)[0]
    r = dept.post("/u/feedback", {"nonce": "shared-nonce", "task": str(d_task), "period": "", "status": "进行中",
                                  "note": "进展"}, csrf=dept.csrf)
    sent = dbs.rows(world.url, "SELECT count(*) FROM feedback WHERE plan_id = :p AND unit_id = :u",
                    p=world.plan_id, u=world.unit_id(world.case.dept))[0][0]
    assert r.status_code == 400 or sent == 1, f"another unit's feedback said “{said(r)}” and recorded nothing"


# ── 8. the audit trail ───────────────────────────────────────────────────────────────────────────────────────────


def test_audit_names_the_unit_link_the_office_member_and_the_address(world: World) -> None:
    town = world.enter(world.case.town)
    town.post("/u/ack", {"message": world.messages(town.page)[0]}, csrf=town.csrf)
    assert _feedback(world, town, [("证明.pdf", PDF)], "audit").status_code == 200
    office = world.enter(ZHUANBAN, MEMBER)
    fid = re.search(r'data-feedback="(\d+)"', office.page)
    assert fid, office.page
    r = office.post("/office/review", {"id": fid.group(1), "decision": "退回", "reason": "请补充盖章件"}, csrf=office.csrf)
    assert r.status_code == 200 and "已退回" in said(r), said(r)
    rows = set(dbs.rows(world.url, 'SELECT "by", source, entity, field FROM audit WHERE plan_id = :p AND source LIKE :s',
                        p=world.plan_id, s="web %"))
    unit_by = f"{world.case.town} (专属链接)"
    assert (unit_by, "web testclient", "ack", "签收") in rows, rows
    assert (unit_by, "web testclient", "feedback", "反馈") in rows, rows
    assert (f"专班 {MEMBER}", "web testclient", "feedback", "复核") in rows, rows
    assert {by for by, *_ in rows} == {unit_by, f"专班 {MEMBER}"}
