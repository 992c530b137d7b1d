"""Prefect's surroundings, without importing Prefect: is a server answering, which environment every process
that may import Prefect gets (flows/settings.py applies it), and the UI's addresses.

flows/settings.py points every process at one server before Prefect is imported: measured here, with a
server running but PREFECT_API_URL unset, a second process started its own ephemeral server on the same
SQLite file ("database is locked"), and ephemeral mode lost task runs.

Prefect 3.8 serves two UIs: V1 at / and V2 at /v2, and a browser opening / is sent to V2 (unless it once
chose V1). Every link fuquan prints or puts in an artifact is a V2 link, and the README's pictures are of V2.
"""

from __future__ import annotations

import urllib.request

UI = "/v2"

# Set as defaults (an explicit environment wins) before Prefect is imported, inherited by every flow run a
# server or worker starts.
ENVIRONMENT = {
    "PREFECT_SERVER_ANALYTICS_ENABLED": "false",
    "PREFECT_LOGGING_LEVEL": "WARNING",  # Prefect's own chatter stays out of the terminal ...
    # ... but each step's line in words (逾期 38 项; 发出 19 条) must reach the UI's run logs: the run loggers log
    # INFO to the API, and the terminal of `fuquan run` still shows warnings only.
    "PREFECT_LOGGING_LOGGERS_PREFECT_FLOW_RUNS_LEVEL": "INFO",
    "PREFECT_LOGGING_LOGGERS_PREFECT_TASK_RUNS_LEVEL": "INFO",
    "PREFECT_LOGGING_HANDLERS_CONSOLE_LEVEL": "WARNING",
    # the first start migrates a new database: on 2 cores that can take longer than the default 20 s
    "PREFECT_SERVER_EPHEMERAL_STARTUP_TIMEOUT_SECONDS": "120",
}


def healthy(api_url: str, timeout: float = 1.0) -> bool:
    try:
        with urllib.request.urlopen(f"{api_url.rstrip('/')}/health", timeout=timeout) as resp:  # noqa: S310 (loopback)
            return bool(resp.status == 200)
    except OSError:
        return False


def site_url(api_url: str) -> str:
    """The server whose API is `api_url` (http://127.0.0.1:4200/api → http://127.0.0.1:4200): the paths
    below go after it. Relative paths serve inside artifacts, which the UI shows on that same server."""
    return api_url.rstrip("/").removesuffix("/api")


def board_key(plan_id: int, year: int) -> str:
    """The 今日督办 artifact's key: the plan's own prefix, so it sorts before the plan's other artifacts
    (fuquan-p1-2023-status, …). Keys take lowercase letters, digits and dashes only."""
    return f"fuquan-p{plan_id}-{year}"


def deployments_path() -> str:
    return f"{UI}/deployments"


def board_path(plan_id: int, year: int) -> str:
    """The 今日督办 page, under the UI's base: always the latest board (Prefect shows the latest version's
    description, which is the board, above the list of earlier ones)."""
    return f"{UI}/artifacts/key/{board_key(plan_id, year)}"


def artifact_path(artifact_id: object) -> str:
    return f"{UI}/artifacts/artifact/{artifact_id}"


def run_path(flow_run_id: object) -> str:
    return f"{UI}/runs/flow-run/{flow_run_id}"
