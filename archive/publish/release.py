"""A release staged on the indexing host: a consistent, read-only copy of what the web reads.

``stage_release`` fills a directory under ``DATA_DIR/publish/staging/`` with the layout of
``archive.publish.layout``, at almost no cost in disk or time:

- the live index build, its files **hard-linked** while the index lock is held (a Whoosh build
  only ever gains new files and replaces ``sync.json`` by rename, so the links are a snapshot);
- ``archive.sqlite3``, a **consistent snapshot** taken with SQLite's backup API after the
  build was linked, so the archive is never behind the index (``/healthz`` checks that on each
  web host), in rollback-journal mode so a read-only directory can serve it;
- every SQLite file of the index directory (``copies.sqlite3``), snapshotted the same way;
- the WARC files the snapshot's captures point into, each hard-linked when it ends where the
  snapshot's last record in it ends, otherwise its first bytes up to there copied (the file a
  running crawl appends to); files only newer captures use are left out;
- ``release.json``, the manifest.

Nothing the web reads is ever copied from a live SQLite file.
"""

from __future__ import annotations

import errno
import fnmatch
import json
import os
import shutil
import sqlite3
from dataclasses import asdict, dataclass
from datetime import datetime
from pathlib import Path

from archive.config import Settings
from archive.errors import IndexUnavailable, PublishFailed, StoreError
from archive.publish.layout import MANIFEST
from archive.store import Archive
from indexer.agreement import index_disagreement
from indexer.location import BUILDS, CURRENT, STRAY_TOC_PATTERN, current_build, read_sync
from indexer.lock import IndexLock

_COPY_CHUNK = 1 << 20


@dataclass(frozen=True)
class Manifest:
    """What one release holds (``release.json``)."""

    name: str
    made_at: str
    build: str
    change_seq: int
    index_change_seq: int
    articles: int
    files: int
    bytes: int


def stage_release(settings: Settings, staging: Path, name: str, *, now: datetime) -> Manifest:
    """Fill the empty directory STAGING with release NAME of SETTINGS' data directory.

    Raises StoreError or IndexUnavailable when there is no archive or no index to publish, and
    PublishFailed when the index was not built from this archive (rebuild it first).
    """
    if not settings.database_path.is_file():
        raise StoreError(f"rien à publier : pas d'archive dans {settings.data_dir} (lancez "
                         "d'abord `python -m archive crawl`)", path=str(settings.database_path))
    staging.mkdir(parents=True)
    index_dir = staging / "index"
    build = _link_live_build(settings.index_dir, index_dir)
    _snapshot(settings.database_path, staging / "archive.sqlite3")
    for extra in sorted(settings.index_dir.glob("*.sqlite3")):
        _snapshot(extra, index_dir / extra.name)
    with Archive.open(staging / "archive.sqlite3", readonly=True) as snapshot:
        disagreement = index_disagreement(snapshot.reads, index_dir)
        if disagreement is not None:
            raise PublishFailed(f"l'index ne correspond pas à l'archive ({disagreement}) : "
                                "rien n'a été publié")
        change_seq = snapshot.reads.max_change_seq()
        articles = snapshot.reads.stats().articles
    _link_warc_files(staging / "archive.sqlite3", settings.warc_dir, staging / "warc")
    sync = read_sync(build)
    assert sync is not None  # checked by _link_live_build under the lock
    files, size = _count(staging)
    manifest = Manifest(name=name, made_at=now.isoformat(timespec="seconds"), build=build.name,
                        change_seq=change_seq, index_change_seq=sync.change_seq,
                        articles=articles, files=files + 1, bytes=size)
    (staging / MANIFEST).write_text(json.dumps(asdict(manifest), indent=2) + "\n",
                                    encoding="utf-8")
    return manifest


