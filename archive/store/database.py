"""The archive's one SQLite connection: its thread, its transactions and its error messages.

Every part of the archive (``crawl_state``, ``captures``, ``articles``, ``reads``)
works through the one ``Database`` its ``Archive`` opened, so a ``transaction()`` spans them all.
Each write commits on its own unless it runs inside ``transaction()``, where it is a savepoint.
"""

from __future__ import annotations

import sqlite3
import threading
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from archive.errors import StoreError
from archive.french import SQLITE_REASONS, sqlite_reason
from archive.store import rows
from archive.store.records import StoredArticle

BATCH = 500
"""Rows read per query by the batched readers (ids per ``IN``, articles per page)."""


class Database:
    """One SQLite connection owned by one thread, and the transactions made on it."""

    def __init__(self, conn: sqlite3.Connection, path: Path, *, readonly: bool) -> None:
        self.conn = conn
        self.path = path
        self.readonly = readonly
        self._depth = 0
        self._thread = threading.get_ident()

    def close(self) -> None:
        """Close the connection (from any thread)."""
        self.conn.close()

    @contextmanager
    def transaction(self) -> Iterator[None]:
        """Commit every write made inside the block together, or none of them."""
        self.check_writable()
        with self.errors():
            if self._depth == 0:
                self.conn.execute("BEGIN IMMEDIATE")
                self._depth = 1
                try:
                    yield
                    self.conn.execute("COMMIT")
                except BaseException:
                    if self.conn.in_transaction:
                        self.conn.execute("ROLLBACK")
                    raise
                finally:
                    self._depth = 0
            else:
                savepoint = f"sp{self._depth}"
                self.conn.execute(f"SAVEPOINT {savepoint}")
                self._depth += 1
                try:
                    yield
                except BaseException:
                    if self.conn.in_transaction:
                        self.conn.execute(f"ROLLBACK TO {savepoint}")
                        self.conn.execute(f"RELEASE {savepoint}")
                    raise
                else:
                    self.conn.execute(f"RELEASE {savepoint}")
                finally:
                    self._depth -= 1

    def select_articles(self, clause: str, params: Sequence[Any]) -> list[StoredArticle]:
        """Return the articles (with their current body) selected by CLAUSE."""
        with self.errors():
            found = self.conn.execute(
                f"SELECT {rows.ARTICLE_COLUMNS} FROM {rows.ARTICLE_FROM} {clause}",
                tuple(params)).fetchall()
        return [rows.stored_article(row) for row in found]

    def check_writable(self) -> None:
        """Raise StoreError when the archive was opened read-only."""
        if self.readonly:
            raise StoreError(
                f"{self.path} est ouverte en lecture seule ; écrire demande "
                "Archive.open(readonly=False)",
                path=str(self.path))

    @contextmanager
    def errors(self) -> Iterator[None]:
        """Refuse another thread; turn SQLite's errors into StoreErrors saying what to do."""
        if threading.get_ident() != self._thread:
            raise StoreError(
                f"une Archive de {self.path} a servi à un autre fil d'exécution que celui qui "
                "l'a ouverte ; ouvrez une Archive par fil", path=str(self.path))
        try:
            yield
        except (sqlite3.ProgrammingError, sqlite3.InterfaceError):
            raise  # a bug in the caller (wrong thread, closed archive), not a problem of the file
        except sqlite3.Error as exc:
            raise explained(exc, self.path) from exc


def explained(exc: sqlite3.Error, path: Path) -> StoreError:
    """Return the StoreError that tells the user what to do about a SQLite error."""
    text = str(exc)
    if "locked" in text or "busy" in text:
        return StoreError(
            f"{path} est occupée : une autre collecte ou relecture l'écrit ; attendez qu'elle "
            "finisse et réessayez", path=str(path))
    if isinstance(exc, sqlite3.OperationalError) and "not a database" not in text:
        return StoreError(f"impossible d'utiliser {path} ({sqlite_reason(exc)}) ; vérifiez "
                          "l'espace disque et les droits du fichier et de son répertoire",
                          path=str(path))
    reason = sqlite_reason(exc)
    # A known reason says it already; « (ce n'est pas une base SQLite) : ce n'est pas une base
    # SQLite… » said it twice.
    said = reason if reason in SQLITE_REASONS.values() else (
        f"ce n'est pas une base SQLite ou elle est endommagée ; {reason}")
    return StoreError(
        f"{path} ne peut pas servir d'archive ({said}) ; mettez-la de côté et restaurez une "
        "sauvegarde (les fichiers WARC permettent à `python -m archive reparse` de reconstruire "
        "les articles), ou donnez un autre répertoire à ARCHIVE_DATA_DIR", path=str(path))


def now() -> datetime:
    """Return the current time, aware, in UTC."""
    return datetime.now(UTC)


def rowid(cursor: sqlite3.Cursor) -> int:
    """Return the id of the row CURSOR inserted."""
    assert cursor.lastrowid is not None
    return cursor.lastrowid
