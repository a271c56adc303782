"""Write a new index segment fast: the writer of full rebuilds.

Whoosh's ``SegmentWriter`` puts every posting into a pool as a tuple, sorts all of them at
commit, then looks up the field length of each posting's document in the length column it has
just written, one posting at a time. At 100,000 articles that is some 50 million postings, and
the commit was 60% of the build's time.

``BulkSegmentWriter`` takes new documents only (a full rebuild into an empty index), one or
a batch at a time (``add_documents``). Each document is analysed exactly as Whoosh does it
(``field.index``, or for the text fields ``indexer.text_postings``, a batch of documents at a
time with numpy), but its postings go into a flat log per field: term number, document, weight
and encoded value in typed arrays, a batch's postings of a field appended with one call per
array. At commit one
numpy stable sort puts the log in term order (documents stay in the order they were added),
each document's field lengths are read once, and runs of whole terms are written by
``indexer.whoosh_format.FieldTermsWriter`` (block statistics with numpy, a term's blocks in
one write, its entries into the term table a run at a time; the writer's codec must be
``ArchiveCodec``). The segment written is the one
Whoosh's writer writes for the same documents, byte for byte: ``tests/test_index_bulk.py``
compares the two.
"""

from __future__ import annotations

from array import array
from collections.abc import Callable, Mapping, Sequence
from typing import Any

import numpy as np
from whoosh.writing import SegmentWriter

from indexer.stable_order import stable_order
from indexer.text_postings import PAIR_SHIFT, Batch, FieldKind, TextPostings, field_kind
from indexer.whoosh_format import (
    FieldTermsWriter,
    UnexpectedLayout,
    ValueRun,
    length_bytes,
    written_length_bytes,
)

__all__ = ["BulkSegmentWriter", "PostingsHook", "UnsupportedSchema"]

# (storage, segment id, the field's terms by number, each posting's term number and document
# in the order added, the segment's document count)
PostingsHook = Callable[[Any, str, list[bytes], np.ndarray, np.ndarray, int], None]


class UnsupportedSchema(ValueError):
    """The schema has a feature the bulk writer does not write (term vectors, spelling)."""


class _FieldLog:
    """The postings of one field, in the order they were added.

    A text field's postings come with the keys ``text_postings`` gives their terms
    (``PENDING``); they are numbered (``terms``, ``term_ids``) a batch of documents at a time,
    when the writer's memory is measured or the log is read, not one document at a time.
    """

    __slots__ = ("_term_ids", "_terms", "docs", "numbers", "pending", "value_ends", "values",
                 "weights")

    def __init__(self) -> None:
        self._terms: dict[bytes, int] = {}
        self._term_ids = array("I")
        self.docs = array("I")
        self.weights = array("d")
        self.value_ends = array("Q")
        self.values = bytearray()
        self.pending = array("q")
        self.numbers: _TermNumbers | None = None

    @property
    def terms(self) -> dict[bytes, int]:
        """The field's terms, each with its number (in the order they first occur)."""
        if self.pending:
            self.number_pending()
        return self._terms

    @property
    def term_ids(self) -> array[int]:
        """Each posting's term number, in the order the postings were added."""
        if self.pending:
            self.number_pending()
        return self._term_ids

    @term_ids.setter
    def term_ids(self, value: array[int]) -> None:
        self._term_ids = value

    def number_pending(self) -> None:
        """Number the terms of the postings logged with keys (new terms in order of first
        occurrence, as if numbered one posting at a time)."""
        keys = np.frombuffer(self.pending, dtype=np.int64)
        assert self.numbers is not None
        unique, first, inverse = np.unique(keys, return_index=True, return_inverse=True)
        order = np.argsort(first)
        numbers = np.empty(len(unique), dtype=np.int64)
        numbers[order] = self.numbers.of(unique[order], self._terms)
        self._term_ids.frombytes(numbers[inverse].astype(np.uint32).tobytes())
        self.pending = array("q")


