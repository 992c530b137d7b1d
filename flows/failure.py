"""A failed or crashed flow tells the 专班 through the same notifier the reminders use."""

from __future__ import annotations

import logging
import os
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from fuquan.errors import FuquanError
from fuquan.messages import Message, Section
from models.db import make_engine, reading
from models.queries import find_plan, settings_of
from notifications.base import Outgoing
from notifications.router import Router

log = logging.getLogger("fuquan.flows")


def notify_failure(flow: Any, flow_run: Any, state: Any) -> None:
    """Prefect on_failure / on_crashed hook. Never raises: a broken alarm must not hide the failure."""
    try:
        message = Message("专班", f"【镇赋权督办系统】{flow.name} 运行失败",
                          (Section("运行情况", (f"运行 {flow_run.name} 于 {datetime.now(UTC):%Y-%m-%d %H:%M} UTC "
                                               f"结束为 {state.type.value}: {state.message or '(无说明)'}",
                                               "请在 Prefect 看板中查看该运行的日志。")),),
                          closing="此消息由系统自动发送。")
        router = Router(console_file=Path(os.environ.get("FUQUAN_NOTIFY_FILE") or Path("data") / "notifications.md"))
        dest = router.destination(_zhuanban_channel())
        router.notifier(dest).send(Outgoing(f"flow-failure:{flow_run.id}", dest, message, datetime.now(UTC)))
    except (FuquanError, OSError, ValueError) as e:
        log.error("无法通知专班流程失败: %s", e)


def _zhuanban_channel() -> Any:
    engine = make_engine()
    try:
        with reading(engine) as session:
            plan = find_plan(session)
            return settings_of(plan).channels.zhuanban
    except FuquanError:
        return None
    finally:
        engine.dispose()
