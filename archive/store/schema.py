"""The archive's SQLite schema as an ordered list of migrations, applied in place.

Version N of the schema is migrations 1..N applied in order; ``schema_version`` keeps one row
per applied migration. A migration runs inside one transaction with the version bump, so a
kill mid-migration leaves the previous version intact. Never edit a released migration:
append a new one.
"""

from __future__ import annotations

import sqlite3
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path

from archive.errors import SchemaTooNew, StoreError


@dataclass(frozen=True)
class Migration:
    """One step of the schema: its version, what it does, and its SQL statements."""

    version: int
    description: str
    statements: tuple[str, ...]


MIGRATIONS: tuple[Migration, ...] = (
    Migration(1, "articles, versions, captures, crawl state and runs", (
        """CREATE TABLE schema_version (
            version INTEGER PRIMARY KEY,
            description TEXT NOT NULL,
            applied_at TEXT NOT NULL)""",
        """CREATE TABLE crawl_runs (
            id INTEGER PRIMARY KEY,
            started_at TEXT NOT NULL,
            finished_at TEXT,
            status TEXT NOT NULL DEFAULT 'running',
            seeds TEXT NOT NULL DEFAULT '[]',
            counts TEXT NOT NULL DEFAULT '{}',
            errors TEXT NOT NULL DEFAULT '[]',
            duration_seconds REAL)""",
        "CREATE INDEX crawl_runs_unfinished ON crawl_runs(id) WHERE finished_at IS NULL",
        """CREATE TABLE captures (
            id INTEGER PRIMARY KEY,
            url TEXT NOT NULL,
            final_url TEXT,
            status INTEGER NOT NULL,
            content_type TEXT,
            fetched_at TEXT NOT NULL,
            run_id INTEGER REFERENCES crawl_runs(id),
            warc_file TEXT NOT NULL,
            warc_offset INTEGER NOT NULL,
            warc_length INTEGER NOT NULL,
            payload_digest TEXT NOT NULL,
            body_length INTEGER NOT NULL)""",
        "CREATE INDEX captures_url ON captures(url)",
        """CREATE TABLE authors (
            key TEXT PRIMARY KEY,
            slug TEXT NOT NULL UNIQUE) WITHOUT ROWID""",
        """CREATE TABLE articles (
            id INTEGER PRIMARY KEY,
            url TEXT NOT NULL UNIQUE,
            canonical_url TEXT,
            fetched_url TEXT,
            title TEXT NOT NULL,
            author TEXT,
            author_key TEXT REFERENCES authors(key),
            published TEXT,
            modified TEXT,
            edition TEXT,
            categories TEXT NOT NULL DEFAULT '[]',
            language TEXT,
            sources TEXT NOT NULL DEFAULT '{}',
            content_hash TEXT NOT NULL,
            version_count INTEGER NOT NULL,
            status TEXT NOT NULL DEFAULT 'published'
                CHECK (status IN ('published', 'withdrawn')),
            withdrawn_at TEXT,
            withdrawn_reason TEXT,
            first_seen TEXT NOT NULL,
            last_seen TEXT NOT NULL,
            captured_at TEXT,
            change_seq INTEGER NOT NULL UNIQUE)""",
        "CREATE INDEX articles_canonical_url ON articles(canonical_url)",
        "CREATE INDEX articles_author_published ON articles(author_key, published)",
        "CREATE INDEX articles_published ON articles(published)",
        """CREATE TABLE versions (
            article_id INTEGER NOT NULL REFERENCES articles(id),
            number INTEGER NOT NULL,
            content_hash TEXT NOT NULL,
            title TEXT NOT NULL,
            author TEXT,
            published TEXT,
            body TEXT NOT NULL,
            categories TEXT NOT NULL DEFAULT '[]',
            first_seen TEXT NOT NULL,
            last_seen TEXT NOT NULL,
            capture_id INTEGER REFERENCES captures(id),
            PRIMARY KEY (article_id, number))""",
        """CREATE TABLE article_urls (
            url TEXT PRIMARY KEY,
            article_id INTEGER NOT NULL REFERENCES articles(id)) WITHOUT ROWID""",
        "CREATE INDEX article_urls_article ON article_urls(article_id)",
        """CREATE TABLE fetch_state (
            url TEXT PRIMARY KEY,
            etag TEXT,
            last_modified TEXT,
            hint TEXT,
            fetched_at TEXT NOT NULL,
            status INTEGER,
            error TEXT) WITHOUT ROWID""",
        """CREATE TABLE frontier (
            id INTEGER PRIMARY KEY,
            run_id INTEGER NOT NULL REFERENCES crawl_runs(id),
            url TEXT NOT NULL,
            kind TEXT NOT NULL,
            hint TEXT,
            outcome TEXT,
            UNIQUE (run_id, url))""",
        "CREATE INDEX frontier_pending ON frontier(run_id, id) WHERE outcome IS NULL",
        """CREATE TABLE listed_urls (
            url TEXT PRIMARY KEY,
            run_id INTEGER NOT NULL) WITHOUT ROWID""",
    )),
    Migration(2, "article history: withdrawn on X, back on Y", (
        """CREATE TABLE article_events (
            id INTEGER PRIMARY KEY,
            article_id INTEGER NOT NULL REFERENCES articles(id),
            at TEXT NOT NULL,
            kind TEXT NOT NULL
                CHECK (kind IN ('archived', 'changed', 'withdrawn', 'republished')),
            detail TEXT,
            change_seq INTEGER)""",
        "CREATE INDEX article_events_article ON article_events(article_id, at)",
        """INSERT INTO article_events (article_id, at, kind)
            SELECT id, first_seen, 'archived' FROM articles ORDER BY id""",
        """INSERT INTO article_events (article_id, at, kind, detail)
            SELECT article_id, first_seen, 'changed', 'version ' || number
            FROM versions WHERE number > 1 ORDER BY article_id, number""",
        """INSERT INTO article_events (article_id, at, kind, detail, change_seq)
            SELECT id, withdrawn_at, 'withdrawn', withdrawn_reason, change_seq
            FROM articles WHERE status = 'withdrawn' ORDER BY id""",
    )),
    Migration(3, "what REST said of each archived post (modified, title, categories)", (
        """CREATE TABLE rest_facts (
            url TEXT PRIMARY KEY,
            modified TEXT,
            title TEXT,
            categories TEXT,
            recorded_at TEXT NOT NULL) WITHOUT ROWID""",
    )),
    Migration(4, "takedowns: articles hidden from the public on request, every hide and unhide", (
        "ALTER TABLE articles ADD COLUMN hidden_at TEXT",
        "ALTER TABLE articles ADD COLUMN hidden_reason TEXT",
        """CREATE TABLE takedowns (
            id INTEGER PRIMARY KEY,
            article_id INTEGER NOT NULL REFERENCES articles(id),
            at TEXT NOT NULL,
            action TEXT NOT NULL CHECK (action IN ('hide', 'unhide')),
            reason TEXT NOT NULL)""",
        "CREATE INDEX takedowns_article ON takedowns(article_id, at)",
        "CREATE INDEX articles_hidden ON articles(id) WHERE hidden_at IS NOT NULL",
    )),
    Migration(5, "the changes page reads events by kind, newest first", (
        "CREATE INDEX article_events_kind_at ON article_events(kind, at)",
    )),
    Migration(6, "the archive's fingerprint reads its last event by change_seq", (
        "CREATE INDEX article_events_change_seq ON article_events(change_seq)",
    )),
)

