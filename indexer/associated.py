"""Associated words: the words most over-represented in a set of matches against the archive.

The words come from the ``spell`` field (the title and the lead, accents kept, stop words
dropped), so they read as the platform wrote them and a click adds them to a query as typed.
Once per index generation, and only when first asked, every word found in at least
``MIN_DOCS`` documents and in at most ``MAX_SHARE`` of them is read into a document-major table
(``WordTable``: for each document, the codes of its words). For a set of matches the words'
document frequencies in the set are then one compiled pass over the set's rows
(``indexer.compiled``; the others' rows when the set holds most documents), and each word is
scored with Dunning's log-likelihood ratio (G²) of its frequency in the set against the rest of
the archive; only words more frequent in the set than outside it are kept. ``bench/associated.py``
measures both costs.
"""

from __future__ import annotations

import io
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np

from indexer import compiled
from indexer.results import AssociatedWord
from indexer.whoosh_format import UnexpectedLayout, read_postings

FIELD = "spell"
MIN_DOCS = 3          # a word seen in fewer documents than this says nothing about a set
MAX_SHARE = 0.25      # a word in a quarter of the archive is too common to characterise a set
MIN_IN_SET = 2        # a word must appear in at least this many matches to be shown
MIN_LETTERS = 3
# The word file written beside each segment (``words_file``), and the version of its form.
WORDS_EXTENSION = ".words.npz"
WORDS_VERSION = 1


@dataclass(frozen=True)
class WordTable:
    """One generation's words and, per document, the codes of the words it holds."""

    words: list[str]
    frequencies: np.ndarray   # int64: documents holding each word, over the whole generation
    starts: np.ndarray        # int64, one more than documents: where a document's codes begin
    codes: np.ndarray         # uint16 or uint32: the word codes of every document, in order
    doc_count: int

    @property
    def nbytes(self) -> int:
        """Memory held by the arrays."""
        return int(self.frequencies.nbytes + self.starts.nbytes + self.codes.nbytes)


def load_word_table(searcher: Any, doc_count_all: int, doc_count: int) -> WordTable:
    """Return the word table of SEARCHER's generation, from the word files of its segments.

    Each segment's words were written beside it when it was written (``write_segment_words``,
    by the bulk writer of full builds and incremental runs): reading them is a
    file read and a few array operations per segment. A segment without its file (written by
    an older version, or a reader faster than the writer's last step) is read from its postings
    instead, without writing anything.
    """
    if FIELD not in searcher.schema:
        return empty_word_table(doc_count_all, doc_count)
    reader = searcher.reader()
    parts = []
    for leaf, base in reader.leaf_readers():
        if not leaf.doc_count_all():
            continue
        found = read_segment_words(leaf)
        if found is None:
            found = segment_words_from_postings(leaf)
        deleted = leaf.deleted_docs_set if leaf.has_deletions() else ()
        parts.append((found, base, deleted))
    return _combine(parts, doc_count_all, doc_count)


def empty_word_table(doc_count_all: int, doc_count: int) -> WordTable:
    """Return a table without words (an index without a ``spell`` field, or unreadable)."""
    return _table([], [], [], doc_count_all, doc_count)


@dataclass(frozen=True)
class SegmentWords:
    """The candidate words of one segment and, per document of it, the codes of its words."""

    words: list[str]
    starts: np.ndarray   # one more than the segment's documents
    codes: np.ndarray    # codes into WORDS, document after document


def _candidate(word: str) -> bool:
    return len(word) >= MIN_LETTERS and word.isalpha()


