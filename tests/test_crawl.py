"""The crawler against the replica served on loopback: discovery, politeness, increments."""

from __future__ import annotations

import json
from collections.abc import Callable, Iterator
from typing import Any

import pytest

from archive.config import Settings
from archive.crawler import Crawler, CrawlReport, crawl
from archive.crawler.fetcher import user_agent
from archive.replica import Corpus, ReplicaState, RunningReplica, serve_replica
from archive.replica.app import RequestRecord
from archive.store import Archive

ReplicaFactory = Callable[..., RunningReplica]


@pytest.fixture
def replica() -> Iterator[ReplicaFactory]:
    """Start replicas on loopback for one test; stop them all at its end."""
    running: list[RunningReplica] = []

    def start(size: int = 30, editions: tuple[str, ...] = ("sn",), published: int | None = None,
              **options: Any) -> RunningReplica:
        corpus = Corpus(size, editions=editions)
        served = serve_replica(corpus, state=ReplicaState(corpus, published), **options)
        running.append(served)
        return served

    yield start
    for served in running:
        served.stop()


def run(replica: RunningReplica, settings: Settings, **options: Any) -> CrawlReport:
    """Crawl every edition of REPLICA once, with short retry backoffs."""
    with Archive.open(settings.database_path, warc_dir=settings.warc_dir) as archive:
        crawler = Crawler(archive, list(replica.urls.values()), settings, backoff=0.02, **options)
        return crawler.run()


def article_requests(replica: RunningReplica) -> list[RequestRecord]:
    """Every request the replica answered for an article page."""
    return [record for app in replica.apps.values() for record in app.requests
            if record.path.count("/") == 5 and record.path[1:5].isdigit()]


def expected_urls(replica: RunningReplica) -> dict[str, int]:
    """Map the loopback URL of every listed article to its corpus index."""
    state = replica.state
    return {replica.urls[replica.corpus.edition_of(i)] + state.article(i).path: i
            for i in state.listed()}


def test_first_crawl_archives_every_article_of_every_edition(
    replica: ReplicaFactory, settings: Settings
) -> None:
    served = replica(30, editions=("sn", "ci", "cm"), listing_page_size=5)
    report = crawl(list(served.urls.values()), settings)
    expected = expected_urls(served)
    assert len(expected) == 30
    with Archive.open(settings.database_path, readonly=True) as archive:
        stored = list(archive.reads.iter_articles())
        assert sorted(a.fetched_url or "" for a in stored) == sorted(expected)
        for article in stored:
            truth = served.state.article(expected[article.fetched_url or ""])
            assert article.title == truth.title
            assert article.version_count == 1
    assert report.status == "complete"
    assert (report.counts["new"], report.counts["discovered"], report.counts["errors"]) == (
        30, 30, 0)
    assert report.summary().startswith("30 articles archivés de 3 sites : 30 nouveaux")
    written = json.loads(report.path.read_text(encoding="utf-8")) if report.path else {}
    assert written["counts"]["new"] == 30
    assert {site["channels"]["rest"].split(":")[0] for site in written["sites"]} == {"used"}


def test_every_request_carries_the_identifying_user_agent(
    replica: ReplicaFactory, settings: Settings
) -> None:
    served = replica(8)
    run(served, settings.with_changes(contact_url="https://example.org/nous-joindre"))
    agents = {record.user_agent for app in served.apps.values() for record in app.requests}
    assert agents == {user_agent("https://example.org/nous-joindre")}


def test_closed_rest_api_falls_back_and_still_finds_everything(
    replica: ReplicaFactory, settings: Settings
) -> None:
    served = replica(30, rest_api=False)
    report = run(served, settings)
    channels = report.sites[0]["channels"]
    assert channels["rest"].startswith("refused (HTTP 401): repli sur les sitemaps")
    assert report.counts["new"] == 30 and report.status == "complete"


def test_listing_pages_find_everything_when_rest_and_sitemaps_fail(
    replica: ReplicaFactory, settings: Settings
) -> None:
    from archive.replica import Faults

    served = replica(30, rest_api=False, listing_page_size=4,
                     faults=Faults(error500={"/wp-sitemap.xml": None}))
    report = run(served, settings)
    channels = report.sites[0]["channels"]
    assert channels["listing"].startswith("used: 8 pages")
    assert report.counts["new"] == 30
    assert report.status == "complete"
    assert any(error["kind"] == "server_error" and error["url"].endswith("/wp-sitemap.xml")
               for error in report.errors)


def test_feed_is_recognised_when_served_as_html(
    replica: ReplicaFactory, settings: Settings
) -> None:
    served = replica(12, rest_api=False, feed_content_type="text/html; charset=UTF-8")
    report = run(served, settings)
    assert report.sites[0]["channels"]["feed"].startswith("used: flux rss (text/html")


def test_robots_txt_is_obeyed(replica: ReplicaFactory, settings: Settings) -> None:
    served = replica(10)
    report = run(served, settings)
    assert report.counts["skipped_by_robots"] > 0  # the menus do link to /prive/
    assert served.apps["sn"].hits("/prive/") == []


def _gaps(records: list[RequestRecord]) -> list[float]:
    times = sorted(record.monotonic for record in records)
    return [later - earlier for earlier, later in zip(times, times[1:], strict=False)]


