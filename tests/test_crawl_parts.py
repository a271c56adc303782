"""The crawler's pieces on their own: URLs, robots.txt, turn-taking, listing formats, backoff."""

from __future__ import annotations

import gzip
import random
import threading
from datetime import UTC, datetime, timedelta
from email.utils import format_datetime

import pytest

from archive.crawler.fetcher import backoff_seconds, retry_after_seconds, user_agent
from archive.crawler.politeness import HostScheduler
from archive.crawler.robots import RobotsRules
from archive.crawler.sources import (
    NotAListing,
    feed_kind,
    modified_key,
    parse_feed,
    parse_rest_posts,
    parse_sitemap,
    total_pages,
)
from archive.crawler.urls import (
    is_archive_url,
    is_article_url,
    links_in,
    normalise,
    seed_site,
    site_of,
)
from archive.errors import InvalidInput

SITE = "http://127.0.0.1:8001"


# ---- URLs

def test_article_urls_get_one_spelling() -> None:
    spellings = [
        "HTTP://127.0.0.1:8001/2024/03/12/le-titre",
        "http://127.0.0.1:8001/2024/03/12/le-titre/?utm_source=x",
        "http://127.0.0.1:8001/2024/03/12/le-titre/#comments",
    ]
    assert {normalise(url) for url in spellings} == {f"{SITE}/2024/03/12/le-titre/"}


def test_default_port_is_dropped_from_the_site() -> None:
    assert site_of("https://SN.notrecontinent.com:443/x/") == "https://sn.notrecontinent.com"
    assert site_of("http://127.0.0.1:8001/x/") == SITE


def test_article_pattern_is_the_date_permalink() -> None:
    assert is_article_url(f"{SITE}/2024/03/12/le-titre/")
    assert not is_article_url(f"{SITE}/2024/03/")
    assert not is_article_url(f"{SITE}/author/awa-diop/")
    assert is_archive_url(f"{SITE}/2024/03/page/2/")
    assert is_archive_url(f"{SITE}/author/awa-diop/")
    assert not is_archive_url(f"{SITE}/category/sport/")


def test_seed_must_be_an_http_site() -> None:
    assert seed_site("http://127.0.0.1:8001/2024/03/12/x/") == SITE
    for bad in ("ftp://example.org/", "not a url", "http://", "http://host:99999/"):
        with pytest.raises(InvalidInput):
            seed_site(bad)


def test_links_stay_inside_the_crawled_sites() -> None:
    page = (
        b'<a href="/2024/03/12/un/">1</a><a href=\'2024/03/13/deux/\'>2</a>'
        b'<a href="https://ailleurs.example/2024/03/12/x/">out</a>'
        b'<a href="mailto:a@b.c">m</a><a href="/2024/03/12/un/#respond">again</a>'
        b'<a href="/?a=1&amp;b=2">q</a>'
    )
    links = links_in(page, f"{SITE}/", frozenset({SITE}))
    assert links == [f"{SITE}/2024/03/12/un/", f"{SITE}/2024/03/13/deux/", f"{SITE}/?a=1&b=2"]


# ---- robots.txt

def test_robots_rules_crawl_delay_and_sitemaps_are_read() -> None:
    rules = RobotsRules.from_text(
        SITE, "User-agent: *\nDisallow: /prive/\nCrawl-delay: 2.5\n"
              f"Sitemap: {SITE}/wp-sitemap.xml\n")
    assert not rules.allows(f"{SITE}/prive/publier/")
    assert rules.allows(f"{SITE}/2024/03/12/un/")
    assert rules.crawl_delay == 2.5
    assert rules.sitemaps == [f"{SITE}/wp-sitemap.xml"]


def test_missing_robots_allows_all_and_unreadable_robots_allows_nothing() -> None:
    assert RobotsRules.from_status(SITE, 404).allows(f"{SITE}/prive/")
    assert not RobotsRules.from_status(SITE, 503).allows(f"{SITE}/2024/03/12/un/")
    assert not RobotsRules.from_status(SITE, None).allows(f"{SITE}/")


# ---- turn-taking

class ManualClock:
    """Simulated time: waiting moves it on at once; blocked waits are visible as an event."""

    def __init__(self) -> None:
        self.time = 1000.0
        self.waited = 0.0
        self.blocked = threading.Event()

    def now(self) -> float:
        return self.time

    def wait(self, condition: threading.Condition, seconds: float) -> None:
        self.time += seconds
        self.waited += seconds
        self.blocked.set()
        # Release the lock for an instant so that the holder of the turn can give it back.
        condition.wait(timeout=0)

    def advance(self, seconds: float) -> None:
        self.time += seconds


def test_requests_to_one_host_are_spaced_by_the_delay_after_each_end() -> None:
    clock = ManualClock()
    scheduler = HostScheduler(0.05, clock=clock)
    spans: list[tuple[float, float]] = []
    for _ in range(4):
        with scheduler.turn("a"):
            start = clock.now()
            clock.advance(0.01)  # the request itself
            spans.append((start, clock.now()))
    gaps = [spans[i + 1][0] - spans[i][1] for i in range(3)]
    assert gaps == pytest.approx([0.05, 0.05, 0.05])


def test_a_host_serves_one_request_at_a_time() -> None:
    clock = ManualClock()
    scheduler = HostScheduler(0.0, clock=clock)
    inside, release = threading.Event(), threading.Event()
    order: list[str] = []

    def first() -> None:
        with scheduler.turn("a"):
            order.append("first in")
            inside.set()
            assert release.wait(timeout=10)
            order.append("first out")

    def second() -> None:
        with scheduler.turn("a"):
            order.append("second in")

    one = threading.Thread(target=first)
    one.start()
    assert inside.wait(timeout=10)
    two = threading.Thread(target=second)
    two.start()
    assert clock.blocked.wait(timeout=10), "the second request never waited for its turn"
    assert order == ["first in"]
    release.set()
    one.join(timeout=10)
    two.join(timeout=10)
    assert order == ["first in", "first out", "second in"]


