"""Fuzzing the search endpoints: any parameters give a page or a 4xx, never a 500.

The parameter names come from the OpenAPI document, so an endpoint or a parameter added there is
fuzzed too; the values mix well-formed ones with arbitrary text and query-syntax fragments.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest
from flask import Flask
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from web_archive import build_archive

from archive.web import create_app

SEARCH_ENDPOINTS = (
    "/api/search", "/recherche", "/recherche.atom", "/recherche.csv", "/recherche.json",
)
QUERY_PIECES = (
    "marché", "développement", "l'eau", "d’abord", "\"le gouvernement\"", "-jeunes", "OR", "AND",
    "NOT", "ET", "OU", "(", ")", "*", "?", "~", "^2", "auteur:", "title:", "[a TO z]", "{", "}",
    "é", "Œuvre", "\\", "'", "\"", ":", "published:2024", "<script>", "&amp;", "%", "0", "日本",
    "\u00a0", "\u200b", "🌍", "jusqu'", "qu'", "-", "+", "!", "/", "", "   ",
)

text_values = st.text(
    alphabet=st.characters(blacklist_categories=("Cs",)), max_size=60
)
query_values = st.one_of(
    st.lists(st.sampled_from(QUERY_PIECES), max_size=8).map(" ".join),
    text_values,
    st.text(alphabet=st.characters(blacklist_categories=("Cs",)), min_size=490, max_size=520),
)
date_values = st.one_of(
    st.dates().map(lambda d: d.isoformat()),
    st.from_regex(r"\d{4}-\d{2}-\d{2}", fullmatch=True),
    text_values,
)
int_values = st.one_of(
    st.integers(min_value=-5, max_value=1200).map(str),
    st.integers().map(str),
    text_values,
)
VALUES: dict[str, st.SearchStrategy[str]] = {
    "q": query_values,
    "auteur": st.one_of(st.sampled_from(["Awa", "diallo", "Aïssatou N'Diaye", ""]), text_values),
    "du": date_values,
    "au": date_values,
    "tri": st.one_of(st.sampled_from(["pertinence", "date", "anciens"]), text_values),
    "page": int_values,
    "taille": int_values,
    "edition": st.one_of(st.sampled_from(["sn", "ci", "CM", "zz", ""]), text_values),
    "categorie": st.one_of(st.sampled_from(["Société", "politique", "Faits divers"]),
                           text_values),
    "sauf_auteur": st.one_of(st.sampled_from(["Awa", ""]), text_values),
    "sauf_edition": st.one_of(st.sampled_from(["sn", "xx"]), text_values),
    "sauf_categorie": st.one_of(st.sampled_from(["Sport", "SPORT"]), text_values),
    "mots": st.one_of(st.sampled_from(["0", "1"]), text_values),
}
EXPORT_VALUES: dict[str, st.SearchStrategy[str]] = {
    "texte": st.one_of(st.sampled_from(["0", "1", ""]), text_values),
    "sep": st.one_of(st.sampled_from([",", ";", "\t"]), text_values),
}


@pytest.fixture(scope="session")
def fuzz_app(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Flask]:
    data_dir = tmp_path_factory.mktemp("fuzz-data")
    build_archive(data_dir, 30, edits=1)
    app = create_app({"DATA_DIR": data_dir, "TESTING": True})
    yield app
    app.extensions["archive"].close()


def parameter_names(app: Flask) -> dict[str, list[str]]:
    """Return, per search endpoint, the query parameters the OpenAPI document declares."""
    doc = app.test_client().get("/api/openapi.json").get_json()
    return {
        path: [p["name"] for p in operation["get"].get("parameters", []) if p["in"] == "query"]
        for path, operation in doc["paths"].items()
        if path in SEARCH_ENDPOINTS
    }


@st.composite
def requests(draw: Any, names: dict[str, list[str]]) -> tuple[str, dict[str, str]]:
    """Draw an endpoint and a random subset of its parameters with fuzzed values."""
    path = draw(st.sampled_from(sorted(names)))
    chosen = draw(st.lists(st.sampled_from(names[path]), unique=True, max_size=len(names[path])))
    return path, {name: draw({**VALUES, **EXPORT_VALUES}[name]) for name in chosen}


def test_openapi_declares_the_parameters_being_fuzzed(fuzz_app: Flask) -> None:
    names = parameter_names(fuzz_app)
    assert set(names) == set(SEARCH_ENDPOINTS)
    assert set(names["/api/search"]) == set(VALUES)


def test_search_endpoints_never_answer_500(fuzz_app: Flask) -> None:
    names = parameter_names(fuzz_app)
    client = fuzz_app.test_client()
    statuses: set[int] = set()

    @settings(max_examples=400, deadline=None, database=None,
              suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large])
    @given(requests(names))
    def check(request: tuple[str, dict[str, str]]) -> None:
        path, query = request
        response = client.get(path, query_string=query)
        body = response.get_data(as_text=True)
        response.close()
        assert response.status_code < 500, (path, query, body[:500])
        assert response.status_code in (200, 400), (path, query, response.status_code)
        statuses.add(response.status_code)

    check()
    assert statuses == {200, 400}, "the fuzzer must reach both valid and invalid requests"


path_parts = st.one_of(
    st.integers(min_value=-10, max_value=2**70).map(str),
    st.text(alphabet=st.characters(blacklist_categories=("Cs",), blacklist_characters="/?#"),
            min_size=1, max_size=30),
)
PATH_TEMPLATES = (
    "/article/{0}", "/article/{0}/version/{1}", "/article/{0}/diff?de={1}&a={1}",
    "/api/articles/{0}", "/auteur/{0}", "/archives/{0}/", "/archives/{0}/{1}/",
    "/auteur/{0}?page={1}", "/archives/2020/?page={0}",
)


def test_path_endpoints_never_answer_500(fuzz_app: Flask) -> None:
    from urllib.parse import quote

    client = fuzz_app.test_client()

    @settings(max_examples=250, deadline=None, database=None,
              suppress_health_check=[HealthCheck.too_slow])
    @given(st.sampled_from(PATH_TEMPLATES), path_parts, path_parts)
    def check(template: str, first: str, second: str) -> None:
        url = template.format(quote(first, safe=""), quote(second, safe=""))
        response = client.get(url)
        response.close()
        assert response.status_code in (200, 400, 404), (url, response.status_code)

    check()
