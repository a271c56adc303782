"""The crawler against a real WordPress: every public post archived exactly, nothing else, and
incremental runs that cost what changed (requests counted in the server's own access log)."""

from __future__ import annotations

import math
from dataclasses import replace
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from wordpress_corpus import SeedPost, new_post
from wordpress_site import THEMES, WordPressSite

from archive.config import Settings
from archive.crawler import Crawler, CrawlReport
from archive.store import Archive, StoredArticle

# Without REST, only the page says whether a post is protected and what its categories are;
# neither theme prints a modified date, so the archive records none rather than a guess.
MODES = (("on", "on"), ("refused", "on"), ("refused", "off"))


def crawl(site: WordPressSite, settings: Settings, **options: Any) -> CrawlReport:
    """Crawl the WordPress once into the archive of SETTINGS."""
    with Archive.open(settings.database_path, warc_dir=settings.warc_dir) as archive:
        return Crawler(archive, [site.base_url], settings, backoff=0.02, **options).run()


def archived(settings: Settings) -> dict[str, StoredArticle]:
    """Every article of the archive, by URL."""
    with Archive.open(settings.database_path, readonly=True) as archive:
        return {article.url: article for article in archive.reads.iter_articles()}


def _modified(site: WordPressSite, post: SeedPost) -> datetime:
    text = str(site.state[post.slug]["modified_gmt"])
    return datetime.fromisoformat(text).replace(tzinfo=UTC)


@pytest.mark.parametrize("theme", THEMES)
@pytest.mark.parametrize(("rest", "sitemaps"), MODES)
def test_every_published_post_is_archived_exactly_and_nothing_else(
        wordpress: WordPressSite, settings: Settings, theme: str, rest: str,
        sitemaps: str) -> None:
    wordpress.configure(theme=theme, rest=rest, sitemaps=sitemaps)
    mark = len(wordpress.requests())
    report = crawl(wordpress, settings)
    asked = [line.split(" ", 1)[1] for line in wordpress.requests()[mark:]]
    attachments = {str(entry["link"]).removeprefix(wordpress.base_url)
                   for entry in wordpress.state.values() if entry["type"] == "attachment"}
    assert not [path for path in asked if "replytocom" in path or path in attachments]
    articles = archived(settings)
    posts = {wordpress.base_url + post.path: post for post in wordpress.corpus.posts}
    assert sorted(articles) == sorted(posts)
    for url, post in posts.items():
        article = articles[url]
        assert article.title == post.title, url
        assert article.author == post.author, url
        assert article.published == post.published, url
        assert article.body == post.body, url
        assert sorted(article.categories) == sorted(post.categories), url
        expected = _modified(wordpress, post) if rest == "on" else None
        assert article.modified == expected, url
    assert report.counts["errors"] == 0, report.errors
    if rest == "on":
        assert report.counts["withheld"] == 1  # the password-protected post, listed by REST
        assert report.disagreements == [] or all(
            d["field"] != "title" for d in report.disagreements)


def test_rest_run_with_nothing_changed_requests_no_article_and_one_per_change(
        wordpress: WordPressSite, settings: Settings) -> None:
    wordpress.configure(theme="twentytwentyone", rest="on", sitemaps="on")
    wordpress.reseed()
    try:
        first = crawl(wordpress, settings)
        assert first.counts["new"] == len(wordpress.corpus.posts)

        mark = len(wordpress.requests())
        second = crawl(wordpress, settings)
        assert wordpress.article_requests(mark) == []
        assert second.counts["unchanged"] == len(wordpress.corpus.posts)

        edited = wordpress.corpus.posts[4]
        new_body = (*edited.paragraphs[:-1], "Un paragraphe ajouté après la publication.")
        changed = SeedPost(**{**edited.__dict__, "paragraphs": new_body})
        wordpress.edit(edited.slug, "2026-01-02 03:04:05", content=changed.content())
        mark = len(wordpress.requests())
        third = crawl(wordpress, settings)
        assert wordpress.article_requests(mark) == [edited.path]
        assert third.counts["changed"] == 1
        with Archive.open(settings.database_path, readonly=True) as archive:
            article = archive.reads.get_article_by_url(wordpress.base_url + edited.path)
            assert article is not None
            assert [v.number for v in archive.articles.versions(article.id)] == [1, 2]
            assert article.body == changed.body
            assert article.modified == datetime(2026, 1, 2, 3, 4, 5, tzinfo=UTC)

        trashed, added = wordpress.corpus.posts[6], new_post(1)
        wordpress.trash(trashed.slug)
        wordpress.publish(added)
        mark = len(wordpress.requests())
        fourth = crawl(wordpress, settings)
        assert sorted(wordpress.article_requests(mark)) == sorted([trashed.path, added.path])
        assert (fourth.counts["new"], fourth.counts["withdrawn"]) == (1, 1)
        articles = archived(settings)
        gone = articles[wordpress.base_url + trashed.path]
        assert gone.withdrawn and gone.body == trashed.body
        fresh = articles[wordpress.base_url + added.path]
        assert (fresh.title, fresh.author, fresh.body) == (added.title, added.author, added.body)
    finally:
        wordpress.reseed()


