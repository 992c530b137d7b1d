"""The files a county server needs to run fuquan as system services behind HTTPS (`fuquan ops systemd`, `fuquan ops
nginx`): systemd units for the Prefect server with its UI, the scheduled flows and the web app, one target over them;
the environment file they read (variable names only: secrets are filled in on the server, never read, written or
printed here); a wrapper that runs a fuquan command as the services do; and an nginx site — HTTPS in front of the web
app, and the Prefect UI, which has no login, on a port of its own for the office's networks only.

The text is built by pure functions from a checked description (`Services`, `Site`); `write_files` writes each file
whole or not at all. Every value that reaches a file is checked against a narrow pattern first, so no input can add a line
or a directive.
"""

from __future__ import annotations

import os
import re
from dataclasses import dataclass
from ipaddress import ip_address, ip_network
from pathlib import Path

from fuquan.errors import FuquanError, InvalidValue
from reports.files import folder, replacing

PATH = re.compile(r"/[A-Za-z0-9._/@+-]*")  # no space, quote, %, $, ; or newline: safe in a unit and in nginx
USER = re.compile(r"[a-z_][a-z0-9_-]{0,31}")
HOST = re.compile(r"(?=.{1,253}$)[A-Za-z0-9]([A-Za-z0-9.-]*[A-Za-z0-9])?")
UNITS = ("fuquan-prefect.service", "fuquan-schedules.service", "fuquan-web.service")
ENV_NAME, ADMIN_NAME, TARGET = "fuquan.env", "fuquan-admin", "fuquan.target"


def absolute(text: str, option: str) -> Path:
    if not PATH.fullmatch(text) or "/../" in f"{text}/":
        raise InvalidValue(f"{option} 应为绝对路径 (以 / 开头, 只含字母、数字和 ._-/@+), 实为 “{text}”")
    return Path(os.path.normpath(text))


def port(n: int, option: str) -> int:
    if not 0 < n < 65536:
        raise InvalidValue(f"{option} 应为 1 到 65535 之间的端口号, 实为 {n}")
    return n


def distinct(ports: dict[str, int]) -> None:
    seen: dict[int, str] = {}
    for option, n in ports.items():
        if n in seen:
            raise InvalidValue(f"{seen[n]} 和 {option} 不能是同一个端口 ({n})")
        seen[n] = option


@dataclass(frozen=True)
class Services:
    dir: Path  # the checkout; its virtual environment is dir/.venv
    user: str
    env_file: Path
    data_dir: Path
    workers: int
    web_port: int
    prefect_port: int

    @classmethod
    def checked(cls, *, dir: str, user: str, env_file: str, data_dir: str | None, workers: int, web_port: int,
                prefect_port: int) -> Services:
        if not USER.fullmatch(user) or user == "root":
            raise InvalidValue(f"--user 应为一个普通系统用户名 (小写字母、数字、_-, 不可为 root), 实为 “{user}”")
        if not 1 <= workers <= 32:
            raise InvalidValue(f"--workers 应在 1 到 32 之间 (网页服务的进程数), 实为 {workers}")
        distinct({"--web-port": port(web_port, "--web-port"), "--prefect-port": port(prefect_port, "--prefect-port")})
        home = absolute(dir, "--dir")
        return cls(home, user, absolute(env_file, "--env-file"),
                   absolute(data_dir, "--data-dir") if data_dir else home / "data", workers, web_port, prefect_port)

    @property
    def bin(self) -> Path:
        return self.dir / ".venv" / "bin"

    @property
    def api_url(self) -> str:
        return f"http://127.0.0.1:{self.prefect_port}/api"

    def environment(self) -> dict[str, str]:
        """What every process is started with besides the env file (nothing secret; the env file overrides it)."""
        return {"FUQUAN_DATA_DIR": str(self.data_dir), "FUQUAN_WEB_PORT": str(self.web_port),
                "PREFECT_HOME": str(self.data_dir / "prefect"), "PREFECT_API_URL": self.api_url,
                "PREFECT_UI_API_URL": self.api_url, "PREFECT_SERVER_ANALYTICS_ENABLED": "false",
                "PREFECT_SERVER_UI_SHOW_PROMOTIONAL_CONTENT": "false", "DO_NOT_TRACK": "1", "PYTHONUNBUFFERED": "1"}


