"""The web front end through Flask's test client, on a real archive and a real index on disk."""

from __future__ import annotations

import csv
import hashlib
import io
import json
import re
from collections.abc import Iterator
from datetime import date
from pathlib import Path
from xml.etree import ElementTree as ET

import pytest
from flask import Flask
from flask.testing import FlaskClient
from web_archive import EDIT_SENTENCE, HOSTILE_TITLE, BuiltArchive, build_archive

from archive.config import load_settings
from archive.web import create_app
from archive.web.params import MAX_QUERY_CHARS

ATOM = "{http://www.w3.org/2005/Atom}"
COMMON_WORD = "développement"


@pytest.fixture(scope="session")
def built(tmp_path_factory: pytest.TempPathFactory) -> BuiltArchive:
    data_dir = tmp_path_factory.mktemp("web-data")
    return build_archive(data_dir, 40)


@pytest.fixture(scope="session")
def app(built: BuiltArchive) -> Iterator[Flask]:
    application = create_app({"DATA_DIR": built.data_dir, "TESTING": True})
    yield application
    application.extensions["archive"].close()


@pytest.fixture
def client(app: Flask) -> FlaskClient:
    return app.test_client()


def html(client: FlaskClient, url: str, status: int = 200, **query: object) -> str:
    response = client.get(url, query_string=query or None)
    assert response.status_code == status, response.get_data(as_text=True)[:2000]
    assert response.mimetype == "text/html"
    return response.get_data(as_text=True)


def api(client: FlaskClient, url: str, status: int = 200, **query: object) -> dict:
    response = client.get(url, query_string=query or None)
    assert response.status_code == status, response.get_data(as_text=True)[:2000]
    assert response.mimetype == "application/json"
    return response.get_json()


def hit_ids(page: str) -> list[int]:
    block = page.split('<ol class="hits"', 1)[1].split("</ol>", 1)[0]
    return [int(n) for n in re.findall(r'<h3><a href="/article/(\d+)[?"]', block)]


# ------------------------------------------------------------------ application and errors

def test_pages_explain_the_archive_is_being_built_when_nothing_is_there(tmp_path: Path) -> None:
    app = create_app({"DATA_DIR": tmp_path, "TESTING": True})
    client = app.test_client()
    for url in ("/", "/recherche?q=eau", "/auteurs", "/article/1"):
        page = html(client, url, 503)
        assert "en cours de construction" in page
    building = client.get("/")
    assert building.headers["Retry-After"] and building.headers["Cache-Control"] == "no-store"
    response = client.get("/healthz")
    assert response.status_code == 503
    assert response.get_json()["status"] == "unavailable"
    assert client.get("/api/search?q=eau").get_json()["error"]["status"] == 503
    assert not any(tmp_path.iterdir()), "the web app must not create anything in the data dir"


def test_create_app_reads_the_data_dir_from_the_environment(
    monkeypatch: pytest.MonkeyPatch, built: BuiltArchive
) -> None:
    monkeypatch.setenv("ARCHIVE_DATA_DIR", str(built.data_dir))
    app = create_app()
    try:
        assert app.config["ARCHIVE_SETTINGS"].data_dir == built.data_dir
        assert app.test_client().get("/healthz").status_code == 200
    finally:
        app.extensions["archive"].close()


def test_unknown_page_is_a_french_404(client: FlaskClient) -> None:
    page = html(client, "/pas-une-page", 404)
    assert "Page introuvable" in page and 'lang="fr"' in page


def test_unknown_article_and_author_are_404(client: FlaskClient) -> None:
    html(client, "/article/999999", 404)
    html(client, "/auteur/personne-de-connu", 404)
    html(client, "/article/1/version/99", 404)
    assert api(client, "/api/articles/999999", 404)["error"]["status"] == 404


