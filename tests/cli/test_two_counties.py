"""Every feature on two plans, through the CLI only: the shipped 2023 plan of 芜湖市湾沚区 and a second
county's 2024 plan (某市青山县: 县 units, 16 乡镇（街道）, 月报 due on the 25th, a quarterly task, its own
figures, reminder window and override). Nothing of one county may leak into the other's output."""

from __future__ import annotations

import json
import os
import re
from dataclasses import dataclass
from datetime import date
from pathlib import Path

import pytest
from openpyxl import load_workbook

from tests.conftest import ROOT

PLANS = ROOT / "tests" / "plans"


@dataclass(frozen=True)
class County:
    file: str
    district: str
    year: int
    issued: str
    counts: tuple[int, int, int]  # tasks, units, assignments (as `plan check` reports them)
    kinds: frozenset[str]  # the deadline kinds the plan uses
    departments: tuple[str, ...]  # members of the enforcement group, in order
    dept_group: str
    towns: tuple[str, ...]  # members of the towns group, in order
    town_group: str
    figures: tuple[str, ...]
    window: str  # reminders' send_at–quiet_after
    today: str  # a working day soon after the plan was issued
    overdue_task: int  # due before the plan was issued
    overdue_workdays: int  # …by `today`
    ongoing_task: int  # 持续推进
    per_higher_task: int  # 按省级部署
    letters_task: int
    report_task: int  # tracks 月报
    report_day: int  # …due on this day of the month
    period: str  # a 月报 period due after the plan was issued
    override_day: str  # a day on which the plan's override for the 月报 task decides the stage …
    override_stage: str  # … which the default before_due would have made different
    signing: tuple[str, str, str]  # town, signed on, today
    token: str  # a word only this plan uses
    row_town: str  # a town for one-off recordings


WANZHI = County(
    file="wanzhi-2023.yaml", district="芜湖市湾沚区", year=2023, issued="2023-04-18", counts=(15, 20, 108),
    kinds=frozenset({"date", "recurring", "ongoing", "per_higher_level", "to_be_decided"}),
    departments=("区市场监督管理局", "区生态环境分局", "区文化旅游体育局", "区交通运输局", "区农业农村局",
                 "区自然资源和规划分局", "区住房和城乡建设局", "区城市管理局", "区应急管理局", "区卫生健康委", "区水务局"),
    dept_group="区级执法单位", towns=("湾沚镇", "六郎镇", "陶辛镇", "红杨镇", "花桥镇"), town_group="各镇",
    figures=("审批办件量", "执法检查次数", "执法案件数", "复议诉讼数", "培训场次", "培训人次", "持证人数"),
    window="09:00–18:00", today="2023-04-28", overdue_task=1, overdue_workdays=20, ongoing_task=8,
    per_higher_task=12, letters_task=2, report_task=14, report_day=20, period="2023-05",
    override_day="2023-06-16", override_stage="before-3",  # override [3, 0]; the default [5, 2, 0] says before-2
    signing=("六郎镇", "2023-04-26", "2023-04-28"), token="湾沚", row_town="花桥镇",
)

QINGSHAN = County(
    file="qingshan-2024.yaml", district="某市青山县", year=2024, issued="2024-03-08", counts=(16, 26, 193),
    kinds=frozenset({"date", "range", "recurring", "ongoing", "per_higher_level"}),
    departments=("县自然资源局", "县市场监督管理局", "县生态环境分局", "县应急管理局", "县农业农村局", "县住房和城乡建设局"),
    dept_group="县级执法部门",
    towns=("青山镇", "龙潭镇", "石门镇", "白沙镇", "桃源镇", "梅岭镇", "清溪镇", "柳塘镇", "凤鸣镇",
           "云岭乡", "松坪乡", "杨柳乡", "高桥乡", "竹林乡", "城关街道", "青峰街道"),
    town_group="各乡镇（街道）",
    figures=("审批办件量", "执法检查次数", "立案数", "结案数", "行政复议诉讼数", "培训人次", "持证执法人员数", "群众投诉件数"),
    window="08:30–17:30", today="2024-03-11", overdue_task=1, overdue_workdays=7, ongoing_task=8,
    per_higher_task=11, letters_task=2, report_task=15, report_day=25, period="2024-03",
    override_day="2024-03-20", override_stage="ask",  # override [2, 0]; the default [5, 3, 1, 0] says before-3
    signing=("云岭乡", "2024-03-20", "2024-03-22"), token="青山", row_town="城关街道",
)

