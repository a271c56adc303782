"""Crawl state in the archive: runs, the resumable frontier and per-URL fetch state."""

from __future__ import annotations

import sqlite3
import threading
from collections.abc import Iterator
from datetime import UTC, date, datetime
from pathlib import Path

import pytest

from archive.errors import StoreError
from archive.models import Article
from archive.store import COMPLETE, Archive, FrontierItem

SITE = "https://sn.notrecontinent.com"
WHEN = datetime(2024, 3, 1, 8, 0, tzinfo=UTC)


@pytest.fixture
def archive(tmp_path: Path) -> Iterator[Archive]:
    with Archive.open(tmp_path / "archive.sqlite3") as opened:
        yield opened


def test_frontier_ignores_duplicates_and_resumes_where_it_stopped(archive: Archive) -> None:
    run_id = archive.crawl_state.start_run([SITE])
    assert archive.crawl_state.enqueue(run_id, [(f"{SITE}/a/", "article", None),
                                    (f"{SITE}/b/", "article", "2024-03-01"),
                                    (f"{SITE}/a/", "article", None)]) == 2
    assert archive.crawl_state.enqueue(run_id, [(f"{SITE}/b/", "article", None),
                                    (f"{SITE}/c/", "listing", None)]) == 1
    archive.crawl_state.mark_done(run_id, f"{SITE}/a/", "saved")
    assert archive.crawl_state.enqueue(run_id, [(f"{SITE}/a/", "article", None)]) == 0
    assert archive.crawl_state.pending(run_id) == [FrontierItem(f"{SITE}/b/", "article",
                                                                "2024-03-01"),
                                       FrontierItem(f"{SITE}/c/", "listing", None)]
    assert archive.crawl_state.pending(run_id, limit=1) == [FrontierItem(f"{SITE}/b/", "article",
                                                             "2024-03-01")]
    other = archive.crawl_state.start_run([SITE])
    assert archive.crawl_state.pending(other) == []


def test_killed_run_is_found_unfinished_with_its_queue(tmp_path: Path) -> None:
    path = tmp_path / "archive.sqlite3"
    with Archive.open(path) as archive:
        done = archive.crawl_state.start_run([SITE])
        archive.crawl_state.finish_run(done, status=COMPLETE, counts={"new": 3}, errors=[])
        killed = archive.crawl_state.start_run([SITE])
        archive.crawl_state.enqueue(killed, [(f"{SITE}/x/", "article", None)])
    with Archive.open(path) as archive:
        assert archive.crawl_state.unfinished_run() == killed
        assert archive.crawl_state.pending(killed) == [FrontierItem(f"{SITE}/x/", "article", None)]
        archive.crawl_state.finish_run(killed, status="interrupted", counts={}, errors=[])
        assert archive.crawl_state.unfinished_run() is None
        assert archive.crawl_state.pending(killed) == []


def test_finished_run_keeps_counts_errors_and_duration(archive: Archive) -> None:
    assert archive.crawl_state.last_run() is None
    run_id = archive.crawl_state.start_run([SITE, "https://ci.notrecontinent.com"])
    archive.crawl_state.finish_run(run_id, status=COMPLETE, counts={"new": 2, "errors": 1},
                       errors=[{"url": f"{SITE}/x/", "error": "HTTP 500"}])
    run = archive.crawl_state.last_run()
    assert run is not None and run.id == run_id
    assert (run.status, run.counts, run.seeds) == (
        COMPLETE, {"new": 2, "errors": 1}, [SITE, "https://ci.notrecontinent.com"])
    assert run.errors == [{"url": f"{SITE}/x/", "error": "HTTP 500"}]
    assert run.finished_at is not None and run.duration_seconds is not None
    assert run.duration_seconds >= 0
    assert archive.reads.stats().last_run == run


def test_fetch_state_keeps_validators_and_links_the_article(archive: Archive) -> None:
    url = f"{SITE}/2024/02/01/eau/"
    assert archive.crawl_state.fetch_state(url) is None
    archive.crawl_state.record_fetch(url, status=200, etag='"v1"', last_modified="Thu, 01 Feb 2024",
                         hint="2024-02-01", fetched_at=WHEN)
    archive.articles.save_article(Article(url=url, title="T", body="B", published=date(2024, 2, 1)),
                         capture_id=None, seen_at=WHEN)
    archive.crawl_state.record_fetch(url, status=304, fetched_at=WHEN.replace(hour=9))
    state = archive.crawl_state.fetch_state(url)
    assert state is not None
    assert (state.status, state.etag, state.last_modified, state.hint, state.fetched_at) == (
        304, '"v1"', "Thu, 01 Feb 2024", "2024-02-01", WHEN.replace(hour=9))
    assert state.article_id == 1
    archive.crawl_state.record_fetch(url, status=None, error="timeout",
                                     fetched_at=WHEN.replace(hour=10))
    state = archive.crawl_state.fetch_state(url)
    assert state is not None and (state.status, state.error) == (None, "timeout")


def test_archive_refuses_other_threads_but_closes_from_any(tmp_path: Path) -> None:
    archive = Archive.open(tmp_path / "archive.sqlite3")
    outcome: list[BaseException | None] = []

    def use() -> None:
        try:
            archive.reads.stats()
            outcome.append(None)
        except StoreError as exc:
            outcome.append(exc)

    worker = threading.Thread(target=use)
    worker.start()
    worker.join(timeout=10)
    assert isinstance(outcome[0], StoreError) and "ouvrez une Archive par fil" in str(outcome[0])
    closer = threading.Thread(target=archive.close)
    closer.start()
    closer.join(timeout=10)
    with pytest.raises(sqlite3.ProgrammingError):
        archive._db.conn.execute("SELECT 1")
