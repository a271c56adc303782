"""A document's postings for the bulk writer, a text at a time with numpy instead of a token.

The fields of one text (``body``, ``body_exact``, ``body_pairs``, ``body_exact_pairs``: the
same string) share one tokenization: ``re.split`` finds the tokens and, through their
lengths, their offsets, without a match object per token. Each distinct token is analysed
once per writer (``TokenTable``: its stemmed parts with their offsets, its exact-form words),
each distinct word gets a number, and a text becomes arrays of word numbers from which numpy
makes every field's occurrences, word pairs and postings (grouped by term with one sort). The
writer looks each term up once per document, not once per occurrence.

What comes out is what Whoosh's ``field.index`` gives for the same text (terms, frequencies,
weights, encoded values): ``tests/test_text_postings.py`` holds the two to the same output for
each kind of field, and ``tests/test_index_bulk_contents.py`` compares whole indexes.
"""

from __future__ import annotations

import re
import struct
from collections import Counter
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from typing import Any

import numpy as np
from whoosh.formats import Characters, Existence, Format, Frequency, Positions

from indexer.analysis import (
    _COMPOUND_PART,
    _ELISION,
    _FOLD,
    FRENCH_STOP_WORDS,
    PAIR_SEPARATOR,
    SPELLING_PATTERN,
    TOKEN_PATTERN,
    ExactAnalyzer,
    ExactWordPairAnalyzer,
    RememberingAnalyzer,
    WordPairAnalyzer,
    exact_analyzer,
    french_analyzer,
    spelling_analyzer,
    split_exact_words,
    stem_french,
)
from indexer.postings_format import (
    CompactCharacters,
    CompactPositions,
    characters_values,
    position_values,
)

__all__ = ["Batch", "FieldKind", "TextPostings", "field_kind", "frequent_text_words"]

_SPLIT = re.compile(f"({TOKEN_PATTERN})")
_SPELLING = re.compile(SPELLING_PATTERN)
_APOSTROPHE_TO_STRAIGHT = str.maketrans({"’": "'", "ʼ": "'"})
# A pair's key: its first word's number in the high bits, the second's in the low ones.
_PAIR_SHIFT = 32
# Distinct tokens kept analysed; past it the table starts again (word numbers stay).
TOKEN_TABLE_LIMIT = 500_000
_EMPTY = np.zeros(0, dtype=np.int64)
_PACK_FREQUENCY = struct.Struct("!I")


class _Column:
    """A numpy array that grows by appending one value at a time."""

    __slots__ = ("data", "size")

    def __init__(self, dtype: Any) -> None:
        self.data = np.zeros(1024, dtype=dtype)
        self.size = 0

    def append(self, value: int) -> None:
        if self.size == len(self.data):
            self.data = np.concatenate([self.data, np.zeros_like(self.data)])
        self.data[self.size] = value
        self.size += 1

    def view(self) -> np.ndarray:
        return self.data[:self.size]


class _Codes(dict[str, int]):
    """A dictionary of tokens that analyses a token it does not hold when it is looked up."""

    __slots__ = ("_add",)

    def __init__(self, add: Callable[[str], int]) -> None:
        super().__init__()
        self._add = add

    def __missing__(self, raw: str) -> int:
        code: int = self._add(raw)
        return code


