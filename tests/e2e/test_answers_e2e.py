"""End to end, in headless Chromium (the issue's acceptance point): a town opens its personal link, acknowledges
(签收) its reminder, sends 反馈 with a PDF and asks for an extension; the 专班 (member 李明) approves the feedback
and refuses the extension. `fuquan status --json` and the 今日督办 board then show the result, and the audit names
each actor. Real mouse clicks, typed text and a file chosen as the file dialog would: a button hidden, folded
away or covered cannot be clicked.

The web app runs in-process (uvicorn in a thread, on 127.0.0.1) over a context whose clock is fixed, so the
pages judge 2024-04-10 as the CLI does. On the qingshan-2024 plan (县, 乡镇（街道）).

FUQUAN_SCREENSHOTS=docs writes the README's pictures: unit-page.png (the town's page after its answers, tagged
待复核 and 延期待批) and office-page.png (the 专班's page before it decides)."""

from __future__ import annotations

import json
import os
import re
import shutil
import threading
import time
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, date, datetime
from pathlib import Path
from urllib.parse import quote

import pytest
import uvicorn

from models.db import reading
from reports import board
from reports.status import snapshot
from tests import dbs
from tests.conftest import ROOT
from tests.e2e.cdp import CHROMIUM, Browser, _free_port
from usecases import unit_links
from usecases.context import Context, open_context
from usecases.settings import Settings
from web.app import make_app

pytestmark = pytest.mark.skipif(CHROMIUM is None, reason="Debian chromium is not installed (make test installs it)")

PLAN = ROOT / "tests" / "plans" / "qingshan-2024.yaml"
TODAY = "2024-04-10"
NOW = datetime(2024, 4, 10, 2, 0, tzinfo=UTC)  # 10:00 in 青山县 (Asia/Shanghai)
TOWN, MEMBER = "青山镇", "李明"
FEEDBACK_TASK, EXTENSION_TASK = 4, 12  # 5月底前; 4月至6月 (due 2024-06-30)
PDF_NAME = "执法队挂牌证明.pdf"


@dataclass
class Site:
    ctx: Context
    base: str


@pytest.fixture
def site(db_url: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch, run) -> Iterator[Site]:  # type: ignore[no-untyped-def]
    """The plan synced, the day's reminders sent (console: no channel configured), and the web app serving."""
    port = _free_port()
    base = f"http://127.0.0.1:{port}"
    for key, value in {"FUQUAN_DATA_DIR": str(tmp_path), "FUQUAN_CONFIG": str(PLAN), "FUQUAN_WEB_URL": base,
                       "FUQUAN_LINK_SECRET": "e2e-link-secret-not-for-production"}.items():
        monkeypatch.setenv(key, value)
    monkeypatch.delenv("SLACK_BOT_TOKEN", raising=False)
    synced = run("sync", "--config", str(PLAN))
    assert synced.code == 0, synced.err
    sent = run("remind", "--today", TODAY, "--force")
    assert sent.code == 0, sent.err
    # the town's reminder carries its personal link, to this server
    assert re.search(f"── 发给 {TOWN} ──.*?请点击: {re.escape(base)}/l/\\S+", sent.out, re.S), sent.out[-3000:]
    with open_context(Settings.from_env(), clock=lambda: NOW) as opened:
        ctx = opened.choose()
        server = uvicorn.Server(uvicorn.Config(make_app(ctx), host="127.0.0.1", port=port, log_level="warning",
                                               access_log=False))
        thread = threading.Thread(target=server.run, name="fuquan-web", daemon=True)
        thread.start()
        try:
            end = time.monotonic() + 15
            while not server.started:
                assert thread.is_alive() and time.monotonic() < end, "the web app did not start"
                time.sleep(0.05)
            yield Site(ctx, base)
        finally:
            server.should_exit = True
            thread.join(15)


@pytest.fixture
def browser() -> Iterator[Browser]:
    with Browser() as b:
        b.size(1280, 800)
        yield b


