"""Documents' postings for the bulk writer, a batch of documents at a time with numpy.

The fields of one text (``body``, ``body_exact``, ``body_pairs``, ``body_exact_pairs``: the
same string) share one tokenization, and the texts of a batch of documents are tokenized
together: ``re.split`` of the texts joined by line breaks finds the tokens and, through their
lengths, their offsets and texts, without a match object per token. Each distinct token is
analysed once per writer (``TokenTable``: its stemmed parts with their offsets, its exact-form
words), each distinct word gets a number, and the batch becomes arrays of word numbers and
documents from which numpy makes every field's occurrences, word pairs and postings (grouped
by document and term with one sort). The writer looks each term up once per batch.

What comes out is what Whoosh's ``field.index`` gives for the same text (terms, frequencies,
weights, encoded values): ``tests/test_text_postings.py`` holds the two to the same output for
each kind of field, and ``tests/test_index_bulk_contents.py`` compares whole indexes.
"""

from __future__ import annotations

import re
import struct
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass
from itertools import chain
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
from indexer.stable_order import stable_order
from indexer.token_scan import scan

__all__ = ["PAIR_SHIFT", "Batch", "FieldKind", "TextPostings", "field_kind",
           "frequent_text_words", "stemmed_parts"]

_SPLIT = re.compile(f"({TOKEN_PATTERN})")
_SPELLING = re.compile(SPELLING_PATTERN)
_APOSTROPHE_TO_STRAIGHT = str.maketrans({"’": "'", "ʼ": "'"})
# A pair's key: its first word's number in the high bits, the second's in the low ones.
PAIR_SHIFT = 32
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
        if len(self.codes) > TOKEN_TABLE_LIMIT:
            self.codes.clear()
            for column in (self.stem_first, self.stem_count, self.exact_first,
                           self.exact_count, self.stem_word, self.stem_start, self.stem_end,
                           self.exact_word):
                column.size = 0
        return np.fromiter(map(self.codes.__getitem__, tokens), dtype=np.int64,
                           count=len(tokens))

    def _add_token(self, raw: str) -> int:
        stems = stemmed_parts(raw)
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

    def spelling_codes(self, tokens: list[str]) -> np.ndarray:
        """Return the spelling word (its number) of each of TOKENS, -1 for a token the chain
        drops, analysing the tokens not yet in the table."""
        table = self.spelling
        if len(table) > TOKEN_TABLE_LIMIT:
            table.clear()
        return np.fromiter(map(table.__getitem__, tokens), dtype=np.int64, count=len(tokens))

    def _add_spelling(self, raw: str) -> int:
        word = _spelling_word(raw)
        number = self.spelling[raw] = -1 if word is None else self.number(word)
        return number


def stemmed_parts(raw: str) -> list[tuple[str, int, int]]:
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


class _Texts:
    """The texts of a batch of documents (one each, "" for none), tokenized once together.

    ``stemmed``: the French chain's words (numbers), their documents (indexes in the batch),
    positions, start and end characters, in order; ``exact``: the exact chain's words, their
    documents and positions. Positions and characters count from each text's beginning.
    """

    __slots__ = ("count", "exact", "stemmed")

    def __init__(self, table: TokenTable, values: Sequence[str]) -> None:
        self.count = count = len(values)
        # One split for the whole batch: a line break is neither a word character nor an
        # apostrophe or a hyphen, so no token runs from one text into the next and each
        # text's tokens are the ones it has alone.
        joined = "\n".join(values)
        scanned = scan(joined)
        if scanned is not None:
            codes = table.token_codes(scanned.distinct)[scanned.which]
            starts = scanned.starts
        else:  # two different tokens hashed alike: the regex's split, a string per piece
            parts = _SPLIT.split(joined)
            codes = table.token_codes(parts[1::2])
            # Token i is parts[2i + 1]: it starts where parts[0..2i] end.
            ends = np.cumsum(np.fromiter(map(len, parts), dtype=np.int64, count=len(parts)))
            starts = ends[0:2 * len(codes):2]
        total = len(codes)
        sizes = np.fromiter(map(len, values), dtype=np.int64, count=count) + 1
        bases = np.cumsum(sizes) - sizes  # where each text starts in the joined string
        docs = np.searchsorted(bases, starts, side="right") - 1 if count > 1 \
            else np.zeros(total, dtype=np.int64)
        starts -= bases[docs]
        # Both chains at once: the table may start again when a later batch adds tokens.
        part, owner = _parts(table.stem_first.view(), table.stem_count.view(), codes)
        stem_docs = docs if owner is None else docs[owner]
        token_starts = starts if owner is None else starts[owner]
        self.stemmed = (table.stem_word.view()[part], stem_docs, _text_positions(stem_docs, count),
                        token_starts + table.stem_start.view()[part],
                        token_starts + table.stem_end.view()[part])
        part, owner = _parts(table.exact_first.view(), table.exact_count.view(), codes)
        exact_docs = docs if owner is None else docs[owner]
        self.exact = (table.exact_word.view()[part], exact_docs,
                      _text_positions(exact_docs, count))


