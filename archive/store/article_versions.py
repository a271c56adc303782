"""Articles and their versions: saving what the parser read, withdrawals, and each article's
versions and dated events. Nothing once archived is deleted."""

from __future__ import annotations

from datetime import datetime

from archive.authors import author_key, author_slug
from archive.errors import StoreError
from archive.models import Article
from archive.store import rows
from archive.store.crawl_state import COMPLETE
from archive.store.database import Database, rowid
from archive.store.records import ArticleEvent, SaveResult, Version


class ArticleVersions:
    """Saves articles as versions, withdraws and republishes them, reads their history."""

    def __init__(self, db: Database) -> None:
        self._db = db

    def save_article(self, article: Article, *, capture_id: int | None,
                     seen_at: datetime) -> SaveResult:
        """Archive ARTICLE as seen at SEEN_AT: a new article, a new version, or unchanged.

        Identity is the canonical URL if any, else the URL. A withdrawn article seen again
        after its withdrawal is published again. Metadata outside the content hash (edition,
        modified, language, canonical URL) is refreshed and bumps change_seq when it differs.
        """
        seen = rows.time_text(seen_at)
        identity = article.canonical_url or article.url
        digest = rows.content_hash(article)
        key = author_key(article.author) if article.author else None
        with self._db.transaction():
            captured_at = None
            urls = {identity, article.url}
            if capture_id is not None:
                capture = self._db.conn.execute(
                    "SELECT url, final_url, fetched_at FROM captures WHERE id = ?",
                    (capture_id,)).fetchone()
                if capture is None:
                    raise StoreError(f"aucune capture {capture_id} dans {self._db.path}",
                                     path=str(self._db.path))
                captured_at = capture["fetched_at"]
                urls.update(u for u in (capture["url"], capture["final_url"]) if u)
            if key:
                self._ensure_author(key, article.author or key)
            article_id = self._article_id(identity) or self._article_id(article.url)
            if article_id is None:
                result = self._insert_article(article, identity, digest, key, seen,
                                              capture_id, captured_at)
            else:
                result = self._update_article(article_id, article, identity, digest, key, seen,
                                              capture_id, captured_at)
            self._db.conn.executemany(
                """INSERT INTO article_urls (url, article_id) VALUES (?, ?)
                   ON CONFLICT (url) DO UPDATE SET article_id = excluded.article_id
                   WHERE article_id != excluded.article_id""",
                ((url, result.article_id) for url in urls))
            return result

    def _insert_article(self, article: Article, identity: str, digest: str, key: str | None,
                        seen: str, capture_id: int | None,
                        captured_at: str | None) -> SaveResult:
        seq = self._next_seq()
        cursor = self._db.conn.execute(
            """INSERT INTO articles (url, canonical_url, fetched_url, title, author, author_key,
                   published, modified, edition, categories, language, sources, content_hash,
                   version_count, first_seen, last_seen, captured_at, change_seq)
               VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, 1, ?, ?, ?, ?)""",
            (identity, article.canonical_url, article.url, article.title, article.author, key,
             rows.date_text(article.published), _optional_time(article.modified),
             article.edition, rows.json_text(list(article.categories)), article.language,
             rows.json_text(dict(article.sources)), digest, seen, seen, captured_at, seq))
        article_id = rowid(cursor)
        self._insert_version(article_id, 1, article, digest, seen, capture_id)
        self._event(article_id, seen, "archived", None, seq)
        return SaveResult(article_id, "new", seq, 1)

    def _update_article(self, article_id: int, article: Article, identity: str, digest: str,
                        key: str | None, seen: str, capture_id: int | None,
                        captured_at: str | None) -> SaveResult:
        current = self._db.conn.execute(
            """SELECT url, canonical_url, content_hash, version_count, status, withdrawn_at,
                      last_seen, edition, modified, language
               FROM articles WHERE id = ?""", (article_id,)).fetchone()
        number = current["version_count"]
        last_seen = max(current["last_seen"], seen)
        republish = current["status"] == "withdrawn" and seen > current["withdrawn_at"]
        url = current["url"]
        if identity != url and not self._url_taken(identity, article_id):
            url = identity
        metadata = (url, article.canonical_url, article.edition,
                    _optional_time(article.modified), article.language)
        metadata_changed = metadata != (current["url"], current["canonical_url"],
                                        current["edition"], current["modified"],
                                        current["language"])
        outcome = "unchanged"
        if digest != current["content_hash"]:
            outcome = "changed"
            number += 1
            self._insert_version(article_id, number, article, digest, seen, capture_id)
            self._db.conn.execute(
                """UPDATE articles SET title = ?, author = ?, author_key = ?, published = ?,
                       categories = ?, sources = ?, content_hash = ?, version_count = ?,
                       captured_at = ?, fetched_url = ? WHERE id = ?""",
                (article.title, article.author, key, rows.date_text(article.published),
                 rows.json_text(list(article.categories)), rows.json_text(dict(article.sources)),
                 digest, number, captured_at, article.url, article_id))
        else:
            self._db.conn.execute(
                """UPDATE versions SET last_seen = max(last_seen, ?)
                   WHERE article_id = ? AND number = ?""", (seen, article_id, number))
        seq = None
        if outcome == "changed" or republish or metadata_changed:
            seq = self._next_seq()
            self._db.conn.execute(
                """UPDATE articles SET url = ?, canonical_url = ?, edition = ?, modified = ?,
                       language = ?, change_seq = ? WHERE id = ?""", (*metadata, seq, article_id))
        if republish:
            self._db.conn.execute(
                """UPDATE articles SET status = 'published', withdrawn_at = NULL,
                       withdrawn_reason = NULL WHERE id = ?""", (article_id,))
        self._db.conn.execute("UPDATE articles SET last_seen = ? WHERE id = ?",
                           (last_seen, article_id))
        if outcome == "changed":
            self._event(article_id, seen, "changed", f"version {number}", seq)
        if republish:
            self._event(article_id, seen, "republished", None, seq)
        if seq is None:
            seq = self._db.conn.execute("SELECT change_seq FROM articles WHERE id = ?",
                                     (article_id,)).fetchone()[0]
        return SaveResult(article_id, outcome, seq, number, republish)

    def _insert_version(self, article_id: int, number: int, article: Article, digest: str,
                        seen: str, capture_id: int | None) -> None:
        self._db.conn.execute(
            """INSERT INTO versions (article_id, number, content_hash, title, author, published,
                   body, categories, first_seen, last_seen, capture_id)
               VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)""",
            (article_id, number, digest, article.title, article.author,
             rows.date_text(article.published), article.body,
             rows.json_text(list(article.categories)), seen, seen, capture_id))

    def _ensure_author(self, key: str, name: str) -> None:
        if self._db.conn.execute("SELECT 1 FROM authors WHERE key = ?", (key,)).fetchone():
            return
        base = author_slug(name)
        slug, suffix = base, 2
        while self._db.conn.execute("SELECT 1 FROM authors WHERE slug = ?", (slug,)).fetchone():
            slug, suffix = f"{base}-{suffix}", suffix + 1
        self._db.conn.execute("INSERT INTO authors (key, slug) VALUES (?, ?)", (key, slug))

    def _article_id(self, url: str) -> int | None:
        row = self._db.conn.execute("SELECT article_id FROM article_urls WHERE url = ?",
                                 (url,)).fetchone()
        return int(row[0]) if row else None

    def _url_taken(self, url: str, article_id: int) -> bool:
        row = self._db.conn.execute("SELECT id FROM articles WHERE url = ?", (url,)).fetchone()
        return row is not None and row[0] != article_id

    def _next_seq(self) -> int:
        return int(self._db.conn.execute(
            "SELECT coalesce(max(change_seq), 0) + 1 FROM articles").fetchone()[0])

    def _event(self, article_id: int, at: str, kind: str, detail: str | None,
               seq: int | None) -> None:
        self._db.conn.execute(
            """INSERT INTO article_events (article_id, at, kind, detail, change_seq)
               VALUES (?, ?, ?, ?, ?)""", (article_id, at, kind, detail, seq))

    def mark_withdrawn(self, url: str, *, when: datetime, reason: str) -> int | None:
        """Mark the article at URL withdrawn (never deleted); return its id, None if unknown."""
        with self._db.transaction():
            article_id = self._article_id(url)
            if article_id is None:
                return None
            self._withdraw(article_id, rows.time_text(when), reason)
            return article_id

    def withdraw_unlisted(self, run_id: int, *, after_runs: int, when: datetime) -> list[int]:
        """Withdraw articles absent from every listing of the last AFTER_RUNS complete runs.

        Run RUN_ID (the caller, whose listings are complete) counts as the newest of them.
        Nothing is withdrawn while fewer runs exist, nor when RUN_ID listed nothing at all.
        """
        with self._db.transaction():
            if not self._db.conn.execute("SELECT 1 FROM listed_urls WHERE run_id = ? LIMIT 1",
                                      (run_id,)).fetchone():
                return []
            earlier = [row[0] for row in self._db.conn.execute(
                """SELECT id FROM crawl_runs WHERE id < ? AND status = ?
                   ORDER BY id DESC LIMIT ?""", (run_id, COMPLETE, after_runs - 1))]
            if len(earlier) < after_runs - 1:
                return []
            oldest = min([run_id, *earlier])
            started = self._db.conn.execute("SELECT started_at FROM crawl_runs WHERE id = ?",
                                         (oldest,)).fetchone()
            if started is None:
                raise StoreError(f"aucune collecte {oldest} dans {self._db.path}",
                                 path=str(self._db.path))
            absent = [row[0] for row in self._db.conn.execute(
                """SELECT a.id FROM articles a
                   WHERE a.status = 'published' AND a.first_seen < ?
                     AND NOT EXISTS (SELECT 1 FROM article_urls u
                                     JOIN listed_urls l ON l.url = u.url
                                     WHERE u.article_id = a.id AND l.run_id >= ?)
                   ORDER BY a.id""", (started[0], oldest))]
            reason = f"unlisted: absent from every listing in {after_runs} complete runs"
            for article_id in absent:
                self._withdraw(article_id, rows.time_text(when), reason)
            return absent

    def _withdraw(self, article_id: int, when: str, reason: str) -> None:
        status = self._db.conn.execute("SELECT status FROM articles WHERE id = ?",
                                    (article_id,)).fetchone()[0]
        if status == "withdrawn":
            return
        seq = self._next_seq()
        self._db.conn.execute(
            """UPDATE articles SET status = 'withdrawn', withdrawn_at = ?, withdrawn_reason = ?,
                   change_seq = ? WHERE id = ?""", (when, reason, seq, article_id))
        self._event(article_id, when, "withdrawn", reason, seq)

    def versions(self, article_id: int) -> list[Version]:
        """Return every version of article ARTICLE_ID, oldest first (numbered from 1)."""
        with self._db.errors():
            found = self._db.conn.execute(
                "SELECT * FROM versions WHERE article_id = ? ORDER BY number",
                (article_id,)).fetchall()
        return [rows.version(row) for row in found]

    def history(self, article_id: int) -> list[ArticleEvent]:
        """Return the dated events of article ARTICLE_ID (archived, changed, withdrawn...)."""
        with self._db.errors():
            found = self._db.conn.execute(
                "SELECT * FROM article_events WHERE article_id = ? ORDER BY at, id",
                (article_id,)).fetchall()
        return [rows.article_event(row) for row in found]


def _optional_time(moment: datetime | None) -> str | None:
    return rows.time_text(moment) if moment else None