@pytest.mark.parametrize(
    ("query", "reason"),
    [
        ({"du": "2024-02-30"}, "n'existe pas"),
        ({"au": "2023-13-01"}, "n'existe pas"),
        ({"du": "15/03/2024"}, "AAAA-MM-JJ"),
        ({"du": "2024-05-01", "au": "2024-04-01"}, "postérieure"),
        ({"tri": "hasard"}, "pertinence"),
        ({"page": "0"}, "entre 1 et 1000"),
        ({"page": "1001"}, "entre 1 et 1000"),
        ({"page": "deux"}, "nombre entier"),
        ({"taille": "101"}, "entre 1 et 100"),
        ({"q": "x" * (MAX_QUERY_CHARS + 1)}, "trop long"),
    ],
)
def test_bad_parameters_are_a_400_with_the_reason(
    client: FlaskClient, query: dict[str, str], reason: str
) -> None:
    page = html(client, "/recherche", 400, **{"q": COMMON_WORD, **query})
    assert reason in page.replace("&#39;", "'")
    body = api(client, "/api/search", 400, **{"q": COMMON_WORD, **query})
    assert reason in body["error"]["message"]
    assert client.get("/recherche.atom", query_string=query).status_code == 400
    assert client.get("/recherche.csv", query_string=query).status_code == 400


def test_impossible_month_and_year_in_date_archives_are_400(client: FlaskClient) -> None:
    assert "13" in html(client, "/archives/2024/13/", 400)
    html(client, "/archives/0000/", 400)


def test_no_endpoint_accepts_writes(client: FlaskClient) -> None:
    for url in ("/", "/recherche", "/api/search", "/article/1", "/healthz"):
        assert client.post(url).status_code == 405
        assert client.delete(url).status_code == 405


def test_browsing_everything_leaves_the_archive_and_index_untouched(
    client: FlaskClient, built: BuiltArchive
) -> None:
    def fingerprint() -> dict[str, str]:
        return {
            str(path.relative_to(built.data_dir)): hashlib.sha256(path.read_bytes()).hexdigest()
            for path in sorted(built.data_dir.rglob("*")) if path.is_file()
        }

    before = fingerprint()
    for url in ("/", f"/recherche?q={COMMON_WORD}", "/auteurs", "/archives/", "/api/authors",
                f"/article/{built.edited[0]}/diff", f"/recherche.csv?q={COMMON_WORD}",
                "/recherche.atom", "/healthz"):
        assert client.get(url).status_code == 200
    assert fingerprint() == before


# ------------------------------------------------------------------ security

def test_security_headers_on_pages_errors_api_and_static(client: FlaskClient) -> None:
    for url in ("/", "/pas-une-page", "/api/search?q=eau", "/static/style.css", "/recherche.atom"):
        response = client.get(url)
        response.close()
        headers = response.headers
        csp = headers["Content-Security-Policy"]
        assert "script-src 'self'" in csp and "frame-ancestors 'none'" in csp
        assert "unsafe-inline" not in csp
        assert headers["X-Content-Type-Options"] == "nosniff"
        assert headers["Referrer-Policy"] == "same-origin"
        assert headers["X-Frame-Options"] == "DENY"


def test_security_headers_are_set_once_on_drawn_kept_unchanged_and_refused_answers(
        client: FlaskClient) -> None:
    client.get("/api/search?q=eau&mots=1")  # waits for the associated words (the tag's part)
    drawn = client.get("/recherche?q=eau&tri=date")
    kept = client.get("/recherche?q=eau&tri=date")
    unchanged = client.get("/recherche?q=eau&tri=date",
                           headers={"If-None-Match": drawn.headers["ETag"]})
    refused = client.get("/recherche?q=eau&page=0")
    assert [a.status_code for a in (drawn, kept, unchanged, refused)] == [200, 200, 304, 400]
    assert kept.headers["X-Archive-Cache"] == "hit"
    for answer in (drawn, kept, unchanged, refused):
        names = [name.lower() for name, _ in answer.headers.items()]
        for name in ("content-security-policy", "x-content-type-options", "referrer-policy",
                     "x-frame-options", "cross-origin-opener-policy", "permissions-policy",
                     "cache-control"):
            assert names.count(name) == 1, (name, answer.status_code)
    assert refused.headers["Cache-Control"] == "no-store"
    assert unchanged.headers["Cache-Control"] == kept.headers["Cache-Control"] == \
        "public, max-age=60"


