"""The single-writer lock of the index: one indexing run at a time, over every build.

A ``HolderLock`` on ``<index dir>/.lock``: it dies with its holder, even by ``kill -9``, and
names the holder in the message the next run shows; the file's existence means nothing.

A full rebuild forks writer processes (``indexer.rebuild``), which would inherit the locked
descriptor: with the run killed by ``kill -9``, they would go on writing and hold the lock. So
a process forked while the lock is held drops its copy of the descriptor and is killed by the
kernel when its parent dies.
"""

from __future__ import annotations

import ctypes
import os
import signal
import sys
from pathlib import Path

from archive.errors import ArchiveError, IndexLocked, IndexUnavailable
from archive.holderlock import HolderLock
from indexer.location import lock_path

_PR_SET_PDEATHSIG = 1

# Descriptors of the locks this process holds, and its pid when it took them.
_held: list[int] = []
_holder_pid: list[int] = []


class IndexLock(HolderLock):
    """Hold the index's write lock for the life of a ``with`` block, or raise IndexLocked."""

    def __init__(self, index_dir: Path) -> None:
        super().__init__(lock_path(index_dir))

    def cannot_create(self, reason: str) -> ArchiveError:
        """Return the error for an index lock that cannot be created."""
        return IndexUnavailable(f"impossible de créer le verrou de l'index {self.path} "
                                f"({reason}) ; choisissez un ARCHIVE_DATA_DIR accessible en "
                                "écriture", path=str(self.path))

    def held_by(self, holder: str) -> ArchiveError:
        """Return the error for an index lock another run holds."""
        return IndexLocked(f"une autre indexation tient le verrou ({holder}) ; réessayez plus tard",
                           path=str(self.path))

    def acquired(self, fd: int) -> None:
        """Remember FD, so that a process forked while it is held drops it."""
        _held.append(fd)
        _holder_pid[:] = [os.getpid()]

    def released(self, fd: int) -> None:
        """Forget FD."""
        if fd in _held:
            _held.remove(fd)


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
