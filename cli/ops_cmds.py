"""`fuquan ops systemd` and `fuquan ops nginx`: the files that run fuquan on a county server as system services, with
HTTPS through Debian's nginx, and the steps to install them (usecases/ops_files.py builds the text). Neither command
reads a secret: the env file is written with names only, and nothing secret is printed."""

from __future__ import annotations

import argparse
from pathlib import Path
from typing import Any

from fuquan.errors import InvalidValue

from .common import Parents


def register(sub: Any, p: Parents) -> None:
    ops = sub.add_parser("ops", help="生成服务器运行配置: systemd 系统服务, nginx HTTPS 反向代理")
    osub = ops.add_subparsers(dest="ops_command", required=True, metavar="操作")
    sd = osub.add_parser("systemd", help="生成 systemd 服务文件 (Prefect 看板、定时流程、单位反馈页面) 和环境变量文件模板")
    sd.add_argument("--dir", required=True, help="程序目录 (绝对路径, 其中有 .venv), 如 /opt/fuquan")
    sd.add_argument("--user", required=True, help="运行服务的系统用户, 如 fuquan")
    sd.add_argument("--out", required=True, help="写入生成文件的目录")
    sd.add_argument("--env-file", default="/etc/fuquan/fuquan.env", help="环境变量文件 (含密钥; 默认 /etc/fuquan/fuquan.env)")
    sd.add_argument("--data-dir", help="数据目录 (默认 程序目录/data)")
    sd.add_argument("--workers", type=int, default=2, help="单位反馈页面的进程数 (默认 2)")
    sd.add_argument("--web-port", type=int, default=8300, help="单位反馈页面端口 (仅本机, 默认 8300)")
    sd.add_argument("--prefect-port", type=int, default=4200, help="Prefect 服务端口 (仅本机, 默认 4200)")
    sd.set_defaults(func=systemd)
    ng = osub.add_parser("nginx", help="生成 nginx 站点配置: HTTPS 反向代理, Prefect 看板仅限办公网")
    ng.add_argument("--server-name", required=True, help="网站域名, 如 fuquan.xx.gov.cn")
    ng.add_argument("--cert", required=True, help="证书文件 (含中间证书), 如 /etc/ssl/certs/fuquan.pem")
    ng.add_argument("--key", required=True, help="证书私钥, 如 /etc/ssl/private/fuquan.key")
    ng.add_argument("--out", required=True, help="写入的站点配置文件, 如 ./fuquan.nginx")
    ng.add_argument("--office-network", nargs="+", action="extend", default=[], metavar="网段",
                    help="可打开 Prefect 看板的办公网网段, 如 10.0.0.0/8 (不填则不经 nginx 提供看板)")
    ng.add_argument("--web-port", type=int, default=8300, help="单位反馈页面端口 (默认 8300)")
    ng.add_argument("--prefect-port", type=int, default=4200, help="Prefect 服务端口 (默认 4200)")
    ng.add_argument("--http-port", type=int, default=80, help="HTTP 端口 (只做跳转, 默认 80)")
    ng.add_argument("--https-port", type=int, default=443, help="HTTPS 端口 (默认 443)")
    ng.add_argument("--prefect-ui-port", type=int, default=4443, help="Prefect 看板的 HTTPS 端口 (默认 4443)")
    ng.add_argument("--listen", default="", help="只在本机的这个 IP 地址上监听 (默认所有地址)")
    ng.set_defaults(func=nginx)


