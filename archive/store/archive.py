"""The archive: one SQLite database (WAL) of articles, their versions and the crawl state.

Nothing once archived is deleted: an edit adds a version, a disappearance marks the article
withdrawn with its date, a reappearance marks it published again, and ``history()`` keeps
every such event. Raw responses go to WARC files (``archive.store.warc``); their rows here
say where each record lives.

Every write method commits on its own. Wrap several calls in ``with archive.transaction():``
to commit them together (faster, and all-or-nothing); inside it each write method runs in its
own savepoint, so an error in one call never leaves half an article behind even when the
caller catches it and goes on. An ``Archive`` belongs to the thread that opened it (only
``close()`` may be called from another thread).
"""

from __future__ import annotations

import json
import sqlite3
import threading
from collections.abc import Callable, Iterable, Iterator, Mapping, Sequence
from contextlib import contextmanager
from datetime import UTC, date, datetime
from pathlib import Path
from types import TracebackType
from typing import Any

from archive.authors import author_key, author_slug
from archive.errors import ArchiveError, StoreError
from archive.models import Article, Capture, RestFacts
from archive.store import rows
from archive.store.records import (
    ArchiveChange,
    ArchiveStats,
    ArticleEvent,
    AuthorSummary,
    CaptureRecord,
    CrawlRun,
    FetchState,
    FrontierItem,
    SaveResult,
    StoredArticle,
    Version,
)
from archive.store.schema import SCHEMA_VERSION, check_not_too_new, migrate, schema_version
from archive.store.warc import DEFAULT_MAX_BYTES, WarcWriter, read_record, read_response

COMPLETE = "complete"
"""The ``finish_run`` status of a run whose listings covered the whole site."""

BUSY_SECONDS = 5.0
"""How long a write waits for another process's write before giving up."""

_BATCH = 500


