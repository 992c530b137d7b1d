"""The suite's own yardstick: "the database did not change" must notice a change (tests/dbs.py)."""

from pathlib import Path

from sqlalchemy import text

from models.db import make_engine, transaction
from tests import dbs


def test_content_and_fingerprint_notice_one_changed_value(tmp_path: Path) -> None:
    url = dbs.fresh_url(tmp_path)
    engine = make_engine(url)
    with transaction(engine) as s:
        s.execute(text("INSERT INTO audit (at, by, source, entity, ref, field) "
                       "VALUES ('2023-05-01 00:00:00+00', 'a', 'cli', 'letter', 'r', 'f')"))
    before = (dbs.content(url), dbs.fingerprint(url))
    assert (dbs.content(url), dbs.fingerprint(url)) == before  # stable when nothing changes
    with transaction(engine) as s:
        s.execute(text("UPDATE audit SET field = 'g'"))
    engine.dispose()
    after = (dbs.content(url), dbs.fingerprint(url))
    assert after[0] != before[0] and after[1] != before[1]
