"""The two ways to run the front end really serve: gunicorn with the repository's configuration
(production) and ``python -m archive serve`` (development), both on loopback."""

from __future__ import annotations

import http.client
import json
import os
import signal
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import pytest
from web_archive import BuiltArchive, build_archive

ROOT = Path(__file__).resolve().parents[1]
START_SECONDS = 60.0


@pytest.fixture(scope="module")
def built(tmp_path_factory: pytest.TempPathFactory) -> BuiltArchive:
    return build_archive(tmp_path_factory.mktemp("serving-data"), 12, edits=1)


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port: int = probe.getsockname()[1]
        return port


def get(port: int, path: str) -> tuple[int, bytes]:
    conn = http.client.HTTPConnection("127.0.0.1", port, timeout=10)
    try:
        conn.request("GET", path)
        response = conn.getresponse()
        return response.status, response.read()
    finally:
        conn.close()


def wait_for(port: int, server: subprocess.Popen[bytes]) -> None:
    deadline = time.monotonic() + START_SECONDS
    while time.monotonic() < deadline:
        assert server.poll() is None, server.communicate()[1].decode()[-3000:]
        try:
            get(port, "/healthz")
            return
        except OSError:
            time.sleep(0.2)
    pytest.fail("the server did not answer in time")


@pytest.fixture
def running(built: BuiltArchive) -> Iterator[object]:
    started: list[subprocess.Popen[bytes]] = []

    def start(command: list[str], port: int) -> subprocess.Popen[bytes]:
        env = dict(os.environ, ARCHIVE_DATA_DIR=str(built.data_dir),
                   ARCHIVE_WEB_BIND=f"127.0.0.1:{port}", ARCHIVE_WEB_WORKERS="2",
                   ARCHIVE_WEB_THREADS="2")
        server = subprocess.Popen(command, cwd=ROOT, env=env, stdout=subprocess.PIPE,
                                  stderr=subprocess.PIPE, start_new_session=True)
        started.append(server)
        wait_for(port, server)
        return server

    yield start
    for server in started:
        if server.poll() is None:
            os.killpg(server.pid, signal.SIGTERM)
        try:
            server.communicate(timeout=30)
        except subprocess.TimeoutExpired:
            os.killpg(server.pid, signal.SIGKILL)
            server.communicate(timeout=10)


def test_gunicorn_serves_the_app_with_the_repository_config(running, built: BuiltArchive) -> None:  # type: ignore[no-untyped-def]
    port = free_port()
    server = running([sys.executable, "-m", "gunicorn", "-c", "gunicorn.conf.py", "wsgi:app"],
                     port)
    status, body = get(port, "/healthz")
    assert status == 200 and json.loads(body)["archive"]["articles"] == 13
    status, body = get(port, "/recherche?q=Sandaga")
    assert status == 200 and b"<mark>Sandaga</mark>" in body
    import psutil

    workers = psutil.Process(server.pid).children()
    assert len(workers) == 2


def test_serve_command_runs_the_development_server(running, built: BuiltArchive) -> None:  # type: ignore[no-untyped-def]
    port = free_port()
    running([sys.executable, "-m", "archive", "serve", "--port", str(port)], port)
    status, body = get(port, f"/article/{built.edited[0]}/diff")
    assert status == 200 and b"<ins>" in body


def test_gunicorn_passes_an_overlong_address_to_the_app_which_answers_414_in_french(
    running, built: BuiltArchive,  # type: ignore[no-untyped-def]
) -> None:
    port = free_port()
    running([sys.executable, "-m", "gunicorn", "-c", "gunicorn.conf.py", "wsgi:app"], port)
    status, body = get(port, "/recherche?q=" + "inondation+" * 600)
    text = body.decode("utf-8")
    assert status == 414
    assert "Adresse trop longue" in text and "URI Too Long" not in text
    assert 'role="search"' in text


def raw_exchange(port: int, request: bytes) -> tuple[int, dict[str, str], str]:
    """Send REQUEST as is; return the status, the headers and the body of the answer."""
    with socket.create_connection(("127.0.0.1", port), timeout=10) as conn:
        conn.sendall(request)
        received = b""
        while chunk := conn.recv(65536):
            received += chunk
    head, _, body = received.partition(b"\r\n\r\n")
    status_line, *lines = head.decode("latin-1").split("\r\n")
    headers = {name.lower(): value.strip()
               for name, _, value in (line.partition(":") for line in lines)}
    return int(status_line.split()[1]), headers, body.decode("utf-8")


def test_address_past_gunicorns_request_line_limit_gets_the_french_414_page(
    running, built: BuiltArchive,  # type: ignore[no-untyped-def]
) -> None:
    port = free_port()
    running([sys.executable, "-m", "gunicorn", "-c", "gunicorn.conf.py", "wsgi:app"], port)
    path = "/recherche?q=" + "inondation+" * 1000
    status, headers, text = raw_exchange(
        port, f"GET {path} HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n".encode())
    assert status == 414
    assert "Adresse trop longue" in text and "8 190 octets" in text
    assert "URI Too Long" not in text and "Request Line is too large" not in text
    assert 'role="search"' in text
    assert headers["content-type"] == "text/html; charset=utf-8"
    assert headers["cache-control"] == "no-store"
    assert headers["content-security-policy"].startswith("default-src 'self'")
    assert int(headers["content-length"]) == len(text.encode("utf-8"))


def test_too_many_headers_get_a_french_431_and_a_malformed_request_a_french_400(
    running, built: BuiltArchive,  # type: ignore[no-untyped-def]
) -> None:
    port = free_port()
    running([sys.executable, "-m", "gunicorn", "-c", "gunicorn.conf.py", "wsgi:app"], port)
    many = "".join(f"X-Champ-{n}: {n}\r\n" for n in range(150))
    status, _, text = raw_exchange(
        port, f"GET /recherche?q=eau HTTP/1.1\r\nHost: 127.0.0.1\r\n{many}\r\n".encode())
    assert status == 431
    assert "En-têtes trop volumineux" in text and "trop nombreux ou trop longs" in text
    status, _, text = raw_exchange(port, b"GET /recherche?q=eau HTTP/9.9\r\n\r\n")
    assert status == 400
    assert "La requête est mal formée" in text and "Bad Request" not in text
    status, body = get(port, "/recherche?q=Sandaga")
    assert status == 200 and b"<mark>Sandaga</mark>" in body