class TokenTable:
    """Every distinct token of a writer's texts, analysed once, and every word, numbered.

    A word's number stands for the same string in every field (stems, exact forms and
    spelling words share one numbering); the fields' terms are made from it once. A token is
    analysed the first time a text's tokens are looked up in ``codes`` or ``spelling``
    (one lookup per token, no set of the text's tokens first).
    """

    def __init__(self) -> None:
        self.numbers: dict[str, int] = {}
        self.words: list[str] = []
        self.encoded: list[bytes] = []
        self.codes = _Codes(self._add_token)
        self.stem_first = _Column(np.int64)
        self.stem_count = _Column(np.int64)
        self.exact_first = _Column(np.int64)
        self.exact_count = _Column(np.int64)
        self.stem_word = _Column(np.int64)
        self.stem_start = _Column(np.int64)
        self.stem_end = _Column(np.int64)
        self.exact_word = _Column(np.int64)
        self.spelling = _Codes(self._add_spelling)
        self._frequent: dict[frozenset[str], _Column] = {}

    def number(self, word: str) -> int:
        """Return WORD's number, giving it the next one if it has none."""
        number = self.numbers.get(word)
        if number is None:
            encoded = word.encode("utf-8")
            number = self.numbers[word] = len(self.words)
            self.words.append(word)
            self.encoded.append(encoded)
        return number

    def token_codes(self, tokens: list[str]) -> np.ndarray:
        """Return the code of each of TOKENS (raw, as they stand in a text), analysing the
        tokens not yet in the table."""
        if len(self.codes) + len(tokens) > TOKEN_TABLE_LIMIT:
            self.codes.clear()
            for column in (self.stem_first, self.stem_count, self.exact_first,
                           self.exact_count, self.stem_word, self.stem_start, self.stem_end,
                           self.exact_word):
                column.size = 0
        return np.fromiter(map(self.codes.__getitem__, tokens), dtype=np.int64,
                           count=len(tokens))

    def _add_token(self, raw: str) -> int:
        stems = _stemmed_parts(raw)
        exact = split_exact_words(raw)
        code = self.codes[raw] = len(self.codes)
        self.stem_first.append(self.stem_word.size)
        self.stem_count.append(len(stems))
        for stem, start, end in stems:
            self.stem_word.append(self.number(stem))
            self.stem_start.append(start)
            self.stem_end.append(end)
        self.exact_first.append(self.exact_word.size)
        self.exact_count.append(len(exact))
        for word in exact:
            self.exact_word.append(self.number(word))
        return code

    def frequent(self, words: frozenset[str]) -> np.ndarray:
        """Return, for every word number, whether the word is one of WORDS (as a bool array)."""
        flags = self._frequent.get(words)
        if flags is None:
            flags = self._frequent[words] = _Column(np.bool_)
        for number in range(flags.size, len(self.words)):
            flags.append(self.words[number] in words)
        return flags.view()

    def spelling_counts(self, tokens: list[str]) -> dict[int, int]:
        """Return how often each spelling word of TOKENS occurs, by word number, in the order
        the words first occur (tokens the chain drops left out)."""
        table = self.spelling
        if len(table) > TOKEN_TABLE_LIMIT:
            table.clear()
        counts = Counter(map(table.__getitem__, tokens))
        counts.pop(-1, None)
        return counts

    def _add_spelling(self, raw: str) -> int:
        word = _spelling_word(raw)
        number = self.spelling[raw] = -1 if word is None else self.number(word)
        return number


def _stemmed_parts(raw: str) -> list[tuple[str, int, int]]:
    """Return the indexed stems of token RAW with their offsets in it (``french_analyzer()``)."""
    text = raw.lower()
    start, end = 0, len(raw)
    if "'" in text or "’" in text or "ʼ" in text:
        match = _ELISION.match(text)
        if match:
            cut = match.end()
            text = text[cut:]
            start += cut
        text = text.translate(_APOSTROPHE_TO_STRAIGHT)
    if "-" not in text and "‐" not in text and "‑" not in text:
        parts = [(text, start, end, False)]
    else:
        parts = [(part.group(), min(start + part.start(), end), min(start + part.end(), end),
                  True) for part in _COMPOUND_PART.finditer(text)]
    stems = []
    for word, first, last, in_compound in parts:
        folded = word if word.isascii() else word.translate(_FOLD)
        if in_compound or folded not in FRENCH_STOP_WORDS:
            stems.append((stem_french(folded), first, last))
    return stems