class Archive:
    """The SQLite archive of one data directory (see the module docstring)."""

    def __init__(self, conn: sqlite3.Connection, path: Path, warc_dir: Path, *,
                 readonly: bool, warc_max_bytes: int) -> None:
        self._conn = conn
        self.path = path
        self.warc_dir = warc_dir
        self.readonly = readonly
        self._warc = WarcWriter(warc_dir, max_bytes=warc_max_bytes)
        self._depth = 0
        self._thread = threading.get_ident()

    @classmethod
    def open(cls, path: Path, *, warc_dir: Path | None = None, readonly: bool = False,
             warc_max_bytes: int = DEFAULT_MAX_BYTES,
             busy_seconds: float = BUSY_SECONDS) -> Archive:
        """Open the archive at PATH, creating or migrating it (never either when READONLY).

        A write waits up to BUSY_SECONDS for another process's write to finish.
        """
        path = Path(path)
        warc_dir = Path(warc_dir) if warc_dir is not None else path.parent / "warc"
        if readonly and not path.is_file():
            raise StoreError(
                f"no archive at {path}; run `python -m archive crawl` first or set "
                "ARCHIVE_DATA_DIR to the directory that holds archive.sqlite3", path=str(path))
        if not readonly:
            try:
                path.parent.mkdir(parents=True, exist_ok=True)
            except OSError as exc:
                raise StoreError(
                    f"cannot create {path.parent} ({exc.strerror}); choose a writable "
                    "ARCHIVE_DATA_DIR", path=str(path)) from exc
        uri = path.resolve().as_uri() + ("?mode=ro" if readonly else "?mode=rwc")
        try:
            # The thread rule is enforced in _errors() instead, so close() works from any thread.
            conn = sqlite3.connect(uri, uri=True, isolation_level=None, timeout=busy_seconds,
                                   check_same_thread=False)
        except sqlite3.Error as exc:
            raise StoreError(
                f"cannot open {path} ({exc}); check the path and its permissions",
                path=str(path)) from exc
        try:
            conn.row_factory = sqlite3.Row
            conn.execute(f"PRAGMA busy_timeout = {int(busy_seconds * 1000)}")
            conn.execute("PRAGMA foreign_keys = ON")
            if readonly:
                conn.execute("PRAGMA query_only = ON")
                _check_readable_version(schema_version(conn, path), path)
            else:
                # Recognise the file as an archive (or an empty one) before writing anything:
                # even switching another application's database to WAL is a write.
                check_not_too_new(schema_version(conn, path), path)
                conn.execute("PRAGMA journal_mode = WAL")
                conn.execute("PRAGMA synchronous = NORMAL")
                migrate(conn, path)
        except ArchiveError:
            conn.close()
            raise
        except sqlite3.Error as exc:
            conn.close()
            raise _explained(exc, path) from exc
        return cls(conn, path, warc_dir, readonly=readonly, warc_max_bytes=warc_max_bytes)

    def close(self) -> None:
        """Close the database connection and the current WARC file (from any thread)."""
        try:
            self._warc.close()
        finally:
            self._conn.close()

    def __enter__(self) -> Archive:
        return self

    def __exit__(self, exc_type: type[BaseException] | None, exc: BaseException | None,
                 tb: TracebackType | None) -> None:
        if exc is None:
            self.close()
            return
        try:
            self.close()
        except ArchiveError:
            pass  # the error in flight (a full disk, say) is the one to report, not its echo

    # ---- transactions

    @contextmanager
    def transaction(self) -> Iterator[None]:
        """Commit every write made inside the block together, or none of them."""
        self._check_writable()
        with self._errors():
            if self._depth == 0:
                self._conn.execute("BEGIN IMMEDIATE")
                self._depth = 1
                try:
                    yield
                    self._conn.execute("COMMIT")
                except BaseException:
                    if self._conn.in_transaction:
                        self._conn.execute("ROLLBACK")
                    raise
                finally:
                    self._depth = 0
            else:
                savepoint = f"sp{self._depth}"
                self._conn.execute(f"SAVEPOINT {savepoint}")
                self._depth += 1
                try:
                    yield
                except BaseException:
                    if self._conn.in_transaction:
                        self._conn.execute(f"ROLLBACK TO {savepoint}")
                        self._conn.execute(f"RELEASE {savepoint}")
                    raise
                else:
                    self._conn.execute(f"RELEASE {savepoint}")
                finally:
                    self._depth -= 1

    # ---- crawl runs

    def start_run(self, seeds: Sequence[str]) -> int:
        """Record the start of a crawl run and return its id."""
        with self.transaction():
            cursor = self._conn.execute(
                "INSERT INTO crawl_runs (started_at, seeds) VALUES (?, ?)",
                (rows.time_text(_now()), rows.json_text(list(seeds))))
            return _rowid(cursor)

    def unfinished_run(self) -> int | None:
        """Return the newest run that started but never finished (killed), or None."""
        with self._errors():
            row = self._conn.execute(
                "SELECT max(id) FROM crawl_runs WHERE finished_at IS NULL").fetchone()
        return int(row[0]) if row[0] is not None else None

    def finish_run(self, run_id: int, *, status: str, counts: Mapping[str, int],
                   errors: Sequence[Mapping[str, Any]]) -> None:
        """Record how run RUN_ID ended (status "complete" when every listing was read).

        The run's frontier is emptied: the counts and errors are what remains of it.
        """
        finished = _now()
        with self.transaction():
            row = self._conn.execute(
                "SELECT started_at FROM crawl_runs WHERE id = ?", (run_id,)).fetchone()
            if row is None:
                raise StoreError(f"no crawl run {run_id} in {self.path}", path=str(self.path))
            started = rows.time_value(row["started_at"])
            assert started is not None
            self._conn.execute(
                """UPDATE crawl_runs SET finished_at = ?, status = ?, counts = ?, errors = ?,
                   duration_seconds = ? WHERE id = ?""",
                (rows.time_text(finished), status, rows.json_text(dict(counts)),
                 rows.json_text([dict(error) for error in errors]),
                 (finished - started).total_seconds(), run_id))
            self._conn.execute("DELETE FROM frontier WHERE run_id = ?", (run_id,))

    def last_run(self) -> CrawlRun | None:
        """Return the newest crawl run, finished or not."""
        with self._errors():
            row = self._conn.execute(
                "SELECT * FROM crawl_runs ORDER BY id DESC LIMIT 1").fetchone()
        return rows.crawl_run(row) if row else None

    def run(self, run_id: int) -> CrawlRun | None:
        """Return crawl run RUN_ID, or None."""
        with self._errors():
            row = self._conn.execute("SELECT * FROM crawl_runs WHERE id = ?",
                                     (run_id,)).fetchone()
        return rows.crawl_run(row) if row else None

    # ---- frontier

    def enqueue(self, run_id: int, items: Iterable[tuple[str, str, str | None]]) -> int:
        """Queue (url, kind, hint) items for run RUN_ID; return how many were new."""
        with self.transaction():
            before = self._conn.total_changes
            self._conn.executemany(
                "INSERT OR IGNORE INTO frontier (run_id, url, kind, hint) VALUES (?, ?, ?, ?)",
                ((run_id, url, kind, hint) for url, kind, hint in items))
            return self._conn.total_changes - before

    def pending(self, run_id: int, limit: int = 100) -> list[FrontierItem]:
        """Return up to LIMIT queued items of run RUN_ID not yet done, oldest first."""
        with self._errors():
            found = self._conn.execute(
                """SELECT url, kind, hint FROM frontier WHERE run_id = ? AND outcome IS NULL
                   ORDER BY id LIMIT ?""", (run_id, limit)).fetchall()
        return [FrontierItem(row["url"], row["kind"], row["hint"]) for row in found]

    def mark_done(self, run_id: int, url: str, outcome: str) -> None:
        """Take URL out of run RUN_ID's queue, noting its OUTCOME."""
        with self.transaction():
            self._conn.execute("UPDATE frontier SET outcome = ? WHERE run_id = ? AND url = ?",
                               (outcome, run_id, url))

    # ---- per-URL crawl state

    def fetch_state(self, url: str) -> FetchState | None:
        """Return what the last fetch of URL answered, or None if it was never fetched."""
        with self._errors():
            row = self._conn.execute(
                """SELECT f.*, u.article_id FROM fetch_state f
                   LEFT JOIN article_urls u ON u.url = f.url WHERE f.url = ?""",
                (url,)).fetchone()
        return rows.fetch_state(row) if row else None

    def record_fetch(self, url: str, *, status: int | None, etag: str | None = None,
                     last_modified: str | None = None, hint: str | None = None,
                     error: str | None = None, fetched_at: datetime) -> None:
        """Record a fetch of URL; validators and hint left as None keep their previous value."""
        with self.transaction():
            self._conn.execute(
                """INSERT INTO fetch_state (url, etag, last_modified, hint, fetched_at, status,
                                            error)
                   VALUES (?, ?, ?, ?, ?, ?, ?)
                   ON CONFLICT (url) DO UPDATE SET
                     etag = coalesce(excluded.etag, etag),
                     last_modified = coalesce(excluded.last_modified, last_modified),
                     hint = coalesce(excluded.hint, hint),
                     fetched_at = excluded.fetched_at, status = excluded.status,
                     error = excluded.error""",
                (url, etag, last_modified, hint, rows.time_text(fetched_at), status, error))

    def record_rest_facts(self, url: str, facts: RestFacts, *, when: datetime) -> None:
        """Keep what REST said of the post at URL (``reparse`` lays it over the page again)."""
        categories = None if facts.categories is None else rows.json_text(list(facts.categories))
        with self.transaction():
            self._conn.execute(
                """INSERT INTO rest_facts (url, modified, title, categories, recorded_at)
                   VALUES (?, ?, ?, ?, ?)
                   ON CONFLICT (url) DO UPDATE SET modified = excluded.modified,
                     title = excluded.title, categories = excluded.categories,
                     recorded_at = excluded.recorded_at""",
                (url, _optional_time(facts.modified), facts.title, categories,
                 rows.time_text(when)))

    def rest_facts(self, url: str) -> RestFacts | None:
        """Return what REST last said of the post at URL, or None if REST never listed it."""
        with self._errors():
            row = self._conn.execute(
                "SELECT modified, title, categories FROM rest_facts WHERE url = ?",
                (url,)).fetchone()
        if row is None:
            return None
        categories = None if row["categories"] is None else tuple(json.loads(row["categories"]))
        return RestFacts(rows.time_value(row["modified"]), row["title"], categories)

    # ---- raw captures

    def store_capture(self, capture: Capture, run_id: int | None = None) -> int:
        """Write CAPTURE to the current WARC file, then its row; return the capture id."""
        self._check_writable()
        location = self._warc.write(capture)
        with self.transaction():
            cursor = self._conn.execute(
                """INSERT INTO captures (url, final_url, status, content_type, fetched_at,
                       run_id, warc_file, warc_offset, warc_length, payload_digest, body_length)
                   VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)""",
                (capture.url, capture.final_url, capture.status, capture.header("Content-Type"),
                 rows.time_text(capture.fetched_at), run_id, location.file, location.offset,
                 location.length, location.payload_digest, len(capture.body)))
            return _rowid(cursor)

    def read_capture(self, capture_id: int) -> Capture | None:
        """Return capture CAPTURE_ID read back from its WARC record, or None."""
        with self._errors():
            row = self._conn.execute("SELECT * FROM captures WHERE id = ?",
                                     (capture_id,)).fetchone()
        return self._capture(row) if row else None

    def iter_captures(self, *, status: int | None = None, latest_only: bool = False,
                      damaged: Callable[[int, StoreError], None] | None = None,
                      ) -> Iterator[tuple[int, Capture]]:
        """Yield (id, capture) by id; only STATUS if given; only each URL's newest if LATEST_ONLY.

        Reads in batches, so the archive may be written while iterating. A capture whose WARC
        record cannot be read raises StoreError, or, when DAMAGED is given, is passed to it
        (with the error) and skipped.
        """
        conditions = ["id > ?"]
        params: list[Any] = []
        if status is not None:
            conditions.append("status = ?")
            params.append(status)
        if latest_only:
            newer = "SELECT 1 FROM captures n WHERE n.url = c.url AND n.id > c.id"
            if status is not None:
                newer += " AND n.status = c.status"
            conditions.append(f"NOT EXISTS ({newer})")
        query = (f"SELECT * FROM captures c WHERE {' AND '.join(conditions)} "
                 f"ORDER BY id LIMIT {_BATCH}")
        last = 0
        while True:
            with self._errors():
                batch = self._conn.execute(query, (last, *params)).fetchall()
            for row in batch:
                try:
                    capture = self._capture(row)
                except StoreError as exc:
                    if damaged is None:
                        raise
                    damaged(row["id"], exc)
                    continue
                yield row["id"], capture
            if len(batch) < _BATCH:
                return
            last = batch[-1]["id"]

    def capture_record(self, capture_id: int) -> CaptureRecord | None:
        """Return where and how capture CAPTURE_ID was taken (no body read), or None."""
        with self._errors():
            row = self._conn.execute("SELECT * FROM captures WHERE id = ?",
                                     (capture_id,)).fetchone()
        return rows.capture_record(row) if row else None

    def warc_record(self, record: CaptureRecord) -> bytes:
        """Return RECORD's WARC record exactly as stored (a gzip member: a valid .warc.gz)."""
        return read_record(self.warc_dir / record.warc_file, record.warc_offset,
                           record.warc_length)

    def _capture(self, row: sqlite3.Row) -> Capture:
        response = read_response(self.warc_dir / row["warc_file"], row["warc_offset"],
                                 row["warc_length"])
        fetched_at = rows.time_value(row["fetched_at"])
        assert fetched_at is not None
        return Capture(url=row["url"], status=response.status, headers=response.headers,
                       body=response.body, fetched_at=fetched_at, final_url=row["final_url"])

    # ---- articles and versions

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
        with self.transaction():
            captured_at = None
            urls = {identity, article.url}
            if capture_id is not None:
                capture = self._conn.execute(
                    "SELECT url, final_url, fetched_at FROM captures WHERE id = ?",
                    (capture_id,)).fetchone()
                if capture is None:
                    raise StoreError(f"no capture {capture_id} in {self.path}",
                                     path=str(self.path))
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
            self._conn.executemany(
                """INSERT INTO article_urls (url, article_id) VALUES (?, ?)
                   ON CONFLICT (url) DO UPDATE SET article_id = excluded.article_id
                   WHERE article_id != excluded.article_id""",
                ((url, result.article_id) for url in urls))
            return result

    def _insert_article(self, article: Article, identity: str, digest: str, key: str | None,
                        seen: str, capture_id: int | None,
                        captured_at: str | None) -> SaveResult:
        seq = self._next_seq()
        cursor = self._conn.execute(
            """INSERT INTO articles (url, canonical_url, fetched_url, title, author, author_key,
                   published, modified, edition, categories, language, sources, content_hash,
                   version_count, first_seen, last_seen, captured_at, change_seq)
               VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, 1, ?, ?, ?, ?)""",
            (identity, article.canonical_url, article.url, article.title, article.author, key,
             rows.date_text(article.published), _optional_time(article.modified),
             article.edition, rows.json_text(list(article.categories)), article.language,
             rows.json_text(dict(article.sources)), digest, seen, seen, captured_at, seq))
        article_id = _rowid(cursor)
        self._insert_version(article_id, 1, article, digest, seen, capture_id)
        self._event(article_id, seen, "archived", None, seq)
        return SaveResult(article_id, "new", seq, 1)

    def _update_article(self, article_id: int, article: Article, identity: str, digest: str,
                        key: str | None, seen: str, capture_id: int | None,
                        captured_at: str | None) -> SaveResult:
        current = self._conn.execute(
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
            self._conn.execute(
                """UPDATE articles SET title = ?, author = ?, author_key = ?, published = ?,
                       categories = ?, sources = ?, content_hash = ?, version_count = ?,
                       captured_at = ?, fetched_url = ? WHERE id = ?""",
                (article.title, article.author, key, rows.date_text(article.published),
                 rows.json_text(list(article.categories)), rows.json_text(dict(article.sources)),
                 digest, number, captured_at, article.url, article_id))
        else:
            self._conn.execute(
                """UPDATE versions SET last_seen = max(last_seen, ?)
                   WHERE article_id = ? AND number = ?""", (seen, article_id, number))
        seq = None
        if outcome == "changed" or republish or metadata_changed:
            seq = self._next_seq()
            self._conn.execute(
                """UPDATE articles SET url = ?, canonical_url = ?, edition = ?, modified = ?,
                       language = ?, change_seq = ? WHERE id = ?""", (*metadata, seq, article_id))
        if republish:
            self._conn.execute(
                """UPDATE articles SET status = 'published', withdrawn_at = NULL,
                       withdrawn_reason = NULL WHERE id = ?""", (article_id,))
        self._conn.execute("UPDATE articles SET last_seen = ? WHERE id = ?",
                           (last_seen, article_id))
        if outcome == "changed":
            self._event(article_id, seen, "changed", f"version {number}", seq)
        if republish:
            self._event(article_id, seen, "republished", None, seq)
        if seq is None:
            seq = self._conn.execute("SELECT change_seq FROM articles WHERE id = ?",
                                     (article_id,)).fetchone()[0]
        return SaveResult(article_id, outcome, seq, number, republish)

    def _insert_version(self, article_id: int, number: int, article: Article, digest: str,
                        seen: str, capture_id: int | None) -> None:
        self._conn.execute(
            """INSERT INTO versions (article_id, number, content_hash, title, author, published,
                   body, categories, first_seen, last_seen, capture_id)
               VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)""",
            (article_id, number, digest, article.title, article.author,
             rows.date_text(article.published), article.body,
             rows.json_text(list(article.categories)), seen, seen, capture_id))

    def _ensure_author(self, key: str, name: str) -> None:
        if self._conn.execute("SELECT 1 FROM authors WHERE key = ?", (key,)).fetchone():
            return
        base = author_slug(name)
        slug, suffix = base, 2
        while self._conn.execute("SELECT 1 FROM authors WHERE slug = ?", (slug,)).fetchone():
            slug, suffix = f"{base}-{suffix}", suffix + 1
        self._conn.execute("INSERT INTO authors (key, slug) VALUES (?, ?)", (key, slug))

    def _article_id(self, url: str) -> int | None:
        row = self._conn.execute("SELECT article_id FROM article_urls WHERE url = ?",
                                 (url,)).fetchone()
        return int(row[0]) if row else None

    def _url_taken(self, url: str, article_id: int) -> bool:
        row = self._conn.execute("SELECT id FROM articles WHERE url = ?", (url,)).fetchone()
        return row is not None and row[0] != article_id

    def _next_seq(self) -> int:
        return int(self._conn.execute(
            "SELECT coalesce(max(change_seq), 0) + 1 FROM articles").fetchone()[0])

    def _event(self, article_id: int, at: str, kind: str, detail: str | None,
               seq: int | None) -> None:
        self._conn.execute(
            """INSERT INTO article_events (article_id, at, kind, detail, change_seq)
               VALUES (?, ?, ?, ?, ?)""", (article_id, at, kind, detail, seq))

    # ---- withdrawals

    def mark_listed(self, run_id: int, urls: Iterable[str]) -> None:
        """Record that run RUN_ID saw URLS in some listing (sitemap, feed, page, API)."""
        with self.transaction():
            self._conn.executemany(
                """INSERT INTO listed_urls (url, run_id) VALUES (?, ?)
                   ON CONFLICT (url) DO UPDATE SET run_id = max(run_id, excluded.run_id)""",
                ((url, run_id) for url in urls))

    def mark_withdrawn(self, url: str, *, when: datetime, reason: str) -> int | None:
        """Mark the article at URL withdrawn (never deleted); return its id, None if unknown."""
        with self.transaction():
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
        with self.transaction():
            if not self._conn.execute("SELECT 1 FROM listed_urls WHERE run_id = ? LIMIT 1",
                                      (run_id,)).fetchone():
                return []
            earlier = [row[0] for row in self._conn.execute(
                """SELECT id FROM crawl_runs WHERE id < ? AND status = ?
                   ORDER BY id DESC LIMIT ?""", (run_id, COMPLETE, after_runs - 1))]
            if len(earlier) < after_runs - 1:
                return []
            oldest = min([run_id, *earlier])
            started = self._conn.execute("SELECT started_at FROM crawl_runs WHERE id = ?",
                                         (oldest,)).fetchone()
            if started is None:
                raise StoreError(f"no crawl run {oldest} in {self.path}", path=str(self.path))
            absent = [row[0] for row in self._conn.execute(
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
        status = self._conn.execute("SELECT status FROM articles WHERE id = ?",
                                    (article_id,)).fetchone()[0]
        if status == "withdrawn":
            return
        seq = self._next_seq()
        self._conn.execute(
            """UPDATE articles SET status = 'withdrawn', withdrawn_at = ?, withdrawn_reason = ?,
                   change_seq = ? WHERE id = ?""", (when, reason, seq, article_id))
        self._event(article_id, when, "withdrawn", reason, seq)

    # ---- reads

    def get_article(self, article_id: int) -> StoredArticle | None:
        """Return article ARTICLE_ID, or None."""
        found = self._select("WHERE a.id = ?", (article_id,))
        return found[0] if found else None

    def get_article_by_url(self, url: str) -> StoredArticle | None:
        """Return the article seen at URL (its own, canonical or any fetched URL), or None."""
        found = self._select(
            "WHERE a.id = (SELECT article_id FROM article_urls WHERE url = ?)", (url,))
        return found[0] if found else None

    def articles(self, ids: Sequence[int]) -> dict[int, StoredArticle]:
        """Return the articles of IDS that exist, by id."""
        found: dict[int, StoredArticle] = {}
        unique = list(dict.fromkeys(ids))
        for start in range(0, len(unique), _BATCH):
            chunk = unique[start:start + _BATCH]
            marks = ",".join("?" * len(chunk))
            for article in self._select(f"WHERE a.id IN ({marks})", chunk):
                found[article.id] = article
        return found

    def versions(self, article_id: int) -> list[Version]:
        """Return every version of article ARTICLE_ID, oldest first (numbered from 1)."""
        with self._errors():
            found = self._conn.execute(
                "SELECT * FROM versions WHERE article_id = ? ORDER BY number",
                (article_id,)).fetchall()
        return [rows.version(row) for row in found]

    def history(self, article_id: int) -> list[ArticleEvent]:
        """Return the dated events of article ARTICLE_ID (archived, changed, withdrawn...)."""
        with self._errors():
            found = self._conn.execute(
                "SELECT * FROM article_events WHERE article_id = ? ORDER BY at, id",
                (article_id,)).fetchall()
        return [rows.article_event(row) for row in found]

    def changes_since(self, seq: int, limit: int = 1000) -> list[StoredArticle]:
        """Return up to LIMIT articles whose change_seq is above SEQ, in change_seq order."""
        return self._select("WHERE a.change_seq > ? ORDER BY a.change_seq LIMIT ?", (seq, limit))

    def fingerprint(self, change_seq: int) -> str:
        """Return what identifies this archive as it was at CHANGE_SEQ.

        Its creation time and its last event up to CHANGE_SEQ: events are only ever appended,
        so the value never changes while the archive only moves on. An index records it; a
        different value later means the archive was replaced or restored from an older backup.
        """
        with self._errors():
            created = self._conn.execute(
                "SELECT applied_at FROM schema_version WHERE version = 1").fetchone()
            # The first version's hash never changes: it tells one article from another.
            event = self._conn.execute(
                """SELECT e.id, e.article_id, e.at, e.kind, v.content_hash
                   FROM article_events e
                   LEFT JOIN versions v ON v.article_id = e.article_id AND v.number = 1
                   WHERE e.change_seq <= ?
                   ORDER BY e.change_seq DESC, e.id DESC LIMIT 1""", (change_seq,)).fetchone()
        parts = [created[0] if created else "", *(str(v) for v in (event or ()))]
        return "|".join(parts)

    def changes(self, kinds: Sequence[str], *, edition: str | None = None, limit: int = 50,
                offset: int = 0) -> list[ArchiveChange]:
        """Return the events of KINDS (changed, withdrawn, republished), newest first."""
        where, params = self._changes_where(kinds, edition)
        with self._errors():
            found = self._conn.execute(
                f"""SELECT e.article_id, e.at, e.kind, e.detail, a.title, a.author, a.edition,
                           a.status, a.version_count
                    FROM article_events e JOIN articles a ON a.id = e.article_id
                    WHERE {where} ORDER BY e.at DESC, e.id DESC LIMIT ? OFFSET ?""",
                (*params, limit, offset)).fetchall()
        return [rows.archive_change(row) for row in found]

    def count_changes(self, kinds: Sequence[str], *, edition: str | None = None) -> int:
        """Return how many events of KINDS (in EDITION if given) the archive holds."""
        where, params = self._changes_where(kinds, edition)
        with self._errors():
            row = self._conn.execute(
                f"""SELECT count(*) FROM article_events e JOIN articles a ON a.id = e.article_id
                    WHERE {where}""", params).fetchone()
        return int(row[0])

    @staticmethod
    def _changes_where(kinds: Sequence[str], edition: str | None) -> tuple[str, list[Any]]:
        if not kinds:
            return "0", []
        where = f"e.kind IN ({','.join('?' * len(kinds))})"
        params: list[Any] = list(kinds)
        if edition is not None:
            where += " AND a.edition = ?"
            params.append(edition)
        return where, params

    def editions(self) -> list[str]:
        """Return the editions the archive holds articles of, in name order."""
        with self._errors():
            found = self._conn.execute(
                """SELECT DISTINCT edition FROM articles WHERE edition IS NOT NULL
                   ORDER BY edition""").fetchall()
        return [row[0] for row in found]

    def max_change_seq(self) -> int:
        """Return the highest change_seq (0 for an empty archive)."""
        with self._errors():
            row = self._conn.execute("SELECT coalesce(max(change_seq), 0) FROM articles")
            return int(row.fetchone()[0])

    def iter_articles(self, first_id: int = 1,
                      last_id: int | None = None) -> Iterator[StoredArticle]:
        """Yield every article by id (from FIRST_ID to LAST_ID), in batches: memory stays flat."""
        last = first_id - 1
        stop = last_id if last_id is not None else 2**63 - 1
        while True:
            batch = self._select("WHERE a.id > ? AND a.id <= ? ORDER BY a.id LIMIT ?",
                                 (last, stop, _BATCH))
            yield from batch
            if len(batch) < _BATCH:
                return
            last = batch[-1].id

    def id_ranges(self, parts: int) -> list[tuple[int, int]]:
        """Split the article ids into at most PARTS ranges (first, last) of about equal counts."""
        if parts < 1:
            raise ValueError(f"parts must be at least 1, not {parts}")
        with self._errors():
            count, highest = self._conn.execute("SELECT count(*), max(id) FROM articles").fetchone()
            if not count:
                return []
            parts = min(parts, count)
            starts = [1]
            for part in range(1, parts):
                row = self._conn.execute("SELECT id FROM articles ORDER BY id LIMIT 1 OFFSET ?",
                                         (part * count // parts,)).fetchone()
                starts.append(row[0])
        return [(start, end - 1) for start, end in zip(starts, starts[1:], strict=False)] + [
            (starts[-1], highest)]

    def latest(self, limit: int = 10) -> list[StoredArticle]:
        """Return the LIMIT most recently published articles (withdrawn ones included)."""
        return self._select("ORDER BY a.published DESC, a.id DESC LIMIT ?", (limit,))

    def authors(self) -> list[AuthorSummary]:
        """Return every author, named by its most used spelling, in alphabetical key order."""
        return self._author_summaries(None)

    def author_by_slug(self, slug: str) -> AuthorSummary | None:
        """Return the author whose slug is SLUG, or None."""
        with self._errors():
            row = self._conn.execute("SELECT key FROM authors WHERE slug = ?",
                                     (slug,)).fetchone()
        if row is None:
            return None
        found = self._author_summaries(row[0])
        return found[0] if found else None

    def articles_by_author(self, key: str, *, limit: int = 50,
                           offset: int = 0) -> list[StoredArticle]:
        """Return the articles of author KEY, newest published first."""
        return self._select(
            "WHERE a.author_key = ? ORDER BY a.published DESC, a.id DESC LIMIT ? OFFSET ?",
            (key, limit, offset))

    def articles_between(self, start: date, end: date, *, limit: int = 50,
                         offset: int = 0) -> list[StoredArticle]:
        """Return articles published from START to END (both included), newest first."""
        return self._select(
            """WHERE a.published BETWEEN ? AND ?
               ORDER BY a.published DESC, a.id DESC LIMIT ? OFFSET ?""",
            (start.isoformat(), end.isoformat(), limit, offset))

    def count_between(self, start: date, end: date) -> int:
        """Return how many articles were published from START to END (both included)."""
        with self._errors():
            row = self._conn.execute(
                "SELECT count(*) FROM articles WHERE published BETWEEN ? AND ?",
                (start.isoformat(), end.isoformat())).fetchone()
        return int(row[0])

    def month_counts(self, author_key: str | None = None) -> list[tuple[int, int, int]]:
        """Return (year, month, count) of published articles, oldest month first."""
        where = "published IS NOT NULL"
        params: tuple[Any, ...] = ()
        if author_key is not None:
            where += " AND author_key = ?"
            params = (author_key,)
        with self._errors():
            found = self._conn.execute(
                f"""SELECT substr(published, 1, 7) AS month, count(*) FROM articles
                    WHERE {where} GROUP BY month ORDER BY month""", params).fetchall()
        return [(int(month[:4]), int(month[5:7]), count) for month, count in found]

    def stats(self) -> ArchiveStats:
        """Return the archive's headline figures."""
        with self._errors():
            row = self._conn.execute(
                """SELECT count(*), coalesce(sum(status = 'withdrawn'), 0),
                          count(DISTINCT author_key), min(published), max(published)
                   FROM articles""").fetchone()
            versions = self._conn.execute("SELECT count(*) FROM versions").fetchone()[0]
            captures = self._conn.execute("SELECT count(*) FROM captures").fetchone()[0]
        return ArchiveStats(
            articles=row[0], withdrawn=row[1], authors=row[2],
            first_published=rows.date_value(row[3]), last_published=rows.date_value(row[4]),
            last_run=self.last_run(), versions=versions, captures=captures)

    def schema_version(self) -> int:
        """Return the schema version of the open database."""
        with self._errors():
            return schema_version(self._conn, self.path)

    def integrity_check(self) -> list[str]:
        """Run SQLite's integrity check; return its messages (``["ok"]`` when sound)."""
        with self._errors():
            return [row[0] for row in self._conn.execute("PRAGMA integrity_check")]

    def _author_summaries(self, key: str | None) -> list[AuthorSummary]:
        where, params = ("a.author_key = ?", (key,)) if key else ("a.author_key IS NOT NULL", ())
        with self._errors():
            spellings = self._conn.execute(
                f"""SELECT a.author_key, a.author, count(*) AS n, max(a.published) AS latest
                    FROM articles a WHERE {where} GROUP BY a.author_key, a.author""",
                params).fetchall()
            totals = self._conn.execute(
                f"""SELECT a.author_key, au.slug, count(*), min(a.published), max(a.published)
                    FROM articles a JOIN authors au ON au.key = a.author_key
                    WHERE {where} GROUP BY a.author_key ORDER BY a.author_key""",
                params).fetchall()
        names: dict[str, tuple[int, str, str]] = {}
        for row in spellings:
            rank = (row["n"], row["latest"] or "", row["author"])
            if row["author_key"] not in names or rank > names[row["author_key"]]:
                names[row["author_key"]] = rank
        return [AuthorSummary(key=row[0], slug=row[1], name=names[row[0]][2], count=row[2],
                              first=rows.date_value(row[3]), last=rows.date_value(row[4]))
                for row in totals]

    def _select(self, clause: str, params: Sequence[Any]) -> list[StoredArticle]:
        with self._errors():
            found = self._conn.execute(
                f"SELECT {rows.ARTICLE_COLUMNS} FROM {rows.ARTICLE_FROM} {clause}",
                tuple(params)).fetchall()
        return [rows.stored_article(row) for row in found]

    def _check_writable(self) -> None:
        if self.readonly:
            raise StoreError(
                f"{self.path} is open read-only; writing needs Archive.open(readonly=False)",
                path=str(self.path))

    @contextmanager
    def _errors(self) -> Iterator[None]:
        if threading.get_ident() != self._thread:
            raise StoreError(
                f"an Archive of {self.path} was used by a thread other than the one that "
                "opened it; open one Archive per thread", path=str(self.path))
        try:
            yield
        except (sqlite3.ProgrammingError, sqlite3.InterfaceError):
            raise  # a bug in the caller (wrong thread, closed archive), not a problem of the file
        except sqlite3.Error as exc:
            raise _explained(exc, self.path) from exc


def _explained(exc: sqlite3.Error, path: Path) -> StoreError:
    """Return the StoreError that tells the user what to do about a SQLite error."""
    text = str(exc)
    if "locked" in text or "busy" in text:
        return StoreError(
            f"{path} is busy: another crawl or reparse is writing it; wait for it to finish "
            "and try again", path=str(path))
    if isinstance(exc, sqlite3.OperationalError) and "not a database" not in text:
        return StoreError(f"cannot use {path} ({text}); check the disk space and the "
                          "permissions of the file and its directory", path=str(path))
    return StoreError(
        f"{path} cannot be used as the archive ({text}): it is not a SQLite database or it "
        "is damaged; move it aside and restore a backup (the WARC files let `python -m "
        "archive reparse` rebuild the articles), or set ARCHIVE_DATA_DIR to another "
        "directory", path=str(path))


def _check_readable_version(version: int, path: Path) -> None:
    check_not_too_new(version, path)
    if version < SCHEMA_VERSION:
        raise StoreError(
            f"{path.name} has schema {version}, this program needs {SCHEMA_VERSION}; run a "
            "writing command once (`python -m archive crawl` or `reparse`) to migrate it",
            path=str(path))


def _now() -> datetime:
    return datetime.now(UTC)


def _optional_time(moment: datetime | None) -> str | None:
    return rows.time_text(moment) if moment else None


def _rowid(cursor: sqlite3.Cursor) -> int:
    assert cursor.lastrowid is not None
    return cursor.lastrowid
