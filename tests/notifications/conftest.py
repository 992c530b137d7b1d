"""What the notifier tests share: no proxy from the environment (every request here goes to 127.0.0.1), and the
local DingTalk (tests/dingtalk_server.py) with two users, for the card and the 1:1-message notifiers."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from tests.dingtalk_server import FakeDingTalk

USERS = {"user-wf", "user-lq"}


@pytest.fixture(autouse=True)
def no_proxy(monkeypatch: pytest.MonkeyPatch) -> None:
    for name in ("http_proxy", "https_proxy", "all_proxy", "HTTP_PROXY", "HTTPS_PROXY", "ALL_PROXY"):
        monkeypatch.delenv(name, raising=False)


@pytest.fixture
def fake() -> Iterator[FakeDingTalk]:
    """The local DingTalk, knowing USERS."""
    with FakeDingTalk(USERS) as server:
        yield server
