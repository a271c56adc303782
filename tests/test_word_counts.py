"""A set's associated words counted and scored by compiled kernels: the same counts and the
same scores, bit for bit, as the numpy passes they replaced, and a damaged word table said so.

The numpy code is kept here as the reference: the set's word codes gathered a run of documents
at a time and counted by ``bincount`` (the others' counted instead for a set of most of the
archive), and Dunning's G² computed over arrays of every candidate word.
"""

from __future__ import annotations

from typing import Any

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from indexer import associated, compiled
from indexer.associated import DamagedWordTable, WordTable, over_represented, set_frequencies


def reference_frequencies(table: WordTable, docs: np.ndarray,
                          live: np.ndarray | None = None) -> np.ndarray:
    """The numpy counting ``set_frequencies`` did before its kernels."""
    if not len(docs) or not len(table.words):
        return np.zeros(len(table.words), dtype=np.int64)
    if (live is not None and 2 * len(docs) > table.doc_count
            and live.shape[0] == len(table.starts) - 1 and int(live.sum()) == table.doc_count):
        others = live.copy()
        others[docs] = False
        rest: np.ndarray = table.frequencies - _entries(table, np.flatnonzero(others))
        return rest
    return _entries(table, docs)


def _entries(table: WordTable, docs: np.ndarray) -> np.ndarray:
    counts = np.zeros(len(table.words), dtype=np.int64)
    for start in range(0, len(docs), 1000):
        run = docs[start:start + 1000]
        starts = table.starts[run]
        lengths = table.starts[run + 1] - starts
        before = np.cumsum(lengths)
        before -= lengths
        positions = np.repeat((starts - before).astype(np.intp), lengths)
        positions += np.arange(int(lengths.sum()), dtype=np.intp)
        counts += np.bincount(table.codes[positions], minlength=len(table.words))
    return counts


def reference_scores(counts: np.ndarray, frequencies: np.ndarray, in_set: int,
                     total: int) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """The numpy selection and G² ``associated_words`` did before its kernels."""
    a = counts.astype(np.float64)
    candidates = np.flatnonzero((a >= associated.MIN_IN_SET) & (a * total > frequencies * in_set))
    a = a[candidates]
    b = frequencies[candidates].astype(np.float64) - a
    c = float(in_set) - a
    d = float(total - in_set) - b
    n = a + b + c + d
    score = np.zeros_like(a)
    for observed, row, column in ((a, a + b, a + c), (b, a + b, b + d),
                                  (c, c + d, a + c), (d, c + d, b + d)):
        expected = row * column / n
        with np.errstate(divide="ignore", invalid="ignore"):
            score += np.where(observed > 0, observed * np.log(observed / expected), 0.0)
    return candidates, a, 2.0 * score


@st.composite
def tables(draw: st.DrawFn) -> tuple[WordTable, np.ndarray]:
    """A word table of a few documents (some dead, some without words) and its live mask."""
    documents = draw(st.integers(1, 60))
    words = draw(st.integers(1, 40))
    rows = [sorted(draw(st.sets(st.integers(0, words - 1), max_size=min(words, 10))))
            for _ in range(documents)]
    live = np.array(draw(st.lists(st.booleans(), min_size=documents, max_size=documents)))
    code_type = draw(st.sampled_from([np.uint16, np.uint32]))
    starts = np.cumsum([0] + [len(row) for row in rows]).astype(np.int64)
    codes = np.array([code for row in rows for code in row], dtype=code_type)
    frequencies = np.zeros(words, dtype=np.int64)
    for row, alive in zip(rows, live.tolist(), strict=True):
        frequencies[row] += alive
    table = WordTable([f"mot{n}" for n in range(words)], frequencies, starts, codes,
                      int(live.sum()))
    return table, live


@settings(max_examples=300, deadline=None)
@given(tables(), st.data())
def test_a_set_s_words_are_counted_as_numpy_counted_them(
        drawn: tuple[WordTable, np.ndarray], data: st.DataObject) -> None:
    table, live = drawn
    documents = len(table.starts) - 1
    among = data.draw(st.sampled_from(["any", "live"]))
    pool = range(documents) if among == "any" else np.flatnonzero(live).tolist()
    docs = np.array(sorted(data.draw(st.sets(st.sampled_from(pool)) if len(pool) else
                                     st.just(set[int]()))), dtype=np.int64)
    assert set_frequencies(table, docs).tolist() == reference_frequencies(table, docs).tolist()
    if among == "live":
        assert set_frequencies(table, docs, live).tolist() == \
            reference_frequencies(table, docs, live).tolist()


