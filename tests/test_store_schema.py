"""The archive file: created, versioned, migrated in place, refused when foreign or too new."""

from __future__ import annotations

import sqlite3
from datetime import UTC, date, datetime
from pathlib import Path

import pytest

from archive.errors import SchemaTooNew, StoreError
from archive.models import Article
from archive.store import SCHEMA_VERSION, Archive
from archive.store.schema import MIGRATIONS

SEEN = datetime(2024, 3, 1, 12, 0, tzinfo=UTC)


def _article(url: str = "https://sn.notrecontinent.com/2024/02/01/eau/") -> Article:
    return Article(url=url, title="L'eau à Dakar", body="Premier paragraphe.",
                   author="Aïssatou N'Diaye", published=date(2024, 2, 1))


def test_new_archive_is_created_in_wal_mode_with_current_schema(tmp_path: Path) -> None:
    path = tmp_path / "deep" / "archive.sqlite3"
    with Archive.open(path) as archive:
        assert archive.schema_version() == SCHEMA_VERSION
    conn = sqlite3.connect(path)
    try:
        assert conn.execute("PRAGMA journal_mode").fetchone()[0] == "wal"
        applied = [row[0] for row in conn.execute("SELECT version FROM schema_version")]
    finally:
        conn.close()
    assert applied == [m.version for m in MIGRATIONS]


def test_version_1_archive_is_migrated_in_place_keeping_its_articles(tmp_path: Path) -> None:
    path = tmp_path / "archive.sqlite3"
    conn = sqlite3.connect(path)
    for statement in MIGRATIONS[0].statements:
        conn.execute(statement)
    conn.execute("INSERT INTO schema_version VALUES (1, 'initial', '2024-01-01T00:00:00+00:00')")
    conn.execute("INSERT INTO authors VALUES ('awa ba', 'awa-ba')")
    conn.execute(
        """INSERT INTO articles (id, url, title, author, author_key, published, content_hash,
               version_count, status, withdrawn_at, withdrawn_reason, first_seen, last_seen,
               change_seq)
           VALUES (7, 'https://sn.notrecontinent.com/2023/05/04/riz/', 'Le riz', 'Awa Ba',
               'awa ba', '2023-05-04', 'h2', 2, 'withdrawn', '2024-01-10T00:00:00.000000+00:00',
               '404', '2023-05-05T00:00:00.000000+00:00', '2024-01-09T00:00:00.000000+00:00',
               3)""")
    for number, body in ((1, "Ancien texte."), (2, "Texte corrigé.")):
        conn.execute(
            """INSERT INTO versions (article_id, number, content_hash, title, author, published,
                   body, first_seen, last_seen)
               VALUES (7, ?, ?, 'Le riz', 'Awa Ba', '2023-05-04', ?,
                   '2023-05-05T00:00:00.000000+00:00', '2024-01-09T00:00:00.000000+00:00')""",
            (number, f"h{number}", body))
    conn.commit()
    conn.close()

    with Archive.open(path) as archive:
        assert archive.schema_version() == SCHEMA_VERSION
        article = archive.reads.get_article(7)
        assert article is not None
        assert (article.body, article.status, article.version_count) == (
            "Texte corrigé.", "withdrawn", 2)
        assert [v.body for v in archive.articles.versions(7)] == ["Ancien texte.", "Texte corrigé."]
        assert [(e.kind, e.detail) for e in archive.articles.history(7)] == [
            ("archived", None), ("changed", "version 2"), ("withdrawn", "404")]
        assert archive.articles.save_article(_article(), capture_id=None,
                                             seen_at=SEEN).outcome == "new"


def test_archive_from_a_newer_program_is_refused_untouched(tmp_path: Path) -> None:
    path = tmp_path / "archive.sqlite3"
    with Archive.open(path):
        pass
    conn = sqlite3.connect(path)
    conn.execute("INSERT INTO schema_version VALUES (?, 'future', '2030-01-01')",
                 (SCHEMA_VERSION + 5,))
    conn.commit()
    conn.close()
    with pytest.raises(SchemaTooNew) as caught:
        Archive.open(path)
    assert str(caught.value) == (
        f"archive.sqlite3 a été écrite par une version plus récente (schéma "
        f"{SCHEMA_VERSION + 5} > {SCHEMA_VERSION}) ; mettez le programme à jour")
    with pytest.raises(SchemaTooNew):
        Archive.open(path, readonly=True)


@pytest.mark.parametrize("content", [
    b"this is a text file, not a database\n" * 200,
    b"SQLite format 3\x00" + b"\xff" * 4080,
])
def test_file_that_is_not_an_archive_gives_an_actionable_error_and_stays_intact(
        tmp_path: Path, content: bytes) -> None:
    path = tmp_path / "archive.sqlite3"
    path.write_bytes(content)
    with pytest.raises(StoreError) as caught:
        Archive.open(path)
    assert "mettez-la de côté" in str(caught.value)
    assert path.read_bytes() == content


def test_sqlite_database_of_another_program_is_refused(tmp_path: Path) -> None:
    path = tmp_path / "archive.sqlite3"
    conn = sqlite3.connect(path)
    conn.execute("CREATE TABLE recipes (name TEXT)")
    conn.commit()
    conn.close()
    with pytest.raises(StoreError, match="pas une archive"):
        Archive.open(path)


def test_cli_reports_a_damaged_archive_in_one_line(run_cli, data_dir: Path) -> None:  # type: ignore[no-untyped-def]
    (data_dir / "archive.sqlite3").write_bytes(b"garbage" * 1000)
    code, _, stderr = run_cli("reparse")
    assert code == 6
    assert stderr.startswith("erreur : ") and stderr.count("\n") == 1
    assert "Traceback" not in stderr


def test_readonly_open_never_writes(tmp_path: Path) -> None:
    path = tmp_path / "archive.sqlite3"
    with Archive.open(path) as archive:
        archive.articles.save_article(_article(), capture_id=None, seen_at=SEEN)
    before = {p.name: p.read_bytes() for p in tmp_path.iterdir() if p.is_file()}
    with Archive.open(path, readonly=True) as archive:
        assert archive.reads.get_article(1) is not None
        assert archive.reads.stats().articles == 1
        with pytest.raises(StoreError, match="lecture seule"):
            archive.articles.save_article(_article("https://sn.notrecontinent.com/x/"),
                                 capture_id=None, seen_at=SEEN)
        with pytest.raises(StoreError, match="lecture seule"):
            archive.crawl_state.start_run(["https://sn.notrecontinent.com/"])
    after = {p.name: p.read_bytes() for p in tmp_path.iterdir() if p.is_file()}
    assert after["archive.sqlite3"] == before["archive.sqlite3"]
    assert after.get("archive.sqlite3-wal", b"") == before.get("archive.sqlite3-wal", b"")


def test_readonly_open_of_a_missing_archive_does_not_create_it(tmp_path: Path) -> None:
    path = tmp_path / "archive.sqlite3"
    with pytest.raises(StoreError, match="lancez d'abord `python -m archive crawl`"):
        Archive.open(path, readonly=True)
    assert not path.exists()
