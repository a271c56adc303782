"""A writer killed with SIGKILL at any moment leaves a consistent archive: no half article."""

from __future__ import annotations

import re
import signal
import subprocess
import sys
import time
from pathlib import Path

from archive.store import Archive

WRITER = r"""
import sys
from datetime import UTC, datetime
from pathlib import Path
from archive.models import Article, Capture
from archive.store import Archive

archive = Archive.open(Path(sys.argv[1]))
start = archive.reads.stats().articles + 1
for i in range(start, start + 100_000):
    url = f"https://sn.notrecontinent.com/2024/01/01/article-{i}/"
    with archive.transaction():
        now = datetime.now(UTC)
        page = f"<article><h1>{i}</h1>{'<p>texte</p>' * 200}</article>".encode()
        capture_id = archive.captures.store_capture(Capture(url=url, status=200, headers=(),
                                                   body=page, fetched_at=now))
        archive.articles.save_article(Article(url=url, title=f"Article {i}",
                                              body=f"Texte {i} version 1",
                                     author=f"Auteur {i % 7}"), capture_id=capture_id, seen_at=now)
        edited = archive.reads.get_article(i // 2)
        if edited is not None:
            number = edited.version_count + 1
            archive.articles.save_article(Article(url=edited.url, title=edited.title,
                                         body=f"Texte {i // 2} version {number}",
                                         author=edited.author), capture_id=None, seen_at=now)
    if i == start + 20:
        print("writing", flush=True)
"""


def _write_then_kill(path: Path, delay: float) -> None:
    child = subprocess.Popen([sys.executable, "-c", WRITER, str(path)],
                             stdout=subprocess.PIPE, text=True)
    try:
        assert child.stdout is not None
        assert child.stdout.readline() == "writing\n"
        time.sleep(delay)
    finally:
        child.send_signal(signal.SIGKILL)
        child.wait(timeout=30)
        if child.stdout is not None:
            child.stdout.close()
    assert child.returncode == -signal.SIGKILL


def _assert_consistent(path: Path) -> int:
    with Archive.open(path) as archive:
        assert archive.integrity_check() == ["ok"]
        articles = list(archive.reads.iter_articles())
        assert archive.reads.stats().articles == len(articles), "an article row without its text"
        for article in articles:
            versions = archive.articles.versions(article.id)
            assert [v.number for v in versions] == list(range(1, article.version_count + 1))
            for version in versions:
                match = re.fullmatch(r"Texte (\d+) version (\d+)", version.body)
                assert match is not None
                assert f"/article-{match.group(1)}/" in article.url
                assert int(match.group(2)) == version.number
            assert article.body == versions[-1].body
            kinds = [event.kind for event in archive.articles.history(article.id)]
            assert kinds == ["archived"] + ["changed"] * (article.version_count - 1)
        for capture_id, capture in archive.captures.iter_captures():
            assert capture.body.startswith(b"<article><h1>")
            assert capture.body.endswith(b"</article>")
            saved = archive.reads.get_article_by_url(capture.url)
            assert saved is not None, f"capture {capture_id} kept without its article"
        return len(articles)


def test_writer_killed_mid_write_leaves_a_consistent_archive(tmp_path: Path) -> None:
    path = tmp_path / "archive.sqlite3"
    counts = []
    for delay in (0.3, 0.45):
        _write_then_kill(path, delay)
        counts.append(_assert_consistent(path))
    assert 20 < counts[0] < counts[1]