def _parts(first: np.ndarray, count: np.ndarray, codes: np.ndarray,
           ) -> tuple[np.ndarray, np.ndarray | None]:
    """Return the index of every part of the tokens CODES in order, and the token each part
    comes from (None when each token is one part)."""
    counts = count[codes]
    if (counts == 1).all():  # every token one part (no stop word, compound or elision)
        return first[codes], None
    owner = np.repeat(np.arange(len(codes)), counts)
    shift = first[codes] - np.cumsum(counts) + counts
    return shift[owner] + np.arange(len(owner)), owner


def _text_positions(docs: np.ndarray, count: int) -> np.ndarray:
    """Return each word's position in its text, DOCS (non-decreasing) giving its text."""
    if count == 1 or not len(docs):
        return np.arange(len(docs))
    firsts = np.searchsorted(docs, np.arange(count))
    positions: np.ndarray = np.arange(len(docs)) - firsts[docs]
    return positions


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
    """The postings of one field in a batch of documents, one per document and distinct term.

    DOCS: each posting's document (its index in the batch), non-decreasing; KEYS: word
    numbers (pair keys for pair fields), a document's in increasing order (the spelling
    field's in the order its words first occur); VALUES: the encoded values joined, SIZES
    each value's length in bytes; LENGTHS: each document's field length (the frequencies of
    its postings summed).
    """

    docs: np.ndarray
    keys: np.ndarray
    frequencies: np.ndarray
    weights: np.ndarray
    values: bytes
    sizes: np.ndarray
    lengths: np.ndarray

    def before(self, count: int) -> Batch:
        """Return the postings of the first COUNT documents of the batch only."""
        cut = int(np.searchsorted(self.docs, count))
        return Batch(self.docs[:cut], self.keys[:cut], self.frequencies[:cut],
                     self.weights[:cut], self.values[:int(self.sizes[:cut].sum())],
                     self.sizes[:cut], self.lengths[:count])


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

    def texts(self, values: Sequence[str], texts: dict[tuple[str, ...], _Texts]) -> _Texts:
        """Return VALUES tokenized, once per batch (TEXTS: the batch's texts so far)."""
        key = tuple(values)
        found = texts.get(key)
        if found is None:
            found = texts[key] = _Texts(self.table, values)
        return found

    def term(self, kind: FieldKind, key: int) -> bytes:
        """Return the term (UTF-8) of KEY in a field of KIND."""
        encoded = self.table.encoded
        if kind.pairs:
            return (encoded[key >> PAIR_SHIFT] + PAIR_SEPARATOR.encode("utf-8")
                    + encoded[key & ((1 << PAIR_SHIFT) - 1)])
        return encoded[key]

    def terms(self, kind: FieldKind, keys: np.ndarray) -> list[bytes]:
        """Return the terms (UTF-8) of KEYS in a field of KIND."""
        encoded = self.table.encoded
        if kind.pairs:
            separator = PAIR_SEPARATOR.encode("utf-8")
            return [encoded[first] + separator + encoded[second] for first, second in zip(
                (keys >> PAIR_SHIFT).tolist(), (keys & ((1 << PAIR_SHIFT) - 1)).tolist(),
                strict=True)]
        return [encoded[key] for key in keys.tolist()]

    def postings(self, kind: FieldKind, values: Sequence[str],
                 texts: dict[tuple[str, ...], _Texts]) -> Batch:
        """Return the postings of VALUES (one text per document, "" for none) in a field of
        KIND; TEXTS: the batch's texts tokenized so far, shared by the fields of a text."""
        boost = kind.format.field_boost
        if kind.chain == "spelling":
            return self._spelling(values, boost)
        text = self.texts(values, texts)
        count = text.count
        if kind.chain == "stemmed":
            words, docs, positions, starts, ends = text.stemmed
            if isinstance(kind.format, Characters):
                return _grouped(docs, words, count, boost, _characters_encoder(
                    kind.format, positions, starts, ends))
            return _grouped(docs, words, count, boost,
                            _positions_encoder(kind.format, positions))
        if kind.chain == "exact":
            words, docs, positions = text.exact
            return _grouped(docs, words, count, boost, _positions_encoder(kind.format, positions))
        if kind.chain == "pairs":
            words, docs, positions = text.stemmed[:3]
        else:
            words, docs, positions = text.exact
        # A pair is two consecutive words of one text.
        at = np.flatnonzero(docs[:-1] == docs[1:])
        if kind.words is not None:
            frequent = self.table.frequent(kind.words)
            at = at[frequent[words[at]] & frequent[words[at + 1]]]
        keys = (words[at] << PAIR_SHIFT) | words[at + 1]
        docs = docs[at]
        if kind.chain == "pairs":
            order = np.lexsort((keys, docs))
            keys, docs = keys[order], docs[order]
            new = np.ones(len(keys), dtype=bool)
            new[1:] = (keys[1:] != keys[:-1]) | (docs[1:] != docs[:-1])
            keys, docs = keys[new], docs[new]
            ones = np.ones(len(keys), dtype=np.int64)
            return Batch(docs, keys, ones, np.full(len(keys), boost), b"",
                         np.zeros(len(keys), dtype=np.int64),
                         np.bincount(docs, minlength=count))
        return _grouped(docs, keys, count, boost,
                        _positions_encoder(kind.format, positions[at]), wide=True)

    def _spelling(self, values: Sequence[str], boost: float) -> Batch:
        # A document's words in the order they first occur, as Whoosh gives them.
        found = [_SPELLING.findall(value) for value in values]
        count = len(values)
        sizes = np.fromiter(map(len, found), dtype=np.int64, count=count)
        words = self.table.spelling_codes(list(chain.from_iterable(found)))
        docs = np.repeat(np.arange(count), sizes)
        kept = words >= 0  # tokens the chain drops
        keys = (docs[kept] << PAIR_SHIFT) | words[kept]
        unique, firsts, counts = np.unique(keys, return_index=True, return_counts=True)
        order = np.argsort(firsts)
        unique, counts = unique[order], counts[order]
        docs = unique >> PAIR_SHIFT
        return Batch(docs, unique & ((1 << PAIR_SHIFT) - 1), counts, counts * boost,
                     counts.astype(">u4").tobytes(),
                     np.full(len(counts), _PACK_FREQUENCY.size, dtype=np.int64),
                     np.bincount(docs, weights=counts, minlength=count).astype(np.int64))


