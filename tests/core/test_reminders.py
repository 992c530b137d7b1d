from dataclasses import replace
from datetime import date, time

import pytest

from fuquan.dates.workdays import WorkCalendar
from fuquan.plans.loader import default_policy
from fuquan.plans.plan import Words
from fuquan.tracking.judge import judge
from fuquan.tracking.ledger import Row
from fuquan.tracking.reminders import by_recipient, due_reminders
from fuquan.words.messages import Occasion, compose

CAL = WorkCalendar()
WORDS = Words("区", "镇", "镇赋权", ())
ISSUED = date(2023, 4, 18)
POLICY = replace(default_policy(), before_due=(5, 2, 0), overdue_every=3, escalate_after=5, ongoing_every=20)


def row(due: date | None, today: date, unit: str = "甲镇", task: int = 2, kind: str = "date",
        missing: tuple[str, ...] = ()) -> Row:
    return Row(task, "签订确认书", "4月底前", unit, "town", "partner", judge(due, None, today, CAL, 3, kind), missing,
               title="签订确认书")


def stages(today: date, due: date | None = date(2023, 5, 31), **kw) -> list[tuple[str, str, str]]:  # type: ignore[no-untyped-def]
    rs = due_reminders([row(due, today, **kw)], POLICY, today, CAL, ISSUED, {2: "区委编办"})
    return [(r.recipient, r.kind, r.stage) for r in rs]


@pytest.mark.parametrize(("today", "expected"), [
    (date(2023, 5, 22), []),                                       # 7 working days left
    (date(2023, 5, 24), [("甲镇", "before", "before-5")]),           # 5 left
    (date(2023, 5, 26), [("甲镇", "before", "before-5")]),           # 3 left: still the 5-day stage
    (date(2023, 5, 29), [("甲镇", "before", "before-2")]),           # 2 left
    (date(2023, 5, 31), [("甲镇", "before", "before-0")]),           # due today
    (date(2023, 6, 1), [("甲镇", "overdue", "overdue-0")]),          # 1 working day late
    (date(2023, 6, 5), [("甲镇", "overdue", "overdue-0")]),          # 3 late: still the first overdue stage
    (date(2023, 6, 6), [("甲镇", "overdue", "overdue-1")]),          # 4 late: repeated 3 working days on
    (date(2023, 6, 7), [("甲镇", "overdue", "overdue-1"),           # 5 late: escalate to the lead and 专班
                        ("区委编办", "escalation", "escalation-0"), ("专班", "escalation", "escalation-0")]),
])
def test_stages(today: date, expected: list[tuple[str, str, str]]) -> None:
    assert stages(today) == expected


def test_stages_across_may_day_use_working_days() -> None:
    # due Sunday 04-30 (the 五一 break starts 04-29): on Friday 04-28 nothing working is left → before-0
    assert stages(date(2023, 4, 28), due=date(2023, 4, 30)) == [("甲镇", "before", "before-0")]
    # the make-up Sunday 04-23 counts: 04-23 → 5 working days left (24–28)
    assert stages(date(2023, 4, 23), due=date(2023, 4, 30)) == [("甲镇", "before", "before-5")]
    # first working day after the break is 1 working day late
    assert stages(date(2023, 5, 4), due=date(2023, 4, 30)) == [("甲镇", "overdue", "overdue-0")]


def test_lead_is_not_told_about_itself_and_a_group_lead_escalates_to_the_zhuanban_only() -> None:
    today = date(2023, 6, 7)
    own = due_reminders([row(date(2023, 5, 31), today, unit="区委编办")], POLICY, today, CAL, ISSUED, {2: "区委编办"})
    assert [(r.recipient, r.kind) for r in own] == [("区委编办", "overdue"), ("专班", "escalation")]
    grouped = due_reminders([row(date(2023, 5, 31), today)], POLICY, today, CAL, ISSUED, {2: None})
    assert [(r.recipient, r.kind) for r in grouped] == [("甲镇", "overdue"), ("专班", "escalation")]


def test_open_kinds_get_nudges_not_alarms() -> None:
    assert stages(date(2023, 5, 10), due=None, kind="ongoing") == []  # 15 working days since issue
    assert stages(date(2023, 5, 17), due=None, kind="ongoing") == [("甲镇", "nudge", "nudge-1")]
    assert stages(date(2023, 6, 20), due=None, kind="per_higher_level") == [("甲镇", "nudge", "nudge-2")]