def test_requests_to_a_host_are_spaced_by_the_delay_or_a_larger_crawl_delay(
    replica: ReplicaFactory, settings: Settings
) -> None:
    plain = replica(4)
    strict = replica(4, crawl_delay=0.3)
    urls = [*plain.urls.values(), *strict.urls.values()]
    with Archive.open(settings.database_path, warc_dir=settings.warc_dir) as archive:
        Crawler(archive, urls, settings.with_changes(crawl_delay=0.15)).run()
    plain_gaps = _gaps(plain.apps["sn"].requests)
    strict_gaps = _gaps(strict.apps["sn"].requests)
    assert len(plain_gaps) > 10 and len(strict_gaps) > 10
    assert min(plain_gaps) >= 0.15
    assert min(plain_gaps) < 0.3  # the default delay applies where robots.txt sets none
    assert min(strict_gaps) >= 0.3


def test_second_run_fetches_only_new_and_changed_articles(
    replica: ReplicaFactory, settings: Settings
) -> None:
    served = replica(30, published=27)
    run(served, settings)
    added = served.state.add_articles(2)
    edited = served.state.edit(5)
    for app in served.apps.values():
        app.clear_requests()
    report = run(served, settings)
    rest_queries = [r.query for r in served.apps["sn"].hits("/wp-json/wp/v2/posts")]
    # The full listing, only the fields needed, is the truth (a delta cannot say what is gone).
    assert rest_queries and all("modified_after=" not in query and "_fields=" in query
                                for query in rest_queries)
    assert report.sites[0]["channels"]["rest"].startswith("used:")
    fetched = article_requests(served)
    full = {record.path for record in fetched if "if-none-match" not in record.headers}
    assert full == {article.path for article in added}
    assert {record.path for record in fetched} <= full | {edited.path}
    assert (report.counts["new"], report.counts["changed"], report.counts["unchanged"]) == (
        2, 1, 26)
    with Archive.open(settings.database_path, readonly=True) as archive:
        versions = archive.articles.versions(archive.reads.get_article_by_url(
            served.url + edited.path).id)  # type: ignore[union-attr]
        assert [v.number for v in versions] == [1, 2]
        assert versions[-1].body == edited.body
        assert archive.reads.stats().articles == 29


def test_unchanged_articles_cost_at_most_one_conditional_request_without_listing_dates(
    replica: ReplicaFactory, settings: Settings
) -> None:
    from archive.replica import Faults

    served = replica(12, rest_api=False, faults=Faults(error500={"/wp-sitemap.xml": None}))
    run(served, settings)
    for app in served.apps.values():
        app.clear_requests()
    report = run(served, settings)
    fetched = article_requests(served)
    assert len(fetched) == 12
    assert all("if-none-match" in record.headers and record.status == 304 for record in fetched)
    assert report.counts["not_modified"] == 12 and report.counts["unchanged"] == 12


def test_withdrawals_are_marked_with_their_date_and_reason(
    replica: ReplicaFactory, settings: Settings
) -> None:
    served = replica(20)
    settings = settings.with_changes(withdraw_after_runs=2)
    run(served, settings)
    gone = {mode: served.state.article_by_post_id(post_id)
            for post_id, mode in ((3, "404"), (4, "410"), (5, "unlisted"))}
    for post_id, mode in ((3, "404"), (4, "410"), (5, "unlisted")):
        served.state.withdraw(post_id, mode)

    def status(mode: str) -> tuple[str, str | None]:
        with Archive.open(settings.database_path, readonly=True) as archive:
            article = archive.reads.get_article_by_url(served.url + gone[mode].path)
            assert article is not None
            if article.withdrawn:
                assert article.withdrawn_at is not None
            return article.status, article.withdrawn_reason

    second = run(served, settings)
    assert status("404") == ("withdrawn", "HTTP 404")
    assert status("410") == ("withdrawn", "HTTP 410")
    assert status("unlisted")[0] == "published"
    assert second.counts["withdrawn"] == 2
    third = run(served, settings)
    assert status("unlisted")[0] == "withdrawn"
    assert third.counts["withdrawn"] == 1
    served.state.restore(3)
    run(served, settings)
    assert status("404") == ("published", None)


def test_max_articles_stops_early_and_the_next_run_fetches_the_rest(
    replica: ReplicaFactory, settings: Settings
) -> None:
    served = replica(12)
    first = run(served, settings, max_articles=5)
    assert (first.status, first.counts["new"]) == ("partial", 5)
    second = run(served, settings)
    assert (second.status, second.counts["new"], second.counts["fetched"]) == ("complete", 7, 7)


def test_a_site_whose_robots_txt_fails_is_not_crawled_at_all(
    replica: ReplicaFactory, settings: Settings
) -> None:
    from archive.replica import Faults

    served = replica(6, faults=Faults(error500={"/robots.txt": None}))
    report = run(served, settings)
    assert [r.path for r in served.apps["sn"].requests] == ["/robots.txt"] * 3
    assert report.status == "partial" and report.counts["new"] == 0
    assert report.errors[0]["kind"] == "robots_unavailable"


def test_one_dead_site_does_not_stop_the_others_nor_count_as_complete(
    replica: ReplicaFactory, settings: Settings
) -> None:
    import socket

    served = replica(6)
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        dead = f"http://127.0.0.1:{probe.getsockname()[1]}"
    with Archive.open(settings.database_path, warc_dir=settings.warc_dir) as archive:
        report = Crawler(archive, [served.url, dead], settings, backoff=0.02).run()
    assert report.counts["new"] == 6
    assert report.status == "partial"
    assert {"url": dead, "kind": "unreachable",
            "detail": "le site n'a pas répondu à la demande de robots.txt"} in report.errors
