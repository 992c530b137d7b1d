"""Point every process at one Prefect server before Prefect is imported.

Measured here: with a server running but PREFECT_API_URL unset, a second process started its own
ephemeral server on the same SQLite file ("database is locked"), and ephemeral mode lost task runs.
So: PREFECT_HOME lives under data/, and if the local server answers, PREFECT_API_URL points at it.
"""

from __future__ import annotations

import os
import urllib.request
from pathlib import Path

DEFAULT_URL = "http://127.0.0.1:4200/api"


def healthy(api_url: str, timeout: float = 1.0) -> bool:
    try:
        with urllib.request.urlopen(f"{api_url.rstrip('/')}/health", timeout=timeout) as resp:  # noqa: S310 (loopback)
            return bool(resp.status == 200)
    except OSError:
        return False


def configure(home: Path | None = None) -> str | None:
    """Set Prefect's environment for this process; return the server's API URL, or None for
    ephemeral mode (no server running)."""
    os.environ.setdefault("PREFECT_HOME", str((home or Path("data") / "prefect").resolve()))
    Path(os.environ["PREFECT_HOME"]).mkdir(parents=True, exist_ok=True)  # Prefect's server won't create it
    os.environ.setdefault("PREFECT_SERVER_ANALYTICS_ENABLED", "false")
    os.environ.setdefault("PREFECT_LOGGING_LEVEL", "WARNING")
    # first start migrates a new database: on 2 cores that can take longer than the default 20 s
    os.environ.setdefault("PREFECT_SERVER_EPHEMERAL_STARTUP_TIMEOUT_SECONDS", "120")
    url = os.environ.get("PREFECT_API_URL")
    if url:
        return url if healthy(url) else None
    if healthy(DEFAULT_URL):
        os.environ["PREFECT_API_URL"] = DEFAULT_URL
        return DEFAULT_URL
    return None