@pytest.mark.parametrize("code_type", [np.uint16, np.uint32])
def test_empty_and_whole_archive_sets_are_counted_as_numpy_counted_them(
        code_type: type[np.unsignedinteger[Any]]) -> None:
    rng = np.random.default_rng(3)
    per_doc = [np.unique(rng.integers(0, 70_000, rng.integers(0, 30))) for _ in range(3_000)]
    starts = np.cumsum([0] + [len(codes) for codes in per_doc]).astype(np.int64)
    codes = np.concatenate(per_doc) % (2**16 if code_type is np.uint16 else 70_000)
    words = int(codes.max()) + 1
    live = rng.random(3_000) < 0.9
    frequencies = np.zeros(words, dtype=np.int64)
    for doc in np.flatnonzero(live).tolist():
        frequencies[np.unique(codes[starts[doc]:starts[doc + 1]])] += 1
    table = WordTable([f"mot{n}" for n in range(words)], frequencies, starts,
                      codes.astype(code_type), int(live.sum()))
    everything = np.arange(3_000, dtype=np.int64)
    every_live = np.flatnonzero(live)
    nothing = np.zeros(0, dtype=np.int64)
    assert set_frequencies(table, nothing, live).tolist() == [0] * words
    assert set_frequencies(table, everything).tolist() == \
        reference_frequencies(table, everything).tolist()
    assert set_frequencies(table, every_live, live).tolist() == frequencies.tolist()
    assert set_frequencies(table, every_live, live).tolist() == \
        reference_frequencies(table, every_live, live).tolist()


@settings(max_examples=300, deadline=None)
@given(st.lists(st.tuples(st.integers(0, 5_000), st.integers(0, 5_000)), max_size=60),
       st.integers(1, 10_000), st.integers(0, 20_000))
def test_the_scores_are_numpy_s_bit_for_bit(pairs: list[tuple[int, int]], in_set: int,
                                             others: int) -> None:
    total = in_set + others
    counts = np.array([min(count, in_set) for count, _ in pairs], dtype=np.int64)
    frequencies = np.array([min(count, in_set) + elsewhere for count, elsewhere in pairs],
                           dtype=np.int64)
    found = over_represented(counts, frequencies, in_set, total)
    expected = reference_scores(counts, frequencies, in_set, total)
    assert found[0].tolist() == expected[0].tolist()
    assert found[1].tolist() == expected[1].tolist()
    assert found[2].view(np.int64).tolist() == expected[2].view(np.int64).tolist()


def test_the_scores_of_many_words_are_numpy_s_bit_for_bit() -> None:
    # numpy's logarithm and the compiled one differ in the last bit for about one value in a
    # thousand: enough words that a kernel taking its own logarithm would fail here.
    rng = np.random.default_rng(11)
    frequencies = rng.integers(1, 20_000, 50_000)
    counts = rng.binomial(frequencies, 0.3)
    found = over_represented(counts, frequencies, 30_000, 100_000)
    expected = reference_scores(counts, frequencies, 30_000, 100_000)
    assert len(found[0]) > 10_000
    assert found[0].tolist() == expected[0].tolist()
    assert found[2].view(np.int64).tolist() == expected[2].view(np.int64).tolist()


def _small_table() -> WordTable:
    starts = np.array([0, 2, 3, 5], dtype=np.int64)
    codes = np.array([0, 1, 1, 0, 2], dtype=np.uint16)
    return WordTable(["eau", "pluie", "route"], np.array([2, 2, 1]), starts, codes, 3)


# A set of one document counts its row; a set of most documents counts the others' rows.
@pytest.mark.parametrize("docs", [[2], [0, 1]])
def test_a_row_pointing_outside_the_codes_is_a_damaged_table(docs: list[int]) -> None:
    table = _small_table()
    for starts in ([0, 2, 3, 9], [0, 2, 3, -1], [0, 2, 6, 5]):  # the last row damaged
        damaged = WordTable(table.words, table.frequencies, np.array(starts, dtype=np.int64),
                            table.codes, table.doc_count)
        with pytest.raises(DamagedWordTable):
            set_frequencies(damaged, np.array(docs, dtype=np.int64), np.ones(3, dtype=bool))


def test_a_code_of_no_word_is_a_damaged_table() -> None:
    table = _small_table()
    damaged = WordTable(table.words, table.frequencies, table.starts,
                        np.array([0, 1, 1, 0, 7], dtype=np.uint16), table.doc_count)
    with pytest.raises(DamagedWordTable):
        set_frequencies(damaged, np.array([2], dtype=np.int64))
    with pytest.raises(DamagedWordTable):
        set_frequencies(damaged, np.array([0, 1], dtype=np.int64), np.ones(3, dtype=bool))


def test_a_set_outside_the_table_is_refused() -> None:
    table = _small_table()
    live = np.ones(3, dtype=bool)
    for docs in ([3], [-1], [0, 5]):  # counted as a set
        with pytest.raises(ValueError, match="outside"):
            set_frequencies(table, np.array(docs, dtype=np.int64))
    for docs in ([-1, 0], [0, 7]):  # counted through the others
        with pytest.raises(ValueError, match="outside"):
            set_frequencies(table, np.array(docs, dtype=np.int64), live)


def test_the_counting_and_scoring_kernels_are_warmed_up_with_the_service() -> None:
    examples = compiled.registered()
    assert associated._count_examples in examples
    assert associated._score_example in examples
    compiled.warm_up()
    for kernel in (associated._count_set, associated._candidate_ratios,
                   associated._g_squared):
        assert kernel.compiled
