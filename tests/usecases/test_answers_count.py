"""Answers that count, through the use-case layer (usecases/): what a unit sends back and the 专班 approves changes
exactly what the ledger says, and nothing more.

    a tracked share's 反馈 names its items (a letter with its date and 文号); 通过 records them as `fuquan letter
        sign` would, so the town no longer owes that letter; a 反馈 naming no item is refused in Chinese
    a granted extension of a town's 月报 month moves that month's due date only, and makes no item-less row
    a town's 月报 task shows its months only, whatever was answered
    an untracked share's 已完成 keeps the day the unit reported, approved however late (the plan year long past)
    a closed plan year takes no 反馈, 延期 or record, and writes nothing; reopened, it does again
    签收 counts the reminders of one message; the 专班's page and the status snapshot count the same messages

On each of the three plans (区 2023, 县 2024 and the 21-乡镇 县 of 2025), on SQLite and under `make test` on
PostgreSQL (the `db_url` fixture). Time is always injected: every use case gets a fixed day or moment."""

from __future__ import annotations

import re
from collections.abc import Iterator
from dataclasses import dataclass, replace
from datetime import UTC, date, datetime, timedelta
from pathlib import Path

import pytest

from fuquan.errors import InvalidValue, PlanClosed
from fuquan.tracking.actor import Actor
from fuquan.tracking.ledger import Row
from fuquan.tracking.states import Colour, Progress
from models.db import reading
from models.ledger_io import load_ledger
from reports.status import snapshot
from tests import dbs
from tests.conftest import ROOT
from usecases import answers, pages, plans, record
from usecases.commands import (
    Acknowledge,
    AskExtension,
    ClosePlan,
    DecideExtension,
    GiveFeedback,
    ReopenPlan,
    ReportedItem,
    ReviewFeedback,
    SetStatus,
)
from usecases.context import Context, open_context
from usecases.settings import Settings

PLANS = ROOT / "tests" / "plans"
CHINESE = re.compile(r"[\u4e00-\u9fff]")


@dataclass(frozen=True)
class Case:
    file: str
    today: date  # the day the units answer: a working day of the plan year
    department: str  # a department that owes `town` a 承接确认书
    town: str
    letters: int  # the task tracked by letters
    reports: int  # the 月报 task (monthly_reports)
    untracked: int  # a task `town` owes with a plain date, judged by its status
    remind_on: str  # a day the daily check sends `town` a message with several reminders

    @property
    def year(self) -> int:
        return self.today.year

    def at(self, d: date, hour: int = 10) -> datetime:
        """A fixed moment of day `d`, in the plan's zone (Asia/Shanghai, UTC+8)."""
        return datetime(d.year, d.month, d.day, hour - 8, 0, tzinfo=UTC)


CASES = {
    "wanzhi-2023": Case("wanzhi-2023.yaml", date(2023, 5, 10), "区市场监督管理局", "湾沚镇", letters=2, reports=14,
                        untracked=13, remind_on="2023-05-10"),
    "qingshan-2024": Case("qingshan-2024.yaml", date(2024, 5, 10), "县自然资源局", "青山镇", letters=2, reports=15,
                          untracked=4, remind_on="2024-04-10"),
    "lianhe-2025": Case("lianhe-2025.yaml", date(2025, 5, 8), "县市场监督管理局", "莲河镇", letters=2, reports=13,
                        untracked=3, remind_on="2025-04-28"),
}

OFFICE = Actor("专班 李明", "web 127.0.0.1")


def town_actor(case: Case) -> Actor:
    return Actor(f"{case.town} (专属链接)", "web 127.0.0.1")


@dataclass
class World:
    case: Case
    ctx: Context  # its clock fixed at case.today, 10:00 in the plan's zone
    url: str

    def at(self, when: datetime) -> Context:
        """The same context with its clock moved to `when`."""
        return replace(self.ctx, clock=lambda: when)

    def ledger(self, today: date | None = None) -> list[Row]:
        """The whole plan's rows as of `today` (the ledger every report and the status command read)."""
        sp = self.ctx.plan
        with reading(self.ctx.engine) as session:
            return load_ledger(session, sp).rows(today or self.case.today, sp.plan.work_calendar())

    def rows(self, task: int, unit: str, today: date | None = None) -> list[Row]:
        return [r for r in self.ledger(today) if r.task_no == task and r.unit == unit]

    def waiting_feedback_id(self) -> int:
        [fb] = pages.office_page(self.ctx, self.case.today).feedback
        return fb.id or 0


