"""Reports on a data set spanning 2023-04 to 2023-12, built through the public recording API."""

import copy
from datetime import date, timedelta
from pathlib import Path

import pytest
from openpyxl import load_workbook

from fuquan.plans.loader import load_plan, parse_plan
from fuquan.tracking.scores import month_diff
from models import records
from models.db import make_engine, reading, transaction
from models.snapshots import get_snapshot
from models.stored import StoredPlan, read_plan
from models.sync import sync_plan
from models.tables import PlanRow
from reports import gather, render
from reports.charts import cjk_font
from tests import dbs
from tests.conftest import REAL_CONFIG, SMALL_PLAN

DEPTS = list(load_plan(REAL_CONFIG).group("各镇") and load_plan(REAL_CONFIG).group("区级执法单位").members)  # type: ignore[union-attr]
ACTOR = records.Actor("测试员", "test")


def events() -> dict[date, list]:  # type: ignore[type-arg]
    """Everything that happens in 2023, by day."""
    ev: dict[date, list] = {}  # type: ignore[type-arg]

    def on(d: date, fn, **kw) -> None:  # type: ignore[no-untyped-def]
        ev.setdefault(d, []).append((fn, kw))

    def report(town: str, period: str, day: date, n: int = 10) -> None:
        on(day, records.submit_report, task_no=None, town=town, period=period, submitted_on=day,
           figures={"审批办件量": n, "执法案件数": 2})

    for town in ("湾沚镇", "六郎镇", "红杨镇", "陶辛镇"):
        report(town, "2023-04", date(2023, 4, 19))
    for d in DEPTS:
        on(date(2023, 4, 25), records.sign_letter, task_no=None, department=d, town="湾沚镇", signed_on=date(2023, 4, 25))
    for i, d in enumerate(DEPTS):
        day = date(2023, 4, 28) if i < 5 else date(2023, 6, 10)
        on(day, records.sign_letter, task_no=None, department=d, town="六郎镇", signed_on=day)
    on(date(2023, 4, 10), records.file_training_plan, task_no=None, department="区水务局", filed_on=date(2023, 4, 10))
    on(date(2023, 4, 20), records.complete_training, task_no=None, department="区水务局", town="湾沚镇",
       completed_on=date(2023, 4, 20))
    on(date(2023, 4, 26), records.record_exam, task_no=None, town="湾沚镇", exam_on=date(2023, 4, 26),
       candidates=20, sat=19, passed=18)
    on(date(2023, 4, 27), records.set_exam_town, task_no=None, town="湾沚镇", certified_on=date(2023, 4, 27))
    on(date(2023, 5, 10), records.set_task_status, task_no=4, unit="区委编办", status="已完成", completed_on=date(2023, 5, 10))
    for town in ("湾沚镇", "六郎镇", "红杨镇"):
        report(town, "2023-05", date(2023, 5, 15))
    report("陶辛镇", "2023-05", date(2023, 5, 25))  # late
    on(date(2023, 5, 30), records.set_task_status, task_no=6, unit="区委编办", status="已完成", completed_on=date(2023, 5, 30))
    on(date(2023, 6, 15), records.set_task_status, task_no=5, unit="区委编办", status="已完成", completed_on=date(2023, 6, 15))
    report("湾沚镇", "2023-06", date(2023, 6, 15), n=15)
    for town in ("六郎镇", "红杨镇"):
        report(town, "2023-06", date(2023, 6, 15))
    report("陶辛镇", "2023-06", date(2023, 6, 25))  # late
    for month in range(7, 13):
        for town in ("湾沚镇", "六郎镇", "红杨镇", "陶辛镇"):
            report(town, f"2023-{month:02d}", date(2023, month, 15))  # 花桥镇 never reports
    return ev


