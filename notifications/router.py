"""Which notifier carries a destination, decided once per run from the credentials it is given.

No credentials at all (no Slack token, no robot) is the embedded default: every message goes to the
console and a file. Once any credential is given the mapping is taken at its word, and a destination
whose credential is missing is a delivery failure the 专班 hears about — not a silent fallback to the
console. The credentials come from usecases.settings (the environment); this module never reads it.
"""

from __future__ import annotations

from pathlib import Path

from pydantic import SecretStr

from fuquan.errors import Failure, NotificationError
from fuquan.plans.policy import LABELS, PERSON_CHANNELS, PERSON_KINDS, READ_RECEIPTS, Destination, platform_of

from .base import DingTalkApp, Notifier, SmsGateway, Webhook, WeComApp, credential_values, guard_logs
from .console import ConsoleNotifier
from .slack import DEFAULT_API_URL, SlackNotifier
from .webhooks import WebhookNotifier

CONSOLE = Destination("console", "控制台")


class Router:
    def __init__(self, *, console_file: Path | None = None, slack_token: SecretStr | None = None,
                 slack_api_url: str = DEFAULT_API_URL, webhooks: dict[str, Webhook] | None = None,
                 slack: Notifier | None = None, robots: dict[str, Notifier] | None = None,
                 console: Notifier | None = None, dingtalk: DingTalkApp | None = None, wecom: WeComApp | None = None,
                 apps: dict[str, Notifier] | None = None, app_problems: tuple[str, ...] = (),
                 sms: SmsGateway | None = None) -> None:
        """Real notifiers are built from the credentials; `slack`, `robots`, `apps` (by channel kind) and `console`
        replace them (tests pass notifications.fake.RecordingNotifier)."""
        self.console: Notifier = console or ConsoleNotifier(console_file)
        self._token = slack_token
        self.slack: Notifier | None = slack or (SlackNotifier(slack_token, slack_api_url) if slack_token else None)
        self.webhooks = dict(webhooks or {})
        self._hooks: dict[str, Notifier] = dict(robots or {})
        self._dingtalk, self._wecom, self._sms, self._problems = dingtalk, wecom, sms, app_problems
        self._apps: dict[str, Notifier] = dict(apps or {})
        self.live = (self.slack is not None or bool(self.webhooks) or bool(self._hooks) or bool(self._apps)
                     or dingtalk is not None or wecom is not None or sms is not None)
        guard_logs(self.secrets())

    def secrets(self) -> list[str]:
        """Every credential value in play, for redaction."""
        return credential_values(self._token, self.webhooks, (self._dingtalk, self._wecom, self._sms))

    def destination(self, wanted: Destination | None) -> Destination:
        """Where a message will actually go (what the outbox records)."""
        if not self.live or wanted is None:
            return CONSOLE
        return wanted

    def preflight(self, kinds: set[str]) -> None:
        """Raise NotificationError(auth) if a channel about to be used has a bad credential."""
        if "slack" in kinds and self.slack is not None:
            self.slack.check()
        for kind in kinds & PERSON_CHANNELS:
            try:
                app = self.notifier(Destination(kind, ""))
            except NotificationError:
                continue  # not configured: each of its messages fails on its own and the 专班 hears which
            app.check()

    def notifier(self, dest: Destination) -> Notifier:
        if dest.kind == "console":
            return self.console
        if dest.kind in PERSON_CHANNELS:
            return self._app(dest)
        if dest.kind == "sms":
            return self._texts()
        if dest.kind == "slack":
            if self.slack is None:
                raise NotificationError(Failure.DESTINATION, "no_token", dest.label(), "未设置环境变量 SLACK_BOT_TOKEN")
            return self.slack
        if dest.target not in self._hooks:
            hook = self.webhooks.get(dest.target)
            if hook is None:
                raise NotificationError(Failure.DESTINATION, "no_webhook_url", dest.label(),
                                        f"未设置环境变量 FUQUAN_WEBHOOK_{dest.target}")
            self._hooks[dest.target] = WebhookNotifier(dest.kind, dest.target, hook.url, hook.secret)
        return self._hooks[dest.target]

    def _app(self, dest: Destination) -> Notifier:
        """The DingTalk or WeCom app's notifier (one per run: it keeps the access token)."""
        if dest.kind not in self._apps:
            if dest.kind in (PERSON_KINDS["dingtalk"], READ_RECEIPTS) and self._dingtalk is not None:
                from .dingtalk_app import DingTalkCardNotifier
                from .dingtalk_oto import DingTalkOtoNotifier

                d = self._dingtalk
                cards = DingTalkCardNotifier(client_id=d.client_id, client_secret=d.client_secret,
                                             robot_code=d.robot_code, template_id=d.template_id, api_base=d.api_base)
                # the app's cards and its robot's 1:1 messages: one access token for both
                self._apps.setdefault(PERSON_KINDS["dingtalk"], cards)
                self._apps.setdefault(READ_RECEIPTS, DingTalkOtoNotifier(
                    client_id=d.client_id, client_secret=d.client_secret, robot_code=d.robot_code,
                    template_id=d.template_id, api_base=d.api_base, tokens=cards.tokens))
            elif dest.kind == PERSON_KINDS["wecom"] and self._wecom is not None:
                from .wecom_app import WeComAppNotifier

                w = self._wecom
                self._apps[dest.kind] = WeComAppNotifier(corp_id=w.corp_id, agent_id=w.agent_id, secret=w.secret,
                                                         api_base=w.api_base)
            else:
                platform = LABELS[platform_of(dest.kind)]
                said = next((p for p in self._problems if p.startswith(platform)), None)
                variables = ("DINGTALK_CLIENT_ID、DINGTALK_CLIENT_SECRET、DINGTALK_ROBOT_CODE、DINGTALK_CARD_TEMPLATE_ID"
                             if dest.kind != PERSON_KINDS["wecom"] else "WECOM_CORP_ID、WECOM_AGENT_ID、WECOM_SECRET")
                raise NotificationError(Failure.DESTINATION, "no_app", dest.label(), said or f"未设置环境变量 {variables}")
        return self._apps[dest.kind]

    def _texts(self) -> Notifier:
        """The SMS gateway's notifier (each text carries its plan's length limit: Outgoing.chars)."""
        have = self._apps.get("sms")
        if have is None:
            if self._sms is None:
                raise NotificationError(Failure.DESTINATION, "no_sms", "短信", "未设置环境变量 FUQUAN_SMS_URL (短信网关地址)")
            from .sms import SmsNotifier

            have = self._apps["sms"] = SmsNotifier(url=self._sms.url, token=self._sms.token, sign=self._sms.sign)
        return have
