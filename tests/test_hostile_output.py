"""What the front end makes of a crawled hostile site, page kind by page kind: nothing executable
or formula-like comes out of HTML pages, Atom feeds, CSV and JSON exports or the API.

The archive is ``tests/hostile_site.py``'s crawl (the ``hostile_archive`` fixture): script and
formula payloads in every field, bidi controls, NUL bytes, invalid UTF-8, a ``javascript:``
canonical, a huge paragraph edited between two crawls.
"""

from __future__ import annotations

import csv
import io
import json
import re
from collections.abc import Iterator
from typing import Any
from xml.etree import ElementTree as ET

import pytest
from flask import Flask
from flask.testing import FlaskClient
from hostile_site import ARTICLES, HostileArchive

from archive.store import Archive
from archive.web import create_app

# Markup that would run if it reached a page unescaped: a script that is not one of our static
# files, or an event-handler attribute in any tag (our own pages have none: see the CSP). The
# tag's attributes are read one by one, so escaped text inside a quoted value (an author named
# "... &lt;svg onload=...&gt;" in an <option value>) is not taken for an attribute.
EXECUTABLE = re.compile(
    r"<\s*script(?![^>]*\ssrc=\"/static/)"
    r"|<[a-z][\w:-]*(?:\s+[\w:.-]+(?:\s*=\s*(?:\"[^\"]*\"|'[^']*'|[^\s\"'>]+))?)*?"
    r"\s+on[a-z]+\s*=", re.I)
JAVASCRIPT_LINK = re.compile(r"""(href|src|action)\s*=\s*["']?\s*javascript:""", re.I)
FORMULA_START = ("=", "+", "-", "@", "\t", "\r")
QUERIES = ("Titre piégé", "Facture", "santé", "imbriqué", "immense", "usurpé", "javascript",
           "citoyen marché")
ATOM = "{http://www.w3.org/2005/Atom}"


@pytest.fixture(scope="module")
def app(hostile_archive: HostileArchive) -> Iterator[Flask]:
    application = create_app({"DATA_DIR": hostile_archive.data_dir, "TESTING": True})
    yield application
    application.extensions["archive"].close()


@pytest.fixture
def client(app: Flask) -> FlaskClient:
    return app.test_client()


@pytest.fixture(scope="module")
def articles(hostile_archive: HostileArchive) -> list[tuple[int, int, str | None]]:
    """(id, version count, author slug) of every archived article."""
    with Archive.open(hostile_archive.data_dir / "archive.sqlite3", readonly=True) as archive:
        return [(a.id, a.version_count, a.author_slug) for a in archive.reads.iter_articles()]


def html_pages(articles: list[tuple[int, int, str | None]]) -> Iterator[str]:
    yield from ("/", "/auteurs", "/archives/", "/archives/2024/", "/archives/2024/01/",
                "/changements", "/aide")
    for query in QUERIES:
        yield f"/recherche?q={query}"
    for article_id, versions, slug in articles:
        yield f"/article/{article_id}"
        for number in range(1, versions + 1):
            yield f"/article/{article_id}/version/{number}"
        if versions > 1:
            yield f"/article/{article_id}/diff"
        if slug:
            yield f"/auteur/{slug}"


def assert_not_executable(path: str, text: str) -> None:
    found = EXECUTABLE.search(text)
    assert found is None, (path, text[max(0, found.start() - 200):found.end() + 200])
    link = JAVASCRIPT_LINK.search(text)
    assert link is None, (path, text[max(0, link.start() - 200):link.end() + 200])


def test_the_crawl_archived_the_hostile_articles(
        articles: list[tuple[int, int, str | None]]) -> None:
    assert len(articles) >= len([page for page in ARTICLES if page.title]) // 2
    assert any(versions > 1 for _, versions, _ in articles)


def test_html_pages_carry_no_executable_markup_or_javascript_link(
        client: FlaskClient, articles: list[tuple[int, int, str | None]]) -> None:
    seen = 0
    for path in dict.fromkeys(html_pages(articles)):
        response = client.get(path)
        assert response.status_code < 500, (path, response.status_code)
        if response.mimetype == "text/html":
            assert_not_executable(path, response.get_data(as_text=True))
            seen += 1
    assert seen > len(articles)


def test_atom_feeds_are_well_formed_and_link_only_to_web_pages(client: FlaskClient) -> None:
    for path in ("/recherche.atom", *(f"/recherche.atom?q={q}" for q in QUERIES),
                 "/changements.atom"):
        response = client.get(path)
        assert response.status_code == 200, path
        assert_not_executable(path, response.get_data(as_text=True))
        feed = ET.fromstring(response.data)
        for link in feed.iter(f"{ATOM}link"):
            assert link.get("href", "").startswith(("http://", "https://")), (path, link.attrib)


def _cells(rows: list[dict[str, str]]) -> Iterator[str]:
    for row in rows:
        yield from row.values()


@pytest.fixture
def long_csv_fields() -> Iterator[None]:
    """Let the csv module read the article texts of the hostile site (4.5 MB bodies)."""
    previous = csv.field_size_limit(64 * 1024 * 1024)
    yield
    csv.field_size_limit(previous)


@pytest.mark.usefixtures("long_csv_fields")
def test_csv_exports_hold_no_formula(client: FlaskClient) -> None:
    exported = 0
    for query in ("", *QUERIES):
        for extra in ("", "&texte=1", "&sep=;"):
            response = client.get(f"/recherche.csv?q={query}{extra}")
            assert response.status_code == 200, (query, extra)
            text = response.get_data(as_text=True).lstrip("\ufeff")
            delimiter = ";" if "sep" in extra else ","
            rows = list(csv.DictReader(io.StringIO(text), delimiter=delimiter))
            exported += len(rows)
            for cell in _cells(rows):
                assert not cell.lstrip(" ").startswith(FORMULA_START), (query, cell[:80])
    assert exported


def _strings(value: Any) -> Iterator[tuple[str, str]]:
    if isinstance(value, dict):
        for key, item in value.items():
            if isinstance(item, str):
                yield key, item
            else:
                yield from _strings(item)
    elif isinstance(value, list):
        for item in value:
            yield from _strings(item)


def assert_json_safe(path: str, document: Any) -> None:
    for key, text in _strings(document):
        if key.endswith("_html") or key == "snippet":  # HTML the API promises safe
            assert_not_executable(f"{path} {key}", text)
        if key.endswith("url") and text:
            assert text.startswith(("http://", "https://")), (path, key, text)


def test_json_export_and_api_are_valid_and_their_links_and_html_are_safe(
        client: FlaskClient, articles: list[tuple[int, int, str | None]]) -> None:
    paths = ["/api/authors", "/recherche.json", *(f"/api/search?q={q}" for q in QUERIES),
             *(f"/recherche.json?q={q}&texte=1" for q in QUERIES),
             *(f"/api/articles/{article_id}" for article_id, _, _ in articles)]
    for path in paths:
        response = client.get(path)
        assert response.status_code == 200, path
        assert response.mimetype == "application/json", path
        assert_json_safe(path, json.loads(response.get_data(as_text=True)))
