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
from indexer.token_scan import FIRST_POINTS, token_bounds

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
# The letters the first code points fold to, numbered (``_letter_codes``), after two codes
# for none and for letters not known alone.
_NO_LETTER, _ANY_LETTER, _FIRST_CODE = 0, 1, 2
_letters: dict[str, int] = {}
_codes: list[np.ndarray] = []
_HEADS_REMEMBERED = 256


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
    points, in_words, starts, ends = token_bounds(joined)
    places: list[list[Place]] = [[] for _ in keys]
    if len(starts) and heads:
        # The characters that may start a wanted word, by their first letter (case and
        # accents folded), that start a part of a token: the token's first, or one after a
        # joiner (an elided article's apostrophe, a compound's hyphen; ``ʼ`` is a word
        # character, so one inside a run).
        table = _Heads.of(frozenset(heads))
        # (``np.take`` clips: the code points past a table are its last's.)
        near = np.flatnonzero(np.take(table.opening, points, mode="clip") & in_words)
        near = near[(near == 0) | ~in_words[near - 1]
                    | np.take(_JOINER_TABLE, points[near - 1], mode="clip")]
        # Then by their first two: the second character's letter after each first one.
        letters = np.take(table.letters, points[near], mode="clip")
        following = points[np.minimum(near + 1, len(points) - 1)]
        following[near + 1 == len(points)] = 0  # the text's end: no letter
        seconds = np.take(table.letters, following, mode="clip")
        kept = letters == _ANY_LETTER
        for first, allowed in table.seconds:
            kept |= (letters == first) & allowed[seconds]
        chosen = np.unique(np.searchsorted(starts, near[kept], side="right") - 1)
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


class _Heads:
    """Which first letters, and then which second ones, may start a word of a set of first
    two letters (``heads``: the wanted words' own, a one-letter word's one), as tables over
    the code of each code point's first letter (``_letter_codes``)."""

    _known: dict[frozenset[str], _Heads] = {}

    def __init__(self, heads: frozenset[str]) -> None:
        self.letters = codes = _letter_codes()
        known = _letter_table()
        opening = np.zeros(len(known) + _FIRST_CODE, dtype=bool)
        opening[_ANY_LETTER] = True
        self.seconds: list[tuple[int, np.ndarray]] = []
        for first in sorted({head[0] for head in heads} & known.keys()):
            opening[known[first]] = True
            allowed = np.zeros(len(opening), dtype=bool)
            # A part whose second character is none (a one-letter word), or one whose
            # letter is not known alone, is looked at, as is any after a one-letter word.
            allowed[[_NO_LETTER, _ANY_LETTER]] = True
            if first in heads:
                allowed[:] = True
            for head in heads:
                if len(head) == 2 and head[0] == first:
                    for second in ("y", "i") if head[1] == "i" else head[1]:  # a last y: i
                        if second in known:
                            allowed[known[second]] = True
            self.seconds.append((known[first], allowed))
        # Whether each of the first code points may open a part (those past them may).
        self.opening = opening[codes]

    @classmethod
    def of(cls, heads: frozenset[str]) -> _Heads:
        """Return the tables of HEADS, made once."""
        tables = cls._known.get(heads)
        if tables is None:
            if len(cls._known) >= _HEADS_REMEMBERED:
                cls._known.clear()
            tables = cls._known[heads] = cls(heads)
        return tables


def _letter_table() -> dict[str, int]:
    """Return the code of each letter a code point's folding starts with (``_letter_codes``)."""
    _letter_codes()
    return _letters


def _letter_codes() -> np.ndarray:
    """Return, for each of the first code points (and one more for all those past them), the
    code of the first letter it folds to as the French chain folds it (``_letter_table``):
    ``_NO_LETTER`` for a character that ends a part (no word character, or a hyphen),
    ``_ANY_LETTER`` for one whose letters are not known alone (past the table, a capital
    sigma, lowered by where it stands, one folded to none or to two letters: ``œ``); made
    once."""
    if not len(_codes):
        codes = np.full(FIRST_POINTS + 1, _ANY_LETTER, dtype=np.int32)
        for point in range(FIRST_POINTS):
            letters = _folded(point)
            if not letters:
                codes[point] = _NO_LETTER if not _is_word(chr(point)) else _ANY_LETTER
            elif len(letters) == 1 and point != _SIGMA:
                codes[point] = _letters.setdefault(letters, len(_letters) + _FIRST_CODE)
        _codes.append(codes)
    return _codes[0]


def _folded(point: int) -> str:
    """Return the code point POINT lowered and folded as the French chain does ("" for one
    that ends a part: not a word character, or a hyphen); remembered."""
    letters = _foldings.get(point)
    if letters is None:
        char = chr(point)
        if char in HYPHENS or not _is_word(char):
            letters = ""
        else:
            letters = fold_accents(char.lower().translate(_STRAIGHT))
        _foldings[point] = letters
    return letters


def _is_word(char: str) -> bool:
    """True when CHAR is a word character of ``\\w`` or an apostrophe (inside a part)."""
    return char.isalnum() or char == "_" or char in APOSTROPHES
