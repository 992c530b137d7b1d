"""What the unit loop changes in the rest of fuquan, through the service the web app calls: accepted feedback
counts as done, 待复核 does not (unless the plan turns review off), a sent-back one shows 已退回, a granted extension
moves the due date (one period's only, for a recurring task), the plan may let lead units decide extensions, and a
unit's own filled sheet imports its own rows only. On the 县 plan, with injected time."""

from __future__ import annotations

import json
from collections.abc import Iterator
from datetime import UTC, date, datetime
from pathlib import Path

import pytest
from openpyxl import load_workbook

from fuquan.answers.uploads import Upload
from fuquan.errors import InvalidValue, NotYours
from fuquan.tracking.actor import Actor
from tests import dbs
from tests.conftest import ROOT
from usecases import answers, evidence, pages
from usecases.commands import AskExtension, DecideExtension, GiveFeedback, ReviewFeedback
from usecases.context import Context, open_context
from usecases.settings import Settings

QINGSHAN = (ROOT / "tests" / "plans" / "qingshan-2024.yaml").read_text(encoding="utf-8")
NOW = datetime(2024, 4, 10, 2, 0, tzinfo=UTC)
TODAY = date(2024, 4, 10)
TOWN, OTHER, LEAD = Actor("青山镇 (专属链接)", "web 127.0.0.1"), Actor("龙潭镇 (专属链接)", "web 127.0.0.1"), Actor("专班 李明", "web 127.0.0.1")
PDF = Upload("验收单.pdf", b"%PDF-1.4\n%%EOF\n")


def plan_with(change: str) -> str:
    """The 县 plan with one line of its `answers:` block changed ("review: false" for "review: true")."""
    if not change:
        return QINGSHAN
    key = change.split(":")[0]
    old = next(line for line in QINGSHAN.splitlines() if line.strip().startswith(f"{key}:"))
    return QINGSHAN.replace(old, f"  {change}", 1)


