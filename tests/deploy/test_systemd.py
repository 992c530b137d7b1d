"""`fuquan ops systemd`: the units that run fuquan on a county server. Every unit reads as systemd reads it; every
command it starts is an executable of the checkout's venv and exists — each `fuquan` and `prefect` command's own
`--help`, run with the project's venv, lists the sub-command and every option the unit passes; every service restarts
on failure, runs as the given user from the given directory, reads the env file and is confined; the web app and
Prefect listen on 127.0.0.1 only. No secret in the environment reaches a file or the output; the env file holds
names only, mode 0600, and is never overwritten. Bad input is one Chinese error, no traceback, nothing written.

`systemd-analyze verify` checks the units as systemd itself reads them (unknown keys, bad values, commands that are
not executable); that one check is skipped where systemd-analyze is not installed (Debian's `systemd` package)."""

from __future__ import annotations

import os
import shlex
import shutil
import stat
import subprocess
from pathlib import Path

import pytest

from tests.conftest import ROOT

UNITS = ("fuquan-prefect.service", "fuquan-schedules.service", "fuquan-web.service")
VENV_BIN = ROOT / ".venv" / "bin"
SECRETS = {  # every credential settings.py reads, set to a marker that must appear nowhere
    "FUQUAN_LINK_SECRET": "marker-link-3f9a",
    "FUQUAN_DATABASE_URL": "postgresql+psycopg://fuquan:marker-dbpw-77c1@127.0.0.1/fuquan",
    "SLACK_BOT_TOKEN": "xoxb-marker-bot-51d0",
    "SLACK_APP_TOKEN": "xapp-marker-app-a2e4",
    "SLACK_SIGNING_SECRET": "marker-signing-0b6e",
    "FUQUAN_WEBHOOK_DINGTALK": "https://oapi.dingtalk.com/robot/send?access_token=marker-hook-c83d",
    "FUQUAN_WEBHOOK_DINGTALK_SECRET": "SECmarker-hooksecret-19f2",
}


def parse(text: str) -> dict[str, list[tuple[str, str]]]:
    """A unit file as systemd reads it: sections of (key, value), keys repeated in order (configparser can't)."""
    sections: dict[str, list[tuple[str, str]]] = {}
    current = None
    for line in text.splitlines():
        if not line.strip() or line.lstrip().startswith(("#", ";")):
            continue
        if line.startswith("[") and line.endswith("]"):
            current = sections.setdefault(line[1:-1], [])
            continue
        assert current is not None and "=" in line, f"not a unit line: {line!r}"
        key, value = line.split("=", 1)
        current.append((key.strip(), value.strip()))
    return sections


def values(unit: dict[str, list[tuple[str, str]]], section: str, key: str) -> list[str]:
    return [v for k, v in unit.get(section, []) if k == key]


@pytest.fixture
def made(run, tmp_path: Path, monkeypatch: pytest.MonkeyPatch):  # type: ignore[no-untyped-def]
    for name, value in SECRETS.items():
        monkeypatch.setenv(name, value)
    out = tmp_path / "out"
    r = run("ops", "systemd", "--dir", str(ROOT), "--user", "fuquan", "--out", str(out), "--workers", "3",
            "--web-port", "8311", "--prefect-port", "4211")
    assert r.code == 0, r.err
    return out, r


def test_every_unit_starts_a_real_command_of_the_venv_and_restarts_on_failure(made) -> None:  # type: ignore[no-untyped-def]
    out, _ = made
    helps: dict[tuple[str, ...], subprocess.Popen[str]] = {}
    wanted: list[tuple[tuple[str, ...], list[str]]] = []
    for name in UNITS:
        unit = parse((out / name).read_text("utf-8"))
        service = dict(unit["Service"])
        assert (service["Restart"], service["User"], service["WorkingDirectory"]) == ("on-failure", "fuquan", str(ROOT))
        assert service["EnvironmentFile"] == "/etc/fuquan/fuquan.env" and int(service["RestartSec"]) > 0
        assert (service["NoNewPrivileges"], service["PrivateTmp"], service["ProtectSystem"]) == ("yes", "yes", "full")
        assert service["ReadWritePaths"] == str(ROOT / "data")
        assert "network-online.target" in values(unit, "Unit", "After")[0] and values(unit, "Install", "WantedBy")
        commands = [shlex.split(v) for k, v in unit["Service"] if k.startswith("Exec")]
        assert any(k == "ExecStart" for k, _ in unit["Service"]), name
        for argv in commands:
            exe = Path(argv[0])
            assert exe.parent == VENV_BIN and os.access(exe, os.X_OK), (name, argv)
            if exe.name == "python":  # the Prefect unit's wait for its port: Python that compiles
                assert argv[1] == "-c" and compile(argv[2], name, "exec")
                continue
            words = [a for a in argv[1:] if not a.startswith("-") and not a.isdigit() and a != "127.0.0.1"]
            key = (str(exe), *words)
            if key not in helps:
                helps[key] = subprocess.Popen([*key, "--help"], stdout=subprocess.PIPE, stderr=subprocess.STDOUT,
                                              text=True, env={**os.environ, "COLUMNS": "200"})
            wanted.append((key, [a for a in argv if a.startswith("--")]))
    assert {k[1:] for k in helps} == {("server", "start"), ("sync",), ("serve",), ("web",)}
    for key, options in wanted:
        text, _ = helps[key].communicate(timeout=60)
        assert helps[key].returncode == 0, (key, text[-500:])
        for option in options:
            assert option in text, f"{' '.join(key)} has no option {option}"
    web = parse((out / "fuquan-web.service").read_text("utf-8"))
    assert values(web, "Service", "ExecStart") == [f"{VENV_BIN}/fuquan web --host 127.0.0.1 --port 8311 --workers 3"]
    prefect = parse((out / "fuquan-prefect.service").read_text("utf-8"))
    assert "--host 127.0.0.1 --port 4211" in values(prefect, "Service", "ExecStart")[0]
    assert f"PREFECT_HOME={ROOT / 'data' / 'prefect'}" in values(prefect, "Service", "Environment")
    schedules = parse((out / "fuquan-schedules.service").read_text("utf-8"))
    assert "PREFECT_API_URL=http://127.0.0.1:4211/api" in values(schedules, "Service", "Environment")
    assert values(schedules, "Unit", "Requires") == ["fuquan-prefect.service"]
    target = parse((out / "fuquan.target").read_text("utf-8"))
    assert values(target, "Unit", "Wants") == [" ".join(UNITS)]
    assert values(target, "Install", "WantedBy") == ["multi-user.target"]


