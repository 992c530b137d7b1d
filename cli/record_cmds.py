"""Recording progress: letters, training, exams, monthly reports, generic task status.
Each command is one short transaction; every changed field leaves an audit row."""

from __future__ import annotations

import argparse
from typing import Any

from fuquan.errors import InvalidValue
from fuquan.tracking.progress import MAX_COUNT

from .common import TASK_NO, Parents, actor, bounded, day, plan_context
from .output import console

EXTEND = "申请延期"  # not a status: a request for a later due date (usecases.answers.ask_extension)


def register(sub: Any, p: Parents) -> None:
    letter = sub.add_parser("letter", help="登记承接确认书").add_subparsers(dest="letter_cmd", required=True, metavar="子命令")
    for name, helptext, func in (("sign", "登记签订", letter_sign), ("draft", "登记起草", letter_draft)):
        c = letter.add_parser(name, parents=p.record, help=helptext)
        c.add_argument("department", metavar="部门", help="部门, 或单位组名 (一次登记组内全部单位)")
        c.add_argument("town", metavar="乡镇")
        c.add_argument("--on", type=day, required=True, help="日期 YYYY-MM-DD")
        if name == "sign":
            c.add_argument("--doc-no", help="文号")
            c.add_argument("--signed-by", help="签订人")
        c.set_defaults(func=func)

    tr = sub.add_parser("training", help="登记岗前业务培训").add_subparsers(dest="training_cmd", required=True, metavar="子命令")
    c = tr.add_parser("plan", parents=p.record, help="培训指导计划已报送")
    c.add_argument("department", metavar="部门")
    c.add_argument("--on", type=day, required=True, help="报送日期")
    c.set_defaults(func=training_plan)
    c = tr.add_parser("session", parents=p.record, help="登记一次培训")
    c.add_argument("department", metavar="部门")
    c.add_argument("--on", type=day, required=True, help="培训日期")
    c.add_argument("--form", required=True, help="集中培训 / 现场观摩 / 跟班学习 / 传帮带")
    c.add_argument("--towns", required=True, help="参训乡镇, 逗号或顿号分隔")
    c.add_argument("--attendees", type=bounded(0, MAX_COUNT, "参训人次"), required=True, help="参训人次")
    c.add_argument("--note", help="备注")
    c.set_defaults(func=training_session)
    c = tr.add_parser("complete", parents=p.record, help="某部门对某个乡镇的岗前培训已完成")
    c.add_argument("department", metavar="部门")
    c.add_argument("town", metavar="乡镇")
    c.add_argument("--on", type=day, required=True, help="完成日期")
    c.set_defaults(func=training_complete)

    ex = sub.add_parser("exam", help="登记专门法律知识考试").add_subparsers(dest="exam_cmd", required=True, metavar="子命令")
    for name, helptext, func in (("schedule", "安排一场考试", exam_schedule), ("result", "登记考试结果", exam_result),
                                 ("pretrain", "考前培训已开展", exam_pretrain), ("certify", "执法证件换领已完成", exam_certify)):
        c = ex.add_parser(name, parents=p.record, help=helptext)
        c.add_argument("town", metavar="乡镇")
        c.add_argument("--on", type=day, required=True, help="日期 YYYY-MM-DD")
        if name in ("schedule", "result"):
            c.add_argument("--candidates", type=bounded(0, MAX_COUNT, "应考人数"), required=name == "result", help="应考人数")
        if name == "result":
            c.add_argument("--sat", type=bounded(0, MAX_COUNT, "实考人数"), required=True, help="实考人数")
            c.add_argument("--passed", type=bounded(0, MAX_COUNT, "通过人数"), required=True, help="通过人数")
        c.set_defaults(func=func)

    tk = sub.add_parser("task", help="任务分工的通用状态").add_subparsers(dest="task_cmd", required=True, metavar="子命令")
    c = tk.add_parser("set", parents=[p.plan, p.who], help="设置某单位在某任务上的状态")
    c.add_argument("task_no", type=TASK_NO, metavar="任务序号")
    c.add_argument("unit", metavar="单位")
    c.add_argument("status", metavar="状态", help="未开始 / 进行中 / 已完成 / 申请延期")
    c.add_argument("--on", type=day, help="完成日期 (已完成时必填)")
    c.add_argument("--note", help="备注")
    c.add_argument("--evidence", help="佐证材料 (文件名或链接)")
    c.add_argument("--new-due", type=day, help="申请延期: 新的截止日期")
    c.add_argument("--reason", help="申请延期: 理由")
    c.add_argument("--approved-by", help="申请延期: 已批准的, 写批准人 (登记即生效); 不写则为待批申请, 由专班在网页上审批")
    c.add_argument("--period", help="周期性任务的哪一期: 2024-03 (月)、2024Q1 (季)、2024H1 (半年)、2024 (年); "
                                    "分期任务: 该期的截止日期, 如 2024-05-31")
    c.set_defaults(func=task_set)


