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
    # Facet bins per document (made on first use): author and edition codes + 1 and months
    # from the first known one + 1, 0 for an unknown value; and that first month.
    _bins: dict[str, np.ndarray] = field(default_factory=dict, repr=False)
    _first_month: int = field(default=0, repr=False)
    # Each bin's count over every document of the generation (made on first use): a facet
    # of most documents is counted as these less the count of the documents left out.
    _totals: dict[str, np.ndarray] = field(default_factory=dict, repr=False)

    def value_counts(self, column: str, docs: np.ndarray,
                     rest: np.ndarray | None = None) -> np.ndarray:
        """Return how many of DOCS have each code of COLUMN (``author`` or ``edition``), one
        count per code (int64); documents without a value are not counted. REST, when given,
        is ``rest_of(DOCS)``: the documents left out are counted instead.

        One gather and one count over bins made once a generation (the codes + 1, 0 for
        NO_VALUE), where selecting the known values first took two more passes over the
        matches.
        """
        bins = self._bins.get(column)
        if bins is None:
            bins = self._bins[column] = _narrow(getattr(self, column) + 1)
        codes = self.authors if column == "author" else self.editions
        size = len(codes.values) + 1
        if rest is None:
            counted: np.ndarray = np.bincount(bins[docs], minlength=size)[1:]
            return counted
        return (self._bin_totals(column, bins, size) - np.bincount(bins[rest], minlength=size))[1:]

    def rest_of(self, docs: np.ndarray) -> np.ndarray | None:
        """Return the documents of the generation not in DOCS (distinct document numbers),
        ascending, when they are fewer than DOCS, else None.

        A facet of most of the documents is counted from its column's totals less the rest:
        a prefix at a million articles matches some 870,000 documents, whose three gathers
        and counts cost more than one pass to find the 130,000 others.
        """
        size = len(self.live)
        if len(docs) * 2 <= size:
            return None
        outside = np.ones(size, dtype=bool)
        outside[docs] = False
        rest: np.ndarray = np.flatnonzero(outside)
        return rest

    def _bin_totals(self, column: str, bins: np.ndarray, size: int) -> np.ndarray:
        """Each of SIZE bins' count over every document of COLUMN's BINS, kept."""
        totals = self._totals.get(column)
        if totals is None:
            totals = self._totals[column] = np.bincount(bins, minlength=size)
        return totals

    def month_counts(self, docs: np.ndarray,
                     rest: np.ndarray | None = None) -> tuple[int, np.ndarray]:
        """Return (a month M, the number of DOCS in each month from M on, as int64) over the
        documents of known date (``month`` values; the counts end at the last month found).
        REST, when given, is ``rest_of(DOCS)``, counted instead."""
        bins = self._bins.get("month")
        if bins is None:
            known = self.month != NO_DAY
            first = int(self.month[known].min()) if known.any() else 0
            bins = _narrow(np.where(known, self.month.astype(np.int64) - first + 1, 0))
            # The first month before the bins: another thread finding the bins reads it.
            self._first_month = first
            self._bins["month"] = bins
        if rest is None:
            counted: np.ndarray = np.bincount(bins[docs])[1:]
            return self._first_month, counted
        totals = self._bin_totals("month", bins, 0)
        full = totals - np.bincount(bins[rest], minlength=len(totals))
        found = np.flatnonzero(full)
        # As counted from DOCS: up to the last month found among them.
        return self._first_month, full[1:int(found[-1]) + 1 if len(found) else 1]

    def category_counts(self, docs: np.ndarray, rest: np.ndarray | None = None) -> np.ndarray:
        """Return how many of DOCS carry each category (int64, one per category code); REST,
        when given, is ``rest_of(DOCS)``, whose marks are the fewer to set.

        ``in_category`` packed 64 documents a word, ANDed with the packed DOCS and the bits
        counted (``np.bitwise_count``): 50 times faster than gathering a column per category
        (2 ms at 15,000 matches), and 10 times faster again than counting bits a byte at a
        time through a table (1.4 ms instead of 17 at 150,000 matches of 1,000,000).
        """
        size = self.in_category.shape[1]
        if len(docs) * 64 < size:
            few: np.ndarray = self.in_category[:, docs].sum(axis=1, dtype=np.int64)
            return few  # a few matches: gathering their columns is quicker than a pass
        padded = -(-size // 64) * 64
        bits = self._category_bits
        if bits is None:
            packed = np.packbits(self.in_category, axis=1)
            packed = np.pad(packed, ((0, 0), (0, padded // 8 - packed.shape[1])))
            bits = self._category_bits = np.ascontiguousarray(packed).view(np.uint64)
        wanted = np.zeros(padded, dtype=bool)
        if rest is None:
            wanted[docs] = True
        else:
            wanted[:size] = True
            wanted[rest] = False
        both = bits & np.packbits(wanted).view(np.uint64)
        counted: np.ndarray = np.bitwise_count(both).sum(axis=1, dtype=np.int64)
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
                  *self._bins.values())
        return sum(int(a.nbytes) for a in arrays)


def _narrow(values: np.ndarray) -> np.ndarray:
    """VALUES (not negative) as int16 when they fit, else int32: a gather reads less."""
    small = np.int16 if not len(values) or int(values.max()) <= np.iinfo(np.int16).max \
        else np.int32
    return values.astype(small)


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
