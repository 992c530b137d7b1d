"""The import direction, checked on the source: every `import` of every module (at module level or inside a
function, `from X import …` and relative imports resolved to absolute names) goes one way only —

    fuquan (the pure core)         imports no other first-party package
    models, notifications          import neither each other nor flows, reports, usecases, cli, web
    reports                        imports none of usecases, flows, cli, web
    usecases                       imports none of flows, cli, web
    cli, web                       reach the database only through usecases: no `models` module

Each failure lists every offending import as `file:line imports module`."""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
FIRST_PARTY = ("fuquan", "models", "notifications", "reports", "usecases", "flows", "cli", "web")

# package → the first-party packages it must not import
FORBIDDEN: dict[str, set[str]] = {
    "fuquan": set(FIRST_PARTY) - {"fuquan"},
    "models": {"notifications", "flows", "reports", "usecases", "cli", "web"},
    "notifications": {"models", "flows", "reports", "usecases", "cli", "web"},
    "reports": {"usecases", "flows", "cli", "web"},
    "usecases": {"flows", "cli", "web"},
    "cli": {"models"},
    "web": {"models"},
}


def _module_name(path: Path) -> tuple[str, bool]:
    """The dotted name of a source file, and whether it is a package's __init__."""
    parts = list(path.relative_to(ROOT).with_suffix("").parts)
    if parts[-1] == "__init__":
        return ".".join(parts[:-1]), True
    return ".".join(parts), False


def _resolve(node: ast.ImportFrom, module: str, is_package: bool) -> str:
    """`from ..x import y` in `module` as the absolute name of what it imports from."""
    if node.level == 0:
        return node.module or ""
    base = module.split(".") if is_package else module.split(".")[:-1]
    if node.level > 1:
        base = base[: len(base) - (node.level - 1)]
    return ".".join([*base, *([node.module] if node.module else [])])


def imports_of(path: Path) -> list[tuple[int, str, str]]:
    """Every module `path` imports, anywhere in it (module level, functions, TYPE_CHECKING blocks), as
    (line, absolute dotted name, the statement as written). `from pkg import mod` names both `pkg` and `pkg.mod`:
    either may be the module."""
    module, is_package = _module_name(path)
    found: list[tuple[int, str, str]] = []
    for node in ast.walk(ast.parse(path.read_text("utf-8"), str(path))):
        if isinstance(node, ast.Import):
            found += [(node.lineno, alias.name, f"import {alias.name}") for alias in node.names]
        elif isinstance(node, ast.ImportFrom):
            base = _resolve(node, module, is_package)
            said = ast.unparse(node) + (f"  (= {base})" if node.level else "")
            found.append((node.lineno, base, said))
            found += [(node.lineno, f"{base}.{alias.name}", said) for alias in node.names if alias.name != "*"]
    return found


def _top(name: str) -> str:
    return name.split(".")[0]


def _sources(package: str) -> list[Path]:
    return sorted((ROOT / package).rglob("*.py"))


def offenders(package: str, forbidden: set[str]) -> list[str]:
    """`file:line: statement` for every import of a forbidden package, once per statement."""
    out: dict[tuple[Path, int, str], str] = {}
    for path in _sources(package):
        for line, name, said in imports_of(path):
            if _top(name) in forbidden:
                out.setdefault((path, line, said), f"{path.relative_to(ROOT)}:{line}: {said}")
    return list(out.values())


def test_every_package_is_parsed() -> None:
    for package in FIRST_PARTY:
        assert _sources(package), f"{package}/ has no .py files: the rules below would check nothing"


def test_relative_imports_are_resolved() -> None:
    """The resolver itself: `from .x import y` inside usecases/answers.py is usecases.x, and `from . import y`
    in a package's __init__ is the package."""
    tree = ast.parse("from .commands import A\nfrom . import guard\nfrom ..models import db\n")
    nodes = [n for n in tree.body if isinstance(n, ast.ImportFrom)]
    assert [_resolve(n, "usecases.answers", False) for n in nodes] == ["usecases.commands", "usecases", "models"]
    assert [_resolve(n, "usecases", True) for n in nodes[:2]] == ["usecases.commands", "usecases"]


@pytest.mark.parametrize("package", list(FORBIDDEN))
def test_imports_go_one_way(package: str) -> None:
    bad = offenders(package, FORBIDDEN[package])
    assert not bad, (f"{package}/ must not import {', '.join(sorted(FORBIDDEN[package]))}; "
                     f"{len(bad)} import(s) do:\n  " + "\n  ".join(bad))
