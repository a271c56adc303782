"""A crawl killed at either side of an article's commit resumes with exact counts.

``tests/test_crawl_resume.py`` kills a real crawl process at whatever instant it reaches; these
tests choose the instant: right after the transaction that archives an outcome commits, and
right after its journal line is written (which must come before that commit). ``_Killed``
stands for ``kill -9``: nothing below the crawl catches it.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest

from archive.config import Settings
from archive.crawler import crawl
from archive.crawler.crawl import Crawler
from archive.crawler.report import RunJournal
from archive.replica import Corpus, RunningReplica, serve_replica
from archive.store import Archive

SIZE = 12
KILLED_AT = 5


class _Killed(BaseException):
    """The process dies here."""


@pytest.fixture
def served() -> Iterator[RunningReplica]:
    running = serve_replica(Corpus(SIZE, editions=("sn",)))
    try:
        yield running
    finally:
        running.stop()


def _kill_on_call(monkeypatch: pytest.MonkeyPatch, owner: type, name: str) -> None:
    real = getattr(owner, name)
    calls = 0

    def wrapped(*args: Any, **kwargs: Any) -> Any:
        nonlocal calls
        result = real(*args, **kwargs)
        calls += 1
        if calls == KILLED_AT:
            raise _Killed
        return result

    monkeypatch.setattr(owner, name, wrapped)


@pytest.mark.parametrize("instant", ["after the outcome's commit",
                                     "after its journal line, before the commit"])
def test_killed_crawl_resumes_with_every_article_counted_once(
        served: RunningReplica, settings: Settings, instant: str) -> None:
    quick = settings
    with pytest.MonkeyPatch.context() as patch:
        if instant == "after the outcome's commit":
            _kill_on_call(patch, Crawler, "_archive_outcome")
        else:
            _kill_on_call(patch, RunJournal, "record")
        with pytest.raises(_Killed):
            crawl([served.url + "/"], quick)
    with Archive.open(quick.database_path, readonly=True) as archive:
        assert 0 < archive.reads.stats().articles < SIZE

    report = crawl([served.url + "/"], quick)
    assert report.resumed
    assert report.counts["new"] == SIZE
    with Archive.open(quick.database_path, readonly=True) as archive:
        assert archive.reads.stats().articles == SIZE