def test_hosts_do_not_wait_for_each_other() -> None:
    clock = ManualClock()
    scheduler = HostScheduler(0.5, clock=clock)
    with scheduler.turn("a"):
        pass
    with scheduler.turn("b"):
        pass
    assert clock.waited == 0


def test_crawl_delay_only_lengthens_the_default_and_a_pause_holds_the_host() -> None:
    clock = ManualClock()
    scheduler = HostScheduler(0.2, clock=clock)
    assert scheduler.set_delay("a", 0.05) == 0.2
    assert scheduler.set_delay("a", 0.3) == 0.3
    scheduler.pause("b", 0.15)
    began = clock.now()
    with scheduler.turn("b"):
        assert clock.now() - began == pytest.approx(0.15, abs=0.011)


# ---- listing documents

def test_sitemap_index_and_urlset_are_read_with_lastmod() -> None:
    index = parse_sitemap(
        b'<?xml version="1.0"?><sitemapindex xmlns="http://www.sitemaps.org/schemas/sitemap/0.9">'
        b"<sitemap><loc>http://x/wp-sitemap-posts-post-1.xml</loc></sitemap></sitemapindex>")
    assert index.is_index and [e.url for e in index.entries] == [
        "http://x/wp-sitemap-posts-post-1.xml"]
    urlset = parse_sitemap(gzip.compress(
        b'<urlset xmlns="http://www.sitemaps.org/schemas/sitemap/0.9"><url>'
        b"<loc> http://x/2024/03/12/un/ </loc><lastmod>2024-03-12T10:00:00+01:00</lastmod>"
        b"</url></urlset>"))
    assert not urlset.is_index
    assert urlset.entries[0].url == "http://x/2024/03/12/un/"
    assert urlset.entries[0].modified == "2024-03-12T09:00:00+00:00"


def test_malformed_sitemap_keeps_what_came_before_the_damage() -> None:
    sitemap = parse_sitemap(
        b'<urlset xmlns="http://www.sitemaps.org/schemas/sitemap/0.9">'
        b"<url><loc>http://x/2024/03/12/un/</loc></url><url><loc>http://x/?a=1&b=2</loc>")
    assert sitemap.damaged and "XML mal formé" in sitemap.damaged
    assert "http://x/2024/03/12/un/" in [entry.url for entry in sitemap.entries]
    with pytest.raises(NotAListing):
        parse_sitemap(b"<html><body>Page introuvable</body></html>")


def test_feed_is_recognised_by_its_content() -> None:
    rss = (b'<?xml version="1.0" encoding="UTF-8"?>\n<rss version="2.0"><channel>'
           b"<item><link>http://x/2024/03/12/un/</link></item></channel></rss>")
    atom = (b'<feed xmlns="http://www.w3.org/2005/Atom"><entry>'
            b'<link rel="alternate" href="http://x/2024/03/13/deux/"/>'
            b"<updated>2024-03-13T08:00:00Z</updated></entry></feed>")
    assert feed_kind(rss) == "rss" and feed_kind(atom) == "atom"
    assert feed_kind(b"<!DOCTYPE html><html><body>rss</body></html>") is None
    assert [entry.url for entry in parse_feed(rss)[0]] == ["http://x/2024/03/12/un/"]
    entries, damage = parse_feed(atom)
    assert damage is None
    assert entries[0].modified == "2024-03-13T08:00:00+00:00"


def test_rest_page_gives_links_and_utc_modification_times() -> None:
    body = (b'[{"id": 3, "link": "http://x/2024/03/12/un/", "modified": "2024-03-12T11:00:00",'
            b' "modified_gmt": "2024-03-12T10:00:00"}, {"id": 4}]')
    posts = parse_rest_posts(body)
    assert [(p.url, p.modified) for p in posts] == [
        ("http://x/2024/03/12/un/", "2024-03-12T10:00:00+00:00")]
    with pytest.raises(NotAListing):
        parse_rest_posts(b'{"code": "rest_not_logged_in"}')
    assert total_pages("7") == 7 and total_pages(None) is None and total_pages("x") is None


def test_sitemap_and_rest_spellings_of_one_instant_give_one_hint() -> None:
    assert modified_key("2024-03-12T10:00:00Z") == modified_key("2024-03-12T11:00:00+01:00")
    assert modified_key("2024-03-12T10:00:00") == "2024-03-12T10:00:00+00:00"
    assert modified_key("hier") is None


# ---- retries

def test_retry_after_reads_seconds_and_http_dates() -> None:
    now = datetime(2025, 1, 1, 12, 0, tzinfo=UTC)
    assert retry_after_seconds("3") == 3.0
    later = format_datetime(now + timedelta(seconds=30), usegmt=True)
    assert retry_after_seconds(later, now=now) == 30.0
    assert retry_after_seconds("bientôt") is None


def test_backoff_doubles_with_bounded_jitter() -> None:
    rng = random.Random(1)
    waits = [backoff_seconds(attempt, 0.5, rng) for attempt in (1, 2, 3)]
    for attempt, wait in zip((1, 2, 3), waits, strict=True):
        step = 0.5 * 2 ** (attempt - 1)
        assert step <= wait <= 2 * step


def test_user_agent_names_the_product_and_a_contact() -> None:
    assert user_agent("https://example.org/c") == (
        "notrecontinent-archive/0.1 (+https://example.org/c)")
