"""Code that narrower or compiled readers replaced, kept as their references in the tests:
a page's character offsets read from every block between its first and last documents
(``whoosh_format.read_page_characters`` reads only the page's blocks), and the look-ups of
documents in a sorted list with numpy's array operations (``matches._positions_of``). The
tests require the same answers from both."""

from __future__ import annotations

from typing import Any

import numpy as np

from indexer.matches import _dense_span
from indexer.postings_format import CompactCharacters
from indexer.whoosh_format import (
    UnexpectedLayout,
    _characters_of,
    _compact_format_of,
    _small_characters_of,
    _small_terms,
    _terms_packed,
)


def read_terms_characters(leaf: Any, field: str, btexts: list[bytes], docnums: list[int],
                          ) -> list[dict[int, list[tuple[int, int, int]]]]:
    """Return what ``whoosh_format.read_characters`` returns for each term of BTEXTS, for
    the same DOCNUMS of a segment, every block from the first document's to the last's read
    and decoded together (what ``snippets._offsets`` read before ``read_page_characters``).

    Raises UnexpectedLayout as ``read_characters``.
    """
    format_ = _compact_format_of(leaf, field)
    if not isinstance(format_, CompactCharacters):
        raise UnexpectedLayout(f"field {field!r} stores no character offsets")
    wanted = sorted(set(docnums))
    decode = format_.decode_characters
    # The terms of one small block each are decoded with plain ints, the others together.
    small = _small_terms(leaf, field, btexts)
    rest = [btext for i, btext in enumerate(btexts) if i not in small]
    packs = iter(_terms_packed(leaf, field, rest, np.asarray(wanted, dtype=np.int64))
                 if rest else [])
    raws: dict[int, bytes] = {}
    found: list[dict[int, list[tuple[int, int, int]]]] = []
    for i in range(len(btexts)):
        if i in small:
            found.append(_small_characters_of(wanted, *small[i], decode))
            continue
        ids, _, data, starts, sizes = next(packs)
        if not len(ids):
            found.append({})
            continue
        joined = raws.get(id(data))
        if joined is None:
            joined = raws[id(data)] = data.tobytes() if len(data) else b""
        found.append(_characters_of(wanted, ids, joined, starts, sizes, decode))
    return found


def positions_reference(docs: np.ndarray, wanted: np.ndarray) -> np.ndarray:
    """``matches._positions`` with numpy's array operations (its kernel's reference)."""
    if not len(docs) or not len(wanted):
        return np.full(len(wanted), -1, dtype=np.int64)
    span = _dense_span(wanted, docs)
    if span and len(docs) < 2**31:
        rank = np.full(span, -1, dtype=np.int32)
        rank[docs] = np.arange(len(docs), dtype=np.int32)
        found: np.ndarray = rank[wanted].astype(np.int64)
        return found
    at = docs.searchsorted(wanted)
    at[at == len(docs)] = 0
    return np.where(docs[at] == wanted, at, -1)