def test_results_page_links_are_those_url_for_builds(app: Flask) -> None:
    from flask import url_for

    from archive.web.pages import search_href, search_hrefs, take_away
    from archive.web.params import SearchParams

    searches = [
        SearchParams(q='"été chaud" -pluie', sauf_auteur=("Aïssatou N'Diaye", "B & C"),
                     tri="anciens", page=3, taille=20, statut="modifie", replier=True),
        SearchParams(auteur="Émile Lô", du=date(2018, 1, 1), au=date(2019, 6, 30)),
        SearchParams(q="eau", edition="sn", categorie="Santé/Éducation", mots=True),
    ]
    with app.test_request_context("/recherche", base_url="http://localhost/archive/"):
        for params in searches:
            links = take_away(params)
            assert links.feed == url_for("feeds.search", **params.query_args(
                page=1, tri="pertinence", taille=10))
            assert links.csv == url_for("exports.export_csv", **params.query_args(page=1,
                                                                                 taille=10))
            assert links.json == url_for("exports.export_json", **params.query_args(page=1,
                                                                                   taille=10))
            assert links.compare == url_for("coverage.compare", q=params.q)
            assert search_href(params) == url_for("pages.search", **params.query_args(page=1))
            for name, values in (("auteur", ["Émile Lô", "N'Diaye & fils", None, ""]),
                                 ("page", [1, 2, 40]), ("q", ["eau froide", ""]),
                                 ("edition", ["ci", None])):
                href = search_hrefs(params, name)
                for value in values:
                    assert href(value) == search_href(params, **{name: value}), (name, value)


def test_author_addresses_of_api_hits_are_those_url_for_builds(app: Flask) -> None:
    from flask import url_for

    from archive.authors import author_slug
    from archive.web.addresses import slugged

    with app.test_request_context("/api/search", base_url="https://archive.example/racine/"):
        address = slugged("pages.author", external=True)
        for slug in ("aissatou-n-diaye", author_slug("Émile Lô"), "inconnu", "Nom Brut/é?"):
            assert address(slug) == url_for("pages.author", slug=slug, _external=True), slug


def test_pages_carry_no_inline_script_or_style(client: FlaskClient, built: BuiltArchive) -> None:
    for url in ("/", f"/recherche?q={COMMON_WORD}", f"/article/{built.edited[0]}",
                f"/article/{built.edited[0]}/diff", "/auteurs", "/archives/", "/aide"):
        page = html(client, url)
        assert not re.search(r"<script(?![^>]*\bsrc=)[^>]*>", page), url
        assert not re.search(r"<style|\sstyle=|\son[a-z]+=", page), url


def test_platform_text_is_escaped_everywhere_only_our_marks_are_markup(
    client: FlaskClient, built: BuiltArchive
) -> None:
    results = html(client, "/recherche", q="Sandaga")
    assert "<script>" not in results and "<img" not in results and "<b>" not in results
    assert "&lt;script&gt;" in results and "<mark>Sandaga</mark>" in results
    article = html(client, f"/article/{built.hostile}")
    assert "<script>" not in article and "<img" not in article
    assert "&lt;img src=x" in article
    hit = api(client, "/api/search", q="Sandaga")["hits"][0]
    assert hit["title"] == HOSTILE_TITLE
    assert set(re.findall(r"</?(\w+)", hit["snippet"])) == {"mark"}
    feed = client.get("/recherche.atom?q=Sandaga").get_data(as_text=True)
    entry = ET.fromstring(feed).find(f"{ATOM}entry")
    assert entry is not None
    assert entry.findtext(f"{ATOM}title") == HOSTILE_TITLE


# ------------------------------------------------------------------ home

def test_home_shows_search_box_latest_articles_and_figures(
    client: FlaskClient, built: BuiltArchive
) -> None:
    page = html(client, "/")
    assert 'role="search"' in page and '<label for="q">' in page
    assert "Derniers articles archivés" in page
    newest = max(built.corpus.articles(), key=lambda a: a.published)
    assert newest.title.replace("'", "&#39;") in page
    for figure in ("Articles", "Auteurs", "Période couverte", "Dernière mise à jour"):
        assert f"<dt>{figure}</dt>" in page
    assert "<dd>41</dd>" in page


def test_author_field_completes_from_known_authors_without_javascript(
    client: FlaskClient, built: BuiltArchive
) -> None:
    page = html(client, "/recherche")
    assert 'list="auteurs"' in page and '<datalist id="auteurs">' in page
    author = built.corpus.article(0).author
    assert f'<option value="{author}">'.replace("'", "&#39;") in page


# ------------------------------------------------------------------ results

