"""The places of a query's many words in a page's texts, found in the texts themselves.

A prefix stands for tens of words, and reading each word's character offsets from the index
(``snippets._offsets``) costs some 25 µs a word and segment, though most of them are in none
of the page's ten bodies. The bodies are read from SQLite for their snippets anyway, and the
body of an article unchanged since the index generation was built is the very text the index
analysed: the places of its words can be found in it. Its tokens are found with numpy
(``token_scan.token_bounds``, exactly ``TOKEN_PATTERN``'s), and only the tokens with a part
whose first two letters (case and accents folded) may start one of the words are analysed,
by the bulk writer's own analysis (``text_postings.stemmed_parts``: the French chain's words
and offsets), each distinct token once for the process.

Why two letters suffice: Snowball's French stemmer changes a word only from where the suffix
it takes off or replaces starts, in regions (RV, R1) that begin at the third letter at the
earliest, and then may turn the last letter left, a ``y``, into ``i`` (``ayissement`` gives
``ai``): a stem starts with its word's first two letters, or with the first and an ``i`` for
a ``y`` (``tests/test_body_words.py`` checks it on every word of a real index).
"""

from __future__ import annotations

from collections.abc import Mapping
from collections.abc import Set as AbstractSet
from typing import Any

import numpy as np
from whoosh.analysis import Analyzer
from whoosh.formats import Characters

from indexer.analysis import (
    APOSTROPHES,
    HYPHENS,
    RememberingAnalyzer,
    fold_accents,
    french_analyzer,
)
from indexer.documents import MAX_TEXT_CHARS, OVERLONG_WORD_CHARS
from indexer.text_postings import stemmed_parts
from indexer.token_scan import token_bounds

__all__ = ["Place", "analyses_as_texts", "places_in_texts", "reads_texts"]

Place = tuple[str, int, int]
"""A word of a text (its indexed form) and where it stands: its start and end characters."""

# The characters after which a part of a token starts (an elided article's apostrophe, a
# compound's hyphen); ``ʼ`` is a letter of ``\w``, so a part can start inside a run of them.
_JOINER_TABLE = np.zeros(max(map(ord, APOSTROPHES + HYPHENS)) + 2, dtype=bool)
_JOINER_TABLE[[ord(c) for c in APOSTROPHES + HYPHENS]] = True
# Between two texts joined for one scan: neither a word character nor a joiner.
_SEPARATOR = "\n"
# Distinct tokens kept analysed, then the memory starts again.
_TOKENS_REMEMBERED = 200_000
_parts: dict[str, tuple[Place, ...]] = {}
# The analyzers found to be the French chain or not (each kept, so that its id is its own).
_analyzers: dict[int, tuple[Analyzer, bool]] = {}
_ANALYZERS_REMEMBERED = 64
# Each code point lowered and folded, as a part of a token holds it.
_foldings: dict[int, str] = {}
_STRAIGHT = str.maketrans({"’": "'", "ʼ": "'"})
# A capital sigma is lowered by where it stands (``ς`` at a word's end): a part starting
# with it is looked at.
_SIGMA = ord("Σ")


def reads_texts(field: Any) -> bool:
    """True when FIELD's words and offsets are those ``stemmed_parts`` finds in its text (the
    French chain, with character offsets kept)."""
    return isinstance(field.format, Characters) and analyses_as_texts(field.analyzer)


def analyses_as_texts(analyzer: Analyzer) -> bool:
    """True when ANALYZER gives the words and offsets ``stemmed_parts`` finds (the French
    chain); remembered per analyzer (a generation's schema keeps its own)."""
    known = _analyzers.get(id(analyzer))
    if known is None or known[0] is not analyzer:
        same = isinstance(analyzer, RememberingAnalyzer) \
            and analyzer.items == french_analyzer().items
        if len(_analyzers) >= _ANALYZERS_REMEMBERED:
            _analyzers.clear()
        known = _analyzers[id(analyzer)] = (analyzer, same)
    return known[1]


