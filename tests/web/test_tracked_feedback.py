"""A share judged from tracked items is answered item by item through the web pages: a town reports one owed
承接确认书 (date and 文号), the 专班 approves it, and the letter is recorded as `fuquan letter sign` would; a 月报
month asks for more time by its period and the granted date moves that month only; a closed plan year shows its
pages read-only and refuses every POST with 409. On both plans, through the app, with injected time."""

from __future__ import annotations

import json
import re
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from pathlib import Path

import pytest
from starlette.testclient import TestClient

from fuquan.tracking.actor import Actor
from tests import dbs
from tests.conftest import ROOT
from usecases import pages, unit_links
from usecases.commands import ClosePlan
from usecases.context import Context, open_context
from usecases.plans import close_plan
from usecases.settings import Settings
from web.app import make_app

# (plan file, a working day, a town, its letters task, its 月报 task)
CASES = {
    "qingshan": ("qingshan-2024.yaml", date(2024, 4, 10), "青山镇", 2, 15),
    "wanzhi": ("wanzhi-2023.yaml", date(2023, 5, 10), "湾沚镇", 2, 14),
}
TABLES = ("feedback", "extension", "ack", "evidence", "letter", "monthly_report")


@dataclass
class Site:
    ctx: Context
    url: str
    day: date
    town: str
    letters: int
    reports: int

    def enter(self, holder: str) -> tuple[TestClient, str, str]:
        """A browser that followed `holder`'s link: (client, its page, the page's CSRF token)."""
        c = TestClient(make_app(self.ctx), base_url="http://127.0.0.1:8300", raise_server_exceptions=False)
        token = unit_links.personal_link(self.ctx, holder, self.ctx.now(), "李明" if holder == "专班" else "")
        assert c.get(token.removeprefix("http://127.0.0.1:8300")).status_code == 200
        page = c.get("/office" if holder == "专班" else "/u")
        assert page.status_code == 200, page.text
        m = re.search(r'name="csrf" value="([^"]+)"', page.text)
        return c, page.text, m.group(1) if m else ""

    def counts(self) -> dict[str, int]:
        sql = "SELECT " + ", ".join(f"(SELECT count(*) FROM {t})" for t in TABLES)
        return dict(zip(TABLES, dbs.rows(self.url, sql)[0], strict=True))


@pytest.fixture(params=list(CASES))
def site(request: pytest.FixtureRequest, run, db_url: str, tmp_path: Path,  # type: ignore[no-untyped-def]
         monkeypatch: pytest.MonkeyPatch) -> Iterator[Site]:
    file, day, town, letters, reports = CASES[request.param]
    for name in ("SLACK_BOT_TOKEN", "SLACK_APP_TOKEN", "SLACK_SIGNING_SECRET", "FUQUAN_WEB_URL", "FUQUAN_NOTIFY_FILE"):
        monkeypatch.delenv(name, raising=False)
    monkeypatch.setenv("FUQUAN_CONFIG", str(ROOT / "tests" / "plans" / file))
    monkeypatch.setenv("FUQUAN_DATA_DIR", str(tmp_path / "data"))
    monkeypatch.setenv("FUQUAN_LINK_SECRET", "tracked-test-link-secret-0123456789")
    assert run("sync").code == 0
    now = datetime(day.year, day.month, day.day, 2, 0, tzinfo=UTC)  # 10:00 in the plan's time zone
    with open_context(Settings.from_env(), clock=lambda: now) as ctx:
        yield Site(ctx.choose(), db_url, day, town, letters, reports)


def row_html(page: str, task: int, period: str = "") -> str:
    m = re.search(rf'<tr [^>]*data-task="{task}" data-period="{re.escape(period)}">(.*?)</tr>', page, re.S)
    assert m, f"no row for task {task} {period}"
    return m.group(1)


def said(r) -> str:  # type: ignore[no-untyped-def]
    m = re.search(r'<p id="message">([^<]*)</p>', r.text)
    return m.group(1) if m else r.text[:200]


def missing(run, site: Site) -> list[str]:  # type: ignore[no-untyped-def]
    data = json.loads(run("status", "--json", "--today", site.day.isoformat()).out)
    [r] = [r for r in data["rows"] if r["task"] == site.letters and r["unit"] == site.town and r["label"] == ""]
    return list(r["missing"])


def test_a_town_reports_one_letter_and_the_approval_records_it(site: Site, run) -> None:  # type: ignore[no-untyped-def]
    before = missing(run, site)
    town, page, csrf = site.enter(site.town)
    row = row_html(page, site.letters)
    assert 'name="status"' not in row  # a tracked row: no bare 已完成/进行中
    keys = re.findall(r'name="item" value="([^"]+)"', row)
    assert keys and all(k.startswith("letter|") and f"|{site.town}|" in k for k in keys)
    assert f'name="doc:{keys[0]}"' in row and f'max="{site.day}"' in row
    signed = site.day - timedelta(days=2)
    r = town.post("/u/feedback", data={"csrf": csrf, "nonce": "letter-1", "task": str(site.letters), "period": "",
                                       "item": keys[0], f"on:{keys[0]}": signed.isoformat(),
                                       f"doc:{keys[0]}": "司确〔2024〕3号", "note": "已签订并盖章"})
    assert r.status_code == 200 and "复核" in said(r), said(r)
    assert missing(run, site) == before  # waiting for 复核: not yet counted
    office, page, ocsrf = site.enter("专班")
    [fid] = re.findall(r'data-feedback="(\d+)"', page)
    r = office.post("/office/review", data={"csrf": ocsrf, "id": fid, "decision": "通过"})
    assert r.status_code == 200 and said(r).startswith("已通过"), said(r)
    after = missing(run, site)
    assert len(after) == len(before) - 1 and set(after) < set(before)
    department = keys[0].split("|")[1]
    letters = dbs.rows(site.url, "SELECT l.signed_on, l.doc_no FROM letter l JOIN unit d ON d.id = l.department_id "
                                 "WHERE d.name = :d", d=department)
    assert [(str(on), no) for on, no in letters] == [(signed.isoformat(), "司确〔2024〕3号")]


