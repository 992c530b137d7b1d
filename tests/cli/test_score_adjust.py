"""考评 that leaders shape (issue 28): `fuquan score adjust UNIT ±N --reason … --period P` moves the unit's score in the
period's report — the analysis, the Markdown and the Excel — by exactly its points, with the reason beside it; an
opposite entry undoes it and both stay on the record; every entry is audited; bad input writes nothing. And the
plan's `evaluation.roles` weighs a share the unit leads apart from one it partners, as computed here by hand."""

from __future__ import annotations

import json
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
from openpyxl import load_workbook

from tests import dbs
from tests.conftest import ROOT, SMALL_PLAN

PLANS = ROOT / "tests" / "plans"


@dataclass(frozen=True)
class County:
    plan: Path
    label: str  # how commands name the plan
    unit: str  # the unit adjusted
    report: tuple[str, ...]  # a 月报 that came in on time: the unit's score is not 0 to begin with
    quarter: str
    today: str
    other: str  # a unit of another plan's: unknown here


COUNTIES = [
    County(PLANS / "lianhe-2025.yaml", "某市莲河县 2025 年度", "大坪乡",
           ("--month", "2025-05", "--on", "2025-05-06"), "2025Q2", "2025-07-03", "青山镇"),
    County(PLANS / "qingshan-2024.yaml", "某市青山县 2024 年度", "青山镇",
           ("--month", "2024-05", "--on", "2024-05-20"), "2024Q2", "2024-07-03", "大坪乡"),
]