COUNTIES = {"wanzhi": WANZHI, "qingshan": QINGSHAN}


@pytest.fixture(params=list(COUNTIES), ids=list(COUNTIES))
def county(request) -> County:  # type: ignore[no-untyped-def]
    return COUNTIES[request.param]


def other(c: County) -> County:
    return QINGSHAN if c is WANZHI else WANZHI


def path_of(c: County) -> str:
    return str(PLANS / c.file)


def day_in_period(c: County, day: int) -> str:
    return f"{c.period}-{day:02d}"


@pytest.fixture
def loaded(run, county: County, tmp_path, monkeypatch):  # type: ignore[no-untyped-def]
    """The county's plan synced into the test's database; reminders go to the console only."""
    for var in [k for k in os.environ if k == "SLACK_BOT_TOKEN" or k.startswith("FUQUAN_WEBHOOK_")]:
        monkeypatch.delenv(var)
    monkeypatch.setenv("FUQUAN_NOTIFY_FILE", str(tmp_path / "notifications.md"))
    r = run("sync", "--config", path_of(county))
    assert r.code == 0, r.err

    def cli(*args: str):  # type: ignore[no-untyped-def]
        return run(*args, "--year", str(county.year))

    return cli


def as_json(r):  # type: ignore[no-untyped-def]
    assert r.code == 0, r.err
    return json.loads(r.out)


def rows(cli, today: str, *args: str) -> list[dict]:  # type: ignore[no-untyped-def]
    return as_json(cli("status", "--today", today, "--json", *args))["rows"]


# ── plan check / plan show / deadline parse ───────────────────────────────────────────────────────────


def test_plan_check(run, county: County) -> None:  # type: ignore[no-untyped-def]
    r = run("plan", "check", "--config", path_of(county))
    assert (r.code, r.err) == (0, "")
    tasks, units, assignments = county.counts
    assert r.out.strip() == (f"计划配置无误: {path_of(county)} — {county.district} {county.year} 年度, "
                             f"{tasks} 项任务, {units} 个单位, {assignments} 条分工")


def test_plan_show_json_parses_every_deadline(run, county: County) -> None:  # type: ignore[no-untyped-def]
    data = as_json(run("plan", "show", "--config", path_of(county), "--json"))
    assert (data["district"], data["year"], data["issued"]) == (county.district, county.year, county.issued)
    tasks = {t["no"]: t for t in data["tasks"]}
    assert sorted(tasks) == list(range(1, county.counts[0] + 1))
    kinds = set()
    for no, t in tasks.items():
        d = t["deadline"]
        kinds.add(d["kind"])
        if d["kind"] in ("date", "range"):
            assert date.fromisoformat(d["due"]).year in (county.year, county.year + 1), (no, d)
        elif d["kind"] == "recurring":
            assert d["due"] is None and d["rule"]["freq"] in ("monthly", "quarterly"), (no, d)
        else:
            assert d["due"] is None and d["rule"] is None, (no, d)
    assert kinds == county.kinds
    assert tasks[county.overdue_task]["deadline"]["due"] < county.issued
    assert tasks[county.ongoing_task]["deadline"]["kind"] == "ongoing"
    assert tasks[county.per_higher_task]["deadline"]["kind"] == "per_higher_level"
    assert tasks[county.report_task]["deadline"]["rule"] == {"freq": "monthly", "day": county.report_day}
    letters = tasks[county.letters_task]["track"]["letters"]
    assert (tuple(letters["departments"]), tuple(letters["towns"])) == (county.departments, county.towns)
    groups = {g["name"]: tuple(g["members"]) for g in data["groups"]}
    assert groups[county.dept_group] == county.departments and groups[county.town_group] == county.towns
    # the deadline grammar reads every phrase of the plan on its own as well
    phrases = [t["deadline"]["text"] for t in data["tasks"]]
    parsed = as_json(run("deadline", "parse", "--year", str(county.year), "--json", *phrases))
    assert [p["text"] for p in parsed] == phrases and not [p for p in parsed if "error" in p]
    assert [p["kind"] for p in parsed] == [t["deadline"]["kind"] for t in data["tasks"]]


