"""The pickles of inlined postings made with numpy are ``pickle.dumps``'s, byte for byte."""

from __future__ import annotations

import pickle

import numpy as np
from hypothesis import given, settings
from hypothesis import strategies as st

from indexer.inlined_pickles import MAX_POSTINGS, inlined_pickles


def dumped(ids: list[int], weights: list[float], values: list[bytes]) -> bytes:
    """A term's pickle as the entry writer makes it one term at a time: whole weights as
    ints, the values sliced out of one buffer (so one-byte values are shared objects), only
    the non-empty ones, or as many empty bytes as postings when all are empty."""
    data = b"".join(values)
    ends = np.cumsum([len(value) for value in values]).tolist()
    listed = [data[end - len(value):end] for value, end in zip(values, ends, strict=True)
              if value]
    whole = [int(w) if w.is_integer() else w for w in weights]
    return pickle.dumps((tuple(ids), tuple(whole),
                         tuple(listed) if listed else (b"",) * len(ids)), 3)


def made(terms: list[tuple[list[int], list[float], list[bytes]]]) -> list[bytes | None]:
    """Each term's pickle as ``inlined_pickles`` makes it (None: left to pickle.dumps)."""
    counts = np.array([len(ids) for ids, _, _ in terms], dtype=np.int64)
    ids = np.array([i for term_ids, _, _ in terms for i in term_ids], dtype=np.int64)
    weights = np.array([w for _, term_weights, _ in terms for w in term_weights])
    values = [v for _, _, term_values in terms for v in term_values]
    sizes = np.array([len(v) for v in values], dtype=np.int64)
    found = inlined_pickles(counts, ids, weights, np.cumsum(sizes) - sizes, sizes,
                            b"".join(values))
    bounds = found.offsets.tolist()
    return [found.data[bounds[at]:bounds[at + 1]] if kept else None
            for at, kept in enumerate(found.handled.tolist())]


def term(ids: list[int], weights: list[float], values: list[bytes]) -> tuple[
        list[int], list[float], list[bytes]]:
    return ids, weights, values


def test_pickles_of_every_kind_of_short_term_are_pickle_s() -> None:
    terms = [
        term([5], [1.0], [b""]),  # a word pair: one document, no value
        term([0, 300], [1.0, 2.0], [b"", b""]),
        term([70_000, 2**31 - 1], [3.0, 255.0], [b"", b""]),
        term([1, 2, 3], [256.0, 65_535.0, 65_536.0], [b"", b"", b""]),
        term([7], [0.10000000149011612], [b""]),  # a boosted weight: a float
        term([7, 8], [1.5, 2.0], [b"\x01\x05", b"\x02\x00\x07"]),  # positions
        term([9], [1.0], [b"\x00\x00\x00\x02"]),  # a frequency
        term([9, 10], [-1.0, -0.0], [b"ab", b"ab"]),  # equal values are distinct objects
        term([3], [1.0], [bytes(range(255))]),  # the longest short value
        term([4, 6], [1.0, 1.0], [b"\x07", b"\x07"]),  # one byte: one shared object
        term([4, 6], [1.0, 1.0], [b"\x07", b"\x08"]),
        term([4], [1.0], [b"\x07"]),
        term([4, 6], [1.0, 1.0], [b"\x07", b"\x07\x07"]),
    ]
    found = made(terms)
    assert all(pickled is not None for pickled in found)
    assert found == [dumped(*t) for t in terms]


def test_terms_it_does_not_make_are_left_to_pickle() -> None:
    terms = [
        term([1, 2, 3, 4], [1.0] * 4, [b""] * 4),  # more postings than MAX_POSTINGS
        term([2**31], [1.0], [b""]),  # an id beyond 32 bits
        term([1], [float(2**40)], [b""]),  # a whole weight beyond 32 bits
        term([1, 2, 3], [1.0] * 3, [b"\x07", b"\x07", b"\x01"]),  # one byte, three postings
        term([1], [1.0], [bytes(300)]),  # 256 bytes and more: not SHORT_BINBYTES
        term([1, 2], [1.0, 1.0], [b"", b"\x01\x02"]),  # some values empty, some not
        term([4], [1.0], [b""]),  # and among them one it makes
    ]
    assert made(terms) == [None] * 6 + [dumped(*terms[-1])]


def test_numbers_it_leaves_to_pickle_beside_terms_it_makes_do_not_disturb_them() -> None:
    """Huge weights and ids in a term left to pickle, next to terms of fewer postings (whose
    absent postings' slots look at their neighbours' numbers)."""
    terms = [term([0], [0.0], [b""]), term([1], [9.223372036854776e18], [b""]),
             term([2], [3.4e38], [b""]), term([3], [float("-inf")], [b""]),
             term([2**32 - 1], [1.0], [b""]), term([5, 9], [1.0, 2.0], [b"", b""])]
    assert made(terms) == [dumped(*terms[0]), None, None, dumped(*terms[3]), None,
                           dumped(*terms[5])]


def test_an_empty_run_makes_nothing() -> None:
    found = inlined_pickles(np.zeros(0, np.int64), np.zeros(0, np.int64), np.zeros(0),
                            np.zeros(0, np.int64), np.zeros(0, np.int64), b"")
    assert found.data == b"" and found.offsets.tolist() == [0] and not len(found.handled)


_weights = st.one_of(st.integers(-(2**33), 2**33).map(float),
                     st.floats(allow_nan=False, width=32).map(float),
                     st.sampled_from([1.0, 2.0, 0.5, float("inf"), -0.0]))
_values = st.one_of(st.just(b""), st.binary(min_size=0, max_size=300))


@st.composite
def _terms(draw: st.DrawFn) -> tuple[list[int], list[float], list[bytes]]:
    count = draw(st.integers(1, MAX_POSTINGS + 1))
    ids = sorted(draw(st.lists(st.integers(0, 2**32 - 1), min_size=count, max_size=count,
                               unique=True)))
    weights = draw(st.lists(_weights, min_size=count, max_size=count))
    if draw(st.booleans()):
        values = [b""] * count
    else:
        values = draw(st.lists(_values, min_size=count, max_size=count))
    return ids, weights, values


@settings(max_examples=200, deadline=None)
@given(st.lists(_terms(), min_size=1, max_size=12))
def test_any_run_of_terms_is_pickled_as_pickle_does(
        terms: list[tuple[list[int], list[float], list[bytes]]]) -> None:
    for pickled, expected in zip(made(terms), terms, strict=True):
        assert pickled is None or pickled == dumped(*expected)