def segment_words(terms: Sequence[bytes], term_ids: np.ndarray, docs: np.ndarray,
                  doc_count: int) -> SegmentWords:
    """Return a segment's words from its ``spell`` postings in document order.

    TERMS are the field's terms by number, TERM_IDS and DOCS each posting's term and document
    (ascending documents), DOC_COUNT the segment's documents.
    """
    names = [t.decode("utf-8") for t in terms]
    keep = np.fromiter((_candidate(w) for w in names), dtype=bool, count=len(names))
    code_of = np.full(len(names), -1, dtype=np.int64)
    code_of[keep] = np.arange(int(keep.sum()))
    words = [w for w, k in zip(names, keep.tolist(), strict=True) if k]
    codes = code_of[term_ids] if len(term_ids) else np.zeros(0, dtype=np.int64)
    kept = codes >= 0
    codes, docs = codes[kept], docs[kept]
    starts = np.searchsorted(docs, np.arange(doc_count + 1)).astype(np.int64)
    return SegmentWords(words, starts, codes.astype(_code_type(len(words))))


def _code_type(words: int) -> type[np.unsignedinteger[Any]]:
    return np.uint16 if words < 2**16 else np.uint32


def segment_words_from_postings(leaf: Any) -> SegmentWords:
    """Return a segment's words read from its ``spell`` postings, one word at a time."""
    words: list[str] = []
    docs_parts: list[np.ndarray] = []
    code_parts: list[np.ndarray] = []
    for raw, _ in leaf.iter_field(FIELD):
        word = raw if isinstance(raw, str) else raw.decode("utf-8")
        if not _candidate(word):
            continue
        ids = _doc_ids(leaf, raw)
        if ids is None or not len(ids):
            continue
        docs_parts.append(ids)
        code_parts.append(np.full(len(ids), len(words), dtype=np.int64))
        words.append(word)
    docs = np.concatenate(docs_parts) if docs_parts else np.zeros(0, dtype=np.int64)
    codes = np.concatenate(code_parts) if code_parts else np.zeros(0, dtype=np.int64)
    count = leaf.doc_count_all()
    inside = docs < count
    docs, codes = docs[inside], codes[inside]
    order = np.argsort(docs, kind="stable")
    starts = np.searchsorted(docs[order], np.arange(count + 1)).astype(np.int64)
    return SegmentWords(words, starts, codes[order].astype(_code_type(len(words))))


def _doc_ids(leaf: Any, raw: Any) -> np.ndarray | None:
    """Return the segment's documents holding the word RAW."""
    btext = raw.encode("utf-8") if isinstance(raw, str) else raw
    try:
        found = read_postings(leaf, FIELD, btext)
    except UnexpectedLayout:
        found = None
    if found is not None:
        docs: np.ndarray = found[0]
        return docs
    try:
        ids: np.ndarray = np.fromiter(leaf.postings(FIELD, btext).all_ids(), dtype=np.int64)
        return ids
    except Exception:  # noqa: BLE001 - TermNotFound lives in whoosh.reading
        return None


def words_file(segment_id: str) -> str:
    """Return the name of the word file of the segment SEGMENT_ID.

    It is named like the segment's own files, so Whoosh deletes it with them when the segment
    is merged away.
    """
    return f"{segment_id}{WORDS_EXTENSION}"


def write_postings_words(storage: Any, segment_id: str, terms: list[bytes],
                         term_ids: np.ndarray, docs: np.ndarray, doc_count: int) -> None:
    """Write the word file of a segment from its ``spell`` postings (``bulk.PostingsHook``)."""
    write_segment_words(storage, segment_id, segment_words(terms, term_ids, docs, doc_count))


def write_segment_words(storage: Any, segment_id: str, found: SegmentWords) -> None:
    """Write FOUND as the word file of the segment SEGMENT_ID in STORAGE."""
    buffer = io.BytesIO()
    np.savez(buffer, version=np.array([WORDS_VERSION]),
             words=np.frombuffer("\n".join(found.words).encode("utf-8"), dtype=np.uint8),
             starts=found.starts, codes=found.codes)
    temporary = f"{words_file(segment_id)}.tmp"
    out = storage.create_file(temporary)
    try:
        out.write(buffer.getvalue())
    finally:
        out.close()
    storage.rename_file(temporary, words_file(segment_id), safe=False)


