"""Copies: articles that share most of their text with others, found with MinHash and LSH.

Anyone can publish on the platform, and the same text often reappears under another name or
address. Each article's text is cut into shingles (every run of ``SHINGLE_WORDS`` words of
letters and digits; case, accents and punctuation left out); a MinHash signature
(``datasketch``) of ``NUM_PERM`` values estimates the Jaccard similarity of two articles'
shingle sets, and locality-sensitive hashing (``BANDS`` bands of ``ROWS`` values, the
split ``datasketch.MinHashLSH`` chooses for ``LSH_THRESHOLD``) makes two articles that share most
of their text candidates by an equality lookup, never by comparing every pair; a candidate is a
copy when its estimate reaches ``THRESHOLD``.

Signatures and band keys live in ``DATA_DIR/index/copies.sqlite3``, a derivative of the archive
like the index, kept in step by ``python -m archive index`` (and by ``crawl`` and ``demo``):
the articles changed since its ``change_seq`` get a new signature (a full rebuild rewrites the
rows in place, so readers' connections stay valid; copies are missing from lookups while it
runs). Figures (build time, lookup time, estimate against exact shingle overlap):
``bench/copies.py`` and docs/search-evidence.md.
"""

from __future__ import annotations

import contextlib
import functools
import multiprocessing
import os
import re
import sqlite3
import time
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from datetime import date
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np

if TYPE_CHECKING:
    from datasketch import MinHash

from archive.errors import IndexUnavailable
from archive.french import count, decimal
from indexer.analysis import fold_accents
from indexer.interrupts import allow_interrupts, interrupts_held

SHINGLE_WORDS = 5
NUM_PERM = 64
THRESHOLD = 0.5          # estimated Jaccard of shingle sets from which two texts are copies
# The LSH bands are cut for a lower similarity than THRESHOLD, so that pairs just above it are
# candidates nearly always (21 bands of 3: 94% at 0.5, 99.9% at 0.66, against 60% and 96%
# with the bands cut for 0.5); candidates are then kept by their estimate.
LSH_THRESHOLD = 0.3
SEED = 1
FILE_NAME = "copies.sqlite3"
_FORMAT = 1              # bump when shingles, signatures or bands change: a full rebuild follows
_BATCH = 500
# A full build signs the articles in this many processes at most (the machine's cores), in id
# ranges of about _RANGE_ARTICLES; below PARALLEL_MIN_ARTICLES one process is quicker.
MAX_PROCESSES = 2
PARALLEL_MIN_ARTICLES = 5000
_RANGE_ARTICLES = 2000
_WORD = re.compile(r"[^\W_]+")
_MASK32 = np.uint64(0xFFFFFFFF)
# Multipliers of the polynomial that turns SHINGLE_WORDS word hashes into one shingle hash.
_SHINGLE_MULTIPLIERS = np.array([0x9E3779B1, 0x85EBCA77, 0xC2B2AE3D, 0x27D4EB2F, 0x165667B1,
                                 0xD3A2646C, 0xFD7046C5, 0xB55A4F09], dtype=np.uint64)


@dataclass(frozen=True)
class Copy:
    """One article of a group of copies: its id, the share of text in common, and its dates."""

    article_id: int
    share: float                 # estimated share of shingles in common (Jaccard), 0..1
    published: date | None
    earliest: bool               # the first publication known of this text

    def to_json(self) -> dict[str, Any]:
        """Return the copy as a JSON object (API and templates)."""
        return {"id": self.article_id, "share": round(self.share, 2),
                "published": self.published.isoformat() if self.published else None,
                "earliest": self.earliest}


@dataclass(frozen=True)
class CopiesReport:
    """What one run of ``update_copies`` did."""

    signed: int
    seconds: float
    full: bool

    def summary(self) -> str:
        """One line for the CLI."""
        kind = "complet" if self.full else "incrémental"
        return (f"copies : {count(self.signed, 'article signé', 'articles signés')} ({kind}) "
                f"en {decimal(self.seconds)} s")


# The split ``datasketch.MinHashLSH(threshold=LSH_THRESHOLD, num_perm=NUM_PERM)`` picks (a test
# holds the two together): written down, because computing it imports scipy and integrates,
# which a web worker looking up an article's copies should not pay for.
BANDS, ROWS = 21, 3
# The hash of each word seen (lowercased, as in the text), per process.
_word_hashes: dict[str, int] = {}
_WORD_CACHE_LIMIT = 500_000


