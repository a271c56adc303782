"""The pickles of a run's inlined postings, made with numpy: the bytes ``pickle.dumps`` writes.

A term shorter than the inline limit keeps its postings in its entry, as a protocol-3 pickle of
``(ids, weights, values)`` (``whoosh_format.InlinedTermInfo``). Most of the index's terms are
such (word pairs found once or twice), and pickling them one call each was a per-term Python
step of the full build's segment end. ``inlined_pickles`` writes the same bytes for a run of
terms at once: the pickle of such a tuple is a short sequence of opcodes whose only variable
parts are the numbers and the values' bytes, so each term's opcodes are laid out as columns of
bytes and scattered into one buffer.

What ``pickle.dumps((ids, weights, values), 3)`` writes for a term of N postings (N <= 3):
``PROTO 3``; each id as ``BININT1``, ``BININT2`` or ``BININT`` by size; ``TUPLEN``,
``BINPUT 0``; each weight the same way when it is a whole number (the entry writes those as
ints), else ``BINFLOAT`` (8 bytes, big-endian); ``TUPLEN``, ``BINPUT 1``; the values: all empty
is the one empty ``bytes`` object N times (``SHORT_BINBYTES`` and ``BINPUT 2`` once, then
``BINGET 2``), else each value its ``SHORT_BINBYTES`` and ``BINPUT`` (but the second of two
equal one-byte values: Python shares one object per byte, so the pickle writes ``BINGET 2``);
``TUPLEN`` and its ``BINPUT``, ``TUPLE3`` and its ``BINPUT``, ``STOP``. A term outside that
(more than 3 postings, an id or whole weight beyond 32 bits, a value of 256 bytes and more,
some values empty and some not, one-byte values in a term of three) is left to
``pickle.dumps`` by the caller (``handled`` is False for it); ``tests/test_inlined_pickles.py``
compares the two on every kind of term.
"""

from __future__ import annotations

from typing import NamedTuple

import numpy as np

__all__ = ["MAX_POSTINGS", "InlinedPickles", "inlined_pickles"]

MAX_POSTINGS = 3
"""The most postings of a term whose pickle is made here (``TUPLE1`` to ``TUPLE3``)."""

_PROTO = (0x80, 3)
_BININT1, _BININT2, _BININT, _BINFLOAT = 0x4B, 0x4D, 0x4A, 0x47  # K M J G
_SHORT_BINBYTES, _BINPUT, _BINGET, _STOP = 0x43, 0x71, 0x68, 0x2E  # C q h .
_TUPLE1, _TUPLE3 = 0x85, 0x87
_INT32 = 1 << 31
_SHORT = 256  # a value of this many bytes or more is not SHORT_BINBYTES


class InlinedPickles(NamedTuple):
    """Each term's pickle, joined (DATA), where each starts (OFFSETS, one more than the terms:
    the end), and whether it was made here (HANDLED; else its bytes are not in DATA)."""

    data: bytes
    offsets: np.ndarray
    handled: np.ndarray