def read_segment_words(leaf: Any) -> SegmentWords | None:
    """Return the word file of a segment reader LEAF, None when it has none or another form."""
    try:
        storage = leaf.storage()
        name = words_file(leaf.segment().segment_id())
        if not storage.file_exists(name):
            return None
        source = storage.open_file(name)
        try:
            data = source.read()
        finally:
            source.close()
        with np.load(io.BytesIO(data)) as arrays:
            if int(arrays["version"][0]) != WORDS_VERSION:
                return None
            blob = arrays["words"].tobytes().decode("utf-8")
            starts, codes = arrays["starts"], arrays["codes"]
    except (AttributeError, OSError, KeyError, ValueError):
        return None
    words = blob.split("\n") if blob else []
    if len(starts) != leaf.doc_count_all() + 1 or (len(codes) and int(codes.max()) >= len(words)):
        return None
    return SegmentWords(words, starts.astype(np.int64), codes)


def write_missing_words(ix: Any) -> int:
    """Write the word file of every segment of IX that has none; return how many were written.

    Index runs call it at their end: a segment written without one (by an older version, or
    by ``index --optimize``'s Whoosh merge) gets it from its postings, read word by word.
    """
    written = 0
    with ix.reader() as reader:
        if FIELD not in ix.schema:
            return 0
        for leaf, _ in reader.leaf_readers():
            segment = leaf.segment()
            if segment is None:  # an empty index's reader
                continue
            segment_id = segment.segment_id()
            # The segment's own storage: a compound segment holds its word file inside.
            if leaf.storage().file_exists(words_file(segment_id)):
                continue
            write_segment_words(ix.storage, segment_id, segment_words_from_postings(leaf))
            written += 1
    return written


def _combine(parts: list[tuple[SegmentWords, int, Any]], doc_count_all: int,
             doc_count: int) -> WordTable:
    """Join the segments' words into one table, keeping the words of useful frequency.

    Done a segment at a time into arrays of the table's final size: at a million articles
    (some 67 million entries) arrays of one entry per (document, word) for the whole archive,
    made and remapped in one go, had the load peak near 700 MB for a 136 MB table.
    """
    if not parts:
        return empty_word_table(doc_count_all, doc_count)
    # One vocabulary for all segments, in code point order, and each segment's codes' place
    # in it. Through a dict: numpy's fixed-width strings of every segment's words, sorted,
    # took some 150 MB at a million articles (670,000 words).
    words = sorted({word for found, _, _ in parts for word in found.words})
    code_of = {word: code for code, word in enumerate(words)}
    mappings = [np.fromiter((code_of[word] for word in found.words), dtype=np.intp,
                            count=len(found.words)) for found, _, _ in parts]
    del code_of
    # First pass: per segment, the documents read (the table's rows), how many entries each
    # word has, and how many live documents hold it (a segment's words are distinct, so its
    # mapping into the vocabulary is one-to-one and the sums a plain indexed add).
    frequencies = np.zeros(len(words), dtype=np.int64)
    segments: list[tuple[SegmentWords, np.ndarray, int, np.ndarray]] = []
    for (found, base, deleted), mapping in zip(parts, mappings, strict=True):
        count = min(len(found.starts) - 1, max(0, doc_count_all - base))
        codes = found.codes[:int(found.starts[count])]
        entries = np.bincount(codes, minlength=len(mapping))
        live = entries.copy()
        dead = np.unique(np.fromiter((d for d in deleted if d < count), dtype=np.int64))
        if len(dead):
            lengths = found.starts[dead + 1] - found.starts[dead]
            positions = np.repeat(found.starts[dead] - np.cumsum(lengths) + lengths, lengths)
            positions += np.arange(len(positions), dtype=np.int64)
            live -= np.bincount(codes[positions], minlength=len(mapping))
        frequencies[mapping] += live
        segments.append((found, mapping, count, entries))
    # Which words say something about a set: seen in MIN_DOCS live documents, in at most
    # MAX_SHARE of them.
    ceiling = max(MIN_DOCS, int(MAX_SHARE * max(doc_count, 1)))
    kept = (frequencies >= MIN_DOCS) & (frequencies <= ceiling)
    kept_count = int(kept.sum())
    new_code = np.full(len(words), -1, dtype=np.int32)
    new_code[kept] = np.arange(kept_count, dtype=np.int32)
    # Second pass: each segment's kept codes written in place into the table's own arrays.
    segment_codes = [new_code[mapping] for _, mapping, _, _ in segments]
    total = sum(int(entries[code >= 0].sum())
                for (_, _, _, entries), code in zip(segments, segment_codes, strict=True))
    kept_codes = np.empty(total, dtype=_code_type(kept_count))
    table_starts = np.empty(doc_count_all + 1, dtype=np.int64)
    row = written = 0
    for (found, _, count, _), code in zip(segments, segment_codes, strict=True):
        rows = min(count, doc_count_all + 1 - row)
        local = code[found.codes[:int(found.starts[count])]]
        keep_entry = local >= 0
        before = np.zeros(len(local) + 1, dtype=np.int64)
        np.cumsum(keep_entry, out=before[1:])
        table_starts[row:row + rows] = before[found.starts[:rows]] + written
        kept_here = int(before[-1])
        kept_codes[written:written + kept_here] = local[keep_entry]
        written += kept_here
        row += rows
        del local, keep_entry, before
    table_starts[row:] = written
    kept_words = [w for w, k in zip(words, kept.tolist(), strict=True) if k]
    return WordTable(kept_words, frequencies[kept], table_starts, kept_codes, doc_count)


