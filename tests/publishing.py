"""Helpers of the publish tests: an indexing host's data directory that gains articles (each
with a real WARC capture), and the state of a web host's publish directory."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from datetime import UTC, date, datetime, timedelta
from pathlib import Path

import pytest

from archive.models import Article, Capture
from archive.store import Archive
from indexer.update import update_index

ROOT = Path(__file__).resolve().parents[1]
CAPTURED = datetime(2025, 7, 1, 8, 0, tzinfo=UTC)


def require_tool(program: str, package: str) -> None:
    """Skip the test when PROGRAM is missing, or fail with ARCHIVE_REQUIRE_PUBLISH_TOOLS=1 (CI)."""
    if shutil.which(program) is None:
        message = f"{program} is not installed (Debian package {package})"
        if os.environ.get("ARCHIVE_REQUIRE_PUBLISH_TOOLS") == "1":
            pytest.fail(message + "; ARCHIVE_REQUIRE_PUBLISH_TOOLS=1 forbids skipping")
        pytest.skip(message)


def add_article(data_dir: Path, n: int, word: str) -> int:
    """Capture and save article N whose title and body carry WORD, then update the index."""
    url = f"https://sn.notrecontinent.com/2025/07/{1 + n % 28:02d}/nouvelle-{n}/"
    body = (f"Le conseil municipal a parlé du {word} pendant la séance.\n\n"
            f"Les habitants attendent une décision sur le {word} avant la fin du mois.")
    title = f"Le {word} au conseil municipal ({n})"
    page = f"<html><body><h1>{title}</h1><p>{body}</p></body></html>".encode()
    with Archive.open(data_dir / "archive.sqlite3", warc_dir=data_dir / "warc") as archive:
        capture = archive.captures.store_capture(Capture(
            url=url, status=200, headers=(("Content-Type", "text/html; charset=utf-8"),),
            body=page, fetched_at=CAPTURED + timedelta(minutes=n)))
        saved = archive.articles.save_article(
            Article(url=url, title=title, body=body, author="Awa Ndiaye",
                    published=date(2025, 7, 1 + n % 28), edition="sn", canonical_url=url),
            capture_id=capture, seen_at=CAPTURED + timedelta(minutes=n))
    update_index(data_dir / "archive.sqlite3", data_dir / "index")
    return saved.article_id


def run_publish(data_dir: Path, *args: str,
                env: dict[str, str] | None = None) -> subprocess.CompletedProcess[str]:
    """Run ``python -m archive --data-dir DATA_DIR publish ARGS``."""
    return subprocess.run(
        [sys.executable, "-m", "archive", "--data-dir", str(data_dir), "publish", *args],
        cwd=ROOT, capture_output=True, text=True, timeout=300,
        env=env if env is not None else dict(os.environ))


def tree(root: Path) -> dict[str, tuple[int, int, int]]:
    """Return every entry under ROOT with its size, modification time and inode."""
    entries = {}
    for directory, dirs, names in os.walk(root):
        for name in [*dirs, *names]:
            path = Path(directory) / name
            status = path.lstat()
            entries[str(path.relative_to(root))] = (status.st_size, status.st_mtime_ns,
                                                    status.st_ino)
    return entries


def current_release(dest: Path) -> str:
    """Return the name of the release DEST serves."""
    return Path(os.readlink(dest / "current")).name
