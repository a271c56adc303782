"""Takedown without destroying evidence: ``hide`` withdraws an article from every public surface
(pages, search, API, feeds, exports) with a French 410, its versions and captures stay archived,
every hide and unhide is recorded, and the index follows at its next update."""

from __future__ import annotations

import csv
import io
import os
import re
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest
from flask import Flask
from flask.testing import FlaskClient
from web_archive import BuiltArchive, build_archive

from archive.config import load_settings
from archive.store import Archive
from archive.web import create_app
from archive.web import services as web_services
from indexer.update import update_index

REASON = "demande de retrait n° 2024-17 (données personnelles)"


@pytest.fixture(scope="module")
def built(tmp_path_factory: pytest.TempPathFactory) -> BuiltArchive:
    return build_archive(tmp_path_factory.mktemp("takedown-data"), 12, edits=2)


@pytest.fixture(scope="module")
def app(built: BuiltArchive) -> Iterator[Flask]:
    # Every index generation and archive change is looked for at each request, so what the
    # tests assert right after `hide`, `unhide` or an index run never waits on a timer.
    settings = load_settings(environ={}, data_dir=built.data_dir, searcher_check_seconds=0.0)
    with pytest.MonkeyPatch.context() as patch:
        patch.setattr(web_services, "CHANGE_CHECK_SECONDS", 0.0)
        application = create_app({"SETTINGS": settings, "TESTING": True})
        yield application
        application.extensions["archive"].close()


@pytest.fixture
def client(app: Flask) -> FlaskClient:
    return app.test_client()


def archive_cli(built: BuiltArchive, *args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "archive", *args], capture_output=True, text=True, timeout=120,
        env=dict(os.environ, ARCHIVE_DATA_DIR=str(built.data_dir)))


def surfaces(client: FlaskClient, article_id: int, title_word: str) -> dict[str, bool]:
    """Return, surface by surface, whether the article shows there."""
    mark = f"/article/{article_id}"
    csv_text = client.get(f"/recherche.csv?q={title_word}").get_data(as_text=True)
    csv_ids = {row["id"] for row in csv.DictReader(io.StringIO(csv_text.lstrip("\ufeff")))}
    api_ids = {hit["id"] for hit in client.get(f"/api/search?q={title_word}").get_json()["hits"]}
    exported = {str(row["id"]) for row in
                client.get(f"/recherche.json?q={title_word}").get_json()["articles"]}
    return {
        # A hit links to its article with the search (?q=…), for the way back.
        "results page": re.search(f'href="{mark}[?"]', client.get(
            f"/recherche?q={title_word}").get_data(as_text=True)) is not None,
        "api search": article_id in api_ids,
        "atom": mark in client.get(f"/recherche.atom?q={title_word}").get_data(as_text=True),
        "csv export": str(article_id) in csv_ids,
        "json export": str(article_id) in exported,
    }


def distinctive_word(built: BuiltArchive, article_id: int) -> str:
    with Archive.open(built.data_dir / "archive.sqlite3", readonly=True) as archive:
        article = archive.reads.get_article(article_id)
    assert article is not None
    return max(article.title.split(), key=len).strip(",.:;«»!?")


def test_hidden_article_leaves_every_public_surface_and_comes_back_when_unhidden(
        client: FlaskClient, built: BuiltArchive) -> None:
    article_id = built.edited[0]
    word = distinctive_word(built, article_id)
    assert all(surfaces(client, article_id, word).values()), surfaces(client, article_id, word)

    done = archive_cli(built, "hide", str(article_id), "--reason", REASON)
    assert done.returncode == 0, done.stderr
    assert f"article {article_id}" in done.stdout

    page = client.get(f"/article/{article_id}")
    assert page.status_code == 410
    text = page.get_data(as_text=True)
    assert "archive publique à la demande" in text and " UTC" in text
    for path in (f"/article/{article_id}/version/1", f"/article/{article_id}/diff"):
        assert client.get(path).status_code == 410, path
    api = client.get(f"/api/articles/{article_id}")
    assert api.status_code == 410 and "à la demande" in api.get_json()["error"]["message"]
    # Before the index has been updated: the pages already leave the article out.
    assert not any(surfaces(client, article_id, word).values()), surfaces(client, article_id,
                                                                          word)
    report = update_index(built.data_dir / "archive.sqlite3", built.data_dir / "index")
    assert report.hidden == 1 and "1 masqué sur demande" in report.summary()
    with Archive.open(built.data_dir / "archive.sqlite3", readonly=True) as archive:
        assert len(archive.articles.versions(article_id)) == 2  # the evidence stays
        stored = archive.reads.get_article(article_id)
        assert stored is not None and stored.hidden and stored.hidden_reason == REASON
        assert [t.action for t in archive.takedowns.records(article_id)] == ["hide"]
    searched = client.get(f"/api/search?q={word}").get_json()
    assert article_id not in {hit["id"] for hit in searched["hits"]}
    assert not any(surfaces(client, article_id, word).values())

    back = archive_cli(built, "unhide", str(article_id), "--reason", "demande retirée")
    assert back.returncode == 0, back.stderr
    update_index(built.data_dir / "archive.sqlite3", built.data_dir / "index")
    assert client.get(f"/article/{article_id}").status_code == 200
    assert all(surfaces(client, article_id, word).values()), surfaces(client, article_id, word)
    with Archive.open(built.data_dir / "archive.sqlite3", readonly=True) as archive:
        record = archive.takedowns.records(article_id)
    assert [(t.action, t.reason) for t in record] == [("hide", REASON),
                                                      ("unhide", "demande retirée")]
    assert record[0].at <= record[1].at