@functools.cache
def _minhash_template() -> MinHash:
    """An empty MinHash with the fixed permutations, copied for every signature."""
    from datasketch import MinHash

    return MinHash(num_perm=NUM_PERM, seed=SEED, hashfunc=int)


def lsh_shape() -> tuple[int, int]:
    """Return (bands, rows) that datasketch's LSH picks for LSH_THRESHOLD and NUM_PERM."""
    from datasketch import MinHashLSH

    lsh = MinHashLSH(threshold=LSH_THRESHOLD, num_perm=NUM_PERM)
    return int(lsh.b), int(lsh.r)


def _fnv(word: str) -> int:
    # FNV-1a over UTF-8: stable across processes (Python's hash() is salted).
    value = 0x811C9DC5
    for byte in word.encode("utf-8"):
        value = ((value ^ byte) * 0x01000193) & 0xFFFFFFFF
    return value


# Characters outside words that accent folding turns into letters (a few combining marks):
# a text holding one is folded whole before it is cut into words, as the definition says.
_JOINED_BY_FOLDING = re.compile("[" + "".join(
    re.escape(ch) for ch in map(chr, range(0x80, 0x3000))
    if not _WORD.fullmatch(ch) and _WORD.search(fold_accents(ch))) + "]")


def shingles(text: str) -> np.ndarray:
    """Return the distinct shingle hashes (uint32) of TEXT: runs of SHINGLE_WORDS words.

    Words are runs of letters and digits, lowercased with accents folded (so apostrophes,
    hyphens, case and accents never tell two copies apart).
    """
    lowered = text.lower()
    if _JOINED_BY_FOLDING.search(lowered):
        hashes = np.fromiter(map(_fnv, _WORD.findall(fold_accents(lowered))), dtype=np.uint64)
    else:
        # Folding maps letters to letters: the words of the folded text are the folded words
        # of the text, each hashed once per process (the map of known words runs in C).
        words = _WORD.findall(lowered)
        cache = _word_hashes
        missing = set(words).difference(cache)
        if missing:
            if len(cache) + len(missing) > _WORD_CACHE_LIMIT:
                cache.clear()
                missing = set(words)
            for word in missing:
                cache[word] = _fnv(fold_accents(word))
        hashes = np.fromiter(map(cache.__getitem__, words), dtype=np.uint64, count=len(words))
    if not len(hashes):
        return np.zeros(0, dtype=np.uint64)
    width = min(SHINGLE_WORDS, len(hashes))
    count = len(hashes) - width + 1
    combined = np.zeros(count, dtype=np.uint64)
    for j in range(width):
        combined = (combined * _SHINGLE_MULTIPLIERS[j] + hashes[j:j + count]) & _MASK32
    return np.unique(combined)


def signature(text: str) -> np.ndarray | None:
    """Return the MinHash values (uint32, NUM_PERM of them) of TEXT, None for no words."""
    values = shingles(text)
    if not len(values):
        return None
    minhash = _minhash_template().copy()
    minhash.update_batch(values.tolist())
    return np.asarray(minhash.hashvalues, dtype=np.uint32)


def band_keys(values: np.ndarray) -> list[int]:
    """Return one signed 64-bit key per LSH band of a signature."""
    rows = values[:BANDS * ROWS].astype(np.uint64).reshape(BANDS, ROWS)
    keys = np.zeros(BANDS, dtype=np.uint64)
    for j in range(ROWS):
        keys = keys * np.uint64(0x100000001B3) + rows[:, j] + np.uint64(j + 1)
    return [int(k) for k in keys.view(np.int64)]


def similarity(a: np.ndarray, b: np.ndarray) -> float:
    """Return the Jaccard estimate of two signatures: the share of equal MinHash values."""
    return float(np.count_nonzero(a == b)) / len(a)


_SCHEMA = """
CREATE TABLE IF NOT EXISTS meta (key TEXT PRIMARY KEY, value TEXT NOT NULL);
CREATE TABLE IF NOT EXISTS signatures (
    article_id INTEGER PRIMARY KEY, published TEXT, first_seen TEXT, hashvalues BLOB NOT NULL);
CREATE TABLE IF NOT EXISTS bands (
    band INTEGER NOT NULL, key INTEGER NOT NULL, article_id INTEGER NOT NULL,
    PRIMARY KEY (band, key, article_id)) WITHOUT ROWID;
"""