def _record(args: argparse.Namespace, cmd: Any, message: str) -> int:
    """One typed command through usecases.record, in one transaction; a group named for a unit records each
    member (and says how many)."""
    from usecases.record import record

    with plan_context(args) as ctx:
        done = record(ctx, cmd, actor=actor(args), today=args.today)
    console().print(f"{ctx.plan.label}: {message}" + (f" (共 {done.count} 条)" if done.count > 1 else ""))
    _say_replaced(done.replaced)
    return 0


def _say_replaced(replaced: list[str]) -> None:
    for line in replaced:
        console().print(f"  已修改 {line}", markup=False)


def _letters(args: argparse.Namespace, verb: str, **dates: Any) -> int:
    from usecases.commands import SignLetter
    from usecases.record import record

    cmd = SignLetter(task_no=args.task, department=args.department, town=args.town, **dates)
    with plan_context(args) as ctx:
        done = record(ctx, cmd, actor=actor(args), today=args.today)
    depts = [w["department"] for w in done.written]
    console().print(f"{ctx.plan.label}: 已登记承接确认书{verb} {len(depts)} 份: {'、'.join(depts)} — {args.town}, {args.on}")
    _say_replaced(done.replaced)
    return 0


def letter_sign(args: argparse.Namespace) -> int:
    return _letters(args, "签订", signed_on=args.on, doc_no=args.doc_no, signed_by=args.signed_by)


def letter_draft(args: argparse.Namespace) -> int:
    return _letters(args, "起草", signed_on=None, drafted_on=args.on)


def training_plan(args: argparse.Namespace) -> int:
    from usecases.commands import FileTrainingPlan

    return _record(args, FileTrainingPlan(task_no=args.task, department=args.department, filed_on=args.on),
                   f"已登记培训指导计划报送: {args.department}, {args.on}")


def training_session(args: argparse.Namespace) -> int:
    from usecases.commands import AddTrainingSession

    towns = [t for t in args.towns.replace("、", ",").split(",") if t.strip()]
    cmd = AddTrainingSession(task_no=args.task, department=args.department, held_on=args.on, form=args.form,
                             attendees=args.attendees, towns=tuple(towns), note=args.note)
    return _record(args, cmd,
                   f"已登记培训: {args.department} {args.form} {args.on}, {'、'.join(towns)}, {args.attendees} 人次")


def training_complete(args: argparse.Namespace) -> int:
    from usecases.commands import CompleteTraining

    return _record(args, CompleteTraining(task_no=args.task, department=args.department, town=args.town,
                                          completed_on=args.on),
                   f"已登记岗前培训完成: {args.department} — {args.town}, {args.on}")


def exam_schedule(args: argparse.Namespace) -> int:
    from usecases.commands import RecordExam

    return _record(args, RecordExam(task_no=args.task, town=args.town, exam_on=args.on, candidates=args.candidates),
                   f"已登记考试安排: {args.town}, {args.on}")


