"""Two web hosts on loopback (two gunicorns, each serving its own publish directory) behind the
load balancer of docs/operations.md in a private nginx: a new release is published while
clients hammer searches through nginx, with no failed request, and every host serves it.
Skips without nginx, fails so with ARCHIVE_REQUIRE_NGINX=1."""

from __future__ import annotations

import http.client
import json
import os
import threading
import time
from collections.abc import Iterator
from contextlib import ExitStack
from dataclasses import dataclass, field
from pathlib import Path
from urllib.parse import quote_plus

import pytest
from publishing import add_article, current_release, require_tool, run_publish
from web_archive import build_archive
from web_servers import (
    NGINX,
    documented_balancer_block,
    fetch,
    free_port,
    gunicorn,
    local_balancer_block,
    nginx,
)

PUBLIC_HOST = "archive.example.org"
QUERIES = ("aqueduc", "viaduc", "marché", "conseil municipal")
CLIENTS = 4
MAX_REQUESTS = 50_000
WAIT_SECONDS = 120.0


@dataclass
class Traffic:
    """What the clients saw through the load balancer."""

    started: threading.Event = field(default_factory=threading.Event)
    stop: threading.Event = field(default_factory=threading.Event)
    lock: threading.Condition = field(default_factory=threading.Condition)
    requests: int = 0
    errors: list[str] = field(default_factory=list)
    # (monotonic time the request started, release named, query, total)
    answers: list[tuple[float, str, str, int]] = field(default_factory=list)
    new_word_found: threading.Event = field(default_factory=threading.Event)

    def client(self, port: int, n: int) -> None:
        """Search through the balancer until told to stop (MAX_REQUESTS at most)."""
        conn = http.client.HTTPConnection("127.0.0.1", port, timeout=30)
        for i in range(MAX_REQUESTS):
            if self.stop.is_set():
                break
            query = QUERIES[(i + n) % len(QUERIES)]
            began = time.monotonic()
            try:
                conn.request("GET", f"/api/search?q={quote_plus(query)}",
                             headers={"Host": PUBLIC_HOST})
                response = conn.getresponse()
                body = response.read()
                release = response.getheader("X-Archive-Release") or ""
                if response.status != 200:
                    raise AssertionError(f"{response.status} {body[:200]!r}")
                total = int(json.loads(body)["total"])
            except Exception as exc:  # noqa: BLE001 - every failure is counted, none hidden
                with self.lock:
                    self.errors.append(f"{query}: {type(exc).__name__}: {exc}")
                conn.close()
                conn = http.client.HTTPConnection("127.0.0.1", port, timeout=30)
                continue
            with self.lock:
                self.requests += 1
                self.answers.append((began, release, query, total))
                if self.requests >= 40:
                    self.started.set()
                self.lock.notify_all()
            if query == "viaduc" and total == 1:
                self.new_word_found.set()
        conn.close()


@pytest.fixture
def hosts(tmp_path: Path) -> Iterator[tuple[Path, list[Path], list[int], int]]:
    """A data directory published to two web hosts, their gunicorns and the balancer."""
    if NGINX is None:
        message = "nginx is not installed (Debian package nginx)"
        if os.environ.get("ARCHIVE_REQUIRE_NGINX") == "1":
            pytest.fail(message + "; ARCHIVE_REQUIRE_NGINX=1 forbids skipping")
        pytest.skip(message)
    require_tool("rsync", "rsync")
    data = tmp_path / "data"
    build_archive(data, 30, edits=2)
    add_article(data, 100, "aqueduc")
    webs = [tmp_path / "web1", tmp_path / "web2"]
    done = run_publish(data, "--init", *map(str, webs))
    assert done.returncode == 0, done.stderr
    with ExitStack() as stack:
        ports = [stack.enter_context(gunicorn(
            tmp_path / "unused", tmp_path / "home", {
                "ARCHIVE_RELEASE_DIR": str(web), "ARCHIVE_WEB_WORKERS": "1",
                "ARCHIVE_WEB_THREADS": "4", "ARCHIVE_TRUSTED_PROXIES": "1",
                "ARCHIVE_SEARCHER_CHECK_SECONDS": "0.2"}))
            for web in webs]
        port = free_port()
        stack.enter_context(nginx(local_balancer_block(documented_balancer_block(), port, ports),
                                  tmp_path / "nginx"))
        yield data, webs, ports, port


def _serves(port: int, release: str, index_change_seq: int) -> bool:
    """Whether the web host on PORT answers from RELEASE with the index it holds."""
    status, body = fetch(port, "/healthz")
    if status != 200:
        return False
    health = json.loads(body)
    return bool(health.get("release") == release
                and health["index"]["change_seq"] == index_change_seq)


def test_a_release_published_under_load_reaches_every_host_with_no_failed_request(
        hosts: tuple[Path, list[Path], list[int], int]) -> None:
    data, webs, ports, port = hosts
    first = current_release(webs[0])
    traffic = Traffic()
    clients = [threading.Thread(target=traffic.client, args=(port, n), daemon=True)
               for n in range(CLIENTS)]
    for client in clients:
        client.start()
    try:
        assert traffic.started.wait(WAIT_SECONDS), traffic.errors[:5]
        add_article(data, 101, "viaduc")
        published_at = time.monotonic()
        done = run_publish(data, *map(str, webs))
        switched_at = time.monotonic()
        assert done.returncode == 0, done.stderr
        manifest = json.loads((webs[0] / "current" / "release.json").read_text("utf-8"))
        second = manifest["name"]
        assert second != first and current_release(webs[1]) == second
        deadline = time.monotonic() + WAIT_SECONDS
        waiting = set(ports)
        while waiting and time.monotonic() < deadline:  # each check is a request: no sleep
            waiting = {p for p in waiting if not _serves(p, second, manifest["index_change_seq"])}
        everywhere_at = time.monotonic()
        assert not waiting, f"hosts {waiting} never served {second}"
        assert traffic.new_word_found.wait(WAIT_SECONDS)
        with traffic.lock:  # more answers after every host switched
            after = traffic.requests
            assert traffic.lock.wait_for(lambda: traffic.requests >= after + 40, WAIT_SECONDS)
    finally:
        traffic.stop.set()
        for client in clients:
            client.join(timeout=60)
    assert traffic.errors == []
    releases = {release for _, release, _, _ in traffic.answers}
    assert releases == {first, second}
    late = [a for a in traffic.answers if a[0] > switched_at]
    assert late and all(release == second for _, release, _, _ in late)
    assert all(total == 1 for began, _, query, total in traffic.answers
               if query == "viaduc" and began > everywhere_at)
    print(f"\n{traffic.requests} searches, 0 errors; publish took "
          f"{switched_at - published_at:.2f} s, every host served {second} "
          f"{(everywhere_at - switched_at) * 1000:.0f} ms after the command returned")
