"""A plan copied from last year with a date left behind (2024年10月底前 in a 2025 plan) is refused by `sync` as by
`plan check`, with its place — and nothing is written."""

from tests import dbs
from tests.conftest import ROOT


def test_sync_refuses_a_deadline_left_a_year_behind(run, db_url, tmp_path) -> None:  # type: ignore[no-untyped-def]
    text = (ROOT / "tests" / "plans" / "qingshan-2024.yaml").read_text(encoding="utf-8")
    stale = tmp_path / "qingshan-2025.yaml"
    stale.write_text(text.replace("  year: 2024", "  year: 2025").replace("issued: 2024-03-08", "issued: 2025-03-08"),
                     encoding="utf-8")
    line = stale.read_text(encoding="utf-8").splitlines().index("    deadline: 2024年10月底前") + 1
    before = dbs.fingerprint(db_url)
    for cmd in (("plan", "check"), ("sync",)):
        r = run(*cmd, "--config", str(stale))
        assert r.code == 1 and f"{stale}:{line}:15: 任务 14: 完成时限 “2024年10月底前” 的截止日期 2024-10-31 在计划年度 " \
               "2025 年之前" in r.err, (cmd, r.err)
    assert dbs.fingerprint(db_url) == before
