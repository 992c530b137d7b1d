"""`fuquan backup FILE` and `fuquan restore FILE [--force]`: the database, the 佐证 files, the link secret and the plan
file in one .tar.gz (usecases/backup.py), and back."""

from __future__ import annotations

import argparse
from dataclasses import replace
from pathlib import Path
from typing import Any

from .common import Parents, settings

WARNING = ("注意: 此文件含有链接签名密钥 (link.secret), 谁拿到它就能以任何单位的身份登录; 请妥善保管 "
           "(文件权限已设为仅本人可读写; 不要放在共享目录, 不要通过聊天工具或邮件发送)")


def register(sub: Any, p: Parents) -> None:
    b = sub.add_parser("backup", parents=[p.config],
                       help="备份数据库、佐证材料、链接签名密钥和计划文件到一个 .tar.gz 文件 (含密钥, 须妥善保管)")
    b.add_argument("file", help="备份文件 (.tar.gz), 如 /backup/fuquan-2024-06-01.tar.gz; 已存在时整体替换")
    b.set_defaults(func=backup)
    r = sub.add_parser("restore", parents=[p.config],
                       help="从备份文件恢复到当前配置的数据库和数据目录 (先校验全部文件; 目标非空时需 --force)")
    r.add_argument("file", help="fuquan backup 写出的备份文件")
    r.add_argument("--force", action="store_true", help="目标数据库已有计划或数据目录已有佐证材料时, 仍替换它们")
    r.set_defaults(func=restore)


def backup(args: argparse.Namespace) -> int:
    from usecases.backup import backup as make_backup
    from usecases.backup import database, size_text
    from usecases.context import system_clock

    s = replace(settings(args), config=Path(args.config))
    print(f"备份 {database(s.database_url).shown} 和数据目录 {s.data_dir} → {args.file}", flush=True)
    made = make_backup(s, Path(args.file), clock=system_clock, say=_say)
    print(f"已写入 {made.path} ({made.members} 个文件, 共 {size_text(made.size)})")
    print(WARNING if made.secret else "注意: 此文件含有全部督办数据和佐证材料, 请妥善保管")
    return 0


def restore(args: argparse.Namespace) -> int:
    from usecases.backup import restore as put_back
    from usecases.context import system_clock

    s = replace(settings(args), config=Path(args.config))
    done = put_back(s, Path(args.file), force=args.force, clock=system_clock, say=_say)
    held = "、".join(f"{district} {year} 年度" for district, year in done.plans) or "(无)"
    print(f"已恢复 {done.created_at} 的备份。数据库中的计划: {held}")
    return 0


def _say(line: str) -> None:
    print(line, flush=True)