def exam_result(args: argparse.Namespace) -> int:
    from usecases.commands import RecordExam

    cmd = RecordExam(task_no=args.task, town=args.town, exam_on=args.on, candidates=args.candidates, sat=args.sat,
                     passed=args.passed)
    return _record(args, cmd,
                   f"已登记考试结果: {args.town} {args.on}, 应考 {args.candidates} 实考 {args.sat} 通过 {args.passed}")


def exam_pretrain(args: argparse.Namespace) -> int:
    from usecases.commands import SetExamTown

    return _record(args, SetExamTown(task_no=args.task, town=args.town, pre_training_on=args.on),
                   f"已登记考前培训: {args.town}, {args.on}")


def exam_certify(args: argparse.Namespace) -> int:
    from usecases.commands import SetExamTown

    return _record(args, SetExamTown(task_no=args.task, town=args.town, certified_on=args.on),
                   f"已登记执法证件换领完成: {args.town}, {args.on}")


def report_submit(args: argparse.Namespace) -> int:
    from usecases.commands import SubmitReport

    figures: dict[str, Any] = {}
    for item in args.figure or []:
        name, sep, value = item.partition("=")
        if not sep:
            raise InvalidValue(f"月报指标应写作 名称=数值, 实为 “{item}”")
        figures[name.strip()] = value.strip()
    cmd = SubmitReport(task_no=args.task, town=args.town, period=args.month, submitted_on=args.on, figures=figures)
    return _record(args, cmd, f"已登记月报: {args.town} {args.month}, 报送于 {args.on}")


def task_set(args: argparse.Namespace) -> int:
    """A share's status through record; 申请延期 is not a status but a request (usecases.answers)."""
    if args.status == EXTEND:
        return _ask_extension(args)
    for flag, value in (("--new-due", args.new_due), ("--reason", args.reason), ("--approved-by", args.approved_by)):
        if value is not None:
            raise InvalidValue(f"{flag} 只用于申请延期; 状态为 {args.status} 时请去掉它")
    from usecases.commands import SetStatus
    from usecases.record import record

    cmd = SetStatus(task_no=args.task_no, unit=args.unit, status=args.status, completed_on=args.on, note=args.note,
                    evidence=args.evidence, period=args.period)
    with plan_context(args) as ctx:
        done = record(ctx, cmd, actor=actor(args), today=args.today)
    console().print(f"{ctx.plan.label}: 已更新任务 {args.task_no} — {args.unit}"
                    + (f" {args.period}" if args.period else "") + f": {args.status}"
                    + (f" (共 {done.count} 个单位)" if done.count > 1 else ""))
    _say_replaced(done.replaced)
    return 0


def _ask_extension(args: argparse.Namespace) -> int:
    """With --approved-by: a request the 专班 already approved, recorded as asked and granted at once. Without
    it: a 待批 request, which the 专班 (or the lead unit, as the plan says) decides on its web page."""
    from usecases.answers import ask_extension
    from usecases.commands import AskExtension

    missing = [flag for flag, value in (("--new-due", args.new_due), ("--reason", args.reason)) if value is None]
    if missing:
        raise InvalidValue(f"申请延期须填写 {' 和 '.join(missing)} (新的截止日期和理由)")
    for flag, value in (("--on", args.on), ("--evidence", args.evidence), ("--note", args.note)):
        if value is not None:
            raise InvalidValue(f"申请延期不用 {flag}; 理由请写在 --reason 中")
    cmd = AskExtension(unit=args.unit, task_no=args.task_no, period=args.period or "", new_due=args.new_due,
                       reason=args.reason, approved_by=args.approved_by)
    with plan_context(args) as ctx:
        said = ask_extension(ctx, cmd, actor=actor(args), today=args.today)
    console().print(f"{ctx.plan.label}: {said}", markup=False)
    return 0
