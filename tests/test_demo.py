"""``python -m archive demo`` runs the whole product on loopback and stops cleanly on Ctrl-C."""

from __future__ import annotations

import json
import os
import signal
import socket
import subprocess
import sys
import time
import urllib.parse
import urllib.request
from pathlib import Path

import psutil
import pytest

from archive.replica import Corpus


def _a_title_word(articles: int) -> str:
    """Return the longest word of the first replica article's title: it is surely indexed."""
    title = Corpus(size=articles, stories=True).article(0).title
    return max(title.split(), key=len).strip(",.:;!?«»")


def _free_port(count: int = 1) -> int:
    """Return the first of COUNT consecutive ports free on 127.0.0.1."""
    for start in range(20000, 60000, 97):
        probes = []
        try:
            for port in range(start, start + count):
                probe = socket.socket()
                probes.append(probe)
                probe.bind(("127.0.0.1", port))
            return start
        except OSError:
            continue
        finally:
            for probe in probes:
                probe.close()
    raise RuntimeError("no free port range on 127.0.0.1")


def _get(url: str) -> tuple[int, bytes]:
    with urllib.request.urlopen(url, timeout=10) as response:
        return response.status, response.read()


def test_demo_crawls_indexes_and_reports_what_it_archived(run_cli, data_dir: Path) -> None:
    replica_port = _free_port(3)
    code, out, err = run_cli("demo", "--no-serve", "--articles", "18",
                             "--replica-port", str(replica_port), timeout=180)
    assert code == 0, err
    assert f"http://127.0.0.1:{replica_port}" in out
    assert "18 articles archivés de 3 sites : 18 nouveaux" in out
    assert "3 modifiés" in out and "2 retirés" in out, "edits and withdrawals between passes"
    assert "18 documents" in out
    code, out, err = run_cli("search", "--json", _a_title_word(18), timeout=60)
    assert code == 0, err
    assert json.loads(out)["total"] > 0


def test_the_demo_shows_readable_stories_with_versions_withdrawals_and_a_return(
    run_cli, data_dir: Path
) -> None:
    from archive.store import Archive

    code, _, err = run_cli("demo", "--no-serve", "--articles", "20",
                           "--replica-port", str(_free_port(3)), timeout=180)
    assert code == 0, err
    with Archive.open(data_dir / "archive.sqlite3", readonly=True) as archive:
        first = archive.reads.get_article_by_url(Corpus(20, stories=True).article(0).canonical_url)
        assert first is not None and first.title.startswith("Keur Massar")
        assert first.version_count == 2 and "212 familles" in first.body
        kinds = [c.kind for c in archive.reads.changes(("changed", "withdrawn", "republished"))]
        assert sorted(kinds) == ["changed"] * 3 + ["republished"] + ["withdrawn"] * 2
        assert archive.reads.stats().withdrawn == 1
    code, out, err = run_cli("demo", "--no-serve", "--articles", "20",
                             "--replica-port", str(_free_port(3)), timeout=180)
    assert code == 0, err
    assert "0 nouveau, 0 modifié" in out, "a second demo on the same data changes nothing"


@pytest.mark.slow
def test_demo_serves_the_front_end_until_interrupted(data_dir: Path) -> None:
    # One probe for all four ports: two probes would both find the same free ports.
    replica_port = _free_port(4)
    port = replica_port + 3
    env = dict(os.environ, ARCHIVE_DATA_DIR=str(data_dir))
    demo = subprocess.Popen(
        [sys.executable, "-m", "archive", "demo", "--articles", "12", "--port", str(port),
         "--replica-port", str(replica_port)],
        env=env, stdout=subprocess.PIPE, stderr=subprocess.DEVNULL, text=True,
    )
    children: list[psutil.Process] = []
    try:
        assert demo.stdout is not None
        deadline = time.monotonic() + 150
        line = ""
        while time.monotonic() < deadline and f"http://127.0.0.1:{port}/" not in line:
            line = demo.stdout.readline()
            assert line or demo.poll() is None, "the demo stopped before serving"
        assert f"http://127.0.0.1:{port}/" in line
        query = urllib.parse.quote(_a_title_word(12))
        status, page = _get(f"http://127.0.0.1:{port}/recherche?q={query}")
        assert status == 200 and "trouvé".encode() in page
        status, health = _get(f"http://127.0.0.1:{port}/healthz")
        assert status == 200 and json.loads(health)["archive"]["articles"] == 12
        children = psutil.Process(demo.pid).children(recursive=True)
        assert children, "gunicorn runs as a child of the demo"
        demo.send_signal(signal.SIGINT)
        assert demo.wait(timeout=30) == 0
        _, alive = psutil.wait_procs(children, timeout=15)
        assert not alive, "Ctrl-C leaves no gunicorn process behind"
    finally:
        if demo.poll() is None:
            demo.kill()
            demo.wait(timeout=10)
        for child in children:
            if child.is_running():
                child.kill()
        if demo.stdout is not None:
            demo.stdout.close()
