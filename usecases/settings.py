"""Runtime settings, read from the environment once at the edge (the CLI, a runner, a flow run).

This is the only module that reads or writes `os.environ`. Everything below it takes a `Settings` (or
the values it holds) as a parameter. Secrets are `SecretStr` and are read with `.get_secret_value()` only
where they are used (the notifiers).

    variable                        meaning                                            default
    FUQUAN_DATABASE_URL             the tracker's database (SQLAlchemy URL)            sqlite:///data/fuquan.db
    FUQUAN_CONFIG                   the plan file                                      config/tasks.yaml
    FUQUAN_DATA_DIR                 reports, the notify file, Prefect's home           data
    FUQUAN_BACKUP_DIR               where the scheduled backup keeps its archives      <data>/backups
    FUQUAN_NOTIFY_FILE              where console reminders are appended               <data>/notifications.md
    FUQUAN_SETTLE_SECONDS           how long a dead sender's last post may still land  20
    FUQUAN_SEND_BUDGET_SECONDS      how long one run may spend sending                 300
    FUQUAN_WRITE_WAIT_SECONDS       how long a write waits for a busy database, retrying 120 (the web app: 15)
    FUQUAN_USER                     who is recorded in the audit trail                 the login name
    SLACK_BOT_TOKEN                 Slack bot token (secret)
    FUQUAN_SLACK_API_URL            Slack Web API base (tests point it at 127.0.0.1)   https://slack.com/api/
    FUQUAN_WEBHOOK_<NAME>           a DingTalk/WeCom robot's URL (secret)
    FUQUAN_WEBHOOK_<NAME>_SECRET    that robot's signing secret (secret)
    FUQUAN_LINK_SECRET              signs units' personal links and sessions (secret; `make run` makes one)
    FUQUAN_WEB_URL                  the web app's address as units reach it, for links http://127.0.0.1:8300
    FUQUAN_WEB_PORT                 the port `fuquan web` listens on (127.0.0.1)         8300
    SLACK_APP_TOKEN                 Slack app-level token for Socket Mode buttons (secret)
    SLACK_SIGNING_SECRET            checks Slack's signed requests to /slack/actions (secret)
    FUQUAN_TRUSTED_PROXIES          reverse proxies (comma-separated addresses or networks) whose   (none)
                                    X-Forwarded-For `fuquan web` believes; none: the peer is the client
"""

from __future__ import annotations

import getpass
import os
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

from pydantic import SecretStr

from fuquan.errors import FuquanError
from notifications.base import DEFAULT_SLACK_API_URL as DEFAULT_API_URL
from notifications.base import DingTalkApp, SmsGateway, Webhook, WeComApp, credential_values

DEFAULT_CONFIG = "config/tasks.yaml"
WEBHOOK_PREFIX = "FUQUAN_WEBHOOK_"