@pytest.fixture
def county(request: pytest.FixtureRequest, run, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[Context]:  # type: ignore[no-untyped-def]
    path = tmp_path / "plan.yaml"
    path.write_text(plan_with(getattr(request, "param", "")), encoding="utf-8")
    monkeypatch.setenv("FUQUAN_CONFIG", str(path))
    monkeypatch.setenv("FUQUAN_DATA_DIR", str(tmp_path / "data"))
    monkeypatch.setenv("FUQUAN_LINK_SECRET", "flow-test-link-secret-0123456789")
    assert run("sync").code == 0, run("plan", "check").err
    with open_context(Settings.from_env(), clock=lambda: NOW) as ctx:
        yield ctx.choose()


def row(run, task: int, unit: str, label: str = "") -> dict:  # type: ignore[no-untyped-def, type-arg]
    data = json.loads(run("status", "--json", "--today", TODAY.isoformat()).out)
    return next(r for r in data["rows"] if r["task"] == task and r["unit"] == unit and r["label"] == label)


def test_feedback_counts_once_accepted_and_shows_while_waiting(county: Context, run) -> None:  # type: ignore[no-untyped-def]
    said = answers.give_feedback(county, GiveFeedback(unit="青山镇", task_no=4, period="", status="已完成", note="已梳理完毕", files=(PDF,), nonce="n-1"), actor=TOWN, today=TODAY)
    assert "复核" in said
    waiting = row(run, 4, "青山镇")
    assert waiting["colour"] != "已完成" and waiting["review"] == "待复核"
    [(fid,)] = dbs.rows(str(county.engine.url.render_as_string(hide_password=False)), "SELECT id FROM feedback")
    answers.review_feedback(county, ReviewFeedback(feedback_id=fid, accept=True, reason=""), actor=LEAD, now=NOW)
    done = row(run, 4, "青山镇")
    assert done["colour"] == "已完成" and done["completed_on"] == "2024-04-10" and done["review"] == ""
    # decided once: a second decision changes nothing
    assert "未重复处理" in answers.review_feedback(county, ReviewFeedback(feedback_id=fid, accept=False, reason="重复点击"), actor=LEAD, now=NOW)
    assert row(run, 4, "青山镇")["colour"] == "已完成"


def test_sent_back_feedback_says_so_and_needs_a_reason(county: Context, run) -> None:  # type: ignore[no-untyped-def]
    answers.give_feedback(county, GiveFeedback(unit="青山镇", task_no=4, period="", status="已完成", note="已梳理", nonce="n-2"), actor=TOWN, today=TODAY)
    fid = pages.office_page(county, TODAY).feedback[0].id or 0
    with pytest.raises(InvalidValue, match="理由"):
        answers.review_feedback(county, ReviewFeedback(feedback_id=fid, accept=False, reason=" "), actor=LEAD, now=NOW)
    answers.review_feedback(county, ReviewFeedback(feedback_id=fid, accept=False, reason="缺少盖章的清单"), actor=LEAD, now=NOW)
    assert row(run, 4, "青山镇")["review"] == "已退回" and row(run, 4, "青山镇")["colour"] != "已完成"
    page = pages.unit_page(county, "青山镇", TODAY)
    assert [(f.state, f.reason) for f in page.feedback] == [("已退回", "缺少盖章的清单")]


@pytest.mark.parametrize("county", ["review: false"], indirect=True)
def test_without_review_feedback_counts_at_once(county: Context, run) -> None:  # type: ignore[no-untyped-def]
    assert answers.give_feedback(county, GiveFeedback(unit="青山镇", task_no=4, period="", status="已完成", note="已完成", nonce="n-3"), actor=TOWN, today=TODAY).startswith("反馈已登记")
    assert row(run, 4, "青山镇")["colour"] == "已完成"


def test_a_granted_extension_moves_the_due_date_a_refused_one_does_not(county: Context, run) -> None:  # type: ignore[no-untyped-def]
    before = row(run, 12, "青山镇")["due"]
    answers.ask_extension(county, AskExtension(unit="青山镇", task_no=12, period="", new_due=date(2024, 7, 15), reason="汛期", nonce="n-4"), actor=TOWN, today=TODAY)
    answers.ask_extension(county, AskExtension(unit="龙潭镇", task_no=12, period="", new_due=date(2024, 7, 20), reason="人手不足", nonce="n-5"), actor=OTHER, today=TODAY)
    assert row(run, 12, "青山镇")["extension"] == "待批"
    with pytest.raises(InvalidValue, match="待批"):
        answers.ask_extension(county, AskExtension(unit="青山镇", task_no=12, period="", new_due=date(2024, 7, 16), reason="再申请", nonce="n-6"), actor=TOWN, today=TODAY)
    mine, theirs = sorted(pages.office_page(county, TODAY).extensions, key=lambda e: e.id or 0)
    assert mine.reply_by == date(2024, 4, 15)  # three working days (answers.reply_within)
    answers.decide_extension(county, DecideExtension(extension_id=mine.id or 0, grant=True, reason=""), actor=LEAD, now=NOW)
    answers.decide_extension(county, DecideExtension(extension_id=theirs.id or 0, grant=False, reason="时限不可调整"), actor=LEAD, now=NOW)
    assert row(run, 12, "青山镇")["due"] == "2024-07-15" and row(run, 12, "青山镇")["extension"] == ""
    assert row(run, 12, "龙潭镇")["due"] == before and row(run, 12, "龙潭镇")["extension"] == "不批准"
    with pytest.raises(InvalidValue, match="已过"):  # after its due date no extension is asked
        answers.ask_extension(county, AskExtension(unit="龙潭镇", task_no=1, period="", new_due=date(2024, 5, 1), reason="晚了", nonce="n-7"), actor=OTHER, today=TODAY)


def test_a_period_extension_moves_that_period_only(county: Context, run) -> None:  # type: ignore[no-untyped-def]
    answers.ask_extension(county, AskExtension(unit="县司法局", task_no=10, period="2024Q2", new_due=date(2024, 7, 10), reason="评查延后", nonce="n-8"), actor=TOWN, today=TODAY)
    [ext] = pages.office_page(county, TODAY).extensions
    answers.decide_extension(county, DecideExtension(extension_id=ext.id or 0, grant=True, reason=""), actor=LEAD, now=NOW)
    assert row(run, 10, "县司法局", "2024Q2")["due"] == "2024-07-10"
    assert row(run, 10, "县司法局", "2024Q1")["due"] == "2024-03-31"


@pytest.mark.parametrize("county", ["extensions_by: 牵头单位"], indirect=True)
def test_the_plan_may_let_lead_units_decide(county: Context, run) -> None:  # type: ignore[no-untyped-def]
    answers.ask_extension(county, AskExtension(unit="青山镇", task_no=12, period="", new_due=date(2024, 7, 15), reason="汛期", nonce="n-9"), actor=TOWN, today=TODAY)
    lead = county.plan.plan.lead(county.plan.plan.task(12))
    assert lead == "县司法局"
    page = pages.unit_page(county, lead, TODAY)
    [ext] = page.to_decide
    with pytest.raises(NotYours):  # another unit (not the task's lead) cannot decide it
        answers.decide_extension(county, DecideExtension(extension_id=ext.id or 0, grant=True, reason="", deciding_unit="龙潭镇"), actor=OTHER, now=NOW)
    assert pages.unit_page(county, "龙潭镇", TODAY).to_decide == []
    answers.decide_extension(county, DecideExtension(extension_id=ext.id or 0, grant=True, reason="", deciding_unit=lead), actor=Actor(f"{lead} (专属链接)"), now=NOW)
    assert row(run, 12, "青山镇")["due"] == "2024-07-15"


def test_a_unit_uploads_its_own_rows_only(county: Context, run, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    sheet = tmp_path / "letters.xlsx"
    assert run("template", "letters", "--out", str(sheet)).code == 0
    wb = load_workbook(sheet)
    ws = wb.active
    header = [c.value for c in ws[2]]
    town, signed = header.index("乡镇（街道）"), header.index("签订日期")
    mine = [r for r in ws.iter_rows(min_row=3) if r[town].value == "青山镇"]
    for r in mine[:2]:
        r[signed].value = "2024-04-08"
    wb.save(sheet)
    said = evidence.import_sheet(county, "青山镇", Upload("letters.xlsx", sheet.read_bytes()), TOWN, TODAY)
    assert said == "已导入: 承接确认书 2 条"
    other = next(r for r in ws.iter_rows(min_row=3) if r[town].value == "龙潭镇")
    other[signed].value = "2024-04-08"
    wb.save(sheet)
    with pytest.raises(Exception, match="不是 青山镇 的") as e:
        evidence.import_sheet(county, "青山镇", Upload("letters.xlsx", sheet.read_bytes()), TOWN, TODAY)
    assert "未导入任何数据" in str(e.value)
    url = county.engine.url.render_as_string(hide_password=False)
    assert dbs.rows(url, "SELECT count(*) FROM letter") == [(2,)]


def test_a_units_page_reads_only_its_own_but_shows_what_the_whole_ledger_shows(county: Context, run) -> None:  # type: ignore[no-untyped-def]
    """A unit's page reads its own shares and items only (fast at 1,500 towns); its rows must be exactly the
    unit's rows of the whole plan's ledger, items, periods, 月报, feedback and extensions included."""
    assert run("letter", "sign", "县自然资源局", "青山镇", "--on", "2024-04-08").code == 0
    assert run("letter", "sign", "县级执法部门", "龙潭镇", "--on", "2024-04-09").code == 0
    assert run("task", "set", "10", "县司法局", "已完成", "--on", "2024-03-29", "--period", "2024Q1").code == 0
    answers.give_feedback(county, GiveFeedback(unit="青山镇", task_no=4, period="", status="已完成", note="已梳理", nonce="n-10"), actor=TOWN, today=TODAY)
    answers.ask_extension(county, AskExtension(unit="龙潭镇", task_no=12, period="", new_due=date(2024, 7, 20), reason="人手不足", nonce="n-11"), actor=OTHER, today=TODAY)
    from models.db import reading
    from models.ledger_io import load_ledger

    with reading(county.engine) as session:
        whole = load_ledger(session, county.plan).rows(TODAY, county.plan.plan.work_calendar())
    for unit in county.plan.unit_ids:
        mine = pages.unit_rows(county, unit, TODAY)
        assert mine == [r for r in whole if r.unit == unit], unit
