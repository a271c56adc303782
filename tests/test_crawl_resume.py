"""A crawl killed with ``kill -9`` is resumed by the next run: nothing lost, nothing doubled."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

from archive.replica import Corpus, serve_replica
from archive.store import Archive

SIZE = 40


def _crawl_process(url: str, data_dir: Path, *extra: str) -> subprocess.Popen[str]:
    env = dict(os.environ, ARCHIVE_DATA_DIR=str(data_dir))
    return subprocess.Popen(
        [sys.executable, "-m", "archive", "crawl", url, "--no-index", *extra],
        stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, env=env,
    )


def _article_gets(served: object) -> list[str]:
    requests = served.apps["sn"].requests  # type: ignore[attr-defined]
    return [r.path for r in requests if _is_article(r.path)]


def _is_article(path: str) -> bool:
    return path[1:5].isdigit() and path.count("/") == 5


@contextmanager
def _articles_held_after(served: object, count: int) -> Iterator[threading.Event]:
    """Hold every article request after the first COUNT until the block ends; yield the event
    set when the first one is held (the crawl is then mid-run, whatever the machine's load)."""
    app: Any = served.apps["sn"]  # type: ignore[attr-defined]
    answer = app._answer
    held, release = threading.Event(), threading.Event()

    def held_answer(method: str, path: str, *rest: Any) -> Any:
        if _is_article(path) and len(_article_gets(served)) >= count:
            held.set()
            release.wait(timeout=60)
        return answer(method, path, *rest)

    app._answer = held_answer
    try:
        yield held
    finally:
        release.set()
        del app._answer


def test_crawl_killed_mid_run_resumes_without_loss_or_duplicates(data_dir: Path) -> None:
    served = serve_replica(Corpus(SIZE, editions=("sn",)))
    try:
        with _articles_held_after(served, 12) as held:
            first = _crawl_process(served.url, data_dir, "--delay", "0.05")
            assert held.wait(timeout=60), "the crawl never reached its thirteenth article"
            first.send_signal(signal.SIGKILL)
            first.communicate(timeout=30)
        assert first.returncode == -signal.SIGKILL, "the crawl ended before it could be killed"
        with Archive.open(data_dir / "archive.sqlite3", readonly=True) as archive:
            before = archive.reads.stats().articles
        assert 0 < before < SIZE
        fetched_before = len(_article_gets(served))

        second = _crawl_process(served.url, data_dir, "--delay", "0")
        out, err = second.communicate(timeout=120)
        assert second.returncode == 0, err
        assert out.startswith(f"{SIZE} articles archivés de 1 site : {SIZE} nouveaux, 0 modifié")
        refetched = len(_article_gets(served)) - fetched_before
    finally:
        served.stop()

    with Archive.open(data_dir / "archive.sqlite3", readonly=True) as archive:
        articles = list(archive.reads.iter_articles())
        run = archive.crawl_state.last_run()
    assert len(articles) == SIZE
    assert len({article.url for article in articles}) == SIZE
    assert all(article.version_count == 1 for article in articles)
    assert run is not None and run.status == "complete" and run.id == 1
    # Only what was not done before the kill is fetched again (plus the one in flight).
    assert refetched <= SIZE - before + 1
    report = json.loads((data_dir / "reports" / "crawl-1.json").read_text(encoding="utf-8"))
    assert report["resumed"] is True
    assert report["counts"]["new"] == SIZE