_MIX = np.uint64(0x9E3779B97F4A7C15)
_SECOND_WORD = (1 << PAIR_SHIFT) - 1
# Values of repeated fields kept with what Whoosh makes of them, per writer; past it, emptied.
_MADE_LIMIT = 100_000


# A pair field pairing at most this many words numbers its pairs in a square array by the
# two words' ranks (64 MB at most), else in a dictionary.
PAIR_TABLE_WORDS = 4096


class _TermNumbers:
    """A field's term numbers in its log, found by the keys ``text_postings`` gives terms.

    Word numbers (most fields) are looked up in an array, a batch's at once. Pair keys (two
    word numbers in one integer) too when the field pairs few words (``PAIR_TABLE_WORDS``):
    each word paired gets a rank, and a pair's number is found at its words' ranks in a
    square array; else in a dictionary. New terms are made a batch at a time.
    """

    __slots__ = ("_by_key", "_by_pair", "_by_word", "_pairs", "_rank", "_ranked",
                 "_terms_of")

    def __init__(self, terms_of: Callable[[np.ndarray], list[bytes]], pairs: bool,
                 paired_words: int | None = None) -> None:
        self._terms_of = terms_of
        self._pairs = pairs
        self._by_word = np.full(1024, -1, dtype=np.int64)
        self._by_key: dict[int, int] = {}
        # By word number: the word's rank among the paired words (-1: none yet).
        self._rank = np.full(1024, -1, dtype=np.int64) \
            if paired_words is not None and paired_words <= PAIR_TABLE_WORDS else None
        self._ranked = 0
        self._by_pair = np.full((0, 0), -1, dtype=np.int32)

    def of(self, keys: np.ndarray, terms: dict[bytes, int]) -> np.ndarray:
        """Return the term number of each of KEYS (distinct), numbering new terms in TERMS
        in the order of KEYS."""
        if not len(keys):
            return keys
        number = terms.setdefault
        if self._pairs and self._rank is not None:
            return self._pair_numbers(keys, terms)
        if self._pairs:
            # A pair key's low bits are its second word's number: multiplied by an odd
            # number (one to one), keys sharing a second word stop colliding in the dict.
            mixed = (keys.astype(np.uint64) * _MIX).view(np.int64).tolist()
            by_key = self._by_key
            found = list(map(by_key.get, mixed))
            if None in found:
                missing = [i for i, known in enumerate(found) if known is None]
                for i, term in zip(missing, self._terms_of(keys[missing]), strict=True):
                    found[i] = by_key[mixed[i]] = number(term, len(terms))
            return np.array(found, dtype=np.int64)
        by_word = self._by_word = _grown(self._by_word, int(keys.max()) + 1)
        numbers: np.ndarray = by_word[keys]
        new = numbers < 0
        if new.any():
            added = keys[new]
            by_word[added] = [number(term, len(terms)) for term in self._terms_of(added)]
            numbers = by_word[keys]
        return numbers

    def _pair_numbers(self, keys: np.ndarray, terms: dict[bytes, int]) -> np.ndarray:
        """``of`` for pair keys, through the square array of the words' ranks."""
        assert self._rank is not None
        firsts, seconds = keys >> PAIR_SHIFT, keys & _SECOND_WORD
        words = np.concatenate([firsts, seconds])
        rank = self._rank = _grown(self._rank, int(words.max()) + 1)
        unranked = np.unique(words[rank[words] < 0])
        rank[unranked] = np.arange(self._ranked, self._ranked + len(unranked))
        self._ranked += len(unranked)
        side = len(self._by_pair)
        if self._ranked > side:
            wide = max(64, 1 << (self._ranked - 1).bit_length())
            grown = np.full((wide, wide), -1, dtype=np.int32)
            grown[:side, :side] = self._by_pair
            self._by_pair = grown
        rows, columns = rank[firsts], rank[seconds]
        numbers: np.ndarray = self._by_pair[rows, columns].astype(np.int64)
        new = numbers < 0
        if new.any():
            number = terms.setdefault
            made = [number(term, len(terms)) for term in self._terms_of(keys[new])]
            numbers[new] = made
            self._by_pair[rows[new], columns[new]] = made
        return numbers


