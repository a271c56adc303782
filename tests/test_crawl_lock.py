"""Two crawls of one archive at once: the second refuses, with the documented code and message.

(Finding: two crawls started without ``flock`` joined the same run and fetched everything
twice.) The first crawl is held inside its run by a site that answers robots.txt only when
the test says so; the second starts while the first holds the lock.
"""

from __future__ import annotations

import os
import subprocess
import sys
import threading
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest
from werkzeug.serving import make_server

from archive.crawler.runlock import CrawlLock
from archive.errors import CrawlLocked
from archive.store import Archive

RunCli = Callable[..., tuple[int, str, str]]


class GatedSite:
    """A site whose robots.txt answers only once ``release`` is set (``asked`` tells when)."""

    def __init__(self) -> None:
        self.asked = threading.Event()
        self.release = threading.Event()

    def __call__(self, environ: dict[str, Any], start_response: Callable[..., Any]) -> list[bytes]:
        if environ["PATH_INFO"] == "/robots.txt":
            self.asked.set()
            self.release.wait(60)
            start_response("200 OK", [("Content-Type", "text/plain")])
            return [b"User-agent: *\nAllow: /\n"]
        start_response("200 OK", [("Content-Type", "text/html; charset=utf-8")])
        return [b"<html><body><p>Accueil</p></body></html>"]


@pytest.fixture
def gated_site() -> Iterator[tuple[str, GatedSite]]:
    site = GatedSite()
    server = make_server("127.0.0.1", 0, site, threaded=True)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.socket.getsockname()[1]}/", site
    finally:
        site.release.set()
        server.shutdown()
        thread.join(10)
        server.server_close()


def test_second_crawl_started_during_the_first_exits_8_and_does_nothing(
    run_cli: RunCli, data_dir: Path, gated_site: tuple[str, GatedSite]
) -> None:
    url, site = gated_site
    env = {**os.environ, "ARCHIVE_DATA_DIR": str(data_dir)}
    first = subprocess.Popen([sys.executable, "-m", "archive", "crawl", url, "--delay", "0",
                              "--no-index"], env=env, stdout=subprocess.PIPE,
                             stderr=subprocess.PIPE, text=True)
    try:
        assert site.asked.wait(60), "the first crawl never asked for robots.txt"
        code, out, err = run_cli("crawl", url, "--delay", "0", "--no-index")
        assert code == 8, err
        assert out == ""
        assert err.startswith("erreur : une autre collecte de cette archive est en cours (pid "
                              f"{first.pid}, since ")
        assert err.count("\n") == 1
    finally:
        site.release.set()
        _, first_err = first.communicate(timeout=120)
    assert first.returncode == 0, first_err
    with Archive.open(data_dir / "archive.sqlite3", readonly=True) as archive:
        last = archive.crawl_state.last_run()
        assert last is not None and last.id == 1, "the second crawl must not start a run"


def test_crawl_lock_is_released_when_its_block_ends(tmp_path: Path) -> None:
    with CrawlLock(tmp_path):
        with pytest.raises(CrawlLocked, match="une autre collecte de cette archive est en cours"):
            CrawlLock(tmp_path).acquire()
    with CrawlLock(tmp_path):
        pass
