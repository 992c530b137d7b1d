"""The web's parse layer: a posted form (checked for size and its session's CSRF token) turned into the typed
command a use case takes. Malformed ids are "not found" (as another unit's would be), malformed values are bad
input in the unit's words; nothing here decides what is allowed, the use cases do.

A tracked row's 反馈 form names each owed item by its key (fuquan.tracking.ledger.Item.key: kind|department|
town|period): a checkbox `item` with the key as value, and the item's own fields beside it, `on:<key>` (完成日期),
`doc:<key>` (文号), `fig:<key>:<figure>` (a 月报's figures), `candidates:<key>`, `sat:<key>`, `passed:<key>`.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import date

from starlette.datastructures import FormData, UploadFile
from starlette.exceptions import HTTPException
from starlette.requests import Request

from fuquan.answers.uploads import MAX_BYTES, Upload
from fuquan.errors import InvalidValue, NotYours
from usecases.commands import (
    KIND_LABEL,
    Acknowledge,
    AskExtension,
    DecideExtension,
    GiveFeedback,
    ReportedItem,
    ReviewFeedback,
)

from .guard import Door, Visitor

# a tracked row lists every owed item with up to a dozen fields (a 月报's figures): a department's letters with
# every town of a county is some 60 fields, a province's town list more; the body limit still holds
MAX_FIELDS = 600


@dataclass(frozen=True)
class Form:
    data: FormData

    def text(self, name: str) -> str:
        value = self.data.get(name)
        return value if isinstance(value, str) else ""

    def files(self) -> list[UploadFile]:
        return [x for x in self.data.getlist("files") if isinstance(x, UploadFile)]


async def read(request: Request, door: Door, visitor: Visitor) -> Form:
    """The posted form, within its limits and with this session's CSRF token; refused as a whole otherwise."""
    try:
        data = await request.form(max_files=3, max_fields=MAX_FIELDS, max_part_size=64 * 1024)
    except HTTPException:  # too many files or fields, a field too long, a broken multipart body
        raise InvalidValue("提交的内容不合要求 (每次最多 3 个文件, 说明不超过 2000 字), 请刷新页面后重试") from None
    if not door.csrf(visitor, str(data.get("csrf") or "")):
        raise InvalidValue("页面已过期或来源不明 (CSRF 校验失败), 请刷新页面后重试")
    return Form(data)


async def uploads(form: Form) -> tuple[Upload, ...]:
    """The form's files, each read up to one byte past the limit (the use case refuses what is over it)."""
    return tuple([Upload(x.filename or "", await x.read(MAX_BYTES + 1)) for x in form.files()
                  if x.filename or x.size])


def acknowledge(form: Form, unit: str) -> Acknowledge:
    return Acknowledge(unit=unit, message_id=number(form.text("message"), "提醒"))


def feedback(form: Form, unit: str, files: tuple[Upload, ...], today: date) -> GiveFeedback:
    raw_done = form.text("done_on")
    return GiveFeedback(unit=unit, task_no=number(form.text("task"), "任务"), period=form.text("period"),
                        note=form.text("note"), status=form.text("status") or "进行中",
                        done_on=day(raw_done, "完成日期") if raw_done else None, items=items(form, today),
                        files=files, nonce=nonce(form))


def extension(form: Form, unit: str) -> AskExtension:
    return AskExtension(unit=unit, task_no=number(form.text("task"), "任务"), period=form.text("period"),
                        new_due=day(form.text("new_due"), "新的截止日期"), reason=form.text("reason"), nonce=nonce(form))


def review(form: Form) -> ReviewFeedback:
    return ReviewFeedback(feedback_id=number(form.text("id"), "反馈"), accept=form.text("decision") == "通过",
                          reason=form.text("reason"))


def decide(form: Form, deciding_unit: str | None) -> DecideExtension:
    return DecideExtension(extension_id=number(form.text("id"), "延期申请"), grant=form.text("decision") == "批准",
                           reason=form.text("reason"), deciding_unit=deciding_unit)


def items(form: Form, today: date) -> tuple[ReportedItem, ...]:
    """The checked items, each with its own facts; the use case checks they are what the row still owes."""
    out = []
    for key in dict.fromkeys(x for x in form.data.getlist("item") if isinstance(x, str)):  # (a key twice: once)
        kind, *parts = key.split("|")
        if kind not in KIND_LABEL or len(parts) != 3:
            raise InvalidValue("勾选的事项不是本页面列出的事项, 请刷新页面后重试")
        department, town, period = parts
        raw_on = form.text(f"on:{key}")
        figures = {k.removeprefix(f"fig:{key}:"): v.strip() for k, v in form.data.multi_items()
                   if k.startswith(f"fig:{key}:") and isinstance(v, str)}
        out.append(ReportedItem(kind=kind, department=department, town=town, period=period,
                                on=day(raw_on, "完成日期") if raw_on else today,
                                doc_no=form.text(f"doc:{key}").strip() or None, figures=figures,
                                candidates=count(form.text(f"candidates:{key}"), "应考人数"),
                                sat=count(form.text(f"sat:{key}"), "实考人数"),
                                passed=count(form.text(f"passed:{key}"), "通过人数")))
    return tuple(out)


def nonce(form: Form) -> str:
    """The form's one-time token, as the page made it (a short URL-safe token): anything else is not our page."""
    value = form.text("nonce")
    if not re.fullmatch(r"[A-Za-z0-9_-]{1,64}", value):
        raise InvalidValue("页面已过期, 请刷新页面后重试")
    return value


def number(raw: str, what: str) -> int:
    if not re.fullmatch(r"[0-9]{1,9}", raw):  # (str.isdigit() takes ² and ٣, which int() refuses)
        raise NotYours(what)
    return int(raw)


def count(raw: str, what: str) -> int | None:
    if not raw.strip():
        return None
    if not re.fullmatch(r"[0-9]{1,7}", raw.strip()):
        raise InvalidValue(f"{what}应为整数, 实为 “{raw[:20]}”")
    return int(raw)


def day(raw: str, what: str) -> date:
    try:
        return date.fromisoformat(raw)
    except ValueError:
        raise InvalidValue(f"{what}应为 YYYY-MM-DD, 实为 “{raw[:20]}”") from None
