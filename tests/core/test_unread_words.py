"""The words of the read-status chase (fuquan.words.messages, pure): the text to a contact who never opened the
repeat fits one SMS with its essentials first, in the plan's words; the 专班's notice names each person to call."""

from __future__ import annotations

from datetime import UTC, date, datetime

from fuquan.dates.workdays import WorkCalendar
from fuquan.plans.plan import Words
from fuquan.plans.policy import Destination
from fuquan.words.messages import Occasion, unread_notice, unread_text
from notifications.base import Outgoing
from notifications.sms import sms_text

WORDS = Words("县", "乡镇", "乡镇赋权", ())
OCCASION = Occasion(date(2025, 5, 16), "某市莲河县", WORDS, WorkCalendar(), titles={1: "确定承接事项", 13: "月报报送"})
SENT = date(2025, 5, 13)


def test_the_text_says_who_how_long_and_which_tasks_and_fits_one_sms() -> None:
    m = unread_text("夏禾", "杏花乡", [(13, SENT, 3), (1, SENT, 3), (1, SENT, 3)], OCCASION)
    assert m.title == "【乡镇赋权督办】杏花乡 夏禾: 钉钉再次提醒 3 个工作日未读未签收"
    assert [s.lines for s in m.sections] == [("1、13",)]
    text = sms_text(Outgoing("k", Destination("sms", "夏禾"), m, datetime(2025, 5, 16, tzinfo=UTC)), "莲河县督办", 70)
    assert len(text) <= 70 and text.startswith("【莲河县督办】杏花乡 夏禾: 钉钉再次提醒 3 个工作日未读") and "http" not in text


def test_the_office_s_notice_names_each_person_with_their_phone_once() -> None:
    m = unread_notice([("枫林乡", "方林", "0556-5200000", 1, SENT, 3), ("枫林乡", "方林", "0556-5200000", 1, SENT, 3),
                       ("县司法局", "沈斐", "", 13, SENT, 3)], OCCASION)
    assert m.recipient == "专班" and "某市莲河县" in m.title and "钉钉提醒未读" in m.title
    assert m.sections[0].lines == ("枫林乡 方林 0556-5200000: 任务1「确定承接事项」 05-13 的再次提醒已 3 个工作日未读",
                                   "县司法局 沈斐: 任务13「月报报送」 05-13 的再次提醒已 3 个工作日未读")
