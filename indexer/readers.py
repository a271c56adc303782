"""Which builds are being read: a shared ``flock`` per open searcher, so that a superseded build
is deleted as soon as no reader holds it (and never while one does).

Each reader of a build holds a shared lock on the build's ``.readers`` file for as long as its
searcher is open; the writer deletes a superseded build only when it can take that lock
exclusively, and holds it while deleting, so no reader starts on a build being removed. The
kernel drops a dead reader's lock, even after ``kill -9``.
"""

from __future__ import annotations

import fcntl
import os
import shutil
from pathlib import Path

READERS_FILE = ".readers"


class BuildGone(Exception):
    """The build is being removed (a newer one is live): open the live build instead."""


class ReaderHold:
    """A shared hold on BUILD for one reader; ``release()`` gives it back."""

    def __init__(self, build: Path) -> None:
        self.build = build
        self._fd: int | None = None
        path = build / READERS_FILE
        try:
            fd = os.open(path, os.O_RDONLY)
        except FileNotFoundError:
            if not build.is_dir():
                raise BuildGone(f"{build} was removed") from None
            return  # a build written before reader holds: nothing to hold
        try:
            fcntl.flock(fd, fcntl.LOCK_SH | fcntl.LOCK_NB)
        except BlockingIOError:
            os.close(fd)
            raise BuildGone(f"{build} is being removed") from None
        self._fd = fd

    def release(self) -> None:
        """Give the hold back (safe to call twice)."""
        if self._fd is not None:
            fd, self._fd = self._fd, None
            os.close(fd)


def mark_readable(build: Path) -> None:
    """Create BUILD's ``.readers`` file (when the build is created, before any reader)."""
    (build / READERS_FILE).touch()


def remove_if_unread(build: Path) -> bool:
    """Delete BUILD if no reader holds it; return whether it was deleted."""
    try:
        fd = os.open(build / READERS_FILE, os.O_RDONLY)
    except FileNotFoundError:
        shutil.rmtree(build, ignore_errors=True)
        return True
    try:
        try:
            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            return False
        shutil.rmtree(build, ignore_errors=True)
        return True
    finally:
        os.close(fd)