@pytest.fixture(params=list(CASES))
def world(request: pytest.FixtureRequest, run, db_url: str, tmp_path: Path,  # type: ignore[no-untyped-def]
          monkeypatch: pytest.MonkeyPatch) -> Iterator[World]:
    case = CASES[request.param]
    monkeypatch.setenv("FUQUAN_CONFIG", str(PLANS / case.file))
    monkeypatch.setenv("FUQUAN_DATA_DIR", str(tmp_path / "data"))
    monkeypatch.setenv("FUQUAN_LINK_SECRET", "usecase-test-link-secret-0123456789")
    synced = run("sync")
    assert synced.code == 0, synced.err
    now = case.at(case.today)
    with open_context(Settings.from_env(), clock=lambda: now) as ctx:
        yield World(case, ctx.choose(), db_url)


# ── a tracked share's 反馈 names its items; 通过 records them ────────────────────────────────────────────────────


def test_an_approved_letter_is_no_longer_owed_and_is_recorded_with_its_date_and_doc_no(world: World) -> None:
    case, ctx = world.case, world.ctx
    key = f"letter|{case.department}|{case.town}|"
    [before] = world.rows(case.letters, case.town)
    assert before.tracked and key in {i.key for i in before.owed}
    assert len(before.owed) > 1  # the town owes other departments' letters too: one is reported here
    signed_on = case.today - timedelta(days=2)
    doc_no = f"{ctx.plan.plan.district}赋权〔{case.year}〕7号"
    item = ReportedItem(kind="letter", department=case.department, town=case.town, on=signed_on, doc_no=doc_no)

    said = answers.give_feedback(ctx, GiveFeedback(unit=case.town, task_no=case.letters, period=before.period,
                                                   note="已与该部门签订承接确认书", items=(item,)),
                                 actor=town_actor(case), today=ctx.today())
    assert "复核" in said
    [waiting] = world.rows(case.letters, case.town)
    assert key in {i.key for i in waiting.owed} and waiting.review == "待复核"  # 待复核 does not count yet

    said = answers.review_feedback(world.at(case.at(case.today, 15)), ReviewFeedback(
        feedback_id=world.waiting_feedback_id(), accept=True), actor=OFFICE, now=case.at(case.today, 15))
    assert said.startswith("已通过"), said

    [after] = world.rows(case.letters, case.town)
    assert key not in {i.key for i in after.owed}
    assert f"{case.department}承接确认书" not in after.missing
    assert {i.key for i in after.owed} == {i.key for i in before.owed} - {key}  # that letter only
    assert after.review == ""
    [dept] = world.rows(case.letters, case.department)  # the department's share sees the same letter
    assert f"letter|{case.department}|{case.town}|" not in {i.key for i in dept.owed}
    letters = dbs.rows(world.url, "SELECT l.signed_on, l.doc_no FROM letter l JOIN unit d ON d.id = l.department_id "
                                  "JOIN unit t ON t.id = l.town_id WHERE d.name = :d AND t.name = :t",
                       d=case.department, t=case.town)
    assert [(str(on), no) for on, no in letters] == [(signed_on.isoformat(), doc_no)]


def test_feedback_on_a_tracked_share_without_items_is_refused_in_chinese(world: World) -> None:
    case, ctx = world.case, world.ctx
    before = dbs.content(world.url)
    with pytest.raises(InvalidValue) as refused:
        answers.give_feedback(ctx, GiveFeedback(unit=case.town, task_no=case.letters, note="都签了", status="已完成"),
                              actor=town_actor(case), today=ctx.today())
    assert CHINESE.search(str(refused.value)) and "事项" in str(refused.value)
    assert dbs.content(world.url) == before


# ── 月报: a town's months, and an extension of one of them ─────────────────────────────────────────────────────────


def _next_month_row(world: World) -> Row:
    """The town's first 月报 row not yet due (an extension is asked before the due date)."""
    rows = world.rows(world.case.reports, world.case.town)
    return next(r for r in rows if r.judgement.due and r.judgement.due >= world.case.today)


