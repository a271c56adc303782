"""The matching's compiled kernels against the numpy code they replace: a term's BM25F scores
(``matches._bm25f_scores``: the same bits as ``bm25f_reference``; damaged documents or length
codes refused, never read beyond their arrays), a prefix's words' postings scored and summed
per document (``matches._prefix_sums``: the same bits as those scores added by
``np.bincount``) and documents looked up in a sorted list (``matches._positions``: the same
places as ``positions_reference``)."""

from __future__ import annotations

import numpy as np
from hypothesis import given, settings
from hypothesis import strategies as st
from reader_references import positions_reference

from indexer.matches import _bm25f_scores, _positions, _prefix_sums, bm25f_reference
from indexer.whoosh_format import LENGTH_SCORED

K1 = 1.2
WEIGHTS = st.floats(0.0, 1e6, allow_nan=False, width=32)


@st.composite
def postings(draw: st.DrawFn) -> tuple[np.ndarray, np.ndarray, int, np.ndarray, np.ndarray]:
    """Weights, documents counted from a start, each document's length code, the codes'
    norms: as a term's segment read and ``MatchEngine._norm`` give them."""
    size = draw(st.integers(1, 300))
    start = draw(st.integers(0, size - 1))
    count = draw(st.integers(0, 60))
    docs = np.sort(np.array(draw(st.lists(st.integers(0, size - start - 1), min_size=count,
                                          max_size=count)), dtype=np.int64))
    tf = np.array(draw(st.lists(WEIGHTS, min_size=count, max_size=count)), dtype=np.float64)
    codes = np.array(draw(st.lists(st.integers(0, 255), min_size=size, max_size=size)),
                     dtype=np.uint8)
    average = draw(st.floats(0.5, 5000.0))
    b = draw(st.floats(0.0, 1.0))
    norm = K1 * ((1 - b) + b * LENGTH_SCORED / average)
    return tf, docs, start, codes, norm


@settings(max_examples=300, deadline=None)
@given(postings(), st.floats(0.01, 20.0))
def test_one_idf_for_all_postings_scores_as_numpy_to_the_bit(
        found: tuple[np.ndarray, np.ndarray, int, np.ndarray, np.ndarray], idf: float) -> None:
    tf, docs, start, codes, norm = found
    scores, inside = _bm25f_scores(np.array([idf]), tf, docs, start, codes, norm, K1)
    assert inside
    expected = bm25f_reference(idf, tf, docs, start, codes, norm, K1)
    assert scores.tobytes() == expected.tobytes()


@settings(max_examples=300, deadline=None)
@given(postings(), st.data())
def test_an_idf_for_each_posting_scores_as_numpy_to_the_bit(
        found: tuple[np.ndarray, np.ndarray, int, np.ndarray, np.ndarray],
        data: st.DataObject) -> None:
    tf, docs, start, codes, norm = found
    idf = np.array(data.draw(st.lists(st.floats(0.01, 20.0), min_size=len(tf),
                                      max_size=len(tf))), dtype=np.float64)
    scores, inside = _bm25f_scores(idf, tf, docs, start, codes, norm, K1)
    assert inside
    expected = bm25f_reference(idf, tf, docs, start, codes, norm, K1)
    assert scores.tobytes() == expected.tobytes()


def _arguments() -> tuple[np.ndarray, np.ndarray, np.ndarray, int, np.ndarray, np.ndarray]:
    return (np.array([1.5]), np.array([1.0, 2.0]), np.array([0, 3], dtype=np.int64), 1,
            np.array([0, 1, 2, 3, 4], dtype=np.uint8), K1 * np.ones(256))


def test_a_document_beyond_the_field_lengths_is_refused() -> None:
    idf, tf, docs, start, codes, norm = _arguments()
    assert _bm25f_scores(idf, tf, docs, start, codes, norm, K1)[1]
    for damaged in ([0, 4], [0, 1 << 40], [-1, 2]):
        assert not _bm25f_scores(idf, tf, np.array(damaged, dtype=np.int64), start, codes,
                                 norm, K1)[1]


def test_a_length_code_without_its_norm_is_refused() -> None:
    idf, tf, docs, start, codes, _ = _arguments()
    assert not _bm25f_scores(idf, tf, docs, start, codes, K1 * np.ones(3), K1)[1]


def test_idfs_neither_one_nor_one_a_posting_are_refused() -> None:
    _, tf, docs, start, codes, norm = _arguments()
    assert not _bm25f_scores(np.ones(3), tf, docs, start, codes, norm, K1)[1]
    assert not _bm25f_scores(np.ones(0), tf, docs, start, codes, norm, K1)[1]
    assert not _bm25f_scores(np.ones(1), tf, docs[:1], start, codes, norm, K1)[1]