def _grown(numbers: np.ndarray, size: int) -> np.ndarray:
    """Return NUMBERS, or for SIZE numbers or more a longer copy filled with -1."""
    if size <= len(numbers):
        return numbers
    grown = np.full(max(2 * len(numbers), size), -1, dtype=numbers.dtype)
    grown[:len(numbers)] = numbers
    return grown


class BulkSegmentWriter(SegmentWriter):  # type: ignore[misc]  # Whoosh has no type hints
    """A ``SegmentWriter`` for new documents that groups postings by term instead of sorting them.

    Only ``add_document`` (or ``add_documents``) and the deletion of committed documents are
    supported (no updates in one call, no merges of other segments through Whoosh's
    ``add_reader``), and the schema must have neither term vectors nor separate spelling
    fields. ``commit()`` (with
    ``merge=False`` or a ``mergetype`` that only drops segments) and ``cancel()`` work as
    Whoosh's; a parallel build makes its writers with ``_lk=False`` (they
    leave Whoosh's shared temporary directory in place), calls ``finish_segment()`` in each and
    commits the segments in one TOC.
    """

    def __init__(self, ix: Any, *, on_postings: Mapping[str, PostingsHook] | None = None,
                 **kwargs: Any) -> None:
        for name, field in ix.schema.items():
            if field.vector or field.separate_spelling():
                raise UnsupportedSchema(f"field {name!r} has term vectors or a spelling field")
        super().__init__(ix, **kwargs)
        self._logs: dict[str, _FieldLog] = {}
        # Called with a field's postings before they are written (the associated words).
        self._on_postings = dict(on_postings or {})
        # Fields whose postings indexer.text_postings makes, a text at a time.
        self._kinds: dict[str, FieldKind] = {}
        for name, field in self.schema.items():
            kind = field_kind(field) if field.indexed else None
            if kind is not None:
                self._kinds[name] = kind
        self._text_postings = TextPostings()
        # Per field: a term's key in text_postings -> its number in the field's log.
        self._term_numbers: dict[str, _TermNumbers] = {}
        # (field, type, value) -> the postings (or column value) Whoosh makes of a value.
        self._made: dict[tuple[Any, ...], Any] = {}

    def delete_document(self, docnum: int, delete: bool = True) -> None:
        """Delete document DOCNUM of the index's committed segments (an update's old version).

        Documents added to this writer cannot be deleted; Whoosh's writer checks that DOCNUM
        is in a committed segment.
        """
        super().delete_document(docnum, delete)

    def update_document(self, **fields: Any) -> None:
        raise NotImplementedError("the bulk writer only adds new documents")

    def add_reader(self, reader: Any) -> None:
        raise NotImplementedError("the bulk writer only adds new documents")

    def add_document(self, **fields: Any) -> None:
        """Add one new document (the same fields and meaning as Whoosh's ``add_document``)."""
        self.add_documents([fields])

    def add_documents(self, documents: Sequence[Mapping[str, Any]]) -> None:
        """Add new DOCUMENTS in order, as ``add_document`` one after the other would.

        The text fields of all of them are analysed together (``TextPostings``, a numpy pass
        per field for the whole batch); the rest is Whoosh's, document by document. When one
        raises, the documents before it stay added, it and those after it are not.
        """
        self._check_state()
        kinds = self._kinds
        if any(not isinstance(value, str) for fields in documents
               for name, value in fields.items() if name in kinds and value is not None):
            # A text given as something else (a list of words): Whoosh's analysis, which
            # logs it document by document, so every field's log stays in document order.
            for fields in documents:
                self._add_one(fields, {}, 0)
            return
        texts: dict[tuple[str, ...], Any] = {}
        batches: dict[str, Batch] = {}
        for fieldname, kind in kinds.items():
            values = [fields.get(fieldname) for fields in documents]
            if any(value is not None for value in values):
                batches[fieldname] = self._text_postings.postings(
                    kind, [value or "" for value in values], texts)
        texts.clear()
        first = self.docnum
        boosts = np.ones((len(batches), len(documents)))
        try:
            for at, fields in enumerate(documents):
                for row, fieldboost in enumerate(self._add_one(fields, batches, at).values()):
                    boosts[row, at] = fieldboost
        finally:
            added = self.docnum - first
            for row, (fieldname, batch) in enumerate(batches.items()):
                if added < len(documents):
                    batch = batch.before(added)
                self._log_batch(fieldname, kinds[fieldname], batch, first, boosts[row])

    def _add_one(self, fields: Mapping[str, Any], batches: Mapping[str, Batch],
                 at: int) -> dict[str, float]:
        """Add the document FIELDS, the postings of its text fields being document AT of
        BATCHES (logged by the caller); return each of those fields' boost, in the order
        of BATCHES."""
        perdocwriter = self.perdocwriter
        schema = self.schema
        docnum = self.docnum
        logs = self._logs
        boosts = dict.fromkeys(batches, 1.0)

        docboost = self._doc_boost(fields)
        fieldnames = sorted(name for name in fields if not name.startswith("_"))
        self._check_fields(schema, fieldnames)

        perdocwriter.start_doc(docnum)
        try:
            for fieldname in fieldnames:
                value = fields.get(fieldname)
                if value is None:
                    continue
                field = schema[fieldname]

                length = 0
                if field.indexed:
                    fieldboost = self._field_boost(fields, fieldname, docboost)
                    batch = batches.get(fieldname)
                    if batch is not None:
                        boosts[fieldname] = fieldboost
                        length = int(batch.lengths[at])
                    else:
                        log = logs.get(fieldname)
                        if log is None:
                            log = logs[fieldname] = _FieldLog()
                        length = _log_items(fieldname, log,
                                            self._items(fieldname, field, value), docnum,
                                            fieldboost)
                    if not field.scorable:
                        length = 0

                customval = fields.get(f"_stored_{fieldname}", value)
                perdocwriter.add_field(fieldname, field, customval if field.stored else None,
                                       length)
                column = field.column_type
                if column and customval is not None:
                    perdocwriter.add_column_value(fieldname, column,
                                                  self._column_value(fieldname, field, customval))
        except Exception:
            perdocwriter.cancel_doc()
            # The postings of this document already logged would be orphans: drop them.
            self._forget(docnum)
            raise

        perdocwriter.finish_doc()
        self._added = True
        self.docnum += 1
        return boosts

    def _items(self, fieldname: str, field: Any, value: Any) -> Any:
        """Return ``field.index(value)``, made once per writer for a value that repeats (an
        author, a date, an edition): a unique field's value (the id) is made every time."""
        if field.unique:
            return field.index(value)
        return self._made_once((fieldname, type(value), value),
                               lambda: list(field.index(value)))

    def _column_value(self, fieldname: str, field: Any, value: Any) -> Any:
        """Return ``field.to_column_value(value)``, made once per writer as ``_items``."""
        if field.unique:
            return field.to_column_value(value)
        return self._made_once((fieldname, type(value), value, "column"),
                               lambda: field.to_column_value(value))

    def _made_once(self, key: tuple[Any, ...], make: Callable[[], Any]) -> Any:
        """Return what MAKE returns, kept under KEY for the writer (the kept values emptied
        past ``_MADE_LIMIT``); made every time when KEY cannot be a key (a list of words)."""
        try:
            made = self._made.get(key)
        except TypeError:
            return make()
        if made is None:
            if len(self._made) >= _MADE_LIMIT:
                self._made.clear()
            made = self._made[key] = (make(),)
        return made[0]

    def _log_batch(self, fieldname: str, kind: FieldKind, batch: Batch, first: int,
                   boosts: np.ndarray) -> None:
        """Log the postings BATCH in field FIELDNAME, its documents numbered from FIRST,
        each document's weights multiplied by its BOOSTS (the field's), a call per array."""
        if not len(batch.keys):
            return
        log = self._logs.get(fieldname)
        if log is None:
            log = self._logs[fieldname] = _FieldLog()
        if log.numbers is None:
            log.numbers = self._term_numbers.get(fieldname)
            if log.numbers is None:
                log.numbers = self._term_numbers[fieldname] = _TermNumbers(
                    lambda keys: self._text_postings.terms(kind, keys), kind.pairs,
                    None if kind.words is None else len(kind.words))
        log.pending.frombytes(batch.keys.astype(np.int64, copy=False).tobytes())
        log.docs.frombytes((batch.docs + first).astype(np.uint32).tobytes())
        weights = batch.weights
        if (boosts != 1.0).any():
            weights = weights * boosts[batch.docs]
        log.weights.frombytes(weights.astype(np.float64, copy=False).tobytes())
        ends = batch.sizes.cumsum(dtype=np.uint64)
        ends += np.uint64(len(log.values))
        log.value_ends.frombytes(ends.tobytes())
        log.values += batch.values

    def buffered_bytes(self) -> int:
        """Return about how much memory the postings logged so far take."""
        return sum(len(log.docs) * 24 + len(log.values) + len(log.terms) * 120
                   for log in self._logs.values())

    def finish_segment(self) -> Any:
        """Write the segment's files and return the segment, for a parent to commit."""
        self._check_state()
        segment = self._finalize_segment()
        self._logs.clear()
        return segment

    def _finish(self) -> None:
        if self.writelock is not None:
            super()._finish()
            return
        # One of several writers of a parallel build: they share Whoosh's temporary directory
        # ("MAIN.tmp"), which the writer that commits removes once all are done.
        searcher: Any = getattr(self, "_searcher", None)
        if searcher is not None:
            searcher._orig_close()
            self._searcher = None
        self.is_closed = True

    def _forget(self, docnum: int) -> None:
        for log in self._logs.values():
            keep = len(log.docs)
            while keep and log.docs[keep - 1] == docnum:
                keep -= 1
            if keep < len(log.docs):
                del log.docs[keep:]
                del log.term_ids[keep:]
                del log.weights[keep:]
                del log.value_ends[keep:]
                del log.values[log.value_ends[-1] if keep else 0:]

    def _flush_segment(self) -> None:
        self.perdocwriter.close()
        reader = self.per_document_reader() if self.codec.length_stats else None
        try:
            fieldwriter = self.fieldwriter
            for fieldname in sorted(self._logs):
                # Each field's log is dropped once written: memory falls as the flush goes.
                log = self._logs.pop(fieldname)
                if not log.docs:
                    continue
                lengths = _length_bytes(reader, fieldname, self.docnum)
                hook = self._on_postings.get(fieldname)
                if hook is not None:
                    terms: list[bytes] = [b""] * len(log.terms)
                    for term, number in log.terms.items():
                        terms[number] = term
                    hook(self.storage, self.newsegment.segment_id(), terms,
                         np.frombuffer(log.term_ids, dtype=np.uint32),
                         np.frombuffer(log.docs, dtype=np.uint32), self.docnum)
                fieldwriter.start_field(fieldname, self.schema[fieldname])
                _write_field(fieldwriter, log, lengths)
                fieldwriter.finish_field()
            fieldwriter.close()
        finally:
            if reader is not None:
                reader.close()