def small_pdf() -> bytes:
    """A valid one-page PDF (cross-reference table and all), as a scanner would give."""
    text = b"BT /F1 18 Tf 72 770 Td (Qingshan: law enforcement team set up) Tj ET"
    objects = [b"<< /Type /Catalog /Pages 2 0 R >>", b"<< /Type /Pages /Kids [3 0 R] /Count 1 >>",
               b"<< /Type /Page /Parent 2 0 R /MediaBox [0 0 595 842] /Contents 4 0 R"
               b" /Resources << /Font << /F1 5 0 R >> >> >>",
               b"<< /Length %d >>\nstream\n%s\nendstream" % (len(text), text),
               b"<< /Type /Font /Subtype /Type1 /BaseFont /Helvetica >>"]
    out, offsets = bytearray(b"%PDF-1.4\n"), []
    for n, body in enumerate(objects, 1):
        offsets.append(len(out))
        out += b"%d 0 obj\n%s\nendobj\n" % (n, body)
    xref = len(out)
    out += b"xref\n0 %d\n0000000000 65535 f \n" % (len(objects) + 1)
    out += b"".join(b"%010d 00000 n \n" % o for o in offsets)
    out += b"trailer\n<< /Size %d /Root 1 0 R >>\nstartxref\n%d\n%%%%EOF\n" % (len(objects) + 1, xref)
    return bytes(out)


def shoot(browser: Browser, name: str, tmp: Path, *, whole: bool = False) -> None:
    shot = tmp / name
    browser.screenshot_page(shot) if whole else browser.screenshot(shot)
    assert shot.stat().st_size > 20_000, name
    if target := os.environ.get("FUQUAN_SCREENSHOTS"):  # the README's pictures
        shutil.copy(shot, Path(target) / name)


def arrive(browser: Browser, base: str, path: str) -> None:
    """Wait until the browser shows `path` of the app, whole (a result page, or a page after a redirect)."""
    browser.wait_for(f"location.href === {json.dumps(base + path)} && document.readyState === 'complete'"
                     " && document.querySelector('header h1')", timeout=15)


def said(browser: Browser, base: str, path: str) -> str:
    """A form's result page: its message, once the browser has it."""
    arrive(browser, base, path)
    return browser.text("#message") or ""


def back(browser: Browser, base: str, path: str) -> None:
    """The result page's 返回 link, clicked."""
    browser.click(f'a[href="{path}"]')
    arrive(browser, base, path)


def fits(browser: Browser) -> int:
    """How far the page scrolls sideways (0: it fits the window)."""
    return int(browser.js("document.documentElement.scrollWidth - innerWidth"))


def board_of(ctx: Context) -> str:
    """今日督办 and its by-town and by-unit detail table."""
    with reading(ctx.engine) as session:
        snap = snapshot(session, ctx.plan, date.fromisoformat(TODAY))
    return board.markdown(snap, []) + "\n\n" + board.rollup_tables(snap)


def cells(markdown: str, first: str) -> list[str]:
    """The cells of the board's table row whose first cell is `first` (the first such row)."""
    line = next(x for x in markdown.splitlines() if x.startswith(f"| {first} |"))
    return [c.strip() for c in line.strip("|").split("|")]


