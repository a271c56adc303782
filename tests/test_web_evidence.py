"""The journalist's evidence on the web: citable versions, the capture itself, what changed.

Everything runs on the demo's own archive (stories crawled over loopback, edited, withdrawn
and brought back between passes), so versions, captures and events are real.
"""

from __future__ import annotations

import csv
import hashlib
import io
import json
import re
from collections.abc import Iterator
from html.parser import HTMLParser
from xml.etree import ElementTree as ET

import pytest
from demo_archive import DemoArchive, build_demo_archive
from flask import Flask
from flask.testing import FlaskClient
from warcio.archiveiterator import ArchiveIterator

from archive.replica.stories import STORIES
from archive.web import create_app

ATOM = "{http://www.w3.org/2005/Atom}"
KEUR_MASSAR = 1  # edited: « 140 familles » becomes « 212 familles », a sentence replaced
KRIBI = 13  # withdrawn (404)


@pytest.fixture(scope="session")
def demo(tmp_path_factory: pytest.TempPathFactory) -> DemoArchive:
    return build_demo_archive(tmp_path_factory.mktemp("demo-data"))


@pytest.fixture(scope="session")
def app(demo: DemoArchive) -> Iterator[Flask]:
    application = create_app({"DATA_DIR": demo.data_dir, "TESTING": True})
    yield application
    application.extensions["archive"].close()


@pytest.fixture
def client(app: Flask) -> FlaskClient:
    return app.test_client()


def page(client: FlaskClient, url: str, status: int = 200) -> str:
    response = client.get(url)
    assert response.status_code == status, response.get_data(as_text=True)[:1500]
    return response.get_data(as_text=True)


class MetaTags(HTMLParser):
    """Collects the <meta name=... content=...> of a page."""

    def __init__(self) -> None:
        super().__init__()
        self.tags: list[tuple[str, str]] = []

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        found = dict(attrs)
        if tag == "meta" and found.get("name"):
            self.tags.append((found["name"] or "", found.get("content") or ""))


def meta_tags(html: str) -> dict[str, list[str]]:
    parser = MetaTags()
    parser.feed(html)
    tags: dict[str, list[str]] = {}
    for name, content in parser.tags:
        tags.setdefault(name, []).append(content)
    return tags


def api_versions(client: FlaskClient, article_id: int) -> list[dict]:
    return client.get(f"/api/articles/{article_id}").get_json()["versions"]


# ------------------------------------------------------------------ versions as citable documents

def test_a_version_permalink_shows_that_text_its_dates_its_hash_and_its_own_citation(
    client: FlaskClient, demo: DemoArchive
) -> None:
    article_id = demo.article_id(KEUR_MASSAR)
    first = api_versions(client, article_id)[0]
    html = page(client, f"/article/{article_id}/version/1")
    assert "140 familles" in html and "212 familles" not in html
    assert first["content_hash"] in html
    assert "Vue la première fois" in html and "Vue la dernière fois" in html
    assert "Modifié sur la plateforme" in html
    cite = html.split('id="titre-citer"', 1)[1]
    assert "Citer cette version" in cite
    assert f"http://localhost/article/{article_id}/version/1" in cite
    assert "version 1 sur 2" in cite and first["content_hash"] in cite


def test_the_article_page_cites_its_current_version_and_shows_the_platform_modified_date(
    client: FlaskClient, demo: DemoArchive
) -> None:
    article_id = demo.article_id(KEUR_MASSAR)
    current = api_versions(client, article_id)[-1]
    html = page(client, f"/article/{article_id}")
    assert "Modifié sur la plateforme" in html.split('id="titre-versions"', 1)[0]
    cite = html.split('id="titre-citer"', 1)[1]
    assert "Citer cet article (version 2)" in cite
    assert f"/article/{article_id}/version/2" in cite and current["content_hash"] in cite


def test_a_version_page_has_no_stray_separator_before_its_links(
    client: FlaskClient, demo: DemoArchive
) -> None:
    html = page(client, f"/article/{demo.article_id(KEUR_MASSAR)}/version/1")
    assert "· Changements" not in html and "· <a" not in html.split("version-links", 1)[1][:200]
    assert "Changements jusqu'à la version actuelle" in html


def test_the_diff_of_a_single_version_says_there_is_nothing_to_compare(
    client: FlaskClient, demo: DemoArchive
) -> None:
    html = page(client, f"/article/{demo.article_id(4)}/diff")
    assert "la version 1 et la version 1" not in html
    assert "Une seule version archivée" in html


def test_article_and_version_pages_carry_highwire_tags_zotero_reads(
    client: FlaskClient, demo: DemoArchive
) -> None:
    story = STORIES[3]
    article_id = demo.article_id(4)
    for url in (f"/article/{article_id}", f"/article/{article_id}/version/1"):
        tags = meta_tags(page(client, url))
        assert tags["citation_title"] == [story.title]
        assert tags["citation_author"] == [story.author]
        assert tags["citation_publication_date"] == [story.published[:10].replace("-", "/")]
        assert tags["citation_journal_title"] == [f"Notre Continent ({story.edition})"]
        assert tags["citation_public_url"] == [f"http://localhost/article/{article_id}/version/1"]


