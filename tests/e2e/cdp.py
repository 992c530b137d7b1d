"""Headless Chromium driven over the DevTools protocol: `--dump-dom` cannot measure layout, this can (the
page's scroll width, where an element lies). One browser per test module; one page in it."""

from __future__ import annotations

import base64
import itertools
import json
import shutil
import socket
import subprocess
import tempfile
import time
from pathlib import Path
from typing import Any

import httpx
from websockets.sync.client import ClientConnection, connect

CHROMIUM = shutil.which("chromium") or shutil.which("chromium-browser")


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


class Browser:
    def __init__(self) -> None:
        assert CHROMIUM, "Debian chromium is not installed (make test installs it)"
        self.profile = tempfile.mkdtemp(prefix="fuquan-cdp-")
        port = _free_port()
        self.proc = subprocess.Popen(
            [CHROMIUM, "--headless", "--no-sandbox", "--disable-gpu", "--disable-background-networking",
             "--disable-quic", "--no-first-run", "--disable-component-update", "--disable-sync",
             "--hide-scrollbars", f"--remote-debugging-port={port}", f"--user-data-dir={self.profile}",
             "--window-size=1280,800", "about:blank"],
            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        for _ in range(100):
            try:
                pages = httpx.get(f"http://127.0.0.1:{port}/json/list", timeout=1).json()
                page = next(p for p in pages if p.get("type") == "page")
                break
            except (httpx.HTTPError, StopIteration, ValueError):
                time.sleep(0.2)
        else:
            self.close()
            raise RuntimeError("Chromium's DevTools endpoint did not answer")
        self.ws: ClientConnection = connect(page["webSocketDebuggerUrl"], max_size=64 * 2**20)
        self.ids = itertools.count(1)
        self.call("Page.enable")

    def call(self, method: str, **params: Any) -> dict[str, Any]:
        mid = next(self.ids)
        self.ws.send(json.dumps({"id": mid, "method": method, "params": params}))
        while True:
            msg = json.loads(self.ws.recv(timeout=60))
            if msg.get("id") == mid:
                if "error" in msg:
                    raise RuntimeError(f"{method}: {msg['error']}")
                return msg.get("result", {})  # type: ignore[no-any-return]

    def size(self, width: int, height: int) -> None:
        self.call("Emulation.setDeviceMetricsOverride", width=width, height=height, deviceScaleFactor=1, mobile=False)

    def open(self, url: str) -> None:
        """Navigate and wait for the new document (evaluating during the switch fails)."""
        self.call("Page.navigate", url=url)
        self.wait_for(f"location.href.startsWith({json.dumps(url.split('?')[0])}) && document.readyState === 'complete'")

    def js(self, expression: str) -> Any:
        answer = self.call("Runtime.evaluate", expression=expression, returnByValue=True, awaitPromise=True)
        if "exceptionDetails" in answer:
            raise RuntimeError(f"{expression}: {answer['exceptionDetails']}")
        return answer["result"].get("value")

    def wait_for(self, expression: str, timeout: float = 60) -> Any:
        """Poll a JS expression until it is truthy (the UI renders after its API calls answer)."""
        end = time.monotonic() + timeout
        while time.monotonic() < end:
            try:
                value = self.js(f"(v => v instanceof Node ? true : v)({expression})")  # a node cannot be returned
            except RuntimeError:  # the page is being replaced
                value = None
            if value:
                return value
            time.sleep(0.3)
        raise AssertionError(f"not true within {timeout} s: {expression}\npage text: "
                             + str(self.js("document.body && document.body.innerText"))[:3000])

    def screenshot(self, path: Path) -> None:
        data = self.call("Page.captureScreenshot", format="png")["data"]
        path.write_bytes(base64.b64decode(data))

    def screenshot_page(self, path: Path) -> None:
        """The whole page as wide as the window and as tall as its content, not just what the window shows."""
        width, height = self.js("[innerWidth, document.documentElement.scrollHeight]")
        data = self.call("Page.captureScreenshot", format="png", captureBeyondViewport=True,
                         clip={"x": 0, "y": 0, "width": width, "height": height, "scale": 1})["data"]
        path.write_bytes(base64.b64decode(data))

    # Acting on a page as a person would: a real mouse click where the element shows (so a button that is
    # hidden, folded away or covered by something else cannot be clicked), text typed into the focused field,
    # files chosen for an <input type=file>.

    def click(self, selector: str) -> None:
        """Scroll the first element matching `selector` into view and click its middle with the mouse."""
        spot = self.js(f"""(e => {{
            if (!e) return null;
            e.scrollIntoView({{block: 'center', inline: 'center'}});
            const r = e.getBoundingClientRect(), x = r.left + r.width / 2, y = r.top + r.height / 2;
            const hit = document.elementFromPoint(x, y);
            return {{x, y, shown: r.width > 0 && r.height > 0, on: !!hit && (hit === e || e.contains(hit)),
                     hit: hit ? hit.outerHTML.slice(0, 160) : ''}};
        }})(document.querySelector({json.dumps(selector)}))""")
        assert spot, f"no element {selector}"
        assert spot["shown"], f"{selector} is not shown (folded away or hidden)"
        assert spot["on"], f"{selector} is covered by {spot['hit']}"
        self.call("Input.dispatchMouseEvent", type="mouseMoved", x=spot["x"], y=spot["y"])
        for kind in ("mousePressed", "mouseReleased"):
            self.call("Input.dispatchMouseEvent", type=kind, x=spot["x"], y=spot["y"], button="left", clickCount=1)

    def fill(self, selector: str, text: str) -> None:
        """Click into a text field, select what it holds and type `text` over it (IME-free, as pasted)."""
        self.click(selector)
        assert self.js(f"document.activeElement === document.querySelector({json.dumps(selector)})"), \
            f"{selector} did not take the focus"
        self.js("document.activeElement.select && document.activeElement.select()")
        self.call("Input.insertText", text=text)

    def set_value(self, selector: str, value: str) -> None:
        """Set a field a person fills through a picker (a date, a select) and fire its input/change events;
        the field must accept the value (a date field silently drops a malformed one)."""
        got = self.js(f"""(e => {{
            e.value = {json.dumps(value)};
            e.dispatchEvent(new Event('input', {{bubbles: true}}));
            e.dispatchEvent(new Event('change', {{bubbles: true}}));
            return e.value;
        }})(document.querySelector({json.dumps(selector)}))""")
        assert got == value, f"{selector} holds {got!r}, not {value!r}"

    def choose_files(self, selector: str, *paths: Path) -> None:
        """What the file dialog would do for an <input type=file>."""
        found = self.call("Runtime.evaluate", expression=f"document.querySelector({json.dumps(selector)})")["result"]
        assert found.get("objectId"), f"no element {selector}"
        self.call("DOM.setFileInputFiles", files=[str(p) for p in paths], objectId=found["objectId"])

    def text(self, selector: str) -> str | None:
        """The rendered text of the first element matching `selector` (None when there is none)."""
        return self.js(f"document.querySelector({json.dumps(selector)})?.innerText ?? null")  # type: ignore[no-any-return]

    def clear_cookies(self) -> None:
        """Forget every session, as a different person's browser would have none."""
        self.call("Network.clearBrowserCookies")

    def close(self) -> None:
        try:
            if hasattr(self, "ws"):
                self.ws.close()
        finally:
            self.proc.terminate()
            try:
                self.proc.wait(20)
            except subprocess.TimeoutExpired:
                self.proc.kill()
            shutil.rmtree(self.profile, ignore_errors=True)

    def __enter__(self) -> Browser:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()