def test_results_show_total_highlights_author_and_date(client: FlaskClient) -> None:
    total = api(client, "/api/search", q=COMMON_WORD)["total"]
    page = html(client, "/recherche", q=COMMON_WORD)
    assert f"{total} articles trouvés" in page
    assert page.count('<li class="hit">') == min(total, 10)
    assert "<mark>" in page.split('<ol class="hits"', 1)[1]
    assert re.search(r'<time datetime="\d{4}-\d{2}-\d{2}">', page)


def test_results_sort_by_date_lists_newest_first(client: FlaskClient) -> None:
    body = api(client, "/api/search", q=COMMON_WORD, tri="date", taille=100)
    dates = [hit["published"] for hit in body["hits"]]
    assert dates == sorted(dates, reverse=True) and len(dates) == body["total"]
    page = html(client, "/recherche", q=COMMON_WORD, tri="date")
    assert hit_ids(page) == [hit["id"] for hit in body["hits"][:10]]


def test_pagination_walks_through_every_result_once(client: FlaskClient) -> None:
    total = api(client, "/api/search", q=COMMON_WORD)["total"]
    assert total > 10, "the fixture needs more than one page for this word"
    first = html(client, "/recherche", q=COMMON_WORD)
    assert 'rel="next"' in first and "page=2" in first
    seen = hit_ids(first) + hit_ids(html(client, "/recherche", q=COMMON_WORD, page=2))
    assert len(seen) == len(set(seen)) == min(total, 20)
    beyond = html(client, "/recherche", q=COMMON_WORD, page=50)
    assert "au-delà des derniers résultats" in beyond


def test_author_facet_counts_and_filters(client: FlaskClient) -> None:
    body = api(client, "/api/search", q=COMMON_WORD)
    facet = body["facets"]["authors"][0]
    page = html(client, "/recherche", q=COMMON_WORD)
    link = re.search(r'<a href="([^"]+)"[^>]*>' + re.escape(facet["name"]) + "</a>", page)
    assert link is not None
    filtered = api(client, "/api/search", q=COMMON_WORD, auteur=facet["name"], taille=100)
    assert filtered["total"] == facet["count"]
    assert {hit["author"] for hit in filtered["hits"]} == {facet["name"]}
    assert "auteur=" in link.group(1)


def test_timeline_bars_link_to_the_same_search_narrowed_to_their_period(
    client: FlaskClient,
) -> None:
    page = html(client, "/recherche", q=COMMON_WORD)
    svg = page.split("<svg", 1)[1].split("</svg>", 1)[0]
    bars = re.findall(r'<a href="([^"]+)" aria-label="([^"]+)">\s*<title>', svg)
    assert bars
    href, label = next((h, t) for h, t in bars if not t.endswith(": 0 article"))
    count = int(re.search(r": (\d+) article", label).group(1))  # type: ignore[union-attr]
    args = dict(re.findall(r"[?&](?:amp;)?(\w+)=([^&]+)", href))
    assert args["q"] and args["du"] and args["au"]
    narrowed = api(client, "/api/search", q=COMMON_WORD, du=args["du"], au=args["au"])
    assert narrowed["total"] == count
    assert "<title>" in svg and "style=" not in svg


def test_active_filters_are_shown_and_each_can_be_removed(client: FlaskClient) -> None:
    page = html(client, "/recherche", q=COMMON_WORD, du="2016-01-01", au="2024-12-31")
    filters = page.split('class="active-filters"', 1)[1].split("</ul>", 1)[0]
    assert "Depuis le 1er janvier 2016" in filters and "Jusqu&#39;au 31 décembre 2024" in filters
    removals = re.findall(r'<a href="([^"]+)" class="remove"', filters)
    assert len(removals) == 3
    assert any("du=" not in r and "au=" in r for r in removals)


def test_misspelled_query_suggests_a_correction(client: FlaskClient) -> None:
    body = api(client, "/api/search", q="gouvernemnt")
    assert body["suggestion"] == "gouvernement"
    page = html(client, "/recherche", q="gouvernemnt")
    assert "Vouliez-vous dire" in page and 'href="/recherche?q=gouvernement"' in page


def test_empty_results_and_empty_form_give_help(client: FlaskClient) -> None:
    page = html(client, "/recherche", q="zzzyxwv")
    assert "Aucun article trouvé" in page and "/aide" in page
    assert "Que cherchez-vous" in html(client, "/recherche")
    assert "Aucun article ne correspond" in html(client, "/recherche", q="zzzyxwv", auteur="X")