def _spelling_word(raw: str) -> str | None:
    """Return the spelling field's word of token RAW (``spelling_analyzer()``), or None."""
    text = raw.lower()
    if "'" in text or "’" in text or "ʼ" in text:
        match = _ELISION.match(text)
        if match:
            text = text[match.end():]
        text = text.translate(_APOSTROPHE_TO_STRAIGHT)
    if len(text) < 3 or text in FRENCH_STOP_WORDS:
        return None
    return text


class _Text:
    """One text of a document, tokenized once: the words of the French and the exact chain.

    ``stemmed``: the French chain's words (numbers), start and end characters, in order;
    ``exact``: the exact chain's words (numbers), in order. Positions are their indexes.
    """

    __slots__ = ("codes", "exact", "starts", "stemmed")

    def __init__(self, table: TokenTable, value: str) -> None:
        parts = _SPLIT.split(value)
        tokens = parts[1::2]
        count = len(tokens)
        self.codes = table.token_codes(tokens)
        # Token i is parts[2i + 1]: it starts where parts[0..2i] end.
        ends = np.cumsum(np.fromiter(map(len, parts), dtype=np.int64, count=len(parts)))
        self.starts = ends[0:2 * count:2]
        # Both chains at once: the table may start again when a later text adds tokens.
        part, token_start = _parts(table.stem_first.view(), table.stem_count.view(),
                                   self.codes, self.starts)
        self.stemmed = (table.stem_word.view()[part],
                        token_start + table.stem_start.view()[part],
                        token_start + table.stem_end.view()[part])
        part, _ = _parts(table.exact_first.view(), table.exact_count.view(), self.codes, None)
        self.exact = table.exact_word.view()[part]


def _parts(first: np.ndarray, count: np.ndarray, codes: np.ndarray,
           starts: np.ndarray | None) -> tuple[np.ndarray, np.ndarray]:
    """Return the index of every part of the tokens CODES in order, and its token's start."""
    counts = count[codes]
    if (counts == 1).all():  # every token one part (no stop word, compound or elision)
        return first[codes], (starts if starts is not None else _EMPTY)
    total = int(counts.sum())
    shift = first[codes] - np.cumsum(counts) + counts
    part = np.repeat(shift, counts) + np.arange(total)
    return part, (np.repeat(starts, counts) if starts is not None else _EMPTY)


@dataclass(frozen=True)
class FieldKind:
    """How a field's postings are made from its text, and what its format needs."""

    chain: str  # "stemmed", "exact", "pairs", "exact_pairs" or "spelling"
    format: Format
    words: frozenset[str] | None = None  # the words a pair field pairs (None: all)

    @property
    def pairs(self) -> bool:
        """True when the field's terms are word pairs."""
        return self.chain in ("pairs", "exact_pairs")


@dataclass
class Batch:
    """The postings of one field of one document, one entry per distinct term.

    KEYS are word numbers (pair keys for pair fields), VALUES the encoded values joined,
    SIZES each value's length in bytes.
    """

    keys: np.ndarray
    frequencies: np.ndarray
    weights: np.ndarray
    values: bytes
    sizes: np.ndarray
    length: int


def field_kind(field: Any) -> FieldKind | None:
    """Return how the bulk writer makes FIELD's postings itself, or None for Whoosh's way."""
    analyzer, format_ = field.analyzer, field.format
    if isinstance(analyzer, ExactWordPairAnalyzer):
        if _positions(format_) and analyzer.source == exact_analyzer():
            return FieldKind("exact_pairs", format_, analyzer.words)
        return None
    if isinstance(analyzer, WordPairAnalyzer):
        if type(format_) is Existence and analyzer.source == french_analyzer():
            return FieldKind("pairs", format_, analyzer.words)
        return None
    if isinstance(analyzer, RememberingAnalyzer):
        if isinstance(format_, Positions) and analyzer.items == french_analyzer().items:
            return FieldKind("stemmed", format_)
        return None
    if isinstance(analyzer, ExactAnalyzer):
        if _positions(format_) and analyzer.items == exact_analyzer().items:
            return FieldKind("exact", format_)
        return None
    if type(format_) is Frequency and analyzer == spelling_analyzer():
        return FieldKind("spelling", format_)
    return None


