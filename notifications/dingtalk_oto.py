"""DingTalk's robot 1:1 message (oToMessages/batchSend), for the one thing interactive cards cannot tell: who has
read a message. DingTalk reports per person whether a robot's 1:1 message was read (oToMessages/readStatus, asked
with the processQueryKey the send returned); it reports nothing of the kind for cards. The 签收 chase's repeat
goes this way to units reached by cards (flows.chase), so the 专班's desk can show 未读 / 已读未签收 and the
chase can text those who never opened it (flows.reads).

The message is an ActionCard whose one button opens the unit's page (where 签收 is one click); a robot's
ActionCard buttons only open URLs, so nothing calls back. It arrives in the same 1:1 chat with the app's robot as
the cards, so it needs the app's robot to have 单聊 (`qyapi_robot_sendmsg`) besides the card permissions.

A send cannot be looked for afterwards: DingTalk takes no id of ours for it. A send in doubt (timed out, cut)
stays in doubt rather than risk a second copy (`find` says it cannot tell), and the 专班 hears of it once
(flows.dispatch); a repeat is a nudge, and two copies of it are worse than none.
"""

from __future__ import annotations

import json
import logging
from datetime import UTC, datetime
from typing import Any
from urllib.parse import urlencode

from fuquan.errors import Failure

from .base import Outgoing
from .dingtalk_app import LABEL, DingTalkCardNotifier

log = logging.getLogger("fuquan.dingtalk")
BUTTON = "查看并签收"
READ = "READ"  # readStatus of a person who opened the message (anything else: not read)


def oto_message(out: Outgoing, robot_code: str) -> dict[str, Any]:
    """The batchSend body (pure): an ActionCard with the unit's link, or plain Markdown where there is none."""
    text = out.message.text()
    if out.link:
        key, param = "sampleActionCard", {"title": out.message.title, "text": text, "singleTitle": BUTTON,
                                          "singleURL": out.link}
    else:
        key, param = "sampleMarkdown", {"title": out.message.title, "text": text}
    return {"robotCode": robot_code, "userIds": list(out.people), "msgKey": key,
            "msgParam": json.dumps(param, ensure_ascii=False)}


class DingTalkOtoNotifier(DingTalkCardNotifier):
    kind = "dingtalk-oto"
    can_reconcile = True  # (see `find`: never sends a message in doubt again)

    def send(self, out: Outgoing) -> str:
        """Deliver; returns DingTalk's processQueryKey (the handle of its read status)."""
        trail = self.new_trail()
        if not out.people:
            raise self._error(Failure.DESTINATION, "no_contacts", "该单位未登记钉钉联系人 (contacts 中的 dingtalk)")
        answer = self._call("POST", "/v1.0/robot/oToMessages/batchSend", oto_message(out, self.robot_code), trail)
        key = answer.get("processQueryKey")
        invalid = [str(u) for u in answer.get("invalidStaffIdList") or []]
        held = [str(u) for u in answer.get("flowControlledStaffIdList") or []]
        if not isinstance(key, str) or not key:
            if set(invalid) >= set(out.people):
                raise self._error(Failure.DESTINATION, "deliver_failed",
                                  "钉钉中找不到该单位的联系人, 或不在机器人可见范围内; 请核对 contacts 中的 dingtalk")
            if set(invalid + held) >= set(out.people):  # held back by DingTalk's rate limit: nobody got it
                raise self._error(Failure.RETRY, "flow_controlled", "钉钉限流, 下次运行再发送")
            raise self._error(Failure.UNKNOWN, "bad_answer", "钉钉返回的内容无法识别, 可能已送达")
        if invalid or held:  # the others got it; those held back show as unread, and are chased as such
            log.warning(self._clean(f"{LABEL}: {len(invalid) + len(held)} 位联系人未收到单聊消息: "
                                    f"{'、'.join(invalid + held)}"))
        return key

    def find(self, out: Outgoing) -> str | None:
        """There is no asking DingTalk whether a batchSend arrived: it stays in doubt (the 专班 is told)."""
        raise self._error(Failure.UNKNOWN, "cannot_tell", "单聊消息发送结果未知, 钉钉无法查询, 为免重复不再发送")

    def reads(self, process_query_key: str, now: datetime) -> dict[str, datetime | None]:
        """Person id → when they read the message sent under this key (`now` where DingTalk gives no time), None
        for not yet. Raises NotificationError (retry, auth, destination)."""
        query = urlencode({"robotCode": self.robot_code, "processQueryKey": process_query_key})
        answer = self._call("GET", f"/v1.0/robot/oToMessages/readStatus?{query}", None, [], sends=False)
        rows = answer.get("messageReadInfoList")
        if not isinstance(rows, list):
            raise self._error(Failure.RETRY, "bad_answer", "钉钉返回的已读状态无法识别")
        read: dict[str, datetime | None] = {}
        for r in rows:
            if isinstance(r, dict) and isinstance(r.get("userId"), str):
                stamp = r.get("readTimestamp")
                at = datetime.fromtimestamp(stamp / 1000, UTC) if isinstance(stamp, int) and stamp > 0 else now
                read[r["userId"]] = at if str(r.get("readStatus") or "").upper() == READ else None
        return read

