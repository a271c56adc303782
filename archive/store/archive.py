"""The archive: one SQLite database (WAL) of articles, their versions and the crawl state.

Nothing once archived is deleted: an edit adds a version, a disappearance marks the article
withdrawn with its date, a reappearance marks it published again, and its history keeps every
such event. Raw responses go to WARC files (``archive.store.warc``); their rows here say where
each record lives.

``Archive`` opens (and migrates) the database and owns its one connection and transactions;
its parts each serve one consumer:

- ``archive.crawl_state`` (``CrawlState``): runs, frontier, per-URL fetch state, listings;
- ``archive.captures`` (``Captures``): raw responses in WARC files;
- ``archive.articles`` (``ArticleVersions``): saving articles as versions,
  withdrawals, each article's versions and history;
- ``archive.reads`` (``ReadQueries``): the reads of articles, lists and figures;
- ``archive.takedowns`` (``Takedowns``): articles hidden from the public on request.

Every write method commits on its own. Wrap several calls, of any parts, in
``with archive.transaction():`` to commit them together (faster, and all-or-nothing); inside it
each write method runs in its own savepoint, so an error in one call never leaves half an
article behind even when the caller catches it and goes on. An ``Archive`` belongs to the
thread that opened it (only ``close()`` may be called from another thread).
"""

from __future__ import annotations

import sqlite3
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from types import TracebackType

from archive.errors import ArchiveError, StoreError
from archive.french import os_reason, sqlite_reason
from archive.store.article_versions import ArticleVersions
from archive.store.captures import Captures
from archive.store.crawl_state import COMPLETE, CrawlState
from archive.store.database import Database, explained
from archive.store.reads import ReadQueries
from archive.store.schema import SCHEMA_VERSION, check_not_too_new, migrate, schema_version
from archive.store.takedowns import Takedowns
from archive.store.warc import DEFAULT_MAX_BYTES

__all__ = ["BUSY_SECONDS", "COMPLETE", "Archive"]

BUSY_SECONDS = 5.0
"""How long a write waits for another process's write before giving up."""


class Archive:
    """The SQLite archive of one data directory (see the module docstring)."""

    def __init__(self, db: Database, warc_dir: Path, *,
                 warc_max_bytes: int = DEFAULT_MAX_BYTES) -> None:
        self._db = db
        self.path = db.path
        self.warc_dir = warc_dir
        self.readonly = db.readonly
        self.crawl_state = CrawlState(db)
        self.captures = Captures(db, warc_dir, warc_max_bytes=warc_max_bytes)
        self.articles = ArticleVersions(db)
        self.reads = ReadQueries(db, self.crawl_state)
        self.takedowns = Takedowns(db)

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
                f"aucune archive dans {path} ; lancez d'abord `python -m archive crawl` ou donnez "
                "à ARCHIVE_DATA_DIR le répertoire qui contient archive.sqlite3", path=str(path))
        if not readonly:
            try:
                path.parent.mkdir(parents=True, exist_ok=True)
            except OSError as exc:
                raise StoreError(
                    f"impossible de créer {path.parent} ({os_reason(exc)}) ; choisissez un "
                    "ARCHIVE_DATA_DIR accessible en écriture", path=str(path)) from exc
        uri = path.resolve().as_uri() + ("?mode=ro" if readonly else "?mode=rwc")
        try:
            # The thread rule is enforced in _errors() instead, so close() works from any thread.
            conn = sqlite3.connect(uri, uri=True, isolation_level=None, timeout=busy_seconds,
                                   check_same_thread=False)
        except sqlite3.Error as exc:
            raise StoreError(
                f"impossible d'ouvrir {path} ({sqlite_reason(exc)}) ; vérifiez le chemin et ses "
                "droits",
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
            raise explained(exc, path) from exc
        return cls(Database(conn, path, readonly=readonly), warc_dir, warc_max_bytes=warc_max_bytes)

    def close(self) -> None:
        """Close the database connection and the current WARC file (from any thread)."""
        try:
            self.captures.close()
        finally:
            self._db.close()

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

    @contextmanager
    def transaction(self) -> Iterator[None]:
        """Commit every write made inside the block, by any part, together, or none of them."""
        with self._db.transaction():
            yield

    def schema_version(self) -> int:
        """Return the schema version of the open database."""
        with self._db.errors():
            return schema_version(self._db.conn, self.path)

    def integrity_check(self) -> list[str]:
        """Run SQLite's integrity check; return its messages (``["ok"]`` when sound)."""
        with self._db.errors():
            return [row[0] for row in self._db.conn.execute("PRAGMA integrity_check")]


def _check_readable_version(version: int, path: Path) -> None:
    check_not_too_new(version, path)
    if version < SCHEMA_VERSION:
        raise StoreError(
            f"{path.name} est au schéma {version}, ce programme demande le {SCHEMA_VERSION} ; "
            "lancez une fois une commande qui écrit (`python -m archive crawl` ou `reparse`) "
            "pour la mettre à niveau",
            path=str(path))
