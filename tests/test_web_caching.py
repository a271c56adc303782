"""What a web worker keeps between requests is dropped as soon as the archive or the index moves."""

from __future__ import annotations

import gzip
import http.client
import json
import os
import sqlite3
from collections.abc import Callable, Iterator
from dataclasses import replace
from pathlib import Path
from typing import Any

import pytest
from flask import Flask
from search_fixtures import SEEN, archive_and_index, article
from web_servers import gunicorn

from archive.config import load_settings
from archive.store import Archive
from archive.web import create_app
from archive.web import services as web_services
from archive.web.pagecache import PageCache, SharedPages

OpenApp = Callable[[dict[str, Any]], Flask]


@pytest.fixture
def open_app() -> Iterator[OpenApp]:
    """Make web apps for one test; each one's services close when the test ends."""
    apps: list[Flask] = []

    def opened(config: dict[str, Any]) -> Flask:
        app = create_app(config)
        apps.append(app)
        return app

    yield opened
    for app in apps:
        app.extensions["archive"].close()


def test_author_list_follows_the_archive_without_waiting_a_minute(
        tmp_path: Path, open_app: OpenApp, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(web_services, "CHANGE_CHECK_SECONDS", 0.0)
    archive_and_index(tmp_path, [article("un", "Premier", "Le paludisme recule.",
                                         author="Moussa Diop")])
    app = open_app({"DATA_DIR": tmp_path, "TESTING": True})
    client = app.test_client()
    assert client.get("/api/authors").get_json()["total"] == 1
    assert "Moussa Diop" in client.get("/recherche?q=paludisme").get_data(as_text=True)
    with Archive.open(tmp_path / "archive.sqlite3") as archive:
        archive.articles.save_article(article("deux", "Second", "Le paludisme recule encore.",
                                     author="Fatou Sène"), capture_id=None, seen_at=SEEN)
    names = [a["name"] for a in client.get("/api/authors").get_json()["authors"]]
    assert names == ["Fatou Sène", "Moussa Diop"]
    assert '<option value="Fatou Sène">' in client.get("/recherche?q=paludisme").get_data(
        as_text=True)


def test_cached_results_page_is_not_served_after_a_new_index_generation(
        tmp_path: Path, open_app: OpenApp) -> None:
    archive_and_index(tmp_path, [article("un", "Premier", "Le choléra recule.")])
    settings = replace(load_settings(data_dir=tmp_path), searcher_check_seconds=0.0)
    app = open_app({"SETTINGS": settings, "TESTING": True})
    client = app.test_client()
    assert client.get("/api/search?q=choléra").get_json()["total"] == 1
    assert client.get("/api/search?q=choléra").get_json()["total"] == 1
    archive_and_index(tmp_path, [article("deux", "Second", "Le choléra revient.")])
    assert client.get("/api/search?q=choléra").get_json()["total"] == 2


def test_a_client_holding_the_current_results_page_gets_304_without_a_search(
        tmp_path: Path, open_app: OpenApp) -> None:
    archive_and_index(tmp_path, [article("un", "Premier", "Le paludisme recule.")])
    app = open_app({"DATA_DIR": tmp_path, "TESTING": True})
    client = app.test_client()
    client.get("/api/search?q=paludisme&mots=1")  # waits for the associated words
    first = client.get("/recherche?q=paludisme")
    tag = first.headers["ETag"]
    assert first.status_code == 200 and tag.startswith('W/"')
    again = client.get("/recherche?q=paludisme", headers={"If-None-Match": tag})
    assert again.status_code == 304 and again.data == b""
    assert again.headers["ETag"] == tag
    assert again.headers["Cache-Control"] == "public, max-age=60"
    api = client.get("/api/search?q=paludisme")
    assert api.headers["ETag"] == tag
    assert client.get("/api/search?q=paludisme",
                      headers={"If-None-Match": tag}).status_code == 304
    refused = client.get("/recherche?q=paludisme&page=0", headers={"If-None-Match": tag})
    assert refused.status_code == 400 and "ETag" not in refused.headers


def test_a_kept_page_is_answered_without_reading_its_parameters_again(
        tmp_path: Path, open_app: OpenApp, monkeypatch: pytest.MonkeyPatch) -> None:
    from archive.web import api as web_api
    from archive.web import pages as web_pages

    archive_and_index(tmp_path, [article("un", "Premier", "Le paludisme recule.")])
    app = open_app({"DATA_DIR": tmp_path, "TESTING": True})
    client = app.test_client()
    client.get("/api/search?q=paludisme&mots=1")  # waits for the associated words
    parsed: list[str] = []
    for module in (web_pages, web_api):
        real = module.parse_search

        def counted(args: Any, real: Any = real, **options: Any) -> Any:
            parsed.append(args.get("q", ""))
            return real(args, **options)

        monkeypatch.setattr(module, "parse_search", counted)
    for url in ("/recherche?q=paludisme", "/api/search?q=paludisme"):
        drawn = client.get(url)
        kept = client.get(url)
        assert (drawn.headers["X-Archive-Cache"], kept.headers["X-Archive-Cache"]) == (
            "miss", "hit")
        assert kept.data == drawn.data
    assert parsed == ["paludisme", "paludisme"]  # once per address, when drawn
    # A refused address is never kept, so it is read (and refused) every time.
    for _ in range(2):
        assert client.get("/recherche?q=paludisme&page=0").status_code == 400
    assert len(parsed) == 4


def test_a_page_is_kept_under_the_address_as_the_client_sent_it(
        tmp_path: Path, open_app: OpenApp) -> None:
    archive_and_index(tmp_path, [article("un", "Premier", "Le paludisme recule.")])
    app = open_app({"DATA_DIR": tmp_path, "TESTING": True})
    client = app.test_client()
    client.get("/api/search?q=paludisme&mots=1")  # waits for the associated words
    first = client.get("/recherche?q=paludisme", base_url="http://archive.example/")
    assert first.headers["X-Archive-Cache"] == "miss"
    # Another host, scheme, script root or spelling of the query is another page (some pages
    # carry absolute links); the same address as sent finds the kept one.
    for base, query in (("http://miroir.example/", "q=paludisme"),
                        ("https://archive.example/", "q=paludisme"),
                        ("http://archive.example/archive/", "q=paludisme"),
                        ("http://archive.example/", "q=paludisme&page=1")):
        other = client.get(f"/recherche?{query}", base_url=base)
        assert other.status_code == 200 and other.headers["X-Archive-Cache"] == "miss", base
    again = client.get("/recherche?q=paludisme", base_url="http://archive.example/")
    assert again.headers["X-Archive-Cache"] == "hit" and again.data == first.data


def test_hiding_an_article_changes_the_tag_and_drops_the_kept_page_at_once(
        tmp_path: Path, open_app: OpenApp) -> None:
    ids = archive_and_index(tmp_path, [article("un", "Premier", "Le paludisme recule."),
                                       article("deux", "Second", "Le paludisme revient.")])
    app = open_app({"DATA_DIR": tmp_path, "TESTING": True})
    client = app.test_client()
    client.get("/api/search?q=paludisme&mots=1")  # waits for the associated words
    first = client.get("/recherche?q=paludisme")
    assert "Second" in first.get_data(as_text=True)
    assert first.headers["X-Archive-Cache"] == "miss"
    kept = client.get("/recherche?q=paludisme")
    assert kept.data == first.data and kept.headers["X-Archive-Cache"] == "hit"
    assert app.extensions["archive"].pages.hits == 1
    hidden = ids["https://sn.notrecontinent.com/2024/01/15/deux/"]
    with Archive.open(tmp_path / "archive.sqlite3") as archive:
        archive.takedowns.hide(hidden, reason="demande de l'auteur", when=SEEN)
    after = client.get("/recherche?q=paludisme",
                       headers={"If-None-Match": first.headers["ETag"]})
    assert after.status_code == 200 and after.headers["ETag"] != first.headers["ETag"]
    assert "Second" not in after.get_data(as_text=True)
    assert "Premier" in after.get_data(as_text=True)


def test_a_new_index_generation_changes_the_tag(tmp_path: Path, open_app: OpenApp) -> None:
    archive_and_index(tmp_path, [article("un", "Premier", "Le choléra recule.")])
    settings = replace(load_settings(data_dir=tmp_path), searcher_check_seconds=0.0)
    app = open_app({"SETTINGS": settings, "TESTING": True})
    client = app.test_client()
    tag = client.get("/recherche?q=choléra").headers["ETag"]
    archive_and_index(tmp_path, [article("deux", "Second", "Le choléra revient.")])
    answer = client.get("/recherche?q=choléra", headers={"If-None-Match": tag})
    assert answer.status_code == 200 and answer.headers["ETag"] != tag
    assert "Second" in answer.get_data(as_text=True)


def test_a_browser_accepting_gzip_gets_the_page_compressed_and_any_other_client_plain(
        tmp_path: Path, open_app: OpenApp) -> None:
    archive_and_index(tmp_path, [article("un", "Premier", "Le paludisme recule à Dakar.")])
    app = open_app({"DATA_DIR": tmp_path, "TESTING": True})
    client = app.test_client()
    client.get("/api/search?q=paludisme&mots=1")  # waits for the associated words
    browser = {"Accept-Encoding": "gzip, deflate, br"}
    drawn = client.get("/recherche?q=paludisme", headers=browser)
    assert drawn.headers["X-Archive-Cache"] == "miss"
    assert drawn.headers["Content-Encoding"] == "gzip"
    page = gzip.decompress(drawn.data)
    assert "Premier" in page.decode() and len(drawn.data) < len(page)
    assert int(drawn.headers["Content-Length"]) == len(drawn.data)
    plain = client.get("/recherche?q=paludisme")
    assert plain.headers["X-Archive-Cache"] == "hit"
    assert "Content-Encoding" not in plain.headers and plain.data == page
    kept = client.get("/recherche?q=paludisme", headers=browser)
    assert kept.headers["X-Archive-Cache"] == "hit" and kept.data == drawn.data
    refused = client.get("/recherche?q=paludisme", headers={"Accept-Encoding": "gzip;q=0"})
    assert "Content-Encoding" not in refused.headers and refused.data == page
    held = client.get("/recherche?q=paludisme",
                      headers={**browser, "If-None-Match": drawn.headers["ETag"]})
    assert held.status_code == 304
    for answer in (drawn, plain, kept, held):
        assert "Accept-Encoding" in answer.headers["Vary"]
    api = client.get("/api/search?q=paludisme", headers=browser)
    assert api.headers["Content-Encoding"] == "gzip"
    assert json.loads(gzip.decompress(api.data))["total"] == 1


def test_pages_are_kept_compressed_so_their_budget_holds_more_of_them(
        tmp_path: Path, open_app: OpenApp) -> None:
    archive_and_index(tmp_path, [article("un", "Premier", "Le paludisme recule à Dakar.")])
    app = open_app({"DATA_DIR": tmp_path, "TESTING": True})
    client = app.test_client()
    page = client.get("/recherche?q=paludisme").data
    pages = app.extensions["archive"].pages
    (body, mimetype), = pages._pages.values()
    assert mimetype == "text/html" and gzip.decompress(body) == page
    assert pages._size == len(body) < len(page) / 2


def test_kept_pages_stay_within_their_byte_budget_dropping_the_least_recent() -> None:
    cache = PageCache(max_bytes=16_000)
    page = bytes(900)
    for n in range(20):
        cache.put((f"/recherche?q={n}", "t"), page, "text/html")
    assert cache.get(("/recherche?q=2", "t")) is None  # 17 pages of 900 bytes fit, not 20
    assert cache.get(("/recherche?q=19", "t")) == (page, "text/html")
    cache.get(("/recherche?q=3", "t"))
    cache.put(("/recherche?q=20", "t"), page, "text/html")
    assert cache.get(("/recherche?q=4", "t")) is None  # the least recently used went first
    assert cache.get(("/recherche?q=3", "t")) is not None
    cache.put(("/grande", "t"), bytes(1001), "text/html")  # past a sixteenth of the budget
    assert cache.get(("/grande", "t")) is None


def test_a_page_drawn_by_one_worker_is_served_by_another_of_the_same_server(
        tmp_path: Path, open_app: OpenApp) -> None:
    data = tmp_path / "data"
    data.mkdir()
    archive_and_index(data, [article("un", "Premier", "Le choléra recule.")])
    shared = tmp_path / "pages.sqlite3"
    workers = [open_app({"DATA_DIR": data, "TESTING": True}) for _ in range(2)]
    for app in workers:
        app.extensions["archive"].pages.share(SharedPages(shared), str(data))
    first, second = (app.test_client() for app in workers)
    drawn = first.get("/recherche?q=choléra")
    served = second.get("/recherche?q=choléra")
    assert drawn.headers["X-Archive-Cache"] == "miss"
    assert served.headers["X-Archive-Cache"] == "hit"
    assert served.get_data() == drawn.get_data()
    assert second.get("/recherche?q=recule").headers["X-Archive-Cache"] == "miss"


def test_shared_pages_of_another_data_directory_are_not_served(tmp_path: Path) -> None:
    shared = SharedPages(tmp_path / "pages.sqlite3")
    mine, theirs = PageCache(), PageCache()
    mine.share(shared, "/srv/une")
    theirs.share(shared, "/srv/autre")
    theirs.put(("/recherche?q=eau", "t"), b"<p>autre</p>", "text/html")
    assert mine.get(("/recherche?q=eau", "t")) is None
    assert PageCache().get(("/recherche?q=eau", "t")) is None  # nothing shared: its own only


def test_shared_pages_stay_within_their_byte_budget_dropping_the_oldest(tmp_path: Path) -> None:
    shared = SharedPages(tmp_path / "pages.sqlite3", max_bytes=16_000)
    for n in range(64):  # the budget is checked every 32 pages kept
        shared.put(f"/recherche?q={n}", bytes(900), "text/html")
    with sqlite3.connect(tmp_path / "pages.sqlite3") as db:
        kept = [key for (key,) in db.execute("SELECT key FROM pages ORDER BY rowid")]
        total = db.execute("SELECT sum(size) FROM pages").fetchone()[0]
    assert total <= 16_000 and kept[-1] == "/recherche?q=63"
    assert shared.get("/recherche?q=0") is None and shared.get("/recherche?q=63") is not None
    shared.put("/grande", bytes(1001), "text/html")  # past a sixteenth of the budget
    assert shared.get("/grande") is None


def test_shared_pages_are_measured_from_their_size_index_without_reading_the_pages(
        tmp_path: Path) -> None:
    from archive.web.pagecache import OLDEST_SQL, TOTAL_SQL

    shared = SharedPages(tmp_path / "pages.sqlite3")
    shared.put("/recherche?q=eau", bytes(20_000), "text/html")
    with sqlite3.connect(tmp_path / "pages.sqlite3") as db:
        for query in (TOTAL_SQL, OLDEST_SQL):
            plan = " ".join(row[-1] for row in db.execute(f"EXPLAIN QUERY PLAN {query}"))
            assert "COVERING INDEX pages_size" in plan, (query, plan)
        assert db.execute(TOTAL_SQL).fetchone()[0] == 20_000


def test_gunicorn_workers_share_their_pages_in_a_file_removed_when_the_server_stops(
        tmp_path: Path) -> None:
    data = tmp_path / "data"
    data.mkdir()
    archive_and_index(data, [article("un", "Premier", "Le choléra recule.")])
    # A temporary folder of its own: other servers of this user (another test run) leave
    # their files in the shared one meanwhile.
    temporary = tmp_path / "tmp"
    temporary.mkdir()
    folder = temporary / f"notrecontinent-pages-{os.getuid()}"
    with gunicorn(data, tmp_path, env={"TMPDIR": str(temporary)}) as port:
        conn = http.client.HTTPConnection("127.0.0.1", port, timeout=30)
        try:
            conn.request("GET", "/recherche?q=chol%C3%A9ra")
            answer = conn.getresponse()
            assert answer.status == 200 and b"Premier" in answer.read()
        finally:
            conn.close()
        files = set(folder.glob("*.sqlite3"))
        assert len(files) == 1
        with sqlite3.connect(next(iter(files))) as db:
            keys = [key for (key,) in db.execute("SELECT key FROM pages")]
        assert any("q=chol" in key and key.startswith(str(data)) for key in keys), keys
    assert not list(folder.glob("*.sqlite3*"))
