"""The plan as validated, immutable data: units, groups, sections and tasks. Pure.

A task names units and groups in written order; the first named leads (牵头单位). A group is owed
the task by each of its members, so `assignees()` expands groups into (unit, via group, role).
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import date
from functools import cached_property
from typing import Any

from fuquan.answers.rules import AnswerPolicy
from fuquan.dates.deadline import Deadline
from fuquan.dates.workdays import PlanCalendar, WorkCalendar, calendar_for, covered_by_package, fallback_warning
from fuquan.errors import LookupFailed
from fuquan.plans.policy import Channels, ReminderPolicy, Schedule, Weights, platform_of
from fuquan.words.text import name_key

# 乡 and 街道 are town-level like 镇 (a group of towns may hold all three); 园区 is a zone.
UNIT_KINDS = {"部门": "department", "镇": "town", "乡": "town", "街道": "town", "园区": "zone"}
TRACK_LABEL = {"letters": "承接确认书", "training": "岗前培训", "exams": "法律知识考试", "monthly_reports": "月报"}


@dataclass(frozen=True)
class Unit:
    name: str
    kind: str  # department | town | zone (the YAML says 部门 / 镇 / 园区)
    full_name: str | None = None
    former_names: tuple[str, ...] = ()  # names it had before a reorganisation; a sync renames, never loses


@dataclass(frozen=True)
class Person:
    """A unit's contact person, and their ids on the platforms that reach persons."""

    unit: str
    name: str
    phone: str = ""
    dingtalk: str | None = None
    wecom: str | None = None

    def on(self, platform: str) -> str | None:
        """Their id on `platform` (dingtalk / wecom, or a channel kind on it: dingtalk-app, dingtalk-oto, wecom-app)."""
        return {"dingtalk": self.dingtalk, "wecom": self.wecom}.get(platform_of(platform))

    def as_dict(self) -> dict[str, str | None]:
        return {"unit": self.unit, "name": self.name, "phone": self.phone, "dingtalk": self.dingtalk,
                "wecom": self.wecom}


def justice_bureau(units: dict[str, str]) -> str:
    """Who receives the departments' 培训指导计划 when a plan does not say (`plans_to`): its 司法局.
    `units`: name → kind."""
    return next((u for u, k in units.items() if k == "department" and u.endswith("司法局")), "司法行政部门")


def towns_word(kinds: set[str]) -> str:
    """镇 / 乡 / 街道 alone by their own name; 镇 and 乡 together are 乡镇, with 街道 in brackets after them."""
    rural = "乡镇" if {"镇", "乡"} <= kinds else "乡" if "乡" in kinds else "镇" if "镇" in kinds or not kinds else ""
    if "街道" not in kinds:
        return rural
    return f"{rural}（街道）" if rural else "街道"


@dataclass(frozen=True)
class Words:
    """The plan's own words for what fuquan writes: never 湾沚区's."""

    level: str  # 区 / 县 / 市: 区级部门, 县级部门
    towns: str  # 镇, 乡镇, 乡镇（街道）, 街道 …: from the kinds of its towns, or as the plan says
    programme: str  # in titles: 【某市青山县乡镇（街道）赋权督办】
    training_forms: tuple[str, ...]

    def kind(self, kind: str) -> str:
        """What a unit of a kind is called: 部门, 镇 or 乡镇（街道）, 园区."""
        return {"town": self.towns, "department": "部门", "zone": "园区"}.get(kind, "单位")

    def as_dict(self) -> dict[str, Any]:
        return {"level": self.level, "towns": self.towns, "programme": self.programme,
                "training_forms": list(self.training_forms)}

    @classmethod
    def from_dict(cls, d: dict[str, Any]) -> Words:
        return cls(d["level"], d["towns"], d["programme"], tuple(d["training_forms"]))

    @classmethod
    def derive(cls, district: str, title: str, forms: tuple[str, ...], *, town_kinds: set[str],
               level: str | None = None, programme: str | None = None, towns: str | None = None) -> Words:
        """What a plan that does not say calls things: its level from the district name (…县 → 县), its towns from
        the kinds it has (镇 → 镇; 镇 and 乡 → 乡镇; with 街道 → 乡镇（街道）; only 街道 → 街道), its programme
        from the title (推进镇赋权工作… → 镇赋权)."""
        towns = towns or towns_word(town_kinds)
        found = re.search(r"推进(.+?)工作", title)
        return cls(level or (district[-1] if district[-1] in "区县市旗" else "县"), towns,
                   programme or (found[1] if found else f"{towns}赋权"), forms)