@pytest.fixture
def county(request: pytest.FixtureRequest, run, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> County:  # type: ignore[no-untyped-def]
    c: County = request.param
    monkeypatch.setenv("FUQUAN_CONFIG", str(c.plan))
    monkeypatch.setenv("FUQUAN_DATA_DIR", str(tmp_path / "data"))
    monkeypatch.setenv("FUQUAN_NOTIFY_FILE", str(tmp_path / "n.md"))
    assert run("sync").code == 0
    assert run("report", "submit", c.unit, *c.report, "--today", c.today).code == 0
    return c


def quarterly(run, c: County, out: Path) -> dict[str, Any]:  # type: ignore[no-untyped-def]
    """The unit's row as the quarter's report shows it: the analysis (score show --json), the Markdown, the Excel."""
    shown = run("score", "show", "--period", c.quarter, "--today", c.today, "--json")
    assert shown.code == 0, shown.err
    data = json.loads(shown.out)
    [score] = [s for s in data["scores"] if s["unit"] == c.unit]
    r = run("report", "quarterly", "--period", c.quarter, "--today", c.today, "--out", str(out), "--json")
    assert r.code == 0, r.err
    files = json.loads(r.out)
    text = Path(files["markdown"]).read_text(encoding="utf-8")
    lines = text.split("## 一、", 1)[1].split("\n## ", 1)[0].splitlines()
    heads = [h.strip() for h in next(line for line in lines if line.startswith("| 名次")).strip("|").split("|")]
    cells = [x.strip() for x in next(line for line in lines if f"| {c.unit} |" in line).strip("|").split("|")]
    book = load_workbook(files["excel"])
    sheet = next(ws for ws in book if ws.title.endswith("得分") and any(cell.value == c.unit for cell in ws["B"]))
    sheet_heads = [cell.value for cell in sheet[3]]
    row = next(r for r in sheet.iter_rows(min_row=4, values_only=True) if r[1] == c.unit)
    return {"json": score, "entries": data["entries"], "md": dict(zip(heads, cells, strict=True)), "text": text,
            "xlsx": dict(zip(sheet_heads, row, strict=True))}


def annual_score(run, c: County) -> float:  # type: ignore[no-untyped-def]
    shown = json.loads(run("score", "show", "--period", c.quarter[:4], "--today", c.today, "--json").out)
    return next(s["score"] for s in shown["scores"] if s["unit"] == c.unit)  # type: ignore[no-any-return]


@pytest.mark.parametrize("county", COUNTIES, indirect=True, ids=lambda c: c.plan.stem)
def test_an_adjustment_moves_the_score_by_its_points_and_an_opposite_one_undoes_it(  # type: ignore[no-untyped-def]
        county: County, run, db_url, tmp_path) -> None:
    c = county
    before = quarterly(run, c, tmp_path / "before")
    base = before["json"]["score"]
    assert 0 < base < 100 and "调整原因" not in before["text"]  # no adjustment yet: no empty 调整 columns
    year = annual_score(run, c)

    r = run("score", "adjust", c.unit, "+2.5", "--reason", "牵头完成省级试点", "--period", c.quarter,
            "--today", c.today, "--operator", "李明")
    assert r.code == 0, r.err
    assert r.out.startswith(f"{c.label}: 已登记 {c.unit} {c.quarter} 得分调整 +2.5 分 (理由: 牵头完成省级试点); "
                            "该单位本期调整合计 +2.5 分。")
    assert f"fuquan score adjust {c.unit} -2.5 --period {c.quarter}" in r.out  # how to undo it, to copy
    after = quarterly(run, c, tmp_path / "after")
    reason = f"+2.5 分: 牵头完成省级试点 (李明 {c.today})"
    assert after["json"]["score"] == round(base + 2.5, 1) and after["json"]["base"] == base
    assert after["md"]["得分"] == f"{base + 2.5:.1f}" and after["md"]["调整分"] == "+2.5"
    assert after["md"]["调整原因"] == reason
    assert after["xlsx"]["得分"] == round(base + 2.5, 1) and after["xlsx"]["调整前得分"] == base
    assert after["xlsx"]["调整分"] == 2.5 and after["xlsx"]["调整原因"] == reason
    assert annual_score(run, c) == year  # a quarter's adjustment is that quarter's, not the year's

    r = run("score", "adjust", c.unit, "-2.5", "--reason", "撤销: 试点尚未验收", "--period", c.quarter,
            "--today", c.today, "--operator", "王强")
    assert r.code == 0 and "该单位本期调整合计 +0 分" in r.out
    undone = quarterly(run, c, tmp_path / "undone")
    assert undone["json"]["score"] == base and undone["xlsx"]["得分"] == base and undone["md"]["得分"] == f"{base:.1f}"
    both = f"{reason}; -2.5 分: 撤销: 试点尚未验收 (王强 {c.today})"  # nothing deleted: both entries shown
    assert undone["md"]["调整分"] == "+0" and undone["md"]["调整原因"] == both and undone["xlsx"]["调整原因"] == both
    assert [(e["unit"], e["points"], e["by"]) for e in undone["entries"]] == [(c.unit, 2.5, "李明"), (c.unit, -2.5, "王强")]

    assert dbs.rows(db_url, "SELECT a.by, a.entity, a.ref, a.field, a.new FROM audit a WHERE a.entity = 'score_adjustment'"
                            " ORDER BY a.id") == [
        ("李明", "score_adjustment", f"{c.unit}/{c.quarter}", "得分调整", "+2.5 分: 牵头完成省级试点"),
        ("王强", "score_adjustment", f"{c.unit}/{c.quarter}", "得分调整", "-2.5 分: 撤销: 试点尚未验收")]
    stored = dbs.rows(db_url, "SELECT period, points, reason, by FROM score_adjustment ORDER BY id")
    assert stored == [(c.quarter, 2.5, "牵头完成省级试点", "李明"), (c.quarter, -2.5, "撤销: 试点尚未验收", "王强")]


@pytest.mark.parametrize("county", COUNTIES, indirect=True, ids=lambda c: c.plan.stem)
def test_bad_input_is_a_chinese_error_and_writes_nothing(county: County, run, db_url) -> None:  # type: ignore[no-untyped-def]
    c = county
    year = c.quarter[:4]
    cases = [
        ((c.other, "5", "--reason", "理由", "--period", c.quarter), f"错误: 未知单位 “{c.other}”; 已有单位: "),
        (("各乡镇", "5", "--reason", "理由", "--period", c.quarter), "错误: 未知单位 “各乡镇”"),  # a group is not a unit
        ((c.unit, "五分", "--reason", "理由", "--period", c.quarter), "错误: 分值应为数字, 如 +2、-1.5, 实为 “五分”"),
        ((c.unit, "0", "--reason", "理由", "--period", c.quarter), "错误: 分值应为不等于 0 的数, 实为 “0”"),
        ((c.unit, "1.25", "--reason", "理由", "--period", c.quarter), "错误: 分值最多一位小数 (得分保留一位小数), 实为 “1.25”"),
        ((c.unit, "500", "--reason", "理由", "--period", c.quarter), "错误: 分值应在 -100 到 +100 之间, 实为 “500”"),
        ((c.unit, "nan", "--reason", "理由", "--period", c.quarter), "错误: 分值应为不等于 0 的数, 实为 “nan”"),
        ((c.unit, "5", "--reason", "  ", "--period", c.quarter), "错误: 请用 --reason 写明调整理由"),
        ((c.unit, "5", "--reason", "理由", "--period", f"{year}-06"),
         f"错误: 期间应写作 YYYYQn (季度, 如 {year}Q2) 或 YYYY (年度, 如 {year}), 实为 “{year}-06”"),
        ((c.unit, "5", "--reason", "理由", "--period", f"{int(year) - 1}Q2"),
         f"错误: 期间 {int(year) - 1}Q2 不在计划年度 {year} 内; 季度写作 {year}Q1 至 {year}Q4, 年度写作 {year}"),
        ((c.unit, "5", "--reason", "理由", "--period", f"{year}Q5"), "错误: 期间应写作 YYYYQn"),
    ]
    before = dbs.fingerprint(db_url)
    for args, said in cases:
        r = run("score", "adjust", *args, "--today", c.today)
        assert (r.code, r.out) == (1, ""), args
        assert r.err.startswith(said), (args, r.err)
    assert dbs.fingerprint(db_url) == before


ROLES = SMALL_PLAN.replace("units:\n  - {name: 区委编办", "evaluation:\n  roles: {lead: 1, partner: 0.5}\nunits:\n"
                           "  - {name: 区委编办", 1)


def department_score(run, plan: Path) -> dict[str, Any]:  # type: ignore[no-untyped-def]
    """区委编办 in 2023Q2: it leads task 3 (每月20日前: April, May and June, each done on time) and partners in task 2
    (4月底前, not done); task 1 fell due in March, outside the quarter."""
    assert run("sync", "--config", str(plan)).code == 0
    for month in ("04", "05", "06"):
        assert run("task", "set", "3", "区委编办", "已完成", "--on", f"2023-{month}-19", "--period", f"2023-{month}",
                   "--today", "2023-07-01").code == 0
    shown = json.loads(run("score", "show", "--period", "2023Q2", "--today", "2023-07-01", "--json").out)
    return next(s for s in shown["scores"] if s["unit"] == "区委编办")  # type: ignore[no-any-return]


def test_equal_roles_keep_the_scores_and_a_lighter_partner_share_counts_less(run, write_plan, tmp_path, monkeypatch) -> None:  # type: ignore[no-untyped-def]
    monkeypatch.setenv("FUQUAN_DATA_DIR", str(tmp_path / "data"))
    plain = department_score(run, write_plan(SMALL_PLAN, "plain.yaml"))
    assert plain["score"] == 75.0  # (100 + 100 + 100 + 0) ÷ 4: every share alike, as before roles existed
    assert plain["lost"] == ["未完成 1 项 (扣 25.0 分)"]
    assert run("sync", "--config", str(write_plan(ROLES, "plain.yaml"))).code == 0  # the same plan, roles added
    shown = json.loads(run("score", "show", "--period", "2023Q2", "--today", "2023-07-01", "--json").out)
    weighed = next(s for s in shown["scores"] if s["unit"] == "区委编办")
    # lead shares weigh 1, the partner share 0.5: (100 × 1 × 3 + 0 × 0.5) ÷ (1 × 3 + 0.5) = 85.71…
    assert weighed["score"] == 85.7 and weighed["lost"] == ["未完成 1 项 (扣 14.3 分)"]  # 100 × 0.5 ÷ 3.5


def test_roles_must_weigh_something(run, write_plan) -> None:  # type: ignore[no-untyped-def]
    bad = ROLES.replace("partner: 0.5", "partner: 0")
    r = run("plan", "check", "--config", str(write_plan(bad)))
    assert r.code == 1 and "配合单位分工权重(partner) 超出范围: “0”" in r.err
    r = run("plan", "check", "--config", str(write_plan(ROLES.replace("partner: 0.5", "helper: 2"))))
    assert r.code == 1 and "未知字段 “helper”; 允许的字段: lead, partner" in r.err


def test_the_readme_worked_example_with_roles_and_an_adjustment() -> None:
    """docs/readme-scores.md (README, 得分怎么算): the worked example's town, leading 3 of its 8 shares (all on time) and
    partnering in 5 (2 on time, the late and the missing ones among them), with roles {lead: 1, partner: 0.5}; then
    +2 for the year."""
    from datetime import date, timedelta

    from fuquan.plans.policy import Weights
    from fuquan.tracking.judge import DONE, DONE_LATE, RED, Judgement
    from fuquan.tracking.ledger import Row
    from fuquan.tracking.scores import Adjustment, adjust, score_units

    def item(colour: str, late: int = 0, *, role: str = "lead", due: date = date(2023, 4, 28)) -> Row:
        done = due + timedelta(days=late) if colour == DONE_LATE else due if colour == DONE else None
        label = f"月报 {due:%Y-%m}" if role == "report" else ""
        return Row(1, "任务", "4月底前", "湾沚镇", "town", role, Judgement(colour, due, done, late, late), label=label)

    rows = [item(DONE) for _ in range(3)] + [item(DONE, role="partner") for _ in range(2)]
    rows += [item(DONE_LATE, 10, role="partner"), item(DONE_LATE, 60, role="partner"), item(RED, 150, role="partner")]
    rows += [item(DONE, role="report", due=date(2023, m, 20)) for m in range(4, 12)]
    rows.append(item(RED, 5, role="report", due=date(2023, 12, 20)))
    plain = Weights(on_time=50, completion=30, reports=20, late_penalty=0.5, late_penalty_cap=20)
    [same] = score_units(rows, date(2023, 1, 1), date(2023, 12, 31), plain)
    assert same.score == 72.8  # no roles: the README's first example, unchanged
    roles = Weights(on_time=50, completion=30, reports=20, late_penalty=0.5, late_penalty_cap=20, lead=1, partner=0.5)
    [s] = score_units(rows, date(2023, 1, 1), date(2023, 12, 31), roles)
    assert round(s.parts["tasks"], 2) == 77.27 and s.score == 79.6  # (300 + 100 + 25 + 0) ÷ 5.5; (77.27 × 80 + 88.89 × 20) ÷ 100
    assert s.lost == ("未完成 1 项 (扣 7.3 分)", "逾期完成 2 项, 共逾期 70 个工作日 (扣 10.9 分)", "月报未报 1 期 (扣 2.2 分)")
    entry = Adjustment("湾沚镇", "2023", 2, "牵头完成省级试点", "李明", date(2024, 1, 5))
    [adjusted], unscored = adjust([s], [entry])
    assert (adjusted.score, adjusted.base, adjusted.adjusted, unscored) == (81.6, 79.6, 2.0, [])
    assert str(entry) == "+2 分: 牵头完成省级试点 (李明 2024-01-05)"
