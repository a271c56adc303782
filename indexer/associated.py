"""Associated words: the words most over-represented in a set of matches against the archive.

The words come from the ``spell`` field (the title and the lead, accents kept, stop words
dropped), so they read as the platform wrote them and a click adds them to a query as typed.
Once per index generation, and only when first asked, every word found in at least
``MIN_DOCS`` documents and in at most ``MAX_SHARE`` of them is read into a document-major table
(``WordTable``: for each document, the codes of its words). For a set of matches the words'
document frequencies in the set are then one gather and one ``bincount``, and each word is
scored with Dunning's log-likelihood ratio (G²) of its frequency in the set against the rest of
the archive; only words more frequent in the set than outside it are kept. ``bench/associated.py``
measures both costs.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import numpy as np

from indexer.results import AssociatedWord
from indexer.whoosh_format import UnexpectedLayout, read_postings

FIELD = "spell"
MIN_DOCS = 3          # a word seen in fewer documents than this says nothing about a set
MAX_SHARE = 0.25      # a word in a quarter of the archive is too common to characterise a set
MIN_IN_SET = 2        # a word must appear in at least this many matches to be shown
MIN_LETTERS = 3


@dataclass(frozen=True)
class WordTable:
    """One generation's words and, per document, the codes of the words it holds."""

    words: list[str]
    frequencies: np.ndarray   # int64: documents holding each word, over the whole generation
    starts: np.ndarray        # int64, one more than documents: where a document's codes begin
    codes: np.ndarray         # int32: the word codes of every document, document after document
    doc_count: int

    @property
    def nbytes(self) -> int:
        """Memory held by the arrays."""
        return int(self.frequencies.nbytes + self.starts.nbytes + self.codes.nbytes)


def load_word_table(searcher: Any, doc_count_all: int, doc_count: int) -> WordTable:
    """Read the words of SEARCHER's ``spell`` field into a document-major table."""
    reader = searcher.reader()
    words: list[str] = []
    docs_parts: list[np.ndarray] = []
    code_parts: list[np.ndarray] = []
    if FIELD not in searcher.schema:
        return _table(words, docs_parts, code_parts, doc_count_all, doc_count)
    ceiling = max(MIN_DOCS, int(MAX_SHARE * max(doc_count, 1)))
    leaves = list(reader.leaf_readers())
    # First the words' frequencies over every segment, from the term entries alone (cheap);
    # then postings only for the words kept: most of a vocabulary is too rare to matter.
    totals: dict[str, int] = {}
    for leaf, _ in leaves:
        for raw, info in leaf.iter_field(FIELD):
            word = raw if isinstance(raw, str) else raw.decode("utf-8")
            totals[word] = totals.get(word, 0) + int(info.doc_frequency())
    kept = {word for word, total in totals.items()
            if MIN_DOCS <= total <= ceiling and len(word) >= MIN_LETTERS and word.isalpha()}
    index: dict[str, int] = {}
    for leaf, base in leaves:
        for raw, _ in leaf.iter_field(FIELD):
            word = raw if isinstance(raw, str) else raw.decode("utf-8")
            if word not in kept:
                continue
            ids = _doc_ids(leaf, raw)
            if ids is None or not len(ids):
                continue
            code = index.get(word)
            if code is None:
                code = index[word] = len(words)
                words.append(word)
            docs_parts.append(ids + base)
            code_parts.append(np.full(len(ids), code, dtype=np.int32))
    return _table(words, docs_parts, code_parts, doc_count_all, doc_count)


def empty_word_table(doc_count_all: int, doc_count: int) -> WordTable:
    """Return a table without words (an index without a ``spell`` field, or unreadable)."""
    return _table([], [], [], doc_count_all, doc_count)


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


def set_frequencies(table: WordTable, docs: np.ndarray) -> np.ndarray:
    """Return, for every word of TABLE, how many of the documents DOCS hold it."""
    if not len(docs) or not len(table.words):
        return np.zeros(len(table.words), dtype=np.int64)
    starts = table.starts[docs]
    lengths = table.starts[docs + 1] - starts
    total = int(lengths.sum())
    if not total:
        return np.zeros(len(table.words), dtype=np.int64)
    # The positions of every code of every document of DOCS, without a Python loop.
    offsets = np.repeat(starts - np.cumsum(lengths) + lengths, lengths)
    positions = offsets + np.arange(total)
    return np.bincount(table.codes[positions], minlength=len(table.words))


def associated_words(table: WordTable, docs: np.ndarray, *, limit: int = 12,
                     leave_out: frozenset[str] = frozenset(),
                     same_word: Any = None) -> list[AssociatedWord]:
    """Return up to LIMIT words most over-represented in DOCS, the best first.

    LEAVE_OUT holds words not to show (the query's own, compared through SAME_WORD, a function
    turning a word into what the query's analysis makes of it, when given).
    """
    in_set = len(docs)
    total = table.doc_count
    if not in_set or in_set >= total or not len(table.words):
        return []
    a = set_frequencies(table, docs).astype(np.float64)
    candidates = np.flatnonzero((a >= MIN_IN_SET) & (a * total > table.frequencies * in_set))
    if not len(candidates):
        return []
    a = a[candidates]
    b = table.frequencies[candidates].astype(np.float64) - a
    c = float(in_set) - a
    d = float(total - in_set) - b
    score = _log_likelihood(a, b, c, d)
    ranked = candidates[np.argsort(-score, kind="stable")]
    order = {int(code): i for i, code in enumerate(candidates.tolist())}
    found: list[AssociatedWord] = []
    for code in ranked.tolist():
        word = table.words[code]
        if word in leave_out or (same_word is not None and same_word(word) in leave_out):
            continue
        i = order[code]
        found.append(AssociatedWord(word, int(a[i]), float(score[i])))
        if len(found) == limit:
            break
    return found


def _log_likelihood(a: np.ndarray, b: np.ndarray, c: np.ndarray, d: np.ndarray) -> np.ndarray:
    """Return Dunning's G² of each 2x2 table (in set / elsewhere, with / without the word)."""
    n = a + b + c + d
    total = np.zeros_like(a)
    for observed, row, column in ((a, a + b, a + c), (b, a + b, b + d),
                                  (c, c + d, a + c), (d, c + d, b + d)):
        expected = row * column / n
        with np.errstate(divide="ignore", invalid="ignore"):
            term = np.where(observed > 0, observed * np.log(observed / expected), 0.0)
        total += term
    return 2.0 * total
