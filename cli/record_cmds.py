"""Recording progress: letters, training, exams, monthly reports, generic task status.
Each command is one short transaction; every changed field leaves an audit row."""

from __future__ import annotations

import argparse
from collections.abc import Callable
from typing import Any

from fuquan.errors import InvalidValue
from models import records
from models.db import transaction

from .context import actor, database, plan_of
from .output import console


def _record(args: argparse.Namespace, fn: Callable[..., Any], message: str, **kwargs: Any) -> int:
    with database() as eng, transaction(eng) as session:
        idx = records.PlanIndex(session, plan_of(session, args))
        fn(session, idx, actor(args), args.today, task_no=getattr(args, "task", None), **kwargs)
    console().print(message)
    return 0


def _letters(args: argparse.Namespace, verb: str, **dates: Any) -> int:
    # DEPT may be a group (区级执法单位): a town can record its letters with every department at once.
    with database() as eng, transaction(eng) as session:
        idx = records.PlanIndex(session, plan_of(session, args))
        depts = idx.expand(args.department)
        for d in depts:
            records.sign_letter(session, idx, actor(args), args.today, task_no=args.task, department=d,
                                town=args.town, **dates)
    console().print(f"已登记承接确认书{verb}: {'、'.join(depts)} — {args.town}, {args.on}")
    return 0


def letter_sign(args: argparse.Namespace) -> int:
    return _letters(args, "签订", signed_on=args.on, doc_no=args.doc_no, signed_by=args.signed_by)


def letter_draft(args: argparse.Namespace) -> int:
    return _letters(args, "起草", signed_on=None, drafted_on=args.on)


def training_plan(args: argparse.Namespace) -> int:
    return _record(args, records.file_training_plan, f"已登记培训指导计划报送: {args.department}, {args.on}",
                   department=args.department, filed_on=args.on)


def training_session(args: argparse.Namespace) -> int:
    towns = [t for t in args.towns.replace("、", ",").split(",") if t.strip()]
    return _record(args, records.add_training_session,
                   f"已登记培训: {args.department} {args.form} {args.on}, {'、'.join(towns)}, {args.attendees} 人次",
                   department=args.department, held_on=args.on, form=args.form, attendees=args.attendees,
                   towns=towns, note=args.note)


def training_complete(args: argparse.Namespace) -> int:
    return _record(args, records.complete_training, f"已登记岗前培训完成: {args.department} — {args.town}, {args.on}",
                   department=args.department, town=args.town, completed_on=args.on)


def exam_schedule(args: argparse.Namespace) -> int:
    return _record(args, records.record_exam, f"已登记考试安排: {args.town}, {args.on}",
                   town=args.town, exam_on=args.on, candidates=args.candidates)


def exam_result(args: argparse.Namespace) -> int:
    return _record(args, records.record_exam,
                   f"已登记考试结果: {args.town} {args.on}, 应考 {args.candidates} 实考 {args.sat} 通过 {args.passed}",
                   town=args.town, exam_on=args.on, candidates=args.candidates, sat=args.sat, passed=args.passed)


def exam_pretrain(args: argparse.Namespace) -> int:
    return _record(args, records.set_exam_town, f"已登记考前培训: {args.town}, {args.on}",
                   town=args.town, pre_training_on=args.on)


def exam_certify(args: argparse.Namespace) -> int:
    return _record(args, records.set_exam_town, f"已登记执法证件换领完成: {args.town}, {args.on}",
                   town=args.town, certified_on=args.on)


def report_submit(args: argparse.Namespace) -> int:
    figures: dict[str, Any] = {}
    for item in args.figure or []:
        name, sep, value = item.partition("=")
        if not sep:
            raise InvalidValue(f"月报指标应写作 名称=数值, 实为 “{item}”")
        figures[name.strip()] = value.strip()
    return _record(args, records.submit_report, f"已登记月报: {args.town} {args.month}, 报送于 {args.on}",
                   town=args.town, period=args.month, submitted_on=args.on, figures=figures)


def task_set(args: argparse.Namespace) -> int:
    with database() as eng, transaction(eng) as session:
        idx = records.PlanIndex(session, plan_of(session, args))
        records.set_task_status(session, idx, actor(args), args.today, task_no=args.task_no, unit=args.unit,
                                status=args.status, completed_on=args.on, note=args.note, evidence=args.evidence,
                                extended_due=args.new_due, reason=args.reason, approved_by=args.approved_by)
    console().print(f"已更新任务 {args.task_no} — {args.unit}: {args.status}")
    return 0
