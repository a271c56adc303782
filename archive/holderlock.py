"""An exclusive ``fcntl.flock`` on a file that names its holder: the crawl's and the index's locks.

The kernel releases the flock when the holder dies (even by ``kill -9``), so a stale lock never
outlives its run. The holder writes its pid and start time into the file for the message a
second run shows; when that write fails (a full disk) the lock is held all the same.
"""

from __future__ import annotations

import fcntl
import os
from datetime import UTC, datetime
from pathlib import Path
from types import TracebackType
from typing import Self

from archive.errors import ArchiveError
from archive.french import os_reason


class HolderLock:
    """Hold the lock at PATH for the life of a ``with`` block; subclasses say what failing means."""

    def __init__(self, path: Path) -> None:
        self.path = path
        self._fd: int | None = None

    def cannot_create(self, reason: str) -> ArchiveError:
        """Return the error for a lock file that cannot be created (REASON says why)."""
        raise NotImplementedError

    def held_by(self, holder: str) -> ArchiveError:
        """Return the error for a lock another run (HOLDER) holds."""
        raise NotImplementedError

    def acquire(self) -> None:
        """Take the lock at once, or raise the subclass's error naming the run that holds it."""
        try:
            self.path.parent.mkdir(parents=True, exist_ok=True)
            fd = os.open(self.path, os.O_RDWR | os.O_CREAT, 0o644)
        except OSError as exc:
            raise self.cannot_create(os_reason(exc)) from exc
        try:
            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            holder = _read_holder(fd)
            os.close(fd)
            raise self.held_by(holder) from None
        except BaseException:
            os.close(fd)
            raise
        started = datetime.now(UTC).isoformat(timespec="seconds")
        try:
            os.ftruncate(fd, 0)
            os.pwrite(fd, f"pid {os.getpid()}, since {started}\n".encode(), 0)
        except OSError:
            pass  # the holder's name is a courtesy (a full disk refuses it); the flock excludes
        self._fd = fd
        self.acquired(fd)

    def acquired(self, fd: int) -> None:
        """Hook: the lock is now held through descriptor FD."""

    def released(self, fd: int) -> None:
        """Hook: descriptor FD is about to be closed."""

    def release(self) -> None:
        """Give the lock back (closing the descriptor releases the flock)."""
        if self._fd is not None:
            fd, self._fd = self._fd, None
            self.released(fd)
            os.close(fd)

    def __enter__(self) -> Self:
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
