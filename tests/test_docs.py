"""Every CLI command is documented in the README, and the README's two set-up commands exist."""

import argparse
import re

from cli.main import build_parser
from tests.conftest import ROOT

README = (ROOT / "README.md").read_text(encoding="utf-8")


def commands(parser: argparse.ArgumentParser, prefix: str = "fuquan") -> list[str]:
    found = []
    for action in parser._actions:
        if isinstance(action, argparse._SubParsersAction):
            for name, sub in action.choices.items():
                found.append(f"{prefix} {name}")
                found.extend(commands(sub, f"{prefix} {name}"))
    return found


def test_every_command_is_in_the_readme() -> None:
    leaves = [c for c in commands(build_parser()) if not any(o.startswith(c + " ") for o in commands(build_parser()))]
    missing = [c for c in leaves if c not in README]
    assert not missing, f"undocumented commands: {missing}"


def test_two_setup_commands_and_ci_calls_the_test_one() -> None:
    assert re.search(r"^make run$", README, re.M) and re.search(r"^make test$", README, re.M)
    assert "make test" in (ROOT / ".ci" / "run").read_text()
