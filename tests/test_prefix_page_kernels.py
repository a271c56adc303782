"""A large prefix's page bounds summed by compiled kernels (``indexer.matches``: the blocks'
ceilings, the chosen documents' postings, their tighter ceilings): to the bit what the numpy
code they replaced gives (kept here as the reference), on generated segments of blocks with
empty blocks, repeated documents and bounds of mixed magnitudes (their order of addition
shows); postings that do not fit their segment refused with ``UnexpectedLayout``.
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


def _numpy_block_sums(docs: np.ndarray, block_postings: np.ndarray, bounds: np.ndarray,
                      size: int) -> np.ndarray:
    """The numpy code ``_block_sums`` replaced."""
    summed: np.ndarray = np.bincount(docs, weights=np.repeat(bounds, block_postings),
                                     minlength=size)
    return summed


def _numpy_places(wanted: np.ndarray, docs: np.ndarray) -> np.ndarray:
    """The numpy code ``_places_of`` replaced."""
    places: np.ndarray = np.flatnonzero(wanted[docs])
    return places


def _numpy_tighter(places: np.ndarray, docs: np.ndarray, block_starts: np.ndarray,
                   heaviest: np.ndarray, block_idf: np.ndarray, codes: np.ndarray, start: int,
                   norm: np.ndarray, ranks: np.ndarray, k1_plus: float,
                   count: int) -> np.ndarray:
    """The numpy code ``_tighter_sums`` replaced (``_SegmentPrefixes.tighter``'s loop body)."""
    block = np.searchsorted(block_starts, places, side="right") - 1
    ids = docs[places]
    weights = heaviest[block]
    bounds = block_idf[block] * ((weights * k1_plus) / (weights + norm[codes[start:][ids]]))
    total: np.ndarray = np.bincount(ranks[ids], weights=bounds, minlength=count)
    return total


@st.composite
def _segments(draw: Any) -> dict[str, Any]:
    """A segment's postings in blocks (some empty), each block's documents ascending and
    distinct as a term's are, documents repeated across blocks; per block a bound, a greatest
    weight and an idf of mixed magnitudes; length codes after START other documents."""
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
        "bounds": np.array(draw(st.lists(magnitudes, min_size=blocks, max_size=blocks))),
        "heaviest": np.array(draw(st.lists(magnitudes, min_size=blocks, max_size=blocks))),
        "block_idf": np.array(draw(st.lists(magnitudes, min_size=blocks, max_size=blocks))),
        "start": start,
        "codes": np.array(draw(st.lists(st.integers(0, 255), min_size=start + size,
                                        max_size=start + size)), dtype=np.uint8),
        "norm": np.array(draw(st.lists(magnitudes, min_size=256, max_size=256))),
        "wanted": np.array(draw(st.lists(st.booleans(), min_size=size, max_size=size))),
    }


def _same_bits(found: np.ndarray, expected: np.ndarray) -> bool:
    return found.dtype == expected.dtype and found.shape == expected.shape and bool(
        np.array_equal(found.view(np.uint64), expected.view(np.uint64)))


def _tighter_arguments(segment: dict[str, Any]) -> tuple[Any, ...]:
    """The arguments ``tighter`` passes for the segment's wanted documents."""
    docs, wanted = segment["docs"], segment["wanted"]
    chosen = np.flatnonzero(wanted)
    ranks = np.zeros(segment["size"], dtype=np.int64)
    ranks[chosen] = np.arange(len(chosen))
    block_starts = np.cumsum(segment["block_postings"]) - segment["block_postings"]
    return (_numpy_places(wanted, docs), docs, block_starts, segment["heaviest"],
            segment["block_idf"], segment["codes"], segment["start"], segment["norm"], ranks,
            K1_PLUS, len(chosen))


@settings(max_examples=150, deadline=None)
@given(_segments())
def test_the_blocks_ceilings_are_numpy_s_sums_to_the_bit(segment: dict[str, Any]) -> None:
    assume(len(segment["docs"]))  # a read of no posting adds nothing (``add``)
    found = matches._block_sums(segment["docs"], segment["block_postings"], segment["bounds"],
                                segment["size"])
    assert _same_bits(found, _numpy_block_sums(segment["docs"], segment["block_postings"],
                                               segment["bounds"], segment["size"]))


@settings(max_examples=150, deadline=None)
@given(_segments())
def test_the_wanted_documents_postings_are_numpy_s_places(segment: dict[str, Any]) -> None:
    found = matches._places_of(segment["wanted"], segment["docs"])
    expected = _numpy_places(segment["wanted"], segment["docs"])
    assert found.dtype == np.int64 and np.array_equal(found, expected)


