"""`make run` for real, on a terminal of its own (a pty): it starts, explains a finished plan year, names the
board; then Ctrl-C, typed as a terminal sends it (SIGINT to the foreground process group), stops everything
within 5 s with no error and no process left over — also piped through `tee`.

Nothing here depends on the tracker's database and most of it is waiting (about a minute, idle): `make test`
runs it once, beside the passes with the served-schedule test (scripts/test.sh); a plain pytest run keeps it.
The two cases share one Prefect home (the second start skips the migrations)."""

import fcntl
import os
import re
import signal
import subprocess
import termios
import threading
import time
from datetime import datetime
from pathlib import Path

import httpx
import pytest

from tests import dbs
from tests.conftest import REAL_CONFIG, ROOT
from tests.e2e.test_dashboard import free_port
from tests.faults import FIGURES

pytestmark = pytest.mark.skipif(os.environ.get("FUQUAN_TEST_SERVE_APART") == "1" or dbs.ON_PG,
                                reason="runs once, beside the passes in make test")


class Terminal:
    """A command as a terminal's foreground job: its own session, the pty its controlling terminal."""

    def __init__(self, command: str, env: dict[str, str]) -> None:
        master, slave = os.openpty()
        # the wrapper shell survives ^C (a handler, not an ignore: make and run.sh still get SIGINT) to report
        # the exit statuses
        script = f'trap : INT; {command}; echo "status: ${{PIPESTATUS[*]}}"'
        self.proc = subprocess.Popen(["bash", "-c", script], cwd=ROOT, env=env, stdin=slave, stdout=slave,
                                     stderr=slave, start_new_session=True, preexec_fn=self._as_typed)
        os.close(slave)
        self.master, self.buffer = master, bytearray()
        threading.Thread(target=self._drain, daemon=True).start()  # a full pty would block the command

    @staticmethod
    def _as_typed() -> None:
        """In the child: the pty as its controlling terminal, and SIGINT/SIGQUIT at their defaults, as a shell on a
        terminal runs what is typed. Ignored signals are inherited, and a non-interactive shell's background
        job (`make test > log &`) starts with both ignored; bash can then trap neither, so ^C would reach
        make and run.sh but stop nothing."""
        signal.signal(signal.SIGINT, signal.SIG_DFL)
        signal.signal(signal.SIGQUIT, signal.SIG_DFL)
        fcntl.ioctl(0, termios.TIOCSCTTY, 0)

    def _drain(self) -> None:
        while True:
            try:
                chunk = os.read(self.master, 65536)
            except OSError:  # EIO: every writer is gone
                return
            if not chunk:
                return
            self.buffer.extend(chunk)

    @property
    def text(self) -> str:
        return self.buffer.decode("utf-8", "replace").replace("\r\n", "\n")

    def ctrl_c(self) -> None:
        os.write(self.master, b"\x03")

    def others(self) -> list[str]:
        """Every process of the session but the wrapper shell, as `pid command`."""
        found = []
        for stat in Path("/proc").glob("[0-9]*/stat"):
            try:
                fields = stat.read_text().rsplit(")", 1)[1].split()
                cmdline = (stat.parent / "cmdline").read_bytes().replace(b"\0", b" ").decode(errors="replace")
            except (OSError, IndexError):
                continue  # gone meanwhile
            pid, sid = int(stat.parent.name), int(fields[3])
            if sid == self.proc.pid and pid != self.proc.pid and fields[0] != "Z":
                found.append(f"{pid} {cmdline}")
        return found

    def kill(self) -> None:
        for line in self.others():
            try:
                os.kill(int(line.split()[0]), 9)
            except ProcessLookupError:
                pass
        self.proc.kill()
        self.proc.wait(10)
        os.close(self.master)