def _unit(s: Services, title: str, commands: list[str], after: str = "", extra: str = "") -> str:
    needs, after = (f"Requires={after}\n", f" {after}") if after else ("", "")
    env = "".join(f"Environment={k}={v}\n" for k, v in s.environment().items())
    return f"""# fuquan ops systemd 生成。密钥只在 {s.env_file} (root, 0600) 中, 不写入本文件。
[Unit]
Description={title}
PartOf={TARGET}
Wants=network-online.target
After=network-online.target postgresql.service{after}
{needs}StartLimitIntervalSec=0

[Service]
Type=simple
User={s.user}
Group={s.user}
WorkingDirectory={s.dir}
{env}EnvironmentFile={s.env_file}
{"".join(c + chr(10) for c in commands)}{extra}Restart=on-failure
RestartSec=10
TimeoutStopSec=20
UMask=0027
NoNewPrivileges=yes
PrivateTmp=yes
PrivateDevices=yes
ProtectSystem=full
ProtectKernelTunables=yes
ProtectKernelModules=yes
ProtectControlGroups=yes
RestrictSUIDSGID=yes
ReadWritePaths={s.data_dir}

[Install]
WantedBy={TARGET}
"""


def unit_files(s: Services) -> dict[str, str]:
    """The units by file name: the Prefect server (its UI and API on 127.0.0.1), the schedules served by
    `fuquan serve` (what `make run` starts, plan loaded first), the web app on 127.0.0.1, and fuquan.target."""
    # started = listening: `fuquan serve` (ordered after this unit) refuses to start without a server that answers
    wait = (f'ExecStartPost={s.bin}/python -c "import socket, sys, time; sys.exit(not any(socket.socket().connect_ex('
            f"('127.0.0.1', {s.prefect_port})) == 0 or time.sleep(1) for _ in range(170)))\"")
    prefect = _unit(s, "fuquan: Prefect 服务和看板", [
        f"ExecStart={s.bin}/prefect server start --host 127.0.0.1 --port {s.prefect_port}", wait],
        extra="TimeoutStartSec=180\n")
    schedules = _unit(s, "fuquan: 定时流程 (每日检查、月度通报等)", [
        f"ExecStartPre={s.bin}/fuquan sync", f"ExecStart={s.bin}/fuquan serve"], after=UNITS[0])
    web = _unit(s, "fuquan: 单位反馈页面", [
        f"ExecStart={s.bin}/fuquan web --host 127.0.0.1 --port {s.web_port} --workers {s.workers}"])
    target = f"""# fuquan ops systemd 生成: systemctl enable --now {TARGET} 启动全部服务
[Unit]
Description=fuquan 镇赋权任务督办 (全部服务)
Wants={" ".join(UNITS)}

[Install]
WantedBy=multi-user.target
"""
    return dict(zip(UNITS, (prefect, schedules, web), strict=True)) | {TARGET: target}


