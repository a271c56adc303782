"""Finished search answers kept by URL and state (``archive.web.caching``): in each worker's
memory, and, under gunicorn, in one SQLite file all the workers of the server share.

A page drawn by one worker is then served by the others too: with two workers each keeping its
own, a reader's second request for a page reached the worker that drew it only half the time.
The shared file lives in a private directory of the system's temporary folder (mode 0700,
owned by the server's user), one file per gunicorn master; the master removes it when it stops
(``gunicorn.conf.py``), and a file left by a master that is gone is removed by the next server.
"""

from __future__ import annotations

import contextlib
import logging
import os
import sqlite3
import stat
import tempfile
import threading
from collections import OrderedDict
from pathlib import Path

log = logging.getLogger(__name__)

# Finished pages kept per worker, by total size: a results page is 20 to 60 KB, so a few
# thousand of the most recent ones.
PAGE_CACHE_BYTES = 48 * 2**20
# Finished pages the workers of one server share, by total size (FIFO: a page kept again goes
# to the end), and how often (in pages kept by one worker) the total is checked.
SHARED_PAGE_BYTES = 96 * 2**20
_SHARED_CHECK_EVERY = 32
# A writer waits this long for another one before giving up keeping its page (never an error).
_SHARED_BUSY_MS = 50

_SCHEMA = """
CREATE TABLE IF NOT EXISTS pages (
    key TEXT PRIMARY KEY,
    body BLOB NOT NULL,
    mimetype TEXT NOT NULL,
    size INTEGER NOT NULL
)
"""
# The sizes apart from the pages: a row's size sits behind its body, in the body's overflow
# pages, so summing them from the table read every kept page again (40 ms for 6,000 pages of
# 10 KB, every 32 pages kept: more than a millisecond of each one kept); from this index,
# 0.7 ms.
_SIZE_INDEX = "CREATE INDEX IF NOT EXISTS pages_size ON pages (size)"
TOTAL_SQL = "SELECT total(size) FROM pages INDEXED BY pages_size"
OLDEST_SQL = "SELECT rowid, size FROM pages INDEXED BY pages_size ORDER BY rowid"


class SharedPages:
    """Finished response bodies in one SQLite file shared by the worker processes of a server,
    bounded by their total size (the oldest kept go first). Safe to share between threads:
    each opens its own connection. Any failure of the file only means a page is not kept."""

    def __init__(self, path: Path, max_bytes: int = SHARED_PAGE_BYTES) -> None:
        self.path = Path(path)
        self.max_bytes = max_bytes
        self._local = threading.local()
        self._puts = 0
        self._lock = threading.Lock()

    def _connection(self) -> sqlite3.Connection:
        connection: sqlite3.Connection | None = getattr(self._local, "connection", None)
        if connection is None or getattr(self._local, "pid", None) != os.getpid():
            connection = sqlite3.connect(self.path, timeout=_SHARED_BUSY_MS / 1000,
                                         isolation_level=None)
            # Readers never wait for the writer (WAL); losing the file loses nothing.
            connection.execute("PRAGMA journal_mode=WAL")
            connection.execute("PRAGMA synchronous=OFF")
            connection.execute(_SCHEMA)
            connection.execute(_SIZE_INDEX)
            self._local.connection = connection
            self._local.pid = os.getpid()
        return connection

    def get(self, key: str) -> tuple[bytes, str] | None:
        """Return the body and media type kept under KEY, or None."""
        try:
            row = self._connection().execute(
                "SELECT body, mimetype FROM pages WHERE key = ?", (key,)).fetchone()
        except sqlite3.Error as exc:
            log.debug("shared page cache: %s", exc)
            return None
        return None if row is None else (bytes(row[0]), str(row[1]))

    def put(self, key: str, body: bytes, mimetype: str) -> None:
        """Keep BODY under KEY; past the budget, drop the pages kept longest ago."""
        if len(body) > self.max_bytes // 16:
            return
        with self._lock:
            self._puts += 1
            check = self._puts % _SHARED_CHECK_EVERY == 0
        try:
            connection = self._connection()
            connection.execute(
                "INSERT OR REPLACE INTO pages (key, body, mimetype, size) VALUES (?, ?, ?, ?)",
                (key, body, mimetype, len(body)))
            if check:
                self._trim(connection)
        except sqlite3.Error as exc:
            log.debug("shared page cache: %s", exc)

    def _trim(self, connection: sqlite3.Connection) -> None:
        """Drop the pages kept longest ago until the rest fit in the budget."""
        total = int(connection.execute(TOTAL_SQL).fetchone()[0])
        if total <= self.max_bytes:
            return
        excess = total - self.max_bytes
        last = None
        rows = connection.execute(OLDEST_SQL).fetchall()
        for rowid, size in rows:
            if excess <= 0:
                break
            last = rowid
            excess -= size
        if last is not None:  # the oldest pages are the lowest rowids: one statement drops them
            connection.execute("DELETE FROM pages WHERE rowid <= ?", (last,))

    def close(self) -> None:
        """Close this thread's connection."""
        connection: sqlite3.Connection | None = getattr(self._local, "connection", None)
        if connection is not None:
            self._local.connection = None
            with contextlib.suppress(sqlite3.Error):
                connection.close()


