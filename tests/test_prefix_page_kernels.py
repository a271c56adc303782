"""A large prefix's page bounded by compiled kernels (``indexer.matches``: each document's
ceiling from its postings' blocks and its own length, the chosen documents' postings found
among all or among those found before): to the bit what the numpy code they stand for gives
(kept here as the reference), on generated segments of blocks with empty blocks, repeated
documents and magnitudes of 1e-6 to 1e6 (their order of addition shows); postings that do
not fit their segment refused with ``UnexpectedLayout``.
"""

from __future__ import annotations

from typing import Any

import numpy as np
import pytest
from hypothesis import assume, given, settings
from hypothesis import strategies as st

from indexer import compiled, matches
from indexer.whoosh_format import UnexpectedLayout

K1_PLUS = 2.2


def _numpy_length_sums(docs: np.ndarray, block_postings: np.ndarray, heaviest: np.ndarray,
                       block_idf: np.ndarray, codes: np.ndarray, start: int, norm: np.ndarray,
                       k1_plus: float, size: int) -> tuple[np.ndarray, bool]:
    """What ``_length_sums`` gives, in numpy: each posting's bound (its block's greatest
    weight over its document's length), summed per document in the postings' order."""
    weights = np.repeat(heaviest, block_postings)
    idf = np.repeat(block_idf, block_postings)
    bounds = idf * ((weights * k1_plus) / (weights + norm[codes[start:][docs]]))
    summed: np.ndarray = np.bincount(docs, weights=bounds, minlength=size)
    return summed, bool((bounds > 0.0).all())


def _numpy_places(wanted: np.ndarray, docs: np.ndarray) -> np.ndarray:
    """What ``_places_of`` gives, in numpy."""
    places: np.ndarray = np.flatnonzero(wanted[docs])
    return places


@st.composite
def _segments(draw: Any) -> dict[str, Any]:
    """A segment's postings in blocks (some empty), each block's documents ascending and
    distinct as a term's are, documents repeated across blocks; per block a greatest weight
    and an idf of mixed magnitudes; length codes after START other documents; documents
    wanted, and some more found before them."""
    size = draw(st.integers(1, 60))
    block_docs = draw(st.lists(st.lists(st.integers(0, size - 1), max_size=12, unique=True),
                               min_size=1, max_size=30))
    blocks = len(block_docs)
    docs = np.array([doc for part in block_docs for doc in sorted(part)], dtype=np.int64)
    block_postings = np.array([len(part) for part in block_docs], dtype=np.int64)
    magnitudes = st.floats(1e-6, 1e6, allow_nan=False, allow_infinity=False)
    start = draw(st.integers(0, 5))
    return {
        "size": size, "docs": docs, "block_postings": block_postings,
        "heaviest": np.array(draw(st.lists(magnitudes, min_size=blocks, max_size=blocks))),
        "block_idf": np.array(draw(st.lists(magnitudes, min_size=blocks, max_size=blocks))),
        "start": start,
        "codes": np.array(draw(st.lists(st.integers(0, 255), min_size=start + size,
                                        max_size=start + size)), dtype=np.uint8),
        "norm": np.array(draw(st.lists(magnitudes, min_size=256, max_size=256))),
        "wanted": np.array(draw(st.lists(st.booleans(), min_size=size, max_size=size))),
        "more": np.array(draw(st.lists(st.booleans(), min_size=size, max_size=size))),
    }


def _same_bits(found: np.ndarray, expected: np.ndarray) -> bool:
    return found.dtype == expected.dtype and found.shape == expected.shape and bool(
        np.array_equal(found.view(np.uint64), expected.view(np.uint64)))


def _sums_arguments(segment: dict[str, Any]) -> tuple[Any, ...]:
    return (segment["docs"], segment["block_postings"], segment["heaviest"],
            segment["block_idf"], segment["codes"], segment["start"], segment["norm"],
            K1_PLUS, segment["size"])


@settings(max_examples=150, deadline=None)
@given(_segments(), st.booleans())
def test_the_ceilings_are_numpy_s_sums_of_each_posting_s_bound_to_the_bit(
        segment: dict[str, Any], read_only: bool) -> None:
    assume(len(segment["docs"]))  # a read of no posting adds nothing (``add``)
    if read_only:  # a field's length codes as a generation may keep them
        segment["codes"] = np.frombuffer(segment["codes"].tobytes(), dtype=np.uint8)
    found, positive = matches._length_sums(*_sums_arguments(segment))
    expected, every_positive = _numpy_length_sums(*_sums_arguments(segment))
    assert _same_bits(found, expected) and positive is every_positive is True


