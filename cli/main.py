"""The `fuquan` command. Parses arguments, runs one command, and is the only place where a
FuquanError becomes `错误: …` on stderr and an exit code. Unexpected errors keep their traceback.

Read-only commands import neither Prefect nor the database layer unless they need it.
"""

from __future__ import annotations

import argparse
import os
import re
import sys
from collections.abc import Callable, Sequence
from datetime import date, datetime
from typing import NoReturn
from zoneinfo import ZoneInfo

from fuquan.errors import FuquanError

DEFAULT_CONFIG = "config/tasks.yaml"
Handler = Callable[[argparse.Namespace], int]


def _today(text: str) -> date:
    try:
        return date.fromisoformat(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"日期应为 YYYY-MM-DD, 实为 “{text}”") from None


def clock_today(tz: str = "Asia/Shanghai") -> date:
    """The one place the CLI reads the clock; everything below takes `today` as a parameter."""
    return datetime.now(ZoneInfo(tz)).date()


def _lazy(module: str, name: str) -> Handler:
    def run(args: argparse.Namespace) -> int:
        import importlib

        return int(getattr(importlib.import_module(f"cli.{module}"), name)(args))

    return run


class _Parser(argparse.ArgumentParser):
    """argparse with its usage errors in Chinese (its built-in messages are English)."""

    WORDS = ((r"the following arguments are required: (.*)", "缺少参数: {0}"),
             (r"argument (\S+): invalid choice: '(.*?)' \(choose from (.*)\)", "参数 {0} 的值 “{1}” 无效; 可选: {2}"),
             (r"unrecognized arguments: (.*)", "无法识别的参数: {0}"),
             (r"argument (\S+): expected one argument", "参数 {0} 需要一个值"),
             (r"argument (\S+): invalid int value: '(.*)'", "参数 {0} 应为整数, 实为 “{1}”"),
             (r"argument (\S+): (.*)", "参数 {0}: {1}"))

    def error(self, message: str) -> NoReturn:
        for pattern, words in self.WORDS:
            if m := re.fullmatch(pattern, message):
                message = words.format(*m.groups())
                break
        self.print_usage(sys.stderr)
        self.exit(2, f"错误: {message}\n")


