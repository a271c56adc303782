"""The tests' real WordPress itself: seeded as the corpus says, in every theme and mode.

The crawler and parser tests trust this site as the platform: these tests check that it is
what they assume (pretty permalinks, the seeded posts and nothing else public, the byline
lines in the page, REST refused and sitemaps off when asked, an access log that counts).
"""

from __future__ import annotations

import httpx
import pytest
from wordpress_corpus import FAKE_BYLINE
from wordpress_site import THEMES, WordPressSite


def _get(site: WordPressSite, path: str) -> httpx.Response:
    return httpx.get(site.base_url + path, timeout=30)


def test_rest_lists_exactly_the_published_posts_at_their_pretty_permalinks(
        wordpress: WordPressSite) -> None:
    wordpress.configure(rest="on")
    listing = _get(wordpress,
                   "/wp-json/wp/v2/posts?per_page=100&_fields=link,status,content.protected")
    assert listing.status_code == 200
    expected = {wordpress.base_url + post.path for post in wordpress.corpus.posts}
    public = {item["link"] for item in listing.json() if not item["content"]["protected"]}
    assert public == expected
    assert [item for item in listing.json() if item["content"]["protected"]]
    assert listing.headers["X-WP-Total"] == str(len(wordpress.corpus.posts) + 1)


def test_seed_holds_every_kind_of_post_that_must_never_be_archived(
        wordpress: WordPressSite) -> None:
    kinds = {(entry["type"], entry["status"], entry["protected"])
             for entry in wordpress.state.values()}
    assert {("post", "private", False), ("post", "draft", False), ("post", "future", False),
            ("post", "trash", False), ("page", "publish", False), ("post", "publish", True),
            ("attachment", "inherit", False)} <= kinds


@pytest.mark.parametrize("theme", THEMES)
def test_article_page_shows_byline_lines_and_replytocom_links(
        wordpress: WordPressSite, theme: str) -> None:
    wordpress.configure(theme=theme)
    post = wordpress.corpus.posts[5]
    page = _get(wordpress, post.path)
    assert page.status_code == 200
    assert post.author in page.text
    assert f"{post.published:%d/%m/%Y}" in page.text
    assert FAKE_BYLINE in page.text
    assert "replytocom=" in page.text
    assert f"/themes/{theme}/" in page.text


def test_rest_refused_mode_answers_401_to_anonymous_clients(wordpress: WordPressSite) -> None:
    wordpress.configure(rest="refused")
    try:
        assert _get(wordpress, "/wp-json/wp/v2/posts").status_code == 401
        assert _get(wordpress, wordpress.corpus.posts[0].path).status_code == 200
    finally:
        wordpress.configure(rest="on")
    assert _get(wordpress, "/wp-json/wp/v2/posts").status_code == 200


def test_sitemaps_off_mode_hides_the_core_sitemap(wordpress: WordPressSite) -> None:
    wordpress.configure(sitemaps="on")
    assert _get(wordpress, "/wp-sitemap.xml").status_code == 200
    wordpress.configure(sitemaps="off")
    try:
        assert _get(wordpress, "/wp-sitemap.xml").status_code == 404
    finally:
        wordpress.configure(sitemaps="on")


def test_access_log_counts_article_requests(wordpress: WordPressSite) -> None:
    mark = len(wordpress.requests())
    _get(wordpress, "/")
    _get(wordpress, wordpress.corpus.posts[1].path)
    _get(wordpress, "/wp-json/wp/v2/posts?per_page=1")
    assert wordpress.article_requests(mark) == [wordpress.corpus.posts[1].path]


def test_edit_and_trash_go_through_wordpress_and_reseed_restores(
        wordpress: WordPressSite) -> None:
    post = wordpress.corpus.posts[2]
    try:
        wordpress.edit(post.slug, "2026-01-02 03:04:05", title="Titre corrigé")
        assert wordpress.state[post.slug]["modified_gmt"] == "2026-01-02 03:04:05"
        assert "Titre corrigé" in _get(wordpress, post.path).text
        wordpress.trash(post.slug)
        assert wordpress.state[post.slug]["status"] == "trash"
        assert _get(wordpress, post.path).status_code == 404
    finally:
        wordpress.reseed()
    assert wordpress.state[post.slug]["status"] == "publish"
    assert _get(wordpress, post.path).status_code == 200
