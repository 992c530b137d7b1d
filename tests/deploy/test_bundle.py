"""The offline install of a county server (`make bundle`, scripts/bundle.sh, README: Operations: install offline), for real on this
machine's platform: a bundle is built, a fresh venv installs fuquan from it with the network shut (pip finds
no index and any connection goes to a dead proxy), and the installed `fuquan` runs. The bundle's check catches a
missing wheel, for this platform and for the other one, in Chinese; bootstrap refuses a bundle that does not fit.

The bundle here is for this machine's platform only (`make bundle PLATFORMS=<uname -m>`): both platforms are
checked by `make bundle` itself. Its wheels come from the wheel cache of earlier runs (~/.cache/fuquan/wheels, which
every `make bundle` fills), so a warm machine asks no registry; a cold one downloads the host's wheels once
(about 45 s more). pip's own cache keeps nothing from this registry, so it cannot play that part.
Cost, warm: about 40 s of CPU — the offline pip install of some 120 wheels half of it, the bundle (its own wheel
built offline) a quarter.

Nothing here depends on the tracker's database: it runs in the SQLite pass only."""

import os
import platform
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from tests import dbs
from tests.conftest import ROOT

# (does not depend on the database; `make test` runs it once, in a process of its own beside the two passes: it
# spends about 40 s of CPU installing 120 wheels)
pytestmark = pytest.mark.skipif(dbs.ON_PG or os.environ.get("FUQUAN_TEST_SERVE_APART") == "1",
                                reason="runs once beside the passes in make test")

HOST = platform.machine()
OTHER = {"x86_64": "aarch64", "aarch64": "x86_64"}.get(HOST, "aarch64")
DEAD = "http://127.0.0.1:9"  # the discard port: nothing listens


def offline_env(**extra: str) -> dict[str, str]:
    """No pip configuration of this machine (its extra indexes and find-links), and no way out: a dead index and
    dead proxies, no retries."""
    env = {k: v for k, v in os.environ.items() if not k.startswith("PIP_") and not k.lower().endswith("_proxy")}
    env.update(PIP_CONFIG_FILE=os.devnull, PIP_INDEX_URL=f"{DEAD}/simple", PIP_RETRIES="0", PIP_TIMEOUT="3",
               PIP_DISABLE_PIP_VERSION_CHECK="1", http_proxy=DEAD, https_proxy=DEAD, HTTP_PROXY=DEAD,
               HTTPS_PROXY=DEAD, no_proxy="", NO_PROXY="", **extra)
    return env


def run(cmd: list[str], **kw: object) -> subprocess.CompletedProcess[str]:
    return subprocess.run(cmd, capture_output=True, text=True, **kw)  # type: ignore[call-overload, no-any-return]


@pytest.fixture(scope="module")
def bundle(tmp_path_factory: pytest.TempPathFactory) -> Path:
    out = tmp_path_factory.mktemp("offline") / "bundle"
    r = run(["make", "-s", "bundle", f"BUNDLE={out}", f"PLATFORMS={HOST}"], cwd=ROOT, timeout=600)
    assert r.returncode == 0, r.stdout[-3000:] + r.stderr[-3000:]
    assert "[1] 离线包目录" in r.stdout and "完成" in r.stdout  # a line per step, in Chinese
    return out


