"""The web benchmark's wrk load generator sends the benchmark's searches and counts every answer.

Skips without Debian's wrk, fails so with ARCHIVE_REQUIRE_WRK=1 (CI)."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
import threading
from collections import Counter
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))  # bench/ is scripts, not an installed package

from bench.wrk_load import children_cpu, finish_round, start_round, write_script  # noqa: E402


@pytest.fixture(autouse=True)
def _wrk() -> None:
    if shutil.which("wrk") is None:
        message = "wrk is not installed (Debian package wrk)"
        if os.environ.get("ARCHIVE_REQUIRE_WRK") == "1":
            pytest.fail(message + "; ARCHIVE_REQUIRE_WRK=1 forbids skipping")
        pytest.skip(message)


class _Answers(BaseHTTPRequestHandler):
    """Answers as the archive does: /held a page already held, /drawn one drawn, /gone 404."""

    protocol_version = "HTTP/1.1"  # keep-alive, as gunicorn
    served: Counter[str] = Counter()
    lock = threading.Lock()

    def do_GET(self) -> None:  # noqa: N802 - the name http.server calls
        kind = self.path.split("?")[0].strip("/")
        with self.lock:
            self.served[kind] += 1
        self.send_response(404 if kind == "gone" else 200)
        self.send_header("X-Archive-Cache", "hit" if kind == "held" else "miss")
        self.send_header("Content-Length", "2")
        self.end_headers()
        self.wfile.write(b"ok")

    def log_message(self, format: str, *args: object) -> None:  # noqa: A002 - its signature
        """Log nothing (the test reads the counts)."""


@pytest.fixture
def answering() -> Iterator[int]:
    """The port of a server answering /held, /drawn and /gone on loopback."""
    _Answers.served = Counter()
    server = ThreadingHTTPServer(("127.0.0.1", 0), _Answers)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield server.server_address[1]
    server.shutdown()
    server.server_close()
    thread.join(timeout=10)


def test_wrk_counts_held_answers_and_errors_as_the_server_served_them(
        answering: int, tmp_path: Path) -> None:
    paths = ["/held?q=eau", "/drawn?q=riz", "/gone?q=mil", "/drawn?q=sel"]
    # Each client cycles over the pool in its own order: every kind is asked for often.
    script = write_script(tmp_path, paths, lambda seed: iter(
        paths[(seed + n) % len(paths)] for n in range(10**6)).__next__,
        clients=4, threads=2, seconds=2, host=f"127.0.0.1:{answering}")
    wrk = start_round(script, answering, clients=4, threads=2, seconds=2, timeout=10)
    found = finish_round(wrk, children_cpu(), grace=60)
    served = _Answers.served
    assert found.requests > 100
    # wrk stops with up to one request a connection unanswered or unread: the server may have
    # served up to that many more than wrk counted, never fewer.
    assert 0 <= sum(served.values()) - found.requests <= 4
    assert 0 <= served["held"] - found.held <= 4
    assert 0 <= served["gone"] - found.statuses[404] <= 4
    assert found.statuses[200] + found.statuses[404] == found.requests
    assert found.errors == found.statuses[404] > 0  # an answer but a 200 is an error
    assert found.socket_errors == {"connect": 0, "read": 0, "write": 0, "timeout": 0}
    assert found.p50_ms <= found.p95_ms <= found.p99_ms <= found.max_ms


def test_bench_web_with_wrk_serves_the_pool_and_counts_the_answers_held(
        tmp_path: Path) -> None:
    # A pool of 12 searches, all drawn in the warm-up: a worker draws each at most once, and
    # every other answer is one it already held.
    proc = subprocess.run(
        [sys.executable, str(ROOT / "bench" / "web.py"), "--articles", "200", "--clients", "4",
         "--seconds", "3", "--pool", "12", "--client", "wrk", "--json",
         "--reuse", str(tmp_path / "data")],
        cwd=ROOT, capture_output=True, text=True, timeout=600, check=False)
    assert proc.returncode == 0, proc.stderr
    report = json.loads(proc.stdout.splitlines()[-1])
    requests = report["requests"]
    assert report["client"] == "wrk" and requests > 50
    assert report["errors"] == 0 and report["statuses"] == {"200": requests}
    workers = report["workers"]
    assert round(report["cache_hit_rate"] * requests) >= requests - 12 * workers
    assert report["server_cpu_ms_per_request"] > 0 and report["client_cpu_ms_per_request"] > 0
    assert report["rps"] > 0 and 0 < report["p50_ms"] <= report["p95_ms"] <= report["p99_ms"]