@st.composite
def words_postings(draw: st.DrawFn) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray,
                                              int, int, np.ndarray, np.ndarray]:
    """A segment's postings of several words, word after word (each word's documents
    ascending), each word's idf and count, the segment's start and size, the lengths' codes
    and norms: as ``MatchEngine._segment_sums`` passes them."""
    start = draw(st.integers(0, 50))
    size = draw(st.integers(1, 200))
    words = draw(st.integers(0, 8))
    docs: list[int] = []
    counts: list[int] = []
    for _ in range(words):
        held = sorted(set(draw(st.lists(st.integers(0, size - 1), max_size=30))))
        docs.extend(held)
        counts.append(len(held))
    tf = np.array(draw(st.lists(WEIGHTS, min_size=len(docs), max_size=len(docs))),
                  dtype=np.float64)
    idf = np.array(draw(st.lists(st.floats(0.01, 20.0), min_size=words, max_size=words)),
                   dtype=np.float64)
    codes = np.array(draw(st.lists(st.integers(0, 255), min_size=start + size,
                                   max_size=start + size)), dtype=np.uint8)
    norm = K1 * ((1 - 0.75) + 0.75 * LENGTH_SCORED / draw(st.floats(0.5, 5000.0)))
    return (idf, np.array(counts, dtype=np.int64), tf, np.array(docs, dtype=np.int64), start,
            size, codes, norm)


@settings(max_examples=300, deadline=None)
@given(words_postings())
def test_a_prefix_s_sums_are_its_scores_added_by_bincount_to_the_bit(
        found: tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray, int, int, np.ndarray,
                     np.ndarray]) -> None:
    idf, counts, tf, docs, start, size, codes, norm = found
    matched, sums, inside = _prefix_sums(idf, counts, tf, docs, start, size, codes, norm, K1)
    assert inside
    scores = bm25f_reference(np.repeat(idf, counts), tf, docs, start, codes, norm, K1)
    summed = np.bincount(docs, weights=scores, minlength=size)
    expected = np.flatnonzero(np.bincount(docs, minlength=size))
    assert matched.tolist() == expected.tolist()
    assert sums.tobytes() == summed[expected].tobytes()


def test_a_prefix_s_damaged_postings_are_refused() -> None:
    idf, counts, tf = np.array([1.5, 2.0]), np.array([1, 1], dtype=np.int64), np.ones(2)
    docs, codes = np.array([0, 3], dtype=np.int64), np.zeros(6, dtype=np.uint8)
    norm = K1 * np.ones(256)
    assert _prefix_sums(idf, counts, tf, docs, 1, 5, codes, norm, K1)[2]
    for damaged in ([0, 5], [0, 1 << 40], [-1, 2]):  # beyond the segment
        assert not _prefix_sums(idf, counts, tf, np.array(damaged, dtype=np.int64), 1, 5,
                                codes, norm, K1)[2]
    assert not _prefix_sums(idf, counts, tf, docs, 2, 5, codes, norm, K1)[2]  # no lengths
    assert not _prefix_sums(idf, counts, tf, docs, 1, 5, codes, K1 * np.ones(0), K1)[2]
    for wrong in ([2, 1], [1, 0], [-1, 3], [1]):  # counts that do not cover the postings
        assert not _prefix_sums(idf[:len(wrong)], np.array(wrong, dtype=np.int64), tf, docs,
                                1, 5, codes, norm, K1)[2]
    assert not _prefix_sums(idf, counts, tf, docs[:1], 1, 5, codes, norm, K1)[2]


@st.composite
def lookups(draw: st.DrawFn) -> tuple[np.ndarray, np.ndarray]:
    """Sorted unique documents (int64 or int32, sparse or dense) and documents to look up,
    ascending as the searches ask (and the reference needs), some absent, some beyond the
    last."""
    span = draw(st.sampled_from([10, 200, 5000, 1 << 40]))
    docs = np.array(sorted(draw(st.sets(st.integers(0, span), max_size=300))), dtype=np.int64)
    if span < 1 << 31 and draw(st.booleans()):
        docs = docs.astype(np.int32)
    taken = draw(st.lists(st.sampled_from(docs.tolist()), max_size=100)) if len(docs) else []
    other = draw(st.lists(st.integers(0, span + 10), max_size=100))
    wanted = np.array(taken + other, dtype=np.int64)
    wanted = draw(st.sampled_from([np.sort(wanted), np.unique(wanted)]))
    return docs, wanted


@settings(max_examples=500, deadline=None)
@given(lookups())
def test_each_document_looked_up_gets_the_place_numpy_finds(
        found: tuple[np.ndarray, np.ndarray]) -> None:
    docs, wanted = found
    assert _positions(docs, wanted).tolist() == positions_reference(docs, wanted).tolist()
    shuffled = wanted[::-1].copy()
    places = {doc: place for place, doc in enumerate(docs.tolist())}
    assert _positions(docs, shuffled).tolist() == [places.get(doc, -1)
                                                  for doc in shuffled.tolist()]


def test_documents_looked_up_after_the_last_or_in_an_empty_list_are_absent() -> None:
    docs = np.array([3, 8, 20], dtype=np.int64)
    assert _positions(docs, np.array([20, 21, 1 << 50])).tolist() == [2, -1, -1]
    assert _positions(docs[:0], np.array([0, 3])).tolist() == [-1, -1]
    assert _positions(docs, np.zeros(0, dtype=np.int64)).tolist() == []
