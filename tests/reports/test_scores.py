"""The scoring rule on hand-made rows: every item scores on its own (on time 100, late the completion share
less a capped deduction, not done 0), nothing floors the total, and a tie never favours doing nothing
(issue: one missed 月报 = 0 分, everyone 0 in the annual, a tie-break that put the idle first)."""

from datetime import date, timedelta

import pytest

from fuquan.plans.policy import Weights
from fuquan.tracking.judge import DONE, DONE_LATE, RED, YELLOW, Judgement
from fuquan.tracking.ledger import Row
from fuquan.tracking.scores import by_kind, rank, score_units

WANZHI = Weights(on_time=50, completion=30, reports=20, late_penalty=0.5, late_penalty_cap=20)
QINGSHAN = Weights(on_time=40, completion=40, reports=20, late_penalty=1, late_penalty_cap=25)
START, END = date(2023, 1, 1), date(2023, 12, 31)
DUE = date(2023, 4, 28)


def item(unit: str, colour: str, late: int = 0, *, kind: str = "department", task: int = 1, report: bool = False,
         due: date = DUE) -> Row:
    done = due + timedelta(days=late) if colour == DONE_LATE else due if colour == DONE else None
    j = Judgement(colour, due, done, late, late)
    role = "report" if report else "lead"
    return Row(task, "任务", "4月底前", unit, kind, role, j, label=f"月报 {due:%Y-%m}" if report else "")


def places(rows: list[Row], w: Weights = WANZHI) -> list[tuple[int, str, float]]:
    return [(p, s.unit, s.score) for p, s in rank(score_units(rows, START, END, w))]


def test_the_readme_worked_example() -> None:
    """README, Reports: 5 of 8 tasks on time, 2 late (10 and 60 working days), 1 not done; 8 of 9 月报 on time."""
    rows = [item("湾沚镇", DONE, kind="town", task=n) for n in range(5)]
    rows += [item("湾沚镇", DONE_LATE, 10, kind="town", task=5), item("湾沚镇", DONE_LATE, 60, kind="town", task=6),
             item("湾沚镇", RED, 150, kind="town", task=7)]
    rows += [item("湾沚镇", DONE, kind="town", report=True, due=date(2023, m, 20)) for m in range(4, 12)]
    rows += [item("湾沚镇", RED, 5, kind="town", report=True, due=date(2023, 12, 20))]
    [s] = score_units(rows, START, END, WANZHI)
    assert round(s.parts["tasks"], 2) == 68.75 and round(s.parts["reports"], 2) == 88.89
    assert s.score == 72.8 and s.tasks.deduction == 25
    assert s.lost == ("未完成 1 项 (扣 10.0 分)", "逾期完成 2 项, 共逾期 70 个工作日 (扣 15.0 分)",
                      "月报未报 1 期 (扣 2.2 分)")


@pytest.mark.parametrize("w", [WANZHI, QINGSHAN], ids=["wanzhi", "qingshan"])
def test_all_on_time_first_nothing_last_and_effort_in_between(w: Weights) -> None:
    rows = [item("全部按时", DONE, task=n) for n in range(4)]
    rows += [item("全部逾期", DONE_LATE, 200, task=n) for n in range(4)]  # very late, yet finished
    rows += [item("完成一半", DONE, task=n) for n in range(2)] + [item("完成一半", RED, 150, task=n) for n in (2, 3)]
    rows += [item("一项未做", RED, 3, task=n) for n in range(4)]  # hardly late at all, but nothing done
    got = places(rows, w)
    assert [u for _, u, _ in got] == ["全部按时", "完成一半", "全部逾期", "一项未做"]
    assert got[0][2] == 100 and got[-1][2] == 0 and 0 < got[2][2] < got[1][2]


def test_one_missed_report_is_not_zero() -> None:
    """A town that did every task on time and missed one 月报 of three loses that 月报's share only."""
    rows = [item("六郎镇", DONE, kind="town", task=n) for n in range(6)]
    rows += [item("六郎镇", DONE, kind="town", report=True, due=date(2023, m, 20)) for m in (4, 5)]
    rows.append(item("六郎镇", YELLOW, kind="town", report=True, due=date(2023, 6, 20)))  # due today, not in
    [s] = score_units(rows, START, date(2023, 6, 20), WANZHI)
    assert s.score == 93.3 and s.lost == ("月报未报 1 期 (扣 6.7 分)",)


def test_lateness_never_floors_the_total() -> None:
    """A year of long-overdue work: every unit that finished something stays above the ones that did not."""
    towns = {f"{n}镇": n for n in range(5)}  # n items finished (late), 5 - n still overdue by a year
    rows = [item(t, DONE_LATE if i < n else RED, 240, kind="town", task=i) for t, n in towns.items() for i in range(5)]
    scores = {s.unit: s.score for s in score_units(rows, START, END, WANZHI)}
    assert [scores[t] for t in towns] == sorted(scores.values()) and len(set(scores.values())) == 5
    assert scores["0镇"] == 0 and scores["1镇"] > 0


def test_a_tie_never_favours_doing_nothing() -> None:
    """Weights under which a very late item is worth 0: finishing it still ranks above not finishing it,
    even when the one that did nothing has fewer working days late."""
    w = Weights(on_time=50, completion=10, reports=0, late_penalty=1, late_penalty_cap=50)
    rows = [item("区水务局", DONE_LATE, 90), item("区水务局", RED, 100, task=2),
            item("区城市管理局", RED, 2), item("区城市管理局", RED, 2, task=2)]
    got = places(rows, w)
    assert got == [(1, "区水务局", 0.0), (2, "区城市管理局", 0.0)]


def test_towns_and_departments_are_ranked_apart_and_open_work_is_not_scored() -> None:
    rows = [item("湾沚镇", DONE, kind="town"), item("区委编办", RED, 5), item("开发区", DONE, kind="zone"),
            item("区水务局", DONE), item("区水务局", YELLOW, task=2, due=date(2023, 7, 1))]  # due after as-of
    groups = {k: [(p, s.unit) for p, s in rank(g)] for k, g in by_kind(score_units(rows, START, date(2023, 6, 30), WANZHI))}
    assert groups == {"town": [(1, "湾沚镇")], "department": [(1, "区水务局"), (2, "区委编办")], "zone": [(1, "开发区")]}
    [water] = [s for s in score_units(rows, START, date(2023, 6, 30), WANZHI) if s.unit == "区水务局"]
    assert water.tasks.due == 1 and water.score == 100
