"""What a web worker keeps between requests is dropped as soon as the archive or the index moves."""

from __future__ import annotations

from dataclasses import replace
from pathlib import Path

import pytest
from search_fixtures import SEEN, archive_and_index, article

from archive.config import load_settings
from archive.store import Archive
from archive.web import create_app
from archive.web import services as web_services


def test_author_list_follows_the_archive_without_waiting_a_minute(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(web_services, "CHANGE_CHECK_SECONDS", 0.0)
    archive_and_index(tmp_path, [article("un", "Premier", "Le paludisme recule.",
                                         author="Moussa Diop")])
    app = create_app({"DATA_DIR": tmp_path, "TESTING": True})
    try:
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
    finally:
        app.extensions["archive"].close()


def test_cached_results_page_is_not_served_after_a_new_index_generation(tmp_path: Path) -> None:
    archive_and_index(tmp_path, [article("un", "Premier", "Le choléra recule.")])
    settings = replace(load_settings(data_dir=tmp_path), searcher_check_seconds=0.0)
    app = create_app({"SETTINGS": settings, "TESTING": True})
    try:
        client = app.test_client()
        assert client.get("/api/search?q=choléra").get_json()["total"] == 1
        assert client.get("/api/search?q=choléra").get_json()["total"] == 1
        archive_and_index(tmp_path, [article("deux", "Second", "Le choléra revient.")])
        assert client.get("/api/search?q=choléra").get_json()["total"] == 2
    finally:
        app.extensions["archive"].close()
