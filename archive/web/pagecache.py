"""Each web worker's finished search answers, kept by URL and state (``archive.web.caching``)."""

from __future__ import annotations

import threading
from collections import OrderedDict

# Finished pages kept per worker, by total size: a results page is 20 to 60 KB, so a few
# thousand of the most recent ones.
PAGE_CACHE_BYTES = 48 * 2**20


class PageCache:
    """A thread-safe LRU of finished response bodies, bounded by their total size in bytes."""

    def __init__(self, max_bytes: int = PAGE_CACHE_BYTES) -> None:
        self.max_bytes = max_bytes
        self._pages: OrderedDict[tuple[str, str], tuple[bytes, str]] = OrderedDict()
        self._size = 0
        self._lock = threading.Lock()
        self.hits = 0
        self.misses = 0

    def get(self, key: tuple[str, str]) -> tuple[bytes, str] | None:
        """Return the body and media type kept under KEY, or None."""
        with self._lock:
            found = self._pages.get(key)
            if found is None:
                self.misses += 1
                return None
            self._pages.move_to_end(key)
            self.hits += 1
            return found

    def put(self, key: tuple[str, str], body: bytes, mimetype: str) -> None:
        """Keep BODY under KEY, dropping the least recently used pages past the budget."""
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