def _positions(format_: Format) -> bool:
    return isinstance(format_, Positions) and not isinstance(format_, Characters)


class TextPostings:
    """Makes the postings of documents' text fields for one writer (not thread-safe)."""

    def __init__(self) -> None:
        self.table = TokenTable()

    def text(self, value: str, texts: dict[str, _Text]) -> _Text:
        """Return VALUE tokenized, once per document (TEXTS: the document's texts so far)."""
        text = texts.get(value)
        if text is None:
            text = texts[value] = _Text(self.table, value)
        return text

    def term(self, kind: FieldKind, key: int) -> bytes:
        """Return the term (UTF-8) of KEY in a field of KIND."""
        encoded = self.table.encoded
        if kind.pairs:
            return (encoded[key >> _PAIR_SHIFT] + PAIR_SEPARATOR.encode("utf-8")
                    + encoded[key & ((1 << _PAIR_SHIFT) - 1)])
        return encoded[key]

    def terms(self, kind: FieldKind, keys: np.ndarray) -> list[bytes]:
        """Return the terms (UTF-8) of KEYS in a field of KIND."""
        encoded = self.table.encoded
        if kind.pairs:
            separator = PAIR_SEPARATOR.encode("utf-8")
            return [encoded[first] + separator + encoded[second] for first, second in zip(
                (keys >> _PAIR_SHIFT).tolist(), (keys & ((1 << _PAIR_SHIFT) - 1)).tolist(),
                strict=True)]
        return [encoded[key] for key in keys.tolist()]

    def postings(self, kind: FieldKind, value: str, texts: dict[str, _Text]) -> Batch:
        """Return the postings of VALUE in a field of KIND."""
        boost = kind.format.field_boost
        chain = kind.chain
        if chain == "spelling":
            return self._spelling(value, boost)
        text = self.text(value, texts)
        if chain == "stemmed":
            words, starts, ends = text.stemmed
            if isinstance(kind.format, Characters):
                return _grouped(words, boost, _characters_encoder(kind.format, starts, ends))
            return _grouped(words, boost, _positions_encoder(kind.format))
        if chain == "exact":
            return _grouped(text.exact, boost, _positions_encoder(kind.format))
        words = text.stemmed[0] if chain == "pairs" else text.exact
        paired = words[:-1], words[1:]
        if kind.words is not None:
            frequent = self.table.frequent(kind.words)
            keep = frequent[paired[0]] & frequent[paired[1]]
            at = np.flatnonzero(keep)
            paired = paired[0][at], paired[1][at]
        else:
            at = np.arange(len(paired[0]))
        keys = (paired[0] << _PAIR_SHIFT) | paired[1]
        if chain == "pairs":
            unique = np.unique(keys)
            return Batch(unique, np.ones(len(unique), dtype=np.int64),
                         np.full(len(unique), boost), b"", np.zeros(len(unique), np.int64),
                         len(unique))
        return _grouped(keys, boost, _positions_encoder(kind.format, at))

    def _spelling(self, value: str, boost: float) -> Batch:
        # In the order the words first occur, as Whoosh gives them.
        found = self.table.spelling_counts(_SPELLING.findall(value))
        unique = np.fromiter(found.keys(), dtype=np.int64, count=len(found))
        counts = np.fromiter(found.values(), dtype=np.int64, count=len(found))
        return Batch(unique, counts, counts * boost,
                     counts.astype(">u4").tobytes(),
                     np.full(len(counts), _PACK_FREQUENCY.size, dtype=np.int64),
                     int(counts.sum()))