@pytest.mark.skipif(shutil.which("systemd-analyze") is None, reason="systemd-analyze is not installed")
def test_systemd_itself_accepts_the_units(made) -> None:  # type: ignore[no-untyped-def]
    out, _ = made
    r = subprocess.run(["systemd-analyze", "verify", "--man=no", *(f"./{n}" for n in (*UNITS, "fuquan.target"))],
                       cwd=out, capture_output=True, text=True, timeout=60)
    assert r.returncode == 0 and not r.stdout.strip() and not r.stderr.strip(), r.stdout + r.stderr


def test_no_secret_reaches_a_file_or_the_output_and_the_env_file_holds_names_only(made) -> None:  # type: ignore[no-untyped-def]
    out, r = made
    written = {p.name: p.read_text("utf-8") for p in out.iterdir()}
    assert set(written) == {*UNITS, "fuquan.target", "fuquan.env", "fuquan-admin"}
    for where, text in [*written.items(), ("stdout", r.out), ("stderr", r.err)]:
        for name, value in SECRETS.items():
            assert value not in text and value.split("://")[-1] not in text, (where, name)
    env = out / "fuquan.env"
    assert stat.S_IMODE(env.stat().st_mode) == 0o600
    lines = dict(line.split("=", 1) for line in written["fuquan.env"].splitlines() if line and not line.startswith("#"))
    assert {"FUQUAN_DATABASE_URL", "FUQUAN_LINK_SECRET", "FUQUAN_WEB_URL", "SLACK_BOT_TOKEN", "SLACK_APP_TOKEN",
            "SLACK_SIGNING_SECRET"} <= set(lines)
    assert {k: v for k, v in lines.items() if v} == {"FUQUAN_TRUSTED_PROXIES": "127.0.0.1"}
    assert "systemctl enable --now fuquan.target" in r.out and "0600" in r.out and "/etc/systemd/system" in r.out
    admin = out / "fuquan-admin"
    assert subprocess.run(["sh", "-n", str(admin)]).returncode == 0 and os.access(admin, os.X_OK)
    assert f"{VENV_BIN}/fuquan \"$@\"" in written["fuquan-admin"]
    assert "EnvironmentFile=/etc/fuquan/fuquan.env" in written["fuquan-admin"]


def test_an_env_file_already_there_is_kept(run, made) -> None:  # type: ignore[no-untyped-def]
    out, _ = made
    env = out / "fuquan.env"
    env.write_text("FUQUAN_LINK_SECRET=filled-in-on-the-server\n", encoding="utf-8")
    r = run("ops", "systemd", "--dir", str(ROOT), "--user", "fuquan", "--out", str(out))
    assert r.code == 0 and "未覆盖" in r.out, r.err
    assert env.read_text("utf-8") == "FUQUAN_LINK_SECRET=filled-in-on-the-server\n"


@pytest.mark.parametrize(("args", "said"), [
    (["--dir", "opt/fuquan"], "--dir 应为绝对路径"),
    (["--dir", "/opt/fu quan"], "--dir 应为绝对路径"),
    (["--dir", "/opt/%h"], "--dir 应为绝对路径"),
    (["--workers", "0"], "--workers 应在 1 到 32 之间"),
    (["--user", "root"], "--user 应为一个普通系统用户名"),
    (["--user", "fu\nquan"], "控制字符"),
    (["--web-port", "4200"], "--web-port 和 --prefect-port 不能是同一个端口"),
    (["--prefect-port", "70000"], "--prefect-port 应为 1 到 65535"),
    (["--env-file", "fuquan.env"], "--env-file 应为绝对路径"),
    (["--out", "{tmp}/FILE/sub"], "无法使用输出目录"),
])
def test_bad_input_is_one_chinese_error_and_nothing_is_written(run, tmp_path: Path, args: list[str],  # type: ignore[no-untyped-def]
                                                               said: str) -> None:
    (tmp_path / "FILE").write_text("a file, not a folder")
    given = {"--dir": "/opt/fuquan", "--user": "fuquan", "--out": str(tmp_path / "out")}
    given.update({k: v.replace("{tmp}", str(tmp_path)) for k, v in zip(args[::2], args[1::2], strict=True)})
    out = Path(given["--out"])
    r = run("ops", "systemd", *(x for kv in given.items() for x in kv))
    assert r.code in (1, 2) and said in r.err and r.err.startswith("错误: "), (r.code, r.err)
    assert "Traceback" not in r.err + r.out
    assert not out.exists() and sorted(p.name for p in tmp_path.iterdir()) == ["FILE"]
