"""The live index generation as each thread sees it: one Whoosh searcher per thread.

A searcher is a snapshot. Each thread keeps its own and checks, at every search, whether
``current`` points at another build (a full rebuild or a published release swapped a symlink,
which Whoosh's ``up_to_date()`` cannot see; one ``readlink``) and, at most every
``check_seconds``, whether the build has a newer generation (an incremental update). Then it
opens a new searcher and closes its old one; ``refresh()`` is never called (it returns
duplicates after a merge in whoosh-reloaded: ``docs/whoosh.md``). What depends only on the
generation (column arrays, result cache, author names) is built once and shared by threads.
"""

from __future__ import annotations

import gc
import logging
import threading
import time
import warnings
from collections import OrderedDict
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from whoosh.index import FileIndex
from whoosh.searching import Searcher

from archive.errors import REPAIR_INDEX_COMMAND, IndexUnavailable, IndexUnreadable
from indexer.associated import empty_word_table, load_word_table
from indexer.columns import Columns, load_columns
from indexer.location import LiveBuild, open_build, read_sync
from indexer.matches import PostingsCache
from indexer.memory import give_back
from indexer.readers import BuildGone, ReaderHold

_RESULT_CACHE_SIZE = 256
WORD_TABLE_WAIT_SECONDS = 300.0
log = logging.getLogger(__name__)


class ResultCache:
    """A small, thread-safe LRU of finished results, valid for one generation."""

    def __init__(self, size: int = _RESULT_CACHE_SIZE) -> None:
        self.size = size
        self._items: OrderedDict[Any, Any] = OrderedDict()
        self._lock = threading.Lock()

    def get(self, key: Any) -> Any:
        """Return the cached value of KEY, or None."""
        with self._lock:
            value = self._items.get(key)
            if value is not None:
                self._items.move_to_end(key)
            return value

    def put(self, key: Any, value: Any) -> None:
        """Remember VALUE under KEY, forgetting the least recently used beyond the size."""
        with self._lock:
            self._items[key] = value
            self._items.move_to_end(key)
            while len(self._items) > self.size:
                self._items.popitem(last=False)


@dataclass
class Generation:
    """What every thread shares about one generation of one build."""

    build: Path
    number: int
    doc_count: int
    columns: Columns
    change_seq: int | None
    cache: ResultCache = field(default_factory=ResultCache)
    author_names: dict[int, str] = field(default_factory=dict)
    field_lengths: dict[str, Any] = field(default_factory=dict)
    # Whole posting lists read lately (indexer.matches): shared by the generation's threads.
    postings: PostingsCache = field(default_factory=PostingsCache)
    # The associated words' table, read on first use by a thread of its own (most generations
    # never need it, and reading it takes seconds on a large index: no page waits for it).
    word_table: Any = None
    word_table_lock: threading.Lock = field(default_factory=threading.Lock)
    word_table_thread: threading.Thread | None = None
    # Each associated word as the query's analysis makes it (``SearchService._associated``
    # compares them with the query's own words): the table's words, analysed once each.
    analysed_words: dict[str, str] = field(default_factory=dict)

    def words(self, wait: bool, timeout: float = WORD_TABLE_WAIT_SECONDS) -> Any:
        """Return this generation's word table, starting to read it if nobody has.

        Without WAIT, None while it is being read; with WAIT, blocks until it is read (TIMEOUT
        seconds at most).
        """
        with self.word_table_lock:
            if self.word_table is None and self.word_table_thread is None:
                self.word_table_thread = threading.Thread(
                    target=self._read_words, name="associated-words", daemon=True)
                self.word_table_thread.start()
            thread = self.word_table_thread
        if self.word_table is None and wait and thread is not None:
            thread.join(timeout)
        return self.word_table

    def _read_words(self) -> None:
        """Read the word table with a searcher of this thread's own (searchers are per thread)."""
        table = None
        try:
            index = open_build(self.build)
            with index.searcher() as searcher:
                number = searcher.reader().generation()
                if number is None or int(number) == self.number:
                    table = load_word_table(searcher, self.columns.doc_count_all, self.doc_count)
        except Exception:  # noqa: BLE001 - no associated words is a degraded page, not an error
            log.exception("impossible de lire les mots associés de %s", self.build)
        self.word_table = table if table is not None else empty_word_table(
            self.columns.doc_count_all, self.doc_count)
        # The load freed its temporaries and the segments' word files (hundreds of MB at a
        # million articles): give them back now rather than some searches later.
        give_back()

    @property
    def key(self) -> tuple[str, int]:
        """Identity of the generation: the build's real path and Whoosh's generation number."""
        return str(self.build), self.number


@dataclass
class _ThreadReader:
    index: FileIndex
    searcher: Searcher
    generation: Generation
    checked_at: float


