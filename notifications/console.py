"""The default channel when no credentials are set: reminders print and are appended to a file.

The file holds every unit's personal link: it is its owner's only (0600), made so and, if older, tightened."""

from __future__ import annotations

import os
import stat
import sys
import threading
from pathlib import Path
from typing import TextIO

from fuquan.errors import Failure, NotificationError

from .base import Outgoing


class ConsoleNotifier:
    kind = "console"
    can_reconcile = False

    def __init__(self, path: Path | None, stream: TextIO | None = None) -> None:
        self.path = path
        self.stream = stream or sys.stdout
        self._lock = threading.Lock()

    def send(self, out: Outgoing) -> str:
        with self._lock:  # whole messages, never interleaved
            return self._send(out)

    def _send(self, out: Outgoing) -> str:
        text = out.text()
        self.stream.write(f"\n── 发给 {out.message.recipient} ──\n{text}\n")
        if self.path:
            try:
                self.path.parent.mkdir(parents=True, exist_ok=True)
                with _private(self.path) as f:
                    f.write(f"\n<!-- {out.key} -->\n{text}\n")
            except OSError as e:
                # Printed, but not filed: kept pending, so the next run files it (and prints it again).
                raise NotificationError(Failure.RETRY, "notify_file", "控制台", f"无法写入 {self.path}: {e.strerror}") from None
        return ""

    def find(self, out: Outgoing) -> str | None:
        return None

    def check(self) -> None:
        return None

    @property
    def trail(self) -> list[tuple[str, str]]:
        return []  # one attempt, and a failure is the exception itself


def _private(path: Path) -> TextIO:
    """`path` opened to append, readable and writable by its owner only."""
    fd = os.open(path, os.O_WRONLY | os.O_APPEND | os.O_CREAT, 0o600)
    try:
        if stat.S_IMODE(os.fstat(fd).st_mode) & 0o077:  # (a file from before, or made by another program)
            os.fchmod(fd, 0o600)
        return open(fd, "a", encoding="utf-8")
    except BaseException:
        os.close(fd)
        raise