def test_an_approved_extension_of_a_month_moves_that_month_only(world: World) -> None:
    case, ctx = world.case, world.ctx
    before = {r.period: r.judgement.due for r in world.rows(case.reports, case.town)}
    month = _next_month_row(world)
    assert month.period and month.period == f"{month.judgement.due:%Y-%m}"
    new_due = (month.judgement.due or case.today) + timedelta(days=7)

    answers.ask_extension(ctx, AskExtension(unit=case.town, task_no=case.reports, period=month.period,
                                            new_due=new_due, reason="村(居)数据未汇齐"),
                          actor=town_actor(case), today=ctx.today())
    [ext] = pages.office_page(ctx, case.today).extensions
    assert ext.period == month.period
    said = answers.decide_extension(ctx, DecideExtension(extension_id=ext.id or 0, grant=True), actor=OFFICE,
                                    now=case.at(case.today, 15))
    assert said.startswith("已批准"), said

    rows = world.rows(case.reports, case.town)
    after = {r.period: r.judgement.due for r in rows}
    assert after == {**before, month.period: new_due}  # that month's due date, and no other
    assert all(r.label and r.period for r in rows), [(r.role, r.label) for r in rows if not r.label]
    other = next(t for t in ctx.plan.plan.task(case.reports).track.monthly_reports or () if t != case.town)
    [theirs] = [r for r in world.rows(case.reports, other) if r.period == month.period]
    assert theirs.judgement.due == month.judgement.due  # another town's same month is not moved


def test_a_towns_monthly_report_task_shows_its_months_only(world: World) -> None:
    case, ctx = world.case, world.ctx

    def report_rows() -> list[Row]:
        with reading(ctx.engine) as session:
            snap = snapshot(session, ctx.plan, case.today)
        return [r for r in snap.rows if r.task_no == case.reports and r.unit == case.town]

    def only_months(rows: list[Row]) -> None:
        assert rows, "the town has 月报 rows"
        assert {r.role for r in rows} == {"report"}, [(r.role, r.label) for r in rows]
        assert all(r.period == r.label.removeprefix("月报 ") for r in rows), [(r.label, r.period) for r in rows]
        assert len({r.period for r in rows}) == len(rows)  # one row a month

    only_months(report_rows())
    only_months([r for r in pages.unit_rows(ctx, case.town, case.today) if r.task_no == case.reports])
    # the town reports a month through its 反馈; approved, that month is done and still the only kind of row
    month = next(r for r in report_rows() if r.owed)
    [owed] = month.owed
    item = ReportedItem(kind="report", town=case.town, period=owed.period, on=case.today)
    answers.give_feedback(ctx, GiveFeedback(unit=case.town, task_no=case.reports, period=month.period,
                                            note="已报送当月月报", items=(item,)),
                          actor=town_actor(case), today=ctx.today())
    answers.review_feedback(ctx, ReviewFeedback(feedback_id=world.waiting_feedback_id(), accept=True), actor=OFFICE,
                            now=case.at(case.today, 15))
    rows = report_rows()
    only_months(rows)
    [done] = [r for r in rows if r.period == month.period]
    assert done.judgement.colour.finished and done.judgement.completed_on == case.today and not done.owed


# ── an untracked share: the day the unit reported, approved however late ───────────────────────────────────────


@pytest.mark.parametrize("later", [timedelta(days=7), "three years on"], ids=["a-week-later", "plan-year-past"])
def test_an_untracked_share_is_done_on_the_day_reported_approved_however_late(
        world: World, later: timedelta | str) -> None:
    case, ctx = world.case, world.ctx
    [share] = world.rows(case.untracked, case.town)
    assert not share.tracked and not share.judgement.colour.finished
    done_on = case.today - timedelta(days=2)
    answers.give_feedback(ctx, GiveFeedback(unit=case.town, task_no=case.untracked, note="已全部完成",
                                            status=Progress.DONE, done_on=done_on),
                          actor=town_actor(case), today=ctx.today())
    # approved a week later, or with the clock in December three years after the plan year (2026-12 for 2023)
    when = case.at(case.today + later) if isinstance(later, timedelta) else case.at(date(case.year + 3, 12, 10))
    office = world.at(when)
    said = answers.review_feedback(office, ReviewFeedback(feedback_id=world.waiting_feedback_id(), accept=True),
                                   actor=OFFICE, now=office.now())
    assert said.startswith("已通过") and str(done_on) in said, said
    [row] = world.rows(case.untracked, case.town, date(case.year, 12, 31))
    assert row.judgement.completed_on == done_on
    assert row.judgement.colour in (Colour.DONE, Colour.DONE_LATE)