def test_help_page_explains_the_query_syntax(client: FlaskClient) -> None:
    page = html(client, "/aide")
    assert "expression exacte" in page and "-CAN" in page
    assert "électi*" in page and "~5" in page


# ------------------------------------------------------------------ article, versions, citation

def test_article_page_shows_text_facts_and_citation(
    client: FlaskClient, built: BuiltArchive
) -> None:
    ra = built.corpus.article(0)
    article_id = built.ids[0]
    page = html(client, f"/article/{article_id}")
    assert ra.paragraphs[0].replace("'", "&#39;") in page
    assert f'href="/auteur/{ra.author_slug}"' in page or "/auteur/" in page
    assert ra.canonical_url in page
    assert f'<time datetime="{ra.published.isoformat()}">' in page
    cite = page.split('id="titre-citer"', 1)[1]
    assert f"http://localhost/article/{article_id}" in cite
    assert ra.canonical_url in cite and "Capture" in cite
    assert "Copie archivée" in cite


def test_withdrawn_article_says_so_and_when(client: FlaskClient, built: BuiltArchive) -> None:
    page = html(client, f"/article/{built.withdrawn}")
    assert "Article retiré de la plateforme" in page and "10 juin 2025" in page
    assert api(client, f"/api/articles/{built.withdrawn}")["status"] == "withdrawn"


def test_edited_article_lists_versions_and_diff_marks_the_change(
    client: FlaskClient, built: BuiltArchive
) -> None:
    article_id = built.edited[0]
    page = html(client, f"/article/{article_id}")
    assert "Version 2" in page and f"/article/{article_id}/diff?de=1&amp;a=2" in page
    diff = html(client, f"/article/{article_id}/diff", de=1, a=2)
    inserted = "".join(re.findall(r"<ins>(.*?)</ins>", diff, re.S))
    assert "réouverture du marché central" in inserted and "très" in inserted
    assert "<del>" not in diff.split('class="diff body"', 1)[1] or "del" in diff
    same = html(client, f"/article/{article_id}/diff", de=2, a=2)
    assert "même texte" in same
    old = html(client, f"/article/{article_id}/version/1")
    assert EDIT_SENTENCE not in old and "Version 1 sur 2" in old


def test_diff_rejects_unknown_versions(client: FlaskClient, built: BuiltArchive) -> None:
    page = html(client, f"/article/{built.edited[0]}/diff", 400, de=7, a=1)
    assert "entre 1 et 2" in page


def test_article_page_offers_related_articles(client: FlaskClient, built: BuiltArchive) -> None:
    page = html(client, f"/article/{built.ids[0]}")
    related = page.split('id="titre-proches"', 1)[1]
    ids = re.findall(r'href="/article/(\d+)"', related)
    assert ids and str(built.ids[0]) not in ids


# ------------------------------------------------------------------ authors and dates

def test_author_index_groups_authors_by_letter_with_counts(client: FlaskClient) -> None:
    authors = api(client, "/api/authors")["authors"]
    page = html(client, "/auteurs")
    assert 'href="#lettre-A"' in page
    for author in authors[:5]:
        assert f'href="/auteur/{author["slug"]}"' in page
    assert sum(a["count"] for a in authors) == 41


def test_author_page_lists_their_articles_span_and_timeline(
    client: FlaskClient, built: BuiltArchive
) -> None:
    top = max(api(client, "/api/authors")["authors"], key=lambda a: a["count"])
    page = html(client, f"/auteur/{top['slug']}")
    assert page.count('<h3><a href="/article/') == top["count"]
    assert "<svg" in page and "auteur=" in page
    assert f"{top['count']} article" in page
    assert "/recherche.atom?auteur=" in page


def test_date_archives_list_articles_of_a_year_and_a_month(
    client: FlaskClient, built: BuiltArchive
) -> None:
    published = built.corpus.article(0).published
    year = html(client, f"/archives/{published.year}/")
    assert f"/archives/{published.year}/{published.month:02d}/" in year
    month = html(client, f"/archives/{published.year}/{published.month:02d}/")
    assert f'href="/article/{built.ids[0]}"' in month
    expected = sum(1 for a in built.corpus.articles()
                   if (a.published.year, a.published.month) == (published.year, published.month))
    assert month.count('<h3><a href="/article/') >= expected
    overview = html(client, "/archives/")
    assert f'href="/archives/{published.year}/"' in overview


