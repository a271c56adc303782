"""Every answer of the site and its API speaks French, with the right status, whatever the request:
wrong methods, unusable parameters, unknown addresses, ranges, and what the archive recorded."""

from __future__ import annotations

import json
from collections.abc import Iterator
from datetime import UTC, datetime

import pytest
from bs4 import BeautifulSoup
from flask.testing import FlaskClient
from french_text import english_words
from search_fixtures import archive_and_index, article

from archive.store import Archive
from archive.web import create_app

WITHDRAWN = article("pluie", "Pluie sur Dakar", "La pluie tombe sur Dakar depuis ce matin.")
KEPT = article("soleil", "Soleil sur Thiès", "Le soleil revient sur Thiès après la pluie.")


@pytest.fixture(scope="module")
def site(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[FlaskClient, dict[str, int]]]:
    data_dir = tmp_path_factory.mktemp("web-french")
    ids = archive_and_index(data_dir, [WITHDRAWN, KEPT])
    with Archive.open(data_dir / "archive.sqlite3") as archive:
        # The crawler's note as archives before this version recorded it, in English.
        archive.articles.mark_withdrawn(
            WITHDRAWN.url, when=datetime(2025, 2, 1, tzinfo=UTC),
            reason="unlisted: absent from every listing in 3 complete runs")
    app = create_app({"DATA_DIR": data_dir})
    yield app.test_client(), ids
    app.extensions["archive"].close()


def visible(html: str) -> str:
    """Return what a reader sees of HTML (no scripts, styles or markup)."""
    soup = BeautifulSoup(html, "html.parser")
    for hidden in soup(["script", "style"]):
        hidden.decompose()
    return soup.get_text(" ")


@pytest.mark.parametrize("method", ["POST", "PUT", "PATCH", "DELETE", "TRACE"])
@pytest.mark.parametrize("path", ["/", "/recherche?q=pluie", "/healthz"])
def test_a_page_asked_with_a_wrong_method_is_a_french_405(
    site: tuple[FlaskClient, dict[str, int]], method: str, path: str
) -> None:
    client, _ = site
    answer = client.open(path, method=method, data=b"x" * 10)
    assert answer.status_code == 405
    assert answer.headers["Allow"] == "GET, HEAD"
    text = visible(answer.get_data(as_text=True))
    assert "Méthode non permise" in text and english_words(text) == [], text


@pytest.mark.parametrize("method", ["POST", "DELETE"])
def test_the_api_asked_with_a_wrong_method_is_a_french_json_405(
    site: tuple[FlaskClient, dict[str, int]], method: str
) -> None:
    client, _ = site
    answer = client.open("/api/search?q=pluie", method=method)
    assert answer.status_code == 405 and answer.mimetype == "application/json"
    error = answer.get_json()["error"]  # the key stays English: programs read it
    assert error["title"] == "Méthode non permise"
    assert english_words(error["message"]) == [], error


@pytest.mark.parametrize(("path", "status", "says"), [
    ("/api/search?q=pluie&du=zz", 400, "La date « du » doit s'écrire AAAA-MM-JJ"),
    ("/api/nulle-part", 404, "Cette adresse ne correspond à aucune page"),
    ("/recherche.json?q=pluie&au=2024-13-45", 400, "La date « au »"),
])
def test_api_errors_are_french_json(site: tuple[FlaskClient, dict[str, int]], path: str,
                                    status: int, says: str) -> None:
    client, _ = site
    answer = client.get(path)
    assert answer.status_code == status and answer.mimetype == "application/json"
    message = answer.get_json()["error"]["message"]
    assert message.startswith(says) and english_words(message) == [], message


@pytest.mark.parametrize(("path", "status"), [
    ("/recherche?q=pluie&du=15/03/2024", 400),
    ("/recherche?q=%ff%fe&page=-3", 400),
    ("/nulle-part", 404),
    ("/static/nulle-part.css", 404),
    ("/article/999999", 404),
])
def test_unusable_addresses_get_french_pages(site: tuple[FlaskClient, dict[str, int]], path: str,
                                             status: int) -> None:
    client, _ = site
    answer = client.get(path)
    assert answer.status_code == status and answer.mimetype == "text/html"
    text = visible(answer.get_data(as_text=True))
    assert english_words(text) == [], text


def test_options_and_head_answer_without_a_body(
    site: tuple[FlaskClient, dict[str, int]]
) -> None:
    client, _ = site
    options = client.options("/recherche?q=pluie")
    assert options.status_code == 200 and options.get_data() == b""
    assert set(options.headers["Allow"].split(", ")) >= {"GET", "HEAD", "OPTIONS"}
    head = client.head("/recherche?q=pluie")
    assert head.status_code == 200 and head.get_data() == b""


def test_range_requests_on_downloads_get_the_bytes_asked_or_a_whole_answer(
    site: tuple[FlaskClient, dict[str, int]]
) -> None:
    client, _ = site
    whole = client.get("/static/favicon.svg")
    part = client.get("/static/favicon.svg", headers={"Range": "bytes=0-9"})
    assert part.status_code == 206 and part.get_data() == whole.get_data()[:10]
    for unusable in ("bytes=999999-", "octets=n'importe"):
        past = client.get("/static/favicon.svg", headers={"Range": unusable})
        assert past.status_code == 416
        assert past.headers["Content-Range"] == f"bytes */{len(whole.get_data())}"
        text = visible(past.get_data(as_text=True))
        assert "Plage hors du fichier" in text and english_words(text) == [], text
        past.close()
    export = client.get("/recherche.csv?q=pluie", headers={"Range": "bytes=999999-"})
    assert export.status_code == 200  # a generated export ignores ranges, never a 500
    for answer in (whole, part, export):
        answer.close()


def test_an_article_withdrawn_before_this_version_says_why_in_french(
    site: tuple[FlaskClient, dict[str, int]]
) -> None:
    client, ids = site
    page = visible(client.get(f"/article/{ids[WITHDRAWN.url]}").get_data(as_text=True))
    why = "absent de toutes les listes de la plateforme pendant 3 collectes complètes"
    assert f"(constat : {why})" in " ".join(page.split()), page
    changes = visible(client.get("/changements").get_data(as_text=True))
    assert f"Retiré de la plateforme ({why})" in " ".join(changes.split()), changes
    assert "unlisted" not in page + changes
    api = json.loads(client.get(f"/api/articles/{ids[WITHDRAWN.url]}").get_data(as_text=True))
    assert "withdrawn_reason" in json.dumps(api)  # the API keeps its keys and its records
