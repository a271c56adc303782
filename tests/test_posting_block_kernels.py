"""Posting blocks read by compiled kernels (``indexer.posting_blocks``): the directories and
numbers of the numpy code they replaced (``posting_blocks_reference``), for blocks of every
width, at any byte of the bytes read, alone or in runs; damaged records and bytes refused with
the layout's error, every read the kernels make lying within the bytes read.
"""

from __future__ import annotations

from typing import Any

import numpy as np
import posting_blocks_reference as reference
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from indexer import compiled
from indexer import posting_blocks as layout
from indexer.posting_blocks import CorruptPostings, TermRun


@st.composite
def _terms(draw: Any) -> tuple[list[bytes], int]:
    """A few terms' postings as the writers lay them out, their gaps, weights and value sizes
    of widths drawn up to 32 bits, and the block limit they were written with."""
    limit = draw(st.sampled_from([1, 2, 3, 7, 64, 128, 255]))
    terms = []
    for _ in range(draw(st.integers(1, 3))):
        count = draw(st.integers(1, 300))
        gap_bits = draw(st.integers(0, 32))
        gaps = draw(st.lists(st.integers(0, (1 << gap_bits) - 1), min_size=count,
                             max_size=count))
        docs = np.cumsum(np.array(gaps, dtype=np.int64) + 1) - 1
        if int(docs[-1]) >= 1 << 32:
            docs = np.arange(count, dtype=np.int64) + (1 << 32) - count
        kind = draw(st.sampled_from(["ones", "equal", "whole", "fractions"]))
        weight_bits = draw(st.integers(0, 24))
        if kind == "ones":
            weights = np.ones(count)
        elif kind == "equal":
            weights = np.full(count, 3.0)
        elif kind == "whole":
            weights = np.array(draw(st.lists(st.integers(0, (1 << weight_bits) - 1),
                                             min_size=count, max_size=count)), dtype=float)
        else:
            weights = np.array(draw(st.lists(st.floats(0.25, 1e6, width=32), min_size=count,
                                             max_size=count)))
        size_bits = draw(st.integers(0, 12))
        sizes = np.array(draw(st.lists(st.integers(0, (1 << size_bits) - 1), min_size=count,
                                       max_size=count)), dtype=np.int64)
        terms.append(TermRun(np.array([count]), docs, weights.astype(np.float32),
                             np.zeros(count, dtype=np.uint8), sizes, np.cumsum(sizes) - sizes,
                             bytes(int(sizes.sum()))))
    return [layout.encode_terms(term, limit)[0] for term in terms], limit