def test_bibtex_and_ris_downloads_name_the_version_and_its_hash(
    client: FlaskClient, demo: DemoArchive
) -> None:
    article_id = demo.article_id(KEUR_MASSAR)
    digest = api_versions(client, article_id)[0]["content_hash"]
    bib = client.get(f"/article/{article_id}/version/1.bib")
    assert bib.mimetype == "application/x-bibtex"
    assert "attachment" in bib.headers["Content-Disposition"]
    text = bib.get_data(as_text=True)
    assert text.startswith(f"@online{{notrecontinent{article_id}v1,")
    assert "author = {{Aïssatou N'Diaye}}" in text and "date = {2024-08-27}" in text
    assert f"url = {{http://localhost/article/{article_id}/version/1}}" in text
    assert digest in text and text.count("{") == text.count("}")
    ris = client.get(f"/article/{article_id}/version/1.ris")
    assert ris.mimetype == "application/x-research-info-systems"
    lines = ris.get_data(as_text=True).split("\r\n")
    assert lines[0] == "TY  - ELEC" and "ER  - " in lines
    assert "AU  - Aïssatou N'Diaye" in lines and "DA  - 2024/08/27" in lines
    assert f"UR  - http://localhost/article/{article_id}/version/1" in lines


def test_an_unknown_version_is_a_404_everywhere(client: FlaskClient, demo: DemoArchive) -> None:
    article_id = demo.article_id(KEUR_MASSAR)
    for suffix in ("", ".bib", ".ris", "/capture", "/capture/contenu", "/capture.warc.gz"):
        assert client.get(f"/article/{article_id}/version/9{suffix}").status_code == 404


# ------------------------------------------------------------------ the capture itself

def test_the_capture_page_shows_date_url_status_and_digest_around_a_sandboxed_frame(
    client: FlaskClient, demo: DemoArchive
) -> None:
    article_id = demo.article_id(KEUR_MASSAR)
    truth = demo.corpus.article(KEUR_MASSAR - 1)
    html = page(client, f"/article/{article_id}/version/1/capture")
    assert "Capturée le" in html and "Statut HTTP</dt><dd>200" in html
    assert truth.path in html
    assert re.search(r"sha1:[A-Z2-7]{32}", html), "the WARC payload digest is shown"
    assert re.search(r"<urn:uuid:[0-9a-f-]{36}>|&lt;urn:uuid:[0-9a-f-]{36}&gt;", html)
    frame = re.search(r"<iframe[^>]*>", html)
    assert frame and 'sandbox=""' in frame.group(0)
    assert f'src="/article/{article_id}/version/1/capture/contenu"' in frame.group(0)


def test_captured_content_is_served_inert_under_a_sandbox_policy(
    client: FlaskClient, demo: DemoArchive
) -> None:
    article_id = demo.article_id(KEUR_MASSAR)
    response = client.get(f"/article/{article_id}/version/1/capture/contenu")
    assert response.status_code == 200 and response.mimetype == "text/html"
    policy = response.headers["Content-Security-Policy"]
    directives = {d.strip().split(" ")[0]: d.strip() for d in policy.split(";")}
    assert directives["sandbox"] == "sandbox", "no allow-scripts, no allow-same-origin"
    assert directives["default-src"] == "default-src 'none'"
    assert "script-src" not in directives and "connect-src" not in directives
    assert response.headers["X-Frame-Options"] == "SAMEORIGIN"
    assert "140 familles" in response.get_data(as_text=True), "the first version's page"


def test_the_warc_record_downloads_as_stored_and_standard_tools_read_it(
    client: FlaskClient, demo: DemoArchive
) -> None:
    article_id = demo.article_id(KEUR_MASSAR)
    truth = demo.corpus.article(KEUR_MASSAR - 1)
    response = client.get(f"/article/{article_id}/version/1/capture.warc.gz")
    assert response.status_code == 200 and response.mimetype == "application/warc"
    assert ".warc.gz" in response.headers["Content-Disposition"]
    record = response.get_data()
    capture_page = page(client, f"/article/{article_id}/version/1/capture")
    assert hashlib.sha256(record).hexdigest() in capture_page
    read = [(r.rec_type, r.rec_headers, r.content_stream().read().decode("utf-8"))
            for r in ArchiveIterator(io.BytesIO(record))]
    assert [kind for kind, _, _ in read] == ["response"]
    _, headers, body = read[0]
    assert headers.get_header("WARC-Target-URI").endswith(truth.path)
    assert headers.get_header("WARC-Payload-Digest") in capture_page
    assert "140 familles" in body


# ------------------------------------------------------------------ what changed or vanished

def test_the_changes_page_lists_edits_withdrawals_and_returns_newest_first(
    client: FlaskClient, demo: DemoArchive
) -> None:
    html = page(client, "/changements")
    kinds = re.findall(r'class="change change-(\w+)"', html)
    assert kinds.count("changed") == len(demo.changes.edited)
    assert kinds.count("withdrawn") == 2 and kinds.count("republished") == 1
    assert kinds[0] == "republished", "the return came last, so it is listed first"
    stamps = re.findall(r'<time datetime="([^"]+)"', html.split('class="changes"', 1)[1])
    assert stamps == sorted(stamps, reverse=True)
    diff = f'/article/{demo.article_id(KEUR_MASSAR)}/diff?de=1&amp;a=2'
    assert diff in html