def _int_codes(numbers: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Return the opcode and little-endian bytes of each of NUMBERS (int64, in 32-bit signed
    range) as a row of 5 bytes, and how many of them it takes (2, 3 or 5)."""
    rows = np.zeros((len(numbers), 5), dtype=np.uint8)
    small = (numbers >= 0) & (numbers < 256)
    middle = (numbers >= 256) & (numbers < 65536)
    rows[:, 0] = np.where(small, _BININT1, np.where(middle, _BININT2, _BININT))
    rows[:, 1:] = numbers.astype("<i4").view(np.uint8).reshape(len(numbers), 4)
    return rows, np.where(small, 2, np.where(middle, 3, 5))


def _weight_codes(weights: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """``_int_codes`` of whole WEIGHTS (as the entry writes them: ints), ``BINFLOAT`` of the
    others, as rows of 9 bytes and their sizes."""
    # Whole weights beyond 32 bits (never in a term made here) are laid out as floats, so
    # that no value is cast out of range.
    whole = np.isfinite(weights) & (weights == np.floor(weights)) & (np.abs(weights) < _INT32)
    rows = np.zeros((len(weights), 9), dtype=np.uint8)
    as_ints = np.where(whole, weights, 0.0).astype(np.int64)
    int_rows, int_sizes = _int_codes(as_ints)
    rows[:, :5] = int_rows
    floats = ~whole
    rows[floats, 0] = _BINFLOAT
    rows[floats, 1:] = weights[floats].astype(">f8").view(np.uint8).reshape(-1, 8)
    return rows, np.where(whole, int_sizes, 9)


def inlined_pickles(counts: np.ndarray, ids: np.ndarray, weights: np.ndarray,
                    value_starts: np.ndarray, sizes: np.ndarray,
                    values: bytes) -> InlinedPickles:
    """Return ``pickle.dumps((tuple(ids), tuple(weights), values), 3)`` of each term.

    COUNTS: each term's postings (> 0); IDS and WEIGHTS (float64; whole ones pickled as
    ints) of all postings, term after term; VALUE_STARTS and SIZES: where each posting's value
    starts in VALUES and its size. A term's values tuple is its postings' values, or N empty
    ``bytes`` when all are empty (as the entry writer gives them).
    """
    counts = np.asarray(counts, dtype=np.int64)
    terms = len(counts)
    ends = np.cumsum(counts)
    starts = ends - counts
    ids = np.asarray(ids, dtype=np.int64)
    weights = np.asarray(weights, dtype=np.float64)
    value_starts = np.asarray(value_starts, dtype=np.int64)
    sizes = np.asarray(sizes, dtype=np.int64)
    empty_term = np.zeros(terms, dtype=bool)
    handled = counts <= MAX_POSTINGS
    if len(ids):
        whole = np.isfinite(weights) & (weights == np.floor(weights))
        wide = (ids >= _INT32) | (whole & (np.abs(weights) >= _INT32))
        # One-byte values are one shared object per byte: the second of a term of two is
        # then a BINGET, which is made here; in a term of three, left to pickle.
        odd = ((sizes == 1) & np.repeat(counts > 2, counts)) | (sizes >= _SHORT)
        owner = np.repeat(np.arange(terms), counts)
        empties = np.bincount(owner, weights=(sizes == 0), minlength=terms)
        empty_term = empties == counts
        handled &= ((np.bincount(owner, weights=wide | odd, minlength=terms) == 0)
                    & ((empties == 0) | empty_term))
    rows = np.flatnonzero(handled)
    count = counts[rows]
    empty = empty_term[rows]
    # Terms whose second value is the first one's object again: two equal one-byte values.
    source = np.frombuffer(values, dtype=np.uint8)
    twice = np.zeros(len(rows), dtype=bool)
    first_at = starts[rows[count == 2]]
    one_byte = first_at[(sizes[first_at] == 1) & (sizes[first_at + 1] == 1)]
    twice[np.flatnonzero(count == 2)[(sizes[first_at] == 1) & (sizes[first_at + 1] == 1)]] = (
        source[value_starts[one_byte]] == source[value_starts[one_byte + 1]])
    again = empty | twice  # a value that is the first one's object: a BINGET of memo 2
    # Each piece of every handled term's pickle: its bytes as rows (one per term, or None
    # for value bytes gathered from VALUES at STARTS) and their sizes (0: not in this term).
    pieces: list[tuple[np.ndarray | None, np.ndarray, np.ndarray | None]] = []

    def fixed(*columns: int | np.ndarray, present: np.ndarray | bool = True) -> None:
        """A piece of the same bytes (or one per term) in every pickle (where PRESENT)."""
        block = np.zeros((len(rows), len(columns)), dtype=np.uint8)
        for at, column in enumerate(columns):
            block[:, at] = column
        pieces.append((block, np.where(np.broadcast_to(present, (len(rows),)), len(columns), 0),
                       None))

    # Per posting slot: whether the term has it, and its posting (any posting when not).
    slots = [(count > slot, np.minimum(starts[rows] + slot, max(len(ids) - 1, 0)))
             for slot in range(MAX_POSTINGS)]
    some = len(ids) > 0
    fixed(*_PROTO)
    for present, at in slots:
        block, size = _int_codes(ids[at] if some else np.zeros(len(rows), np.int64))
        pieces.append((block, np.where(present, size, 0), None))
    fixed(_TUPLE1 - 1 + count, _BINPUT, 0)
    for present, at in slots:
        block, size = _weight_codes(weights[at] if some else np.zeros(len(rows)))
        pieces.append((block, np.where(present, size, 0), None))
    fixed(_TUPLE1 - 1 + count, _BINPUT, 1)
    for slot, (present, at) in enumerate(slots):
        value_size = sizes[at] if some else np.zeros(len(rows), np.int64)
        if slot == 0:  # the first value, or the empty bytes object all the values are
            fixed(_SHORT_BINBYTES, np.where(empty, 0, value_size), present=present)
        else:  # the same bytes object again, or the next value
            fixed(np.where(again, _BINGET, _SHORT_BINBYTES), np.where(again, 2, value_size),
                  present=present)
        pieces.append((None, np.where(present & ~(empty | (again & (slot > 0))), value_size, 0),
                       value_starts[at] if some else value_size))
        fixed(_BINPUT, 2 + slot, present=present & ((slot == 0) | ~again))
    # The values tuple's memo (after the distinct values'), then the whole tuple's.
    memo = np.where(again, 3, 2 + count)
    fixed(_TUPLE1 - 1 + count, _BINPUT, memo, _TUPLE3, _BINPUT, memo + 1, _STOP)

    size_table = np.stack([size for _, size, _ in pieces], axis=1).astype(np.int64)
    term_sizes = size_table.sum(axis=1)
    piece_at = (np.cumsum(term_sizes) - term_sizes)[:, None] + np.cumsum(size_table, axis=1) \
        - size_table
    out = np.zeros(int(term_sizes.sum()), dtype=np.uint8)
    for piece, (piece_bytes, piece_sizes, gathered_from) in enumerate(pieces):
        if piece_bytes is None:
            assert gathered_from is not None
            total = int(piece_sizes.sum())
            if total:
                piece_starts = np.cumsum(piece_sizes) - piece_sizes
                within = np.arange(total) - np.repeat(piece_starts, piece_sizes)
                out[np.repeat(piece_at[:, piece], piece_sizes) + within] = \
                    source[np.repeat(gathered_from, piece_sizes) + within]
            continue
        width = piece_bytes.shape[1]
        taken = np.arange(width)[None, :] < piece_sizes[:, None]
        out[(piece_at[:, piece][:, None] + np.arange(width)[None, :])[taken]] = piece_bytes[taken]
    offsets = np.zeros(terms + 1, dtype=np.int64)
    made_sizes = np.zeros(terms, dtype=np.int64)
    made_sizes[rows] = term_sizes
    offsets[1:] = np.cumsum(made_sizes)
    return InlinedPickles(out.tobytes(), offsets, handled)