def _table(words: list[str], docs_parts: list[np.ndarray], code_parts: list[np.ndarray],
           doc_count_all: int, doc_count: int) -> WordTable:
    docs = np.concatenate(docs_parts) if docs_parts else np.zeros(0, dtype=np.int64)
    codes = np.concatenate(code_parts) if code_parts else np.zeros(0, dtype=np.int32)
    inside = docs < doc_count_all
    docs, codes = docs[inside], codes[inside]
    order = np.argsort(docs, kind="stable")
    docs, codes = docs[order], codes[order]
    starts = np.searchsorted(docs, np.arange(doc_count_all + 1)).astype(np.int64)
    frequencies = np.bincount(codes, minlength=len(words)).astype(np.int64)
    return WordTable(words, frequencies, starts, codes, doc_count)


class DamagedWordTable(ValueError):
    """A word table whose rows point outside its codes, or hold codes of no word."""


def set_frequencies(table: WordTable, docs: np.ndarray,
                    live: np.ndarray | None = None) -> np.ndarray:
    """Return, for every word of TABLE, how many of the documents DOCS (ascending, distinct)
    hold it.

    LIVE, when given, is the mask of the documents TABLE's frequencies count (the generation's
    live documents, ``Columns.live``): a set holding more than half of them is then counted
    through the others (the whole archive's frequencies less theirs), half the work or less.
    Raises DamagedWordTable when the table's rows or codes are out of their bounds.
    """
    counts = np.zeros(len(table.words), dtype=np.int64)
    if not len(docs) or not len(table.words):
        return counts
    docs = np.asarray(docs, dtype=np.int64)
    if (live is not None and 2 * len(docs) > table.doc_count
            and live.shape[0] == len(table.starts) - 1 and int(live.sum()) == table.doc_count):
        if docs[0] < 0 or docs[-1] >= live.shape[0]:
            _check(_DOCUMENT_OUTSIDE)
        # The others found by numpy's passes over a mask, then counted: a compiled walk of
        # every row skipping the set's was slower (3.2-3.8 against 2.7 ms for the sets of
        # more than half of 100,000 documents), its branch being taken at random.
        others = live.copy()
        others[docs] = False
        _check(_count_set(table.starts, table.codes, np.flatnonzero(others), counts))
        rest: np.ndarray = table.frequencies - counts
        return rest
    _check(_count_set(table.starts, table.codes, docs, counts))
    return counts


# What the counting kernel answers: done, or what stopped it.
_COUNTED, _DOCUMENT_OUTSIDE, _ROW_OUTSIDE, _CODE_OUTSIDE = 0, 1, 2, 3


