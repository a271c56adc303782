"""Every edition found by itself: from one edition's own links, within the allowed hosts."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from archive.config import Settings, load_settings
from archive.crawler import Crawler, CrawlReport
from archive.crawler.editions import edition_matcher, editions_linked
from archive.errors import InvalidInput
from archive.replica import Corpus, ReplicaState, RunningReplica, serve_replica
from archive.store import Archive


@pytest.fixture
def platform() -> Iterator[RunningReplica]:
    """Three editions of the replica, each on its own loopback port, linking to one another."""
    corpus = Corpus(27, editions=("sn", "ci", "cm"))
    served = serve_replica(corpus, state=ReplicaState(corpus))
    yield served
    served.stop()


def _crawl(seed: str, settings: Settings) -> CrawlReport:
    with Archive.open(settings.database_path, warc_dir=settings.warc_dir) as archive:
        return Crawler(archive, [seed], settings, backoff=0.02).run()


def _archived_sites(settings: Settings) -> set[str]:
    with Archive.open(settings.database_path, readonly=True) as archive:
        return {(article.fetched_url or article.url).rsplit("/", 5)[0]
                for article in archive.reads.iter_addresses()}


def test_default_allow_list_is_the_platform_domain_and_never_loopback() -> None:
    is_edition = edition_matcher(load_settings(environ={}).edition_hosts)
    assert is_edition("https://ci.notrecontinent.com")
    assert is_edition("http://cm.notrecontinent.com")
    for site in ("https://notrecontinent.com.evil.example", "https://evil.example",
                 "http://127.0.0.1:8001", "https://ci.notrecontinent.com:8443",
                 "ftp://ci.notrecontinent.com"):
        assert not is_edition(site), site


def test_unusable_edition_pattern_is_refused_with_the_setting_named() -> None:
    with pytest.raises(InvalidInput, match="ARCHIVE_EDITION_HOSTS"):
        load_settings(environ={"ARCHIVE_EDITION_HOSTS": "https://x.example/"})


def test_editions_are_read_from_links_of_any_kind_once_each() -> None:
    page = (b'<a href="https://ci.notrecontinent.com/">CI</a>'
            b'<link rel="alternate" hreflang="fr-CM" href="https://cm.notrecontinent.com/">'
            b'<a href="https://ci.notrecontinent.com/2024/01/02/x/">again</a>'
            b'<a href="https://evil.example/">no</a>')
    is_edition = edition_matcher(("*.notrecontinent.com",))
    assert editions_linked(page, "https://sn.notrecontinent.com/", is_edition,
                           ["https://sn.notrecontinent.com"]) == [
        "https://ci.notrecontinent.com", "https://cm.notrecontinent.com"]


def test_crawl_of_one_edition_finds_and_crawls_every_other_edition(
        platform: RunningReplica, settings: Settings) -> None:
    settings = settings.with_changes(edition_hosts=("127.0.0.1:*",))
    report = _crawl(platform.urls["sn"], settings)
    others = sorted(platform.urls[code] for code in ("ci", "cm"))
    assert sorted(report.editions["new"]) == others
    assert report.editions["given"] == [platform.urls["sn"]]
    assert _archived_sites(settings) == set(platform.urls.values())
    assert report.counts["new"] == 27
    again = _crawl(platform.urls["sn"], settings)
    assert sorted(again.editions["found"]) == others and again.editions["new"] == []


def test_without_an_allowed_pattern_only_the_given_site_is_crawled(
        platform: RunningReplica, settings: Settings) -> None:
    report = _crawl(platform.urls["sn"], settings)
    assert report.editions["found"] == []
    assert _archived_sites(settings) == {platform.urls["sn"]}
    assert not platform.apps["ci"].hits("/") and not platform.apps["cm"].hits("/")


def test_an_edition_appearing_later_is_crawled_by_the_next_run_and_named(
        platform: RunningReplica, settings: Settings) -> None:
    settings = settings.with_changes(edition_hosts=("127.0.0.1:*",))
    for app in platform.apps.values():
        app.edition_urls.pop("cm")
    first = _crawl(platform.urls["sn"], settings)
    assert first.editions["new"] == [platform.urls["ci"]]
    assert not platform.apps["cm"].hits("/")
    for app in platform.apps.values():
        app.edition_urls["cm"] = platform.urls["cm"]
    second = _crawl(platform.urls["sn"], settings)
    assert second.editions["new"] == [platform.urls["cm"]]
    assert f"nouvelle édition trouvée : {platform.urls['cm']}" in second.notes
    assert _archived_sites(settings) == set(platform.urls.values())