@dataclass(frozen=True)
class Group:
    name: str
    members: tuple[str, ...]
    note: str | None = None


@dataclass(frozen=True)
class Section:
    no: str
    title: str


@dataclass(frozen=True)
class Assignee:
    unit: str
    via_group: str | None
    role: str  # lead | partner


@dataclass(frozen=True)
class Track:
    """Which tracked items a task needs (declared in YAML, never by task number), groups expanded."""

    letters: tuple[tuple[str, ...], tuple[str, ...]] | None = None  # (departments, towns)
    training: tuple[tuple[str, ...], tuple[str, ...]] | None = None  # (departments, towns)
    exams: tuple[str, ...] | None = None  # towns
    monthly_reports: tuple[str, ...] | None = None  # towns
    training_to: str = ""  # who receives the departments' 培训指导计划 (区司法局, 县司法局)
    # (kind, department, town) cells of a letters/training matrix that do not apply: neither missing nor done
    not_applicable: frozenset[tuple[str, str, str]] = frozenset()
    covers: str = "当月"  # which month a 月报 covers: the month it is due in (当月) or the month before (上月)
    batches: tuple[tuple[str, ...], ...] = ()  # towns whose items fall in each batch of a deadline in batches

    def applies(self, kind: str, department: str, town: str) -> bool:
        return (kind, department, town) not in self.not_applicable

    def as_dict(self) -> dict[str, Any]:
        out: dict[str, Any] = {}
        for name in ("letters", "training"):
            pair = getattr(self, name)
            if pair:
                out[name] = {"departments": list(pair[0]), "towns": list(pair[1])}
        if self.training_to:
            out["training"]["plans_to"] = self.training_to
        for kind, dept, town in sorted(self.not_applicable):
            out[kind].setdefault("not_applicable", []).append([dept, town])
        for name in ("exams", "monthly_reports"):
            if getattr(self, name):
                out[name] = {"towns": list(getattr(self, name))}
        if self.monthly_reports and self.covers != "当月":
            out["monthly_reports"]["covers"] = self.covers
        if self.batches:
            out["batches"] = [list(b) for b in self.batches]
        return out

    def recorded_by(self, unit: str) -> str | None:
        """How `unit`'s share is recorded when tracked items back it (its status then follows from them),
        or None when its status is set by hand."""
        if self.letters and (unit in self.letters[0] or unit in self.letters[1]):
            return "承接确认书 (fuquan letter sign)"
        if self.training and (unit in self.training[0] or unit in self.training[1]):
            return "岗前培训 (fuquan training plan / complete)"
        if self.exams and unit in self.exams:
            return "考试与证件换领 (fuquan exam result / certify)"
        if self.monthly_reports:
            return "月报 (fuquan report submit)"
        return None

    @classmethod
    def from_dict(cls, d: dict[str, Any]) -> Track:
        pair = lambda k: (tuple(d[k]["departments"]), tuple(d[k]["towns"])) if k in d else None  # noqa: E731
        towns = lambda k: tuple(d[k]["towns"]) if k in d else None  # noqa: E731
        na = frozenset((k, dept, town) for k in ("letters", "training") for dept, town in d.get(k, {}).get("not_applicable", []))
        return cls(pair("letters"), pair("training"), towns("exams"), towns("monthly_reports"),
                   d.get("training", {}).get("plans_to", ""), na, d.get("monthly_reports", {}).get("covers", "当月"),
                   tuple(tuple(b) for b in d.get("batches", ())))


