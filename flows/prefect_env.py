"""Is a Prefect server answering? (flows/settings.py points every process at one server before Prefect is
imported: measured here, with a server running but PREFECT_API_URL unset, a second process started its
own ephemeral server on the same SQLite file — "database is locked" — and ephemeral mode lost task runs.)"""

from __future__ import annotations

import urllib.request

DEFAULT_URL = "http://127.0.0.1:4200/api"


def healthy(api_url: str, timeout: float = 1.0) -> bool:
    try:
        with urllib.request.urlopen(f"{api_url.rstrip('/')}/health", timeout=timeout) as resp:  # noqa: S310 (loopback)
            return bool(resp.status == 200)
    except OSError:
        return False