def env_template(s: Services) -> str:
    """The env file with the variables' names and empty values: filled in on the server, mode 0600, owner root."""
    return f"""# fuquan 服务的环境变量 (systemd EnvironmentFile, 由 fuquan ops systemd 生成)。
# 含密钥: 放在 {s.env_file}, 属主 root, 权限 0600。每行 名称=值; 值为空等于未设置; 改后 systemctl restart {TARGET}
# 督办数据库 (SQLAlchemy URL; 空则用 {s.data_dir}/fuquan.db), 如 postgresql+psycopg://用户:密码@127.0.0.1/fuquan
FUQUAN_DATABASE_URL=
# 链接签名密钥 (必填): python3 -c 'import secrets; print(secrets.token_urlsafe(32))'
# 从 make run 迁来时填 data/link.secret 的内容, 已发出的链接继续有效
FUQUAN_LINK_SECRET=
# 单位访问反馈页面的地址 (必填), 如 https://fuquan.xx.gov.cn —— 链接以此开头; https 时会话 Cookie 带 Secure
FUQUAN_WEB_URL=
# 反向代理 (nginx 在本机时为 127.0.0.1): 只相信它转发的 X-Forwarded-For
FUQUAN_TRUSTED_PROXIES=127.0.0.1
# 计划文件 (空则 {s.dir}/config/tasks.yaml)
FUQUAN_CONFIG=
# Slack: 机器人令牌, Socket Mode 的应用令牌, 签名密钥 (不用 Slack 时留空)
SLACK_BOT_TOKEN=
SLACK_APP_TOKEN=
SLACK_SIGNING_SECRET=
# 钉钉/企业微信机器人: 每个机器人两行, <名称> 与 config/tasks.yaml 的 channels 一致, 如
# FUQUAN_WEBHOOK_DINGTALK=https://oapi.dingtalk.com/robot/send?access_token=…
# FUQUAN_WEBHOOK_DINGTALK_SECRET=
# 经 nginx 从办公网打开 Prefect 看板时 (fuquan ops nginx --office-network …), 看板访问接口的地址, 如
# PREFECT_UI_API_URL=https://fuquan.xx.gov.cn:4443/api
"""


def admin_script(s: Services) -> str:
    """`fuquan-admin ARGS…`: a fuquan command run by root as the services run (their user, directory, environment
    and env file), so the secrets never leave the env file."""
    env = " ".join(f"-E {k}={v}" for k, v in s.environment().items())
    return f"""#!/bin/sh
# fuquan ops systemd 生成: 以服务的用户和环境 (含 {s.env_file} 中的密钥) 运行 fuquan 命令, 需 root。
# 如: fuquan-admin status ; fuquan-admin links show 专班 --member 张三 ; 文件路径请写绝对路径
exec systemd-run --quiet --pipe --wait --collect --uid={s.user} --gid={s.user} \\
  -p WorkingDirectory={s.dir} -p EnvironmentFile={s.env_file} {env} \\
  {s.bin}/fuquan "$@"
"""


@dataclass(frozen=True)
class Site:
    server_name: str
    cert: Path
    key: Path
    web_port: int
    prefect_port: int
    office: tuple[str, ...]  # networks allowed to the Prefect UI; none: the UI is not served
    http_port: int
    https_port: int
    prefect_ui_port: int
    listen: str  # an address to listen on, or "" for every address
    max_body: int  # the web app's own request limit, in bytes (web/app.py's MAX_BODY)

    @classmethod
    def checked(cls, *, server_name: str, cert: str, key: str, web_port: int, prefect_port: int, office: list[str],
                http_port: int, https_port: int, prefect_ui_port: int, listen: str, max_body: int) -> Site:
        if not HOST.fullmatch(server_name):
            raise InvalidValue(f"--server-name 应为域名 (如 fuquan.xx.gov.cn; 中文域名请用 xn-- 形式), 实为 “{server_name}”")
        nets = []
        for text in office:
            try:
                net = ip_network(text, strict=False)
            except ValueError:
                raise InvalidValue(f"--office-network: “{text}” 不是 IP 地址或网段, 如 10.0.0.0/8") from None
            if net.prefixlen == 0:
                raise InvalidValue(f"--office-network {text} 会让任何地址都能打开 Prefect 看板 (它没有登录); 请只填办公网网段")
            nets.append(str(net))
        try:
            listen = str(ip_address(listen)) if listen else ""
        except ValueError:
            raise InvalidValue(f"--listen 应为本机的一个 IP 地址, 实为 “{listen}”") from None
        ports = {"--http-port": http_port, "--https-port": https_port, "--prefect-ui-port": prefect_ui_port}
        distinct({k: port(n, k) for k, n in ports.items()})
        distinct({"--web-port": port(web_port, "--web-port"), "--prefect-port": port(prefect_port, "--prefect-port")})
        return cls(server_name.lower(), absolute(cert, "--cert"), absolute(key, "--key"), web_port, prefect_port,
                   tuple(nets), http_port, https_port, prefect_ui_port, listen, max_body)

    def at(self, port: int) -> str:
        host = f"[{self.listen}]" if ":" in self.listen else self.listen
        return f"{host}:{port}" if host else str(port)

    def url(self, port: int) -> str:
        return f"https://{self.server_name}" + ("" if port == 443 else f":{port}")