def _length_bytes(reader: Any, fieldname: str, count: int) -> np.ndarray:
    """Return the length byte of FIELDNAME in each of COUNT documents just written (uint8)."""
    if reader is None:
        return np.zeros(count, dtype=np.uint8)
    try:
        return written_length_bytes(reader, fieldname, count)
    except UnexpectedLayout:
        return length_bytes(np.array([reader.doc_field_length(docnum, fieldname) or 0
                                      for docnum in range(count)], dtype=np.int64))


def _log_items(fieldname: str, log: _FieldLog, items: Any, docnum: int,
               fieldboost: float) -> int:
    """Log the postings ITEMS (Whoosh's ``field.index``) of document DOCNUM; return their
    total frequency."""
    terms = log.terms
    add_term = log.term_ids.append
    add_doc = log.docs.append
    add_weight = log.weights.append
    add_end = log.value_ends.append
    values = log.values
    length = 0
    for tbytes, freq, weight, vbytes in items:
        length += freq
        term = terms.get(tbytes)
        if term is None:
            if not isinstance(tbytes, bytes):
                raise TypeError(f"term {tbytes!r} of {fieldname} is not bytes")
            term = terms[tbytes] = len(terms)
        add_term(term)
        add_doc(docnum)
        add_weight(weight * fieldboost)
        if vbytes:
            values += vbytes
        add_end(len(values))
    return length