def test_a_town_answers_and_the_office_decides(site: Site, browser: Browser, run, db_url: str,  # type: ignore[no-untyped-def]
                                              tmp_path: Path) -> None:
    base = site.base
    pdf = tmp_path / PDF_NAME
    pdf.write_bytes(small_pdf())

    # The town clicks its link on a page of another site (as in Slack's web client): a session cookie (SameSite
    # strict, yet set and then sent), then its page, the token gone from the address bar.
    link = unit_links.personal_link(site.ctx, TOWN, NOW)
    browser.call("Page.navigate", url="data:text/html;charset=utf-8," + quote(f'<a id="link" href="{link}">进入</a>'))
    browser.wait_for("document.querySelector('#link')", timeout=15)
    browser.click("#link")
    arrive(browser, base, "/u")
    assert TOWN in browser.text("header h1")  # type: ignore[operator]
    assert browser.js("document.cookie") == ""  # the session is HttpOnly
    assert fits(browser) <= 0, "the town's page scrolls sideways at 1280 px"

    # 签收 its reminder
    assert browser.js("document.querySelectorAll('#reminders form[action=\"/u/ack\"]').length") >= 1
    browser.click('#reminders form[action="/u/ack"] button')
    assert re.fullmatch(r"已签收该提醒 \(含 \d+ 项事项\)", said(browser, base, "/u/ack"))
    back(browser, base, "/u")
    assert browser.text("#reminders").endswith("没有待签收的提醒。")  # type: ignore[union-attr]

    # Which rows can be answered: an open share can ask for more time only before its due date.
    extendable = browser.js("[...document.querySelectorAll('tr[data-task]')].filter(tr => "
                            "tr.querySelector('details.extension')).map(tr => +tr.dataset.task)")
    assert FEEDBACK_TASK in extendable and EXTENSION_TASK in extendable, extendable
    assert 1 not in extendable and 3 not in extendable  # 2月底前: overdue since the plan was issued

    # 反馈进展 on task 4, with the PDF
    row = f'tr[data-task="{FEEDBACK_TASK}"] details.feedback'
    browser.click(f"{row} summary")
    browser.fill(f"{row} textarea[name=note]", "综合行政执法队已组建, 4月8日挂牌运行")
    assert browser.js(f"document.querySelector('{row} select[name=status]').value") == "已完成"
    browser.choose_files(f"{row} input[type=file]", pdf)
    assert browser.js(f"document.querySelector('{row} input[type=file]').files[0].name") == PDF_NAME
    browser.click(f"{row} button[type=submit]")
    assert said(browser, base, "/u/feedback") == "反馈已提交, 等待工作专班复核"
    back(browser, base, "/u")

    # 申请延期 on task 12 (due 2024-06-30)
    row = f'tr[data-task="{EXTENSION_TASK}"] details.extension'
    browser.click(f"{row} summary")
    browser.set_value(f"{row} input[name=new_due]", "2024-07-15")  # what the date picker would set
    browser.fill(f"{row} textarea[name=reason]", "专项行动涉及案卷较多, 需延长半个月")
    browser.click(f"{row} button[type=submit]")
    assert re.fullmatch(r"延期申请已提交, 工作专班将于 2024-04-\d\d 前答复", said(browser, base, "/u/extension"))
    back(browser, base, "/u")

    # The town's page now says where both stand.
    assert "待复核" in browser.text(f'tr[data-task="{FEEDBACK_TASK}"]')  # type: ignore[operator]
    assert "延期待批" in browser.text(f'tr[data-task="{EXTENSION_TASK}"]')  # type: ignore[operator]
    assert browser.js(f"!document.querySelector('tr[data-task=\"{EXTENSION_TASK}\"] details.extension')")
    assert browser.text('#history a[href^="/files/"]') == PDF_NAME
    assert fits(browser) <= 0, "the town's page scrolls sideways at 1280 px"
    shoot(browser, "unit-page.png", tmp_path, whole=True)
    before = board_of(site.ctx)

    # The 专班: another browser (no cookie of the town's), member 李明's own link.
    browser.clear_cookies()
    browser.call("Page.navigate", url=base + "/u")  # no session, no page
    browser.wait_for("document.querySelector('#message')?.innerText.includes('请重新点击督办消息中的专属链接')", timeout=15)
    browser.call("Page.navigate", url=unit_links.personal_link(site.ctx, "专班", NOW, member=MEMBER))
    arrive(browser, base, "/office/board")  # a member's link opens the board; its 反馈与审批 link the queues
    assert "督办看板" in browser.text("header")  # type: ignore[operator]
    browser.call("Page.navigate", url=base + "/office")
    arrive(browser, base, "/office")
    assert f"当前办理人: {MEMBER}" in browser.text("header")  # type: ignore[operator]
    assert browser.js("document.querySelectorAll('tr[data-feedback]').length") == 1
    fb = browser.text("tr[data-feedback]") or ""
    assert TOWN in fb and f"{FEEDBACK_TASK}. " in fb and "4月8日挂牌运行" in fb, fb
    assert browser.text('tr[data-feedback] a[href^="/files/"]') == PDF_NAME
    got = browser.js("fetch(document.querySelector('tr[data-feedback] a[href^=\"/files/\"]').href).then(async r => "
                     "({status: r.status, type: r.headers.get('content-type'), "
                     "start: new TextDecoder().decode((await r.arrayBuffer()).slice(0, 5))}))")
    assert got == {"status": 200, "type": "application/pdf", "start": "%PDF-"}, got
    assert browser.js("document.querySelectorAll('tr[data-extension]').length") == 1
    ext = browser.text("tr[data-extension]") or ""
    assert TOWN in ext and "2024-06-30" in ext and "2024-07-15" in ext and "需延长半个月" in ext, ext
    assert fits(browser) <= 0, "the 专班's page scrolls sideways at 1280 px"
    browser.js("document.querySelector('#review').scrollIntoView({block: 'start'})")  # the queues, not the 未签收 list
    shoot(browser, "office-page.png", tmp_path)

    # 通过 the feedback; 不批准 the extension, with a reason
    browser.click('tr[data-feedback] button[value="通过"]')
    assert said(browser, base, "/office/review").startswith(f"已通过: {TOWN} 任务{FEEDBACK_TASK}; 按单位报告的完成日期 ")
    back(browser, base, "/office")
    browser.fill("tr[data-extension] input[name=reason]", "专项行动时限为省级统一要求, 不能调整")
    browser.click('tr[data-extension] button[value="不批准"]')
    assert said(browser, base, "/decide").startswith(f"未批准: {TOWN} 任务{EXTENSION_TASK}")
    back(browser, base, "/office")
    assert browser.text("#review").endswith("没有待复核的反馈。")  # type: ignore[union-attr]
    assert browser.text("#extensions").endswith("没有待批的延期申请。")  # type: ignore[union-attr]
    decided = browser.text("#decided") or ""
    assert decided.count(f"专班 {MEMBER}") == 2 and "不能调整" in decided, decided

    # `fuquan status --json`: task 4 done on the day of its feedback; the refused extension leaves the due date.
    status = run("status", "--json", "--today", TODAY)
    assert status.code == 0, status.err
    rows = {r["task"]: r for r in json.loads(status.out)["rows"] if r["unit"] == TOWN and not r["label"]}
    assert (rows[FEEDBACK_TASK]["colour"], rows[FEEDBACK_TASK]["completed_on"], rows[FEEDBACK_TASK]["review"]) == \
        ("已完成", TODAY, "")
    assert (rows[EXTENSION_TASK]["colour"], rows[EXTENSION_TASK]["due"], rows[EXTENSION_TASK]["extension"]) == \
        ("绿", "2024-06-30", "不批准")

    # The audit names each actor, and where it acted from.
    audit = dbs.rows(db_url, 'SELECT "by", source, entity, field FROM audit WHERE entity IN '
                             "('ack', 'feedback', 'extension', 'assignment') ORDER BY id")
    web = "web 127.0.0.1"
    by_town, by_office = f"{TOWN} (专属链接)", f"专班 {MEMBER}"
    assert [a for a in audit if a[2] != "assignment"] == [
        (by_town, web, "ack", "签收"), (by_town, web, "feedback", "反馈"), (by_town, web, "extension", "申请延期"),
        (by_office, web, "feedback", "复核"), (by_office, web, "extension", "延期审批")], audit
    assert (by_office, web, "assignment", "status") in audit  # the accepted feedback, recorded as the share's status

    # The board (pure: rendered here, as `fuquan run deadline-check` would publish it): the town has one more
    # share done; while the 专班 had not decided, it counted what waited.
    after = board_of(site.ctx)
    done = cells(after, "乡镇（街道）").index("已完成")
    was, now = cells(before, TOWN)[done].split("/"), cells(after, TOWN)[done].split("/")
    assert (int(now[0]), now[1]) == (int(was[0]) + 1, was[1]), (was, now)
    assert "待复核 1 项 · 延期待批 1 项" in before, before  # its line on the units' answers
    assert "待复核" not in after and "延期待批" not in after, after