def test_qingshan_plan_has_the_shape_it_promises(run) -> None:  # type: ignore[no-untyped-def]
    data = as_json(run("plan", "show", "--config", path_of(QINGSHAN), "--json"))
    towns = QINGSHAN.towns
    assert len(towns) == 16
    assert [sum(t.endswith(s) for t in towns) for s in ("镇", "乡", "街道")] == [9, 5, 2]
    assert len({t["section"] for t in data["tasks"]}) in range(4, 7)
    departments = [u["name"] for u in data["units"] if u["kind"] == "department"]
    assert all(d.startswith("县") for d in departments) and len(departments) >= 8
    texts = {t["deadline"]["text"] for t in data["tasks"]}
    assert {"2月底前", "6月中旬前", "年底前", "每季度末", "每月25日前", "持续推进", "按省级部署"} <= texts
    quarterly = [t for t in data["tasks"] if t["deadline"]["text"] == "每季度末"]
    assert len(quarterly) == 1 and not any(quarterly[0]["track"].values())
    tracked = {k for t in data["tasks"] for k, v in t["track"].items() if v}
    assert tracked == {"letters", "training", "exams", "monthly_reports"}


# ── sync ──────────────────────────────────────────────────────────────────────────────────────────────


def test_sync_twice_changes_nothing_the_second_time(run, county: County) -> None:  # type: ignore[no-untyped-def]
    tasks, units, assignments = county.counts
    first = run("sync", "--config", path_of(county))
    assert first.code == 0, first.err
    assert first.out.startswith(f"已同步 {county.district} {county.year} 年度计划: 新增计划 1, 新增单位 {units}, ")
    assert f"新增任务 {tasks}, 新增分工 {assignments}" in first.out
    again = run("sync", "--config", path_of(county))
    assert again.code == 0 and "无变化" in again.out and "新增" not in again.out
    data = as_json(run("sync", "--config", path_of(county), "--json"))
    assert (data["changed"], data["tasks"], data["units"], data["assignments"]) == (False, tasks, units, assignments)


# ── status ────────────────────────────────────────────────────────────────────────────────────────────


def test_status_colours(loaded, county: County) -> None:  # type: ignore[no-untyped-def]
    data = as_json(loaded("status", "--today", county.today, "--json"))
    assert (data["district"], data["year"], data["today"]) == (county.district, county.year, county.today)
    assert len(data["tasks"]) == county.counts[0]
    by_task: dict[int, list[dict]] = {}
    for r in data["rows"]:
        by_task.setdefault(r["task"], []).append(r)
    late = by_task[county.overdue_task]
    assert late and {r["colour"] for r in late} == {"红"}
    assert {r["workdays_late"] for r in late} == {county.overdue_workdays}
    assert {r["colour"] for r in by_task[county.ongoing_task]} == {"持续"}
    assert {r["colour"] for r in by_task[county.per_higher_task]} == {"待定"}
    summary = {t["no"]: t for t in data["tasks"]}
    assert summary[county.overdue_task]["colour"] == "红" and summary[county.overdue_task]["due"] < county.issued
    # nothing is late yet among the tasks due after `today`
    assert all(r["colour"] != "红" for r in data["rows"] if r["due"] and r["due"] >= county.today)
    towns = as_json(loaded("status", "--today", county.today, "--by", "town", "--json"))["rollup"]
    assert [g["key"] for g in towns] == list(county.towns)


# ── letters ───────────────────────────────────────────────────────────────────────────────────────────


