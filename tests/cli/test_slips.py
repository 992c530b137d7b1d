"""`fuquan report slips`: one numbered 督办单 per unit with overdue items on the day, on two counties' plans (莲河县:
九镇十二乡, no 街道; 青山县). Numbers run on across runs and are never given twice; asking again issues nothing;
every slip issued is audited; a unit with nothing overdue gets none; a bad day is a Chinese error, exit 1."""

from __future__ import annotations

import json
from dataclasses import dataclass

import pytest
from docx import Document
from sqlmodel import select

from fuquan.plans.policy import SlipPolicy
from models.db import make_engine, reading
from models.items import AuditRow
from models.tables import SlipRow
from tests import dbs
from tests.conftest import ROOT

PLANS = ROOT / "tests" / "plans"


@dataclass(frozen=True)
class County:
    file: str
    year: int
    issuer: str
    day1: str  # a working day with overdue work from the start
    day2: str  # a later one, with more
    finished: str  # a unit that has finished everything due by day1 …
    finished_tasks: tuple[int, ...]  # … namely these
    finished_on: str


COUNTIES = {
    "lianhe": County("lianhe-2025.yaml", 2025, "某市莲河县乡镇赋权工作专班", "2025-04-07", "2025-05-06", "大坪乡", (1,),
                     "2025-03-28"),
    "qingshan": County("qingshan-2024.yaml", 2024, "某市青山县乡镇（街道）赋权工作专班", "2024-03-11", "2024-04-01",
                       "云岭乡", (1, 3), "2024-03-08"),
}


@pytest.fixture(params=list(COUNTIES))
def county(request) -> County:  # type: ignore[no-untyped-def]
    return COUNTIES[request.param]


@pytest.fixture
def cli(run, county: County, tmp_path, monkeypatch):  # type: ignore[no-untyped-def]
    """The county's plan synced, and one unit's overdue work recorded as done."""
    monkeypatch.setenv("FUQUAN_DATA_DIR", str(tmp_path / "data"))
    monkeypatch.setenv("FUQUAN_CONFIG", str(PLANS / county.file))
    monkeypatch.delenv("FUQUAN_LINK_SECRET", raising=False)
    monkeypatch.setenv("FUQUAN_WEB_URL", "http://127.0.0.1:8300")
    assert run("sync").code == 0
    for no in county.finished_tasks:
        r = run("task", "set", str(no), county.finished, "已完成", "--on", county.finished_on, "--today", county.finished_on)
        assert r.code == 0, r.err
    return run


def slips(cli, *args: str) -> list[dict]:  # type: ignore[no-untyped-def, type-arg]
    r = cli("report", "slips", "--json", *args)
    assert r.code == 0, r.err
    return json.loads(r.out)["slips"]  # type: ignore[no-any-return]


def red_units(cli, day: str) -> set[str]:  # type: ignore[no-untyped-def]
    r = cli("status", "--json", "--today", day)
    assert r.code == 0, r.err
    return {row["unit"] for row in json.loads(r.out)["rows"] if row["colour"] == "红"}


def stored(db_url: str) -> tuple[list[SlipRow], list[AuditRow]]:
    engine = make_engine(db_url)
    with reading(engine) as s:
        rows = list(s.exec(select(SlipRow).order_by(SlipRow.number)))
        audit = list(s.exec(select(AuditRow).where(AuditRow.entity == "slip").order_by(AuditRow.id)))
    engine.dispose()
    return rows, audit