def test_hidden_article_leaves_author_and_date_listings(
        client: FlaskClient, built: BuiltArchive) -> None:
    article_id = built.ids[7]
    with Archive.open(built.data_dir / "archive.sqlite3", readonly=True) as archive:
        article = archive.reads.get_article(article_id)
    assert article is not None and article.published is not None and article.author_slug
    author_page = f"/auteur/{article.author_slug}"
    month_page = f"/archives/{article.published:%Y}/{article.published:%m}/"
    mark = f'href="/article/{article_id}"'
    assert mark in client.get(author_page).get_data(as_text=True)
    assert mark in client.get(month_page).get_data(as_text=True)
    hidden = archive_cli(built, "hide", article.url, "--reason", REASON)
    assert hidden.returncode == 0, hidden.stderr
    try:
        author = client.get(author_page)
        assert author.status_code == 404 or mark not in author.get_data(as_text=True)
        assert mark not in client.get(month_page).get_data(as_text=True)
        assert mark not in client.get("/").get_data(as_text=True)
        health = client.get("/healthz").get_json()
        assert health["archive"]["hidden"] == 1
    finally:
        assert archive_cli(built, "unhide", article.url, "--reason", "fin").returncode == 0


def test_hide_refuses_unknown_articles_a_second_hide_and_a_missing_reason(
        built: BuiltArchive) -> None:
    unknown = archive_cli(built, "hide", "https://sn.notrecontinent.com/nulle-part/",
                          "--reason", REASON)
    assert unknown.returncode == 2 and "aucun article archivé" in unknown.stderr
    assert archive_cli(built, "hide", "999999", "--reason", REASON).returncode == 2
    no_reason = archive_cli(built, "hide", str(built.ids[2]))
    assert no_reason.returncode == 2 and "--reason" in no_reason.stderr
    blank = archive_cli(built, "hide", str(built.ids[2]), "--reason", "  ")
    assert blank.returncode == 2 and "reason" in blank.stderr
    assert archive_cli(built, "hide", str(built.ids[2]), "--reason", REASON).returncode == 0
    again = archive_cli(built, "hide", str(built.ids[2]), "--reason", REASON)
    assert again.returncode == 2 and "déjà masqué" in again.stderr
    assert archive_cli(built, "unhide", str(built.ids[2]), "--reason", "fin").returncode == 0
    not_hidden = archive_cli(built, "unhide", str(built.ids[2]), "--reason", "fin")
    assert not_hidden.returncode == 2 and "n'est pas masqué" in not_hidden.stderr
    for output in (unknown, no_reason, again, not_hidden):
        assert "Traceback" not in output.stderr


def test_hide_on_a_missing_archive_says_so(tmp_path: Path) -> None:
    done = subprocess.run(
        [sys.executable, "-m", "archive", "hide", "1", "--reason", REASON],
        capture_output=True, text=True, timeout=120,
        env=dict(os.environ, ARCHIVE_DATA_DIR=str(tmp_path)))
    assert done.returncode == 6 and "aucune archive" in done.stderr
    assert not (tmp_path / "archive.sqlite3").exists()


def test_full_rebuild_leaves_hidden_articles_out(built: BuiltArchive, tmp_path: Path) -> None:
    article_id = built.ids[3]
    assert archive_cli(built, "hide", str(article_id), "--reason", REASON).returncode == 0
    try:
        report = update_index(built.data_dir / "archive.sqlite3", tmp_path / "index", full=True)
        with Archive.open(built.data_dir / "archive.sqlite3", readonly=True) as archive:
            assert report.documents == archive.reads.stats().articles - 1
    finally:
        assert archive_cli(built, "unhide", str(article_id), "--reason", "fin").returncode == 0
