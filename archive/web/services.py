"""The web workers' access to the archive and the search index, opened lazily after fork.

Each thread keeps its own read-only ``Archive`` (SQLite connections are not shared between
threads); each worker process keeps one ``SearchService``, which manages per-thread searchers and
picks up a new index generation or a swapped rebuild by itself, and reads the texts of its
snippets through the thread's ``Archive`` (one connection per thread). Nothing is opened at import
time or in the gunicorn master, so workers never inherit a file handle across fork.
"""

from __future__ import annotations

import logging
import os
import sqlite3
import threading
import time
import weakref
from collections.abc import Callable
from pathlib import Path
from typing import TYPE_CHECKING, Any, TypeVar

from markupsafe import Markup

from archive.config import Settings
from archive.errors import REPAIR_INDEX_COMMAND, ArchiveError, IndexUnreadable, StoreError
from archive.web.limits import WORDS_BUSY, ExpensivePages, busy_slots, word_table_waits
from archive.web.pagecache import PageCache

if TYPE_CHECKING:
    from archive.store import Archive
    from archive.store.records import ArchiveStats, AuthorSummary
    from indexer.search import SearchService

T = TypeVar("T")
log = logging.getLogger(__name__)

BUILDING = "L'archive est en cours de construction : revenez dans quelques minutes."
CACHE_SECONDS = 60.0
CHANGE_CHECK_SECONDS = 2.0
DATALIST_AUTHORS = 500
# Finished results kept per index generation in each worker: a page of results is about 30 KB,
# so 2,048 of them stay under 70 MB; readers paging back and forth or following a shared link
# then cost nothing (a generation change empties it).
SEARCH_RESULTS_CACHED = 2048