# Postings converted to Python lists at a time (whole terms), while writing: the whole field at
# once would take as much memory again as the log itself.
_CHUNK_POSTINGS = 1 << 16


def _write_field(fieldwriter: Any, log: _FieldLog, lengths: np.ndarray) -> None:
    """Write LOG's terms in byte order, each term's postings in the order they were added.

    LENGTHS: the length byte of the field in each document. A run of whole terms (some
    65,000 postings) is gathered in term order with one numpy index per array and written by
    ``whoosh_format.FieldTermsWriter``.
    """
    terms = sorted(log.terms)
    rank = np.empty(len(terms), dtype=np.uint32)
    rank[np.fromiter(map(log.terms.__getitem__, terms), dtype=np.int64, count=len(terms))] = \
        np.arange(len(terms), dtype=np.uint32)
    posting_ranks = rank[np.frombuffer(log.term_ids, dtype=np.uint32)]
    order = stable_order(posting_ranks, len(terms))
    counts = np.bincount(posting_ranks, minlength=len(terms))
    del posting_ranks
    docs_all = np.frombuffer(log.docs, dtype=np.uint32)[order]
    weights_all = np.frombuffer(log.weights, dtype=np.float64)[order]
    ends_all = np.frombuffer(log.value_ends, dtype=np.uint64).astype(np.int64)
    starts_all = np.empty_like(ends_all)
    if len(ends_all):
        starts_all[0] = 0
        starts_all[1:] = ends_all[:-1]
    starts_all = starts_all[order]
    sizes_all = ends_all[order] - starts_all
    del order, ends_all
    values = np.frombuffer(bytes(log.values), dtype=np.uint8)
    log.term_ids, log.docs, log.weights, log.value_ends = (array("I"), array("I"), array("d"),
                                                           array("Q"))
    log.values = bytearray()

    present = counts > 0  # a term without postings: only in a document the writer forgot
    if not present.all():
        terms = [term for term, kept in zip(terms, present.tolist(), strict=True) if kept]
        counts = counts[present]
    term_ends = np.cumsum(counts)
    writer = FieldTermsWriter(fieldwriter)
    first = 0
    while first < len(terms):
        low = int(term_ends[first] - counts[first])
        past = max(first + 1, int(np.searchsorted(term_ends, low + _CHUNK_POSTINGS)))
        past = min(past, len(terms))
        high = int(term_ends[past - 1])
        docs = docs_all[low:high]
        writer.write(terms[first:past], counts[first:past], docs, weights_all[low:high],
                     lengths[docs], _gathered(values, starts_all[low:high],
                                              sizes_all[low:high]))
        first = past


def _gathered(values: np.ndarray, starts: np.ndarray, sizes: np.ndarray) -> ValueRun:
    """Return the values of postings at STARTS of SIZES bytes in VALUES, joined in that
    order, where each starts in them (and the end), and their sizes."""
    ends = np.cumsum(sizes)
    total = int(ends[-1]) if len(ends) else 0
    firsts = ends - sizes
    if total:
        data = values[np.arange(total, dtype=np.int64)
                      + np.repeat(starts - firsts, sizes)].tobytes()
    else:
        data = b""
    return ValueRun(data, np.append(firsts, total), sizes)