def build_parser() -> argparse.ArgumentParser:
    p = _Parser(prog="fuquan", description="镇赋权任务督办: 计划、进度、提醒")
    sub = p.add_subparsers(dest="command", required=True, metavar="命令")
    config = _Parser(add_help=False)
    config.add_argument("--config", default=os.environ.get("FUQUAN_CONFIG", DEFAULT_CONFIG),
                        help=f"计划配置文件 (默认 {DEFAULT_CONFIG}, 或环境变量 FUQUAN_CONFIG)")
    as_json = _Parser(add_help=False)
    as_json.add_argument("--json", action="store_true", help="以 JSON 输出 (字段稳定, 供程序读取)")

    plan = sub.add_parser("plan", help="检查或查看计划配置").add_subparsers(dest="plan_cmd", required=True, metavar="子命令")
    plan.add_parser("check", parents=[config], help="检查计划配置, 列出全部错误").set_defaults(func=_lazy("plan_cmds", "plan_check"))
    plan.add_parser("show", parents=[config, as_json], help="显示 15 项任务及截止日期").set_defaults(func=_lazy("plan_cmds", "plan_show"))

    dl = sub.add_parser("deadline", help="完成时限解析").add_subparsers(dest="deadline_cmd", required=True, metavar="子命令")
    parse = dl.add_parser("parse", parents=[as_json], help="解析完成时限写法")
    parse.add_argument("--year", type=int, default=clock_today().year, help="计划年度 (默认今年)")
    parse.add_argument("text", nargs="+", help="完成时限原文, 如 3月底前")
    parse.set_defaults(func=_lazy("plan_cmds", "deadline_parse"))

    sync = sub.add_parser("sync", parents=[config, as_json], help="把计划配置写入数据库 (单一事务)")
    sync.set_defaults(func=_lazy("db_cmds", "sync"))

    plan_sel = _Parser(add_help=False)
    plan_sel.add_argument("--year", type=int, help="计划年度 (默认最新)")
    plan_sel.add_argument("--district", help="区县 (数据库中有多个区县时必填)")
    plan_sel.add_argument("--today", type=_today, default=None, help="按哪一天计算 (YYYY-MM-DD, 默认今天)")
    who = _Parser(add_help=False)
    who.add_argument("--operator", help="登记人 (记入审计记录; 默认环境变量 FUQUAN_USER 或系统用户名)")
    task_opt = _Parser(add_help=False)
    task_opt.add_argument("--task", type=int, help="任务序号 (有多项同类任务时必填)")

    st = sub.add_parser("status", parents=[plan_sel, as_json], help="各任务、各单位、各镇的进度与逾期情况 (红/黄/绿)")
    st.add_argument("--by", choices=["task", "unit", "town"], default="task", help="按任务 / 单位 / 镇汇总")
    st.add_argument("--task", type=int, help="只看某项任务, 列出每个单位的完成情况和尚缺事项")
    st.set_defaults(func=_lazy("db_cmds", "status"))

    lt = sub.add_parser("letters", parents=[plan_sel, task_opt, as_json], help="承接确认书 部门×镇 签订表")
    lt.set_defaults(func=_lazy("grid_cmds", "letters"))

    rec = [plan_sel, who, task_opt]
    letter = sub.add_parser("letter", help="登记承接确认书").add_subparsers(dest="letter_cmd", required=True, metavar="子命令")
    for name, helptext, func in (("sign", "登记签订", "letter_sign"), ("draft", "登记起草", "letter_draft")):
        c = letter.add_parser(name, parents=rec, help=helptext)
        c.add_argument("department", metavar="部门", help="区级部门, 或单位组名 (如 区级执法单位: 一次登记全部成员)")
        c.add_argument("town", metavar="镇")
        c.add_argument("--on", type=_today, required=True, help="日期 YYYY-MM-DD")
        if name == "sign":
            c.add_argument("--doc-no", help="文号")
            c.add_argument("--signed-by", help="签订人")
        c.set_defaults(func=_lazy("record_cmds", func))

    tr = sub.add_parser("training", help="登记岗前业务培训").add_subparsers(dest="training_cmd", required=True, metavar="子命令")
    c = tr.add_parser("plan", parents=rec, help="培训指导计划已报区司法局")
    c.add_argument("department", metavar="部门")
    c.add_argument("--on", type=_today, required=True, help="报送日期")
    c.set_defaults(func=_lazy("record_cmds", "training_plan"))
    c = tr.add_parser("session", parents=rec, help="登记一次培训")
    c.add_argument("department", metavar="部门")
    c.add_argument("--on", type=_today, required=True, help="培训日期")
    c.add_argument("--form", required=True, help="集中培训 / 现场观摩 / 跟班学习 / 传帮带")
    c.add_argument("--towns", required=True, help="参训镇, 逗号或顿号分隔")
    c.add_argument("--attendees", type=int, required=True, help="参训人次")
    c.add_argument("--note", help="备注")
    c.set_defaults(func=_lazy("record_cmds", "training_session"))
    c = tr.add_parser("complete", parents=rec, help="某部门对某镇的岗前培训已完成")
    c.add_argument("department", metavar="部门")
    c.add_argument("town", metavar="镇")
    c.add_argument("--on", type=_today, required=True, help="完成日期")
    c.set_defaults(func=_lazy("record_cmds", "training_complete"))

    ex = sub.add_parser("exam", help="登记专门法律知识考试").add_subparsers(dest="exam_cmd", required=True, metavar="子命令")
    for name, helptext, func in (("schedule", "安排一场考试", "exam_schedule"), ("result", "登记考试结果", "exam_result"),
                                 ("pretrain", "考前培训已开展", "exam_pretrain"), ("certify", "执法证件换领已完成", "exam_certify")):
        c = ex.add_parser(name, parents=rec, help=helptext)
        c.add_argument("town", metavar="镇")
        c.add_argument("--on", type=_today, required=True, help="日期 YYYY-MM-DD")
        if name in ("schedule", "result"):
            c.add_argument("--candidates", type=int, required=name == "result", help="应考人数")
        if name == "result":
            c.add_argument("--sat", type=int, required=True, help="实考人数")
            c.add_argument("--passed", type=int, required=True, help="通过人数")
        c.set_defaults(func=_lazy("record_cmds", func))

    rp = sub.add_parser("report", help="月报登记与报告生成").add_subparsers(dest="report_cmd", required=True, metavar="子命令")
    for kind, helptext, example in (("monthly", "月度情况通报 (关账后数据冻结)", "2023-05"),
                                    ("quarterly", "季度综合分析 (各单位、各镇得分)", "2023Q2"),
                                    ("annual", "年度总结评估 (各镇排名)", "2023")):
        c = rp.add_parser(kind, parents=[plan_sel, as_json], help=helptext)
        c.add_argument("--period", help=f"报告期, 如 {example} (默认最近一期)")
        c.add_argument("--out", default="data/reports", help="输出目录 (默认 data/reports)")
        c.add_argument("--send", action="store_true", help="同时把要点发给专班 (每期只发一次)")
        c.set_defaults(func=_lazy("report_cmds", "report"), kind=kind)
    c = rp.add_parser("submit", parents=rec, help="登记某镇某月的月报")
    c.add_argument("town", metavar="镇")
    c.add_argument("--month", required=True, help="月份 YYYY-MM")
    c.add_argument("--on", type=_today, required=True, help="报送日期")
    c.add_argument("--figure", action="append", metavar="指标=数值", help="月报指标, 可多次, 如 --figure 审批办件量=12")
    c.set_defaults(func=_lazy("record_cmds", "report_submit"))

    tk = sub.add_parser("task", help="任务分工的通用状态").add_subparsers(dest="task_cmd", required=True, metavar="子命令")
    c = tk.add_parser("set", parents=[plan_sel, who], help="设置某单位在某任务上的状态")
    c.add_argument("task_no", type=int, metavar="任务序号")
    c.add_argument("unit", metavar="单位")
    c.add_argument("status", metavar="状态", help="未开始 / 进行中 / 已完成 / 申请延期")
    c.add_argument("--on", type=_today, help="完成日期 (已完成时必填)")
    c.add_argument("--note", help="备注")
    c.add_argument("--evidence", help="佐证材料 (文件名或链接)")
    c.add_argument("--new-due", type=_today, help="申请延期: 新的截止日期")
    c.add_argument("--reason", help="申请延期: 理由")
    c.add_argument("--approved-by", help="申请延期: 批准人")
    c.set_defaults(func=_lazy("record_cmds", "task_set"))
    rm = sub.add_parser("remind", parents=[plan_sel, as_json], help="发送到期、逾期、升级提醒 (每条提醒只发一次)")
    rm.add_argument("--dry-run", action="store_true", help="预演: 列出将发给谁的什么内容, 不发送、不写入")
    rm.add_argument("--force", action="store_true", help="非工作日或免打扰时段也发送")
    rm.add_argument("--now", help=argparse.SUPPRESS)  # ISO time, for tests and replays
    rm.set_defaults(func=_lazy("remind_cmds", "remind"))
    rl = sub.add_parser("reminders", help="提醒记录").add_subparsers(dest="reminders_cmd", required=True, metavar="子命令")
    c = rl.add_parser("log", parents=[plan_sel, as_json], help="提醒发送记录: 时间、渠道、结果、错误码")
    c.add_argument("--day", type=_today, help="只看某一天的提醒")
    c.add_argument("--limit", type=int, default=200, help="最多显示几条 (默认 200)")
    c.set_defaults(func=_lazy("remind_cmds", "reminders_log"))

    flows = ["deadline-check", "sync-plan", "monthly-status", "quarterly-analysis", "annual-evaluation"]
    rn = sub.add_parser("run", parents=[plan_sel, config], help="立即运行一个流程 (记录在 Prefect 看板)")
    rn.add_argument("flow", choices=flows, metavar="流程", help="、".join(flows))
    rn.set_defaults(func=_lazy("service_cmds", "run"))
    sv = sub.add_parser("serve", parents=[config], help="按 config/tasks.yaml 的 schedules 登记并运行 Prefect 定时流程")
    sv.set_defaults(func=_lazy("service_cmds", "serve"))
    dp = sub.add_parser("deploy", parents=[config], help="把定时流程登记到 Prefect 工作池, 由 worker 进程执行 (扩展部署)")
    dp.add_argument("--pool", default="fuquan", help="工作池名称 (默认 fuquan; 不存在则创建 process 类型)")
    dp.set_defaults(func=_lazy("service_cmds", "deploy"))
    sc = sub.add_parser("scheduler", parents=[config], help="无 Prefect 服务时的定时器 (APScheduler, 任务存于数据库)")
    sc.add_argument("--once", action="store_true", help="只登记定时任务并显示下次运行时间, 然后退出")
    sc.set_defaults(func=_lazy("service_cmds", "scheduler"))

    kinds = "letters=承接确认书, plans=培训指导计划, sessions=培训场次, training=岗前培训完成, exams=考试结果, reports=月报"
    im = sub.add_parser("import", parents=[plan_sel, who], help="从 CSV / Excel 导入登记数据 (先全部校验, 有错则不写入)")
    im.add_argument("file", metavar="文件", help=".csv 或 .xlsx; Excel 可含多个工作表")
    im.add_argument("--kind", choices=["letters", "plans", "sessions", "training", "exams", "reports"],
                    help=f"表格类型 (默认按工作表名或表头识别): {kinds}")
    im.set_defaults(func=_lazy("import_cmds", "import_file"))
    tp = sub.add_parser("template", parents=[config], help="生成空白登记表 (带正确表头), 发给各单位填写")
    tp.add_argument("kind", choices=["letters", "plans", "sessions", "training", "exams", "reports"], help=kinds)
    tp.add_argument("--out", help="输出文件 (.xlsx 或 .csv; 默认 <表名>.xlsx)")
    tp.set_defaults(func=_lazy("import_cmds", "template"))
    return p


def main(argv: Sequence[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    args.today_given = getattr(args, "today", None) is not None
    if getattr(args, "today", "absent") is None:
        args.today = clock_today()
    try:
        return args.func(args)  # type: ignore[no-any-return]
    except FuquanError as e:
        print(f"错误: {e}", file=sys.stderr)
        return e.exit_code
    except KeyboardInterrupt:
        print("已中断", file=sys.stderr)
        return 130


if __name__ == "__main__":
    sys.exit(main())