# ------------------------------------------------------------------ API, feed, exports, health

def test_api_search_mirrors_the_results_page(client: FlaskClient) -> None:
    body = api(client, "/api/search", q=COMMON_WORD, tri="date", page=2)
    page = html(client, "/recherche", q=COMMON_WORD, tri="date", page=2)
    assert [hit["id"] for hit in body["hits"]] == hit_ids(page)
    assert body["query"]["tri"] == "date" and body["links"]["prev"]
    assert body["hits"][0]["archived_url"].startswith("http://localhost/article/")


def test_api_article_returns_text_citation_and_versions(
    client: FlaskClient, built: BuiltArchive
) -> None:
    body = api(client, f"/api/articles/{built.edited[0]}")
    assert [v["number"] for v in body["versions"]] == [1, 2]
    assert body["versions"][1]["body"].endswith(EDIT_SENTENCE)
    assert body["citation"].startswith(body["author"])


def test_openapi_document_describes_every_search_parameter(client: FlaskClient) -> None:
    doc = api(client, "/api/openapi.json")
    assert doc["openapi"].startswith("3.")
    names = {p["name"] for p in doc["paths"]["/api/search"]["get"]["parameters"]}
    assert names == {"q", "auteur", "edition", "categorie", "sauf_auteur", "sauf_edition",
                     "sauf_categorie", "du", "au", "tri", "page", "taille", "mots",
                     "statut", "anterieures", "replier"}
    for path in doc["paths"]:
        concrete = path.replace("{article_id}", "1")
        asks = "recherche" in path or "comparer" in path
        assert client.get(concrete + ("?q=eau" if asks else "")).status_code == 200


def test_openapi_result_schema_names_every_key_the_api_answers(client: FlaskClient) -> None:
    schemas = api(client, "/api/openapi.json")["components"]["schemas"]
    body = api(client, "/api/search", q=COMMON_WORD)
    assert set(body) == set(schemas["SearchResult"]["properties"])
    assert set(body["query"]) == set(schemas["Query"]["properties"])
    assert set(body["hits"][0]) == set(schemas["Hit"]["properties"])
    assert set(body["facets"]) == set(schemas["Facets"]["properties"])
    assert set(body["links"]) == set(schemas["SearchResult"]["properties"]["links"]["properties"])


def test_cli_json_is_the_api_result_without_its_addresses(
        client: FlaskClient, built: BuiltArchive, run_cli) -> None:  # type: ignore[no-untyped-def]
    code, out, err = run_cli("--data-dir", str(built.data_dir), "search", COMMON_WORD,
                             "--limit", "5", "--json")
    assert code == 0, err
    printed = json.loads(out)
    answered = api(client, "/api/search", q=COMMON_WORD, taille=5)
    del answered["links"]
    for hit in answered["hits"]:
        for key in ("author_url", "archived_url", "api_url"):
            del hit[key]
    printed.pop("took_ms")
    answered.pop("took_ms")
    assert printed == answered


def test_atom_feed_follows_a_query_and_an_author(client: FlaskClient) -> None:
    author = api(client, "/api/search", q=COMMON_WORD)["facets"]["authors"][0]["name"]
    response = client.get("/recherche.atom", query_string={"q": COMMON_WORD, "auteur": author})
    assert response.status_code == 200 and response.mimetype == "application/atom+xml"
    feed = ET.fromstring(response.data)
    entries = feed.findall(f"{ATOM}entry")
    assert entries and all(e.findtext(f"{ATOM}author/{ATOM}name") == author for e in entries)
    published = [e.findtext(f"{ATOM}published") for e in entries]
    assert published == sorted(published, reverse=True)
    assert author in (feed.findtext(f"{ATOM}title") or "")
    self_link = feed.find(f"{ATOM}link[@rel='self']")
    assert self_link is not None and "auteur=" in self_link.get("href", "")


def test_results_page_advertises_its_feed(client: FlaskClient) -> None:
    page = html(client, "/recherche", q=COMMON_WORD)
    feed_link = r'<link rel="alternate" type="application/atom\+xml"[^>]+recherche\.atom'
    assert re.search(feed_link, page)