def test_the_changes_page_filters_by_kind_and_edition_and_refuses_unknown_ones(
    client: FlaskClient, demo: DemoArchive
) -> None:
    html = page(client, "/changements?type=retrait")
    assert set(re.findall(r'class="change change-(\w+)"', html)) == {"withdrawn"}
    assert STORIES[KRIBI - 1].title.replace("'", "&#39;") in html
    assert "Lire la dernière copie" in html
    html = page(client, "/changements?edition=cm&type=retrait")
    assert len(re.findall(r'class="change change-', html)) == 2
    html = page(client, "/changements?edition=ci")
    assert "Aucun changement" in html or 'class="change change-' in html
    assert "retrait" in page(client, "/changements?type=suppression", 400)
    assert "inconnue" in page(client, "/changements?edition=zz", 400)


def test_the_changes_feed_is_valid_atom_that_journalists_subscribe_to(
    client: FlaskClient, demo: DemoArchive
) -> None:
    html = page(client, "/changements?type=retrait")
    link = re.search(r'<link rel="alternate" type="application/atom\+xml" href="([^"]+)"', html)
    assert link and link.group(1) == "/changements.atom?type=retrait"
    response = client.get(link.group(1))
    assert response.mimetype == "application/atom+xml"
    feed = ET.fromstring(response.get_data())
    assert feed.tag == f"{ATOM}feed"
    for required in ("id", "title", "updated", "author"):
        assert feed.find(f"{ATOM}{required}") is not None
    entries = feed.findall(f"{ATOM}entry")
    assert len(entries) == 2
    for entry in entries:
        assert entry.find(f"{ATOM}id").text and entry.find(f"{ATOM}updated").text
        assert entry.find(f"{ATOM}title").text.startswith("Retiré : ")
        assert entry.find(f"{ATOM}link").get("href").startswith("http://localhost/article/")
    assert len({e.find(f"{ATOM}id").text for e in entries}) == 2


def test_the_home_page_withdrawn_count_links_to_the_withdrawals(
    client: FlaskClient, demo: DemoArchive
) -> None:
    html = page(client, "/")
    assert re.search(r'<a href="/changements\?type=retrait">1 article retiré</a>', html)


def test_search_hits_of_edited_articles_say_how_many_times_they_were_modified(
    client: FlaskClient, demo: DemoArchive
) -> None:
    html = page(client, "/recherche?q=familles")
    article_id = demo.article_id(KEUR_MASSAR)
    hit = html.split(f'href="/article/{article_id}?q=familles"', 1)[1].split("</li>", 1)[0]
    assert f'href="/article/{article_id}/diff"' in hit and "modifié 1 fois" in hit
    unchanged = page(client, "/recherche?q=camionneurs")
    assert "modifié" not in unchanged.split('class="hits"', 1)[1].split("</ol>", 1)[0]


# ------------------------------------------------------------------ API and exports

def test_the_api_carries_the_version_number_hash_and_permalinks(
    client: FlaskClient, demo: DemoArchive
) -> None:
    article_id = demo.article_id(KEUR_MASSAR)
    body = client.get(f"/api/articles/{article_id}").get_json()
    assert body["version"] == 2 and body["content_hash"] == body["versions"][-1]["content_hash"]
    assert body["version_url"] == f"http://localhost/article/{article_id}/version/2"
    first = body["versions"][0]
    assert first["url"] == f"http://localhost/article/{article_id}/version/1"
    assert first["capture"]["warc_url"].endswith("/version/1/capture.warc.gz")
    assert body["version_url"] in body["citation"]


def test_exports_carry_modified_date_versions_status_and_hash_and_the_text_on_request(
    client: FlaskClient, demo: DemoArchive
) -> None:
    response = client.get("/recherche.csv?q=familles&sep=;&texte=1")
    assert response.status_code == 200
    rows = list(csv.DictReader(io.StringIO(response.get_data(as_text=True).lstrip("\ufeff")),
                               delimiter=";"))
    row = next(r for r in rows if r["id"] == str(demo.article_id(KEUR_MASSAR)))
    assert row["version"] == "2" and row["nombre_versions"] == "2" and row["statut"] == "modifié"
    assert re.fullmatch(r"[0-9a-f]{64}", row["empreinte_sha256"])
    assert row["date_modification"] and "212 familles" in row["texte"]
    data = json.loads(client.get("/recherche.json?q=familles").get_data())
    record = next(r for r in data["articles"] if r["id"] == demo.article_id(KEUR_MASSAR))
    assert record["version"] == 2 and record["nombre_versions"] == 2 and record["retire"] is False
    assert "texte" not in record
    assert client.get("/recherche.csv?q=familles&sep=|").status_code == 400
    assert client.get("/recherche.json?q=familles&texte=oui").status_code == 400