@dataclass(frozen=True)
class Settings:
    database_url: str
    config: Path
    data_dir: Path
    notify_file: Path
    settle_seconds: float
    send_budget_seconds: float
    user: str
    write_wait_seconds: float = 120.0
    backup_dir: Path = Path("data/backups")
    slack_token: SecretStr | None = None
    slack_api_url: str = DEFAULT_API_URL
    webhooks: dict[str, Webhook] = field(default_factory=dict)
    link_secret: SecretStr | None = None
    web_url: str = "http://127.0.0.1:8300"
    web_port: int = 8300
    slack_app_token: SecretStr | None = None
    slack_signing_secret: SecretStr | None = None
    trusted_proxies: tuple[str, ...] = ()
    dingtalk: DingTalkApp | None = None  # the apps that reach persons (plan: `channels: persons:`)
    wecom: WeComApp | None = None
    sms: SmsGateway | None = None  # the county's SMS gateway (plan: `reminders: sms:`)
    app_problems: tuple[str, ...] = ()  # an app configured by half: which variables are missing
    columns: int | None = None  # COLUMNS: how wide wide tables may print when the output is not a terminal

    @classmethod
    def from_env(cls, env: Mapping[str, str] | None = None) -> Settings:
        env = os.environ if env is None else env
        data = Path(env.get("FUQUAN_DATA_DIR") or "data")
        hooks = {k.removeprefix(WEBHOOK_PREFIX): v for k, v in env.items()
                 if k.startswith(WEBHOOK_PREFIX) and not k.endswith("_SECRET")}
        secret = {name: env.get(f"{WEBHOOK_PREFIX}{name}_SECRET") or "" for name in hooks}
        token = env.get("SLACK_BOT_TOKEN")
        return cls(
            database_url=env.get("FUQUAN_DATABASE_URL") or f"sqlite:///{data / 'fuquan.db'}",
            config=Path(env.get("FUQUAN_CONFIG") or DEFAULT_CONFIG),
            data_dir=data,
            backup_dir=Path(env.get("FUQUAN_BACKUP_DIR") or data / "backups"),
            notify_file=Path(env.get("FUQUAN_NOTIFY_FILE") or data / "notifications.md"),
            settle_seconds=_seconds(env.get("FUQUAN_SETTLE_SECONDS"), 20.0),
            send_budget_seconds=_seconds(env.get("FUQUAN_SEND_BUDGET_SECONDS"), 300.0),
            user=env.get("FUQUAN_USER") or _login(),
            write_wait_seconds=_seconds(env.get("FUQUAN_WRITE_WAIT_SECONDS"), 120.0),
            slack_token=SecretStr(token) if token else None,
            slack_api_url=env.get("FUQUAN_SLACK_API_URL") or DEFAULT_API_URL,
            webhooks={name: Webhook(SecretStr(url), SecretStr(secret[name]) if secret[name] else None)
                      for name, url in hooks.items()},
            link_secret=_secret(env.get("FUQUAN_LINK_SECRET")),
            web_url=env.get("FUQUAN_WEB_URL") or f"http://127.0.0.1:{_port(env.get('FUQUAN_WEB_PORT'))}",
            web_port=_port(env.get("FUQUAN_WEB_PORT")),
            slack_app_token=_secret(env.get("SLACK_APP_TOKEN")),
            slack_signing_secret=_secret(env.get("SLACK_SIGNING_SECRET")),
            columns=int(env["COLUMNS"]) if env.get("COLUMNS", "").isdigit() and int(env["COLUMNS"]) > 0 else None,
            trusted_proxies=tuple(a.strip() for a in (env.get("FUQUAN_TRUSTED_PROXIES") or "").split(",") if a.strip()),
            **_apps(env),
        )

    def secrets(self) -> list[str]:
        """Every credential value in play, for redaction."""
        extra = [s.get_secret_value() for s in (self.link_secret, self.slack_app_token, self.slack_signing_secret) if s]
        return credential_values(self.slack_token, self.webhooks, (self.dingtalk, self.wecom, self.sms)) + extra


DINGTALK_VARS = ("DINGTALK_CLIENT_ID", "DINGTALK_CLIENT_SECRET", "DINGTALK_ROBOT_CODE", "DINGTALK_CARD_TEMPLATE_ID")
WECOM_VARS = ("WECOM_CORP_ID", "WECOM_AGENT_ID", "WECOM_SECRET")
WECOM_CALLBACK_VARS = ("WECOM_TOKEN", "WECOM_AES_KEY")