def test_csv_export_has_every_result_with_citation_fields(client: FlaskClient) -> None:
    total = api(client, "/api/search", q=COMMON_WORD)["total"]
    response = client.get("/recherche.csv", query_string={"q": COMMON_WORD})
    assert response.status_code == 200
    assert "attachment" in response.headers["Content-Disposition"]
    assert ".csv" in response.headers["Content-Disposition"]
    rows = list(csv.DictReader(io.StringIO(response.get_data(as_text=True).lstrip("\ufeff"))))
    assert len(rows) == total
    assert {"titre", "auteur", "date_publication", "url_originale", "url_archivee",
            "date_capture", "citation"} <= set(rows[0])
    assert all(row["url_archivee"].startswith("http://localhost/article/") for row in rows)


def test_json_export_is_one_valid_document(client: FlaskClient) -> None:
    total = api(client, "/api/search", q=COMMON_WORD)["total"]
    response = client.get("/recherche.json", query_string={"q": COMMON_WORD, "tri": "date"})
    body = json.loads(response.get_data(as_text=True))
    assert len(body["articles"]) == total
    dates = [row["date_publication"] for row in body["articles"]]
    assert dates == sorted(dates, reverse=True)


def test_exports_stop_at_the_configured_cap(built: BuiltArchive) -> None:
    settings = load_settings(environ={}, data_dir=built.data_dir, export_max_rows=3)
    app = create_app({"SETTINGS": settings, "TESTING": True})
    try:
        response = app.test_client().get("/recherche.csv", query_string={"q": COMMON_WORD})
        lines = response.get_data(as_text=True).strip().splitlines()
        assert len(lines) == 1 + 3
        assert response.headers["X-Export-Limit"] == "3"
    finally:
        app.extensions["archive"].close()


def test_healthz_reports_index_generation_articles_and_last_crawl(client: FlaskClient) -> None:
    body = api(client, "/healthz")
    assert body["status"] == "ok"
    assert body["index"]["documents"] == 41 and body["index"]["generation"] >= 1
    assert body["archive"]["articles"] == 41
    assert body["last_crawl"]["status"] == "complete"


def test_workers_pick_up_a_new_generation_and_a_swapped_rebuild(tmp_path: Path) -> None:
    from archive.models import Article
    from archive.store import Archive
    from indexer.update import update_index

    built = build_archive(tmp_path, 6, edits=0)
    settings = load_settings(environ={}, data_dir=tmp_path, searcher_check_seconds=0.0)
    app = create_app({"SETTINGS": settings, "TESTING": True})
    client = app.test_client()
    try:
        assert api(client, "/api/search", q="zanzibarite")["total"] == 0
        first = api(client, "/healthz")["index"]
        with Archive.open(tmp_path / "archive.sqlite3") as archive:
            archive.articles.save_article(
                Article(url="https://sn.notrecontinent.com/2024/06/01/nouveau/",
                        title="Un minerai nommé zanzibarite", body="La zanzibarite fascine.",
                        author="Nouvel Auteur", published=date(2024, 6, 1)),
                capture_id=None, seen_at=built.corpus.article(0).published_at,
            )
        update_index(tmp_path / "archive.sqlite3", tmp_path / "index")
        assert api(client, "/api/search", q="zanzibarite")["total"] == 1
        update_index(tmp_path / "archive.sqlite3", tmp_path / "index", full=True)
        rebuilt = api(client, "/healthz")["index"]
        assert rebuilt["build"] != first["build"]
        assert api(client, "/api/search", q="zanzibarite")["total"] == 1
    finally:
        app.extensions["archive"].close()


# ------------------------------------------------------------------ operating files

def test_a_worker_collects_garbage_rarely_and_never_rescans_what_it_loaded_first() -> None:
    import gc

    from archive.web.worker import GC_THRESHOLDS, tune_collector

    before = gc.get_threshold()
    try:
        tune_collector()
        assert gc.get_threshold() == GC_THRESHOLDS
        assert GC_THRESHOLDS[0] >= 10 * before[0]
        assert gc.get_freeze_count() > 0  # what the worker loaded is out of the collector's way
    finally:
        gc.unfreeze()
        gc.set_threshold(*before)