# Encode each term's occurrences: given the permutation that groups them by document and
# term and where each group starts and ends in it, return the values joined and their sizes.
_Encoder = Callable[[np.ndarray, np.ndarray, np.ndarray], tuple[bytes, np.ndarray]]


def _characters_encoder(format_: Format, positions: np.ndarray, starts: np.ndarray,
                        ends: np.ndarray) -> _Encoder:
    if isinstance(format_, CompactCharacters):
        return lambda order, firsts, lasts: characters_values(
            positions[order], starts[order], ends[order], lasts - firsts)
    encode = format_.encode

    def encoded(order: np.ndarray, firsts: np.ndarray, lasts: np.ndarray
                ) -> tuple[bytes, np.ndarray]:
        triples = list(zip(positions[order].tolist(), starts[order].tolist(),
                           ends[order].tolist(), strict=True))
        values = [encode(triples[first:last]) for first, last in zip(
            firsts.tolist(), lasts.tolist(), strict=True)]
        return b"".join(values), np.fromiter(map(len, values), dtype=np.int64,
                                             count=len(values))

    return encoded


def _positions_encoder(format_: Format, positions: np.ndarray) -> _Encoder:
    if isinstance(format_, CompactPositions):
        return lambda order, firsts, lasts: position_values(positions[order], lasts - firsts)
    encode = format_.encode

    def encoded(order: np.ndarray, firsts: np.ndarray, lasts: np.ndarray
                ) -> tuple[bytes, np.ndarray]:
        ordered = positions[order].tolist()
        values = [encode(ordered[first:last]) for first, last in zip(
            firsts.tolist(), lasts.tolist(), strict=True)]
        return b"".join(values), np.fromiter(map(len, values), dtype=np.int64,
                                             count=len(values))

    return encoded


def _grouped(docs: np.ndarray, keys: np.ndarray, count: int, boost: float, encode: _Encoder,
             wide: bool = False) -> Batch:
    """Return the postings of the occurrences KEYS in documents DOCS (non-decreasing, COUNT
    documents), one per document and key. WIDE: keys may take 64 bits (pair keys)."""
    total = len(keys)
    if not total:
        return Batch(_EMPTY, _EMPTY, _EMPTY, np.zeros(0), b"", _EMPTY,
                     np.zeros(count, dtype=np.int64))
    # Stable: a term's occurrences stay in the order of their positions.
    bound = int(keys.max()) + 1
    if wide or count * bound >= 1 << 62:
        order = np.lexsort((keys, docs))
    else:
        order = stable_order(docs * bound + keys, count * bound)
    ordered, ordered_docs = keys[order], docs[order]
    new = np.empty(total, dtype=bool)
    new[0] = True
    np.not_equal(ordered[1:], ordered[:-1], out=new[1:])
    new[1:] |= ordered_docs[1:] != ordered_docs[:-1]
    firsts = np.flatnonzero(new)
    lasts = np.empty_like(firsts)
    lasts[:-1] = firsts[1:]
    lasts[-1] = total
    frequencies = lasts - firsts
    values, sizes = encode(order, firsts, lasts)
    return Batch(ordered_docs[firsts], ordered[firsts], frequencies, frequencies * boost,
                 values, sizes, np.bincount(docs, minlength=count))


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
        text = _Texts(table, [value])
        stemmed.append(np.unique(text.stemmed[0]))
        exact.append(np.unique(text.exact[0]))

    def found(numbers: list[np.ndarray], fraction: float) -> frozenset[str]:
        if not numbers:
            return frozenset()
        counts = np.bincount(np.concatenate(numbers), minlength=len(table.words))
        floor = max(2.0, fraction * seen)
        return frozenset(table.words[number] for number in np.flatnonzero(counts >= floor))

    return found(stemmed, share), found(exact, exact_share)
