"""`fuquan web` behind a county's reverse proxy (the pen test of its 政务外网 set-up): the failed-link limit slows
forgers but never locks a good link out; X-Forwarded-For is believed only from FUQUAN_TRUSTED_PROXIES (uvicorn's own
handling, which believes 127.0.0.1, is off); a POST naming another site is refused; routing's 404/405 are our pages
with the security headers; the notify file (every unit's link) is its owner's only; a killed upload's temp file is
swept at start.

The database is test_security's (both plans synced and reminded once per module, copied per test), the clock is
injected, and apps with other settings are built on the same database.
"""

from __future__ import annotations

import os
import re
import stat
import subprocess
import sys
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import httpx
import pytest
import uvicorn
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import PlainTextResponse, Response
from starlette.testclient import TestClient

from cli.main import main
from fuquan.errors import InvalidValue
from fuquan.plans.policy import Destination
from fuquan.words.messages import Message, Section
from notifications.base import Outgoing
from notifications.console import ConsoleNotifier
from tests import dbs
from tests.conftest import ROOT
from tests.web.test_security import (
    BASE,
    MEMBER,
    ONE_PLAN,
    PDF,
    ROUTES,
    SECRET,
    ZHUANBAN,
    Session,
    World,
    _valid_form,
    flip,
    said,
    template,
    world,
)
from usecases import unit_links
from usecases.context import Context, open_context
from usecases.settings import Settings
from web import handlers
from web.app import make_app
from web.guard import COOKIE, FAIL_WINDOW, FAILS_ALLOWED, KEYS_KEPT, Failures, Proxies
from web.responses import HEADERS
from web.serve import UVICORN, build

FIXTURES = (template, world)  # test_security's, used here by name
PROXY = "10.0.0.5"


@contextmanager
def settings_app(world: World, monkeypatch: pytest.MonkeyPatch, **env: str) -> Iterator[tuple[Context, Starlette]]:
    """An app on the world's database and clock, with these environment variables set."""
    for name, value in env.items():
        monkeypatch.setenv(name, value)
    with open_context(Settings.from_env(), clock=lambda: world.times[0]) as ctx:
        ctx = ctx.choose(world.case.year, world.case.district)
        yield ctx, make_app(ctx)


def enter(client: TestClient, token: str, page: str = "/u") -> Session:
    r = client.get(f"/l/{token}")
    assert r.status_code == 200, (r.status_code, said(r))
    text = client.get(page).text
    m = re.search(r'name="csrf" value="([^"]+)"', text)
    assert m, text[:300]
    return Session(client, m.group(1), text)


def sources(world: World) -> set[str]:
    return {s for (s,) in dbs.rows(world.url, "SELECT DISTINCT source FROM audit WHERE plan_id = :p AND source "
                                              "LIKE :s", p=world.plan_id, s="web %")}


# ── 1. the failed-link limit slows forgers, never a good link ─────────────────────────────────────────────────────


def test_bad_links_from_an_address_never_lock_out_its_good_links(world: World) -> None:
    """Behind a proxy every unit has the proxy's address: a forger's twenty tries must not shut the county out."""
    good = world.token(world.case.town)
    c = world.client()
    for i in range(FAILS_ALLOWED):
        assert c.get(f"/l/{flip(good)}{i}").status_code == 403, i
    assert c.get(f"/l/{flip(good)}x").status_code == 429  # the forger is slowed …
    for holder, member, page in ((world.case.town, "", "/u"), (world.case.dept, "", "/u"), (ZHUANBAN, MEMBER, "/office")):
        s = world.client()  # … and every unit behind the same address still gets in
        r = s.get(f"/l/{world.token(holder, member)}")
        assert r.status_code == 200, (holder, r.status_code, said(r))
        assert COOKIE in s.cookies and s.get(page).status_code == 200, holder
    assert c.get(f"/l/{flip(good)}y").status_code == 429  # (good links used meanwhile wiped nothing)


