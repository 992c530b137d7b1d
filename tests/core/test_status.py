from datetime import date

import pytest

from fuquan.deadline import parse_deadline
from fuquan.status import DONE, GREEN, ONGOING, PENDING, RED, YELLOW, TaskFacts, counts, plan_status, task_status


def facts(deadline: str, done: int = 0, assignees: int = 3, no: int = 1) -> TaskFacts:
    return TaskFacts(no, "任务", parse_deadline(deadline, 2023), "区委编办", assignees, done)


@pytest.mark.parametrize(("deadline", "today", "state", "days_left"), [
    ("3月底前", date(2023, 4, 18), RED, -18),          # the plan was issued after its own deadline
    ("4月底前", date(2023, 4, 28), YELLOW, 2),
    ("4月底前", date(2023, 4, 30), YELLOW, 0),
    ("4月底前", date(2023, 4, 25), YELLOW, 5),
    ("4月底前", date(2023, 4, 24), GREEN, 6),
    ("4月底前", date(2023, 5, 1), RED, -1),
    ("每月20日前", date(2023, 4, 28), GREEN, 22),        # judged on the next period (05-20)
    ("每月20日前", date(2023, 5, 18), YELLOW, 2),
    ("持续推进", date(2030, 1, 1), ONGOING, None),     # open kinds are never red
    ("立即", date(2030, 1, 1), ONGOING, None),
    ("按省级部署", date(2030, 1, 1), PENDING, None),
    ("结合工作实际确定", date(2030, 1, 1), PENDING, None),
    ("4月至6月", date(2023, 7, 1), RED, -1),
    ("每月20日前", date(2023, 12, 21), RED, -1),       # after the plan year: its last period is judged
    ("每月20日前", date(2026, 11, 23), RED, -1069),
])
def test_state_as_of_a_day(deadline: str, today: date, state: str, days_left: int | None) -> None:
    s = task_status(facts(deadline), today, 2023)
    assert (s.state, s.days_left) == (state, days_left)


def test_done_when_every_assignee_is_done_even_if_late() -> None:
    assert task_status(facts("3月底前", done=3), date(2023, 5, 1), 2023).state == DONE
    assert task_status(facts("3月底前", done=2), date(2023, 5, 1), 2023).state == RED


def test_warning_window_is_a_parameter() -> None:
    assert task_status(facts("4月底前"), date(2023, 4, 20), 2023, warn_days=10).state == YELLOW
    assert task_status(facts("4月底前"), date(2023, 4, 20), 2023, warn_days=5).state == GREEN


def test_counts_and_order() -> None:
    statuses = plan_status([facts("持续推进", no=2), facts("3月底前", no=1)], date(2023, 4, 28), 2023)
    assert [s.facts.no for s in statuses] == [1, 2]
    assert counts(statuses) == {RED: 1, YELLOW: 0, GREEN: 0, ONGOING: 1, PENDING: 0, DONE: 0}
    assert statuses[0].as_dict()["days_overdue"] == 28