def test_letter_sign_with_the_group_name(loaded, county: County) -> None:  # type: ignore[no-untyped-def]
    town, on, today = county.signing
    n, m = len(county.departments), len(county.towns)
    grid = as_json(loaded("letters", "--today", today, "--json"))
    assert (tuple(grid["departments"]), tuple(grid["towns"])) == (county.departments, county.towns)
    owed = sum(c["applies"] for c in grid["cells"])  # (cells marked not_applicable are not owed)
    assert (grid["task"], grid["signed"], grid["unsigned"]) == (county.letters_task, 0, owed) and owed >= n * m - 2

    r = loaded("letter", "sign", county.dept_group, town, "--on", on, "--doc-no", "编〔X〕1号", "--today", today)
    assert r.code == 0, r.err
    flat = r.out.replace("\n", "")  # (Rich wraps long lines)
    assert flat.startswith(f"{county.district} {county.year} 年度: 已登记承接确认书签订 {n} 份: ")
    assert flat.strip().endswith(f" — {town}, {on}")
    assert all(d in flat for d in county.departments)

    grid = as_json(loaded("letters", "--today", today, "--json"))
    assert (grid["signed"], grid["unsigned"]) == (n, owed - n)
    signed = [c for c in grid["cells"] if c["signed"]]
    assert {c["town"] for c in signed} == {town} and {c["department"] for c in signed} == set(county.departments)
    assert {(c["signed_on"], c["doc_no"]) for c in signed} == {(on, "编〔X〕1号")}

    task = {r["unit"]: r for r in rows(loaded, today, "--task", str(county.letters_task))}
    assert (task[town]["colour"], task[town]["completed_on"], task[town]["missing"]) == ("已完成", on, [])
    another = next(t for t in county.towns if t != town)
    assert task[another]["colour"] != "已完成" and len(task[another]["missing"]) == n
    # a department now misses every town but the one that signed
    assert len(task[county.departments[0]]["missing"]) == m - 1


# ── 月报: report submit, then status --task ──────────────────────────────────────────────────────────


def test_report_submit_then_status_of_the_task(loaded, county: County) -> None:  # type: ignore[no-untyped-def]
    town, on, today = county.row_town, day_in_period(county, 12), day_in_period(county, 15)
    figure = county.figures[2]  # 执法案件数 / 立案数: one the other plan does not have
    assert figure not in other(county).figures
    r = loaded("report", "submit", town, "--month", county.period, "--on", on, "--figure", f"{figure}=3",
               "--today", today)
    assert r.code == 0, r.err
    label = f"月报 {county.period}"
    reports = [r for r in rows(loaded, today, "--task", str(county.report_task)) if r["label"] == label]
    assert sorted(r["unit"] for r in reports) == sorted(county.towns)
    mine = next(r for r in reports if r["unit"] == town)
    assert (mine["colour"], mine["completed_on"], mine["due"]) == ("已完成", on, day_in_period(county, county.report_day))
    assert all(r["colour"] != "已完成" for r in reports if r["unit"] != town)
    # the other county's own figure is not one of this plan's
    foreign = other(county).figures[2]
    bad = loaded("report", "submit", town, "--month", county.period, "--on", on, "--figure", f"{foreign}=1",
                 "--today", today)
    assert bad.code == 1 and f"未知月报指标 “{foreign}”" in bad.err


# ── reminders ─────────────────────────────────────────────────────────────────────────────────────────

UNITISH = re.compile(r"[区县][\u4e00-\u9fff]{1,10}?(?:局|办|委)")


def _listed(text: str) -> list[str]:
    """Unit names in a message's lists: 尚缺 …承接确认书、…; …: 区司法局、5 个镇 未完成; 配合单位 … 尚未完成."""
    out = []
    for items in re.findall(r"(?:尚缺 |个工作日: |配合单位 )([^;\n]+)", text):
        for item in re.sub(r" (?:等 \d+ 项|尚?未完成).*$", "", items).split("、"):
            item = re.sub(r"(?:承接确认书|岗前培训| ?\d{4}-\d{2} 月报)$", "", item.strip())
            if re.search(r"(?:局|办|委|镇|乡|街道)$", item) and not re.match(r"\d+ 个|培训指导计划", item):
                out.append(item)
    return out


