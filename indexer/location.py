"""Where the index lives on disk: builds, the ``current`` symlink, and each build's sync state.

Layout under the index directory::

    builds/<UTC timestamp>-<n>/   one Whoosh index per full build, with its sync.json
    current -> builds/<name>      the live build, swapped atomically (symlink + rename)
    .lock                         the single-writer lock (indexer.lock)

This module is the only reader of that layout: the writer (``indexer.update``), the lock
(``indexer.lock``) and the searchers (``indexer.generations``) find every path through it.
Readers open the index through ``current`` and notice a swap by its real path: a new build
starts again at generation 1, so Whoosh's own ``up_to_date()`` cannot see it
(``docs/whoosh.md``, "A swapped build is invisible to up_to_date").
"""

from __future__ import annotations

import json
import os
import shutil
import stat
import time
from dataclasses import asdict, dataclass
from datetime import UTC, datetime
from pathlib import Path

from whoosh import index
from whoosh.fields import Schema
from whoosh.filedb.filestore import FileStorage
from whoosh.index import FileIndex, Index

from archive.errors import IndexUnavailable
from indexer.readers import mark_readable, remove_if_unread

BUILDS = "builds"
CURRENT = "current"
SYNC_FILE = "sync.json"
LOCK_FILE = ".lock"
# A kill inside Whoosh's TOC write leaves `_MAIN_<gen>.toc.<time>` behind for good.
STRAY_TOC_PATTERN = "_MAIN_*.toc.*"


@dataclass(frozen=True)
class SyncState:
    """How far a build has caught up with the archive (``sync.json`` in the build directory)."""

    change_seq: int
    schema_version: int
    built_at: str
    updated_at: str
    archive: str | None = None
    """The archive's ``fingerprint(change_seq)`` when the build caught up (None: not recorded)."""


def builds_dir(index_dir: Path) -> Path:
    """Return the directory holding every build."""
    return index_dir / BUILDS


def current_link(index_dir: Path) -> Path:
    """Return the path of the ``current`` symlink."""
    return index_dir / CURRENT


def lock_path(index_dir: Path) -> Path:
    """Return the path of the single-writer lock file."""
    return index_dir / LOCK_FILE


def current_build(index_dir: Path) -> Path | None:
    """Return the real path of the live build, or None when there is none yet.

    The live build is the directory the ``current`` symlink points at; anything else named
    ``current`` (a dangling link, a plain directory) means there is no live build.
    """
    link = current_link(index_dir)
    if not link.is_symlink():
        return None
    target = Path(os.path.realpath(link))
    return target if target.is_dir() else None


class LiveBuild:
    """Finds an index directory's live build as ``current_build`` does, for a reader asking
    at every search: one ``readlink`` and one ``stat`` a call.

    ``realpath`` walks every component of the path (some ten system calls: 22 µs in a loop,
    50 to 80 µs in a search on this machine); it is asked again only when the build that
    ``current`` leads to is another directory than at the last call. The link's text alone
    does not tell: on a web host the index is reached through a release's ``current``
    symlink, and two releases of the same build hold the same ``builds/<build>`` link. So
    the directory is known by the link's text and what ``stat`` (following every link of
    the path) says of it: device, inode and change time (a new directory reusing a removed
    one's inode was made at another time).
    """

    def __init__(self, index_dir: Path) -> None:
        self.index_dir = index_dir
        self._link = os.fspath(current_link(index_dir))
        # What named the build at the last call (link text, device, inode, change time),
        # and its real path.
        self._known: tuple[tuple[str, int, int, int], Path] | None = None

    def __call__(self) -> Path | None:
        """Return the real path of the live build, or None when there is none."""
        try:
            target = os.readlink(self._link)
            found = os.stat(self._link)
        except OSError:  # no ``current``, not a symlink, or leading nowhere: no live build
            return None
        if not stat.S_ISDIR(found.st_mode):
            return None
        identity = (target, found.st_dev, found.st_ino, found.st_ctime_ns)
        known = self._known
        if known is None or known[0] != identity:
            build = current_build(self.index_dir)
            if build is None:
                return None
            # Swapped again between the reads: the next call finds another identity and
            # resolves the path again.
            known = self._known = (identity, build)
        return known[1]


def new_build_dir(index_dir: Path) -> Path:
    """Create and return an empty directory for a new build, named after the UTC time."""
    parent = builds_dir(index_dir)
    parent.mkdir(parents=True, exist_ok=True)
    stamp = datetime.now(UTC).strftime("%Y%m%dT%H%M%SZ")
    # Past every build of the same second still there: a number freed by a pruned build is
    # not given again, so names keep sorting in the order the builds were made
    # (``prune_builds`` keeps the newest superseded one by name).
    taken = [int(number) for name, _, number in
             (path.name.rpartition("-") for path in parent.glob(f"{stamp}-*"))
             if name == stamp and number.isdigit()]
    for n in range(max(taken, default=0) + 1, 1000):
        candidate = parent / f"{stamp}-{n}"
        try:
            candidate.mkdir()
        except FileExistsError:
            continue
        mark_readable(candidate)
        return candidate
    raise IndexUnavailable(f"impossible de nommer une nouvelle construction dans {parent} : trop "
                           "de constructions dans la même seconde",
                           path=str(parent))