def places_in_texts(texts: Mapping[int, str], words: AbstractSet[str],
                    ) -> dict[int, list[Place] | None]:
    """Return, per key of TEXTS, every place of WORDS in its text, in order; None for a text
    that cannot be read so (one with a word too long for the index, which left it out, or
    longer than the index holds)."""
    keys = [key for key, text in texts.items() if len(text) <= MAX_TEXT_CHARS]
    found: dict[int, list[Place] | None] = dict.fromkeys(texts)
    heads = {word[:2] for word in words if word}
    if not keys:
        return found
    joined = _SEPARATOR.join(texts[key] for key in keys)
    bases = np.cumsum([0] + [len(texts[key]) + len(_SEPARATOR) for key in keys[:-1]]).tolist()
    points, starts, ends = token_bounds(joined)
    places: list[list[Place]] = [[] for _ in keys]
    if len(starts) and heads:
        # Where a part of a token may start: the token's start, or after a joiner in it.
        after = np.flatnonzero(_JOINER_TABLE[np.minimum(points[:-1], len(_JOINER_TABLE) - 1)])
        after += 1
        token = np.searchsorted(starts, after, side="right") - 1
        inside = (token >= 0) & (after < ends[np.maximum(token, 0)])
        candidates = np.concatenate([starts, after[inside]])
        owners = np.concatenate([np.arange(len(starts)), token[inside]])
        # First by their first character (a few tens of distinct ones), then by two.
        letters = {head[:1] for head in heads}
        firsts, which = np.unique(points[candidates], return_inverse=True)
        kept = np.array([_may_open(point, letters) for point in firsts.tolist()], dtype=bool)
        near = kept[which.reshape(-1)]
        candidates, owners = candidates[near], owners[near]
        # Then by their first two characters as one key (a token never ends the text with
        # a joiner: its last character is followed by one, or is the text's last).
        following = points[np.minimum(candidates + 1, len(points) - 1)].astype(np.int64)
        following[candidates + 1 >= len(points)] = 0
        pairs, which = np.unique(points[candidates].astype(np.int64) << 21 | following,
                                 return_inverse=True)
        kept = np.array([_may_start(pair >> 21, pair & 0x1FFFFF, heads)
                         for pair in pairs.tolist()], dtype=bool)
        chosen = np.unique(owners[kept[which.reshape(-1)]])
        text_of = np.searchsorted(bases, starts[chosen], side="right") - 1
        remembered = _parts
        for start, end, index in zip(starts[chosen].tolist(), ends[chosen].tolist(),
                                     text_of.tolist(), strict=True):
            raw = joined[start:end]
            parts = remembered.get(raw)
            if parts is None:
                parts = _token_parts(raw)
            for word, first, last in parts:
                if word in words:
                    shift = start - bases[index]
                    places[index].append((word, first + shift, last + shift))
    spoiled = set((np.searchsorted(bases, starts[ends - starts >= OVERLONG_WORD_CHARS],
                                   side="right") - 1).tolist())
    for index, key in enumerate(keys):
        if index not in spoiled:
            found[key] = places[index]
    return found


def _token_parts(raw: str) -> tuple[Place, ...]:
    """Return the indexed words of the token RAW with their places in it, remembered."""
    parts = _parts.get(raw)
    if parts is None:
        parts = tuple(stemmed_parts(raw))
        if len(_parts) >= _TOKENS_REMEMBERED:
            _parts.clear()
        _parts[raw] = parts
    return parts


def _may_open(point: int, letters: AbstractSet[str]) -> bool:
    """True when a part of a token starting with the code point POINT may have a stem
    starting with one of LETTERS (the wanted words' first letters)."""
    start = _folded(point)
    return len(start) != 1 or start in letters or point == _SIGMA


def _may_start(first: int, second: int, heads: AbstractSet[str]) -> bool:
    """True when a part of a token starting with the code points FIRST and SECOND may have a
    stem starting with one of HEADS (the wanted words' first two letters): Snowball changes
    no letter before the third but a last ``y`` made ``i`` (``ayissement``: ``ai``)."""
    start = _folded(first) + _folded(second)
    if len(start) < 2 or _SIGMA in (first, second):  # looked at
        return True
    return start[:2] in heads or start[:1] in heads or (
        start[1] == "y" and start[0] + "i" in heads)


def _folded(point: int) -> str:
    """Return the code point POINT lowered and folded as the French chain does ("" for one
    that ends a part: not a word character, or a hyphen); remembered."""
    letters = _foldings.get(point)
    if letters is None:
        char = chr(point)
        if char in HYPHENS or not (char.isalnum() or char == "_" or char in APOSTROPHES):
            letters = ""
        else:
            letters = fold_accents(char.lower().translate(_STRAIGHT))
        _foldings[point] = letters
    return letters
