"""The parser on pages a real WordPress serves (tests/wordpress_site.py), under a block theme
(twentytwentythree) and a classic theme (twentytwentyone): every public post read exactly from
its page alone, and what must never be archived refused with a line saying what it is."""

from __future__ import annotations

import httpx
import pytest
from lxml import html
from wordpress_site import THEMES, WordPressSite

from archive.errors import NotAnArticle
from archive.models import Article
from archive.parser import parse_page


def _fetch(url: str) -> httpx.Response:
    response = httpx.get(url, timeout=30)
    assert response.status_code == 200, url
    return response


def _parse(url: str) -> Article:
    response = _fetch(url)
    return parse_page(response.content, url, response.headers.get("Content-Type"))


def _refusal(url: str) -> str:
    with pytest.raises(NotAnArticle) as caught:
        _parse(url)
    assert "\n" not in caught.value.message
    return caught.value.message


@pytest.mark.parametrize("theme", THEMES)
def test_every_public_post_page_parses_to_its_ground_truth(
        wordpress: WordPressSite, theme: str) -> None:
    wordpress.configure(theme=theme)
    for post in wordpress.corpus.posts:
        url = wordpress.base_url + post.path
        article = _parse(url)
        assert article.title == post.title, url
        assert article.author == post.author, url
        assert article.published == post.published, url
        assert article.body == post.body, url
        assert sorted(article.categories) == sorted(post.categories), url
        assert article.modified is None, url


@pytest.mark.parametrize("theme", THEMES)
def test_what_wordpress_must_never_archive_is_refused_saying_what_it_is(
        wordpress: WordPressSite, theme: str) -> None:
    wordpress.configure(theme=theme)
    state = wordpress.state.values()
    protected = next(entry for entry in state if entry["protected"])
    assert "un article protégé par un mot de passe" in _refusal(str(protected["link"]))
    page = next(entry for entry in state if entry["type"] == "page")
    assert "une page WordPress, pas un article" in _refusal(str(page["link"]))
    attachments = [str(entry["link"]) for entry in state if entry["type"] == "attachment"]
    assert attachments
    for link in attachments:
        assert "une page de pièce jointe" in _refusal(link)
    assert "un flux" in _refusal(wordpress.base_url + "/feed/")


@pytest.mark.parametrize("theme", THEMES)
def test_comment_reply_links_of_a_real_page_are_refused(
        wordpress: WordPressSite, theme: str) -> None:
    wordpress.configure(theme=theme)
    post = next(post for post in wordpress.corpus.posts if post.comments)
    page = html.fromstring(_fetch(wordpress.base_url + post.path).content)
    links = page.xpath("//a[contains(@href, 'replytocom=')]/@href")
    assert links
    for link in links:
        assert "une adresse de réponse à un commentaire" in _refusal(str(link))
