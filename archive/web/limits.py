"""Bounds on the requests whose cost or wait a stranger controls.

The comparison of two long versions gets a deadline after which it stops refining its work,
and at most ``busy_slots(threads)`` of them run at once in one worker, so threads and the GIL
are left for everything else (health probes, searches): an extra one is answered 503 at once.

A search through the API that asks for the associated words (``mots=1``) waits while a new
index generation's word table is read (seconds on a large index, in a thread of its own): at
most ``word_table_waits(threads)`` of a worker's threads wait at once, and an extra one is
answered 503 at once, so that such requests can never hold every thread of a worker (health
probes and every page then waited for the table with them).
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field

from archive.errors import ServerBusy

# How long one comparison of versions may refine its work, in seconds.
DIFF_SECONDS = 0.5
BUSY_RETRY_SECONDS = 5
DIFFS_BUSY = ("Trop de comparaisons de versions sont en cours : réessayez dans quelques "
              "secondes.")
WORDS_BUSY = ("Les mots associés de l'index sont en cours de lecture : réessayez dans quelques "
              "secondes.")


@dataclass
class Deadline:
    """A moment after which an expensive page stops refining its work (the clock is injectable)."""

    seconds: float
    clock: Callable[[], float] = time.monotonic
    start: float = field(init=False)

    def __post_init__(self) -> None:
        self.start = self.clock()

    def passed(self) -> bool:
        """Return True once SECONDS have gone by since the deadline was set."""
        return self.clock() - self.start >= self.seconds


def busy_slots(threads: int) -> int:
    """Return how many expensive pages one worker of THREADS threads may run at once.

    One per four threads: a comparison is pure Python, so each one running holds the GIL
    that the worker's other threads need between their reads; with more than one per
    worker, health probes waited over a second behind eight abandoned comparisons.
    """
    return max(1, threads // 4)


def word_table_waits(threads: int) -> int:
    """Return how many requests of one worker of THREADS threads may wait at once for a new
    index generation's word table: half the threads (at least one), the other half left to
    every other request while the table is read."""
    return max(1, threads // 2)


class ExpensivePages:
    """The slots of one worker for expensive pages or long waits (a non-blocking semaphore);
    BUSY is the French reason given when none is free."""

    def __init__(self, slots: int, busy: str = DIFFS_BUSY) -> None:
        self.slots = slots
        self.busy = busy
        self._free = threading.BoundedSemaphore(slots)

    @contextmanager
    def slot(self) -> Iterator[None]:
        """Hold a slot for the block; raise ServerBusy at once when none is free."""
        if not self._free.acquire(blocking=False):
            raise ServerBusy(self.busy)
        try:
            yield
        finally:
            self._free.release()