def test_the_same_bad_link_from_many_addresses_is_limited_too(world: World) -> None:
    """A revoked link passed round (or one forged link tried from many addresses) is counted as a link."""
    old = world.token(world.case.town)
    unit_links.rotate_link(world.ctx, world.case.town, world.times[0], _actor())
    for i in range(FAILS_ALLOWED):
        r = TestClient(world.app, base_url=BASE, client=(f"192.0.2.{i + 1}", 50000)).get(f"/l/{old}")
        assert r.status_code == 403 and "失效" in said(r), (i, r.status_code, said(r))
    fresh = TestClient(world.app, base_url=BASE, client=("192.0.2.200", 50000))
    assert fresh.get(f"/l/{old}").status_code == 429
    assert fresh.get(f"/l/{flip(old)}").status_code == 403  # another bad link from that address: not yet limited
    assert fresh.get(f"/l/{world.token(world.case.town)}").status_code == 200  # the new link opens
    world.times[0] += timedelta(seconds=FAIL_WINDOW + 1)
    assert fresh.get(f"/l/{old}").status_code == 403  # ten minutes on (the app's clock), it is told why again


def _actor() -> Any:
    from fuquan.tracking.actor import Actor

    return Actor("测试", "test")


# ── 2. the client's address: X-Forwarded-For from trusted proxies only ───────────────────────────────────────────


@ONE_PLAN
def test_behind_a_trusted_proxy_the_forwarded_client_is_counted_and_audited(world: World,
                                                                             monkeypatch: pytest.MonkeyPatch) -> None:
    with settings_app(world, monkeypatch, FUQUAN_TRUSTED_PROXIES=f" {PROXY}, 10.9.0.0/16 ,") as (ctx, app):
        def via_proxy(client: str, forwarded: str = "") -> TestClient:
            headers = {"x-forwarded-for": forwarded} if forwarded else {}
            return TestClient(app, base_url=BASE, client=(client, 443), headers=headers,
                              raise_server_exceptions=False)

        # a forger behind the proxy (who also writes his own X-Forwarded-For): counted as himself
        forger = via_proxy(PROXY, "198.51.100.1, 203.0.113.9")
        bad = flip(world.token(world.case.town))
        for i in range(FAILS_ALLOWED):
            assert forger.get(f"/l/{bad}{i}").status_code == 403
        assert forger.get(f"/l/{bad}").status_code == 429
        assert via_proxy(PROXY, "203.0.113.10").get(f"/l/{bad}z").status_code == 403  # another client: not him
        # through two trusted proxies, and from an untrusted peer that names someone else
        town = enter(via_proxy("10.9.1.1", f"203.0.113.7, {PROXY}"), world.token(world.case.town))
        assert town.post("/u/ack", {"message": world.messages(town.page)[0]}, csrf=town.csrf).status_code == 200
        dept = enter(via_proxy("10.0.0.6", "203.0.113.8"), world.token(world.case.dept))
        assert dept.post("/u/ack", {"message": world.messages(dept.page)[0]}, csrf=dept.csrf).status_code == 200
    assert sources(world) == {"web 203.0.113.7", "web 10.0.0.6"}


@pytest.mark.parametrize(("peer", "forwarded", "client"), [
    ("203.0.113.1", ["198.51.100.1"], "203.0.113.1"),  # not a proxy of ours: the header is the client's word
    ("testclient", ["198.51.100.1"], "testclient"),
    (PROXY, [], PROXY),  # our proxy, no header
    (PROXY, ["198.51.100.1"], "198.51.100.1"),
    (PROXY, ["6.6.6.6, 198.51.100.1"], "198.51.100.1"),  # what the client made up is left of it
    (PROXY, ["6.6.6.6", "198.51.100.1"], "198.51.100.1"),  # (two headers: one list)
    (PROXY, ["198.51.100.1, 10.9.0.3"], "198.51.100.1"),  # through two proxies of ours
    (PROXY, ["10.9.0.3"], "10.9.0.3"),  # every hop ours: the farthest
    (PROXY, ["198.51.100.1:4711"], "198.51.100.1"),  # with a port
    (PROXY, ["[2001:db8::1]:443"], "2001:db8::1"),
    (PROXY, ["2001:db8::2"], "2001:db8::2"),
    (PROXY, ["unknown"], PROXY),  # nothing usable: the proxy itself
    (PROXY, ["198.51.100.1, <script>"], PROXY),
    ("::1", ["198.51.100.1"], "::1"),  # loopback is no proxy unless named
    ("::ffff:10.0.0.5", ["198.51.100.1"], "198.51.100.1"),  # (our proxy, seen on a dual-stack socket)
])
def test_which_address_is_the_clients(peer: str, forwarded: list[str], client: str) -> None:
    assert Proxies([PROXY, "10.9.0.0/16"]).client(peer, forwarded) == client