@pytest.fixture(scope="module")
def seeded(tmp_path_factory: pytest.TempPathFactory):  # type: ignore[no-untyped-def]
    """The database as of 2023-12-31, months closed on their 20th as the daily run would; the May
    snapshot as it was on the day it closed."""
    url = dbs.fresh_url(tmp_path_factory.mktemp("reports"), "reports")
    engine = make_engine(url)
    with transaction(engine) as s:
        plan_id = sync_plan(s, load_plan(REAL_CONFIG)).plan_id
    ev = events()
    day, may = date(2023, 4, 10), None
    while day <= date(2023, 12, 31):
        if day in ev:
            with transaction(engine) as s:
                idx = read_plan(s, s.get(PlanRow, plan_id))  # type: ignore[arg-type]
                for fn, kw in ev[day]:
                    fn(s, idx, ACTOR, day, **kw)
        gather.close_months(engine, stored(engine, plan_id), day)
        if day == date(2023, 5, 20):
            with reading(engine) as s:
                may = copy.deepcopy(get_snapshot(s, plan_id, "2023-05"))
        day += timedelta(days=1)
    return engine, plan_id, may, url


def stored(engine, plan_id: int) -> StoredPlan:  # type: ignore[no-untyped-def]
    with reading(engine) as s:
        return read_plan(s, s.get(PlanRow, plan_id))  # type: ignore[arg-type]


def snapshot(engine, plan_id: int, period: str) -> dict:  # type: ignore[no-untyped-def, type-arg]
    with reading(engine) as s:
        snap = get_snapshot(s, plan_id, period)
    assert snap is not None
    return snap


def test_every_month_closed_on_its_20th(seeded) -> None:  # type: ignore[no-untyped-def]
    engine, plan_id, may, _ = seeded
    for m in range(4, 13):
        assert snapshot(engine, plan_id, f"2023-{m:02d}")["closed_on"] == f"2023-{m:02d}-20"
    assert may["missing"] == ["陶辛镇", "花桥镇"]  # 陶辛镇 reported on the 25th, after closing
    assert may["reports"]["湾沚镇"] == {"submitted_on": "2023-05-15", "figures": {"审批办件量": 10, "执法案件数": 2}}


def test_may_snapshot_is_unchanged_by_later_edits(seeded, tmp_path) -> None:  # type: ignore[no-untyped-def]
    engine, plan_id, may, url = seeded
    engine.dispose()  # PostgreSQL copies a database only while nobody is connected to it
    eng = make_engine(dbs.copy_of(url, tmp_path))  # edit a copy: the module's data set stays as described
    with transaction(eng) as s:
        idx = read_plan(s, s.get(PlanRow, plan_id))  # type: ignore[arg-type]
        records.submit_report(s, idx, ACTOR, date(2023, 7, 1), task_no=None, town="花桥镇", period="2023-05",
                              submitted_on=date(2023, 7, 1), figures={"审批办件量": 3})  # a very late 月报
        records.sign_letter(s, idx, ACTOR, date(2023, 8, 1), task_no=None, department="区水务局", town="陶辛镇",
                            signed_on=date(2023, 5, 5))  # back-dated, entered in August
    assert snapshot(eng, plan_id, "2023-05") == may
    again = gather.monthly(eng, stored(eng, plan_id), "2023-05", date(2024, 1, 10))
    assert again.snapshot == may and not again.provisional
    assert "**未报送: 陶辛镇、花桥镇。**" in render.markdown(again)
    # the late report is recorded as late in the live status
    live = gather.monthly(eng, stored(eng, plan_id), "2023-07", date(2023, 7, 2))
    late = [r for r in live.rows if (r.unit, r.label) == ("花桥镇", "月报 2023-05")]
    assert late[0].judgement.colour == "逾期完成" and late[0].judgement.workdays_late > 20


def test_june_diff_lists_exactly_the_changes(seeded) -> None:  # type: ignore[no-untyped-def]
    engine, plan_id, _, _ = seeded
    diff = month_diff(snapshot(engine, plan_id, "2023-05"), snapshot(engine, plan_id, "2023-06"))
    assert diff.newly_done == ["六郎镇 任务2", "区委编办 任务5", "区委编办 任务6",
                               "陶辛镇 任务14 月报 2023-05", "湾沚镇 任务14 月报 2023-06",
                               "六郎镇 任务14 月报 2023-06", "红杨镇 任务14 月报 2023-06"]
    assert diff.newly_overdue == ["花桥镇 任务14 月报 2023-05"]
    assert diff.figures == [("湾沚镇", "审批办件量", 10, 15)]
    text = render.markdown(gather.monthly(engine, stored(engine, plan_id), "2023-06", date(2023, 12, 31)))
    assert "| 湾沚镇 | 审批办件量 | 10 | 15 | +5 |" in text and "**新增逾期 1 项:**\n\n各镇 (1 个):\n\n- 花桥镇: 任务14「月报报送」 月报 2023-05" in text


