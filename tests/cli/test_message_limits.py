"""Messages people read: on the shipped plan's 2023-04-28 and on the second county's busiest days, every
message is at most 1,500 characters and 20 lines, and nothing is cut — every task a recipient is reminded of
is in its message, listed or counted in a '…另有 N 项: 任务…' line."""

import json
import re

import pytest

from fuquan.words.messages import MAX_CHARS, MAX_LINES
from tests.conftest import ROOT

PLANS = ROOT / "tests" / "plans"
DAYS = [("wanzhi-2023.yaml", "2023-04-28"), ("wanzhi-2023.yaml", "2023-06-30"),
        ("qingshan-2024.yaml", "2024-06-28"), ("qingshan-2024.yaml", "2024-12-31")]


@pytest.mark.parametrize(("plan", "day"), DAYS)
def test_every_message_fits_and_nothing_is_cut(run, plan: str, day: str) -> None:  # type: ignore[no-untyped-def]
    assert run("sync", "--config", str(PLANS / plan)).code == 0
    r = run("remind", "--dry-run", "--json", "--today", day, "--now", f"{day}T09:05")
    assert r.code == 0, r.err
    messages = json.loads(r.out)["messages"]
    assert len(messages) >= 15 and sum(len(m["reminders"]) for m in messages) >= 150  # a busy day indeed
    for m in messages:
        text = m["text"]
        assert len(text) <= MAX_CHARS and text.count("\n") + 1 <= MAX_LINES, (m["recipient"], len(text), text)
        named = set(re.findall(r"任务(\d+)", text))
        assert {str(x["task"]) for x in m["reminders"]} <= named, (m["recipient"], text)


def test_the_second_countys_words_and_contacts_are_in_its_messages(run) -> None:  # type: ignore[no-untyped-def]
    assert run("sync", "--config", str(PLANS / "qingshan-2024.yaml")).code == 0
    r = run("remind", "--dry-run", "--json", "--today", "2024-06-28", "--now", "2024-06-28T09:05")
    by = {m["recipient"]: m["text"] for m in json.loads(r.out)["messages"]}
    town = next(t for who, t in by.items() if who.endswith(("乡", "镇", "街道")))
    assert "乡镇（街道）赋权工作专班 (专班 周敏 0556-5201234)" in town and "牵头单位 县委编办 (陈立 0556-5203456)" in town
    assert "区" not in re.sub(r"社区|区域", "", town.split("】")[0]) and "湾沚" not in "".join(by.values())
    # escalations are counted per task in the county's words, not listed unit by unit
    assert re.search(r"任务1「确定承接事项」 逾期 \d+ 个工作日: \d+ 个部门、16 个乡镇（街道） 未完成", by["专班"])
    # a due date on a Sunday is explained
    assert "截止 06-30, 当天为周日, 最后一个工作日是今天" in by["县司法局"]
