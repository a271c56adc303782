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
from typing import Any

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


def stop_server(server: subprocess.Popen[Any]) -> None:
    """Stop SERVER's whole process group: SIGTERM, then SIGKILL after 30 s."""
    if server.poll() is None:
        os.killpg(server.pid, signal.SIGTERM)
    try:
        server.wait(timeout=30)
    except subprocess.TimeoutExpired:
        os.killpg(server.pid, signal.SIGKILL)
        server.wait(timeout=10)


@contextmanager
def gunicorn(data_dir: Path, home: Path, env: Mapping[str, str] | None = None,
             log: list[str] | None = None) -> Iterator[int]:
    """Serve DATA_DIR with ``gunicorn -c gunicorn.conf.py wsgi:app``; yield its port. LOG, when
    given, receives gunicorn's log lines (complete once the block is left)."""
    port = free_port()
    environ = dict(os.environ, ARCHIVE_DATA_DIR=str(data_dir), HOME=str(home),
                   ARCHIVE_WEB_BIND=f"127.0.0.1:{port}")
    for name in ("ARCHIVE_WEB_WORKERS", "ARCHIVE_WEB_THREADS", "ARCHIVE_WEB_MALLOC_ARENAS",
                 "ARCHIVE_TRUSTED_PROXIES"):
        environ.pop(name, None)
    environ.update(env or {})
    server = subprocess.Popen(
        [sys.executable, "-m", "gunicorn", "-c", "gunicorn.conf.py", "wsgi:app"],
        cwd=ROOT, env=environ, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True,
        start_new_session=True)
    listening = threading.Event()
    lines: list[str] = log if log is not None else []

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
        stop_server(server)
        reader.join(timeout=10)
        if server.stderr is not None:
            server.stderr.close()


def documented_nginx_blocks() -> list[str]:
    """Return the nginx configuration blocks of docs/operations.md, as an operator copies them."""
    text = (ROOT / "docs" / "operations.md").read_text(encoding="utf-8")
    return re.findall(r"```nginx\n(.*?)```", text, re.S)


def documented_nginx_block() -> str:
    """Return the single web host's nginx block of docs/operations.md (gunicorn behind it)."""
    blocks = [b for b in documented_nginx_blocks() if "upstream archive_app " in b]
    assert len(blocks) == 1, "docs/operations.md has no single web host block"
    return blocks[0]


def documented_balancer_block() -> str:
    """Return the load balancer's nginx block of docs/operations.md (several web hosts)."""
    blocks = [b for b in documented_nginx_blocks() if "upstream archive_web " in b]
    assert len(blocks) == 1, "docs/operations.md has no single load balancer block"
    return blocks[0]


def _on_loopback(block: str, port: int) -> str:
    """Return BLOCK listening on 127.0.0.1:PORT without TLS, its static files this checkout's."""
    local = re.sub(r"listen 443 ssl http2", f"listen 127.0.0.1:{port}", block)
    local = re.sub(r"^\s*ssl_\w+ .*;\n", "", local, flags=re.M)
    return local.replace("/srv/archive/src/archive/web/static/",
                         f"{ROOT / 'archive' / 'web' / 'static'}/")


def local_nginx_block(block: str, port: int, upstream: int) -> str:
    """Return BLOCK listening on 127.0.0.1:PORT without TLS, proxying to UPSTREAM.

    Only what a loopback test cannot have changes: the listening address, the certificate
    lines, the upstream port and the static files' path (and, in ``start_nginx``, the proxy
    cache's folder). Every header and cache line stays as written.
    """
    local = _on_loopback(block, port).replace("server 127.0.0.1:8000;",
                                              f"server 127.0.0.1:{upstream};")
    assert local.count(f"127.0.0.1:{port}") == 2 and str(upstream) in local, local
    return local


def local_balancer_block(block: str, port: int, upstreams: list[int]) -> str:
    """Return BLOCK listening on 127.0.0.1:PORT without TLS, balancing over UPSTREAMS.

    Only what a loopback test cannot have changes: the listening address, the certificate
    lines and the web hosts' addresses. Every other line stays as written.
    """
    local = _on_loopback(block, port)
    hosts = re.findall(r"server (\d+\.\d+\.\d+\.\d+:\d+)", local)
    assert len(hosts) == len(upstreams), local
    for host, upstream in zip(hosts, upstreams, strict=True):
        local = local.replace(f"server {host} ", f"server 127.0.0.1:{upstream} ")
    return local


def start_nginx(block: str, workdir: Path, processes: str = "1", connections: int = 64,
                ) -> list[str]:
    """Start a private nginx (own prefix, pid, logs, temp files and proxy cache in WORKDIR)
    serving BLOCK; return the command whose ``-s stop`` stops it.

    nginx opens its listening sockets before it detaches, so once the command has returned
    the port accepts connections: nothing needs to be waited for.
    """
    if NGINX is None:
        raise RuntimeError("nginx is not installed (Debian package nginx)")
    workdir.mkdir(parents=True, exist_ok=True)
    block = block.replace("/var/cache/nginx/notrecontinent-archive", str(workdir / "cache"))
    temps = "\n".join(f"    {kind}_temp_path {workdir / kind};"
                      for kind in ("client_body", "proxy", "fastcgi", "uwsgi", "scgi"))
    user = "user root;" if os.geteuid() == 0 else ""
    (workdir / "nginx.conf").write_text(f"""{user}
worker_processes {processes};
pid {workdir / 'nginx.pid'};
error_log {workdir / 'error.log'} warn;
events {{ worker_connections {connections}; }}
http {{
    access_log off;
{temps}
{block}
}}
""", encoding="utf-8")
    command = [NGINX, "-e", str(workdir / "error.log"), "-p", f"{workdir}/", "-c",
               str(workdir / "nginx.conf")]
    started = subprocess.run(command, capture_output=True, text=True, timeout=30)
    if started.returncode:
        raise RuntimeError(f"nginx did not start: {started.stderr.strip()}")
    return command


@contextmanager
def nginx(block: str, workdir: Path) -> Iterator[None]:
    """Run a private nginx serving BLOCK (``start_nginx``) for the duration of the block."""
    command = start_nginx(block, workdir)
    try:
        yield
    finally:
        subprocess.run([*command, "-s", "stop"], capture_output=True, text=True, timeout=30)
