"""load_plan(path): config/tasks.yaml → a validated Plan, or PlanError listing every problem.

ruamel.yaml (not PyYAML) because it rejects duplicate keys, does not read NO as false, and keeps
line/column marks, so every problem can be reported as `file:line:col: what, and what is allowed`.
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from datetime import date, timedelta
from pathlib import Path
from typing import Any

from pydantic import ValidationError
from ruamel.yaml import YAML
from ruamel.yaml.comments import CommentedMap, CommentedSeq
from ruamel.yaml.constructor import RoundTripConstructor
from ruamel.yaml.error import MarkedYAMLError
from ruamel.yaml.events import AliasEvent, MappingEndEvent, MappingStartEvent, SequenceEndEvent, SequenceStartEvent
from ruamel.yaml.reader import ReaderError

from fuquan.answers.rules import AnswerPolicy
from fuquan.dates.deadline import due_dates, parse_deadline
from fuquan.dates.deadline_model import report_months
from fuquan.dates.workdays import PlanCalendar
from fuquan.errors import DeadlineError, PlanError, Problem
from fuquan.plans.plan import UNIT_KINDS, Group, Person, Plan, Section, Task, Track, Unit, Words, justice_bureau
from fuquan.plans.policy import (
    FLOWS,
    LABELS,
    PERSON_KINDS,
    ZHUANBAN,
    Channels,
    Destination,
    ReminderPolicy,
    Schedule,
    SlipPolicy,
    SmsPolicy,
    Weights,
)
from fuquan.plans.schema import ChannelSpec, MonthlyReportSpec, PlanFile, RemindersSpec, TaskSpec, chinese_message
from fuquan.words.text import name_key


class _Constructor(RoundTripConstructor):
    """Dates stay text so that a bad one (2023-02-30) is reported with its line, not a bare ValueError."""


_Constructor.add_constructor("tag:yaml.org,2002:timestamp",
                             lambda c, node: str(c.construct_scalar(node)))


def load_plan(path: str | Path) -> Plan:
    path = Path(path)
    try:
        text = path.read_text(encoding="utf-8-sig")
    except OSError as e:
        raise PlanError([Problem(0, 0, f"无法读取计划文件: {e.strerror}", str(path))]) from e
    except UnicodeDecodeError as e:
        raise PlanError([Problem(0, 0, "计划文件不是 UTF-8 编码", str(path))]) from e
    return parse_plan(text, str(path))


MAX_CHARS = 2_000_000  # a province's plan is ~100 KB; more is not a plan
MAX_DEPTH = 12  # the deepest real block (track → letters → not_applicable → list) is 6


def _precheck(text: str, source: str) -> None:
    """What a YAML reader would choke on or be made to do, refused with file:line:col before it reads: a huge
    file, control characters, anchors and aliases (an alias bomb expands a small file into billions of nodes),
    deep nesting (the composer recurses)."""
    if len(text) > MAX_CHARS:
        raise PlanError([Problem(0, 0, f"计划文件过大 ({len(text):,} 字符, 上限 {MAX_CHARS:,}); 请检查是否选错了文件",
                                 source)])
    if bad := re.search(r"[\x00-\x08\x0b\x0c\x0e-\x1f\x7f]", text):
        line = text.count("\n", 0, bad.start()) + 1
        col = bad.start() - (text.rfind("\n", 0, bad.start()) + 1) + 1
        raise PlanError([Problem(line, col, f"含有控制字符 U+{ord(bad[0]):04X}; 请删去 (可能是从其他软件粘贴带入的)",
                                 source)])
    depth = 0
    for event in YAML(typ="rt").parse(text):
        mark = event.start_mark
        line, col = (mark.line + 1, mark.column + 1) if mark else (0, 0)
        if isinstance(event, AliasEvent) or getattr(event, "anchor", None):
            raise PlanError([Problem(line, col, "计划文件不支持 YAML 锚点和别名 (& 和 *); 请把内容直接写出来", source)])
        if isinstance(event, (MappingStartEvent, SequenceStartEvent)):
            depth += 1
            if depth > MAX_DEPTH:
                raise PlanError([Problem(line, col, f"嵌套层次过深 (超过 {MAX_DEPTH} 层); 计划文件不需要这么多层",
                                         source)])
        elif isinstance(event, (MappingEndEvent, SequenceEndEvent)):
            depth -= 1


def parse_plan(text: str, source: str = "<tasks.yaml>") -> Plan:
    yaml = YAML(typ="rt")
    yaml.Constructor = _Constructor
    try:
        _precheck(text, source)
        root = yaml.load(text)
    except ReaderError as e:  # a character YAML does not allow (U+FFFE …): where it is
        line = text.count("\n", 0, e.position) + 1
        raise PlanError([Problem(line, 0, f"含有不允许的字符 U+{e.character:04X}; 请删去", source)]) from e
    except MarkedYAMLError as e:
        mark = e.problem_mark or e.context_mark
        what = e.problem or e.context or ""
        line, col = (mark.line + 1, mark.column + 1) if mark else (0, 0)
        if dup := re.match(r'found duplicate key "([^"]*)"', what):
            first = e.context_mark.line + 1 if e.context_mark else "?"
            what = f"重复的键 “{dup[1]}” (所在段落始于第 {first} 行); 同一段落中每个键只能出现一次"
        raise PlanError([Problem(line, col, f"YAML 语法错误: {what}", source)]) from e
    if not isinstance(root, CommentedMap):
        raise PlanError([Problem(1, 1, "计划文件应为键值映射 (plan:, units:, tasks: …)", source)])
    try:
        spec = PlanFile.model_validate(_plain(root))
    except ValidationError as e:
        problems = [Problem(*position(root, tuple(err["loc"])), chinese_message(dict(err)), source)
                    for err in e.errors()]
        raise PlanError(problems) from e
    return _Checker(root, spec, source).build()


def _plain(node: Any) -> Any:
    """ruamel's commented containers → dicts and lists, so pydantic sees ordinary data."""
    if isinstance(node, dict):
        return {str(k): _plain(v) for k, v in node.items()}
    if isinstance(node, list):
        return [_plain(v) for v in node]
    return node


