"""`fuquan ops nginx` in front of `fuquan web`, for real: Debian's nginx, started unprivileged on free ports with the
generated site (a test-only wrapper puts its pid, logs and temp files in tmp_path), a self-signed certificate, and
the web app served as `fuquan web` serves it (uvicorn, web/serve.py's settings) on 127.0.0.1 with
FUQUAN_WEB_URL=https://… and FUQUAN_TRUSTED_PROXIES=127.0.0.1, on test_security's database and injected clock.

Over HTTPS (the certificate as the only CA): `nginx -t` accepts the site as generated for ports 80/443; http
redirects to https; a unit's personal link sets the session cookie with Secure, under HSTS; a 5 MB PDF 反馈, over
nginx's default 1 MB body limit, passes the proxy and is stored; the audit names the client's address — the client
connects from 127.0.0.2, so X-Forwarded-For from nginx is honoured, and what the client itself wrote in that header
is not. The Prefect UI's port lets in the office network only. (That a forged X-Forwarded-For sent straight to the
app from an untrusted peer is not believed is tests/web/test_edges.py's.)

Those are skipped, with the reason, only where nginx is not installed (Debian's `nginx` package); bad input (a name
or path that could add a directive, the Prefect UI opened to every address) is one Chinese error and writes nothing."""

from __future__ import annotations

import re
import shutil
import socket
import ssl
import subprocess
import threading
import time
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from ipaddress import ip_address
from pathlib import Path

import httpx
import pytest

from tests.web.test_edges import served, settings_app, sources
from tests.web.test_security import ONE_PLAN, PDF, World, template, world
from web.app import MAX_BODY

FIXTURES = (template, world)  # test_security's, used here by name
NGINX = shutil.which("nginx") or next((p for p in ("/usr/sbin/nginx",) if Path(p).exists()), None)
NEEDS_NGINX = pytest.mark.skipif(NGINX is None, reason="nginx is not installed (Debian package nginx)")
CLIENT, OUTSIDER, OFFICE = "127.0.0.2", "127.0.0.3", "127.0.0.2/32"  # every 127/8 address is this machine's


def free_ports(n: int) -> list[int]:
    socks = [socket.socket() for _ in range(n)]
    try:
        for s in socks:
            s.bind(("127.0.0.1", 0))
        return [s.getsockname()[1] for s in socks]
    finally:
        for s in socks:
            s.close()


def self_signed(where: Path) -> tuple[Path, Path]:
    from cryptography import x509
    from cryptography.hazmat.primitives import hashes, serialization
    from cryptography.hazmat.primitives.asymmetric import ec
    from cryptography.x509.oid import NameOID

    key = ec.generate_private_key(ec.SECP256R1())
    name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "127.0.0.1")])
    now = datetime.now(UTC)  # (TLS checks the real clock; the app's clock is the injected one)
    cert = (x509.CertificateBuilder().subject_name(name).issuer_name(name).public_key(key.public_key())
            .serial_number(x509.random_serial_number()).not_valid_before(now - timedelta(hours=1))
            .not_valid_after(now + timedelta(days=1))
            .add_extension(x509.SubjectAlternativeName([x509.IPAddress(ip_address("127.0.0.1"))]), critical=False)
            .add_extension(x509.BasicConstraints(ca=True, path_length=None), critical=True)
            .sign(key, hashes.SHA256()))
    crt, pem = where / "fuquan.crt", where / "fuquan.key"
    crt.write_bytes(cert.public_bytes(serialization.Encoding.PEM))
    pem.write_bytes(key.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8,
                                      serialization.NoEncryption()))
    return crt, pem


def wrapper(prefix: Path, site: Path) -> Path:
    """The test's nginx.conf around the generated site: one foreground process, everything it writes in `prefix`."""
    conf = prefix / "nginx.conf"
    temps = "".join(f"    {kind}_temp_path {prefix}/{kind};\n" for kind in ("client_body", "proxy", "fastcgi", "uwsgi", "scgi"))
    conf.write_text(f"""daemon off;
master_process off;
pid {prefix}/nginx.pid;
events {{ worker_connections 64; }}
http {{
    access_log off;
{temps}    include {site};
}}
""")
    return conf