def _check(status: int) -> None:
    """Raise what a counting kernel's STATUS says went wrong, if anything."""
    if status == _DOCUMENT_OUTSIDE:
        raise ValueError("a document of the set is outside the word table")
    if status == _ROW_OUTSIDE:
        raise DamagedWordTable("a row of the word table points outside its codes")
    if status == _CODE_OUTSIDE:
        raise DamagedWordTable("the word table holds a code of no word")


# The set's words are counted by a compiled loop (``indexer.compiled``): each code of each
# document read once and counted at once, where numpy needed six passes over arrays of every
# entry's place (the ``repeat``, ``arange`` and gather of a run of 1,000 documents, then a
# ``bincount``): 6 times less CPU over the sets of the uniform mix (docs/operations.md).
@compiled.kernel
def _count_set(starts: np.ndarray, codes: np.ndarray, docs: np.ndarray,
               counts: np.ndarray) -> int:
    """Add to COUNTS each word code of the documents DOCS; return a status (``_check``)."""
    rows = starts.shape[0] - 1
    size = codes.shape[0]
    words = counts.shape[0]
    for i in range(docs.shape[0]):
        doc = docs[i]
        if doc < 0 or doc >= rows:
            return 1  # _DOCUMENT_OUTSIDE
        low = starts[doc]
        high = starts[doc + 1]
        if low < 0 or high > size or low > high:
            return 2  # _ROW_OUTSIDE
        for at in range(low, high):
            code = codes[at]
            if code < 0 or code >= words:
                return 3  # _CODE_OUTSIDE
            counts[code] += 1
    return 0


@compiled.warms_up
def _count_examples() -> None:
    """Count a tiny table of each code type a table holds."""
    starts = np.array([0, 1, 2], dtype=np.int64)
    docs = np.array([0], dtype=np.int64)
    for code_type in (np.uint16, np.uint32):
        _count_set(starts, np.zeros(2, dtype=code_type), docs, np.zeros(1, dtype=np.int64))


# How many of the best-scored words are ordered at first: the query's own words left out
# seldom number more than a few, and the whole list is ordered only if they do.
_FIRST_RANKED = 4


def associated_words(table: WordTable, docs: np.ndarray, *, limit: int = 12,
                     leave_out: frozenset[str] = frozenset(),
                     same_word: Any = None, live: np.ndarray | None = None,
                     ) -> list[AssociatedWord]:
    """Return up to LIMIT words most over-represented in DOCS, the best first.

    LEAVE_OUT holds words not to show (the query's own, compared through SAME_WORD, a function
    turning a word into what the query's analysis makes of it, when given). LIVE: the mask of
    the documents the table counts, which makes large sets cheaper (``set_frequencies``).
    """
    in_set = len(docs)
    total = table.doc_count
    if not in_set or in_set >= total or not len(table.words):
        return []
    counts = set_frequencies(table, docs, live)
    candidates, a, score = over_represented(counts, table.frequencies, in_set, total)
    if not len(candidates):
        return []
    found = _best(table, candidates, a, score, _FIRST_RANKED * limit + len(leave_out), limit,
                  leave_out, same_word)
    if found is None:
        found = _best(table, candidates, a, score, len(score), limit, leave_out, same_word)
    return found or []


def _best(table: WordTable, candidates: np.ndarray, a: np.ndarray, score: np.ndarray,
          first: int, limit: int, leave_out: frozenset[str],
          same_word: Any) -> list[AssociatedWord] | None:
    """The LIMIT best words among the FIRST best scores (ties: every word of the last score
    kept, each in code order, as a stable sort of every score orders them), or None when the
    left-out words leave fewer than LIMIT there and more scores remain."""
    count = len(score)
    ranked = np.arange(count)
    if first < count:
        threshold = np.partition(score, count - first)[count - first]
        ranked = np.flatnonzero(score >= threshold)
    ranked = ranked[np.argsort(-score[ranked], kind="stable")]
    found: list[AssociatedWord] = []
    for i in ranked.tolist():
        word = table.words[int(candidates[i])]
        if word in leave_out or (same_word is not None and same_word(word) in leave_out):
            continue
        found.append(AssociatedWord(word, int(a[i]), float(score[i])))
        if len(found) == limit:
            return found
    return found if len(ranked) == count else None