def test_remind_dry_run_names_only_this_plans_units(run, loaded, county: County) -> None:  # type: ignore[no-untyped-def]
    plan_units = {u["name"] for u in as_json(run("plan", "show", "--config", path_of(county), "--json"))["units"]}
    assert set(county.departments) | set(county.towns) <= plan_units
    data = as_json(loaded("remind", "--dry-run", "--json", "--today", county.today, "--now", f"{county.today}T09:05"))
    assert data["dry_run"] is True and data["skipped"] is None and data["messages"]
    foreign = {other(county).district, other(county).token, other(county).dept_group, other(county).town_group,
               *other(county).towns}
    seen: set[str] = set()
    for m in data["messages"]:
        text = m["text"]
        assert m["recipient"] in plan_units | {"专班"}, m["recipient"]
        assert f"【{county.district}" in text
        for name in foreign:
            assert name not in text, (m["recipient"], name)
        named = set(re.findall(r"牵头单位 (\S+?)(?:$|\s|;|。)", text, re.M)) | set(_listed(text))
        body = re.sub(r"【[^】]*】", "", text)  # (the heading is 【<district>镇赋权督办】)
        named |= set(UNITISH.findall(body))
        assert named <= plan_units, named - plan_units
        seen |= named
        for r in m["reminders"]:
            assert 1 <= r["task"] <= county.counts[0]
    # (the checks above did look at names: escalations name departments and towns)
    assert seen & set(county.departments)
    assert {m["recipient"] for m in data["messages"]} & set(county.towns)
    if county is QINGSHAN:
        assert not any("湾沚" in m["text"] for m in data["messages"])
    # a dry run sends and records nothing
    assert as_json(loaded("reminders", "log", "--json")) == []


def test_remind_follows_the_plans_own_policy(loaded, county: County, tmp_path) -> None:  # type: ignore[no-untyped-def]
    # the send window is the plan's: 08:15 is before both counties' send_at
    r = loaded("remind", "--json", "--today", county.today, "--now", f"{county.today}T08:15")
    data = as_json(r)
    assert data["skipped"] == f"当前为免打扰时段 (发送时间 {county.window}), 不发送提醒 (加 --force 可强制发送)" and data["messages"] == []
    assert not (tmp_path / "notifications.md").exists()
    # the per-task override of the 月报 task decides which stage is reached on this day
    day = county.override_day
    plan = as_json(loaded("remind", "--dry-run", "--json", "--today", day, "--now", f"{day}T09:05"))
    stages = {r["stage"] for m in plan["messages"] for r in m["reminders"]
              if r["task"] == county.report_task and r["kind"] == "before"}
    assert stages == {county.override_stage}


# ── report monthly ────────────────────────────────────────────────────────────────────────────────────


