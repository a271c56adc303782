"""Where the search service gets article texts: an injected reader, not an archive of its own.

The index does not store bodies (snippets are cut from SQLite's text with the index's character
offsets), so ``SearchService`` is given an ``ArticleTexts``: a callable from article ids to each
article's body and ``change_seq``. The web layer passes one over its own per-thread archive
(one connection per thread); the CLI and the benchmarks use ``ArchiveTexts``.
"""

from __future__ import annotations

import threading
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import TYPE_CHECKING, NamedTuple

from archive.errors import StoreError

if TYPE_CHECKING:
    from archive.store import Archive


class ArticleText(NamedTuple):
    """An article's body and the ``change_seq`` of its last change."""

    body: str
    change_seq: int


ArticleTexts = Callable[[Sequence[int]], dict[int, ArticleText]]
"""Return the texts of the articles of the given ids that exist, by id."""


class EarlierText(NamedTuple):
    """One superseded version of an article: its number, title and body."""

    number: int
    title: str
    body: str


EarlierTexts = Callable[[Sequence[int]], dict[int, list[EarlierText]]]
"""Return the superseded versions (all but the current one, oldest first) of articles, by id."""


def texts_of(archive: Archive, ids: Sequence[int]) -> dict[int, ArticleText]:
    """Return the texts of the articles of IDS that ARCHIVE holds."""
    if not ids:
        return {}
    return {i: ArticleText(body, change_seq)
            for i, (body, change_seq) in archive.reads.bodies(ids).items()}


def earlier_texts_of(archive: Archive, ids: Sequence[int]) -> dict[int, list[EarlierText]]:
    """Return the superseded versions of the articles of IDS that ARCHIVE holds."""
    return {i: [EarlierText(v.number, v.title or "", v.body or "")
                for v in archive.articles.versions(i)[:-1]] for i in ids}


class ArchiveTexts:
    """Reads texts from the archive at a path, one read-only connection per thread.

    Without an archive (none created yet) there are no texts: results then show no snippets.
    """

    def __init__(self, database_path: Path) -> None:
        self.database_path = Path(database_path)
        self._local = threading.local()
        self._opened: list[Archive] = []
        self._lock = threading.Lock()

    def __call__(self, ids: Sequence[int]) -> dict[int, ArticleText]:
        """Return the texts of the articles of IDS that exist, by id."""
        if not ids:
            return {}
        archive = self._archive()
        return {} if archive is None else texts_of(archive, ids)

    def _archive(self) -> Archive | None:
        """Return this thread's read-only connection, None when there is no archive."""
        archive: Archive | None = getattr(self._local, "archive", None)
        if archive is None:
            from archive.store import Archive

            try:
                archive = Archive.open(self.database_path, readonly=True)
            except StoreError:
                return None
            self._local.archive = archive
            with self._lock:
                self._opened.append(archive)
        return archive

    def earlier(self, ids: Sequence[int]) -> dict[int, list[EarlierText]]:
        """Return the superseded versions of the articles of IDS, by id."""
        archive = self._archive()
        return {} if archive is None else earlier_texts_of(archive, ids)

    def close(self) -> None:
        """Close every connection this reader opened."""
        with self._lock:
            opened, self._opened = self._opened, []
        for archive in opened:
            archive.close()
        self._local = threading.local()
