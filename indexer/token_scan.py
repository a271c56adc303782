"""Find a text's tokens with numpy: where each starts and ends, and which ones are equal.

``re.split`` makes a string object for every token and every gap between two tokens, their
offsets take a ``len`` per piece, and looking each token up in a dictionary hashes it once
more: at about 500 tokens an article, that was half the CPU time of a build's analysis. Here
a text (a batch's texts joined) becomes an array of code points; a table of character classes
(``\\w``, and the apostrophes and hyphens a token holds between two runs of word characters)
gives every token's bounds exactly as ``analysis.TOKEN_PATTERN`` finds them; a polynomial hash
of each token's code points groups equal tokens, so that one string is made per distinct
token of the text. Tokens grouped together are then compared character by character: if two
different tokens ever share a group (a hash collision, never seen on real text), ``scan``
returns None and the caller splits the text with the regex instead. The result is the
regex's, token for token, or nothing (``tests/test_token_scan.py``).
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from functools import cache
from typing import NamedTuple

import numpy as np

from indexer.analysis import APOSTROPHES, HYPHENS

__all__ = ["FIRST_POINTS", "Bounds", "Scanned", "scan", "token_bounds"]

_OTHER, _WORD, _JOINER = 0, 1, 2
_CODE_POINTS = 0x110000
# The hash's multiplier (odd, so invertible modulo 2**64) and its inverse.
_BASE = 0x9E3779B97F4A7C15
_INVERSE = pow(_BASE, -1, 1 << 64)
# A token's number in a text takes the hash's low bits when grouping (one sort of integers
# instead of an argsort): texts of fewer tokens than this, else a plain argsort.
_INDEX_BITS = 21
_INDEX_MASK = np.uint64((1 << _INDEX_BITS) - 1)


@dataclass(frozen=True)
class Scanned:
    """A text's tokens: STARTS and ENDS (character offsets, int64), the DISTINCT tokens in
    the order they first occur, and for each token its index in DISTINCT (WHICH)."""

    starts: np.ndarray
    ends: np.ndarray
    distinct: list[str]
    which: np.ndarray


@cache
def _classes() -> np.ndarray:
    """Each code point's class: a word character of ``\\w``, a joiner or neither (uint8)."""
    return _classes_below(_CODE_POINTS)


# The first code points (Latin, Greek, Cyrillic, punctuation): the classes of a text holding
# none past them are looked up in a table of their own (12 kB: the whole one, 1.1 MB, is
# slower to look up and takes a tenth of a second to make, once).
FIRST_POINTS = 0x3000


@cache
def _first_classes() -> np.ndarray:
    """``_classes`` of the first ``FIRST_POINTS`` code points."""
    return _classes_below(FIRST_POINTS)


def _classes_below(size: int) -> np.ndarray:
    """The classes of the first SIZE code points."""
    # The regex itself says which characters are \w, so the table cannot drift from it.
    every = "".join(map(chr, range(size)))
    classes = np.zeros(size, dtype=np.uint8)
    for run in re.finditer(r"\w+", every):
        classes[run.start():run.end()] = _WORD
    for joiner in APOSTROPHES + HYPHENS:
        if classes[ord(joiner)] == _OTHER:  # "ʼ" is a letter of \w: a joiner of nothing
            classes[ord(joiner)] = _JOINER
    return classes


class _Powers:
    """The hash's multiplier's powers and its inverse's, modulo 2**64, grown as needed."""

    def __init__(self) -> None:
        self.up = np.ones(1, dtype=np.uint64)
        self.down = np.ones(1, dtype=np.uint64)

    def reach(self, size: int) -> None:
        """Hold at least SIZE powers of each."""
        if size <= len(self.up):
            return
        size = max(size, 2 * len(self.up))
        self.up, self.down = _powers(_BASE, size), _powers(_INVERSE, size)


def _powers(base: int, size: int) -> np.ndarray:
    """Return BASE's first SIZE powers modulo 2**64 (whole arrays wrap silently)."""
    powers = np.ones(size, dtype=np.uint64)
    powers[1:] = np.cumprod(np.full(size - 1, base, dtype=np.uint64))
    return powers


_POWERS = _Powers()


def scan(text: str) -> Scanned | None:
    """Return TEXT's tokens (``TOKEN_PATTERN``'s matches), or None when two different tokens
    share a hash (the caller then uses the regex)."""
    points = np.frombuffer(text.encode("utf-32-le", "surrogatepass"), dtype="<u4")
    classes = _classes()[points]
    starts, ends = _bounds(classes)
    if not len(starts):
        return Scanned(starts, ends, [], np.zeros(0, dtype=np.int64))
    firsts, which = _groups(_hashes(points, starts, ends))
    if not _equal_in_groups(points, starts, ends, firsts[which]):
        return None
    distinct = [text[start:end] for start, end in zip(starts[firsts].tolist(),
                                                      ends[firsts].tolist(), strict=True)]
    return Scanned(starts, ends, distinct, which)