def test_without_any_change_signal_a_run_requests_at_most_the_budget_plus_new_articles(
        wordpress: WordPressSite, settings: Settings) -> None:
    wordpress.configure(theme="twentytwentythree", rest="refused", sitemaps="off")
    wordpress.reseed()
    settings = settings.with_changes(revisit_budget=5)
    try:
        crawl(wordpress, settings)
        with Archive.open(settings.database_path, readonly=True) as archive:
            checked = archive.crawl_state.unsignalled_articles()
        assert len(checked) >= len(wordpress.corpus.posts)  # WordPress sends no validators
        last_check = max(at for at, _ in checked.values())

        mark = len(wordpress.requests())
        soon = crawl(wordpress, settings, clock=lambda: last_check + timedelta(hours=1))
        assert wordpress.article_requests(mark) == []
        assert soon.revisits["due"] == 0

        # Dated by the test's own clock, not the calendar: ten days before the first run, so
        # weekly at its age a month later (ARCHIVE_REVISIT_SCHEDULE), whatever today is.
        moment = (last_check - timedelta(days=10)).replace(microsecond=0)
        added = replace(new_post(2), date_gmt=moment, published=moment.date())
        wordpress.publish(added)
        month_later = last_check + timedelta(days=31)
        mark = len(wordpress.requests())
        report = crawl(wordpress, settings, clock=lambda: month_later)
        requested = wordpress.article_requests(mark)
        assert added.path in requested
        assert len(requested) == 5 + 1
        assert report.counts["new"] == 1
        waiting = len(checked) - 5
        assert report.revisits == {
            "articles_without_change_signal": len(checked), "due": len(checked),
            "revisited": 5, "budget": 5, "waiting": waiting,
            "oldest_waiting_due_since": report.revisits["oldest_waiting_due_since"],
            "all_due_reached_in_runs": math.ceil(waiting / 5),
            "next_due_at": None,
        }
        assert report.revisits["oldest_waiting_due_since"] is not None

        mark = len(wordpress.requests())
        crawl(wordpress, settings, clock=lambda: month_later + timedelta(minutes=30))
        following = wordpress.article_requests(mark)
        # The new article (weekly at its age, checked a month before this clock) is due too;
        # the other revisits are ones the previous run did not make.
        assert len(following) == 5 and added.path in following
        assert not set(following) & (set(requested) - {added.path})
    finally:
        wordpress.reseed()


def test_reparse_keeps_what_rest_said_of_each_post(
        wordpress: WordPressSite, settings: Settings) -> None:
    from archive.commands.reparse import reparse_archive

    wordpress.configure(theme="twentytwentythree", rest="on", sitemaps="on")
    crawl(wordpress, settings)
    before = archived(settings)
    with Archive.open(settings.database_path, warc_dir=settings.warc_dir) as archive:
        summary = reparse_archive(archive)
    assert summary.changed == 0
    after = archived(settings)
    for url, article in before.items():
        assert (after[url].modified, after[url].categories, after[url].title) == (
            article.modified, article.categories, article.title), url
