"""Conversions between the archive's SQLite rows and its Python values.

Times are stored as ISO-8601 UTC strings with microseconds (so text order is time order),
dates as ``YYYY-MM-DD``, lists and mappings as compact JSON.
"""

from __future__ import annotations

import hashlib
import json
import sqlite3
from datetime import UTC, date, datetime
from typing import Any

from archive.models import Article
from archive.store.records import (
    ArchiveChange,
    ArticleEvent,
    CaptureRecord,
    CrawlRun,
    FetchState,
    StoredArticle,
    Takedown,
    Version,
)


def time_text(moment: datetime | date) -> str:
    """Return MOMENT as stored text (naive is taken as UTC, a bare date as its midnight UTC)."""
    if not isinstance(moment, datetime):
        moment = datetime(moment.year, moment.month, moment.day, tzinfo=UTC)
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=UTC)
    return moment.astimezone(UTC).isoformat(timespec="microseconds")


def time_value(text: str | None) -> datetime | None:
    """Return the aware datetime stored as TEXT, or None."""
    return datetime.fromisoformat(text) if text else None


def date_text(day: date | None) -> str | None:
    """Return DAY as stored text, or None."""
    return day.isoformat() if day else None


def date_value(text: str | None) -> date | None:
    """Return the date stored as TEXT, or None."""
    return date.fromisoformat(text) if text else None


def json_text(value: Any) -> str:
    """Return VALUE as compact JSON (non-ASCII kept as is)."""
    return json.dumps(value, ensure_ascii=False, separators=(",", ":"), default=str)


def content_hash(article: Article) -> str:
    """Return the sha256 of the article's content: title, author, published, body, categories.

    Categories are sorted: the platform reordering them is not an edit.
    """
    content = [article.title, article.author, date_text(article.published), article.body,
               sorted(article.categories)]
    return hashlib.sha256(json_text(content).encode("utf-8")).hexdigest()


ARTICLE_COLUMNS = """a.id, a.url, a.canonical_url, a.fetched_url, a.title, a.author, a.author_key,
    au.slug AS author_slug, a.published, a.modified, v.body, a.edition, a.categories, a.language,
    a.sources, a.status, a.withdrawn_at, a.withdrawn_reason, a.first_seen, a.last_seen,
    a.captured_at, a.version_count, a.change_seq, v.content_hash, a.hidden_at, a.hidden_reason"""

ARTICLE_FROM = """articles a
    JOIN versions v ON v.article_id = a.id AND v.number = a.version_count
    LEFT JOIN authors au ON au.key = a.author_key"""


def stored_article(row: sqlite3.Row) -> StoredArticle:
    """Return the StoredArticle of a row selected with ARTICLE_COLUMNS."""
    first_seen = time_value(row["first_seen"])
    last_seen = time_value(row["last_seen"])
    assert first_seen is not None and last_seen is not None
    return StoredArticle(
        id=row["id"], url=row["url"], canonical_url=row["canonical_url"],
        title=row["title"], author=row["author"], author_key=row["author_key"],
        author_slug=row["author_slug"], published=date_value(row["published"]),
        modified=time_value(row["modified"]), body=row["body"], edition=row["edition"],
        categories=tuple(json.loads(row["categories"])), language=row["language"],
        status=row["status"], withdrawn_at=time_value(row["withdrawn_at"]),
        withdrawn_reason=row["withdrawn_reason"], first_seen=first_seen, last_seen=last_seen,
        captured_at=time_value(row["captured_at"]), version_count=row["version_count"],
        change_seq=row["change_seq"], fetched_url=row["fetched_url"],
        sources=json.loads(row["sources"]), content_hash=row["content_hash"],
        hidden_at=time_value(row["hidden_at"]), hidden_reason=row["hidden_reason"],
    )


def version(row: sqlite3.Row) -> Version:
    """Return the Version of a ``versions`` row."""
    first_seen = time_value(row["first_seen"])
    last_seen = time_value(row["last_seen"])
    assert first_seen is not None and last_seen is not None
    return Version(
        article_id=row["article_id"], number=row["number"], content_hash=row["content_hash"],
        title=row["title"], author=row["author"], published=date_value(row["published"]),
        body=row["body"], categories=tuple(json.loads(row["categories"])),
        first_seen=first_seen, last_seen=last_seen, capture_id=row["capture_id"],
    )


def article_event(row: sqlite3.Row) -> ArticleEvent:
    """Return the ArticleEvent of an ``article_events`` row."""
    at = time_value(row["at"])
    assert at is not None
    return ArticleEvent(row["article_id"], at, row["kind"], row["detail"], row["change_seq"])


def takedown(row: sqlite3.Row) -> Takedown:
    """Return the Takedown of a ``takedowns`` row."""
    at = time_value(row["at"])
    assert at is not None
    return Takedown(row["article_id"], at, row["action"], row["reason"])


def crawl_run(row: sqlite3.Row) -> CrawlRun:
    """Return the CrawlRun of a ``crawl_runs`` row."""
    started_at = time_value(row["started_at"])
    assert started_at is not None
    return CrawlRun(
        id=row["id"], started_at=started_at, finished_at=time_value(row["finished_at"]),
        status=row["status"], counts=json.loads(row["counts"]),
        errors=json.loads(row["errors"]), seeds=json.loads(row["seeds"]),
    )


def fetch_state(row: sqlite3.Row) -> FetchState:
    """Return the FetchState of a ``fetch_state`` row joined with its article id."""
    fetched_at = time_value(row["fetched_at"])
    assert fetched_at is not None
    return FetchState(
        url=row["url"], etag=row["etag"], last_modified=row["last_modified"], hint=row["hint"],
        fetched_at=fetched_at, status=row["status"], article_id=row["article_id"],
        error=row["error"],
    )


def archive_change(row: sqlite3.Row) -> ArchiveChange:
    """Return the ArchiveChange of an ``article_events`` row joined with its article."""
    at = time_value(row["at"])
    assert at is not None
    return ArchiveChange(
        article_id=row["article_id"], at=at, kind=row["kind"], detail=row["detail"],
        title=row["title"], author=row["author"], edition=row["edition"], status=row["status"],
        version_count=row["version_count"],
    )


def capture_record(row: sqlite3.Row) -> CaptureRecord:
    """Return the CaptureRecord of a ``captures`` row."""
    fetched_at = time_value(row["fetched_at"])
    assert fetched_at is not None
    return CaptureRecord(
        id=row["id"], url=row["url"], final_url=row["final_url"], status=row["status"],
        content_type=row["content_type"], fetched_at=fetched_at, warc_file=row["warc_file"],
        warc_offset=row["warc_offset"], warc_length=row["warc_length"],
        payload_digest=row["payload_digest"], body_length=row["body_length"],
    )