def over_represented(counts: np.ndarray, frequencies: np.ndarray, in_set: int,
                     total: int) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Return the words over-represented in a set of IN_SET documents of TOTAL (their codes,
    int64), their COUNTS in the set and their scores (Dunning's G², each float64).

    COUNTS are the set's documents holding each word, FREQUENCIES the archive's. A word is
    over-represented when at least ``MIN_IN_SET`` documents of the set hold it and a greater
    share of the set than of the archive.
    """
    if counts.shape != frequencies.shape:
        raise ValueError("a count and a frequency are wanted for every word")
    counts = np.asarray(counts, dtype=np.int64)
    frequencies = np.asarray(frequencies, dtype=np.int64)
    candidates, a, ratios = _candidate_ratios(counts, frequencies, in_set, total, MIN_IN_SET)
    # numpy's logarithm, not the compiled one: they differ in the last bit for some values,
    # and the scores (shown, and ordering the words) stay those numpy always gave.
    np.log(ratios, out=ratios)
    return candidates, a, _g_squared(a, frequencies[candidates], in_set, total, ratios)


# G² over numpy's passes was four ``np.where``s, four logarithms and some twenty arithmetic
# passes over every candidate word; compiled it is two loops around one logarithm.
@compiled.kernel
def _candidate_ratios(counts: np.ndarray, frequencies: np.ndarray, in_set: int, total: int,
                      min_in_set: int) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Return the candidate words' codes, their counts (float64) and, four per word, each cell
    of its 2x2 table (in set / elsewhere, with / without the word) over its expected value
    (1 for an empty cell, whose term is zero)."""
    found = 0
    for word in range(counts.shape[0]):
        a = float(counts[word])
        if a >= min_in_set and a * total > frequencies[word] * in_set:
            found += 1
    candidates = np.empty(found, np.int64)
    in_set_a = np.empty(found, np.float64)
    ratios = np.empty(4 * found, np.float64)
    at = 0
    for word in range(counts.shape[0]):
        a = float(counts[word])
        if not (a >= min_in_set and a * total > frequencies[word] * in_set):
            continue
        candidates[at] = word
        in_set_a[at] = a
        b = float(frequencies[word]) - a
        c = float(in_set) - a
        d = float(total - in_set) - b
        n = a + b + c + d
        # The same operations in the same order as numpy's passes did them, so the same bits.
        cells = ((a, a + b, a + c), (b, a + b, b + d), (c, c + d, a + c), (d, c + d, b + d))
        for cell in range(4):
            observed, row, column = cells[cell]
            ratios[4 * at + cell] = observed / (row * column / n) if observed > 0 else 1.0
        at += 1
    return candidates, in_set_a, ratios


@compiled.kernel
def _g_squared(a: np.ndarray, frequencies: np.ndarray, in_set: int, total: int,
               logs: np.ndarray) -> np.ndarray:
    """Return each word's G² from its count A in the set, its FREQUENCIES in the archive and
    the logarithms of its cells' ratios (``_candidate_ratios``), four per word."""
    score = np.empty(a.shape[0], np.float64)
    for at in range(a.shape[0]):
        b = float(frequencies[at]) - a[at]
        c = float(in_set) - a[at]
        d = float(total - in_set) - b
        observed = (a[at], b, c, d)
        summed = 0.0
        for cell in range(4):
            if observed[cell] > 0:
                summed += observed[cell] * logs[4 * at + cell]
            else:
                summed += 0.0
        score[at] = 2.0 * summed
    return score


@compiled.warms_up
def _score_example() -> None:
    """Score a tiny set, so that both scoring kernels are compiled or loaded."""
    over_represented(np.array([2, 0], dtype=np.int64), np.array([3, 1], dtype=np.int64), 2, 10)