def test_a_fresh_venv_installs_from_the_bundle_alone_and_fuquan_runs(bundle: Path, tmp_path: Path) -> None:
    assert {p.name for p in bundle.iterdir()} == {"wheels", "constraints.txt", "manifest.txt", "说明.txt", "SHA256SUMS"}
    assert run(["sha256sum", "-c", "--quiet", "SHA256SUMS"], cwd=bundle).returncode == 0
    assert (bundle / "constraints.txt").read_bytes() == (ROOT / "constraints.txt").read_bytes()
    assert f"platforms {HOST}\n" in (bundle / "manifest.txt").read_text("utf-8")

    venv = tmp_path / "venv"
    # The venv gets no pip of its own (ensurepip costs 5 s): the checkout's pip installs into it, the same pip that
    # Python 3.11's ensurepip gives every venv. What the server runs: fuquan and its runtime dependencies (the dev
    # extra's wheels are proven present by the bundle's check; installing them too adds a quarter). --no-compile:
    # a server compiles on first import; here that would double the install.
    assert run([sys.executable, "-m", "venv", "--without-pip", str(venv)]).returncode == 0
    pip = [sys.executable, "-m", "pip", "--python", str(venv / "bin" / "python")]
    r = run([*pip, "install", "-q", "--no-compile", "--no-index", "--find-links", str(bundle / "wheels"),
             "-c", str(bundle / "constraints.txt"), "fuquan"], cwd=tmp_path, env=offline_env(), timeout=600)
    assert r.returncode == 0, r.stdout[-3000:] + r.stderr[-3000:]
    r = run([*pip, "check"], env=offline_env())
    assert r.returncode == 0, r.stdout

    # outside the checkout: the plan is checked and loaded into a database built by the migrations in the wheel
    env = offline_env(FUQUAN_DATA_DIR=str(tmp_path / "data"), FUQUAN_CONFIG=str(ROOT / "tests/plans/lianhe-2025.yaml"))
    r = run([str(venv / "bin" / "fuquan"), "--help"], cwd=tmp_path, env=env)
    assert r.returncode == 0 and "镇赋权任务督办" in r.stdout, r.stderr[-2000:]
    r = run([str(venv / "bin" / "fuquan"), "sync"], cwd=tmp_path, env=env)
    assert r.returncode == 0 and "已同步" in r.stdout, r.stdout[-2000:] + r.stderr[-2000:]
    assert (tmp_path / "data" / "fuquan.db").exists()
    # the installed copy ran, not the checkout
    r = run([str(venv / "bin" / "python"), "-c", "import fuquan; print(fuquan.__file__)"], cwd=tmp_path, env=env)
    assert r.returncode == 0 and r.stdout.startswith(str(venv)), r.stdout + r.stderr[-2000:]


def _copy(bundle: Path, dest: Path, drop: str = "") -> Path:
    """The bundle with its wheels linked, not copied, less those whose name starts with `drop`."""
    (dest / "wheels").mkdir(parents=True)
    for p in (bundle / "wheels").iterdir():
        if not (drop and p.name.startswith(drop)):
            os.symlink(p, dest / "wheels" / p.name)
    for name in ("constraints.txt", "manifest.txt"):
        shutil.copy(bundle / name, dest / name)
    return dest


def check(folder: Path, platforms: str) -> subprocess.CompletedProcess[str]:
    return run(["bash", "scripts/bundle.sh", "--check"], cwd=ROOT, env={**os.environ, "BUNDLE": str(folder),
                                                                       "PLATFORMS": platforms}, timeout=120)


def test_the_check_names_a_missing_wheel_in_chinese(bundle: Path, tmp_path: Path) -> None:
    assert check(bundle, HOST).returncode == 0
    r = check(_copy(bundle, tmp_path / "b", drop="numpy-"), HOST)
    assert r.returncode == 1
    numpy = next(line for line in (ROOT / "constraints.txt").read_text().splitlines() if line.startswith("numpy=="))
    assert f"错误: 离线包缺少 {numpy} 的 {HOST} wheel" in r.stderr, r.stderr
    assert "不完整" in r.stderr
    # a bundle made for this machine lacks the other platform's compiled wheels (pure ones serve both)
    r = check(bundle, f"{HOST} {OTHER}")
    assert r.returncode == 1
    missing = [line for line in r.stderr.splitlines() if line.startswith("错误: 离线包缺少")]
    assert all(f" 的 {OTHER} wheel" in line for line in missing) and len(missing) >= 20, r.stderr
    assert any("numpy==" in line for line in missing) and not any("rich==" in line for line in missing)


@pytest.mark.parametrize("change, said", [
    ("platforms riscv64", "只含 riscv64 平台的 wheel, 本机是"),
    ("python 3.9", "是为 Python 3.9 制作的"),
    ("glibc.HOST 9.99", "需要 glibc ≥ 9.99"),
    ("constraints", "constraints.txt 与源码中的不同"),
])
def test_bootstrap_refuses_a_bundle_that_does_not_fit_before_making_a_venv(bundle: Path, tmp_path: Path,
                                                                           change: str, said: str) -> None:
    fake = _copy(bundle, tmp_path / "b")
    manifest = (fake / "manifest.txt").read_text("utf-8")
    if change == "constraints":
        with (fake / "constraints.txt").open("a") as f:
            f.write("leftpad==1.0\n")
    else:
        key, value = change.replace("HOST", HOST).split(" ")
        manifest = "".join(line if line.split(" ")[0] != key else f"{key} {value}\n"
                           for line in manifest.splitlines(keepends=True))
        (fake / "manifest.txt").write_text(manifest, "utf-8")
    venv = tmp_path / "venv"
    r = run(["bash", "scripts/bootstrap.sh"], cwd=ROOT, timeout=120,
            env=offline_env(FUQUAN_BUNDLE=str(fake), VENV=str(venv), PYTHON=sys.executable))
    assert r.returncode == 1 and said in r.stderr, r.stdout + r.stderr
    assert not venv.exists()