def test_a_monthly_report_row_asks_for_more_time_by_its_month(site: Site) -> None:
    [month] = [r for r in pages.unit_rows(site.ctx, site.town, site.day)
               if r.task_no == site.reports and r.judgement.due and r.judgement.due >= site.day]
    town, page, csrf = site.enter(site.town)
    row = row_html(page, site.reports, month.period)
    assert re.fullmatch(r"\d{4}-\d{2}", month.period)
    form = re.search(r'action="/u/extension">(.*?)</form>', row, re.S)
    assert form and f'name="period" value="{month.period}"' in form.group(1)
    assert 'name="item" value="report|' in row  # and it may be reported from its own form
    new_due = (month.judgement.due or site.day) + timedelta(days=5)
    r = town.post("/u/extension", data={"csrf": csrf, "nonce": "report-e", "task": str(site.reports),
                                        "period": month.period, "new_due": new_due.isoformat(), "reason": "统计口径调整"})
    assert r.status_code == 200 and "延期申请已提交" in said(r), said(r)
    office, page, ocsrf = site.enter("专班")
    [eid] = re.findall(r'data-extension="(\d+)"', page)
    r = office.post("/decide", data={"csrf": ocsrf, "id": eid, "decision": "批准"})
    assert r.status_code == 200 and said(r).startswith("已批准"), said(r)
    dues = {r.period: r.judgement.due for r in pages.unit_rows(site.ctx, site.town, site.day)
            if r.task_no == site.reports}
    others = {r.period: r.judgement.due for r in pages.unit_rows(site.ctx, site.town, site.day)
              if r.task_no == site.reports and r.period != month.period}
    assert dues[month.period] == new_due
    assert all(d != new_due for d in others.values())


def test_a_closed_plan_shows_read_only_pages_and_refuses_posts(site: Site) -> None:
    town, _, csrf = site.enter(site.town)  # a page opened before the plan was closed: its token still in hand
    office, _, _ = site.enter("专班")
    close_plan(site.ctx, ClosePlan(note="年度工作结束"), actor=Actor("专班 李明", "test"), now=site.ctx.now())
    page = town.get("/u").text
    assert "本计划年度已关闭" in page and "只能查看" in page and "<form" not in page
    office_page = office.get("/office").text
    assert "本计划年度已关闭" in office_page and "<form" not in office_page
    before = site.counts()
    untracked = next(r.task_no for r in pages.unit_rows(site.ctx, site.town, site.day)
                     if not r.tracked and r.judgement.due and r.judgement.due >= site.day)
    posts = {
        "/u/ack": {"message": "1"},
        "/u/feedback": {"nonce": "closed-f", "task": str(untracked), "period": "", "status": "进行中", "note": "进展"},
        "/u/extension": {"nonce": "closed-e", "task": str(untracked), "period": "",
                         "new_due": (site.day + timedelta(days=200)).isoformat(), "reason": "理由"},
    }
    for path, data in posts.items():
        r = town.post(path, data={"csrf": csrf, **data})
        assert r.status_code == 409 and "关闭" in said(r), (path, r.status_code, said(r))
    r = town.post("/u/sheet", data={"csrf": csrf}, files=[("files", ("月报.csv", b"a,b\n", "text/csv"))])
    assert r.status_code == 409, (r.status_code, said(r))
    assert site.counts() == before


def test_reminders_are_counted_as_messages_on_both_pages(site: Site, run) -> None:  # type: ignore[no-untyped-def]
    """One message is one 提醒, however many items it names: the unit's header, its 签收 answer and the 专班's
    count of units and 提醒 agree with the messages sent; a reminder never lists the same line twice."""
    assert run("remind", "--today", site.day.isoformat(), "--force").code == 0
    town, page, csrf = site.enter(site.town)
    mine = dbs.rows(site.url, "SELECT count(DISTINCT m.id) FROM message m JOIN reminder r ON r.message_id = m.id "
                              "WHERE m.recipient = :u AND m.status = 'sent'", u=site.town)[0][0]
    assert mine >= 1 and f"待签收提醒 ({mine})" in page
    for block in re.findall(r'<div class="reminder">(.*?)</div>', page, re.S):
        lines = re.findall(r"<li>(.*?)</li>", block)
        assert len(lines) == len(set(lines)), lines
    sql = ("SELECT count(DISTINCT m.recipient), count(DISTINCT m.id) FROM reminder r JOIN message m ON m.id = "
           "r.message_id LEFT JOIN ack a ON a.reminder_id = r.id WHERE m.status = 'sent' AND r.recipient != '专班' "
           "AND r.kind IN ('before', 'overdue', 'nudge', 'again') AND a.id IS NULL")
    units, messages = dbs.rows(site.url, sql)[0]
    office, office_page, _ = site.enter("专班")
    assert f"未签收的提醒 ({units} 个单位 · {messages} 条)" in office_page
    message = re.findall(r'name="message" value="(\d+)"', page)[0]
    r = town.post("/u/ack", data={"csrf": csrf, "message": message})
    assert re.fullmatch(r"已签收该提醒 \(含 \d+ 项事项\)", said(r)), said(r)