def position(root: Any, loc: Iterable[Any]) -> tuple[int, int]:
    """1-based (line, col) of the deepest node of `loc` that exists in the document."""
    node, where = root, (0, 0)
    for part in loc:
        if isinstance(node, CommentedMap) and part in node:
            line, col = node.lc.value(part) if not isinstance(node[part], (dict, list)) else node.lc.key(part)
        elif isinstance(node, CommentedSeq) and isinstance(part, int) and part < len(node):
            line, col = node.lc.item(part)
        else:
            break
        where, node = (line, col), node[part]
    return where[0] + 1, where[1] + 1


def policy_of(r: RemindersSpec, report: MonthlyReportSpec | None = None,
              overrides: dict[int, dict[str, Any]] | None = None) -> ReminderPolicy:
    """The reminder policy a plan file asks for (`default_policy()`: what a file that says nothing gets)."""
    ask_day = report.ask_day if report else MonthlyReportSpec.model_fields["ask_day"].default
    return ReminderPolicy(tuple(r.before_due), r.overdue_every, r.escalate_after, r.ongoing_every,
                          r.send_at, r.quiet_after, overrides or {}, ask_day, SlipPolicy(**r.slips.model_dump()),
                          SmsPolicy(**r.sms.model_dump()) if r.sms else None)


def default_policy() -> ReminderPolicy:
    return policy_of(RemindersSpec())