def test_slips_are_numbered_once_and_asking_again_issues_nothing(cli, county: County, db_url: str) -> None:  # type: ignore[no-untyped-def]
    late = red_units(cli, county.day1)
    assert county.finished not in late and late  # the unit that finished has nothing overdue; others do
    first = slips(cli, "--today", county.day1)
    assert {s["unit"] for s in first} == late  # one slip per unit with overdue items, none for the others
    assert [s["seq"] for s in first] == list(range(1, len(first) + 1)) and all(s["fresh"] for s in first)
    assert first[0]["number"] == f"〔{county.year}〕督办第1号"
    rows, audit = stored(db_url)
    for s, row in zip(first, rows, strict=True):  # the level: the most late item, on the default thresholds
        assert s["level"] == SlipPolicy().level(max(i["workdays_late"] for i in row.items)) == row.level
    assert len(audit) == len(first) and all(a.ref.startswith(f"〔{county.year}〕督办第") for a in audit)

    again = cli("report", "slips", "--today", county.day1)
    assert again.code == 0 and "新出具 0 份" in again.out and "不重复出具" in again.out
    assert f"〔{county.year}〕督办第1号" in again.out
    replay = slips(cli, "--today", county.day2, "--day", county.day1)  # day1 asked for later: still issued once
    assert [(s["seq"], s["fresh"]) for s in replay] == [(s["seq"], False) for s in first]
    assert stored(db_url)[0] == rows and len(stored(db_url)[1]) == len(audit)

    second = slips(cli, "--today", county.day2)
    assert {s["unit"] for s in second} == red_units(cli, county.day2) and all(s["fresh"] for s in second)
    assert [s["seq"] for s in second] == list(range(len(first) + 1, len(first) + len(second) + 1))
    rows, audit = stored(db_url)
    assert len({(r.year, r.number) for r in rows}) == len(rows) == len(first) + len(second) == len(audit)


def test_the_slip_is_a_document_in_the_plans_words(cli, county: County, monkeypatch) -> None:  # type: ignore[no-untyped-def]
    first = slips(cli, "--today", county.day1)[0]
    doc = Document(first["path"])
    texts = [p.text for p in doc.paragraphs if p.text]
    assert texts[:3] == [county.issuer, first["number"], "督办单"] and f"{first['unit']}：" in texts
    assert texts[-2] == county.issuer and texts[-1].startswith("二〇二")
    (table,) = doc.tables
    assert [c.text for c in table.rows[0].cells] == ["序号", "任务", "截止日期", "逾期\n工作日", "尚缺"]
    assert len(table.rows) == first["items"] + 1
    body = "\n".join(texts)
    assert "请登录单位反馈页面（http://127.0.0.1:8300" in body and "湾沚" not in body
    assert f"请于{int(first['answer_by'][5:7])}月{int(first['answer_by'][8:])}日前办理完毕" in body
    # with the web app's link secret set, the unit's own link is on its slip
    monkeypatch.setenv("FUQUAN_LINK_SECRET", "s" * 40)
    monkeypatch.setenv("FUQUAN_WEB_URL", "https://fuquan.example.cn")
    linked = slips(cli, "--today", county.day2, "--unit", county.finished)
    assert len(linked) == 1 and linked[0]["unit"] == county.finished
    assert "https://fuquan.example.cn/l/" in "\n".join(p.text for p in Document(linked[0]["path"]).paragraphs)


def test_a_bad_day_is_refused_in_chinese_and_nothing_is_written(cli, county: County, db_url: str) -> None:  # type: ignore[no-untyped-def]
    before = dbs.fingerprint(db_url)
    for day, said in ((f"{county.year}-02-30", "错误: --day: 日期应为 YYYY-MM-DD, 实为 “"),
                      (county.day2, f"错误: 督办日期 {county.day2} 晚于今天 ({county.day1})"),
                      ("2020-01-06", "不在计划年度")):
        r = cli("report", "slips", "--today", county.day1, "--day", day)
        assert (r.code, r.out) == (1, ""), r
        assert r.err.startswith(said) if said.startswith("错误") else said in r.err
    assert dbs.fingerprint(db_url) == before