@settings(max_examples=150, deadline=None)
@given(_segments(), st.booleans())
def test_the_tighter_ceilings_are_numpy_s_sums_to_the_bit(segment: dict[str, Any],
                                                         read_only: bool) -> None:
    if read_only:  # a field's length codes as a generation may keep them
        segment["codes"] = np.frombuffer(segment["codes"].tobytes(), dtype=np.uint8)
    arguments = _tighter_arguments(segment)
    assume(len(arguments[0]))  # no posting chosen: nothing to add (``tighter``)
    assert _same_bits(matches._tighter_sums(*arguments), _numpy_tighter(*arguments))


def test_postings_outside_their_segment_or_blocks_are_refused() -> None:
    docs = np.array([0, 2, 1], dtype=np.int64)
    postings, bounds = np.array([2, 1], dtype=np.int64), np.array([1.0, 2.0])
    with pytest.raises(UnexpectedLayout):
        matches._block_sums(docs, postings, bounds, 2)  # document 2 of a segment of 2
    with pytest.raises(UnexpectedLayout):
        matches._block_sums(np.array([0, -1, 1]), postings, bounds, 3)
    with pytest.raises(UnexpectedLayout):
        matches._block_sums(docs, np.array([2, 2]), bounds, 3)  # more postings than read
    with pytest.raises(UnexpectedLayout):
        matches._block_sums(docs, np.array([1, 1]), bounds, 3)  # fewer
    with pytest.raises(UnexpectedLayout):
        matches._block_sums(docs, np.array([4, -1]), bounds, 3)
    with pytest.raises(UnexpectedLayout):
        matches._block_sums(docs, postings, np.array([1.0]), 3)  # a bound missing
    with pytest.raises(UnexpectedLayout):
        matches._places_of(np.ones(2, dtype=bool), docs)
    with pytest.raises(UnexpectedLayout):
        matches._places_of(np.ones(3, dtype=bool), np.array([0, -5]))


def test_tighter_ceilings_of_damaged_places_codes_or_ranks_are_refused() -> None:
    docs = np.array([0, 2, 1], dtype=np.int64)
    fine = (np.array([0, 1, 2]), docs, np.array([0, 2]), np.array([1.0, 2.0]),
            np.array([0.5, 0.7]), np.zeros(3, dtype=np.uint8), 0, np.ones(256),
            np.arange(3), K1_PLUS, 3)
    assert _same_bits(matches._tighter_sums(*fine), _numpy_tighter(*fine))
    damaged: list[tuple[int, Any]] = [
        (0, np.array([0, 3])),                 # a place past the postings
        (0, np.array([1, 0])),                 # places not ascending
        (1, np.array([0, 5, 1])),              # a document past the ranks
        (1, np.array([0, -1, 1])),
        (2, np.array([1, 2])),                 # the first place in no block
        (3, np.array([1.0])),                  # a block without its greatest weight
        (4, np.array([0.5])),                  # nor its idf
        (5, np.zeros(2, dtype=np.uint8)),      # a document without a length code
        (6, 1),                                # the codes read past their end
        (7, np.ones(0)),                       # a code without its length part
        (8, np.array([0, 3, 1])),              # a rank past the chosen documents
        (8, np.array([0, -1, 1])),
    ]
    for at, value in damaged:
        arguments = list(fine)
        arguments[at] = value
        with pytest.raises(UnexpectedLayout):
            matches._tighter_sums(*arguments)


def test_the_page_s_kernels_are_compiled_for_every_type_their_callers_pass() -> None:
    compiled.warm_up()
    if not compiled.native_kernels():
        pytest.skip("no compiled module on this host (the kernels run just in time)")
    kernels = [matches._block_sums_kernel, matches._places_kernel, matches._tighter_kernel]
    before = [kernel.calls_just_in_time for kernel in kernels]
    docs = np.array([0, 2, 1], dtype=np.int64)
    matches._block_sums(docs, np.array([3], dtype=np.int64), np.array([1.5]), 3)
    places = matches._places_of(np.ones(3, dtype=bool), docs)
    codes = np.zeros(3, dtype=np.uint8)
    for length_codes in (codes, np.frombuffer(codes.tobytes(), dtype=np.uint8)):
        matches._tighter_sums(places, docs, np.array([0]), np.array([2.0]), np.array([0.5]),
                              length_codes, 0, np.ones(256), np.arange(3), K1_PLUS, 3)
    assert [kernel.calls_just_in_time for kernel in kernels] == before