def swap_current(index_dir: Path, build: Path) -> None:
    """Point ``current`` at BUILD atomically: readers see the old build or the new, never none."""
    link = current_link(index_dir)
    temporary = index_dir / f".{CURRENT}.{os.getpid()}.tmp"
    if temporary.is_symlink() or temporary.exists():
        temporary.unlink()
    # Relative target: the data directory can be moved or mounted elsewhere.
    os.symlink(os.path.relpath(build, index_dir), temporary)
    os.replace(temporary, link)
    _fsync_dir(index_dir)


def read_sync(build: Path) -> SyncState | None:
    """Return the sync state of BUILD, or None if the build never completed."""
    try:
        data = json.loads((build / SYNC_FILE).read_text(encoding="utf-8"))
        return SyncState(change_seq=int(data["change_seq"]),
                         schema_version=int(data["schema_version"]),
                         built_at=str(data["built_at"]), updated_at=str(data["updated_at"]),
                         archive=data.get("archive") if isinstance(data.get("archive"), str)
                         else None)
    except (OSError, ValueError, KeyError, TypeError):
        return None


def write_sync(build: Path, state: SyncState) -> None:
    """Record STATE in BUILD atomically (temporary file, fsync, rename)."""
    path = build / SYNC_FILE
    temporary = build / f".{SYNC_FILE}.{os.getpid()}.tmp"
    with open(temporary, "w", encoding="utf-8") as handle:
        json.dump(asdict(state), handle, indent=2)
        handle.flush()
        os.fsync(handle.fileno())
    os.replace(temporary, path)
    _fsync_dir(build)


def open_current(index_dir: Path) -> Index:
    """Open the live build through ``current``; raise IndexUnavailable if there is none.

    Through plain file reads, as ``open_build``: through mmap, Whoosh would copy every segment
    into the process (at a million articles, 15.7 GB of RSS for an 8.2 GB index, which also
    pushed the index out of the file cache).
    """
    link = current_link(index_dir)
    build = current_build(index_dir)
    if build is None:
        raise IndexUnavailable(
            f"aucun index de recherche dans {index_dir} : lancez d'abord `python -m archive index`",
            path=str(index_dir))
    try:
        return FileStorage(str(link), supports_mmap=False, readonly=True).open_index()
    except (OSError, index.EmptyIndexError) as exc:
        raise IndexUnavailable(f"l'index de recherche {build} ne s'ouvre pas ({exc}) : "
                               "lancez `python -m archive index --full` pour le reconstruire",
                               path=str(build)) from exc


def open_build(build: Path) -> FileIndex:
    """Open BUILD for reading through plain file reads, not mmap.

    Whoosh wraps each memory-mapped segment file in a BytesIO, which copies it into the
    process: a searcher then holds about twice the index size in private memory
    (``docs/whoosh.md``, "Memory-mapped segments are copied"). Read through files, it holds a
    few MB.
    """
    return FileStorage(str(build), supports_mmap=False, readonly=True).open_index()


def open_for_writing(build: Path) -> FileIndex:
    """Open BUILD for an indexing run, its segments read through plain file reads, not mmap.

    A writer opens a reader of every segment (deletions, unique ids): through mmap, Whoosh
    copies each file of a compound segment into memory first (a BytesIO over the map), which
    at 100,000 articles made every incremental run read and copy gigabytes and grew faster
    than the index (``docs/whoosh.md``, "Memory-mapped segments are copied").
    """
    return FileStorage(str(build), supports_mmap=False).open_index()


def create_build_index(build: Path, schema: Schema) -> FileIndex:
    """Create an empty index in BUILD whose segments are read through plain file reads.

    A full build checks its commit by counting the documents, and the careful way's writers
    open a reader of every segment written so far: created through mmap (Whoosh's
    ``create_in``), each compound segment's files were copied into the process first, so the
    build's parent held about the whole new index in memory at the end (1.7 GB at 100,000
    articles, growing with the corpus; ``docs/whoosh.md``, "Memory-mapped segments are
    copied").
    """
    return FileStorage(str(build), supports_mmap=False).create_index(schema)


def remove_stray_files(build: Path, *, older_than: float = 3600.0) -> int:
    """Delete temporary files a killed run left in BUILD (TOC, sync state); return how many."""
    removed = 0
    limit = time.time() - older_than
    strays = [*build.glob(STRAY_TOC_PATTERN), *build.glob(f".{SYNC_FILE}.*.tmp")]
    for path in strays:
        try:
            if path.stat().st_mtime < limit:
                path.unlink()
                removed += 1
        except FileNotFoundError:
            continue
    return removed


def prune_builds(index_dir: Path) -> list[Path]:
    """Delete builds that are not live: half-built ones at once, superseded ones as soon as no
    reader holds them (``indexer.readers``).

    The most recent superseded build is kept, so an operator can swap back to it.
    """
    for link in index_dir.glob(f".{CURRENT}.*.tmp"):
        link.unlink(missing_ok=True)
    parent = builds_dir(index_dir)
    if not parent.is_dir():
        return []
    live = current_build(index_dir)
    complete: list[Path] = []
    removed: list[Path] = []
    for build in sorted(p for p in parent.iterdir() if p.is_dir()):
        if live is not None and build.resolve() == live:
            continue
        if read_sync(build) is None:
            shutil.rmtree(build, ignore_errors=True)
            removed.append(build)
        else:
            complete.append(build)
    for build in complete[:-1]:
        if remove_if_unread(build):
            removed.append(build)
    return removed


def _fsync_dir(directory: Path) -> None:
    fd = os.open(directory, os.O_RDONLY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)
