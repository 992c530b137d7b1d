"""A failed or crashed flow tells the 专班 through the same notifier the reminders use."""

from __future__ import annotations

import logging
from typing import Any

from fuquan.errors import FuquanError
from fuquan.words.messages import Message, Section
from notifications.base import Outgoing, redact
from usecases.context import open_context
from usecases.settings import Settings

from .registry import TITLES

log = logging.getLogger("fuquan.flows")
STATES = {"FAILED": "失败", "CRASHED": "异常中止"}


def notify_failure(flow: Any, flow_run: Any, state: Any) -> None:
    """Prefect on_failure / on_crashed hook. Never raises: a broken alarm must not hide the failure."""
    settings = Settings.from_env()
    try:
        params = dict(getattr(flow_run, "parameters", None) or {})
        with open_context(settings) as ctx:
            try:
                ctx = ctx.choose(params.get("year"), params.get("district"))
                wanted, who = ctx.plan.plan.channels.zhuanban, ctx.plan.label
            except FuquanError:
                wanted, who = None, "赋权督办系统"
            why = redact(state.message or "(无说明)", settings.secrets())
            ended = STATES.get(str(state.type.value), str(state.type.value))
            now = ctx.now()
            what = TITLES.get(flow.name, flow.name)
            message = Message("专班", f"【{who}】{what} ({flow.name}) 运行失败",
                              (Section("运行情况", (f"运行 {flow_run.name} 于 {now:%Y-%m-%d %H:%M} {ended}: {why}",
                                                   "请在 Prefect 看板中查看该运行的日志。")),),
                              closing="此消息由系统自动发送。")
            dest = ctx.router.destination(wanted)
            ctx.router.notifier(dest).send(Outgoing(f"flow-failure:{flow_run.id}", dest, message, now))
    except (FuquanError, OSError, ValueError) as e:
        log.error("无法通知专班流程失败: %s", redact(str(e), settings.secrets()))