def _connect(path: Path, *, readonly: bool = False) -> sqlite3.Connection:
    if readonly:
        db = sqlite3.connect(f"file:{path}?mode=ro", uri=True, check_same_thread=False,
                             timeout=5.0)
    else:
        db = sqlite3.connect(path, timeout=5.0)
        db.execute("PRAGMA journal_mode=WAL")
        db.execute("PRAGMA synchronous=NORMAL")
        db.executescript(_SCHEMA)
    return db


def _meta(db: sqlite3.Connection, key: str) -> str | None:
    row = db.execute("SELECT value FROM meta WHERE key = ?", (key,)).fetchone()
    return None if row is None else str(row[0])


def _shape() -> str:
    return f"{_FORMAT}:{SHINGLE_WORDS}:{NUM_PERM}:{BANDS}x{ROWS}:{SEED}"


def update_copies(database_path: Path, index_dir: Path, *, full: bool = False) -> CopiesReport:
    """Bring the copies index of INDEX_DIR in step with the archive (all of it if FULL)."""
    from archive.store import Archive

    started = time.perf_counter()
    index_dir.mkdir(parents=True, exist_ok=True)
    db = _connect(index_dir / FILE_NAME)
    try:
        if _meta(db, "shape") != _shape():
            full = True
        with Archive.open(database_path, readonly=True) as archive:
            reached = archive.reads.max_change_seq()
            if full:
                with db:
                    db.execute("DELETE FROM bands")
                    db.execute("DELETE FROM signatures")
                signed = _store(db, _signed_all(archive, database_path), replace=False)
            else:
                since = int(_meta(db, "change_seq") or 0)
                signed = _store(db, (_signed(article) for article in _changed(archive, since)),
                                replace=True)
        with db:
            db.execute("INSERT OR REPLACE INTO meta VALUES ('shape', ?)", (_shape(),))
            db.execute("INSERT OR REPLACE INTO meta VALUES ('change_seq', ?)", (str(reached),))
    finally:
        db.close()
    return CopiesReport(signed, time.perf_counter() - started, full)