def test_levels_follow_the_plans_own_thresholds(run, write_plan, tmp_path, monkeypatch) -> None:  # type: ignore[no-untyped-def]
    """莲河县 with 黄 after 2 working days and 红 after 3: task 1 (3月底前) is 4 working days late on 2025-04-07."""
    monkeypatch.setenv("FUQUAN_DATA_DIR", str(tmp_path / "data"))
    text = (PLANS / "lianhe-2025.yaml").read_text(encoding="utf-8")
    strict = write_plan(text.replace("  ongoing_every: 20 ", "  slips: {yellow_after: 2, red_after: 3, answer_within: 5}\n"
                                     "  ongoing_every: 20 "))
    assert run("sync", "--config", str(strict)).code == 0
    got = {s["unit"]: s for s in slips(run, "--today", "2025-04-07")}
    assert got["县委编办"]["level"] == "红" and got["县委编办"]["answer_by"] == "2025-04-14"  # 5 working days on
    assert "超过3个工作日为红色" in "\n".join(p.text for p in Document(got["县委编办"]["path"]).paragraphs)
    wrong = write_plan(text.replace("  ongoing_every: 20 ", "  slips: {yellow_after: 10, red_after: 5}\n  ongoing_every: 20 "),
                       name="wrong.yaml")
    r = run("plan", "check", "--config", str(wrong))
    assert r.code == 1 and f"{wrong}:" in r.err and "red_after (5) 应大于黄色督办的 yellow_after (10)" in r.err


def test_a_closed_plan_issues_no_slips(cli, county: County, db_url: str) -> None:  # type: ignore[no-untyped-def]
    assert cli("plan", "close", "--today", county.day1).code == 0
    r = cli("report", "slips", "--today", county.day1)
    assert r.code == 1 and "关闭" in r.err and "plan reopen" in r.err and stored(db_url)[0] == []


def test_the_daily_run_issues_slips_only_when_the_plan_asks_and_only_what_is_new(cli, county: County, write_plan,  # type: ignore[no-untyped-def]
                                                                                 monkeypatch) -> None:
    """`reminders: slips: daily: true` (off by default): the daily run's step gives a unit a slip when something
    overdue is on none of its slips yet, or its level has risen — not the same slip every day."""
    import re
    from datetime import datetime
    from zoneinfo import ZoneInfo

    from usecases.context import open_context
    from usecases.settings import Settings
    from usecases.slips import daily_slips

    def daily(day: str) -> list:  # type: ignore[type-arg]
        now = datetime.fromisoformat(f"{day}T09:00").replace(tzinfo=ZoneInfo("Asia/Shanghai"))
        with open_context(Settings.from_env(), clock=lambda: now) as ctx:
            return daily_slips(ctx.choose(), now=now)

    assert daily(county.day1) == []  # the shipped plans leave it off
    text = (PLANS / county.file).read_text(encoding="utf-8")
    on = write_plan(re.sub(r"^reminders:\n", "reminders:\n  slips: {daily: true}\n", text, count=1, flags=re.M))
    monkeypatch.setenv("FUQUAN_CONFIG", str(on))
    assert cli("sync").code == 0
    first = daily(county.day1)
    assert {s.unit for s in first} == red_units(cli, county.day1) and all(s.fresh for s in first)
    assert [(s.seq, s.fresh) for s in daily(county.day1)] == [(s.seq, False) for s in first]  # the same day again
    next_day = {2025: "2025-04-08", 2024: "2024-03-12"}[county.year]  # the next working day: the same items and level
    assert daily(next_day) == []
    later = daily(county.day2)  # more is overdue by then: those units get a new slip, numbered on
    assert later and all(s.fresh for s in later) and min(s.seq for s in later) == len(first) + 1
    assert {s.unit for s in later} <= red_units(cli, county.day2)
    # the daily check itself runs the step (the recipe both runners share), dated by its own day
    from flows import registry
    from flows.scheduler import PlainRunner

    said: list[str] = []
    now = datetime.fromisoformat(f"{county.day2}T09:00").replace(tzinfo=ZoneInfo("Asia/Shanghai"))
    with open_context(Settings.from_env(), clock=lambda: now) as ctx:
        ctx = ctx.choose()
        runner = PlainRunner(ctx)
        runner.log = said.append  # type: ignore[method-assign]
        registry.run("deadline-check", runner, ctx, registry.Options(today=now.date(), now=now, force=True))
    assert "出具督办单: 没有需要新出具的督办单" in said  # (day2's were issued just above: nothing new)