def nginx(prefix: Path, conf: Path, *args: str) -> list[str]:
    assert NGINX is not None
    return [NGINX, "-p", f"{prefix}/", "-c", str(conf), "-e", str(prefix / "error.log"), *args]


def make_site(run, out: Path, crt: Path, key: Path, *ports: str) -> str:  # type: ignore[no-untyped-def]
    r = run("ops", "nginx", "--server-name", "127.0.0.1", "--cert", str(crt), "--key", str(key), "--out", str(out),
            "--office-network", OFFICE, *ports)
    assert r.code == 0, r.err
    return r.out


@NEEDS_NGINX
def test_nginx_accepts_the_site_as_generated(run, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    """The production ports (80, 443, 4443): `nginx -t` reads every directive and opens the certificate without
    binding a port, so it runs unprivileged too."""
    crt, key = self_signed(tmp_path)
    said = make_site(run, tmp_path / "fuquan.nginx", crt, key)
    text = (tmp_path / "fuquan.nginx").read_text("utf-8")
    assert "listen 80;" in text and "listen 443 ssl;" in text and "listen 4443 ssl;" in text
    limit = re.search(r"client_max_body_size (\d+)m;", text)
    assert limit and int(limit.group(1)) * 1024 * 1024 > MAX_BODY  # the app's own 413 page answers, not nginx's
    r = subprocess.run(nginx(tmp_path, wrapper(tmp_path, tmp_path / "fuquan.nginx"), "-t"), capture_output=True,
                       text=True, timeout=30)
    assert r.returncode == 0 and "test is successful" in r.stderr, r.stderr
    for step in ("apt-get install -y nginx", "sites-enabled", "nginx -t", "systemctl reload nginx",
                 "FUQUAN_WEB_URL=https://127.0.0.1", "FUQUAN_TRUSTED_PROXIES=127.0.0.1"):
        assert step in said, step


@dataclass
class Front:
    http: str
    https: str
    prefect_ui: str
    ca: ssl.SSLContext

    def client(self, source: str = CLIENT) -> httpx.Client:
        transport = httpx.HTTPTransport(verify=self.ca, local_address=source)
        return httpx.Client(transport=transport, base_url=self.https, timeout=20)


class FakePrefect(BaseHTTPRequestHandler):
    def do_GET(self) -> None:  # noqa: N802  (http.server's name)
        body = b"prefect ui"
        self.send_response(200)
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def log_message(self, *args: object) -> None:
        pass


@pytest.fixture
def front(run, world: World, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[Front]:  # type: ignore[no-untyped-def]
    http, https, prefect_ui, web, prefect = free_ports(5)
    crt, key = self_signed(tmp_path)
    site = tmp_path / "fuquan.nginx"
    make_site(run, site, crt, key, "--listen", "127.0.0.1", "--http-port", str(http), "--https-port", str(https),
              "--prefect-ui-port", str(prefect_ui), "--web-port", str(web), "--prefect-port", str(prefect))
    upstream = ThreadingHTTPServer(("127.0.0.1", prefect), FakePrefect)
    threading.Thread(target=upstream.serve_forever, daemon=True).start()
    proc = subprocess.Popen(nginx(tmp_path, wrapper(tmp_path, site)), stderr=subprocess.PIPE, text=True)
    try:
        with settings_app(world, monkeypatch, FUQUAN_WEB_URL=f"https://127.0.0.1:{https}",
                          FUQUAN_TRUSTED_PROXIES="127.0.0.1") as (_, app), served(app, web):
            for _ in range(100):  # (waits on nginx, not on a clock the app reads)
                with socket.socket() as s:
                    if s.connect_ex(("127.0.0.1", https)) == 0 or proc.poll() is not None:
                        break
                time.sleep(0.05)
            assert proc.poll() is None, proc.stderr.read() if proc.stderr else ""
            yield Front(f"http://127.0.0.1:{http}", f"https://127.0.0.1:{https}", f"https://127.0.0.1:{prefect_ui}",
                        ssl.create_default_context(cafile=str(crt)))
    finally:
        proc.terminate()
        proc.wait(10)
        upstream.shutdown()


@NEEDS_NGINX
@ONE_PLAN
def test_units_reach_fuquan_web_over_https_through_nginx(front: Front, world: World) -> None:
    with httpx.Client(timeout=10) as plain:
        r = plain.get(f"{front.http}/l/abc?x=1")
    assert r.status_code == 301 and r.headers["location"] == f"{front.https}/l/abc?x=1"
    with front.client() as c:
        r = c.get(f"/l/{world.token(world.case.town)}")
        assert r.status_code == 200, r.text[:300]
        assert "secure" in [p.strip().lower() for p in r.headers["set-cookie"].split(";")]
        assert r.headers["strict-transport-security"] == "max-age=31536000"
        page = c.get("/u")
        csrf = re.search(r'name="csrf" value="([^"]+)"', page.text)
        assert page.status_code == 200 and csrf, page.text[:300]
        task, _ = world.extendable(world.case.town)
        big = PDF + b"0" * (5 * 1024 * 1024)  # over nginx's default client_max_body_size (1 MB)
        r = c.post("/u/feedback", data={"nonce": "via-nginx", "task": str(task), "period": "", "status": "已完成",
                                        "note": "经 nginx 上传", "csrf": csrf.group(1)},
                   files=[("files", ("佐证.pdf", big, "application/pdf"))],
                   headers={"origin": front.https, "x-forwarded-for": "6.6.6.6"})  # (what the client makes up)
        assert r.status_code == 200, (r.status_code, r.text[:300])
    assert [p.stat().st_size for p in world.stored_files()] == [len(big)]
    assert sources(world) == {f"web {CLIENT}"}  # the client, as nginx saw it: not nginx, not the made-up 6.6.6.6


@NEEDS_NGINX
@ONE_PLAN
def test_the_prefect_ui_port_lets_in_the_office_network_only(front: Front) -> None:
    with front.client(CLIENT) as office, front.client(OUTSIDER) as outsider:
        r = office.get(f"{front.prefect_ui}/v2")
        assert (r.status_code, r.text) == (200, "prefect ui")
        assert outsider.get(f"{front.prefect_ui}/v2").status_code == 403
    with httpx.Client(timeout=10) as plain:  # plain http on the https port: sent to https
        r = plain.get(f"{front.prefect_ui.replace('https', 'http')}/v2")
    assert r.status_code == 302 and r.headers["location"] == f"{front.prefect_ui}/v2"


@pytest.mark.parametrize(("args", "said"), [
    (["--server-name", "fuquan.gov.cn; include /etc/passwd"], "--server-name 应为域名"),
    (["--cert", "certs/fuquan.pem"], "--cert 应为绝对路径"),
    (["--key", "/etc/ssl/private/f key;"], "--key 应为绝对路径"),
    (["--office-network", "0.0.0.0/0"], "会让任何地址都能打开 Prefect 看板"),
    (["--office-network", "office-lan"], "不是 IP 地址或网段"),
    (["--https-port", "4443"], "--https-port 和 --prefect-ui-port 不能是同一个端口"),
    (["--listen", "localhost"], "--listen 应为本机的一个 IP 地址"),
    (["--out", "{tmp}"], "--out 应为文件"),
])
def test_bad_input_is_one_chinese_error_and_nothing_is_written(run, tmp_path: Path, args: list[str],  # type: ignore[no-untyped-def]
                                                               said: str) -> None:
    given = {"--server-name": "fuquan.xx.gov.cn", "--cert": "/etc/ssl/certs/f.pem", "--key": "/etc/ssl/private/f.key",
             "--out": str(tmp_path / "fuquan.nginx")}
    given.update({k: v.replace("{tmp}", str(tmp_path)) for k, v in zip(args[::2], args[1::2], strict=True)})
    r = run("ops", "nginx", *(x for kv in given.items() for x in kv))
    assert r.code == 1 and r.err.startswith("错误: ") and said in r.err, (r.code, r.err)
    assert "Traceback" not in r.err + r.out and list(tmp_path.iterdir()) == []