def _read(terms: list[bytes], before: int) -> tuple[np.ndarray, np.ndarray]:
    """The bytes of TERMS one after the other, BEFORE bytes in, padded as the readers pad
    them (read-only, as read from a file), and their directories, places counted from the
    bytes' first."""
    joined = bytes(range(256)) * (before // 256) + bytes(before % 256) + b"".join(terms)
    offsets = np.cumsum([before] + [len(term) for term in terms])[:-1].tolist()
    blocks, _ = layout.read_directories(joined, offsets, [len(term) for term in terms])
    return np.frombuffer(joined + bytes(layout.padding()), dtype=np.uint8), blocks


def _drawn_run(blocks: np.ndarray, data: st.DataObject) -> tuple[int, int]:
    """A run of BLOCKS' columns, drawn: its first and one past its last."""
    low = data.draw(st.integers(0, blocks.shape[1] - 1))
    return low, data.draw(st.integers(low + 1, blocks.shape[1]))


def _same(found: tuple[Any, ...], expected: tuple[Any, ...]) -> bool:
    return all((a is None and b is None) or (a.dtype == b.dtype and np.array_equal(a, b))
               for a, b in zip(found, expected, strict=True))


@settings(max_examples=60, deadline=None)
@given(_terms(), st.integers(0, 700), st.data())
def test_runs_of_blocks_decode_to_the_numpy_decoding_s_numbers(
        drawn: tuple[list[bytes], int], before: int, data: st.DataObject) -> None:
    terms, _ = drawn
    buffer, blocks = _read(terms, before)
    low, high = _drawn_run(blocks, data)
    for chosen in (blocks, blocks[:, low:high]):
        for options in ({}, {"sizes": True}):
            assert _same(layout.decode_blocks(buffer, chosen, 0, **options),
                         reference.decode_blocks(buffer, chosen, 0, **options))
        ids, _, _ = layout.decode_blocks(buffer, chosen, 0, weighed=False)
        assert np.array_equal(ids, reference.decode_blocks(buffer, chosen, 0)[0])
        assert np.array_equal(layout.decode_value_sizes(buffer, chosen, 0),
                              reference.decode_value_sizes(buffer, chosen, 0))
    # The blocks' bytes read alone, from their first packed byte (as a long term's reader).
    first = int(blocks[layout.PACKED_AT, low])
    alone = np.concatenate([buffer[first:int(blocks[layout.PACKED_END, high - 1])],
                            np.zeros(layout.padding(), dtype=np.uint8)])  # writable
    assert _same(layout.decode_blocks(alone, blocks[:, low:high], first, sizes=True),
                 reference.decode_blocks(alone, blocks[:, low:high], first, sizes=True))


@settings(max_examples=40, deadline=None)
@given(_terms(), st.integers(0, 40), st.data())
def test_chosen_postings_weigh_what_the_numpy_decoding_gives_them(
        drawn: tuple[list[bytes], int], before: int, data: st.DataObject) -> None:
    buffer, blocks = _read(drawn[0], before)
    chosen = np.array(sorted(data.draw(st.lists(st.integers(0, blocks.shape[1] - 1),
                                                 min_size=1, max_size=20))), dtype=np.int64)
    steps = np.array([data.draw(st.integers(0, int(blocks[layout.POSTINGS, b]) - 1))
                      for b in chosen.tolist()], dtype=np.int64)
    found = layout.weights_at(buffer, blocks, chosen, steps, 0)
    assert np.array_equal(found, reference.weights_at(buffer, blocks, chosen, steps, 0))
    whole = layout.decode_blocks(buffer, blocks, 0)[1]
    firsts = np.cumsum(blocks[layout.POSTINGS]) - blocks[layout.POSTINGS]
    assert np.array_equal(found, whole[firsts[chosen] + steps])


class _StrictWords:
    """The words a kernel reads (``posting_blocks._words``), refusing any read outside them:
    the kernels' Python code run over it shows that every index they derive is checked
    (compiled, they read whatever lies there)."""

    def __init__(self, words: np.ndarray) -> None:
        self.words = words
        self.shape = words.shape

    def __getitem__(self, at: int) -> np.uint64:
        assert 0 <= at < self.shape[0], f"a read at word {at} of {self.shape[0]}"
        return np.uint64(self.words[at])


_DAMAGES = [-2**40, -9, -1, 0, 1, 7, 31, 32, 33, 40, 64, 255, 256, 2**20, 2**31, 2**40]


@settings(max_examples=60, deadline=None)
@given(_terms(), st.data())
def test_damaged_records_are_refused_and_never_read_outside_the_bytes(
        drawn: tuple[list[bytes], int], data: st.DataObject) -> None:
    whole, blocks = _read(drawn[0], 0)
    # The packed bytes alone and their padding, as a long term's reader holds them.
    buffer = np.concatenate([whole[:int(blocks[layout.PACKED_END, -1])],
                             np.zeros(layout.padding(), dtype=np.uint8)])
    damaged = blocks.copy()
    row = data.draw(st.sampled_from([layout.LAST, layout.FLOOR, layout.POSTINGS,
                                     layout.ID_BITS, layout.WEIGHT_BITS, layout.SIZE_BITS,
                                     layout.PACKED_AT, layout.WEIGHTS_AT, layout.SIZES_AT]))
    last = blocks.shape[1] - 1  # the last block's streams end where the bytes read do
    column = data.draw(st.one_of(st.just(last), st.integers(0, last)))
    damaged[row, column] += data.draw(st.sampled_from(_DAMAGES))
    words = layout._words(buffer)
    # The kernels as Python over words that refuse a read outside them.
    strict: Any = _StrictWords(words)
    for wanted in ((True, True, True), (True, False, False), (False, False, True)):
        status, total = layout._checked_run.python(strict, damaged, 0, *wanted)
        if not status:
            layout._decoded_run.python(strict, damaged, 0, total, *wanted)
    steps = np.zeros(damaged.shape[1], dtype=np.int64)
    layout._weights_of.python(strict, damaged, np.arange(damaged.shape[1]), steps, 0)
    # Compiled: the numbers of intact records, or the layout's error.
    for call in (lambda: layout.decode_blocks(buffer, damaged, 0, sizes=True),
                 lambda: layout.decode_value_sizes(buffer, damaged, 0),
                 lambda: layout.weights_at(buffer, damaged, np.arange(damaged.shape[1]),
                                           steps, 0)):
        try:
            call()
        except CorruptPostings:
            pass


def test_impossible_records_are_refused_with_the_layout_s_error() -> None:
    run = TermRun(np.array([300]), np.arange(0, 3000, 10, dtype=np.int64),
                  np.ones(300, dtype=np.float32), np.zeros(300, dtype=np.uint8),
                  np.ones(300, dtype=np.int64), np.arange(300, dtype=np.int64), bytes(300))
    buffer, blocks = _read([layout.encode_terms(run, 128)[0]], 0)
    cases = [(layout.POSTINGS, 0, "without postings"), (layout.ID_BITS, 40, "widths"),
             (layout.SIZE_BITS, -1, "widths"), (layout.LAST, 5, "last document"),
             (layout.SIZES_AT, 2**40, "outside"), (layout.PACKED_AT, -100, "outside")]
    for row, value, message in cases:
        damaged = blocks.copy()
        damaged[row, 1] = value
        with pytest.raises(CorruptPostings, match=message):
            layout.decode_blocks(buffer, damaged, 0, sizes=True)
    with pytest.raises(CorruptPostings, match="not in the blocks"):
        layout.weights_at(buffer, blocks, np.array([3]), np.array([0]), 0)
    with pytest.raises(CorruptPostings, match="not in the blocks"):
        layout.weights_at(buffer, blocks, np.array([0]), np.array([128]), 0)
    cut = buffer[:int(blocks[layout.PACKED_END, -1]) + 3]  # the padding cut short
    with pytest.raises(CorruptPostings, match="outside"):
        layout.decode_blocks(cut, blocks, 0)


def test_damaged_packed_bytes_give_the_numpy_decoding_s_answer() -> None:
    # A flipped bit in a gap is found by its block's last document; in a weight or a size it
    # reads as another number, as with numpy.
    rng = np.random.default_rng(7)
    docs = np.cumsum(rng.integers(1, 200, 1000))
    sizes = rng.integers(0, 40, 1000)
    run = TermRun(np.array([1000]), docs, rng.integers(1, 9, 1000).astype(np.float32),
                  np.zeros(1000, dtype=np.uint8), sizes, np.cumsum(sizes) - sizes,
                  bytes(int(sizes.sum())))
    term = layout.encode_terms(run, 128)[0]
    _, blocks = _read([term], 0)
    refused = 0
    for at in rng.integers(int(blocks[layout.PACKED_AT, 0]), int(blocks[layout.PACKED_END, -1]),
                           200).tolist():
        damaged = bytearray(term)
        damaged[at] ^= 1 << int(rng.integers(0, 8))
        buffer = np.frombuffer(bytes(damaged) + bytes(layout.padding()), dtype=np.uint8)
        try:
            expected = reference.decode_blocks(buffer, blocks, 0, sizes=True)
        except CorruptPostings:
            refused += 1
            with pytest.raises(CorruptPostings):
                layout.decode_blocks(buffer, blocks, 0, sizes=True)
            continue
        assert _same(layout.decode_blocks(buffer, blocks, 0, sizes=True), expected)
    assert refused > 0


@settings(max_examples=50, deadline=None)
@given(_terms(), st.integers(0, 300))
def test_directories_read_as_the_numpy_reading_reads_them(drawn: tuple[list[bytes], int],
                                                          before: int) -> None:
    terms, _ = drawn
    joined = bytes(before) + b"".join(terms)
    offsets = np.cumsum([before] + [len(term) for term in terms])[:-1].tolist()
    lengths = [len(term) for term in terms]
    for raw in (joined, memoryview(joined), np.frombuffer(joined, dtype=np.uint8)):
        found, counts = layout.read_directories(raw, offsets, lengths)
        expected, expected_counts = reference.read_directories(joined, offsets, lengths)
        assert found.dtype == np.int64 and found.flags.c_contiguous
        assert np.array_equal(found, expected) and np.array_equal(counts, expected_counts)
    for term in terms:  # alone (the reference: plain ints up to 16 blocks)
        assert np.array_equal(layout.read_directory(term, len(term)),
                              reference.read_directories(term, [0], [len(term)])[0])


class _StrictBytes(_StrictWords):
    """Bytes refusing any read outside them (``_StrictWords``)."""

    def __getitem__(self, at: int) -> np.uint64:
        assert 0 <= at < self.shape[0], f"a read at byte {at} of {self.shape[0]}"
        return self.words[at]  # type: ignore[no-any-return]


@settings(max_examples=80, deadline=None)
@given(_terms(), st.data())
def test_damaged_heads_and_records_are_refused_as_numpy_refused_them(
        drawn: tuple[list[bytes], int], data: st.DataObject) -> None:
    term = drawn[0][0]
    records_end = layout.directory_size(layout.block_count(term))
    damaged = bytearray(term)
    for _ in range(data.draw(st.integers(1, 3))):
        at = data.draw(st.integers(0, records_end - 1))
        damaged[at] = data.draw(st.integers(0, 255))
    cut = data.draw(st.sampled_from([len(term), records_end, records_end - 1, 11]))
    raw = bytes(damaged[:cut])
    try:
        expected = reference.read_directories(raw, [0], [len(term)])
    except CorruptPostings:
        with pytest.raises(CorruptPostings):
            layout.read_directories(raw, [0], [len(term)])
    else:
        found = layout.read_directories(raw, [0], [len(term)])
        assert all(np.array_equal(a, b) for a, b in zip(found, expected, strict=True))
    # Every byte the kernels read lies within the bytes given them.
    strict: Any = _StrictBytes(np.frombuffer(raw, dtype=np.uint8))
    offsets, lengths = np.zeros(1, dtype=np.int64), np.array([len(term)], dtype=np.int64)
    status, _, counts, total = layout._heads_of.python(strict, offsets)
    if not status:
        layout._records_of.python(strict, offsets, lengths, counts, total)


def test_the_kernels_are_warmed_up_by_the_service_s_preparation() -> None:
    assert layout._decode_examples in compiled.registered()
    compiled.warm_up()
    assert layout._checked_run.compiled and layout._decoded_run.compiled
    assert layout._weights_of.compiled
    assert layout._heads_of.compiled and layout._records_of.compiled


@settings(max_examples=60, deadline=None)
@given(_terms(), st.integers(0, 700), st.data())
def test_values_start_where_the_numpy_sums_put_them(
        drawn: tuple[list[bytes], int], before: int, data: st.DataObject) -> None:
    terms, _ = drawn
    buffer, blocks = _read(terms, before)
    low, high = _drawn_run(blocks, data)
    for chosen in (blocks, blocks[:, low:high]):
        sizes = layout.decode_value_sizes(buffer, chosen, 0)
        shift = data.draw(st.integers(0, int(chosen[layout.VALUES_AT, 0])))
        found = layout.value_starts(chosen, sizes, shift)
        assert found.dtype == np.int64
        assert np.array_equal(found, reference.value_starts(chosen, sizes, shift))


@settings(max_examples=60, deadline=None)
@given(_terms(), st.data())
def test_value_sizes_not_adding_up_to_a_block_s_values_are_refused(
        drawn: tuple[list[bytes], int], data: st.DataObject) -> None:
    terms, _ = drawn
    buffer, blocks = _read(terms, 0)
    sizes = layout.decode_value_sizes(buffer, blocks, 0)
    damaged_blocks, damaged_sizes = blocks.copy(), sizes.copy()
    where = data.draw(st.sampled_from(["size", "values_at", "values_end", "postings", "cut"]))
    block = data.draw(st.integers(0, blocks.shape[1] - 1))
    change = data.draw(st.integers(-(1 << 40), 1 << 40).filter(bool))
    if where == "size":
        damaged_sizes[data.draw(st.integers(0, len(sizes) - 1))] += change
    elif where == "values_at":
        damaged_blocks[layout.VALUES_AT, block] += change
    elif where == "values_end":
        damaged_blocks[layout.VALUES_END, block] += change
    elif where == "postings":
        damaged_blocks[layout.POSTINGS, block] += change
    else:
        damaged_sizes = sizes[:data.draw(st.integers(0, len(sizes) - 1))].copy()
    with pytest.raises(CorruptPostings):
        layout.value_starts(damaged_blocks, damaged_sizes, 0)
