"""Every fault mode of the replica is survived: reported, skipped, and nothing else lost."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from archive.config import Settings
from archive.crawler import Crawler, CrawlReport
from archive.replica import ALL_FAULT_POST_IDS, Corpus, Faults, RunningReplica, serve_replica
from archive.store import Archive

SIZE = 40
BROKEN_FOR_GOOD = {"error500", "truncated", "oversized"}


@pytest.fixture
def faulty() -> Iterator[RunningReplica]:
    """One edition of 40 articles with every fault mode switched on."""
    served = serve_replica(Corpus(SIZE, editions=("sn",)), faults=Faults.all(slow_seconds=0.3),
                           listing_page_size=10)
    yield served
    served.stop()


def _crawl(served: RunningReplica, settings: Settings) -> CrawlReport:
    with Archive.open(settings.database_path, warc_dir=settings.warc_dir) as archive:
        return Crawler(archive, [served.url], settings, backoff=0.02).run()


def _errors(report: CrawlReport) -> dict[str, list[str]]:
    kinds: dict[str, list[str]] = {}
    for error in report.errors:
        kinds.setdefault(error["kind"], []).append(error["url"])
    return kinds


def test_every_fault_is_reported_and_every_sound_article_archived(
    faulty: RunningReplica, settings: Settings
) -> None:
    report = _crawl(faulty, settings)
    state = faulty.state
    path_of = {name: state.article_by_post_id(post_id).path
               for name, post_id in ALL_FAULT_POST_IDS.items()}
    errors = _errors(report)
    assert [url.removeprefix(faulty.url) for url in errors["server_error"]] == [
        path_of["error500"]]
    assert [url.removeprefix(faulty.url) for url in errors["truncated"]] == [path_of["truncated"]]
    assert [url.removeprefix(faulty.url) for url in errors["oversized"]] == [path_of["oversized"]]
    assert [url.removeprefix(faulty.url) for url in errors["redirect_loop"]] == ["/boucle/a/"]
    assert len(errors["not_found"]) == 3  # sitemap entries that answer 404
    assert any(url.endswith(".xml") for url in errors["malformed_xml"])
    assert report.counts["new"] == SIZE - len(BROKEN_FOR_GOOD)
    with Archive.open(settings.database_path, readonly=True) as archive:
        for name in ("slow", "error500_transient", "rate_limit", "wrong_charset",
                     "lying_charset"):
            stored = archive.reads.get_article_by_url(faulty.url + path_of[name])
            assert stored is not None, name
            truth = state.article_by_post_id(ALL_FAULT_POST_IDS[name])
            assert (stored.title, stored.body) == (truth.title, truth.body), name
        for name in BROKEN_FOR_GOOD:
            assert archive.reads.get_article_by_url(faulty.url + path_of[name]) is None


def test_articles_that_failed_are_fetched_on_the_next_run(
    faulty: RunningReplica, settings: Settings
) -> None:
    _crawl(faulty, settings)
    faulty.apps["sn"].faults = Faults.none()
    second = _crawl(faulty, settings)
    assert second.counts["new"] == len(BROKEN_FOR_GOOD)
    with Archive.open(settings.database_path, readonly=True) as archive:
        assert archive.reads.stats().articles == SIZE
        assert all(article.version_count == 1 for article in archive.reads.iter_articles())


def test_a_long_retry_after_is_capped_and_noted(settings: Settings) -> None:
    served = serve_replica(Corpus(3, editions=("sn",)),
                           faults=Faults(rate_limit={"/feed/": 1}, retry_after=7200))
    try:
        with Archive.open(settings.database_path, warc_dir=settings.warc_dir) as archive:
            report = Crawler(archive, [served.url], settings, retry_after_cap=0.2).run()
    finally:
        served.stop()
    assert f"{served.url}/feed/ : Retry-After de 7200 s ramené à 0.2 s" in report.notes
    assert report.sites[0]["channels"]["feed"].startswith("used")
