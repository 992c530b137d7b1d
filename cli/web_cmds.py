"""`fuquan web` (the units' and the 专班's pages) and `fuquan links` (personal links: show, rotate)."""

from __future__ import annotations

import argparse
import sys
from typing import Any

from fuquan.errors import FuquanError

from .common import Parents, actor, plan_context, settings


def register(sub: Any, p: Parents) -> None:
    w = sub.add_parser("web", help="启动单位反馈页面 (签收、反馈、申请延期) 和专班审批页面")
    w.add_argument("--host", default="127.0.0.1", help="监听地址 (默认 127.0.0.1, 仅本机)")
    w.add_argument("--port", type=int, default=None, help="端口 (默认环境变量 FUQUAN_WEB_PORT 或 8300)")
    w.add_argument("--workers", type=_workers, default=1, help="工作进程数 (默认 1; 服务器上可设为 CPU 核数)")
    w.set_defaults(func=web)
    links = sub.add_parser("links", help="单位专属链接: 查看 (供专班重发) 或重新生成 (旧链接作废)")
    lsub = links.add_subparsers(dest="links_command", required=True, metavar="操作")
    for name, text in (("show", "显示单位的专属链接"), ("rotate", "重新生成单位的专属链接, 此前的链接和登录立即作废")):
        c = lsub.add_parser(name, parents=[p.plan, p.who], help=text)
        c.add_argument("unit", help="单位名称, 或“专班” (专班成员), 或“领导” (只读看板); 后两者需加 --member 姓名")
        c.add_argument("--member", default="", help="专班成员或领导的姓名 (记入审批记录)")
        c.set_defaults(func=show_link if name == "show" else rotate_link)


def _workers(raw: str) -> int:
    if not raw.isdigit() or not 1 <= int(raw) <= 64:
        raise argparse.ArgumentTypeError(f"工作进程数应为 1 到 64 之间的整数, 收到 “{raw}”")
    return int(raw)


def _need_secret(args: argparse.Namespace) -> None:
    if settings(args).link_secret is None:
        raise FuquanError("未设置环境变量 FUQUAN_LINK_SECRET (链接签名密钥); make run 会自动生成一个, "
                          "手动运行时请设置一个足够长的随机字符串")


def _holder(args: argparse.Namespace, ctx: Any) -> str:
    """The unit, 专班 or 领导 a links command names (the latter two a person's: --member)."""
    from usecases.unit_links import PEOPLE

    return args.unit if args.unit in PEOPLE else str(ctx.plan.plan.pick(args.unit, [u.name for u in ctx.plan.plan.units]))


def show_link(args: argparse.Namespace) -> int:
    from usecases.unit_links import PEOPLE, personal_link

    _need_secret(args)
    with plan_context(args) as ctx:
        unit = _holder(args, ctx)
        if unit in PEOPLE and not args.member.strip():
            raise FuquanError(f"{unit}的链接属于一个人: 请加 --member 姓名 (记录中写明是谁)")
        link = personal_link(ctx, unit, ctx.now(), args.member.strip())
        print(f"{ctx.plan.label} · {unit}{(' ' + args.member) if args.member else ''} 的专属链接 "
              f"(有效 {ctx.plan.plan.answers.link_days} 天):")
        print(link)
    return 0


def rotate_link(args: argparse.Namespace) -> int:
    from usecases.unit_links import PEOPLE, personal_link
    from usecases.unit_links import rotate_link as rotate

    _need_secret(args)
    with plan_context(args) as ctx:
        unit = _holder(args, ctx)
        gen = rotate(ctx, unit, ctx.now(), actor(args))
        print(f"{ctx.plan.label} · {unit}: 已重新生成专属链接 (第 {gen} 版), 此前的链接和登录已作废")
        if unit not in PEOPLE:
            print(personal_link(ctx, unit, ctx.now()))
    return 0


def web(args: argparse.Namespace) -> int:
    from usecases.context import open_context
    from web.serve import POOL, build, serve, web_settings

    _need_secret(args)
    s = web_settings(settings(args))
    port = args.port or s.web_port
    with open_context(s, pool_size=POOL) as ctx:
        app, stop = build(ctx)
        workers = f", {args.workers} 个工作进程" if args.workers > 1 else ""
        print(f"单位反馈页面已启动: http://{args.host}:{port}{workers} (各单位由督办消息中的专属链接进入; Ctrl-C 停止)",
              file=sys.stderr)
        try:
            serve(app, args.host, port, args.workers)  # uvicorn without its own X-Forwarded-For trust (web/serve.py)
        finally:
            stop()
    return 0