class _Checker:
    """Cross-reference checks, each problem with its place; nothing is built if any fails."""

    def __init__(self, root: CommentedMap, spec: PlanFile, source: str) -> None:
        self.root, self.spec, self.source = root, spec, source
        self.problems: list[Problem] = []

    def add(self, loc: tuple[Any, ...], message: str) -> None:
        self.problems.append(Problem(*position(self.root, loc), message, self.source))

    def build(self) -> Plan:
        units = self._units()
        groups = self._groups({name_key(u.name): u.name for u in units})
        self.kinds = {u.name: u.kind for u in units}
        self.members = {g.name: g.members for g in groups}
        names = {name_key(n): n for n in [u.name for u in units] + [g.name for g in groups]}
        sections = self._sections()
        tasks = self._tasks(names, sections)
        meta = self.spec.plan
        figures = tuple(self.spec.monthly_report.figures) if self.spec.monthly_report else ()
        policy = self._policy({t.no for t in tasks})
        self.people = self._people()
        channels = self._channels({name_key(u.name): u.name for u in units})
        schedules = self._schedules()
        ev = self.spec.evaluation
        decimal, calendar = self._decimal(figures), self._calendar()
        if self.problems:
            raise PlanError(self.problems)
        return Plan(meta.title, meta.district, meta.year, meta.issued, meta.timezone,
                    tuple(units), tuple(groups), tuple(sections.values()), tuple(tasks), self.source,
                    self.spec.status.warn_working_days, figures, policy, channels, schedules,
                    Weights(ev.weights.on_time, ev.weights.completion, ev.weights.reports, ev.late_penalty,
                            ev.late_penalty_cap, ev.roles.lead, ev.roles.partner), self._words(), decimal, calendar, self._contacts(),
                    AnswerPolicy(**self.spec.answers.model_dump()), self.people)

    def _contacts(self) -> tuple[tuple[str, str], ...]:
        """Whom a message names to call: the unit's `contact:`, else its first `contacts:` person."""
        meta = [(ZHUANBAN, self.spec.plan.contact.text())] if self.spec.plan.contact else []
        return tuple(meta + [(u.name, (u.contact or u.contacts[0]).text()) for u in self.spec.units
                             if u.contact or u.contacts])

    def _people(self) -> tuple[Person, ...]:
        """Each unit's `contacts:`; one person's platform id listed twice in a unit is a mistake (a copied line)."""
        out = []
        for i, u in enumerate(self.spec.units):
            seen: dict[tuple[str, str], str] = {}
            for j, c in enumerate(u.contacts):
                for platform in ("dingtalk", "wecom"):
                    if (pid := getattr(c, platform)) is None:
                        continue
                    if (platform, pid) in seen:
                        self.add(("units", i, "contacts", j, platform),
                                 f"{u.name} 的联系人 {c.name} 与 {seen[(platform, pid)]} 的{LABELS[platform]}账号 “{pid}” 相同")
                    seen[(platform, pid)] = c.name
                out.append(Person(u.name, c.name, str(c.phone), c.dingtalk, c.wecom))
        return tuple(out)

    def _calendar(self) -> PlanCalendar:
        """The `calendar:` block: per year, holidays and make-up working days, as dates or ranges a~b."""
        holidays: set[date] = set()
        workdays: set[date] = set()
        for year, spec in self.spec.calendar.items():
            for key, into in (("holidays", holidays), ("workdays", workdays)):
                for j, text in enumerate(getattr(spec, key)):
                    loc = ("calendar", year, key, j)
                    a, sep, b = str(text).partition("~")
                    try:
                        first = date.fromisoformat(a.strip())
                        last = date.fromisoformat(b.strip()) if sep else first
                    except ValueError:
                        self.add(loc, f"节假日安排: “{text}” 应为日期 YYYY-MM-DD 或日期段 YYYY-MM-DD~YYYY-MM-DD")
                        continue
                    if not (first.year == last.year == year and first <= last):
                        self.add(loc, f"节假日安排: “{text}” 不在 {year} 年内, 或起止颠倒")
                        continue
                    into.update(first + timedelta(days=n) for n in range((last - first).days + 1))
        for d in sorted(holidays & workdays):
            self.add(("calendar", d.year), f"节假日安排: {d} 既写在放假日期又写在调休上班日期中")
        return PlanCalendar(frozenset(holidays), frozenset(workdays), frozenset(self.spec.calendar))

    def _decimal(self, figures: tuple[str, ...]) -> tuple[str, ...]:
        given = self.spec.monthly_report.decimal if self.spec.monthly_report else []
        for j, name in enumerate(given):
            if name not in figures:
                self.add(("monthly_report", "decimal", j), f"“{name}” 不是月报指标; 已有指标: {'、'.join(figures)}")
        return tuple(given)

    def _words(self) -> Words:
        """The plan's own words: from the plan block where given, else from its district name and units."""
        meta = self.spec.plan
        return Words.derive(meta.district, meta.title, tuple(self.spec.training_forms), level=meta.level,
                            town_kinds={u.kind for u in self.spec.units if u.kind in ("镇", "乡", "街道")},
                            programme=meta.programme, towns=meta.towns)

    def _schedules(self) -> tuple[Schedule, ...]:
        out = []
        for name, spec in self.spec.schedules.items():
            if name not in FLOWS:
                self.add(("schedules", name), f"定时运行: 未知流程 “{name}”; 可选: {'、'.join(FLOWS)}")
                continue
            if spec.keep is not None and name != "backup":
                self.add(("schedules", name, "keep"), f"定时运行 {name}: keep (保留份数) 只用于 backup (每日备份)")
            out.append(Schedule(name, " ".join(spec.cron.split()), spec.workdays_only, spec.keep))
        return tuple(out)

    def _policy(self, task_nos: set[int]) -> ReminderPolicy:
        r = self.spec.reminders
        overrides = {}
        for i, o in enumerate(r.overrides):
            if o.task not in task_nos:
                self.add(("reminders", "overrides", i, "task"),
                         f"按任务调整: 未知任务 {o.task}; 已有任务: {'、'.join(map(str, sorted(task_nos)))}")
            overrides[o.task] = o.model_dump(exclude={"task"}, exclude_none=True)
        if r.send_at >= r.quiet_after:
            self.add(("reminders", "quiet_after"), f"免打扰开始时间 {r.quiet_after} 应晚于发送时间 {r.send_at}")
        return policy_of(r, self.spec.monthly_report, overrides)

    def _channels(self, units: dict[str, str]) -> Channels:
        c = self.spec.channels

        def dest(loc: tuple[Any, ...], spec: ChannelSpec, unit: str | None) -> Destination | None:
            given = [(k, v) for k, v in spec.model_dump().items() if v]
            if len(given) != 1:
                self.add(loc, "每个接收渠道须且只须填写 slack、dingtalk、wecom、persons 其中之一")
                return None
            if given[0][0] != "persons":
                return Destination(*given[0])
            return persons(loc, given[0][1], unit)

        def persons(loc: tuple[Any, ...], platform: str, unit: str | None) -> Destination | None:
            label = LABELS[platform]
            if unit is None:
                self.add(loc, "工作专班的接收渠道不能是 persons (专班消息发到群: 请填写 slack、dingtalk 或 wecom)")
            elif not any(p.unit == unit and p.on(platform) for p in self.people):
                self.add(loc, f"{unit} 没有登记{label}账号的联系人; 请在单位的 contacts 中为联系人填写 {platform}: 账号")
            else:
                return Destination(PERSON_KINDS[platform], unit)
            return None

        zhuanban = dest(("channels", "专班"), c.zhuanban, None) if c.zhuanban else None
        mapped: dict[str, Destination] = {}
        for name, spec in c.units.items():
            canonical = units.get(name_key(name))
            if canonical is None:
                self.add(("channels", "units", name), f"接收渠道: 未知单位 “{name}”; 已有单位: {'、'.join(units.values())}")
            elif (d := dest(("channels", "units", name), spec, canonical)) is not None:
                mapped[canonical] = d
        if c.persons:  # every other unit with contacts on that platform: in person
            for unit in dict.fromkeys(p.unit for p in self.people if p.on(c.persons)):
                mapped.setdefault(unit, Destination(PERSON_KINDS[c.persons], unit))
        return Channels(zhuanban, mapped)

    def _units(self) -> list[Unit]:
        seen: dict[str, int] = {}
        out = []
        for i, u in enumerate(self.spec.units):
            key = name_key(u.name)
            if key in seen:
                first = position(self.root, ("units", seen[key]))[0]
                self.add(("units", i, "name"), f"单位 “{u.name}” 重复 (第 {first} 行已定义)")
                continue
            seen[key] = i
            out.append(Unit(u.name, UNIT_KINDS[u.kind], u.full_name, tuple(u.former_names)))
        current = {name_key(u.name) for u in out}
        formerly: dict[str, str] = {}
        for i, u in enumerate(self.spec.units):
            for j, old in enumerate(u.former_names):
                if name_key(old) in current:
                    self.add(("units", i, "former_names", j), f"单位 “{u.name}” 的曾用名 “{old}” 仍是现有单位的名称")
                elif (other := formerly.setdefault(name_key(old), u.name)) != u.name:
                    self.add(("units", i, "former_names", j), f"曾用名 “{old}” 同时写在 “{other}” 和 “{u.name}” 下")
        return out

    def _groups(self, units: dict[str, str]) -> list[Group]:
        out, seen = [], set(units)
        for i, g in enumerate(self.spec.groups):
            if name_key(g.name) in seen:
                self.add(("groups", i, "name"), f"单位组 “{g.name}” 与已有单位或单位组重名")
                continue
            seen.add(name_key(g.name))
            members = []
            for j, m in enumerate(g.members):
                if name_key(m) not in units:
                    self.add(("groups", i, "members", j),
                             f"单位组 “{g.name}” 的成员 “{m}” 不是已定义的单位; 已有单位: {'、'.join(units.values())}")
                elif units[name_key(m)] not in members:
                    members.append(units[name_key(m)])
            out.append(Group(g.name, tuple(members), g.note))
        return out

    def _sections(self) -> dict[str, Section]:
        out: dict[str, Section] = {}
        for i, s in enumerate(self.spec.sections):
            if s.no in out:
                self.add(("sections", i, "no"), f"章节序号 “{s.no}” 重复")
            out.setdefault(s.no, Section(s.no, s.title))
        return out

    def _tasks(self, names: dict[str, str], sections: dict[str, Section]) -> list[Task]:
        out: list[Task] = []
        first_line: dict[int, int] = {}
        for i, t in enumerate(self.spec.tasks):
            here = position(self.root, ("tasks", i))[0]
            if t.no in first_line:
                self.add(("tasks", i, "no"), f"任务序号 {t.no} 重复: 第 {first_line[t.no]} 行与第 {here} 行")
                continue
            first_line[t.no] = here
            task = self._task(i, t, names, sections)
            if task:
                out.append(task)
        return sorted(out, key=lambda task: task.no)

    def _task(self, i: int, t: TaskSpec, names: dict[str, str], sections: dict[str, Section]) -> Task | None:
        ok = True
        if t.section not in sections:
            self.add(("tasks", i, "section"), f"任务 {t.no}: 未知章节 “{t.section}”; 已有章节: {'、'.join(sections)}")
            ok = False
        units: list[str] = []
        for j, u in enumerate(t.units):
            canonical = names.get(name_key(u))
            if canonical is None:
                self.add(("tasks", i, "units", j),
                         f"任务 {t.no}: 未知单位 “{u}”; 已有单位和单位组: {'、'.join(names.values())}")
                ok = False
            elif canonical in units:
                self.add(("tasks", i, "units", j), f"任务 {t.no}: 责任单位 “{u}” 重复列出")
                ok = False
            else:
                units.append(canonical)
        track = self._track(i, t, names)
        try:
            deadline = parse_deadline(t.deadline, self.spec.plan.year)
        except DeadlineError as e:
            self.add(("tasks", i, "deadline"), f"任务 {t.no}: {e}")
            return None
        far = [d for d in deadline.dates() if not self.spec.plan.year - 1 <= d.year <= self.spec.plan.year + 1]
        if far:
            self.add(("tasks", i, "deadline"), f"任务 {t.no}: 完成时限 “{t.deadline}” 中的 {far[0].year} 年不在计划年度 "
                                               f"{self.spec.plan.year} 年前后 (应在 {self.spec.plan.year - 1}–"
                                               f"{self.spec.plan.year + 1} 年之间), 请检查是否输错")
            return None
        if track and track.monthly_reports and not report_months(deadline, self.spec.plan.issued,
                                                                 self.spec.plan.year, track.covers):
            self.add(("tasks", i, "track", "monthly_reports"),
                     f"任务 {t.no}: 月报跟踪需要按月的完成时限 (如 每月20日前, 或 5月底前完成，此后每月10日前报送), "
                     f"且在计划年度内至少有一期; “{t.deadline}” 没有")
            return None
        if track and track.batches:
            dues = due_dates(deadline, date(self.spec.plan.year - 1, 1, 1), date(self.spec.plan.year + 1, 12, 31))
            if deadline.kind != "compound" or len(dues) != len(track.batches):
                self.add(("tasks", i, "track", "batches"),
                         f"任务 {t.no}: batches 列了 {len(track.batches)} 批, 完成时限 “{t.deadline}” 有 {len(dues)} 个日期; "
                         "两者应一一对应 (如 分两批：6月底前、9月底前 对应两批)")
                return None
        if not ok or track is None:
            return None
        return Task(t.no, sections[t.section], t.text, deadline, tuple(units), track, t.short or "")

    def _track(self, i: int, t: TaskSpec, names: dict[str, str]) -> Track | None:
        """Expand the task's `track:` block into unit names, checking each is of the right kind."""
        if t.track is None:
            return Track()
        ok = True

        def units(loc: tuple[Any, ...], given: list[str], kind: str) -> tuple[str, ...]:
            nonlocal ok
            out: dict[str, None] = {}
            for j, name in enumerate(given):
                canonical = names.get(name_key(name))
                if canonical is None:
                    self.add((*loc, j), f"任务 {t.no}: 未知单位 “{name}”; 已有单位和单位组: {'、'.join(names.values())}")
                    ok = False
                    continue
                for unit in self.members.get(canonical, (canonical,)):
                    if self.kinds[unit] != kind:
                        label = {"department": "部门", "town": "乡镇一级单位 (镇、乡、街道)"}[kind]
                        self.add((*loc, j), f"任务 {t.no}: “{unit}” 不是{label}, 不能列在 {loc[-1]} 中")
                        ok = False
                    out[unit] = None
            return tuple(out)

        base = ("tasks", i, "track")
        spec = t.track
        pair = lambda k, p: (units((*base, k, "departments"), p.departments, "department"),  # noqa: E731
                             units((*base, k, "towns"), p.towns, "town")) if p else None
        towns = lambda k, p: units((*base, k, "towns"), p.towns, "town") if p else None  # noqa: E731
        na: set[tuple[str, str, str]] = set()
        for k, p in (("letters", spec.letters), ("training", spec.training)):
            for dept, where in (p.not_applicable if p else {}).items():
                loc = (*base, k, "not_applicable", dept)
                na.update((k, d, w) for d in units(loc, [dept], "department") for w in units(loc, where, "town"))
        track = Track(pair("letters", spec.letters), pair("training", spec.training),
                      towns("exams", spec.exams), towns("monthly_reports", spec.monthly_reports),
                      self._plans_to(i, spec.training.plans_to) if spec.training else "", frozenset(na),
                      self.spec.monthly_report.covers if self.spec.monthly_report else "当月",
                      tuple(units((*base, "batches", k), batch, "town") for k, batch in enumerate(spec.batches or [])))
        return track if ok else None

    def _plans_to(self, i: int, given: str | None) -> str:
        """Who receives the departments' 培训指导计划: as the track says, else the plan's 司法局."""
        if given:
            unit = next((u for u in self.kinds if name_key(u) == name_key(given)), None)
            if unit is None:
                self.add(("tasks", i, "track", "training", "plans_to"), f"培训指导计划报送单位 “{given}” 不是已定义的单位")
            return unit or given
        return justice_bureau(self.kinds)

