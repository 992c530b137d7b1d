"""What one unit's request asks of the database. On PostgreSQL every session is a pooled connection's check, a BEGIN
and a ROLLBACK or COMMIT, and every statement a round trip: measured under the mixed load (bench/mixed.py: 1,500
towns opening their page and sending a 反馈 within a minute while the reminder run and an import ran), a page took
4 sessions and 16 statements, a 反馈 4 and 22, and the machine ran out of CPU (p95 4.3 s). These hold the cuts:
the door's check is one statement in a session without a transaction, a page reads in one session, a 反馈 judges
its row in its own write transaction (on SQLite, whose lock is the whole file's, just before it), reads no item table
its task is not judged from, and spends one statement on its form's nonce. Counted on the three plans of the web's
worlds, on the suite's database."""

from __future__ import annotations

import re
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field

from sqlalchemy import event
from sqlalchemy.engine import Engine

from models.db import whole_file_lock
from tests.web.test_security import PDF, World, said, template, world

FIXTURES = (template, world)  # test_security's, used here by name
ITEM_TABLES = {"letter", "training_plan", "training_done", "exam_sitting", "exam_town", "monthly_report"}


@dataclass
class Seen:
    statements: list[str] = field(default_factory=list)
    sessions: int = 0  # connections taken from the pool

    def tables(self) -> set[str]:
        return {t for s in self.statements for t in re.findall(r'\bFROM "?(\w+)', s)}


@contextmanager
def watching(engine: Engine) -> Iterator[Seen]:
    seen = Seen()

    def statement(_conn: object, _cursor: object, sql: str, *_: object) -> None:
        seen.statements.append(sql)

    def checkout(*_: object) -> None:
        seen.sessions += 1

    event.listen(engine, "before_cursor_execute", statement)
    event.listen(engine, "checkout", checkout)
    try:
        yield seen
    finally:
        event.remove(engine, "before_cursor_execute", statement)
        event.remove(engine, "checkout", checkout)


def test_the_door_checks_a_session_in_one_statement_and_a_page_reads_in_one_session(world: World) -> None:
    town = world.enter(world.case.town)
    with watching(world.ctx.engine) as seen:
        r = town.client.get("/u")
    assert r.status_code == 200, said(r)
    door = [s for s in seen.statements if "unit_link" in s]
    assert len(door) == 1 and re.search(r'FROM "?plan\b', door[0]), door  # the plan's version and the link's generation at once
    assert seen.sessions == 2, seen.sessions  # the door's, the page's


def test_an_answer_judges_its_row_in_its_own_transaction_and_reads_only_what_its_task_needs(world: World) -> None:
    unit = world.case.town
    task, _ = world.extendable(unit)  # a task judged from its status, not from tracked items
    assert world.ctx.plan.plan.task(task).track.recorded_by(unit) is None
    town = world.enter(unit)
    before = world.counts()["feedback"]
    with watching(world.ctx.engine) as seen:
        r = town.post("/u/feedback", {"nonce": "round-trips", "task": str(task), "period": "", "status": "进行中",
                                      "note": "进展"}, [("files", ("佐证.pdf", PDF, "application/pdf"))], csrf=town.csrf)
    assert r.status_code == 200 and world.counts()["feedback"] == before + 1, said(r)
    # the door's, the answer's transaction (SQLite: and the row judged before its lock, which is the whole file's)
    assert seen.sessions == (3 if whole_file_lock(world.ctx.engine) else 2), seen.sessions
    assert not seen.tables() & ITEM_TABLES, seen.tables() & ITEM_TABLES
    nonce = [s for s in seen.statements if "form_use" in s]
    assert len(nonce) == 1 and "SAVEPOINT" not in " ".join(seen.statements), nonce
