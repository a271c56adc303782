"""Per-generation column arrays: the publication day, author, edition and categories of every
document.

Loaded once per index generation from Whoosh's sortable columns, they turn date filters,
date order, author filters and facet counts into numpy operations over matched document
numbers (milliseconds), where Whoosh's own filters, sorts and facets take hundreds of
milliseconds to seconds on a large index (``docs/whoosh.md``). The columns are read in one
piece each by ``indexer.whoosh_format``; Whoosh's own readers are the fallback.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date, datetime
from typing import Any

import numpy as np
from whoosh.searching import Searcher
from whoosh.util.times import datetime_to_long

from archive.authors import author_key, author_match_key
from indexer import compiled
from indexer.whoosh_format import (
    UnexpectedLayout,
    bytes_column,
    numeric_column,
    read_postings,
    report_fallback,
    slow_bytes_column,
    slow_numeric_column,
)

NO_DAY = np.iinfo(np.int32).min
NO_VALUE = -1
_EPOCH = date(1970, 1, 1)
_EPOCH_LONG = datetime_to_long(datetime(1970, 1, 1))
_USEC_PER_DAY = 86_400 * 10**6


def day_number(day: date) -> int:
    """Return DAY as days since 1970-01-01 (the unit of ``Columns.day``)."""
    return (day - _EPOCH).days


@dataclass
class Codes:
    """Small integer codes for the distinct values of a keyword column (authors, editions)."""

    values: list[str] = field(default_factory=list)
    index: dict[str, int] = field(default_factory=dict)

    def code(self, value: str) -> int:
        """Return the code of VALUE, adding it when new."""
        found = self.index.get(value)
        if found is None:
            found = self.index[value] = len(self.values)
            self.values.append(value)
        return found


@dataclass
class Columns:
    """One index generation's columns, indexed by Whoosh document number."""

    day: np.ndarray          # int32 days since 1970-01-01, NO_DAY when unknown
    month: np.ndarray        # int32 months since 1970-01 (year * 12 + month - 1 - 1970 * 12)
    author: np.ndarray       # int32 code into ``authors``, NO_VALUE when unknown
    edition: np.ndarray      # int32 code into ``editions``, NO_VALUE when unknown
    live: np.ndarray         # bool, False for deleted documents
    authors: Codes
    editions: Codes
    first_doc_of_author: np.ndarray   # a document number per author code (to read its name)
    categories: Codes = field(default_factory=Codes)   # lowercased, as the index holds them
    category_names: list[str] = field(default_factory=list)   # as the platform spells them
    # bool, one row per category code: does the document carry it (an article has several)
    in_category: np.ndarray = field(default_factory=lambda: np.zeros((0, 0), dtype=bool))
    # int32 number of versions of the article, 0 when unknown
    versions: np.ndarray = field(default_factory=lambda: np.zeros(0, dtype=np.int32))
    # bool, True for an article withdrawn from the platform
    withdrawn: np.ndarray = field(default_factory=lambda: np.zeros(0, dtype=bool))
    _loose_authors: dict[str, list[int]] | None = field(default=None, repr=False)
    _category_bits: np.ndarray | None = field(default=None, repr=False)
    # Facet bins per document (made on first use, ``_facet_bins``), how many bins each
    # column has, and the first known month (bin 1 of the months).
    _bins: np.ndarray | None = field(default=None, repr=False)
    _bin_sizes: tuple[int, int, int] = field(default=(1, 1, 1), repr=False)
    _first_month: int = field(default=0, repr=False)

    def facet_counts(self, docs: np.ndarray) -> FacetCounts:
        """Count the documents DOCS (ascending, distinct) by author, edition, category and
        month, in one compiled pass over their bins (``_count_facets``).

        Where numpy took a gather and a ``bincount`` per column, a mask and ``packbits`` for the
        categories, and for a set of most documents a pass to find the others, counted
        instead (5 ms of CPU a set at a million articles, for sets of half of them), the
        kernel reads each document's bins once: 2.3 ms (3.4 when it walked every document to
        count the others of a large set: a branch taken at random costs more than it saves).
        """
        docs = np.asarray(docs, dtype=np.int64)
        bins = self._facet_bins()
        sizes = self._bin_sizes
        size = bins.shape[0]
        authors = np.zeros(sizes[0], dtype=np.int64)
        editions = np.zeros(sizes[1], dtype=np.int64)
        months = np.zeros(sizes[2], dtype=np.int64)
        # The categories of a few matches are their columns gathered; of more, their marks
        # packed 64 to a word and ANDed with each category's (``_category_counts``).
        mark = len(docs) * 64 >= size and self.in_category.shape[0] > 0
        wanted = np.zeros(-(-size // 64) if mark else 0, dtype=np.uint64)
        status = _count_facets(bins, docs, authors, editions, months, wanted)
        if status == _OUTSIDE:
            raise ValueError("a document of the set is outside the columns")
        if status == _NOT_ASCENDING:
            raise ValueError("the set's documents are not ascending and distinct")
        found = np.flatnonzero(months)
        # Months as counted from the first known one up to the last month found among DOCS.
        months = months[1:int(found[-1]) + 1 if len(found) else 1]
        if mark:
            categories = self._category_counts(wanted)
        elif self.in_category.shape[0]:
            categories = self.in_category[:, docs].sum(axis=1, dtype=np.int64)
        else:
            categories = np.zeros(0, dtype=np.int64)
        return FacetCounts(authors[1:], editions[1:], categories, self._first_month, months)

    def _facet_bins(self) -> np.ndarray:
        """Each document's author, edition and month bins, one row a document (made once a
        generation): the author and edition codes + 1 and the months from the first known
        one + 1, 0 for an unknown value, as int16 when they fit (else int32)."""
        bins = self._bins
        if bins is None:
            known = self.month != NO_DAY
            first = int(self.month[known].min()) if known.any() else 0
            months = np.where(known, self.month.astype(np.int64) - first + 1, 0)
            columns = (self.author.astype(np.int64) + 1, self.edition.astype(np.int64) + 1,
                       months)
            sizes = tuple(int(c.max()) + 1 if len(c) else 1 for c in columns)
            wide = max(sizes) > np.iinfo(np.int16).max
            bins = np.stack(columns, axis=1).astype(np.int32 if wide else np.int16)
            self._bin_sizes = (max(sizes[0], len(self.authors.values) + 1),
                               max(sizes[1], len(self.editions.values) + 1), sizes[2])
            # The first month and the sizes before the bins: another thread finding the bins
            # reads them.
            self._first_month = first
            self._bins = bins
        return bins

    def _category_counts(self, wanted: np.ndarray) -> np.ndarray:
        """Return how many documents of the packed marks WANTED carry each category.

        ``in_category`` packed 64 documents a word (``np.packbits``' order, which
        ``_count_facets`` marks in), ANDed with WANTED and the bits counted
        (``np.bitwise_count``): 50 times faster than gathering a column per category (2 ms at
        15,000 matches), and 10 times faster again than counting bits a byte at a time
        through a table (1.4 ms instead of 17 at 150,000 matches of 1,000,000).
        """
        bits = self._category_bits
        if bits is None:
            size = self.in_category.shape[1]
            padded = -(-size // 64) * 64
            packed = np.packbits(self.in_category, axis=1)
            packed = np.pad(packed, ((0, 0), (0, padded // 8 - packed.shape[1])))
            bits = self._category_bits = np.ascontiguousarray(packed).view(np.uint64)
        counted: np.ndarray = np.bitwise_count(bits & wanted).sum(axis=1, dtype=np.int64)
        return counted

    def authors_named(self, name: str) -> list[int]:
        """Return the author codes a typed NAME means: its key, else its letters and digits.

        ``Eric NGuessan`` and ``eric n guessan`` both find « Éric N'Guessan »
        (``archive.authors.author_match_key``).
        """
        code = self.authors.index.get(author_key(name))
        if code is not None:
            return [code]
        if self._loose_authors is None:
            loose: dict[str, list[int]] = {}
            for key, value in self.authors.index.items():
                loose.setdefault(author_match_key(key), []).append(value)
            self._loose_authors = loose
        return list(self._loose_authors.get(author_match_key(name), []))

    @property
    def doc_count_all(self) -> int:
        """Number of document slots, deleted ones included."""
        return int(self.live.shape[0])

    @property
    def nbytes(self) -> int:
        """Memory held by the arrays."""
        arrays = (self.day, self.month, self.author, self.edition, self.live,
                  self.first_doc_of_author, self.in_category, self.versions, self.withdrawn,
                  *(() if self._bins is None else (self._bins,)))
        return sum(int(a.nbytes) for a in arrays)


@dataclass(frozen=True)
class FacetCounts:
    """A set's documents counted by each facet's values (int64 counts)."""

    authors: np.ndarray      # one per author code
    editions: np.ndarray     # one per edition code
    categories: np.ndarray   # one per category code
    first_month: int         # the ``month`` value of the first count of MONTHS
    months: np.ndarray       # one per month from FIRST_MONTH to the last month found


# What ``_count_facets`` answers: done, or what stopped it.
_COUNTED, _OUTSIDE, _NOT_ASCENDING = 0, 1, 2


@compiled.kernel
def _count_facets(bins: np.ndarray, docs: np.ndarray, authors: np.ndarray,
                  editions: np.ndarray, months: np.ndarray, wanted: np.ndarray) -> int:
    """Count the author, edition and month BINS of the documents DOCS (ascending, distinct);
    mark DOCS in WANTED (unless empty) 64 to a word as ``np.packbits`` orders them; return a
    status (``_COUNTED``, ``_OUTSIDE``, ``_NOT_ASCENDING``)."""
    rows = bins.shape[0]
    marking = wanted.shape[0] > 0 and wanted.shape[0] * 64 >= rows
    previous = -1
    for i in range(docs.shape[0]):
        doc = docs[i]
        if doc < 0 or doc >= rows:
            return 1  # _OUTSIDE
        if doc <= previous:
            return 2  # _NOT_ASCENDING
        previous = doc
        if marking:
            wanted[doc >> 6] |= np.uint64(1) << np.uint64(8 * ((doc & 63) >> 3) + 7 - (doc & 7))
        author, edition, month = bins[doc, 0], bins[doc, 1], bins[doc, 2]
        if (author < 0 or author >= authors.shape[0] or edition < 0
                or edition >= editions.shape[0] or month < 0 or month >= months.shape[0]):
            return 1  # _OUTSIDE: a bin of no count
        authors[author] += 1
        editions[edition] += 1
        months[month] += 1
    return 0


@compiled.warms_up
def _facet_example() -> None:
    """Count a tiny set with bins of each width."""
    for width in (np.int16, np.int32):
        bins = np.zeros((2, 3), dtype=width)
        _count_facets(bins, np.array([0], dtype=np.int64), np.zeros(1, dtype=np.int64),
                      np.zeros(1, dtype=np.int64), np.zeros(1, dtype=np.int64),
                      np.zeros(1, dtype=np.uint64))


def load_columns(searcher: Searcher) -> Columns:
    """Read the columns of every segment of SEARCHER's generation into numpy arrays."""
    reader = searcher.reader()
    total = reader.doc_count_all()
    day = np.full(total, NO_DAY, dtype=np.int32)
    author = np.full(total, NO_VALUE, dtype=np.int32)
    edition = np.full(total, NO_VALUE, dtype=np.int32)
    live = np.ones(total, dtype=bool)
    versions = np.zeros(total, dtype=np.int32)
    status = np.full(total, NO_VALUE, dtype=np.int32)
    authors, editions, statuses = Codes(), Codes(), Codes()
    for leaf, base in reader.leaf_readers():
        count = leaf.doc_count_all()
        stop = base + count
        if leaf.has_column("published"):
            raw = _numbers(searcher, leaf.column_reader("published", translate=False), count)
            known = raw > 0
            day[base:stop] = np.where(
                known, (raw - _EPOCH_LONG) // _USEC_PER_DAY, NO_DAY
            ).astype(np.int32)
        author[base:stop] = _codes(searcher, leaf, "author_key", count, authors)
        edition[base:stop] = _codes(searcher, leaf, "edition", count, editions)
        status[base:stop] = _codes(searcher, leaf, "status", count, statuses)
        if leaf.has_column("versions"):
            raw = _numbers(searcher, leaf.column_reader("versions", translate=False), count)
            # Whoosh's "no value" of an unsigned 32-bit column is its largest value.
            raw[(raw < 0) | (raw >= 0xFFFFFFFF)] = 0
            versions[base:stop] = np.minimum(raw, np.iinfo(np.int32).max).astype(np.int32)
        if leaf.has_deletions():
            kept = np.fromiter(leaf.all_doc_ids(), dtype=np.int64)
            live[base:stop] = False
            live[base + kept] = True
    month = np.full(total, NO_DAY, dtype=np.int32)
    known_day = day != NO_DAY
    month[known_day] = (
        day[known_day].astype("datetime64[D]").astype("datetime64[M]").astype(np.int32)
    )
    first = np.full(len(authors.values), -1, dtype=np.int64)
    if len(authors.values):
        codes, where = np.unique(author, return_index=True)
        keep = codes >= 0
        first[codes[keep]] = where[keep]
    withdrawn_code = statuses.index.get("withdrawn")
    withdrawn = (status == withdrawn_code) if withdrawn_code is not None else np.zeros(
        total, dtype=bool)
    categories, names, in_category = _categories(searcher, live)
    return Columns(day, month, author, edition, live, authors, editions, first,
                   categories, names, in_category, versions=versions, withdrawn=withdrawn)


def _categories(searcher: Searcher, live: np.ndarray) -> tuple[Codes, list[str], np.ndarray]:
    """Return the categories' codes, their names as written, and which LIVE documents carry
    each.

    A platform has tens of categories, so one boolean row per category is small (a megabyte
    at 100,000 articles for ten) and counts or filters them over any matches in one step.
    """
    reader = searcher.reader()
    total = int(live.shape[0])
    codes = Codes()
    rows: list[np.ndarray] = []
    names: list[str] = []
    if "categories" not in searcher.schema:
        return codes, names, np.zeros((0, total), dtype=bool)
    for raw in reader.lexicon("categories"):
        text = raw.decode("utf-8") if isinstance(raw, bytes) else str(raw)
        ids = _category_documents(searcher, raw)
        row = np.zeros(total, dtype=bool)
        row[ids[ids < total]] = True
        row &= live
        carriers = np.flatnonzero(row)
        if not len(carriers):
            continue
        codes.code(text)
        rows.append(row)
        names.append(_category_name(searcher, int(carriers[0]), text))
    matrix = np.vstack(rows) if rows else np.zeros((0, total), dtype=bool)
    return codes, names, matrix


def _category_documents(searcher: Searcher, raw: bytes) -> np.ndarray:
    """Return the generation's document numbers filed under the category term RAW, deleted
    ones included.

    Read segment by segment with the fast posting reader (Whoosh's ``all_ids`` decodes each
    posting in Python: a third of a second per generation at 100,000 articles).
    """
    reader = searcher.reader()
    try:
        parts = []
        for leaf, base in reader.leaf_readers():
            found = read_postings(leaf, "categories", raw)
            if found is not None:
                parts.append(found[0] + base)
    except UnexpectedLayout as exc:
        report_fallback(searcher, "category postings", exc)
        return np.fromiter(reader.postings("categories", raw).all_ids(), dtype=np.int64)
    if not parts:
        return np.zeros(0, dtype=np.int64)
    return np.concatenate(parts)


def _category_name(searcher: Searcher, docnum: int, term: str) -> str:
    """Return the spelling of category TERM stored with document DOCNUM (TERM if none)."""
    try:
        stored = searcher.stored_fields(docnum).get("categories") or ""
    except Exception:  # noqa: BLE001 - a name is a nicety; the term still works as a filter
        return term
    for name in str(stored).split(","):
        if name.strip().lower() == term:
            return name.strip()
    return term


def _numbers(searcher: Searcher, reader: Any, count: int) -> np.ndarray:
    """Return a numeric column of one segment, in one piece or else value by value."""
    try:
        return numeric_column(reader, count)
    except UnexpectedLayout as exc:
        report_fallback(searcher, "numeric column", exc)
        return slow_numeric_column(reader, count)


def _codes(searcher: Searcher, leaf: Any, fieldname: str, count: int,
           codes: Codes) -> np.ndarray:
    """Return the codes of a keyword column of one segment (NO_VALUE for empty values)."""
    out = np.full(count, NO_VALUE, dtype=np.int32)
    if not leaf.has_column(fieldname):
        return out
    reader = leaf.column_reader(fieldname, translate=False)
    try:
        values = bytes_column(reader, count)
    except UnexpectedLayout as exc:
        report_fallback(searcher, "bytes column", exc)
        values = slow_bytes_column(reader, count)
    known: dict[bytes, int] = {}
    for i, raw in enumerate(values):
        if not raw:
            continue
        code = known.get(raw)
        if code is None:
            text = raw.decode("utf-8") if isinstance(raw, bytes) else str(raw)
            code = known[raw] = codes.code(text)
        out[i] = code
    return out


def month_parts(month: int) -> tuple[int, int]:
    """Return (year, month) of a ``Columns.month`` value."""
    return _EPOCH.year + month // 12, month % 12 + 1


def months_parts(months: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Return the years and the months (1 to 12) of ``Columns.month`` values, as
    ``month_parts`` gives them one at a time."""
    return _EPOCH.year + months // 12, months % 12 + 1
