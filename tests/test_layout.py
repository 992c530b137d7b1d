"""The house rules a newcomer relies on, checked: the environment is read in one module, the flows are listed
once, and the README's layout table names every module that exists (and none that does not)."""

import re
from pathlib import Path

from fuquan.plans.policy import FLOWS

ROOT = Path(__file__).resolve().parent.parent
PACKAGES = ("fuquan", "models", "notifications", "reports", "usecases", "flows", "cli", "web")


def _modules() -> list[Path]:
    return [p for pkg in PACKAGES for p in (ROOT / pkg).rglob("*.py") if "migrations" not in p.parts]


def test_only_the_settings_module_reads_the_environment() -> None:
    readers = [str(p.relative_to(ROOT)) for p in _modules() if re.search(r"os\.environ|os\.getenv", p.read_text("utf-8"))]
    assert readers == ["usecases/settings.py"]


def test_the_flows_are_listed_once_and_every_runner_takes_them_from_there() -> None:
    from flows.prefect_flows import PREFECT_FLOWS
    from flows.registry import RECIPES

    assert list(PREFECT_FLOWS) == list(FLOWS) and set(RECIPES) == set(FLOWS)
    for p in _modules():
        if p.name != "policy.py":
            assert '"quarterly-analysis", "annual-evaluation"' not in p.read_text("utf-8"), p


def test_the_readme_layout_table_matches_the_tree() -> None:
    readme = (ROOT / "README.md").read_text("utf-8")
    table = readme.split("### Layout")[1].split("###")[0]
    folders = [ROOT / pkg for pkg in PACKAGES] + [d for d in (ROOT / "fuquan").iterdir() if (d / "__init__.py").exists()]
    for folder in folders:
        name = folder.relative_to(ROOT).as_posix()
        row = next((line for line in table.splitlines() if line.startswith(f"| `{name}/`")), None)
        assert row is not None, f"README layout has no row for {name}/"
        named = set(re.findall(r"`([a-z_]+\.py)`", row))
        present = {p.name for p in folder.glob("*.py")} - {"__init__.py"}
        assert named == present, (name, sorted(present - named), sorted(named - present))


def test_everyday_commands_load_neither_prefect_nor_the_report_renderers(tmp_path) -> None:  # type: ignore[no-untyped-def]
    import subprocess
    import sys

    probe = ("import sys; from cli.main import main; main(sys.argv[1:]); "
             "print(sorted(m for m in ('prefect', 'matplotlib', 'openpyxl', 'apscheduler') if m in sys.modules), "
             "file=sys.stderr)")
    env = {"PATH": "/usr/bin:/bin", "FUQUAN_DATA_DIR": str(tmp_path / "data"), "FUQUAN_CONFIG": "tests/plans/qingshan-2024.yaml"}
    for args in (["sync"], ["status", "--today", "2024-04-01"], ["remind", "--dry-run", "--today", "2024-04-01"],
                 ["task", "set", "3", "县委编办", "进行中", "--today", "2024-04-01"]):
        r = subprocess.run([sys.executable, "-c", probe, *args], cwd=ROOT, env=env, capture_output=True, text=True)
        assert r.returncode == 0, r.stderr[-500:]
        assert r.stderr.strip().splitlines()[-1] == "[]", (args, r.stderr[-300:])


def test_every_exception_class_is_in_the_one_tree() -> None:
    """fuquan/errors.py documents the exception tree: no module defines an exception class of its own."""
    import ast

    found = []
    for p in _modules():
        for node in ast.walk(ast.parse(p.read_text("utf-8"))):
            if isinstance(node, ast.ClassDef) and any(
                    isinstance(b, ast.Name) and (b.id.endswith(("Error", "Exception")) or b.id in _error_names())
                    for b in node.bases):
                found.append(f"{p.relative_to(ROOT)}:{node.lineno} {node.name}")
    assert [f for f in found if not f.startswith("fuquan/errors.py")] == []
    tree = (ROOT / "fuquan" / "errors.py").read_text("utf-8").split('"""')[1]
    assert all(f.split()[-1] in tree for f in found), found  # each is in the documented tree


def _error_names() -> set[str]:
    import ast

    return {n.name for n in ast.walk(ast.parse((ROOT / "fuquan" / "errors.py").read_text("utf-8")))
            if isinstance(n, ast.ClassDef)}