def _link_live_build(live_index: Path, index_dir: Path) -> Path:
    """Hard-link the live build's files under INDEX_DIR/builds/ and point ``current`` at it."""
    with IndexLock(live_index):
        build = current_build(live_index)
        if build is None or read_sync(build) is None:
            raise IndexUnavailable(f"rien à publier : pas d'index complet dans {live_index} "
                                   "(lancez d'abord `python -m archive index`)",
                                   path=str(live_index))
        target = index_dir / BUILDS / build.name
        target.mkdir(parents=True)
        for path in sorted(build.iterdir()):
            if path.is_file() and not _leftover(path.name):
                _link_or_copy(path, target / path.name)
    os.symlink(os.path.join(BUILDS, build.name), index_dir / CURRENT)
    return build


def _leftover(name: str) -> bool:
    """Whether NAME is a temporary file of a killed run (a TOC, a sync state, a word table
    being written), never part of a build: the index lock is held, so nothing is being
    written now."""
    return name.endswith(".tmp") or fnmatch.fnmatch(name, STRAY_TOC_PATTERN)


def _snapshot(source: Path, target: Path) -> None:
    """Write a consistent copy of the SQLite database SOURCE to TARGET (the backup API)."""
    target.parent.mkdir(parents=True, exist_ok=True)
    try:
        db = sqlite3.connect(f"{source.resolve().as_uri()}?mode=ro", uri=True, timeout=30.0)
        copy = sqlite3.connect(target)
        try:
            # All pages in one step, so under one read transaction: a consistent snapshot that
            # never blocks the crawl's writes (WAL). 2-4x faster than VACUUM INTO at 100,000
            # articles (docs/operations.md).
            db.backup(copy)
            # A WAL database cannot be served from a read-only directory.
            copy.execute("PRAGMA journal_mode = DELETE")
        finally:
            copy.close()
            db.close()
    except sqlite3.Error as exc:
        raise StoreError(f"instantané de {source} impossible ({exc}) : vérifiez la place "
                         "libre et les droits du répertoire de données", path=str(source)) from exc


def _link_warc_files(database: Path, warc_dir: Path, target: Path) -> None:
    """Put under TARGET each WARC file the snapshot DATABASE points into, cut where its last
    record there ends."""
    db = sqlite3.connect(f"{database.resolve().as_uri()}?mode=ro", uri=True)
    try:
        ends = db.execute("SELECT warc_file, MAX(warc_offset + warc_length) FROM captures "
                          "GROUP BY warc_file ORDER BY warc_file").fetchall()
    finally:
        db.close()
    if not ends:
        return
    target.mkdir()
    newest = max(name for name, _ in ends)
    for name, end in ends:
        if "/" in name or name.startswith("."):
            raise StoreError(f"nom de fichier WARC inattendu dans l'archive : {name!r}",
                             path=str(database))
        source = warc_dir / name
        try:
            size = source.stat().st_size
        except FileNotFoundError:
            raise StoreError(f"le fichier WARC {source} manque : restaurez-le avant de "
                             "publier", path=str(source)) from None
        if size < end:
            raise StoreError(f"le fichier WARC {source} est plus court que ce que l'archive en "
                             f"dit ({size} < {end} octets)", path=str(source))
        if size == end and name != newest:
            _link_or_copy(source, target / name)
        else:
            _copy_prefix(source, target / name, end)


def _link_or_copy(source: Path, target: Path) -> None:
    try:
        os.link(source, target)
    except OSError as exc:
        if exc.errno not in (errno.EXDEV, errno.EPERM, errno.EMLINK):
            raise
        shutil.copy2(source, target)


def _copy_prefix(source: Path, target: Path, length: int) -> None:
    with open(source, "rb") as reading, open(target, "wb") as writing:
        left = length
        while left:
            chunk = reading.read(min(_COPY_CHUNK, left))
            if not chunk:
                raise StoreError(f"{source} s'est raccourci pendant la copie", path=str(source))
            writing.write(chunk)
            left -= len(chunk)


def _count(root: Path) -> tuple[int, int]:
    files = size = 0
    for directory, _, names in os.walk(root):
        for name in names:
            path = Path(directory) / name
            if not path.is_symlink():
                files += 1
                size += path.stat().st_size
    return files, size
