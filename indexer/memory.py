"""Giving back to the system the memory large searches used and freed.

A search at a million articles allocates and frees hundreds of megabytes (posting lists,
scores, facet counts). glibc's allocator keeps freed memory inside its heap for reuse, and
after each large block freed it raises the size from which it serves blocks with ``mmap``, so
that later large arrays come from the heap too: a search worker's resident memory ends far
above what it holds (``docs/operations.md``, the million-article section: 570 MB resident,
of which 289 MB free in glibc's heap, after 220 searches).

So every ``CHECK_EVERY`` searches the process's resident size is read (``/proc/self/statm``);
when it has grown by more than ``GROWTH_BUDGET`` since the last trim, glibc's ``malloc_trim``
returns the heap's free pages to the system (a few milliseconds, rarely). Serving every large
block with ``mmap`` instead (``mallopt``) gave back as much but cost common words a third more
CPU (fresh pages faulted in at each array).

A load that frees hundreds of megabytes at once (a generation's word table, read by a thread
of its own: ``indexer.generations``) gives them back as soon as it is done (``give_back``):
waiting for the next check left them resident for up to ``CHECK_EVERY`` searches, and the
host had to hold the load's whole peak meanwhile.

A served worker's threads each get a malloc arena of their own from glibc (up to eight a
core), and each arena keeps what its thread freed: four threads' searches grew a worker at a
million articles by tens of megabytes more than one thread's. ``cap_arenas``, called by a
gunicorn worker before its threads exist (``gunicorn.conf.py``'s ``post_fork``), makes them
share fewer (``ARCHIVE_WEB_MALLOC_ARENAS``; ``docs/operations.md`` has the measurements).
glibc reads ``MALLOC_ARENA_MAX`` only when a process starts, hence the call.

Without glibc (musl, macOS) or without ``/proc``, nothing is done: the memory is only kept.
"""

from __future__ import annotations

import ctypes
import os
import threading
from collections.abc import Callable

CHECK_EVERY = 8
GROWTH_BUDGET = 32 * 2**20
# mallopt's parameter for the most arenas (glibc's malloc.h).
M_ARENA_MAX = -8

_PAGE = os.sysconf("SC_PAGE_SIZE") if hasattr(os, "sysconf") else 4096


def _glibc() -> ctypes.CDLL | None:
    """The C library of this process when it is glibc (it has ``malloc_trim``), else None."""
    try:
        libc = ctypes.CDLL(None)
        libc.malloc_trim.argtypes = [ctypes.c_size_t]
    except (OSError, AttributeError):
        return None
    return libc


_LIBC = _glibc()


def give_back() -> bool:
    """Return the heap's free pages to the system now; False where glibc is not there."""
    if _LIBC is None:
        return False
    _LIBC.malloc_trim(0)
    return True


def cap_arenas(count: int) -> bool:
    """Let at most COUNT malloc arenas serve this process's threads from now on; False where
    glibc is not there or COUNT is below one (glibc's own default then stays)."""
    if _LIBC is None or count < 1:
        return False
    return bool(_LIBC.mallopt(M_ARENA_MAX, count))


def resident_bytes() -> int | None:
    """This process's resident memory in bytes, None where ``/proc`` does not say."""
    try:
        with open("/proc/self/statm", "rb") as statm:
            return int(statm.read().split()[1]) * _PAGE
    except (OSError, ValueError, IndexError):
        return None


class MemoryReturn:
    """Counts searches and gives the heap's free memory back to the system when the process
    has grown by more than GROWTH bytes since it last did (checked every EVERY searches).

    Safe to share between threads. RESIDENT and TRIM can be injected (tests); by default
    ``resident_bytes`` and glibc's ``malloc_trim(0)``.
    """

    def __init__(self, every: int = CHECK_EVERY, growth: int = GROWTH_BUDGET,
                 resident: Callable[[], int | None] = resident_bytes,
                 trim: Callable[[], object] | None = None) -> None:
        self.every = max(1, every)
        self.growth = growth
        self._resident = resident
        libc = _glibc() if trim is None else None
        self._trim = trim if trim is not None else (
            (lambda: libc.malloc_trim(0)) if libc is not None else None)
        self._searches = 0
        self._after_trim = resident()
        self._lock = threading.Lock()

    def after_search(self) -> bool:
        """Note one search; return True when the free memory was given back now."""
        if self._trim is None:
            return False
        with self._lock:
            self._searches += 1
            if self._searches % self.every:
                return False
            now = self._resident()
            if now is None:
                return False
            if self._after_trim is not None and now - self._after_trim <= self.growth:
                return False
            self._trim()
            self._after_trim = self._resident()
            return True