def _tls(s: Site, port: int) -> str:
    return f"""    listen {s.at(port)} ssl;
    server_name {s.server_name};
    server_tokens off;
    ssl_certificate {s.cert};
    ssl_certificate_key {s.key};
    ssl_protocols TLSv1.2 TLSv1.3;
    ssl_session_cache shared:fuquan_tls:10m;
    ssl_session_timeout 1d;
    ssl_session_tickets off;
    add_header Strict-Transport-Security "max-age=31536000" always;
"""


PROXIED = """        proxy_http_version 1.1;
        proxy_set_header Host $host;
        proxy_set_header X-Forwarded-For $proxy_add_x_forwarded_for;
        proxy_set_header X-Forwarded-Proto $scheme;
"""


def nginx_site(s: Site) -> str:
    """The site: http redirects to https; https passes everything to the web app on 127.0.0.1 (X-Forwarded-For
    appended, which web/guard.py reads from FUQUAN_TRUSTED_PROXIES only; bodies up to the app's own limit, so its
    Chinese 413 answers, not nginx's); the Prefect UI on its own https port, for the office networks only."""
    mib = 1024 * 1024
    body = -(-(s.max_body + 1) // (8 * mib)) * 8  # MiB, a multiple of 8 above the app's limit
    text = f"""# fuquan ops nginx 生成: 单位反馈页面 (HTTPS) 和 Prefect 看板 (仅办公网)。
server {{
    listen {s.at(s.http_port)};
    server_name {s.server_name};
    server_tokens off;
    return 301 {s.url(s.https_port)}$request_uri;
}}

server {{
{_tls(s, s.https_port)}    client_max_body_size {body}m;

    location / {{
        proxy_pass http://127.0.0.1:{s.web_port};
{PROXIED}        proxy_read_timeout 120s;
    }}
}}
"""
    if not s.office:
        return text
    allow = "".join(f"    allow {net};\n" for net in s.office)
    return f"""{text}
map $http_upgrade $fuquan_connection_upgrade {{
    default upgrade;
    ''      close;
}}

# Prefect 看板没有登录: 只许办公网访问
server {{
{_tls(s, s.prefect_ui_port)}    error_page 497 {s.url(s.prefect_ui_port)}$request_uri;
{allow}    deny all;

    location / {{
        proxy_pass http://127.0.0.1:{s.prefect_port};
{PROXIED}        proxy_set_header Upgrade $http_upgrade;
        proxy_set_header Connection $fuquan_connection_upgrade;
        proxy_read_timeout 1h;
    }}
}}
"""


def write_files(out: Path, files: dict[str, tuple[str, int]], *, keep: frozenset[str] = frozenset()) -> list[str]:
    """Write each name → (text, mode) into `out`, whole or not at all; a name in `keep` that exists is left as it is
    (an env file may already hold secrets). Returns the names written."""
    folder(out)
    if not os.access(out, os.W_OK):
        raise FuquanError(f"无法写入输出目录 {out}: 没有写入权限")
    todo = {name: v for name, v in files.items() if not (name in keep and (out / name).exists())}
    for name, (text, mode) in todo.items():
        with replacing(out / name) as tmp:
            tmp.write_text(text, encoding="utf-8")
            tmp.chmod(mode)
    return list(todo)
