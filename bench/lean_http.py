"""A small HTTP/1.1 client for the benchmarks' load: one keep-alive connection per town over asyncio streams, the
town's cookies kept, bodies read by Content-Length or chunked, forms sent as multipart.

Why not httpx (still there: `--client httpx`): the load's client runs on the measured machine, and measured under
bench.mixed httpx (with httpcore and anyio under it) spent 16–18 s of CPU on 4,500 requests — 15 % of the two
cores, taken from the server it measures. Towns' browsers run on their own machines; this client spends a fraction
of that, so the figures are the server's. Plain http:// only (the benchmarks serve on 127.0.0.1)."""

from __future__ import annotations

import asyncio
import secrets
from dataclasses import dataclass, field
from urllib.parse import urlsplit


class HTTPError(Exception):
    """The connection failed or the answer was not HTTP."""


@dataclass
class Response:
    status_code: int
    headers: dict[str, str]
    content: bytes
    cookies: list[str] = field(default_factory=list)  # Set-Cookie values

    @property
    def text(self) -> str:
        return self.content.decode("utf-8", errors="replace")


class Client:
    def __init__(self, base: str, timeout: float = 120) -> None:
        parts = urlsplit(base)
        if parts.scheme != "http" or not parts.hostname:
            raise HTTPError(f"only http:// here: {base}")
        self.host, self.port, self.timeout = parts.hostname, parts.port or 80, timeout
        self.cookies: dict[str, str] = {}
        self._reader: asyncio.StreamReader | None = None
        self._writer: asyncio.StreamWriter | None = None

    async def __aenter__(self) -> Client:
        return self

    async def __aexit__(self, *exc: object) -> None:
        self._close()

    async def get(self, path: str) -> Response:
        return await self._request("GET", path)

    async def post(self, path: str, data: dict[str, str], files: list[tuple[str, tuple[str, bytes, str]]]) -> Response:
        boundary = secrets.token_hex(16)
        parts = [f'--{boundary}\r\nContent-Disposition: form-data; name="{k}"\r\n\r\n{v}\r\n'.encode()
                 for k, v in data.items()]
        for name, (filename, content, ctype) in files:
            parts.append(f'--{boundary}\r\nContent-Disposition: form-data; name="{name}"; filename="{filename}"\r\n'
                         f"Content-Type: {ctype}\r\n\r\n".encode() + content + b"\r\n")
        body = b"".join(parts) + f"--{boundary}--\r\n".encode()
        return await self._request("POST", path, body, f"multipart/form-data; boundary={boundary}")

    async def _request(self, method: str, path: str, body: bytes = b"", ctype: str = "") -> Response:
        try:
            return await asyncio.wait_for(self._exchange(method, path, body, ctype), self.timeout)
        except (TimeoutError, OSError, asyncio.IncompleteReadError, ValueError) as e:
            self._close()
            raise HTTPError(f"{type(e).__name__} {e}") from e

    async def _exchange(self, method: str, path: str, body: bytes, ctype: str) -> Response:
        if self._writer is None:
            self._reader, self._writer = await asyncio.open_connection(self.host, self.port)
        assert self._reader is not None
        head = [f"{method} {path} HTTP/1.1", f"Host: {self.host}:{self.port}", "Accept: */*"]
        if self.cookies:
            head.append("Cookie: " + "; ".join(f"{k}={v}" for k, v in self.cookies.items()))
        if method == "POST":
            head += [f"Content-Type: {ctype}", f"Content-Length: {len(body)}"]
        self._writer.write(("\r\n".join(head) + "\r\n\r\n").encode() + body)
        raw = await self._reader.readuntil(b"\r\n\r\n")
        status_line, *lines = raw.decode("latin-1").split("\r\n")
        parts = status_line.split(" ", 2)
        if len(parts) < 2 or not parts[0].startswith("HTTP/"):
            raise HTTPError(f"not an HTTP answer: {status_line[:80]!r}")
        headers: dict[str, str] = {}
        cookies = []
        for line in lines:
            if ":" in line:
                k, v = line.split(":", 1)
                headers[k.strip().lower()] = v.strip()
                if k.strip().lower() == "set-cookie":
                    cookies.append(v.strip())
        if headers.get("transfer-encoding", "").lower() == "chunked":
            content = await self._chunks()
        else:
            content = await self._reader.readexactly(int(headers.get("content-length", "0")))
        for c in cookies:
            name, _, value = c.split(";", 1)[0].partition("=")
            self.cookies[name.strip()] = value.strip()
        if headers.get("connection", "").lower() == "close":
            self._close()
        return Response(int(parts[1]), headers, content, cookies)

    async def _chunks(self) -> bytes:
        assert self._reader is not None
        out = []
        while True:
            size = int((await self._reader.readuntil(b"\r\n")).split(b";")[0], 16)
            if size == 0:
                await self._reader.readuntil(b"\r\n")
                return b"".join(out)
            out.append(await self._reader.readexactly(size))
            await self._reader.readexactly(2)

    def _close(self) -> None:
        if self._writer is not None:
            self._writer.close()
        self._reader = self._writer = None