def test_report_monthly_closes_on_the_plans_own_due_day(loaded, county: County, tmp_path, capsys) -> None:  # type: ignore[no-untyped-def]
    out = tmp_path / "reports"
    town, figure = county.towns[-1], county.figures[-1]
    due = day_in_period(county, county.report_day)
    r = loaded("report", "submit", town, "--month", county.period, "--on", day_in_period(county, 5),
               "--figure", f"{figure}=9", "--today", day_in_period(county, 6))
    assert r.code == 0, r.err
    y, m = county.period.split("-")
    title = f"{y}年{int(m)}月情况通报"

    before = as_json(loaded("report", "monthly", "--json", "--period", county.period, "--out", str(out),
                            "--today", day_in_period(county, county.report_day - 3)))
    assert (before["title"], before["provisional"]) == (title, True)
    assert before["missing_reports"] == list(county.towns[:-1])

    after_day = day_in_period(county, county.report_day + 3)
    # only the daily run closes a month, as of the real date: here its clock says after_day 09:05
    from datetime import datetime
    from zoneinfo import ZoneInfo

    from flows import scheduler

    when = datetime.fromisoformat(f"{after_day}T09:05").replace(tzinfo=ZoneInfo("Asia/Shanghai"))
    scheduler.run_scheduled("deadline-check", county.district, county.year, clock=lambda: when)
    capsys.readouterr()  # (the run's reminders, printed to the console)
    closed = as_json(loaded("report", "monthly", "--json", "--period", county.period, "--out", str(out),
                            "--today", after_day))
    assert (closed["provisional"], closed["as_of"]) == (False, due)
    assert closed["missing_reports"] == list(county.towns[:-1])
    md = Path(closed["markdown"]).read_text(encoding="utf-8")
    assert Path(closed["markdown"]).parent == out and Path(closed["excel"]).exists()
    assert f"{county.district}" in md and title in md and figure in md and town in md
    assert other(county).district not in md and other(county).token not in md

    # a late report after the close does not change the closed month
    late = loaded("report", "submit", county.towns[0], "--month", county.period, "--on", after_day, "--today", after_day)
    assert late.code == 0, late.err
    again = as_json(loaded("report", "monthly", "--json", "--period", county.period, "--out", str(out),
                           "--today", after_day))
    assert again["missing_reports"] == list(county.towns[:-1])


# ── template and import ───────────────────────────────────────────────────────────────────────────────


def test_template_reports_has_the_plans_figures(run, county: County, tmp_path) -> None:  # type: ignore[no-untyped-def]
    out = tmp_path / "x.xlsx"
    r = run("template", "reports", "--out", str(out), "--config", path_of(county))
    assert r.code == 0, r.err
    ws = load_workbook(out).active
    headers = [c.value for c in ws[2]]  # row 1 names the plan
    towns_word = "乡镇（街道）" if county.district == "某市青山县" else "镇"  # the plan's own word for its towns
    assert headers == [towns_word, "月份", "报送日期", *county.figures]
    assert not (set(other(county).figures) - set(county.figures)) & set(headers)


def test_import_csv_of_monthly_reports(loaded, county: County, tmp_path) -> None:  # type: ignore[no-untyped-def]
    first, last = county.towns[0], county.towns[-1]
    on_time, late = day_in_period(county, county.report_day - 5), day_in_period(county, county.report_day + 2)
    today = day_in_period(county, 28)
    f1, f2 = county.figures[0], county.figures[2]
    path = tmp_path / "月报.csv"
    path.write_text(f"镇,月份,报送日期,{f1},{f2}\n{first},{county.period},{on_time},12,3\n"
                    f"{last},{county.period},{late},8,0\n", encoding="utf-8")
    label = f"月报 {county.period}"

    # a file naming the other county's town is refused as a whole
    bad = tmp_path / "bad.csv"
    stranger = other(county).towns[1]
    bad.write_text(path.read_text(encoding="utf-8") + f"{stranger},{county.period},{on_time},1,1\n", encoding="utf-8")
    before = rows(loaded, today, "--task", str(county.report_task))
    r = loaded("import", str(bad), "--today", today)
    word = "乡镇（街道）" if county.district == "某市青山县" else "镇"  # the plan's own word, in the error too
    assert r.code == 1 and f"bad.csv 第 4 行 “{word}”列: 未知{word} “{stranger}”" in r.err
    assert rows(loaded, today, "--task", str(county.report_task)) == before

    r = loaded("import", str(path), "--today", today)
    assert r.code == 0, r.err
    assert r.out.strip() == f"{county.district} {county.year} 年度: 已导入 月报.csv: 月报 2 行"
    got = {r["unit"]: r for r in rows(loaded, today, "--task", str(county.report_task)) if r["label"] == label}
    assert (got[first]["colour"], got[first]["completed_on"]) == ("已完成", on_time)
    assert (got[last]["colour"], got[last]["completed_on"]) == ("逾期完成", late)
    assert all(got[t]["colour"] == "红" for t in county.towns[1:-1])