def test_wsgi_module_and_gunicorn_config_follow_the_settings(
    monkeypatch: pytest.MonkeyPatch, built: BuiltArchive
) -> None:
    import runpy

    root = Path(__file__).resolve().parents[1]
    monkeypatch.setenv("ARCHIVE_WEB_WORKERS", "3")
    monkeypatch.setenv("ARCHIVE_WEB_BIND", "127.0.0.1:8123")
    config = runpy.run_path(str(root / "gunicorn.conf.py"))
    assert (config["workers"], config["bind"], config["worker_class"]) == (
        3, "127.0.0.1:8123", "archive.web.worker.FrenchErrorsWorker")
    from gunicorn.workers.gthread import ThreadWorker

    from archive.web.worker import FrenchErrorsWorker

    assert issubclass(FrenchErrorsWorker, ThreadWorker)  # gunicorn's gthread, French refusals
    assert config["preload_app"] is False and config["accesslog"] == "-"
    monkeypatch.setenv("ARCHIVE_DATA_DIR", str(built.data_dir))
    app = runpy.run_path(str(root / "wsgi.py"))["app"]
    try:
        assert isinstance(app, Flask)
    finally:
        app.extensions["archive"].close()


def test_serve_command_is_documented(run_cli) -> None:  # type: ignore[no-untyped-def]
    code, out, _ = run_cli("serve", "--help")
    assert code == 0 and "--port" in out and "gunicorn" in out


# ------------------------------------------------------------------ status and earlier versions

def test_api_status_filter_lists_edited_or_withdrawn_articles(
        client: FlaskClient, built: BuiltArchive) -> None:
    edited = api(client, "/api/search", statut="modifié", taille=100)
    assert {hit["id"] for hit in edited["hits"]} == set(built.edited)
    assert all(hit["versions"] == 2 for hit in edited["hits"])
    assert edited["query"]["statut"] == "modifie"
    withdrawn = api(client, "/api/search", statut="retire", taille=100)
    assert [hit["id"] for hit in withdrawn["hits"]] == [built.withdrawn]
    unchanged = api(client, "/api/search", statut="inchangé", taille=100)
    assert not {hit["id"] for hit in unchanged["hits"]} & {*built.edited, built.withdrawn}


def test_unknown_status_is_a_400_in_french(client: FlaskClient) -> None:
    body = api(client, "/api/search", 400, q=COMMON_WORD, statut="supprimé")
    assert "statut" in body["error"]["message"]
    assert "inconnu" in html(client, "/recherche", 400, q=COMMON_WORD, statut="x")


def test_earlier_versions_option_says_which_version_matched(
        client: FlaskClient, built: BuiltArchive) -> None:
    first = built.edited[0]
    original = api(client, f"/api/articles/{first}")["versions"][0]["body"]
    words = original.split("\n\n")[0].split(" ")[:2]  # became "W1 très W2" in version 2
    quoted = '"' + " ".join(words) + '"'
    without = {hit["id"] for hit in api(client, "/api/search", q=quoted, taille=100)["hits"]}
    with_earlier = api(client, "/api/search", q=quoted, anterieures="1", taille=100)
    assert first not in without
    found = {hit["id"]: hit["earlier_versions"] for hit in with_earlier["hits"]}
    assert found[first] == [1]
    assert with_earlier["query"]["anterieures"] is True


def test_fixed_links_and_article_links_follow_the_script_root(client: FlaskClient) -> None:
    mounted = client.get("/recherche", query_string={"q": "gouvernement"},
                         base_url="http://localhost/archive/").get_data(as_text=True)
    assert 'href="/archive/static/style.css"' in mounted
    assert 'action="/archive/recherche"' in mounted
    assert re.search(r'href="/archive/article/\d+\?q=gouv', mounted)
    plain = html(client, "/recherche", q="gouvernement")
    assert 'href="/static/style.css"' in plain and 'action="/recherche"' in plain
    assert re.search(r'href="/article/\d+\?q=gouv', plain) and "/archive/" not in plain


def test_api_hits_link_their_archived_copy_and_their_record_by_number(
        client: FlaskClient) -> None:
    body = api(client, "/api/search", q="gouvernement")
    assert body["hits"]
    for hit in body["hits"]:
        assert hit["archived_url"] == f"http://localhost/article/{hit['id']}"
        assert hit["api_url"] == f"http://localhost/api/articles/{hit['id']}"
        assert client.get(hit["api_url"]).get_json()["id"] == hit["id"]
