"""Which notifier carries a destination, decided from the environment once per run.

No credentials at all (no SLACK_BOT_TOKEN, no FUQUAN_WEBHOOK_*) is the embedded default: every
message goes to the console and a file. Once any credential is set the mapping is taken at its word,
and a destination whose credential is missing is a delivery failure the 专班 hears about — not a
silent fallback to the console.
"""

from __future__ import annotations

import os
from collections.abc import Mapping
from pathlib import Path

from pydantic import SecretStr

from fuquan.errors import NotificationError
from fuquan.policy import Destination

from .base import Notifier, guard_logs
from .console import ConsoleNotifier
from .slack import DEFAULT_API_URL, SlackNotifier
from .webhooks import WebhookNotifier

CONSOLE = Destination("console", "控制台")


class Router:
    def __init__(self, env: Mapping[str, str] | None = None, *, console_file: Path | None = None,
                 slack: SlackNotifier | None = None) -> None:
        self.env = dict(os.environ if env is None else env)
        self.console = ConsoleNotifier(console_file)
        token = self.env.get("SLACK_BOT_TOKEN")
        self.slack = slack or (SlackNotifier(SecretStr(token), self.env.get("FUQUAN_SLACK_API_URL") or DEFAULT_API_URL)
                               if token else None)
        self.live = self.slack is not None or any(k.startswith("FUQUAN_WEBHOOK_") for k in self.env)
        self._hooks: dict[str, WebhookNotifier] = {}
        guard_logs(self.secrets())

    def secrets(self) -> list[str]:
        """Every credential value in play, for redaction."""
        return [v for k, v in self.env.items() if k == "SLACK_BOT_TOKEN" or k.startswith("FUQUAN_WEBHOOK_")]

    def destination(self, wanted: Destination | None) -> Destination:
        """Where a message will actually go (what the outbox records)."""
        if not self.live or wanted is None:
            return CONSOLE
        return wanted

    def preflight(self, kinds: set[str]) -> None:
        """Raise NotificationError(auth) if a channel about to be used has a bad credential."""
        if "slack" in kinds and self.slack is not None:
            self.slack.check()

    def notifier(self, dest: Destination) -> Notifier:
        if dest.kind == "console":
            return self.console
        if dest.kind == "slack":
            if self.slack is None:
                raise NotificationError("destination", "no_token", dest.label(), "未设置环境变量 SLACK_BOT_TOKEN")
            return self.slack
        var = f"FUQUAN_WEBHOOK_{dest.target}"
        if var not in self.env:
            raise NotificationError("destination", "no_webhook_url", dest.label(), f"未设置环境变量 {var}")
        if dest.target not in self._hooks:
            secret = self.env.get(f"{var}_SECRET")
            self._hooks[dest.target] = WebhookNotifier(dest.kind, dest.target, SecretStr(self.env[var]),
                                                       SecretStr(secret) if secret else None)
        return self._hooks[dest.target]