def short_title(text: str, n: int = 12) -> str:
    """A title cut from a task's text when the plan gives none: its first clause, at most `n` characters."""
    first = re.split(r"[,，;；。:：]", text.strip(), maxsplit=1)[0]
    return first if len(first) <= n else first[: n - 1] + "…"


@dataclass(frozen=True)
class Task:
    no: int
    section: Section
    text: str
    deadline: Deadline
    units: tuple[str, ...]  # as written, groups unexpanded; units[0] leads
    track: Track = Track()
    short: str = ""  # the plan's short title (`short:`), if it gives one

    @property
    def lead_unit(self) -> str:
        return self.units[0]

    @property
    def title(self) -> str:
        """What tables, messages and legends call the task: its `short:`, else its text's first words."""
        return self.short or short_title(self.text)


@dataclass(frozen=True)
class Plan:
    title: str
    district: str
    year: int
    issued: date
    timezone: str
    units: tuple[Unit, ...]
    groups: tuple[Group, ...]
    sections: tuple[Section, ...]
    tasks: tuple[Task, ...]
    source: str
    warn_workdays: int
    report_figures: tuple[str, ...]
    policy: ReminderPolicy
    channels: Channels
    schedules: tuple[Schedule, ...]
    weights: Weights
    words: Words
    decimal_figures: tuple[str, ...] = ()  # 月报 figures that may have decimals; the others are whole counts
    calendar: PlanCalendar = PlanCalendar()  # the plan file's holiday notice (`calendar:`)
    contacts: tuple[tuple[str, str], ...] = ()  # (unit name or 专班, "王芳 0553-5880000") from the plan file
    answers: AnswerPolicy = AnswerPolicy()  # how units answer back (签收, 反馈/复核, 延期)
    people: tuple[Person, ...] = ()  # units' contact persons (`contacts:`), in the plan file's order

    def people_of(self, unit: str, platform: str | None = None) -> tuple[Person, ...]:
        """A unit's contact persons (those with an id on `platform`, given)."""
        return tuple(p for p in self.people if p.unit == unit and (platform is None or p.on(platform)))

    def work_calendar(self) -> WorkCalendar:
        """The plan's working-day calendar (the package's, with the plan's `calendar:` block), one per process."""
        return calendar_for(self.calendar)

    def calendar_warnings(self) -> list[str]:
        return [fallback_warning(y) for y in self.calendar_gaps()]

    def calendar_gaps(self) -> list[int]:
        """Years the plan's deadlines reach whose holidays neither the calendar package nor the plan knows."""
        years = {self.year} | {d.year for t in self.tasks for d in t.deadline.dates()}
        return sorted(y for y in years if y not in self.calendar.years and not covered_by_package(y))

    @cached_property
    def _by_key(self) -> dict[str, str]:
        """Name key → unit or group name. Built on first use: a province's sweep reads thousands of plans and
        resolves no name in them (traditional → simplified conversion is the costly part)."""
        return {name_key(n): n for n in [u.name for u in self.units] + [g.name for g in self.groups]}

    def known_names(self) -> list[str]:
        return [u.name for u in self.units] + [g.name for g in self.groups]

    def resolve(self, name: str) -> str:
        """The canonical unit or group name for `name` (full-width, traditional, spaces tolerated)."""
        try:
            return self._by_key[name_key(name)]
        except KeyError:
            raise LookupFailed("单位", name, self.known_names()) from None

    def pick(self, name: str, among: Iterable[str] | None = None, what: str = "单位") -> str:
        """The unit `name` means (full-width, traditional, spaces tolerated), which must be one of `among`
        (default: every unit); LookupFailed lists the names allowed."""
        pool = tuple(among) if among is not None else tuple(u.name for u in self.units)
        # the canonical name of `name` through the plan's name index (one name_key, not one per unit of a
        # 1,500-town pool: an import of 1,500 rows spent most of its time here), then whether `among` allows it
        key = name_key(name)
        canonical = self._by_key.get(key)
        if canonical is not None and canonical in pool:  # (a group's name is not a unit's)
            return canonical
        found = next((n for n in pool if name_key(n) == key), None)
        if found is None:
            raise LookupFailed(what, name, list(pool))
        return found

    def members(self, name: str) -> tuple[str, ...]:
        """A group's members when `name` is a group (区级执法单位), else `name` itself."""
        group = self._by_key.get(name_key(name))
        found = self.group(group) if group else None
        return found.members if found else (name,)

    def tracked(self, kind: str, no: int | None = None) -> Task:
        """The task tracked by `kind` (letters, training, exams, monthly_reports); `no` picks one when
        several are."""
        have = [t for t in self.tasks if getattr(t.track, kind)]
        if no is not None:
            found = next((t for t in have if t.no == no), None)
            if found is None:
                raise LookupFailed(f"{TRACK_LABEL[kind]}任务", str(no), [str(t.no) for t in have])
            return found
        if len(have) != 1:
            raise LookupFailed(f"{TRACK_LABEL[kind]}任务 (请用 --task 指明)", "", [str(t.no) for t in have])
        return have[0]

    def lead(self, task: Task) -> str | None:
        """The single unit that leads `task`, or None when a group leads (escalations then go to the 专班)."""
        return None if self.group(task.lead_unit) else task.lead_unit

    def unit(self, name: str) -> Unit:
        canonical = self.resolve(name)
        for u in self.units:
            if u.name == canonical:
                return u
        raise LookupFailed("单位", name, [u.name for u in self.units])

    def group(self, name: str) -> Group | None:
        return next((g for g in self.groups if g.name == name), None)

    def task(self, no: int) -> Task:
        for t in self.tasks:
            if t.no == no:
                return t
        raise LookupFailed("任务", str(no), [str(t.no) for t in self.tasks])

    @cached_property
    def _assigned(self) -> dict[tuple[int, tuple[str, ...]], list[Assignee]]:
        return {}

    def assignees(self, task: Task) -> list[Assignee]:
        """Who owes `task`: groups expanded, each unit once (first mention wins), lead first. Worked out once per
        task (a group of 1,500 towns made it an eighth of a unit page's CPU when done per request)."""
        key = (task.no, task.units)
        if (done := self._assigned.get(key)) is None:
            done = self._assigned.setdefault(key, self._assign(task))
        return list(done)

    def _assign(self, task: Task) -> list[Assignee]:
        seen: dict[str, Assignee] = {}
        for i, name in enumerate(task.units):
            role = "lead" if i == 0 else "partner"
            group = self.group(name)
            for member in group.members if group else (name,):
                seen.setdefault(member, Assignee(member, group.name if group else None, role))
        return list(seen.values())

    def as_dict(self) -> dict[str, Any]:
        return {
            "title": self.title, "district": self.district, "year": self.year,
            "issued": self.issued.isoformat(), "timezone": self.timezone,
            "warn_workdays": self.warn_workdays, "report_figures": list(self.report_figures),
            "reminders": self.policy.as_dict(), "channels": self.channels.as_dict(),
            "answers": self.answers.as_dict(),
            "schedules": [s.as_dict() for s in self.schedules], "evaluation": self.weights.as_dict(),
            "words": self.words.as_dict(),
            "units": [{"name": u.name, "kind": u.kind, "full_name": u.full_name} for u in self.units],
            "groups": [{"name": g.name, "members": list(g.members)} for g in self.groups],
            "tasks": [self.task_dict(t) for t in self.tasks],
        }

    def task_dict(self, t: Task) -> dict[str, Any]:
        return {
            "no": t.no,
            "section": f"{t.section.no}、{t.section.title}",
            "text": t.text,
            "short": t.title,
            "deadline": t.deadline.as_dict(),
            "units": list(t.units),
            "lead_unit": t.lead_unit,
            "assignees": [a.unit for a in self.assignees(t)],
            "track": t.track.as_dict(),
        }
