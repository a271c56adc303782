"""The single-writer lock of the index: one indexing run at a time, over every build.

``fcntl.flock`` on ``<index dir>/.lock``: the kernel releases it when the holder dies, even by
``kill -9``, so a stale lock cannot outlive its run. The holder writes its pid and start time
into the file, for the message the next run shows; the file's existence means nothing.

A full rebuild forks writer processes (``indexer.rebuild``), which would inherit the locked
descriptor: with the run killed by ``kill -9``, they would go on writing and hold the lock. So
a process forked while the lock is held drops its copy of the descriptor and is killed by the
kernel when its parent dies.
"""

from __future__ import annotations

import ctypes
import fcntl
import os
import signal
import sys
from datetime import UTC, datetime
from pathlib import Path
from types import TracebackType

from archive.errors import IndexLocked, IndexUnavailable
from indexer.location import lock_path

_PR_SET_PDEATHSIG = 1

# Descriptors of the locks this process holds, and its pid when it took them.
_held: list[int] = []
_holder_pid: list[int] = []


class IndexLock:
    """Hold the index's write lock for the life of a ``with`` block, or raise IndexLocked."""

    def __init__(self, index_dir: Path) -> None:
        self.path = lock_path(index_dir)
        self._fd: int | None = None

    def acquire(self) -> None:
        """Take the lock at once, or raise IndexLocked naming the run that holds it."""
        try:
            self.path.parent.mkdir(parents=True, exist_ok=True)
            fd = os.open(self.path, os.O_RDWR | os.O_CREAT, 0o644)
        except OSError as exc:
            raise IndexUnavailable(
                f"cannot create the index lock {self.path} ({exc.strerror}); choose a writable "
                "ARCHIVE_DATA_DIR", path=str(self.path)) from exc
        try:
            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            holder = _read_holder(fd)
            os.close(fd)
            raise IndexLocked(f"another indexing run holds the lock ({holder}); try again later",
                              path=str(self.path)) from None
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
        _held.append(fd)
        _holder_pid[:] = [os.getpid()]

    def release(self) -> None:
        """Give the lock back (closing the descriptor releases the flock)."""
        if self._fd is not None:
            fd, self._fd = self._fd, None
            if fd in _held:
                _held.remove(fd)
            os.close(fd)

    def __enter__(self) -> IndexLock:
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


def _after_fork_in_child() -> None:
    if not _held:
        return
    for fd in _held:
        os.close(fd)
    _held.clear()
    if sys.platform.startswith("linux"):
        libc = ctypes.CDLL(None, use_errno=True)
        libc.prctl(_PR_SET_PDEATHSIG, signal.SIGKILL)
        # The parent may have died before prctl took effect.
        if _holder_pid and os.getppid() != _holder_pid[0]:
            os._exit(1)


os.register_at_fork(after_in_child=_after_fork_in_child)
