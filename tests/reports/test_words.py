"""The plan's own words: everything fuquan writes for the 青山县 plan (乡, 镇 and 街道; a 县) — reminders,
status, reports, workbooks, blank sheets, the summary to the 专班 — and none of 湾沚区's words."""

import json
from pathlib import Path

from openpyxl import load_workbook

from tests.conftest import ROOT

QINGSHAN = ROOT / "tests" / "plans" / "qingshan-2024.yaml"
Y = ("--year", "2024")
WANZHI_WORDS = ("湾沚", "镇赋权", "各镇", "区级", "区司法局", "无镇", "区委编办", "区镇")


def workbook_text(path: Path) -> str:
    wb = load_workbook(path, read_only=True)
    return "\n".join(str(v) for ws in wb.worksheets for row in ws.iter_rows(values_only=True) for v in row if v)


def test_a_county_plan_is_written_about_in_its_own_words(run, tmp_path, monkeypatch) -> None:  # type: ignore[no-untyped-def]
    monkeypatch.setenv("FUQUAN_NOTIFY_FILE", str(tmp_path / "n.md"))
    monkeypatch.delenv("SLACK_BOT_TOKEN", raising=False)
    assert run("sync", "--config", str(QINGSHAN)).code == 0
    out = tmp_path / "r"
    texts = [json.dumps(json.loads(run("remind", "--dry-run", "--json", *Y, "--today", day, "--now", f"{day}T09:05").out),
                        ensure_ascii=False) for day in ("2024-03-11", "2024-04-26", "2024-06-28")]
    texts.append(run("status", *Y, "--today", "2024-07-03", "--by", "town").out)
    for args in (("monthly", "--period", "2024-03"), ("quarterly", "--period", "2024Q2"), ("annual",)):
        r = run("report", *args, *Y, "--today", "2024-07-03", "--out", str(out), "--send", "--json")
        assert r.code == 0, r.err
        data = json.loads(r.out)
        texts += [Path(data["markdown"]).read_text(encoding="utf-8"), workbook_text(Path(data["excel"]))]
    for kind in ("letters", "plans", "sessions", "training", "exams", "reports"):
        sheet = tmp_path / f"{kind}.xlsx"
        assert run("template", kind, "--config", str(QINGSHAN), "--out", str(sheet)).code == 0
        texts.append(workbook_text(sheet))
    texts.append((tmp_path / "n.md").read_text(encoding="utf-8"))  # the summaries sent to the 专班
    wrong = run("report", "submit", "湾沚镇", "--month", "2024-03", "--on", "2024-03-20", *Y, "--today", "2024-04-01")
    assert wrong.code == 1 and "未知乡镇（街道） “湾沚镇”; 已有乡镇（街道）: 青山镇" in wrong.err
    texts.append(run("task", "set", "15", "青山镇", "已完成", "--on", "2024-03-20", *Y, "--today", "2024-04-01").err)
    everything = "\n".join(texts)
    assert [w for w in WANZHI_WORDS if w in everything] == []
    for own in ("【某市青山县乡镇（街道）赋权督办】", "乡镇（街道）赋权工作", "各乡镇（街道）得分排名", "县级部门得分",
                "培训指导计划报县司法局", "按乡镇（街道）"):
        assert own in everything, own