def sheet_rows(ws) -> list[dict]:  # type: ignore[no-untyped-def, type-arg]
    """A report sheet's table: the header on row 3, under its title and 统计截至 rows."""
    heads = [c.value for c in ws[3]]
    return [dict(zip(heads, (c.value for c in r), strict=True)) for r in ws.iter_rows(min_row=4)]


def test_annual_ranking_is_reproducible_and_recomputable_from_excel(seeded, tmp_path) -> None:  # type: ignore[no-untyped-def]
    engine, plan_id, _, _ = seeded
    first = gather.analysis(engine, stored(engine, plan_id), "annual", "2023", date(2024, 1, 5))
    second = gather.analysis(engine, stored(engine, plan_id), "annual", "2023", date(2024, 1, 5))
    assert [(s.unit, s.score) for s in first.scores] == [(s.unit, s.score) for s in second.scores]
    files = render.write(first, tmp_path)
    wb = load_workbook(files.excel)
    assert wb.sheetnames == ["汇总", "任务", "逾期清单", "按单位", "按镇", "镇得分", "区级部门得分",
                                                   "确认书", "培训", "考试", "月报数据"]
    towns, depts = sheet_rows(wb["镇得分"]), sheet_rows(wb["区级部门得分"])
    assert [r["单位"] for r in towns] == ["湾沚镇", "六郎镇", "红杨镇", "陶辛镇", "花桥镇"]  # by score
    assert towns[-1]["月报按时率"] == 0 and towns[-1]["得分"] == 0 and towns[0]["得分"] > 40  # no floor flattens them
    assert depts[0]["单位"] == "区委编办" and depts[0]["名次"] == 1  # the only one that finished anything
    assert "月报按时率" not in depts[0] and not {r["单位"] for r in depts} & {r["单位"] for r in towns}
    w = first.weights
    share = 100 * w.completion / (w.on_time + w.completion)
    for r in towns + depts:  # redo every score by hand from the sheet and the weights on it
        tasks = (100 * r["按时完成"] + share * r["逾期完成"] - r["逾期完成扣分"]) / r["应完成"]
        assert round(tasks, 2) == r["任务得分"], r
        parts = [(tasks, w.on_time + w.completion)]
        if r.get("月报应报"):
            reports = (100 * r["月报按时"] + share * r["月报逾期"] - r["月报逾期扣分"]) / r["月报应报"]
            assert round(reports, 2) == r["月报得分"], r
            parts.append((reports, w.reports))
        assert round(sum(p * k for p, k in parts) / sum(k for _, k in parts), 1) == r["得分"], r
    for rows in (towns, depts):
        assert [r["名次"] for r in rows] == sorted(r["名次"] for r in rows) and rows[0]["名次"] == 1
    red = next(c for c in wb["任务"]["F"][3:] if c.value == "红")
    assert red.fill.start_color.rgb.endswith("FFC7CE")
    assert any(c.value == "未签" and c.fill.start_color.rgb.endswith("FFC7CE") for row in wb["确认书"].iter_rows(min_row=4) for c in row)
    assert wb["任务"].freeze_panes == "A4" and wb["任务"].column_dimensions["C"].width > 40
    assert len(sheet_rows(wb["月报数据"])) == 4 + 4 + 4 + 4 * 6  # every 月报 recorded
    text = files.markdown.read_text(encoding="utf-8")
    assert text.index("## 一、各镇得分排名") < text.index("## 二、区级部门得分排名") < text.index("## 四、得分说明")
    assert "| 1 | 区委编办 |" in text and "| 1 | 湾沚镇 |" in text


def test_charts_are_rendered_with_a_cjk_font(seeded, tmp_path) -> None:  # type: ignore[no-untyped-def]
    engine, plan_id, _, _ = seeded
    files = render.write(gather.monthly(engine, stored(engine, plan_id), "2023-06", date(2023, 12, 31)), tmp_path)
    family, font_file = cjk_font()
    assert "CJK" in family and files.font == font_file and "CJK" in Path(font_file).name
    assert [p.name for p in files.charts] == ["monthly-2023-06-completion.png", "monthly-2023-06-overdue.png"]
    assert all(p.stat().st_size > 20_000 for p in files.charts)