def test_a_block_of_weight_0_is_told_apart() -> None:
    docs = np.array([0, 2, 1], dtype=np.int64)
    arguments = (docs, np.array([2, 1], dtype=np.int64), np.array([1.0, 0.0]),
                 np.array([0.5, 0.7]), np.zeros(3, dtype=np.uint8), 0, np.ones(256), K1_PLUS, 3)
    found, positive = matches._length_sums(*arguments)
    expected, _ = _numpy_length_sums(*arguments)
    assert _same_bits(found, expected) and not positive and found[1] == 0.0


@settings(max_examples=150, deadline=None)
@given(_segments())
def test_the_wanted_documents_postings_are_numpy_s_places(segment: dict[str, Any]) -> None:
    found = matches._places_of(segment["wanted"], segment["docs"])
    expected = _numpy_places(segment["wanted"], segment["docs"])
    assert found.dtype == np.int64 and np.array_equal(found, expected)


@settings(max_examples=150, deadline=None)
@given(_segments())
def test_postings_found_among_those_of_more_documents_are_the_same(
        segment: dict[str, Any]) -> None:
    wanted, docs = segment["wanted"], segment["docs"]
    before = matches._places_of(wanted | segment["more"], docs)
    found = matches._narrowed_places(wanted, docs, before)
    assert found.dtype == np.int64 and np.array_equal(found, _numpy_places(wanted, docs))


def test_postings_outside_their_segment_or_blocks_are_refused() -> None:
    docs = np.array([0, 2, 1], dtype=np.int64)
    fine: tuple[Any, ...] = (docs, np.array([2, 1], dtype=np.int64), np.array([1.0, 2.0]),
                             np.array([0.5, 0.7]), np.zeros(3, dtype=np.uint8), 0, np.ones(256),
                             K1_PLUS, 3)
    assert _same_bits(matches._length_sums(*fine)[0], _numpy_length_sums(*fine)[0])
    damaged: list[tuple[int, Any]] = [
        (0, np.array([0, -1, 1])),             # a document before the segment
        (8, 2),                                # document 2 of a segment of 2
        (1, np.array([2, 2])),                 # more postings than read
        (1, np.array([1, 1])),                 # fewer
        (1, np.array([4, -1])),
        (2, np.array([1.0])),                  # a block without its greatest weight
        (3, np.array([0.5])),                  # nor its idf
        (4, np.zeros(2, dtype=np.uint8)),      # a document without a length code
        (5, 1),                                # the codes read past their end
        (5, -1),
        (6, np.ones(0)),                       # a code without its length part
    ]
    for at, value in damaged:
        arguments = list(fine)
        arguments[at] = value
        with pytest.raises(UnexpectedLayout):
            matches._length_sums(*arguments)
    with pytest.raises(UnexpectedLayout):
        matches._places_of(np.ones(2, dtype=bool), docs)
    with pytest.raises(UnexpectedLayout):
        matches._places_of(np.ones(3, dtype=bool), np.array([0, -5]))
    with pytest.raises(UnexpectedLayout):
        matches._narrowed_places(np.ones(3, dtype=bool), docs, np.array([0, 3]))
    with pytest.raises(UnexpectedLayout):
        matches._narrowed_places(np.ones(3, dtype=bool), docs, np.array([-1]))
    with pytest.raises(UnexpectedLayout):
        matches._narrowed_places(np.ones(2, dtype=bool), docs, np.array([0, 1]))


def test_the_page_s_kernels_are_compiled_for_every_type_their_callers_pass() -> None:
    compiled.warm_up()
    if not compiled.native_kernels():
        pytest.skip("no compiled module on this host (the kernels run just in time)")
    kernels = [matches._length_sums_kernel, matches._places_kernel, matches._narrowed_kernel]
    before = [kernel.calls_just_in_time for kernel in kernels]
    docs = np.array([0, 2, 1], dtype=np.int64)
    codes = np.zeros(3, dtype=np.uint8)
    for length_codes in (codes, np.frombuffer(codes.tobytes(), dtype=np.uint8)):
        matches._length_sums(docs, np.array([3], dtype=np.int64), np.array([2.0]),
                             np.array([0.5]), length_codes, 0, np.ones(256), K1_PLUS, 3)
    wanted = np.ones(3, dtype=bool)
    matches._narrowed_places(wanted, docs, matches._places_of(wanted, docs))
    assert [kernel.calls_just_in_time for kernel in kernels] == before
