"""The archive's read queries: articles by id, URL, author, date and change, the lists and
figures the web pages show, and narrow reads for callers that need little."""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from datetime import date
from typing import Any

from archive.store import rows
from archive.store.crawl_state import CrawlState
from archive.store.database import BATCH, Database
from archive.store.records import (
    ArchiveChange,
    ArchiveStats,
    ArticleAddress,
    AuthorSummary,
    StoredArticle,
)

PUBLIC = "a.hidden_at IS NULL"
"""The condition that keeps an article hidden on request off the public lists and figures."""


class ReadQueries:
    """Reads of articles and their summaries (lists are newest published first).

    The public lists and figures (latest, by author, by date, authors, month counts, changes,
    stats but its ``articles`` total) leave out articles hidden on request; reads by id or URL,
    ``iter_articles`` and ``changes_since`` return them with ``hidden_at`` set.
    """

    def __init__(self, db: Database, crawl_state: CrawlState) -> None:
        self._db = db
        self._crawl_state = crawl_state

    def get_article(self, article_id: int) -> StoredArticle | None:
        """Return article ARTICLE_ID, or None."""
        found = self._db.select_articles("WHERE a.id = ?", (article_id,))
        return found[0] if found else None

    def get_article_by_url(self, url: str) -> StoredArticle | None:
        """Return the article seen at URL (its own, canonical or any fetched URL), or None."""
        found = self._db.select_articles(
            "WHERE a.id = (SELECT article_id FROM article_urls WHERE url = ?)", (url,))
        return found[0] if found else None

    def articles(self, ids: Sequence[int]) -> dict[int, StoredArticle]:
        """Return the articles of IDS that exist, by id."""
        found: dict[int, StoredArticle] = {}
        unique = list(dict.fromkeys(ids))
        for start in range(0, len(unique), BATCH):
            chunk = unique[start:start + BATCH]
            marks = ",".join("?" * len(chunk))
            for article in self._db.select_articles(f"WHERE a.id IN ({marks})", chunk):
                found[article.id] = article
        return found

    def version_counts(self, ids: Sequence[int]) -> dict[int, int]:
        """Return how many versions each article of IDS that exists has, by id (no texts read:
        a results page's « modifié N fois »)."""
        found: dict[int, int] = {}
        unique = list(dict.fromkeys(ids))
        with self._db.errors():
            for start in range(0, len(unique), BATCH):
                chunk = unique[start:start + BATCH]
                marks = ",".join("?" * len(chunk))
                found.update(self._db.conn.execute(
                    f"SELECT id, version_count FROM articles WHERE id IN ({marks})", chunk))
        return found

    def bodies(self, ids: Sequence[int]) -> dict[int, tuple[str, int]]:
        """Return (current body, change_seq) of the articles of IDS that exist, by id.

        The narrow read of a page of search results: its snippets need the text alone.
        """
        found: dict[int, tuple[str, int]] = {}
        unique = list(dict.fromkeys(ids))
        for start in range(0, len(unique), BATCH):
            chunk = unique[start:start + BATCH]
            marks = ",".join("?" * len(chunk))
            with self._db.errors():
                rows = self._db.conn.execute(
                    "SELECT a.id, v.body, a.change_seq FROM articles a JOIN versions v"
                    " ON v.article_id = a.id AND v.number = a.version_count"
                    f" WHERE a.id IN ({marks})", chunk).fetchall()
            for article_id, body, change_seq in rows:
                found[int(article_id)] = (body or "", int(change_seq))
        return found

    def changes_since(self, seq: int, limit: int = 1000) -> list[StoredArticle]:
        """Return up to LIMIT articles whose change_seq is above SEQ, in change_seq order."""
        return self._db.select_articles("WHERE a.change_seq > ? ORDER BY a.change_seq LIMIT ?",
                                        (seq, limit))

    def changes(self, kinds: Sequence[str], *, edition: str | None = None, limit: int = 50,
                offset: int = 0) -> list[ArchiveChange]:
        """Return the events of KINDS (changed, withdrawn, republished), newest first."""
        where, params = _changes_where(kinds, edition)
        with self._db.errors():
            found = self._db.conn.execute(
                f"""SELECT e.article_id, e.at, e.kind, e.detail, a.title, a.author, a.edition,
                           a.status, a.version_count
                    FROM article_events e JOIN articles a ON a.id = e.article_id
                    WHERE {where} ORDER BY e.at DESC, e.id DESC LIMIT ? OFFSET ?""",
                (*params, limit, offset)).fetchall()
        return [rows.archive_change(row) for row in found]

    def count_changes(self, kinds: Sequence[str], *, edition: str | None = None) -> int:
        """Return how many events of KINDS (in EDITION if given) the archive holds."""
        where, params = _changes_where(kinds, edition)
        with self._db.errors():
            row = self._db.conn.execute(
                f"""SELECT count(*) FROM article_events e JOIN articles a ON a.id = e.article_id
                    WHERE {where}""", params).fetchone()
        return int(row[0])

    def editions(self) -> list[str]:
        """Return the editions the archive holds articles of, in name order."""
        with self._db.errors():
            found = self._db.conn.execute(
                """SELECT DISTINCT edition FROM articles WHERE edition IS NOT NULL
                   ORDER BY edition""").fetchall()
        return [row[0] for row in found]

    def fingerprint(self, change_seq: int) -> str:
        """Return what identifies this archive as it was at CHANGE_SEQ.

        Its creation time and its last event up to CHANGE_SEQ (with the first version's hash
        of that event's article): events are only ever appended, so the value never changes
        while the archive only moves on. An index records it; a different value later means
        the archive was replaced or restored from an older backup.
        """
        with self._db.errors():
            created = self._db.conn.execute(
                "SELECT applied_at FROM schema_version WHERE version = 1").fetchone()
            event = self._db.conn.execute(
                """SELECT e.id, e.article_id, e.at, e.kind, v.content_hash
                   FROM article_events e
                   LEFT JOIN versions v ON v.article_id = e.article_id AND v.number = 1
                   WHERE e.change_seq <= ?
                   ORDER BY e.change_seq DESC, e.id DESC LIMIT 1""", (change_seq,)).fetchone()
        parts = [created[0] if created else "", *(str(v) for v in (event or ()))]
        return "|".join(parts)

    def max_change_seq(self) -> int:
        """Return the highest change_seq (0 for an empty archive)."""
        with self._db.errors():
            row = self._db.conn.execute("SELECT coalesce(max(change_seq), 0) FROM articles")
            return int(row.fetchone()[0])

    def iter_articles(self, first_id: int = 1,
                      last_id: int | None = None) -> Iterator[StoredArticle]:
        """Yield every article by id (from FIRST_ID to LAST_ID), in batches: memory stays flat."""
        last = first_id - 1
        stop = last_id if last_id is not None else 2**63 - 1
        while True:
            batch = self._db.select_articles("WHERE a.id > ? AND a.id <= ? ORDER BY a.id LIMIT ?",
                                 (last, stop, BATCH))
            yield from batch
            if len(batch) < BATCH:
                return
            last = batch[-1].id

    def id_ranges(self, parts: int) -> list[tuple[int, int]]:
        """Split the article ids into at most PARTS ranges (first, last) of about equal counts."""
        if parts < 1:
            raise ValueError(f"parts must be at least 1, not {parts}")
        with self._db.errors():
            count, highest = self._db.conn.execute(
                "SELECT count(*), max(id) FROM articles").fetchone()
            if not count:
                return []
            parts = min(parts, count)
            starts = [1]
            for part in range(1, parts):
                row = self._db.conn.execute("SELECT id FROM articles ORDER BY id LIMIT 1 OFFSET ?",
                                         (part * count // parts,)).fetchone()
                starts.append(row[0])
        return [(start, end - 1) for start, end in zip(starts, starts[1:], strict=False)] + [
            (starts[-1], highest)]

    def iter_addresses(self) -> Iterator[ArticleAddress]:
        """Yield every article's URLs and withdrawal by id, in batches, without reading bodies."""
        last = 0
        while True:
            with self._db.errors():
                batch = self._db.conn.execute(
                    """SELECT id, url, fetched_url, status FROM articles WHERE id > ?
                       ORDER BY id LIMIT ?""", (last, BATCH)).fetchall()
            for row in batch:
                yield ArticleAddress(row["id"], row["url"], row["fetched_url"],
                                     row["status"] == "withdrawn")
            if len(batch) < BATCH:
                return
            last = batch[-1]["id"]

    def resolve_article(self, url_or_id: str) -> StoredArticle | None:
        """Return the article named by URL_OR_ID (its number, or any URL it was seen at)."""
        text = url_or_id.strip()
        if text.isascii() and text.isdigit():
            return self.get_article(int(text[:18]))
        return self.get_article_by_url(text)

    def hidden_ids(self) -> frozenset[int]:
        """Return the ids of the articles hidden on request (a partial index: microseconds)."""
        with self._db.errors():
            found = self._db.conn.execute("SELECT id FROM articles WHERE hidden_at IS NOT NULL")
            return frozenset(row[0] for row in found)

    def latest(self, limit: int = 10) -> list[StoredArticle]:
        """Return the LIMIT most recently published articles (withdrawn ones included)."""
        return self._db.select_articles(
            f"WHERE {PUBLIC} ORDER BY a.published DESC, a.id DESC LIMIT ?", (limit,))

    def authors(self) -> list[AuthorSummary]:
        """Return every author, named by its most used spelling, in alphabetical key order."""
        return self._author_summaries(None)

    def author_by_slug(self, slug: str) -> AuthorSummary | None:
        """Return the author whose slug is SLUG, or None."""
        with self._db.errors():
            row = self._db.conn.execute("SELECT key FROM authors WHERE slug = ?",
                                     (slug,)).fetchone()
        if row is None:
            return None
        found = self._author_summaries(row[0])
        return found[0] if found else None

    def articles_by_author(self, key: str, *, limit: int = 50,
                           offset: int = 0) -> list[StoredArticle]:
        """Return the articles of author KEY, newest published first."""
        return self._db.select_articles(
            f"""WHERE a.author_key = ? AND {PUBLIC}
                ORDER BY a.published DESC, a.id DESC LIMIT ? OFFSET ?""",
            (key, limit, offset))

    def articles_between(self, start: date, end: date, *, limit: int = 50,
                         offset: int = 0) -> list[StoredArticle]:
        """Return articles published from START to END (both included), newest first."""
        return self._db.select_articles(
            f"""WHERE a.published BETWEEN ? AND ? AND {PUBLIC}
                ORDER BY a.published DESC, a.id DESC LIMIT ? OFFSET ?""",
            (start.isoformat(), end.isoformat(), limit, offset))

    def count_between(self, start: date, end: date) -> int:
        """Return how many articles were published from START to END (both included)."""
        with self._db.errors():
            row = self._db.conn.execute(
                f"SELECT count(*) FROM articles a WHERE published BETWEEN ? AND ? AND {PUBLIC}",
                (start.isoformat(), end.isoformat())).fetchone()
        return int(row[0])

    def month_counts(self, author_key: str | None = None) -> list[tuple[int, int, int]]:
        """Return (year, month, count) of published articles, oldest month first."""
        where = f"published IS NOT NULL AND {PUBLIC}"
        params: tuple[Any, ...] = ()
        if author_key is not None:
            where += " AND author_key = ?"
            params = (author_key,)
        with self._db.errors():
            found = self._db.conn.execute(
                f"""SELECT substr(published, 1, 7) AS month, count(*) FROM articles a
                    WHERE {where} GROUP BY month ORDER BY month""", params).fetchall()
        return [(int(month[:4]), int(month[5:7]), count) for month, count in found]

    def stats(self) -> ArchiveStats:
        """Return the archive's headline figures."""
        with self._db.errors():
            row = self._db.conn.execute(
                f"""SELECT count(*), coalesce(sum(status = 'withdrawn' AND {PUBLIC}), 0),
                          count(DISTINCT CASE WHEN {PUBLIC} THEN author_key END),
                          min(CASE WHEN {PUBLIC} THEN published END),
                          max(CASE WHEN {PUBLIC} THEN published END),
                          coalesce(sum(hidden_at IS NOT NULL), 0)
                   FROM articles a""").fetchone()
            versions = self._db.conn.execute("SELECT count(*) FROM versions").fetchone()[0]
            captures = self._db.conn.execute("SELECT count(*) FROM captures").fetchone()[0]
        return ArchiveStats(
            articles=row[0], withdrawn=row[1], authors=row[2],
            first_published=rows.date_value(row[3]), last_published=rows.date_value(row[4]),
            last_run=self._crawl_state.last_run(), versions=versions, captures=captures,
            hidden=row[5])

    def _author_summaries(self, key: str | None) -> list[AuthorSummary]:
        where, params = ("a.author_key = ?", (key,)) if key else ("a.author_key IS NOT NULL", ())
        where += f" AND {PUBLIC}"
        with self._db.errors():
            spellings = self._db.conn.execute(
                f"""SELECT a.author_key, a.author, count(*) AS n, max(a.published) AS latest
                    FROM articles a WHERE {where} GROUP BY a.author_key, a.author""",
                params).fetchall()
            totals = self._db.conn.execute(
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


def _changes_where(kinds: Sequence[str], edition: str | None) -> tuple[str, list[Any]]:
    if not kinds:
        return "0", []
    where = f"e.kind IN ({','.join('?' * len(kinds))}) AND {PUBLIC}"
    params: list[Any] = list(kinds)
    if edition is not None:
        where += " AND a.edition = ?"
        params.append(edition)
    return where, params
