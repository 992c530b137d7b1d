"""A compound deadline in a plan (5月底前完成，此后每月10日前报送) is owed at each of its due dates: status gives
one row per due date, each is recorded on its own, and reminders name each date that is late."""

import json

import pytest

from tests.conftest import ROOT

QINGSHAN = ROOT / "tests" / "plans" / "qingshan-2024.yaml"
COMPOUND = "5月底前完成，此后每月10日前报送"


@pytest.fixture
def compound_plan(run, tmp_path):  # type: ignore[no-untyped-def]
    text = QINGSHAN.read_text(encoding="utf-8")
    assert "    deadline: 年底前\n" in text  # task 16, units 县委编办 and 县司法局
    path = tmp_path / "qingshan-compound.yaml"
    path.write_text(text.replace("    deadline: 年底前\n", f"    deadline: {COMPOUND}\n"), encoding="utf-8")
    assert run("sync", "--config", str(path)).code == 0
    return str(path)


def rows(run, today: str, task: int = 16, unit: str = "县委编办") -> list[dict]:  # type: ignore[no-untyped-def, type-arg]
    r = run("status", "--today", today, "--json")
    assert r.code == 0, r.err
    return [x for x in json.loads(r.out)["rows"] if x["task"] == task and x["unit"] == unit]


def test_plan_show_gives_the_parts(run, compound_plan) -> None:  # type: ignore[no-untyped-def]
    r = run("plan", "show", "--config", compound_plan, "--json")
    deadline = next(t for t in json.loads(r.out)["tasks"] if t["no"] == 16)["deadline"]
    assert deadline["kind"] == "compound"
    assert [(p["kind"], p["due"], p["start"], p["rule"]) for p in deadline["parts"]] == [
        ("date", "2024-05-31", None, None),
        ("recurring", None, "2024-06-01", {"freq": "monthly", "day": 10}),
    ]


def test_status_has_one_row_per_due_date(run, compound_plan) -> None:  # type: ignore[no-untyped-def]
    mine = rows(run, "2024-07-15")
    assert [(r["label"], r["due"], r["colour"]) for r in mine] == [
        ("2024-05-31", "2024-05-31", "红"), ("2024-06-10", "2024-06-10", "红"),
        ("2024-07-10", "2024-07-10", "红"), ("2024-08-10", "2024-08-10", "绿"),
    ]
    assert mine[0]["missing"] == ["2024-05-31"]


def test_each_due_date_is_recorded_on_its_own(run, compound_plan) -> None:  # type: ignore[no-untyped-def]
    r = run("task", "set", "16", "县委编办", "已完成", "--on", "2024-05-30", "--period", "2024-05-31")
    assert r.code == 0, r.err
    colours = {x["label"]: x["colour"] for x in rows(run, "2024-07-15")}
    assert colours == {"2024-05-31": "已完成", "2024-06-10": "红", "2024-07-10": "红", "2024-08-10": "绿"}
    assert {x["colour"] for x in rows(run, "2024-07-15", unit="县司法局")} == {"红", "绿"}  # the other unit still owes
    wrong = run("task", "set", "16", "县委编办", "已完成", "--on", "2024-06-01", "--period", "2024-06-30")
    assert wrong.code == 1 and "可登记的期: 2024-05-31、2024-06-10" in wrong.err


def test_reminders_name_each_late_due_date(run, compound_plan) -> None:  # type: ignore[no-untyped-def]
    r = run("remind", "--dry-run", "--json", "--today", "2024-07-15", "--now", "2024-07-15T09:05")
    assert r.code == 0, r.err
    late = sorted(x["due"] for m in json.loads(r.out)["messages"] for x in m["reminders"]
                  if x["task"] == 16 and x["about"] == "县委编办" and x["kind"] == "overdue")
    assert late == ["2024-05-31", "2024-06-10", "2024-07-10"]