SCHEMA_VERSION = MIGRATIONS[-1].version


def schema_version(conn: sqlite3.Connection, path: Path) -> int:
    """Return the schema version of the open database (0 for an empty file)."""
    tables = {row[0] for row in conn.execute(
        "SELECT name FROM sqlite_master WHERE type = 'table'")}
    if "schema_version" not in tables:
        if tables:
            raise StoreError(
                f"{path} est une base SQLite mais pas une archive (pas de table schema_version) ; "
                "donnez un autre répertoire à ARCHIVE_DATA_DIR ou mettez le fichier de côté",
                path=str(path))
        return 0
    row = conn.execute("SELECT max(version) FROM schema_version").fetchone()
    return int(row[0] or 0)


def check_not_too_new(version: int, path: Path) -> None:
    """Raise SchemaTooNew when VERSION is beyond what this program knows."""
    if version > SCHEMA_VERSION:
        raise SchemaTooNew(
            f"{path.name} a été écrite par une version plus récente (schéma {version} > "
            f"{SCHEMA_VERSION}) ; mettez le programme à jour", path=str(path))


def migrate(conn: sqlite3.Connection, path: Path) -> int:
    """Bring the database to SCHEMA_VERSION in one transaction; return the version reached."""
    found = schema_version(conn, path)
    check_not_too_new(found, path)
    if found == SCHEMA_VERSION:
        return found
    conn.execute("BEGIN IMMEDIATE")
    try:
        current = schema_version(conn, path)
        check_not_too_new(current, path)
        now = datetime.now(UTC).isoformat()
        for migration in MIGRATIONS:
            if migration.version <= current:
                continue
            for statement in migration.statements:
                conn.execute(statement)
            conn.execute(
                "INSERT INTO schema_version (version, description, applied_at) VALUES (?, ?, ?)",
                (migration.version, migration.description, now))
        conn.execute("COMMIT")
    except BaseException:
        conn.execute("ROLLBACK")
        raise
    return SCHEMA_VERSION
