"""Real servers for the web tests, on loopback ports chosen at run time: gunicorn with the
repository's configuration, and a private nginx running the configuration the docs give."""

from __future__ import annotations

import http.client
import os
import re
import shutil
import signal
import socket
import subprocess
import sys
import threading
from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
NGINX = shutil.which("nginx") or ("/usr/sbin/nginx" if Path("/usr/sbin/nginx").exists() else None)
START_SECONDS = 60.0


def free_port() -> int:
    """Return a loopback port nobody listens on now."""
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port: int = probe.getsockname()[1]
        return port


def fetch(port: int, path: str, *, timeout: float = 10,
          headers: Mapping[str, str] | None = None) -> tuple[int, bytes]:
    """GET PATH from 127.0.0.1:PORT; return the status and the body."""
    conn = http.client.HTTPConnection("127.0.0.1", port, timeout=timeout)
    try:
        conn.request("GET", path, headers=dict(headers or {}))
        response = conn.getresponse()
        return response.status, response.read()
    finally:
        conn.close()


def _stop(server: subprocess.Popen[str]) -> None:
    if server.poll() is None:
        os.killpg(server.pid, signal.SIGTERM)
    try:
        server.wait(timeout=30)
    except subprocess.TimeoutExpired:
        os.killpg(server.pid, signal.SIGKILL)
        server.wait(timeout=10)


@contextmanager
def gunicorn(data_dir: Path, home: Path, env: Mapping[str, str] | None = None) -> Iterator[int]:
    """Serve DATA_DIR with ``gunicorn -c gunicorn.conf.py wsgi:app``; yield its port."""
    port = free_port()
    environ = dict(os.environ, ARCHIVE_DATA_DIR=str(data_dir), HOME=str(home),
                   ARCHIVE_WEB_BIND=f"127.0.0.1:{port}")
    for name in ("ARCHIVE_WEB_WORKERS", "ARCHIVE_WEB_THREADS", "ARCHIVE_TRUSTED_PROXIES"):
        environ.pop(name, None)
    environ.update(env or {})
    server = subprocess.Popen(
        [sys.executable, "-m", "gunicorn", "-c", "gunicorn.conf.py", "wsgi:app"],
        cwd=ROOT, env=environ, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True,
        start_new_session=True)
    listening = threading.Event()
    lines: list[str] = []

    def drain() -> None:  # read the log to its end, so gunicorn never blocks on a full pipe
        assert server.stderr is not None
        for line in server.stderr:
            lines.append(line)
            if "à l'écoute sur" in line:  # gunicorn's start-up line, in French
                listening.set()
        listening.set()

    reader = threading.Thread(target=drain, daemon=True)
    reader.start()
    try:
        listening.wait(timeout=START_SECONDS)
        assert server.poll() is None, "".join(lines)
        # Requests queue on the bound socket until a worker has loaded the app.
        status, _ = fetch(port, "/healthz", timeout=START_SECONDS)
        assert status in (200, 503), "".join(lines)
        yield port
    finally:
        _stop(server)
        reader.join(timeout=10)
        if server.stderr is not None:
            server.stderr.close()


def documented_nginx_block() -> str:
    """Return the nginx configuration block of docs/operations.md, as an operator copies it."""
    text = (ROOT / "docs" / "operations.md").read_text(encoding="utf-8")
    found = re.search(r"```nginx\n(.*?)```", text, re.S)
    assert found, "docs/operations.md has no nginx block"
    return found.group(1)


def local_nginx_block(block: str, port: int, upstream: int) -> str:
    """Return BLOCK listening on 127.0.0.1:PORT without TLS, proxying to UPSTREAM.

    Only what a loopback test cannot have changes: the listening address, the certificate
    lines, the upstream port and the static files' path (and, in ``nginx``, the proxy cache's
    folder). Every header and cache line stays as written.
    """
    local = re.sub(r"listen 443 ssl http2", f"listen 127.0.0.1:{port}", block)
    local = re.sub(r"^\s*ssl_\w+ .*;\n", "", local, flags=re.M)
    local = local.replace("server 127.0.0.1:8000;", f"server 127.0.0.1:{upstream};")
    local = local.replace("/srv/archive/src/archive/web/static/",
                          f"{ROOT / 'archive' / 'web' / 'static'}/")
    assert local.count(f"127.0.0.1:{port}") == 2 and str(upstream) in local, local
    return local


@contextmanager
def nginx(block: str, workdir: Path) -> Iterator[None]:
    """Run a private nginx (own prefix, pid, logs and temp files in WORKDIR) serving BLOCK.

    nginx opens its listening sockets before it detaches, so once the command has returned
    the port accepts connections: nothing needs to be waited for.
    """
    assert NGINX is not None
    workdir.mkdir(parents=True, exist_ok=True)
    block = block.replace("/var/cache/nginx/notrecontinent-archive", str(workdir / "cache"))
    temps = "\n".join(f"    {kind}_temp_path {workdir / kind};"
                      for kind in ("client_body", "proxy", "fastcgi", "uwsgi", "scgi"))
    user = "user root;" if os.geteuid() == 0 else ""
    (workdir / "nginx.conf").write_text(f"""{user}
worker_processes 1;
pid {workdir / 'nginx.pid'};
error_log {workdir / 'error.log'} warn;
events {{ worker_connections 64; }}
http {{
    access_log off;
{temps}
{block}
}}
""", encoding="utf-8")
    command = [NGINX, "-e", str(workdir / "error.log"), "-p", f"{workdir}/", "-c",
               str(workdir / "nginx.conf")]
    started = subprocess.run(command, capture_output=True, text=True, timeout=30)
    assert started.returncode == 0, started.stderr
    try:
        yield
    finally:
        subprocess.run([*command, "-s", "stop"], capture_output=True, text=True, timeout=30)