def test_identity_is_stable_and_distinct_per_stage_and_recipient() -> None:
    a = due_reminders([row(date(2023, 5, 31), date(2023, 5, 24))], POLICY, date(2023, 5, 24), CAL, ISSUED, {})
    b = due_reminders([row(date(2023, 5, 31), date(2023, 5, 25))], POLICY, date(2023, 5, 25), CAL, ISSUED, {})
    assert a[0].key == b[0].key == "2|甲镇||before|2023-05-31|before-5|甲镇"  # same stage two days running
    c = due_reminders([row(date(2023, 5, 31), date(2023, 5, 29))], POLICY, date(2023, 5, 29), CAL, ISSUED, {})
    assert c[0].key != a[0].key


def test_per_task_override() -> None:
    policy = replace(default_policy(), overrides={2: {"before_due": [1]}})
    assert due_reminders([row(date(2023, 5, 31), date(2023, 5, 29))], policy, date(2023, 5, 29), CAL, ISSUED, {}) == []
    assert policy.for_task(3).before_due == (5, 2, 0)


def test_quiet_hours() -> None:
    assert POLICY.quiet(time(8, 59)) and not POLICY.quiet(time(9, 0)) and POLICY.quiet(time(18, 0))


def test_one_grouped_message_per_recipient_names_what_is_owed() -> None:
    today = date(2023, 4, 28)
    rows = [row(date(2023, 4, 30), today, missing=("区水务局承接确认书",)),
            Row(1, "确定承接事项", "3月底前", "甲镇", "town", "partner", judge(date(2023, 3, 31), None, today, CAL, 3),
                title="确定承接事项")]
    leads: dict[int, str | None] = {1: "区委编办", 2: "区委编办"}
    grouped = by_recipient(due_reminders(rows, POLICY, today, CAL, ISSUED, leads))
    assert set(grouped) == {"甲镇", "区委编办", "专班"}
    o = Occasion(today, "测试区", WORDS, CAL, {"区委编办": "王芳 0553-5880000", "专班": "李明 0553-5881234"}, leads,
                 {2: (("甲镇", "town"),)}, {1: "确定承接事项", 2: "签订确认书"})
    text = compose("甲镇", grouped["甲镇"], o).text()
    assert text.index("**已逾期**") < text.index("**即将到期**")
    assert "任务1「确定承接事项」 逾期 20 个工作日 (截止 03-31)" in text
    # 04-30 is a Sunday of the 劳动节 holiday: the unit is told today is the last working day
    assert "任务2「签订确认书」 今天到期 (截止 04-30, 当天为劳动节, 最后一个工作日是今天); 尚缺 区水务局承接确认书" in text
    assert "牵头单位 区委编办 (王芳 0553-5880000)" in text and "镇赋权工作专班 (李明 0553-5881234)" in text
    lead = compose("区委编办", grouped["区委编办"], o).text()
    assert "**请督促**\n- 任务1「确定承接事项」 逾期 20 个工作日: 甲镇 未完成\n" \
           "- 任务2「签订确认书」(牵头): 配合单位 甲镇 尚未完成" in lead
    forwarded = compose("专班", grouped["专班"], o, forwarded_for="甲镇").text()
    assert "甲镇 尚未配置接收渠道, 本提醒发至专班, 请转达。" in forwarded


def test_towns_are_asked_for_their_monthly_report_on_the_ask_day() -> None:
    def report_row(today: date) -> Row:
        return Row(14, "月报", "每月20日前", "甲镇", "town", "report",
                   judge(date(2023, 6, 20), None, today, CAL, 3), ("2023-06 月报",), "月报 2023-06")

    policy = replace(default_policy(), before_due=(3, 0), report_ask_day=10)
    assert due_reminders([report_row(date(2023, 6, 9))], policy, date(2023, 6, 9), CAL, ISSUED, {}) == []
    asked = due_reminders([report_row(date(2023, 6, 12))], policy, date(2023, 6, 12), CAL, ISSUED, {})
    assert [(r.recipient, r.kind, r.stage, r.label) for r in asked] == [("甲镇", "before", "ask", "月报 2023-06")]
    near = due_reminders([report_row(date(2023, 6, 16))], policy, date(2023, 6, 16), CAL, ISSUED, {})
    assert [r.stage for r in near] == ["before-3"]  # the ordinary countdown takes over