# Encode each term's occurrences: given the permutation that groups them by term and where
# each group starts and ends in it, return the values joined and their sizes.
_Encoder = Callable[[np.ndarray, np.ndarray, np.ndarray], tuple[bytes, np.ndarray]]


def _characters_encoder(format_: Format, starts: np.ndarray, ends: np.ndarray) -> _Encoder:
    if isinstance(format_, CompactCharacters):
        # ORDER holds the occurrences' positions, grouped by term.
        return lambda order, firsts, lasts: characters_values(order, starts[order], ends[order],
                                                              lasts - firsts)
    encode = format_.encode

    def encoded(order: np.ndarray, firsts: np.ndarray, lasts: np.ndarray
                ) -> tuple[bytes, np.ndarray]:
        triples = list(zip(order.tolist(), starts[order].tolist(), ends[order].tolist(),
                           strict=True))
        values = [encode(triples[first:last]) for first, last in zip(
            firsts.tolist(), lasts.tolist(), strict=True)]
        return b"".join(values), np.fromiter(map(len, values), dtype=np.int64,
                                             count=len(values))

    return encoded


def _positions_encoder(format_: Format, at: np.ndarray | None = None) -> _Encoder:
    if isinstance(format_, CompactPositions):
        return lambda order, firsts, lasts: position_values(
            at[order] if at is not None else order, lasts - firsts)
    encode = format_.encode

    def encoded(order: np.ndarray, firsts: np.ndarray, lasts: np.ndarray
                ) -> tuple[bytes, np.ndarray]:
        positions = (at[order] if at is not None else order).tolist()
        values = [encode(positions[first:last]) for first, last in zip(
            firsts.tolist(), lasts.tolist(), strict=True)]
        return b"".join(values), np.fromiter(map(len, values), dtype=np.int64,
                                             count=len(values))

    return encoded


def _grouped(keys: np.ndarray, boost: float, encode: _Encoder) -> Batch:
    """Return the postings of the occurrences KEYS (at positions 0, 1, ...), one per key."""
    count = len(keys)
    if not count:
        return Batch(_EMPTY, _EMPTY, np.zeros(0), b"", _EMPTY, 0)
    order = np.argsort(keys, kind="stable")
    ordered = keys[order]
    new = np.empty(count, dtype=bool)
    new[0] = True
    np.not_equal(ordered[1:], ordered[:-1], out=new[1:])
    firsts = np.flatnonzero(new)
    lasts = np.empty_like(firsts)
    lasts[:-1] = firsts[1:]
    lasts[-1] = count
    frequencies = lasts - firsts
    values, sizes = encode(order, firsts, lasts)
    return Batch(ordered[firsts], frequencies, frequencies * boost, values, sizes,
                 count)


def frequent_text_words(texts: Iterable[str], share: float, exact_share: float,
                        ) -> tuple[frozenset[str], frozenset[str]]:
    """Return the stemmed words found in at least SHARE of TEXTS and the exact-form words
    found in at least EXACT_SHARE of them (each also in two texts at least).

    The words of ``analysis.frequent_words`` for both chains, with one token table: each
    text is split once, each distinct token analysed once.
    """
    table = TokenTable()
    stemmed: list[np.ndarray] = []
    exact: list[np.ndarray] = []
    seen = 0
    for value in texts:
        seen += 1
        text = _Text(table, value)
        stemmed.append(np.unique(text.stemmed[0]))
        exact.append(np.unique(text.exact))

    def found(numbers: list[np.ndarray], fraction: float) -> frozenset[str]:
        if not numbers:
            return frozenset()
        counts = np.bincount(np.concatenate(numbers), minlength=len(table.words))
        floor = max(2.0, fraction * seen)
        return frozenset(table.words[number] for number in np.flatnonzero(counts >= floor))

    return found(stemmed, share), found(exact, exact_share)