def _fresh(tmp_path: Path, text: str):  # type: ignore[no-untyped-def]
    engine = make_engine(dbs.fresh_url(tmp_path, "fresh"))
    with transaction(engine) as s:
        plan_id = sync_plan(s, parse_plan(text)).plan_id
    return engine, plan_id


def test_a_month_with_no_data_renders(tmp_path) -> None:  # type: ignore[no-untyped-def]
    engine, plan_id = _fresh(tmp_path, REAL_CONFIG.read_text(encoding="utf-8"))
    d = gather.monthly(engine, stored(engine, plan_id), "2023-06", date(2023, 6, 30))
    files = render.write(d, tmp_path / "out")
    text = files.markdown.read_text(encoding="utf-8")
    assert "本月无镇报送月报。" in text and "**未报送: 湾沚镇、六郎镇、陶辛镇、红杨镇、花桥镇。**" in text
    assert load_workbook(files.excel)["月报数据"]["A4"].value == "(无)" and all(p.exists() for p in files.charts)


def test_a_year_the_holiday_calendar_does_not_cover_renders(tmp_path) -> None:  # type: ignore[no-untyped-def]
    text = (SMALL_PLAN.replace("year: 2023", "year: 2031").replace("issued: 2023-04-18", "issued: 2031-04-18")
            .replace("units: [区委编办]\n", "units: [区委编办]\n    track: {monthly_reports: {towns: [各镇]}}\n")
            .replace("units:\n  - {name: 区委编办", "monthly_report: {figures: [审批办件量]}\nunits:\n  - {name: 区委编办"))
    engine, plan_id = _fresh(tmp_path, text)
    with transaction(engine) as s:
        idx = read_plan(s, s.get(PlanRow, plan_id))  # type: ignore[arg-type]
        records.submit_report(s, idx, ACTOR, date(2031, 5, 16), task_no=None, town="甲镇", period="2031-05",
                              submitted_on=date(2031, 5, 16), figures={"审批办件量": 7})
    gather.close_months(engine, stored(engine, plan_id), date(2031, 6, 1))  # the daily run of 2031-06-01
    monthly = gather.monthly(engine, stored(engine, plan_id), "2031-05", date(2031, 6, 1))
    assert not monthly.provisional and monthly.snapshot["missing"] == ["乙镇"]  # type: ignore[index]
    annual = gather.analysis(engine, stored(engine, plan_id), "annual", None, date(2032, 1, 5))
    files = render.write(annual, tmp_path / "out")
    assert "2031年度总结评估" in files.markdown.read_text(encoding="utf-8")
    assert [s.unit for s in annual.scores][:2] == ["区委编办", "甲镇"]


def test_a_font_installed_after_matplotlib_first_ran_is_found(monkeypatch) -> None:  # type: ignore[no-untyped-def]
    """matplotlib's font list cached before fonts-noto-cjk was installed (issue 27): rebuilt once, the font found."""
    from matplotlib import font_manager

    stale = [f for f in font_manager.fontManager.ttflist if "CJK" not in f.name]
    monkeypatch.setattr(font_manager.fontManager, "ttflist", stale)  # the cache as it was before the install
    family, font_file = cjk_font()
    assert "CJK" in family and Path(font_file).exists()


def test_without_any_cjk_font_the_error_names_what_was_written(seeded, tmp_path, monkeypatch) -> None:  # type: ignore[no-untyped-def]
    from reports import charts

    def none() -> tuple[str, str]:
        raise charts.FuquanError("未找到中文字体, 图表无法显示中文; 请安装 fonts-noto-cjk")

    monkeypatch.setattr(charts, "cjk_font", none)
    engine, plan_id, _, _ = seeded
    with pytest.raises(charts.FuquanError) as e:
        render.write(gather.monthly(engine, stored(engine, plan_id), "2023-06", date(2023, 12, 31)), tmp_path)
    said = str(e.value)
    assert "请安装 fonts-noto-cjk" in said and "monthly-2023-06.md" in said and "monthly-2023-06.xlsx" in said
    assert (tmp_path / "monthly-2023-06.md").exists() and (tmp_path / "monthly-2023-06.xlsx").exists()