def test_forgers_links_are_remembered_in_bounded_memory() -> None:
    fails = Failures()
    for i in range(KEYS_KEPT * 2):
        fails.add(f"forged-{i}", 1000.0)
    assert len(fails._times) <= KEYS_KEPT
    for _ in range(FAILS_ALLOWED):
        fails.add("forger", 1000.0)
    assert fails.over("forger", 1000.0 + FAIL_WINDOW) and not fails.over("forger", 1000.0 + FAIL_WINDOW + 1)


def test_trusted_proxies_are_read_from_the_environment_and_a_bad_one_stops_the_start() -> None:
    assert Settings.from_env({}).trusted_proxies == ()
    assert Settings.from_env({"FUQUAN_TRUSTED_PROXIES": "10.0.0.5, 10.1.0.0/16,,"}).trusted_proxies == (
        "10.0.0.5", "10.1.0.0/16")
    with pytest.raises(InvalidValue, match="FUQUAN_TRUSTED_PROXIES: “proxy.lan”"):
        Proxies(["10.0.0.5", "proxy.lan"])


@ONE_PLAN
def test_a_bad_trusted_proxy_setting_stops_fuquan_web(world: World, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("FUQUAN_TRUSTED_PROXIES", "10.0.0.5;10.0.0.6")
    with open_context(Settings.from_env(), clock=lambda: world.times[0]) as ctx:
        with pytest.raises(InvalidValue, match="10.0.0.5;10.0.0.6"):
            build(ctx.choose(world.case.year, world.case.district))


@ONE_PLAN
def test_uvicorn_does_not_believe_forwarded_headers_from_localhost(world: World) -> None:
    """uvicorn's default believes X-Forwarded-For from 127.0.0.1: anything on the machine could then try links
    under made-up addresses without limit, and put any address into the audit. Served as `fuquan web` serves it."""
    with socket_port() as port, served(world.app, port):
        base = f"http://127.0.0.1:{port}"
        bad = flip(world.token(world.case.town))
        codes = [httpx.get(f"{base}/l/{bad}{i}", headers={"x-forwarded-for": f"198.51.100.{i + 1}"}).status_code
                 for i in range(FAILS_ALLOWED + 1)]
        assert codes == [403] * FAILS_ALLOWED + [429]
        with httpx.Client(base_url=base, headers={"x-forwarded-for": "198.51.100.77"}) as c:
            r = c.get(f"/l/{world.token(world.case.town)}")  # (the good link opens all the same)
            assert r.status_code == 200
            page = c.get("/u").text
            csrf = re.search(r'name="csrf" value="([^"]+)"', page)
            assert csrf
            r = c.post("/u/ack", data={"message": world.messages(page)[0], "csrf": csrf.group(1)})
            assert r.status_code == 200 and "server" not in r.headers, (r.status_code, r.headers)
    assert sources(world) == {"web 127.0.0.1"}


def test_fuquan_web_serves_without_uvicorns_proxy_headers(db_url: str, tmp_path: Path,
                                                           monkeypatch: pytest.MonkeyPatch) -> None:
    got: dict[str, Any] = {}
    monkeypatch.setattr(uvicorn, "run", lambda app, **kw: got.update(kw))
    monkeypatch.setenv("FUQUAN_DATA_DIR", str(tmp_path))
    monkeypatch.setenv("FUQUAN_LINK_SECRET", SECRET)
    monkeypatch.delenv("SLACK_BOT_TOKEN", raising=False)
    monkeypatch.delenv("SLACK_APP_TOKEN", raising=False)
    assert main(["web", "--port", "8399"]) == 0
    assert got.get("proxy_headers") is False and got.get("host") == "127.0.0.1", got


@contextmanager
def socket_port() -> Iterator[int]:
    import socket

    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = int(s.getsockname()[1])
    yield port


@contextmanager
def served(app: Starlette, port: int) -> Iterator[None]:
    server = uvicorn.Server(uvicorn.Config(app, host="127.0.0.1", port=port, **UVICORN))
    thread = threading.Thread(target=server.run, name="fuquan-web-edges", daemon=True)
    thread.start()
    try:
        for _ in range(300):  # (waits on the server, not on a clock the app reads)
            if server.started or not thread.is_alive():
                break
            time.sleep(0.05)
        assert server.started, "the web app did not start"
        yield
    finally:
        server.should_exit = True
        thread.join(15)


@ONE_PLAN
def test_the_session_cookie_is_secure_when_the_site_is_https_even_if_the_proxy_speaks_http(
        world: World, monkeypatch: pytest.MonkeyPatch) -> None:
    with settings_app(world, monkeypatch, FUQUAN_WEB_URL="https://fuquan.example.gov.cn") as (_, app):
        r = TestClient(app, base_url=BASE).get(f"/l/{world.token(world.case.town)}")  # (the proxy → app hop: http)
        assert r.status_code == 200
        assert "secure" in [p.strip().lower() for p in r.headers["set-cookie"].split(";")]
    r = world.client().get(f"/l/{world.token(world.case.town)}")
    assert "secure" not in [p.strip().lower() for p in r.headers["set-cookie"].split(";")]  # plain http: a browser
    # would drop a Secure cookie


# ── 3. a POST from another site ──────────────────────────────────────────────────────────────────────────────────


@pytest.mark.parametrize("route", ROUTES)
def test_a_post_naming_another_site_is_refused_and_records_nothing(world: World, route: str) -> None:
    seeded = world.seed(world.case.dept)
    town = world.enter(world.case.town)
    me = world.enter(ZHUANBAN) if route in ("/decide", "/office/review") else town
    before, files_before = world.counts(), world.stored_files()
    foreign = {"Origin": {"origin": "https://evil.example"},
               "Origin, our host on another port": {"origin": "http://127.0.0.1:8301"},
               "Origin, our host over https": {"origin": "https://127.0.0.1:8300"},
               "Origin, garbage": {"origin": "127.0.0.1:8300"},
               "Referer without Origin": {"referer": "https://evil.example/form.html"},
               "Origin null, Referer elsewhere": {"origin": "null", "referer": "http://evil.example/"},
               "Origin elsewhere, Referer ours": {"origin": "http://evil.example", "referer": f"{BASE}/u"}}
    for n, (what, headers) in enumerate(foreign.items()):
        form = _valid_form(world, route, town, seeded, n)
        r = me.client.post(route, data={**form["data"], "csrf": me.csrf}, files=form.get("files"), headers=headers)
        assert r.status_code == 403, (what, r.status_code, said(r))
        assert "其他网站" in said(r) and r.headers["x-frame-options"] == "DENY", (what, said(r))
        assert world.counts() == before and world.stored_files() == files_before, what
    form = _valid_form(world, route, town, seeded, 99)  # the control: from our own site, it goes through
    r = me.client.post(route, data={**form["data"], "csrf": me.csrf}, files=form.get("files"),
                       headers={"origin": BASE, "referer": f"{BASE}/u"})
    assert r.status_code == 200, said(r)


@ONE_PLAN
def test_posts_from_our_own_pages_still_go_through(world: World, monkeypatch: pytest.MonkeyPatch) -> None:
    """Our pages send no referrer, so a browser's own form says `Origin: null` (or nothing): those stand on the CSRF
    token, as before. Our origin however written (default port, capitals) is ours."""
    town = world.enter(world.case.town)
    message = world.messages(town.page)[0]
    for headers in ({"origin": "null"}, {}, {"origin": "http://127.0.0.1:8300"}, {"origin": "HTTP://127.0.0.1:8300"},
                    {"referer": f"{BASE}/u"}):
        r = town.client.post("/u/ack", data={"message": message, "csrf": town.csrf}, headers=headers)
        assert r.status_code == 200 and "签收" in said(r), (headers, said(r))  # (已签收, then 此前已签收)
    r = town.client.post("/u/ack", data={"message": message, "csrf": "x"}, headers={"origin": "null"})
    assert r.status_code == 400 and "CSRF" in said(r)  # neither says where: the token alone decides
    with settings_app(world, monkeypatch, FUQUAN_WEB_URL="https://Fuquan.Example.gov.cn/") as (_, app):
        c = TestClient(app, base_url="https://fuquan.example.gov.cn")
        s = enter(c, world.token(world.case.dept))
        form = {"message": world.messages(s.page)[0], "csrf": s.csrf}
        for origin in ("https://fuquan.example.gov.cn", "https://FUQUAN.example.gov.cn:443"):
            r = c.post("/u/ack", data=form, headers={"origin": origin})
            assert r.status_code == 200 and "签收" in said(r), (origin, said(r))
        r = c.post("/u/ack", data=form, headers={"origin": "http://fuquan.example.gov.cn"})
        assert r.status_code == 403  # (plain http is another origin)


@ONE_PLAN
def test_slacks_signed_request_url_is_exempt(world: World) -> None:
    async def slack(request: Request) -> Response:
        return PlainTextResponse("reached")

    app = make_app(world.ctx, slack)
    r = TestClient(app, base_url=BASE).post("/slack/actions", content=b"payload=x",
                                            headers={"origin": "https://slack.com"})
    assert r.status_code == 200 and r.text == "reached"


# ── 4. routing's refusals are our pages ──────────────────────────────────────────────────────────────────────────


@ONE_PLAN
def test_404_and_405_are_chinese_pages_with_the_security_headers(world: World) -> None:
    c = world.client()
    town = world.enter(world.case.town)
    got = {"no such page": (c.get("/nope"), 404, "页面不存在"), "no token": (c.get("/l/"), 404, "页面不存在"),
           "a deep path": (town.client.get("/u/ack/1"), 404, "页面不存在"),
           "GET a form's route": (town.client.get("/u/ack"), 405, "不支持该请求方式"),
           "POST the home page": (c.post("/", headers={"origin": BASE}), 405, "不支持该请求方式"),
           "DELETE a page": (town.client.delete("/u"), 405, "不支持该请求方式")}
    for what, (r, status, title) in got.items():
        assert r.status_code == status, (what, r.status_code)
        assert f"<title>{title}</title>" in r.text and r.headers["content-type"].startswith("text/html"), (what, r.text)
        assert {k.lower(): v for k, v in HEADERS.items()}.items() <= dict(r.headers).items(), (what, r.headers)
    assert got["GET a form's route"][0].headers["allow"] == "POST"


@ONE_PLAN
def test_a_crash_is_a_chinese_page_with_the_security_headers(world: World, monkeypatch: pytest.MonkeyPatch) -> None:
    async def broken(request: Request, v: Any) -> Response:
        raise RuntimeError("boom at /tmp/secret/path")

    monkeypatch.setattr(handlers, "unit", broken)
    c = TestClient(make_app(world.ctx), base_url=BASE, raise_server_exceptions=False)
    assert c.get(f"/l/{world.token(world.case.town)}").status_code == 200
    r = c.get("/u")
    assert r.status_code == 500 and "<title>系统出错</title>" in r.text and "/tmp" not in r.text, r.text
    assert r.headers["x-frame-options"] == "DENY" and r.headers["cache-control"] == "no-store"


# ── 5. the notify file is its owner's only ───────────────────────────────────────────────────────────────────────


def test_remind_writes_the_notify_file_for_its_owner_only(run, write_plan, tmp_path: Path,  # type: ignore[no-untyped-def]
                                                           monkeypatch: pytest.MonkeyPatch) -> None:
    for name in ("SLACK_BOT_TOKEN", "FUQUAN_NOTIFY_FILE", "FUQUAN_CONFIG", "FUQUAN_WEB_URL"):
        monkeypatch.delenv(name, raising=False)
    monkeypatch.setenv("FUQUAN_DATA_DIR", str(tmp_path / "data"))
    monkeypatch.setenv("FUQUAN_LINK_SECRET", SECRET)
    old = os.umask(0o022)  # (a usual umask: files 0644 unless made otherwise)
    try:
        assert run("sync", "--config", str(write_plan())).code == 0
        sent = run("remind", "--today", "2023-05-10", "--force")
    finally:
        os.umask(old)
    assert sent.code == 0, sent.err
    notify = tmp_path / "data" / "notifications.md"
    assert "/l/" in notify.read_text(encoding="utf-8")  # (the personal links it guards)
    assert stat.S_IMODE(notify.stat().st_mode) == 0o600


def test_an_existing_notify_file_is_tightened_and_kept(tmp_path: Path) -> None:
    notify = tmp_path / "notifications.md"
    notify.write_text("前一天的提醒\n", encoding="utf-8")
    notify.chmod(0o644)
    out = Outgoing("k1", Destination("console", "甲镇"), Message("甲镇", "标题", (Section("已逾期", ("任务1",)),)),
                   datetime(2023, 5, 10, tzinfo=UTC), link=f"{BASE}/l/abc.def")
    ConsoleNotifier(notify, stream=open(os.devnull, "w", encoding="utf-8")).send(out)  # noqa: SIM115
    assert stat.S_IMODE(notify.stat().st_mode) == 0o600
    text = notify.read_text(encoding="utf-8")
    assert text.startswith("前一天的提醒\n") and "<!-- k1 -->" in text and "/l/abc.def" in text


# ── 6. a killed upload's temp file ───────────────────────────────────────────────────────────────────────────────

KILLED_UPLOAD = """
import os, signal, sys
from pathlib import Path
from types import SimpleNamespace
from fuquan.answers.uploads import Upload
from usecases import evidence
evidence.os.replace = lambda *a, **k: os.kill(os.getpid(), signal.SIGKILL)  # killed between writing and renaming
evidence.store(SimpleNamespace(settings=SimpleNamespace(data_dir=Path(sys.argv[1]))), Upload("证明.pdf", PDF))
"""


@ONE_PLAN
def test_a_killed_uploads_temp_file_is_swept_when_fuquan_web_starts(world: World) -> None:
    started = world.times[0]
    done = subprocess.run([sys.executable, "-c", f"PDF = {PDF!r}\n{KILLED_UPLOAD}", str(world.data)], cwd=ROOT,
                          capture_output=True, check=False, timeout=60)
    assert done.returncode == -9, done.stderr.decode()
    left = world.stored_files()
    assert len(left) == 1 and left[0].name.startswith(".upload-") and left[0].name.endswith(".part"), left
    folder = left[0].parent
    others = {"blob": folder / ("a" * 64), "note": folder / "说明.txt", "legacy": folder / "tmpab_12xyz",
              "fresh": folder / ".upload-fresh123.part", "not ours": folder / "x.upload-old.part"}
    for path in others.values():
        path.write_bytes(b"x")
    for path in [left[0], *others.values()]:  # before this start, but for one written since
        t = (started + (timedelta(seconds=5) if path is others["fresh"] else -timedelta(hours=1))).timestamp()
        os.utime(path, (t, t))
    link = folder / ".upload-link1234.part"
    link.symlink_to(others["blob"])
    app, stop = build(world.ctx)
    stop()
    assert sorted(p.name for p in folder.iterdir()) == sorted(
        p.name for p in (others["blob"], others["note"], others["fresh"], others["not ours"], link))
