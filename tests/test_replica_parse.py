"""Pages fetched from the replica over real HTTP parse back to exactly what the generator wrote."""

from __future__ import annotations

import re
from collections.abc import Iterator

import httpx
import pytest

from archive.errors import NotAnArticle
from archive.parser import parse_page
from archive.replica import VARIANTS, Corpus, Faults, RunningReplica, serve_replica

CORPUS = Corpus(size=60)


@pytest.fixture(scope="module")
def replica() -> Iterator[RunningReplica]:
    with serve_replica(CORPUS, faults=Faults.all()) as running:
        yield running


def _fetch(replica: RunningReplica, edition: str, path: str) -> httpx.Response:
    with httpx.Client(base_url=replica.urls[edition], timeout=10) as client:
        return client.get(path)


def _parse(replica: RunningReplica, edition: str, path: str):  # type: ignore[no-untyped-def]
    response = _fetch(replica, edition, path)
    return parse_page(response.content, str(response.url), response.headers.get("content-type"))


def test_the_default_corpus_shows_every_markup_variant_in_every_edition() -> None:
    seen = {(CORPUS.article(i).edition, CORPUS.article(i).variant) for i in range(CORPUS.size)}
    assert seen == {(e, v) for e in ("sn", "ci", "cm") for v in VARIANTS}


@pytest.mark.parametrize("index", range(CORPUS.size))
def test_every_article_page_parses_back_to_its_ground_truth(
    replica: RunningReplica, index: int
) -> None:
    truth = CORPUS.article(index)
    if truth.post_id in {28, 29, 30, 31, 32, 35}:  # fault pages: served broken on purpose
        pytest.skip("fault page (slow, 5xx, 429, truncated, oversized): covered by crawl tests")
    article = _parse(replica, truth.edition, truth.path)
    assert article.title == truth.title
    assert article.author == truth.author, article.sources
    assert article.published == truth.published, article.sources
    assert article.body == truth.body
    assert article.edition == truth.edition
    assert set(article.categories) == set(truth.categories)
    assert article.language == "fr"
    assert article.sources["author"] and article.sources["published"]


def test_a_windows_1252_page_comes_out_right_whatever_the_header_says(
    replica: RunningReplica,
) -> None:
    for post_id in (33, 34):  # wrong_charset, lying_charset
        truth = CORPUS.article(post_id - 1)
        article = _parse(replica, truth.edition, truth.path)
        assert article.body == truth.body
        assert article.author == truth.author


def test_the_account_variant_keeps_the_platform_byline_over_wordpress_metadata(
    replica: RunningReplica,
) -> None:
    truth = next(CORPUS.article(i) for i in range(CORPUS.size)
                 if CORPUS.article(i).variant == "account")
    assert truth.wp_author != truth.author
    assert _parse(replica, truth.edition, truth.path).author == truth.author


def test_a_fake_byline_in_a_comment_never_wins(replica: RunningReplica) -> None:
    with_fake = [CORPUS.article(i) for i in range(CORPUS.size)
                 if any("Article écrit par" in c.text for c in CORPUS.article(i).comments)]
    assert with_fake, "the corpus should hold at least one comment with a fake byline"
    for truth in with_fake:
        if truth.post_id in {28, 29, 30, 31, 32, 35}:
            continue
        article = _parse(replica, truth.edition, truth.path)
        assert article.author == truth.author
        assert "Un Lecteur Malin" not in article.body


@pytest.mark.parametrize(
    "path",
    ["/", "/page/2/", "/2019/", "/2019/05/", "/feed/", "/mentions-legales/", "/no-such-page/"],
)
def test_pages_that_are_not_articles_are_rejected_with_one_line(
    replica: RunningReplica, path: str
) -> None:
    with pytest.raises(NotAnArticle) as excinfo:
        _parse(replica, "sn", path)
    assert "\n" not in str(excinfo.value)


@pytest.mark.parametrize("kind", ["author", "category"])
def test_author_and_category_archives_are_not_articles(replica: RunningReplica, kind: str) -> None:
    home = _fetch(replica, "sn", "/").text
    slug = re.search(rf'href="[^"]*/{kind}/([^/"]+)/"', home)
    assert slug, f"the home page links to {kind} archives"
    archive_page = _fetch(replica, "sn", f"/{kind}/{slug.group(1)}/")
    assert archive_page.status_code == 200
    with pytest.raises(NotAnArticle):
        _parse(replica, "sn", f"/{kind}/{slug.group(1)}/")