@pytest.fixture(scope="module")
def prefect_home(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return tmp_path_factory.mktemp("make-run-prefect")


def started(term: Terminal, api: str, since: float) -> bool:
    """The server answers and serve's runner is polling for its six deployments (the plan's five schedules, the
    backup among them, and sync)."""
    if "已登记 6 个定时流程" not in term.text:
        return False
    try:
        found = httpx.post(f"{api}/deployments/filter", json={"offset": 0, "limit": 50}, timeout=5).json()
    except httpx.HTTPError:
        return False
    polled = [datetime.fromisoformat(d["last_polled"]).timestamp() for d in found if d.get("last_polled")]
    return len(found) == 6 and len(polled) == 6 and min(polled) >= since - 1


@pytest.mark.parametrize("piped", [False, True], ids=["make-run", "make-run-tee"])
def test_make_run_starts_explains_and_stops_on_ctrl_c(piped: bool, tmp_path: Path, prefect_home: Path) -> None:
    port, web_port = free_port(), free_port()
    config = tmp_path / "tasks.yaml"
    config.write_text(REAL_CONFIG.read_text(encoding="utf-8"), encoding="utf-8")
    env = {k: v for k, v in os.environ.items()
           if not k.startswith(("PREFECT_", "FUQUAN_", "SLACK_", "MAKE", "MFLAGS"))}
    env.update(FUQUAN_DATA_DIR=str(tmp_path / "data"), FUQUAN_DATABASE_URL=dbs.fresh_url(tmp_path),
               FUQUAN_CONFIG=str(config), FUQUAN_PREFECT_PORT=str(port), FUQUAN_WEB_PORT=str(web_port), PREFECT_HOME=str(prefect_home),
               PREFECT_RUNNER_POLL_FREQUENCY="2", TERM="dumb")
    log = tmp_path / "run.log"
    term = Terminal(f"make run | tee {log}" if piped else "make run", env)
    api = f"http://127.0.0.1:{port}/api"
    since = time.time()
    try:
        deadline = since + 150
        while time.time() < deadline and not started(term, api, since):
            assert term.proc.poll() is None, term.text[-3000:]
            time.sleep(0.5)
        assert started(term, api, since), "make run did not come up:\n" + term.text[-3000:]
        # the web app units answer through, with a link-signing key made for it and kept private
        page = httpx.get(f"http://127.0.0.1:{web_port}/", timeout=5)
        assert page.status_code == 200 and "专属链接" in page.text
        secret = tmp_path / "data" / "link.secret"
        assert secret.stat().st_mode & 0o077 == 0 and len(secret.read_text().strip()) >= 32
        term.ctrl_c()
        pressed = time.monotonic()
        while term.others() and time.monotonic() - pressed < 20:
            time.sleep(0.05)
        took, left = time.monotonic() - pressed, term.others()
        try:
            term.proc.wait(30)
        except subprocess.TimeoutExpired:
            pytest.fail(f"the terminal's job did not end {took:.1f} + 30 s after Ctrl-C; still running: "
                        f"{term.others()}\n{term.text[-3000:]}")
        time.sleep(0.2)  # the last bytes through the pty
    finally:
        term.kill()
    out = term.text
    assert not left, f"left running after Ctrl-C: {left}\n{out[-2000:]}"
    # how long it took is a figure, not an assertion (a loaded machine would fail it): the processes all gone
    # within the wait above is what is asserted
    load = os.getloadavg()[0]
    FIGURES.append(f"make run{' | tee' if piped else ''}: Ctrl-C stopped everything in {took:.1f} s (load {load:.1f})")
    # run.sh exits 0, so make prints no "Error"; make itself then re-raises the SIGINT it got (status 130), as
    # does tee
    assert re.search(f"^status: 130{' 130' if piped else ''}$", out, re.M), out[-2000:]
    assert "Error" not in out and "Traceback" not in out and "Interrupt" not in out, out[-3000:]
    assert "正在停止 …\n已停止。" in out
    assert f"单位反馈页面: http://127.0.0.1:{web_port}" in out and secret.read_text().strip() not in out
    assert f"运行记录 (Prefect UI): http://127.0.0.1:{port}/v2" in out and "今日督办: http://127.0.0.1:" in out
    board = f"专班督办看板: http://127.0.0.1:{web_port}/office/board"  # the 专班's board first
    assert board in out and out.index(board) < out.index("运行记录 (Prefect UI)") < out.index("今日督办: http://")
    assert "芜湖市湾沚区 2023 年度计划已于 2023-12-31 结束" in out
    assert "看计划结束时的情况: fuquan status --today 2023-12-31" in out
    if piped:
        assert f"运行记录 (Prefect UI): http://127.0.0.1:{port}/v2" in log.read_text(encoding="utf-8")
