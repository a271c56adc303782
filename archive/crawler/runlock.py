"""The crawl's single-run lock: one crawl of an archive at a time, even without ``flock -n``.

``fcntl.flock`` on ``DATA_DIR/crawl.lock``, as the indexer does for its own lock: the kernel
releases it when the holder dies (even by ``kill -9``), so a stale lock never outlives its
run and the next crawl resumes the killed one. The holder writes its pid and start time into
the file for the message a second crawl shows; when that write fails (a full disk) the lock is
held all the same.
"""

from __future__ import annotations

import fcntl
import os
from datetime import UTC, datetime
from pathlib import Path
from types import TracebackType

from archive.errors import CrawlLocked, StoreError

LOCK_FILE = "crawl.lock"


class CrawlLock:
    """Hold the crawl lock of DATA_DIR for the life of a ``with`` block, or raise CrawlLocked."""

    def __init__(self, data_dir: Path) -> None:
        self.path = Path(data_dir) / LOCK_FILE
        self._fd: int | None = None

    def acquire(self) -> None:
        """Take the lock at once, or raise CrawlLocked naming the run that holds it."""
        try:
            self.path.parent.mkdir(parents=True, exist_ok=True)
            fd = os.open(self.path, os.O_RDWR | os.O_CREAT, 0o644)
        except OSError as exc:
            raise StoreError(
                f"cannot create the crawl lock {self.path} ({exc.strerror}); choose a writable "
                "ARCHIVE_DATA_DIR", path=str(self.path)) from exc
        try:
            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            holder = _read_holder(fd)
            os.close(fd)
            raise CrawlLocked(
                f"another crawl of this archive is running ({holder}); nothing was done: let "
                "it finish, or run the same command again later to continue its run",
                path=str(self.path)) from None
        except BaseException:
            os.close(fd)
            raise
        started = datetime.now(UTC).isoformat(timespec="seconds")
        try:
            os.ftruncate(fd, 0)
            os.pwrite(fd, f"pid {os.getpid()}, since {started}\n".encode(), 0)
        except OSError:
            pass  # the holder's name is a courtesy; the flock is what excludes
        self._fd = fd

    def release(self) -> None:
        """Give the lock back (closing the descriptor releases the flock)."""
        if self._fd is not None:
            fd, self._fd = self._fd, None
            os.close(fd)

    def __enter__(self) -> CrawlLock:
        self.acquire()
        return self

    def __exit__(self, exc_type: type[BaseException] | None, exc: BaseException | None,
                 tb: TracebackType | None) -> None:
        self.release()


def _read_holder(fd: int) -> str:
    try:
        text = os.pread(fd, 200, 0).decode("utf-8", "replace").strip()
    except OSError:
        text = ""
    return text or "pid unknown"