def _apps(env: Mapping[str, str]) -> dict[str, Any]:
    """The DingTalk and WeCom apps from the environment; one given by half is none, and says what is missing."""
    problems: list[str] = []
    out: dict[str, Any] = {}
    for name, wanted in (("钉钉应用", DINGTALK_VARS), ("企业微信应用", WECOM_VARS + WECOM_CALLBACK_VARS)):
        given = [v for v in wanted if env.get(v)]
        required = wanted if name == "钉钉应用" else WECOM_VARS
        if given and (missing := [v for v in required if not env.get(v)]):
            problems.append(f"{name}未配置完整: 缺少环境变量 {'、'.join(missing)}")
    if all(env.get(v) for v in DINGTALK_VARS):
        out["dingtalk"] = DingTalkApp(env["DINGTALK_CLIENT_ID"], SecretStr(env["DINGTALK_CLIENT_SECRET"]),
                                      env["DINGTALK_ROBOT_CODE"], env["DINGTALK_CARD_TEMPLATE_ID"],
                                      (env.get("DINGTALK_OPENAPI_ENDPOINT") or "https://api.dingtalk.com").rstrip("/"))
    if all(env.get(v) for v in WECOM_VARS):
        out["wecom"] = WeComApp(env["WECOM_CORP_ID"], env["WECOM_AGENT_ID"], SecretStr(env["WECOM_SECRET"]),
                                _secret(env.get("WECOM_TOKEN")), _secret(env.get("WECOM_AES_KEY")),
                                (env.get("WECOM_API_BASE") or "https://qyapi.weixin.qq.com").rstrip("/"))
    if env.get("FUQUAN_SMS_URL"):
        out["sms"] = SmsGateway(SecretStr(env["FUQUAN_SMS_URL"]), _secret(env.get("FUQUAN_SMS_TOKEN")),
                                env.get("FUQUAN_SMS_SIGN") or "")
    return {**out, "app_problems": tuple(problems)}


def _secret(raw: str | None) -> SecretStr | None:
    return SecretStr(raw) if raw else None


def _port(raw: str | None) -> int:
    return int(raw) if raw and raw.isdigit() and 0 < int(raw) < 65536 else 8300


def _seconds(raw: str | None, default: float) -> float:
    try:
        return max(0.0, float(raw)) if raw else default
    except ValueError:
        return default


def _login() -> str:
    try:
        return getpass.getuser()
    except (KeyError, OSError):  # no passwd entry (a container's arbitrary uid)
        return "unknown"


SERVER_RECORD = "server.url"  # in PREFECT_HOME: the server `make run` (or the service unit) started for this data folder


def prefect_environment(data_dir: Path, *, defaults: dict[str, str], healthy: Callable[[str], bool]) -> str | None:
    """Point this process's Prefect at one server before Prefect is imported (the caller passes
    flows/prefect_env.py's defaults): PREFECT_HOME under the data folder, quiet logging, and PREFECT_API_URL at
    the server configured — the variable, else the one `make run` recorded in PREFECT_HOME when it answers.
    Whatever else may answer on 127.0.0.1:4200 (another checkout's, another county's) is never used. Returns the
    API URL, or None for Prefect's ephemeral mode."""
    home = Path(os.environ.setdefault("PREFECT_HOME", str((data_dir / "prefect").resolve())))
    home.mkdir(parents=True, exist_ok=True)  # Prefect's server won't create it
    for name, value in defaults.items():  # step lines to the UI, a quiet terminal (flows/prefect_env.py)
        os.environ.setdefault(name, value)
    url = os.environ.get("PREFECT_API_URL")
    if url:
        if healthy(url):
            return url
        # the server this process was pointed at does not answer: say so, rather than a traceback from Prefect's
        # client (or quietly running somewhere else)
        where = urlsplit(url)
        shown = f"{where.scheme}://{where.hostname}:{where.port or (443 if where.scheme == 'https' else 80)}"
        raise FuquanError(f"环境变量 PREFECT_API_URL 指向的 Prefect 服务 ({shown}) 无法连接; 请先启动它 (make run 会启动本机的),"
                          " 或取消 PREFECT_API_URL 以临时模式运行")
    try:
        recorded = (home / SERVER_RECORD).read_text(encoding="utf-8").strip()
    except (OSError, UnicodeDecodeError):
        return None
    if recorded.startswith(("http://", "https://")) and healthy(recorded):
        os.environ["PREFECT_API_URL"] = recorded
        return recorded
    return None