def systemd(args: argparse.Namespace) -> int:
    from usecases.ops_files import ADMIN_NAME, ENV_NAME, TARGET, UNITS, Services, admin_script, env_template, unit_files
    from usecases.ops_files import write_files as write

    s = Services.checked(dir=args.dir, user=args.user, env_file=args.env_file, data_dir=args.data_dir,
                         workers=args.workers, web_port=args.web_port, prefect_port=args.prefect_port)
    out = Path(args.out)
    files = {name: (text, 0o644) for name, text in unit_files(s).items()}
    files[ENV_NAME] = (env_template(s), 0o600)
    files[ADMIN_NAME] = (admin_script(s), 0o755)
    written = write(out, files, keep=frozenset({ENV_NAME}))
    print(f"已写入 {out}: {'、'.join(written)}")
    if ENV_NAME not in written:
        print(f"(已有 {out / ENV_NAME}, 未覆盖)")
    units = " ".join(str(out / n) for n in (*UNITS, TARGET))
    print(f"""
安装步骤 (以 root 运行):
  1. 系统用户和数据目录:
     id {s.user} || useradd --system --home-dir {s.dir} --shell /usr/sbin/nologin {s.user}
     install -d -o {s.user} -g {s.user} -m 0750 {s.data_dir} {s.data_dir}/prefect
  2. 环境变量文件 (含密钥, 只有 root 可读; 已有则不覆盖):
     install -d -m 0755 {s.env_file.parent}
     [ -e {s.env_file} ] || install -m 0600 -o root -g root {out / ENV_NAME} {s.env_file}
     然后编辑 {s.env_file}: 填写 FUQUAN_LINK_SECRET、FUQUAN_WEB_URL (https://…)、FUQUAN_DATABASE_URL 等
  3. 安装服务:
     cp {units} /etc/systemd/system/
     systemctl daemon-reload
     systemctl enable --now {TARGET}
  4. 查看: systemctl status 'fuquan-*'    日志: journalctl -u fuquan-web -u fuquan-schedules -f
  5. 以服务的身份运行 fuquan 命令:
     install -m 0755 {out / ADMIN_NAME} /usr/local/sbin/{ADMIN_NAME}
     {ADMIN_NAME} links show 专班 --member 张三
服务只监听 127.0.0.1 (反馈页面 {s.web_port}, Prefect 看板 {s.prefect_port}); 对外用 HTTPS: fuquan ops nginx --help""")
    return 0


def nginx(args: argparse.Namespace) -> int:
    from reports.files import write_text
    from usecases.ops_files import Site, nginx_site
    from web.app import MAX_BODY

    s = Site.checked(server_name=args.server_name, cert=args.cert, key=args.key, web_port=args.web_port,
                     prefect_port=args.prefect_port, office=args.office_network, http_port=args.http_port,
                     https_port=args.https_port, prefect_ui_port=args.prefect_ui_port, listen=args.listen,
                     max_body=MAX_BODY)
    out = Path(args.out)
    if out.is_dir():
        raise InvalidValue(f"--out 应为文件, {out} 是一个文件夹")
    write_text(out, nginx_site(s))
    print(f"已写入 {out}")
    for path in (s.cert, s.key):
        if not path.exists():
            print(f"注意: {path} 尚不存在; 放好证书后再运行 nginx -t")
    board = (f"\n  5. 办公网的 Prefect 看板: {s.url(s.prefect_ui_port)}/v2 —— 在环境变量文件中加一行 "
             f"PREFECT_UI_API_URL={s.url(s.prefect_ui_port)}/api" if s.office else
             "\n  (未指定 --office-network: 看板不经 nginx 提供; 可用 ssh -L 4200:127.0.0.1:4200 在本机打开)")
    print(f"""
下一步 (以 root 运行):
  1. apt-get install -y nginx
  2. cp {out} /etc/nginx/sites-available/fuquan
     ln -sf /etc/nginx/sites-available/fuquan /etc/nginx/sites-enabled/fuquan
  3. nginx -t && systemctl reload nginx
  4. 在环境变量文件 (默认 /etc/fuquan/fuquan.env) 中设置:
     FUQUAN_WEB_URL={s.url(s.https_port)}    (链接以此开头; https 时会话 Cookie 带 Secure)
     FUQUAN_TRUSTED_PROXIES=127.0.0.1    (只相信本机 nginx 转发的来访地址)
     然后 systemctl restart fuquan.target{board}
防火墙只需开放 {s.http_port}、{s.https_port}{f'、{s.prefect_ui_port} (仅办公网)' if s.office else ''} 端口。""")
    return 0
