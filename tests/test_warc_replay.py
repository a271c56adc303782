"""Our WARC files are standard: the web-archive community's own tools read and replay them.

``cdxj-indexer`` indexes the demo's WARC files as they lie on disk, and pywb's ``wayback``
server, started on a free loopback port over a collection made of those files and that index,
replays an article's capture with its text. Both come from PyPI: cdxj-indexer with pyproject's
test extra, pywb (which pins werkzeug) in its own virtualenv ``.venv-pywb`` built from the
``replay`` extra by .ci/run. A missing tool skips here and fails in CI
(ARCHIVE_REQUIRE_WARC_TOOLS=1).
"""

from __future__ import annotations

import json
import os
import shutil
import socket
import subprocess
import sys
import time
import urllib.request
from collections.abc import Iterator
from pathlib import Path

import pytest
from demo_archive import DemoArchive, build_demo_archive

from archive.store import Archive

COLLECTION = "notrecontinent"
STARTUP_SECONDS = 60


REPO_ROOT = Path(__file__).resolve().parents[1]
PYWB_VENV = REPO_ROOT / ".venv-pywb"
"""pywb pins werkzeug, so it has its own virtualenv (.ci/run builds it)."""


def _tool(name: str) -> Path:
    for found in (Path(sys.executable).parent / name, PYWB_VENV / "bin" / name):
        if found.exists():
            return found
    located = shutil.which(name)
    if located:
        return Path(located)
    how = ("python3 -m venv .venv-pywb && .venv-pywb/bin/pip install -e '.[replay]'"
           if name == "wayback" else "pip install -e '.[test]'")
    message = f"{name} is missing ({how}, as .ci/run does)"
    if os.environ.get("ARCHIVE_REQUIRE_WARC_TOOLS") == "1":
        pytest.fail(message + "; ARCHIVE_REQUIRE_WARC_TOOLS=1 forbids skipping")
    pytest.skip(message)


@pytest.fixture(scope="module")
def demo(tmp_path_factory: pytest.TempPathFactory) -> DemoArchive:
    _tool("cdxj-indexer")
    _tool("wayback")
    return build_demo_archive(tmp_path_factory.mktemp("replay-data"), articles=8)


@pytest.fixture(scope="module")
def collection(demo: DemoArchive, tmp_path_factory: pytest.TempPathFactory) -> Path:
    root = tmp_path_factory.mktemp("pywb")
    archive_dir = root / "collections" / COLLECTION / "archive"
    index_dir = root / "collections" / COLLECTION / "indexes"
    archive_dir.mkdir(parents=True)
    index_dir.mkdir()
    warcs = sorted((demo.data_dir / "warc").glob("*.warc.gz"))
    assert warcs, "the demo wrote WARC files"
    for warc in warcs:
        shutil.copy(warc, archive_dir / warc.name)
    subprocess.run(
        [str(_tool("cdxj-indexer")), "--sort", "--output", str(index_dir / "index.cdxj"),
         *(str(archive_dir / w.name) for w in warcs)],
        check=True, capture_output=True, timeout=120,
    )
    return root


def _cdxj_lines(collection: Path) -> list[tuple[str, str, dict[str, str]]]:
    lines = (collection / "collections" / COLLECTION / "indexes" / "index.cdxj").read_text()
    found = []
    for line in lines.splitlines():
        key, stamp, fields = line.split(" ", 2)
        found.append((key, stamp, json.loads(fields)))
    return found


def test_cdxj_indexer_reads_every_capture_with_its_digest(
    demo: DemoArchive, collection: Path
) -> None:
    entries = _cdxj_lines(collection)
    with Archive.open(demo.data_dir / "archive.sqlite3", readonly=True) as archive:
        captures = archive.reads.stats().captures
        article = archive.reads.get_article(demo.article_id(1))
        assert article is not None
        version = archive.articles.versions(article.id)[0]
        assert version.capture_id is not None
        record = archive.captures.capture_record(version.capture_id)
    assert record is not None
    assert len([e for e in entries if e[2].get("mime") != "warc/warcinfo"]) >= captures
    digests = {e[2].get("digest") for e in entries}
    assert record.payload_digest in digests
    located = [e[2] for e in entries if e[2].get("offset") == str(record.warc_offset)
               and e[2].get("filename") == record.warc_file]
    assert located and located[0]["length"] == str(record.warc_length)


def _ephemeral_port() -> int:
    """Return a port the system just handed out on 127.0.0.1 (less likely to be taken than
    one picked by a scan other test runs on this machine may make too)."""
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


def _answers(url: str) -> bool:
    """Tell whether URL (the collection's page, which only pywb serves) answers 200."""
    try:
        with urllib.request.urlopen(url, timeout=10) as response:
            return bool(response.status == 200)
    except OSError:
        return False


@pytest.fixture(scope="module")
def wayback(collection: Path) -> Iterator[str]:
    port = _ephemeral_port()
    base = f"http://127.0.0.1:{port}"
    server = subprocess.Popen(
        [str(_tool("wayback")), "--bind", "127.0.0.1", "--port", str(port),
         "--directory", str(collection)],
        cwd=collection, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE,
    )
    try:
        deadline = time.monotonic() + STARTUP_SECONDS
        while not _answers(f"{base}/{COLLECTION}/"):
            if server.poll() is not None:
                stderr = server.stderr.read().decode(errors="replace") if server.stderr else ""
                pytest.fail(f"pywb's wayback stopped at start-up: {stderr[-800:]}")
            assert time.monotonic() < deadline, "pywb's wayback did not start answering"
            time.sleep(0.2)
        yield base
    finally:
        server.terminate()
        try:
            server.wait(timeout=15)
        except subprocess.TimeoutExpired:
            server.kill()
            server.wait(timeout=15)
        if server.stderr is not None:
            server.stderr.close()


def test_pywb_replays_an_archived_article_with_its_text(
    demo: DemoArchive, collection: Path, wayback: str
) -> None:
    with Archive.open(demo.data_dir / "archive.sqlite3", readonly=True) as archive:
        article = archive.reads.get_article(demo.article_id(1))
        assert article is not None
        version = archive.articles.versions(article.id)[0]
        assert version.capture_id is not None
        record = archive.captures.capture_record(version.capture_id)
    assert record is not None
    stamp = record.fetched_at.strftime("%Y%m%d%H%M%S")
    url = f"{wayback}/{COLLECTION}/{stamp}id_/{record.final_url or record.url}"
    with urllib.request.urlopen(url, timeout=60) as response:
        assert response.status == 200
        replayed = response.read().decode("utf-8")
    assert "140 familles" in replayed, "the first version's text, as captured"
    assert version.title.replace("'", "&#39;") in replayed or version.title in replayed