class Bounds(NamedTuple):
    """A text's code points (uint32: tables are looked up with ``np.take``, three times as
    fast as by indexing with them), whether each is a word character (bool), and where each
    of its tokens (``TOKEN_PATTERN``'s matches) starts and ends (int64)."""

    points: np.ndarray
    words: np.ndarray
    starts: np.ndarray
    ends: np.ndarray


def token_bounds(text: str) -> Bounds:
    """Return TEXT's tokens' bounds, without the tokens' strings."""
    # numpy copies a string's code points as they are (``encode`` takes its error handler's
    # slow way at each surrogate), but drops the NULs that end it.
    points = np.array([text]).view(np.uint32) if text else np.zeros(0, dtype=np.uint32)
    if len(points) != len(text):
        points = np.frombuffer(text.encode("utf-32-le", "surrogatepass"), dtype="<u4")
    first = _first_classes()
    classes = np.take(first if not len(points) or int(points.max()) < len(first)
                      else _classes(), points)
    starts, ends = _bounds(classes)
    return Bounds(points, classes == _WORD, starts, ends)


def _bounds(classes: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Return where each token starts and ends, given each character's class."""
    word = (classes == _WORD).view(np.int8)
    edges = np.diff(word, prepend=np.int8(0), append=np.int8(0))
    run_starts = np.flatnonzero(edges == 1)
    run_ends = np.flatnonzero(edges == -1)
    # Two runs of word characters are one token when one joiner stands between them.
    joined = (run_starts[1:] == run_ends[:-1] + 1) & (classes[run_ends[:-1]] == _JOINER)
    opens = np.ones(len(run_starts), dtype=bool)
    opens[1:] = ~joined
    closes = np.ones(len(run_starts), dtype=bool)
    closes[:-1] = ~joined
    return run_starts[opens], run_ends[closes]


def _hashes(points: np.ndarray, starts: np.ndarray, ends: np.ndarray) -> np.ndarray:
    """Return each token's hash: its code points' polynomial in the multiplier, mod 2**64."""
    _POWERS.reach(len(points) + 1)
    prefix = np.zeros(len(points) + 1, dtype=np.uint64)
    np.cumsum(points.astype(np.uint64) * _POWERS.up[:len(points)], out=prefix[1:])
    hashed: np.ndarray = (prefix[ends] - prefix[starts]) * _POWERS.down[starts]
    # Times the multiplier again (one to one): short tokens' hashes, small numbers, then
    # differ in the high bits that group them.
    hashed *= np.uint64(_BASE)
    return hashed


def _groups(hashes: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Group the tokens by hash: return each group's first token, the groups in the order
    of their first tokens, and each token's group."""
    count = len(hashes)
    if count < 1 << _INDEX_BITS:
        # The hash's high bits, then the token's number: one sort of plain integers.
        keys = (hashes & ~_INDEX_MASK) | np.arange(count, dtype=np.uint64)
        keys.sort()
        tokens = (keys & _INDEX_MASK).astype(np.int64)
        high = keys >> np.uint64(_INDEX_BITS)
    else:
        tokens = np.argsort(hashes, kind="stable")
        high = hashes[tokens]
    new = np.empty(count, dtype=bool)
    new[0] = True
    np.not_equal(high[1:], high[:-1], out=new[1:])
    group = np.cumsum(new) - 1
    firsts = tokens[new]  # within a group the tokens are in order: its first comes first
    order = np.argsort(firsts)
    renumbered = np.empty(len(order), dtype=np.int64)
    renumbered[order] = np.arange(len(order))
    which = np.empty(count, dtype=np.int64)
    which[tokens] = renumbered[group]
    return firsts[order], which


def _equal_in_groups(points: np.ndarray, starts: np.ndarray, ends: np.ndarray,
                     firsts: np.ndarray) -> bool:
    """Return True when each token is the same string as its group's first token FIRSTS."""
    sizes = ends - starts
    if (sizes != sizes[firsts]).any():
        return False
    # Every character of every token, and how far the same character of its group's first
    # token is (tokens do not overlap: the characters inside them, in order).
    inside = np.zeros(len(points) + 1, dtype=np.int8)
    inside[starts] = 1
    inside[ends] -= 1
    here = np.flatnonzero(np.cumsum(inside[:-1], dtype=np.int8))
    there = here + np.repeat(starts[firsts] - starts, sizes)
    return bool((points[here] == points[there]).all())