class Generations:
    """Hands each thread a searcher on the live generation, reopening it when that changes."""

    def __init__(self, index_dir: Path, check_seconds: float = 2.0,
                 cache_size: int = _RESULT_CACHE_SIZE) -> None:
        self.index_dir = Path(index_dir)
        self.check_seconds = check_seconds
        self.cache_size = cache_size
        self._current = LiveBuild(self.index_dir)
        self._local = threading.local()
        self._lock = threading.Lock()
        self._shared: dict[tuple[str, int], Generation] = {}
        self._searchers: dict[int, Searcher] = {}
        self._holds: dict[int, ReaderHold] = {}
        self._closed = False

    def unavailable(self, why: str = "") -> IndexUnavailable:
        """Return the error for a missing or unreadable index."""
        detail = f" ({why})" if why else ""
        return IndexUnavailable(
            f"aucun index de recherche dans {self.index_dir}{detail} : lancez d'abord "
            "`python -m archive index`",
            path=str(self.index_dir),
        )

    def acquire(self) -> tuple[Searcher, Generation]:
        """Return this thread's searcher and its generation, reopened if the index moved on."""
        if self._closed:
            raise self.unavailable("the search service is closed")
        reader: _ThreadReader | None = getattr(self._local, "reader", None)
        now = time.monotonic()
        # One readlink per search (``LiveBuild``): a swapped build (a full rebuild, a
        # published release) is seen at once, so a page never pairs a new archive with the
        # old index; a new Whoosh generation of the same build waits for the next check (a
        # directory listing).
        build = self._live_build()
        if (reader is not None and now - reader.checked_at < self.check_seconds
                and build == reader.generation.build):
            return reader.searcher, reader.generation
        if reader is not None:
            reader.checked_at = now
            if build == reader.generation.build:
                try:
                    latest = reader.index.latest_generation()
                except OSError:
                    latest = reader.generation.number
                if latest == reader.generation.number:
                    return reader.searcher, reader.generation
        fresh = self._open_reader(build, now)
        if reader is not None:
            self._release(reader.searcher)
        self._local.reader = fresh
        return fresh.searcher, fresh.generation

    def _live_build(self) -> Path:
        build = self._current()
        if build is None:
            raise self.unavailable()
        return build

    def _open_reader(self, build: Path, now: float) -> _ThreadReader:
        try:
            hold = ReaderHold(build)
        except BuildGone:
            # A newer build was swapped in and this one is being removed: read the new one.
            build = self._live_build()
            hold = ReaderHold(build)
        failure = ""
        with warnings.catch_warnings():
            # Whoosh leaves the files of a failed open to the garbage collector: they are
            # closed here, quietly, rather than one more descriptor per retried request.
            warnings.simplefilter("ignore", ResourceWarning)
            try:
                index = open_build(build)
                searcher = index.searcher()
            except Exception as exc:  # noqa: BLE001 - any failure to open a build is damage
                failure = f"{type(exc).__name__}: {exc}"
            if failure:
                gc.collect()
        if failure:
            hold.release()
            raise _damaged(build, failure)
        number = searcher.reader().generation()
        if number is None:
            number = index.latest_generation()
        key = (str(build), int(number))
        with self._lock:
            generation = self._shared.get(key)
            if generation is None:
                try:
                    columns = load_columns(searcher)
                except Exception as exc:  # noqa: BLE001 - a column that cannot be read is damage
                    searcher.close()
                    hold.release()
                    raise _damaged(build, f"{type(exc).__name__}: {exc}") from exc
                generation = Generation(
                    build=build, number=int(number), doc_count=searcher.doc_count(),
                    columns=columns, change_seq=_change_seq(build),
                    cache=ResultCache(self.cache_size),
                )
                # Threads still on an older generation hold their own reference to it.
                self._shared = {key: generation}
            self._searchers[id(searcher)] = searcher
            self._holds[id(searcher)] = hold
        return _ThreadReader(index, searcher, generation, now)

    def _release(self, searcher: Searcher) -> None:
        with self._lock:
            self._searchers.pop(id(searcher), None)
            hold = self._holds.pop(id(searcher), None)
        searcher.close()
        if hold is not None:
            hold.release()

    def close(self) -> None:
        """Close every searcher opened by any thread."""
        with self._lock:
            self._closed = True
            searchers = list(self._searchers.values())
            holds = list(self._holds.values())
            self._searchers.clear()
            self._holds.clear()
            self._shared.clear()
        for searcher in searchers:
            searcher.close()
        for hold in holds:
            hold.release()
        self._local = threading.local()


def _change_seq(build: Path) -> int | None:
    """Return the archive change_seq the build has caught up to (its sync state)."""
    state = read_sync(build)
    return state.change_seq if state is not None else None


def _damaged(build: Path, failure: str) -> IndexUnreadable:
    """Return the error for a BUILD that cannot be read (FAILURE says how)."""
    return IndexUnreadable(
        f"la construction {build} de l'index de recherche est illisible ({failure}) ; "
        f"reconstruisez-la avec `{REPAIR_INDEX_COMMAND}`", path=str(build))