class Services:
    """One worker's handles on the archive and the index, plus small caches of slow summaries."""

    def __init__(self, settings: Settings) -> None:
        self.settings = settings
        self._local = threading.local()
        self._lock = threading.Lock()
        self._search: SearchService | None = None
        self._search_pid = 0
        self._cache: dict[str, tuple[float, Any]] = {}
        self._changes: dict[str, tuple[float, int, Any]] = {}
        self._computing = threading.RLock()
        # Weak: a short-lived thread's archive is freed with its thread (the development
        # server starts one thread per request); gthread workers keep theirs for good.
        self._opened: weakref.WeakSet[Archive] = weakref.WeakSet()
        self.expensive = ExpensivePages(busy_slots(settings.web_threads))
        # The API's searches waiting for a new generation's word table (archive.web.limits).
        self.word_waits = ExpensivePages(word_table_waits(settings.web_threads), WORDS_BUSY)
        self.pages = PageCache()
        self.damaged_build: str | None = None

    def archive(self) -> Archive:
        """Return this thread's read-only archive, opening it on first use.

        A new file at the database path (a published release switched in, or a snapshot put in
        place by rename) is opened at the next call, one ``stat`` telling; the archive it
        replaces stays open until the request ends (``end_request``), so whatever the request
        already read from it stays usable. Within a request (``begin_request`` to
        ``end_request``) the file is looked at once: a results page asks for its archive six or
        seven times, and a ``stat`` costs some 10 µs on the serving machine (a virtual one).
        """
        local = self._local
        archive: Archive | None = getattr(local, "archive", None)
        if archive is not None and getattr(local, "checked", False) \
                and getattr(local, "pid", None) == os.getpid():
            return archive
        path = self.settings.database_path
        try:
            status = os.stat(path)
        except OSError:
            status = None
        local.checked = getattr(local, "in_request", False)
        if (archive is not None and getattr(local, "pid", None) == os.getpid()
                and (status is None or (status.st_dev, status.st_ino) == local.file)):
            return archive
        from archive.store import Archive

        if status is None:
            raise StoreError(BUILDING, path=str(path))
        # The data directory as it is now (a release directory behind a symlink): the database
        # and the WARC files are then read from the same release.
        base = Path(os.path.realpath(self.settings.data_dir))
        opened = Archive.open(base / path.name, warc_dir=base / self.settings.warc_dir.name,
                              readonly=True)
        if archive is not None and getattr(self._local, "pid", None) == os.getpid():
            self._local.retired = [*getattr(self._local, "retired", []), archive]
        self._local.archive = opened
        self._local.file = (status.st_dev, status.st_ino)
        self._local.pid = os.getpid()
        with self._lock:
            self._opened.add(opened)
        return opened

    def begin_request(self) -> None:
        """Look at the database file again at this thread's next ``archive()``, and only
        then until the request ends."""
        self._local.in_request = True
        self._local.checked = False

    def end_request(self) -> None:
        """Close the archives this thread replaced during the request (a new release)."""
        self._local.in_request = False
        self._local.checked = False
        retired: list[Archive] = getattr(self._local, "retired", [])
        self._local.retired = []
        for archive in retired:
            self._close_quietly(archive)

    def release(self) -> str | None:
        """Return the name of the published release this thread reads now (the one ``current``
        names when there is no archive to open), None outside a publish directory."""
        if self.settings.release_dir is None:
            return None
        try:
            return Path(self.archive().path).parent.name
        except ArchiveError:
            return Path(os.path.realpath(self.settings.data_dir)).name

    def search(self) -> SearchService:
        """Return this worker's search service, created on first use in this process."""
        pid = os.getpid()
        if self._search is not None and self._search_pid == pid:
            return self._search
        from indexer.search import SearchService
        from indexer.texts import earlier_texts_of, texts_of

        with self._lock:
            if self._search is None or self._search_pid != pid:
                self._search = SearchService(
                    self.settings.index_dir,
                    lambda ids: texts_of(self.archive(), ids),
                    check_seconds=self.settings.searcher_check_seconds,
                    cache_size=SEARCH_RESULTS_CACHED,
                    earlier_texts=lambda ids: earlier_texts_of(self.archive(), ids),
                )
                self._search_pid = pid
            return self._search

    def index_damaged(self, exc: BaseException) -> IndexUnreadable:
        """Record that the live index build failed to read (EXC); return the error to raise.

        ``/healthz`` answers 503 for that build from then on, so the load balancer and the
        operator learn of the damage; a new build (``index --full``) clears it.
        """
        try:
            build = self.search().info().build
        except ArchiveError:
            build = None
        log.error("la construction d'index %s est illisible", build, exc_info=exc)
        self.damaged_build = build
        return IndexUnreadable(
            f"la construction {build} de l'index de recherche est illisible "
            f"({type(exc).__name__} : {exc}) ; reconstruisez-la avec `{REPAIR_INDEX_COMMAND}`",
            path=str(self.settings.index_dir))

    def cached(self, key: str, compute: Callable[[], T], seconds: float = CACHE_SECONDS) -> T:
        """Return COMPUTE's value, computed at most once per SECONDS in this worker."""
        now = time.monotonic()
        entry = self._cache.get(key)
        if entry is not None and now - entry[0] < seconds:
            value: T = entry[1]
            return value
        value = compute()
        self._cache[key] = (now, value)
        return value

    def per_change(self, key: str, compute: Callable[[], T]) -> T:
        """Return COMPUTE's value, computed again only once the archive has changed.

        Author lists take half a second at 100,000 articles: computed on a timer, a request
        paid for them every minute and concurrent first requests computed them side by side.
        Whether the archive changed (its highest ``change_seq``, an indexed lookup) is checked
        at most every CHANGE_CHECK_SECONDS, and one thread computes while the others wait.
        """
        now = time.monotonic()
        entry = self._changes.get(key)
        if entry is not None and now - entry[0] < CHANGE_CHECK_SECONDS:
            return entry[2]  # type: ignore[no-any-return]
        seq = self.archive().reads.max_change_seq()
        if entry is not None and entry[1] == seq:
            self._changes[key] = (now, seq, entry[2])
            return entry[2]  # type: ignore[no-any-return]
        with self._computing:
            entry = self._changes.get(key)
            if entry is not None and entry[1] == seq:
                return entry[2]  # type: ignore[no-any-return]
            value = compute()
            self._changes[key] = (time.monotonic(), seq, value)
            return value

    def authors(self) -> list[AuthorSummary]:
        """Return every author of the archive (computed again when the archive changes)."""
        return self.per_change("authors", lambda: self.archive().reads.authors())

    def datalist_authors(self) -> Markup:
        """Return the ``<option>``s offered for author completion: the most prolific authors.

        Built once per change of the archive rather than on every page: it is the largest part
        of a results page, and every name in it is escaped here.
        """

        def compute() -> Markup:
            top = sorted(self.authors(), key=lambda a: -a.count)[:DATALIST_AUTHORS]
            names = sorted((a.name for a in top), key=str.casefold)
            return Markup("").join(Markup('<option value="%s">') % name for name in names)

        return self.per_change("datalist", compute)

    def change_seq(self) -> int:
        """Return the archive's highest ``change_seq``, read now (an indexed lookup): every
        edit, withdrawal or article hidden on request moves it."""
        return self.archive().reads.max_change_seq()

    def hidden_ids(self) -> frozenset[int]:
        """Return the articles hidden on request, read on every call (a partial index makes it
        a few microseconds): search results leave them out at once, before the index does."""
        return self.archive().reads.hidden_ids()

    def stats(self) -> ArchiveStats:
        """Return the archive's headline figures (cached briefly)."""
        return self.cached("stats", lambda: self.archive().reads.stats(), seconds=15.0)

    def close(self) -> None:
        """Close every handle this object opened (tests and shutdown)."""
        with self._lock:
            opened, self._opened = list(self._opened), weakref.WeakSet()
            search, self._search = self._search, None
        for archive in opened:
            self._close_quietly(archive)
        if search is not None:
            self._close_quietly(search)
        self._local = threading.local()

    @staticmethod
    def _close_quietly(handle: Archive | SearchService) -> None:
        # A SQLite connection opened by another thread (a server thread) refuses to be closed
        # from this one; the garbage collector closes it when that thread's objects go.
        try:
            handle.close()
        except sqlite3.ProgrammingError:
            pass