class PageCache:
    """A thread-safe LRU of finished response bodies, bounded by their total size in bytes,
    in front of the server's ``SharedPages`` when the worker has one (``share``)."""

    def __init__(self, max_bytes: int = PAGE_CACHE_BYTES) -> None:
        self.max_bytes = max_bytes
        self._pages: OrderedDict[tuple[str, str], tuple[bytes, str]] = OrderedDict()
        self._size = 0
        self._lock = threading.Lock()
        self.hits = 0
        self.misses = 0
        self.shared: SharedPages | None = None
        self._scope = ""

    def share(self, shared: SharedPages, scope: str) -> None:
        """Also keep and look for pages in SHARED, under keys prefixed by SCOPE (what the
        pages are drawn from: the data directory)."""
        self.shared = shared
        self._scope = scope

    def get(self, key: tuple[str, str]) -> tuple[bytes, str] | None:
        """Return the body and media type kept under KEY, or None."""
        with self._lock:
            found = self._pages.get(key)
            if found is not None:
                self._pages.move_to_end(key)
                self.hits += 1
                return found
        if self.shared is not None and self.max_bytes > 0:
            found = self.shared.get(self._shared_key(key))
            if found is not None:
                self._keep(key, *found)
                with self._lock:
                    self.hits += 1
                return found
        with self._lock:
            self.misses += 1
        return None

    def put(self, key: tuple[str, str], body: bytes, mimetype: str) -> None:
        """Keep BODY under KEY, dropping the least recently used pages past the budget."""
        if len(body) > self.max_bytes // 16:
            return
        self._keep(key, body, mimetype)
        if self.shared is not None:
            self.shared.put(self._shared_key(key), body, mimetype)

    def _keep(self, key: tuple[str, str], body: bytes, mimetype: str) -> None:
        if len(body) > self.max_bytes // 16:
            return
        with self._lock:
            old = self._pages.pop(key, None)
            if old is not None:
                self._size -= len(old[0])
            self._pages[key] = (body, mimetype)
            self._size += len(body)
            while self._size > self.max_bytes:
                _, (dropped, _) = self._pages.popitem(last=False)
                self._size -= len(dropped)

    def _shared_key(self, key: tuple[str, str]) -> str:
        return "\n".join((self._scope, *key))


def shared_pages_dir() -> Path | None:
    """Return the private directory of this user's shared page files (created 0700), or None
    when the temporary folder holds one this user cannot trust (another owner, other modes)."""
    folder = Path(tempfile.gettempdir()) / f"notrecontinent-pages-{os.getuid()}"
    try:
        folder.mkdir(mode=0o700, exist_ok=True)
        status = os.lstat(folder)
    except OSError:
        return None
    if not stat.S_ISDIR(status.st_mode) or status.st_uid != os.getuid() \
            or stat.S_IMODE(status.st_mode) & 0o077:
        return None
    return folder


def shared_pages_path(master_pid: int) -> Path | None:
    """Return the shared page file of the server whose gunicorn master is MASTER_PID (None when
    there is no private directory for it), removing the files of masters that are gone."""
    folder = shared_pages_dir()
    if folder is None:
        return None
    for found in folder.glob("*.sqlite3"):
        pid = found.name.partition(".")[0]
        if pid.isdigit() and int(pid) != master_pid and not _running(int(pid)):
            remove_shared_pages(found)
    return folder / f"{master_pid}.sqlite3"


def remove_shared_pages(path: Path) -> None:
    """Remove a shared page file and SQLite's companions of it."""
    for suffix in ("", "-wal", "-shm"):
        with contextlib.suppress(OSError):
            os.unlink(f"{path}{suffix}")


def _running(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    return True
