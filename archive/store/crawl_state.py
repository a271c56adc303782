"""The crawler's state in the archive: runs, the resumable frontier, per-URL fetch state, what
the REST API said of each post, and the listings each run saw."""

from __future__ import annotations

import json
from collections.abc import Iterable, Mapping, Sequence
from datetime import date, datetime
from typing import Any

from archive.errors import StoreError
from archive.models import RestFacts
from archive.store import rows
from archive.store.database import Database, now, rowid
from archive.store.records import CrawlRun, FetchState, FrontierItem

COMPLETE = "complete"
"""The ``finish_run`` status of a run whose listings covered the whole site."""


class CrawlState:
    """Crawl runs, their frontier, what each URL's last fetch answered, and listed URLs."""

    def __init__(self, db: Database) -> None:
        self._db = db

    def start_run(self, seeds: Sequence[str]) -> int:
        """Record the start of a crawl run and return its id."""
        with self._db.transaction():
            cursor = self._db.conn.execute(
                "INSERT INTO crawl_runs (started_at, seeds) VALUES (?, ?)",
                (rows.time_text(now()), rows.json_text(list(seeds))))
            return rowid(cursor)

    def unfinished_run(self) -> int | None:
        """Return the newest run that started but never finished (killed), or None."""
        with self._db.errors():
            row = self._db.conn.execute(
                "SELECT max(id) FROM crawl_runs WHERE finished_at IS NULL").fetchone()
        return int(row[0]) if row[0] is not None else None

    def finish_run(self, run_id: int, *, status: str, counts: Mapping[str, int],
                   errors: Sequence[Mapping[str, Any]]) -> None:
        """Record how run RUN_ID ended (status "complete" when every listing was read).

        The run's frontier is emptied: the counts and errors are what remains of it.
        """
        finished = now()
        with self._db.transaction():
            row = self._db.conn.execute(
                "SELECT started_at FROM crawl_runs WHERE id = ?", (run_id,)).fetchone()
            if row is None:
                raise StoreError(f"aucune collecte {run_id} dans {self._db.path}",
                                 path=str(self._db.path))
            started = rows.time_value(row["started_at"])
            assert started is not None
            self._db.conn.execute(
                """UPDATE crawl_runs SET finished_at = ?, status = ?, counts = ?, errors = ?,
                   duration_seconds = ? WHERE id = ?""",
                (rows.time_text(finished), status, rows.json_text(dict(counts)),
                 rows.json_text([dict(error) for error in errors]),
                 (finished - started).total_seconds(), run_id))
            self._db.conn.execute("DELETE FROM frontier WHERE run_id = ?", (run_id,))

    def last_run(self) -> CrawlRun | None:
        """Return the newest crawl run, finished or not."""
        with self._db.errors():
            row = self._db.conn.execute(
                "SELECT * FROM crawl_runs ORDER BY id DESC LIMIT 1").fetchone()
        return rows.crawl_run(row) if row else None

    def run(self, run_id: int) -> CrawlRun | None:
        """Return crawl run RUN_ID, or None."""
        with self._db.errors():
            row = self._db.conn.execute("SELECT * FROM crawl_runs WHERE id = ?",
                                     (run_id,)).fetchone()
        return rows.crawl_run(row) if row else None

    def enqueue(self, run_id: int, items: Iterable[tuple[str, str, str | None]]) -> int:
        """Queue (url, kind, hint) items for run RUN_ID; return how many were new."""
        with self._db.transaction():
            before = self._db.conn.total_changes
            self._db.conn.executemany(
                "INSERT OR IGNORE INTO frontier (run_id, url, kind, hint) VALUES (?, ?, ?, ?)",
                ((run_id, url, kind, hint) for url, kind, hint in items))
            return self._db.conn.total_changes - before

    def pending(self, run_id: int, limit: int = 100) -> list[FrontierItem]:
        """Return up to LIMIT queued items of run RUN_ID not yet done, oldest first."""
        with self._db.errors():
            found = self._db.conn.execute(
                """SELECT url, kind, hint FROM frontier WHERE run_id = ? AND outcome IS NULL
                   ORDER BY id LIMIT ?""", (run_id, limit)).fetchall()
        return [FrontierItem(row["url"], row["kind"], row["hint"]) for row in found]

    def done_urls(self, run_id: int) -> set[str]:
        """Return the URLs of run RUN_ID's queue whose outcome is recorded (committed)."""
        with self._db.errors():
            found = self._db.conn.execute(
                "SELECT url FROM frontier WHERE run_id = ? AND outcome IS NOT NULL", (run_id,))
            return {row["url"] for row in found}

    def mark_done(self, run_id: int, url: str, outcome: str) -> None:
        """Take URL out of run RUN_ID's queue, noting its OUTCOME."""
        with self._db.transaction():
            self._db.conn.execute("UPDATE frontier SET outcome = ? WHERE run_id = ? AND url = ?",
                               (outcome, run_id, url))

    def fetch_state(self, url: str) -> FetchState | None:
        """Return what the last fetch of URL answered, or None if it was never fetched."""
        with self._db.errors():
            row = self._db.conn.execute(
                """SELECT f.*, u.article_id FROM fetch_state f
                   LEFT JOIN article_urls u ON u.url = f.url WHERE f.url = ?""",
                (url,)).fetchone()
        return rows.fetch_state(row) if row else None

    def record_fetch(self, url: str, *, status: int | None, etag: str | None = None,
                     last_modified: str | None = None, hint: str | None = None,
                     error: str | None = None, fetched_at: datetime) -> None:
        """Record a fetch of URL; validators and hint left as None keep their previous value."""
        with self._db.transaction():
            self._db.conn.execute(
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

    def unsignalled_articles(self) -> dict[str, tuple[datetime, date | None]]:
        """Return the archived, published article URLs whose last fetch carried no validator,
        and the pages fetched but refused as not an article (a protected post), so that both
        follow the revisit schedule: when each was last checked and its publication date."""
        with self._db.errors():
            found = self._db.conn.execute(
                """SELECT f.url, f.fetched_at, a.published FROM fetch_state f
                   LEFT JOIN article_urls u ON u.url = f.url
                   LEFT JOIN articles a ON a.id = u.article_id
                   WHERE f.etag IS NULL AND f.last_modified IS NULL AND f.status IN (200, 304)
                     AND f.error IS NULL
                     AND (a.status = 'published' OR u.url IS NULL)""").fetchall()
        unsignalled: dict[str, tuple[datetime, date | None]] = {}
        for row in found:
            checked = rows.time_value(row["fetched_at"])
            if checked is not None:
                unsignalled[row["url"]] = (checked, rows.date_value(row["published"]))
        return unsignalled

    def record_rest_facts(self, url: str, facts: RestFacts, *, when: datetime) -> None:
        """Keep what REST said of the post at URL (``reparse`` lays it over the page again)."""
        categories = None if facts.categories is None else rows.json_text(list(facts.categories))
        with self._db.transaction():
            self._db.conn.execute(
                """INSERT INTO rest_facts (url, modified, title, categories, recorded_at)
                   VALUES (?, ?, ?, ?, ?)
                   ON CONFLICT (url) DO UPDATE SET modified = excluded.modified,
                     title = excluded.title, categories = excluded.categories,
                     recorded_at = excluded.recorded_at""",
                (url, rows.time_text(facts.modified) if facts.modified else None, facts.title,
                 categories, rows.time_text(when)))

    def rest_facts(self, url: str) -> RestFacts | None:
        """Return what REST last said of the post at URL, or None if REST never listed it."""
        with self._db.errors():
            row = self._db.conn.execute(
                "SELECT modified, title, categories FROM rest_facts WHERE url = ?",
                (url,)).fetchone()
        if row is None:
            return None
        categories = None if row["categories"] is None else tuple(json.loads(row["categories"]))
        return RestFacts(rows.time_value(row["modified"]), row["title"], categories)

    def mark_listed(self, run_id: int, urls: Iterable[str]) -> None:
        """Record that run RUN_ID saw URLS in some listing (sitemap, feed, page, API)."""
        with self._db.transaction():
            self._db.conn.executemany(
                """INSERT INTO listed_urls (url, run_id) VALUES (?, ?)
                   ON CONFLICT (url) DO UPDATE SET run_id = max(run_id, excluded.run_id)""",
                ((url, run_id) for url in urls))