def _signed_all(archive: Any, database_path: Path) -> Iterator[_Signed]:
    """Yield the signature rows of every article, in id order, in parallel when it pays."""
    total = archive.reads.stats().articles
    processes = min(os.cpu_count() or 1, MAX_PROCESSES)
    if total < PARALLEL_MIN_ARTICLES or processes < 2:
        yield from (_signed(article) for article in archive.reads.iter_articles())
        return
    ranges = archive.reads.id_ranges(max(processes, total // _RANGE_ARTICLES))
    # Forked like the index writers (indexer/rebuild.py), without dropping a Ctrl-C that comes
    # during the forks (indexer/interrupts.py); imap keeps the id order.
    with contextlib.ExitStack() as stack:
        with interrupts_held():
            pool = stack.enter_context(multiprocessing.get_context("fork").Pool(
                processes, initializer=allow_interrupts))
        for rows in pool.imap(_signed_range, [(str(database_path), first, last)
                                             for first, last in ranges]):
            yield from rows


def _signed_range(task: tuple[str, int, int]) -> list[_Signed]:
    """Return the signature rows of the articles with ids FIRST..LAST (a worker process)."""
    from archive.store import Archive

    path, first, last = task
    with Archive.open(Path(path), readonly=True) as archive:
        return [_signed(article) for article in archive.reads.iter_articles(first, last)]


def _changed(archive: Any, since: int) -> Iterator[Any]:
    while True:
        batch = archive.reads.changes_since(since, limit=1000)
        if not batch:
            return
        yield from batch
        since = max(article.change_seq for article in batch)


_Signed = tuple[int, str | None, str | None, bytes | None]


def _signed(article: Any) -> _Signed:
    """Return (id, published, first seen, MinHash values or None) of one stored article."""
    values = signature(f"{article.title or ''}\n{article.body or ''}")
    return (article.id, article.published.isoformat() if article.published else None,
            article.first_seen.isoformat() if article.first_seen else None,
            None if values is None else values.tobytes())


def _store(db: sqlite3.Connection, signed: Iterable[_Signed], *, replace: bool) -> int:
    count = 0
    rows: list[tuple[int, str | None, str | None, bytes]] = []
    bands: list[tuple[int, int, int]] = []
    stale: list[tuple[int]] = []

    def flush() -> None:
        with db:
            for (article_id,) in stale:
                # The old signature says which band rows to delete (by primary key).
                row = db.execute("SELECT hashvalues FROM signatures WHERE article_id = ?",
                                 (article_id,)).fetchone()
                if row is not None:
                    old = band_keys(np.frombuffer(row[0], dtype=np.uint32))
                    db.executemany("DELETE FROM bands WHERE band = ? AND key = ? AND "
                                   "article_id = ?",
                                   [(band, key, article_id) for band, key in enumerate(old)])
            db.executemany("DELETE FROM signatures WHERE article_id = ?", stale)
            db.executemany("INSERT OR REPLACE INTO signatures VALUES (?, ?, ?, ?)", rows)
            db.executemany("INSERT OR IGNORE INTO bands VALUES (?, ?, ?)", bands)
        rows.clear()
        bands.clear()
        stale.clear()

    for article_id, published, first_seen, values in signed:
        if replace:
            stale.append((article_id,))
        if values is not None:
            rows.append((article_id, published, first_seen, values))
            keys = band_keys(np.frombuffer(values, dtype=np.uint32))
            bands.extend((band, key, article_id) for band, key in enumerate(keys))
            count += 1
        if len(rows) >= _BATCH or len(stale) >= _BATCH:
            flush()
    flush()
    return count


class CopyFinder:
    """Finds the copies of an article in ``copies.sqlite3``; one per thread (a connection)."""

    def __init__(self, index_dir: Path) -> None:
        path = Path(index_dir) / FILE_NAME
        self.file = self.identity(index_dir)
        if self.file is None:
            raise IndexUnavailable(f"{path} n'existe pas : lancez `python -m archive index`")
        self._db = _connect(path, readonly=True)

    @staticmethod
    def identity(index_dir: Path) -> tuple[int, int] | None:
        """Return the device and inode of INDEX_DIR's copies file (None: there is none)."""
        try:
            status = os.stat(Path(index_dir) / FILE_NAME)
        except OSError:
            return None
        return status.st_dev, status.st_ino

    def close(self) -> None:
        """Close the connection."""
        self._db.close()

    def copies_of(self, article_id: int) -> list[Copy]:
        """Return ARTICLE_ID and the articles sharing most of its text, earliest first.

        Empty when the article has no copy. The earliest (publication date, then first
        seen, then id) is marked ``earliest``: the first publication known of the text.
        """
        row = self._db.execute(
            "SELECT hashvalues, published, first_seen FROM signatures WHERE article_id = ?",
            (article_id,)).fetchone()
        if row is None:
            return []
        own = np.frombuffer(row[0], dtype=np.uint32)
        keys = band_keys(own)
        found = self._db.execute(
            "SELECT DISTINCT s.article_id, s.hashvalues, s.published, s.first_seen "
            "FROM bands b JOIN signatures s ON s.article_id = b.article_id WHERE "
            + " OR ".join("(b.band = ? AND b.key = ?)" for _ in keys),
            [value for band, key in enumerate(keys) for value in (band, key)]).fetchall()
        group = []
        for other_id, values, published, first_seen in found:
            share = 1.0 if other_id == article_id else similarity(
                own, np.frombuffer(values, dtype=np.uint32))
            if share >= THRESHOLD:
                group.append((published or "9999", first_seen or "", other_id, share, published))
        if len(group) < 2:
            return []
        group.sort()
        return [Copy(article_id=other_id, share=share,
                     published=date.fromisoformat(published) if published else None,
                     earliest=i == 0)
                for i, (_, _, other_id, share, published) in enumerate(group)]

    def signature_of(self, article_id: int) -> np.ndarray | None:
        """Return the stored MinHash values of ARTICLE_ID, None when it has none."""
        row = self._db.execute("SELECT hashvalues FROM signatures WHERE article_id = ?",
                               (article_id,)).fetchone()
        return None if row is None else np.frombuffer(row[0], dtype=np.uint32)

    def earliest_of(self, article_id: int) -> int:
        """Return the id of the first publication known of ARTICLE_ID's text (itself if none)."""
        group = self.copies_of(article_id)
        return group[0].article_id if group else article_id
