"""Which canonical address a page may claim (finding: a page on one site became a version of
another site's article through ``<link rel="canonical">``)."""

from __future__ import annotations

import pytest

from archive.parser import parse_page
from archive.parser.canonical import trusted_canonical

LOOPBACK = "http://127.0.0.1:8001/2024/03/12/un-article/"
PLATFORM = "https://sn.notrecontinent.com/2024/03/12/un-article/"


def article_page(canonical: str) -> bytes:
    """An ordinary article page that declares CANONICAL."""
    return (
        '<!DOCTYPE html><html lang="fr"><head><meta charset="utf-8"><title>Un titre</title>'
        f'<link rel="canonical" href="{canonical}"></head><body><article>'
        '<h1 class="entry-title">Un titre</h1><div class="entry-content">'
        "<p>Les habitants du quartier ont manifesté samedi contre les coupures d’eau "
        "répétées, qui durent depuis plus de trois semaines.</p>"
        "<p>La société nationale promet un retour à la normale avant la fin du mois.</p>"
        "<p>Article écrit par : Awa Ndiaye</p><p>Mis en ligne : 12/03/2024</p>"
        "</div></article></body></html>"
    ).encode()


@pytest.mark.parametrize("canonical", [
    LOOPBACK,
    "/2024/03/12/un-article/",
    "https://127.0.0.1:8001/2024/03/12/autre-adresse/",
])
def test_canonical_on_the_pages_own_site_is_kept(canonical: str) -> None:
    assert trusted_canonical(canonical, LOOPBACK) is not None


def test_platform_canonical_with_the_pages_own_path_is_kept_for_a_mirror() -> None:
    assert trusted_canonical(PLATFORM, LOOPBACK) == PLATFORM


@pytest.mark.parametrize("canonical", [
    "javascript:alert(1)",
    " JavaScript:alert(1)",
    "data:text/html,<script>alert(1)</script>",
    "file:///etc/passwd",
    "http://127.0.0.1:8002/2024/03/12/un-article/",
    "http://evil.example/2024/03/12/un-article/",
    "https://sn.notrecontinent.com/2024/01/01/article-d-un-autre/",
    "https://user:pw@127.0.0.1:8001/2024/03/12/un-article/",
    "http://127.0.0.1:99999/2024/03/12/un-article/",
])
def test_canonical_leaving_the_site_or_not_http_is_ignored(canonical: str) -> None:
    assert trusted_canonical(canonical, LOOPBACK) is None


def test_platform_page_cannot_claim_another_editions_article() -> None:
    other = "https://ci.notrecontinent.com/2024/03/12/un-article/"
    assert trusted_canonical(other, PLATFORM) is None
    assert trusted_canonical(PLATFORM.replace("https", "http"), PLATFORM) is not None


def test_page_claiming_another_sites_article_is_filed_under_its_own_address() -> None:
    article = parse_page(article_page("http://127.0.0.1:8002/2024/01/01/victime/"), LOOPBACK)
    assert article.canonical_url is None
    assert article.url == LOOPBACK


def test_javascript_canonical_is_never_the_articles_address() -> None:
    article = parse_page(article_page("javascript:alert(document.domain)"), LOOPBACK)
    assert article.canonical_url is None


def test_ignored_canonical_says_nothing_about_the_edition() -> None:
    stolen = "https://ci.notrecontinent.com/2024/01/01/victime/"
    article = parse_page(article_page(stolen), LOOPBACK)
    assert article.edition is None


def test_replica_style_platform_canonical_gives_address_and_edition() -> None:
    article = parse_page(article_page(PLATFORM), LOOPBACK)
    assert (article.canonical_url, article.edition) == (PLATFORM, "sn")


def test_local_file_believes_its_platform_canonical() -> None:
    assert trusted_canonical(PLATFORM, "file:///tmp/page.html") == PLATFORM
    assert trusted_canonical("javascript:alert(1)", "file:///tmp/page.html") is None