# ── a closed plan year ─────────────────────────────────────────────────────────────────────────────────────────


def test_a_closed_plan_takes_nothing_and_reopened_takes_again(world: World) -> None:
    case, ctx = world.case, world.ctx
    now = case.at(case.today, 9)
    town = town_actor(case)
    feedback = GiveFeedback(unit=case.town, task_no=case.untracked, note="正在推进", status=Progress.IN_PROGRESS)
    [share] = world.rows(case.untracked, case.town)
    extension = AskExtension(unit=case.town, task_no=case.untracked, period=share.period,
                             new_due=date(case.year, 11, 30), reason="人员调整")
    status = SetStatus(task_no=case.untracked, unit=case.town, status=Progress.IN_PROGRESS)

    said = plans.close_plan(ctx, ClosePlan(note="年度工作结束"), actor=OFFICE, now=now)
    assert "已关闭" in said
    with pytest.raises(InvalidValue, match="关闭") as twice:  # closing twice is refused, not a second close
        plans.close_plan(ctx, ClosePlan(), actor=OFFICE, now=now)
    assert not isinstance(twice.value, PlanClosed)

    closed = dbs.content(world.url)
    with pytest.raises(PlanClosed):
        answers.give_feedback(ctx, feedback, actor=town, today=ctx.today())
    with pytest.raises(PlanClosed):
        answers.ask_extension(ctx, extension, actor=town, today=ctx.today())
    with pytest.raises(PlanClosed):
        record.record(ctx, status, actor=OFFICE, today=ctx.today())
    assert dbs.content(world.url) == closed  # nothing written, not even an audit row

    assert "重新打开" in plans.reopen_plan(ctx, ReopenPlan(), actor=OFFICE, now=now)
    with pytest.raises(InvalidValue, match="没有关闭"):
        plans.reopen_plan(ctx, ReopenPlan(), actor=OFFICE, now=now)
    assert record.record(ctx, status, actor=OFFICE, today=ctx.today()).count == 1
    assert "复核" in answers.give_feedback(ctx, feedback, actor=town, today=ctx.today())
    assert "答复" in answers.ask_extension(ctx, extension, actor=town, today=ctx.today())
    assert dbs.content(world.url) != closed


# ── 签收: one message, counted alike everywhere ─────────────────────────────────────────────────────────────────


def test_acknowledging_counts_one_messages_reminders_and_pages_agree_with_the_snapshot(world: World, run) -> None:  # type: ignore[no-untyped-def]
    case = world.case
    day = date.fromisoformat(case.remind_on)
    ctx = world.at(case.at(day))
    assert run("remind", "--today", case.remind_on, "--force").code == 0
    sizes = dbs.rows(world.url, "SELECT m.id, count(r.id) FROM message m JOIN reminder r ON r.message_id = m.id "
                                "WHERE m.recipient = :u GROUP BY m.id ORDER BY count(r.id) DESC, m.id", u=case.town)
    assert sizes, f"{case.town} got no reminder on {case.remind_on}"
    mid, items = sizes[0]
    assert items >= 2, "a message naming several items: 签收 counts them, not the message"

    def counts() -> tuple[tuple[int, int], tuple[int, int]]:
        """(units, messages) not acknowledged: as the 专班's page counts them, and as the status snapshot does."""
        page = pages.office_page(ctx, day)
        with reading(ctx.engine) as session:
            snap = snapshot(session, ctx.plan, day)
        return (len({r.recipient for r, _, _ in page.unacked}), len({m.id for _, m, _ in page.unacked})), snap.unacked

    page_before, snap_before = counts()
    assert page_before == snap_before and page_before[1] >= 1
    assert mid in {m.id for m, _ in pages.unit_page(ctx, case.town, day).reminders}

    said = answers.acknowledge(ctx, Acknowledge(unit=case.town, message_id=mid), actor=town_actor(case),
                               now=ctx.now())
    assert said == f"已签收该提醒 (含 {items} 项事项)"
    assert answers.acknowledge(ctx, Acknowledge(unit=case.town, message_id=mid), actor=town_actor(case),
                               now=ctx.now()) == "该提醒此前已签收"

    page_after, snap_after = counts()
    assert page_after == snap_after
    assert page_after[1] == page_before[1] - 1  # one message fewer, however many items it named
    assert mid not in {m.id for m, _ in pages.unit_page(ctx, case.town, day).reminders}
