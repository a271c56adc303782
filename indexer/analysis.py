"""French text analysis for the index: the analyzer chains and the filters they are made of.

Whoosh pickles the schema, analyzers included, into every index's TOC: the classes and the
stemming function below are found again by their import path when an index is opened, so they
must stay in this module under these names (renaming or moving one requires a full rebuild).

The chain, in order (why: ``docs/whoosh.md``, "French analysis"):
tokenizer (keeps ``l'armée``, ``aujourd'hui``, ``Jong-un`` whole) -> lowercase -> elision
(``l' d' j' m' n' s' t' c' qu' jusqu' lorsqu' puisqu' quoiqu'``) -> hyphenated compounds split into
consecutive positions -> accent folding -> French stop words (kept inside compounds, so ``Jong-un``
and ``Jong-il`` stay apart) -> Snowball French stemming (PyStemmer, identical to Whoosh's own).
Folding comes before stemming so that ``Corée`` and ``Coree`` get the same stem; the few
endings Snowball only knows accented (``-ée``, ``-ées``, ``-ière``) get their accent back for
the stemmer, so that ``déclarée`` still meets ``déclaré``.
"""

from __future__ import annotations

import re
import threading
from collections import Counter
from collections.abc import Iterable, Iterator

import Stemmer
from whoosh.analysis import (
    Analyzer,
    CompositeAnalyzer,
    Filter,
    LowercaseFilter,
    RegexTokenizer,
    StemFilter,
    StopFilter,
    Token,
)
from whoosh.lang import stopwords_for_language
from whoosh.support.charset import accent_map

APOSTROPHES = "'’ʼ"
HYPHENS = "-‐‑"
_APOSTROPHE_CLASS = f"[{re.escape(APOSTROPHES)}]"
_HYPHEN_CLASS = f"[{re.escape(HYPHENS)}]"
TOKEN_PATTERN = rf"\w+(?:(?:{_APOSTROPHE_CLASS}|{_HYPHEN_CLASS})\w+)*"
# Letters only, apostrophes inside: suggestions are words, never numbers or compounds.
SPELLING_PATTERN = rf"[^\W\d_]+(?:{_APOSTROPHE_CLASS}[^\W\d_]+)*"
ELIDED_ARTICLES = ("l", "d", "j", "m", "n", "s", "t", "c", "qu", "jusqu", "lorsqu", "puisqu",
                   "quoiqu")

_ELISION = re.compile(rf"^(?:{'|'.join(ELIDED_ARTICLES)}){_APOSTROPHE_CLASS}")
_APOSTROPHE_TO_STRAIGHT = str.maketrans({"’": "'", "ʼ": "'"})
_COMPOUND_PART = re.compile(rf"[^{re.escape(HYPHENS)}]+")
_FOLD = {code: (letters.upper() if chr(code).isupper() else letters)
         for code, letters in {**accent_map, ord("œ"): "oe", ord("Œ"): "OE", ord("æ"): "ae",
                               ord("Æ"): "AE"}.items()}


def fold_accents(text: str) -> str:
    """Return TEXT with accents and ligatures folded to ASCII, case kept (``Cœur`` -> ``Coeur``)."""
    return text if text.isascii() else text.translate(_FOLD)


def _french_stop_words() -> frozenset[str]:
    # Whoosh's French list lacks common forms; the folded forms are added because the stop
    # filter runs after accent folding.
    words = set(stopwords_for_language("fr")) | {
        "les", "ils", "elles", "cette", "cet", "ces", "aux", "leurs", "nos", "dont", "ni",
        "sans", "sous", "chez", "vers", "entre", "lors", "très", "tout", "tous", "toute",
        "toutes", "cela", "ceci", "celui", "celle", "ceux", "celles", "lesquels", "lesquelles",
        "laquelle", "lequel", "quel", "quelle", "quels", "quelles", "si", "comme", "donc",
        "puis", "y", "là", "où",
    }
    return frozenset(words | {fold_accents(word) for word in words})


FRENCH_STOP_WORDS: frozenset[str] = _french_stop_words()

_stemmers = threading.local()
_stems: dict[str, str] = {}
_STEM_CACHE_LIMIT = 300_000
# Snowball French recognises these endings only with their accents; once folded, the feminine
# participle `declaree` would keep a stem (`declare`) apart from `declare`/`declar(é)`.
# A folded word ending so was always accented (armée, idée, première), so the accent is put back
# for the stemmer and the stem folded again.
_REACCENTED_ENDINGS = (("ees", "ées"), ("ee", "ée"), ("ieres", "ières"), ("iere", "ière"))


def snowball_french(word: str) -> str:
    """Return the Snowball French stem of WORD as is (PyStemmer; one stemmer per thread)."""
    stemmer = getattr(_stemmers, "french", None)
    if stemmer is None:
        # PyStemmer objects keep internal state: never share one between threads.
        stemmer = _stemmers.french = Stemmer.Stemmer("french")
    return str(stemmer.stemWord(word))


def stem_french(word: str) -> str:
    """Return the folded stem of a folded word: Snowball French with accented endings restored."""
    stem = _stems.get(word)
    if stem is None:
        spelled = word
        for folded, accented in _REACCENTED_ENDINGS:
            if word.endswith(folded) and len(word) > len(folded) + 1:
                spelled = word[: -len(folded)] + accented
                break
        stem = fold_accents(snowball_french(spelled))
        if len(_stems) >= _STEM_CACHE_LIMIT:
            _stems.clear()
        _stems[word] = stem
    return stem


class ElisionFilter(Filter):  # type: ignore[misc]  # Whoosh has no type hints
    """Strip an elided article (``l'``, ``qu'``, ``jusqu’``…) and straighten inner apostrophes."""

    def __call__(self, tokens: Iterator[Token]) -> Iterator[Token]:
        for t in tokens:
            text = t.text
            if "'" in text or "’" in text or "ʼ" in text:
                match = _ELISION.match(text)
                if match:
                    cut = match.end()
                    text = text[cut:]
                    if t.chars:
                        t.startchar += cut
                t.text = text.translate(_APOSTROPHE_TO_STRAIGHT)
            yield t

    def __eq__(self, other: object) -> bool:
        return other.__class__ is self.__class__

    def __hash__(self) -> int:
        return hash(self.__class__.__name__)


class CompoundSplitFilter(Filter):  # type: ignore[misc]  # Whoosh has no type hints
    """Split ``nord-coréens`` into ``nord``, ``coréens`` at consecutive positions.

    Parts are flagged ``in_compound`` so that the stop filter keeps ``un`` in ``Jong-un``.
    Their character offsets point at each part in the original text, for highlighting.
    """

    def __call__(self, tokens: Iterator[Token]) -> Iterator[Token]:
        shift = 0
        for t in tokens:
            text = t.text
            if "-" not in text and "‐" not in text and "‑" not in text:
                t.in_compound = False
                if shift and t.positions:
                    t.pos += shift
                yield t
                continue
            base = t.startchar if t.chars else 0
            end = t.endchar if t.chars else 0
            first_pos = t.pos + shift if t.positions else 0
            parts = list(_COMPOUND_PART.finditer(text))
            for i, part in enumerate(parts):
                t.text = part.group()
                t.in_compound = True
                if t.chars:
                    t.startchar = min(base + part.start(), end)
                    t.endchar = min(base + part.end(), end)
                if t.positions:
                    t.pos = first_pos + i
                yield t
            shift += len(parts) - 1

    def __eq__(self, other: object) -> bool:
        return other.__class__ is self.__class__

    def __hash__(self) -> int:
        return hash(self.__class__.__name__)


class AccentFoldFilter(Filter):  # type: ignore[misc]  # Whoosh has no type hints
    """Fold accents and ligatures (``armée`` -> ``armee``, ``cœur`` -> ``coeur``)."""

    def __call__(self, tokens: Iterator[Token]) -> Iterator[Token]:
        for t in tokens:
            text = t.text
            if not text.isascii():
                t.text = text.translate(_FOLD)
            yield t

    def __eq__(self, other: object) -> bool:
        return other.__class__ is self.__class__

    def __hash__(self) -> int:
        return hash(self.__class__.__name__)


class FrenchStopFilter(Filter):  # type: ignore[misc]  # Whoosh has no type hints
    """Drop French stop words, except inside compounds; renumber positions to leave no gaps."""

    def __init__(self, stoplist: frozenset[str] = FRENCH_STOP_WORDS) -> None:
        self.stops = frozenset(stoplist)

    def __call__(self, tokens: Iterator[Token]) -> Iterator[Token]:
        stops = self.stops
        removed = 0
        for t in tokens:
            if t.text in stops and not getattr(t, "in_compound", False):
                if t.removestops:
                    removed += 1
                    continue
                t.stopped = True
                yield t
                continue
            t.stopped = False
            if removed and t.positions:
                t.pos -= removed
            yield t

    def __eq__(self, other: object) -> bool:
        return isinstance(other, FrenchStopFilter) and other.stops == self.stops

    def __hash__(self) -> int:
        return hash(self.stops)


_remembered = threading.local()
# The same for the exact-form chain, read by the exact word-pair fields.
_remembered_exact = threading.local()


class RememberingAnalyzer(CompositeAnalyzer):  # type: ignore[misc]  # Whoosh has no type hints
    """A chain that keeps the words (text, position) of the last text it indexed, per thread.

    The word-pair field of the same text reads them back instead of analysing it again: Whoosh
    indexes a document's fields in name order, so ``body`` comes before ``body_pairs`` (and
    ``body_exact`` between them leaves the remembered words alone).
    """

    def __call__(self, value: str, no_morph: bool = False, **kwargs: object) -> Iterator[Token]:
        tokens: Iterator[Token] = super().__call__(value, no_morph=no_morph, **kwargs)
        if kwargs.get("mode") != "index" or not kwargs.get("positions"):
            return tokens
        return _remembering(value, tokens)


# Words analysed once are kept, up to this many (then the cache starts again).
_WORD_CACHE_LIMIT = 500_000
_TOKEN = re.compile(TOKEN_PATTERN)


def _remembering(value: str, tokens: Iterator[Token]) -> Iterator[Token]:
    words: list[tuple[str, int]] = []
    add = words.append
    for t in tokens:
        if not t.stopped:
            add((t.text, t.pos))
        yield t
    # Only a text analysed to its end is remembered.
    _remembered.value = value
    _remembered.words = words


def _remembering_exact(value: str, tokens: Iterator[Token]) -> Iterator[Token]:
    words: list[tuple[str, int]] = []
    add = words.append
    for t in tokens:
        add((t.text, t.pos))
        yield t
    _remembered_exact.value = value
    _remembered_exact.words = words


PAIR_SEPARATOR = " "


def word_pair(first: str, second: str) -> str:
    """Return the term of the word-pair field for two analysed words that follow each other."""
    return f"{first}{PAIR_SEPARATOR}{second}"


class WordPairAnalyzer(Analyzer):  # type: ignore[misc]  # Whoosh has no type hints
    """Every two frequent words at consecutive positions of the French analysis, as one term.

    ``"Kim Jong-un"`` gives ``kim jong`` and ``jong un``: a two-word phrase is then one posting
    list instead of the positions of every document holding both words. Positions follow the
    French chain (stop words removed and renumbered, compounds split), so two words make a pair
    exactly when Whoosh's phrase query of the two would match them.

    Only pairs of two ``words`` (the frequent ones, None for all) are indexed: a phrase with a
    rarer word is quick to check by positions, and pairing every word would make the index
    build three times slower (most pairs occur once, and Whoosh pays per term).
    """

    def __init__(self, source: Analyzer, words: frozenset[str] | None = None) -> None:
        self.source = source
        self.words = words

    def pairs(self, first: str, second: str) -> bool:
        """True when the pair of these two analysed words is indexed."""
        words = self.words
        return words is None or (first in words and second in words)

    def __call__(self, value: str, positions: bool = False, chars: bool = False,
                 keeporiginal: bool = False, removestops: bool = True, start_pos: int = 0,
                 start_char: int = 0, mode: str = "", **kwargs: object) -> Iterator[Token]:
        token = Token(positions=False, chars=False, removestops=removestops, mode=mode)
        token.boost = 1.0
        token.stopped = False
        for pair in self._pair_terms(value, mode):
            token.text = pair
            yield token

    def _pair_terms(self, value: str, mode: str) -> Iterator[str]:
        for pair, _ in self._placed_pairs(value, mode):
            yield pair

    def _placed_pairs(self, value: str, mode: str) -> Iterator[tuple[str, int]]:
        """Yield each indexed pair of VALUE with the position of its first word."""
        memory = self._memory()
        remembered = getattr(memory, "value", None)
        if remembered is not None and (remembered is value or remembered == value):
            words = memory.words
        else:
            words = [(t.text, t.pos) for t in self.source(value, positions=True, mode=mode)
                     if not t.stopped]
        frequent = self.words
        for (first, at), (second, next_at) in zip(words, words[1:], strict=False):
            if next_at == at + 1 and (frequent is None or (first in frequent
                                                           and second in frequent)):
                yield word_pair(first, second), at

    @staticmethod
    def _memory() -> threading.local:
        """Where the source chain left the words of the text it analysed last."""
        return _remembered


    def __eq__(self, other: object) -> bool:
        return (isinstance(other, WordPairAnalyzer) and other.source == self.source
                and other.words == self.words)

    def __hash__(self) -> int:
        return hash(self.__class__.__name__)


class ExactWordPairAnalyzer(WordPairAnalyzer):
    """Every two frequent exact-form words that follow each other, as one term, with its place.

    The pairs of the exact-form fields, small words included (``de la``, ``la republique``): a
    quotation of common words is an intersection of pair posting lists, and its sequence is
    checked on the positions of a few pairs (each at the position of its first word), far
    fewer than those of the common words themselves. The words come from the exact chain
    (``ExactAnalyzer`` remembers them, and ``indexer.text_postings`` shares one split of the
    text between both fields: ``body_exact`` is indexed just
    before ``body_exact_pairs``).
    """

    @staticmethod
    def _memory() -> threading.local:
        return _remembered_exact

    def __call__(self, value: str, positions: bool = False, chars: bool = False,
                 keeporiginal: bool = False, removestops: bool = True, start_pos: int = 0,
                 start_char: int = 0, mode: str = "", **kwargs: object) -> Iterator[Token]:
        token = Token(positions=positions, chars=False, removestops=removestops, mode=mode)
        token.boost = 1.0
        token.stopped = False
        for pair, at in self._placed_pairs(value, mode):
            token.text = pair
            if positions:
                token.pos = start_pos + at
            yield token


class ExactElisionFilter(Filter):  # type: ignore[misc]  # Whoosh has no type hints
    """Make an elided article its own word: ``l'armée`` -> ``l'``, ``armée`` (next position).

    The exact-form fields keep every word as written, articles included, so ``"l'armée"``
    matches ``l'armée`` and not ``d'armée``, while ``"armée"`` still matches both.
    """

    def __call__(self, tokens: Iterator[Token]) -> Iterator[Token]:
        shift = 0
        for t in tokens:
            if shift and t.positions:
                t.pos += shift
            text = t.text
            if "'" in text or "’" in text or "ʼ" in text:
                match = _ELISION.match(text)
                if match and match.end() < len(text):
                    cut = match.end()
                    rest = text[cut:].translate(_APOSTROPHE_TO_STRAIGHT)
                    # Later filters change the token in place: set everything again.
                    pos = t.pos if t.positions else 0
                    t.text = text[:cut - 1] + "'"
                    yield t
                    t.text = rest
                    if t.positions:
                        t.pos = pos + 1
                    shift += 1
                    yield t
                    continue
                t.text = text.translate(_APOSTROPHE_TO_STRAIGHT)
            yield t

    def __eq__(self, other: object) -> bool:
        return other.__class__ is self.__class__

    def __hash__(self) -> int:
        return hash(self.__class__.__name__)


class ExactAnalyzer(CompositeAnalyzer):  # type: ignore[misc]  # Whoosh has no type hints
    """The chain of the exact-form fields: every word as written, only case and accents folded.

    No stemming and no stop words: ``gouvernement`` and ``gouverné`` stay apart, and ``du``
    counts in ``"porte-parole du gouvernement"``.
    """

    def __call__(self, value: str, **kwargs: object) -> Iterator[Token]:
        tokens: Iterator[Token] = super().__call__(value, **kwargs)
        if kwargs.get("mode") != "index" or not kwargs.get("positions"):
            return tokens
        return _remembering_exact(value, tokens)


_exact_parts: dict[str, tuple[str, ...]] = {}


def exact_words(raw: str) -> tuple[str, ...]:
    """Return the exact-form words of one token RAW (as ``exact_analyzer()`` makes them)."""
    parts = _exact_parts.get(raw)
    if parts is None:
        if len(_exact_parts) >= _WORD_CACHE_LIMIT:
            _exact_parts.clear()
        parts = _exact_parts[raw] = tuple(split_exact_words(raw))
    return parts


def split_exact_words(raw: str) -> list[str]:
    """``exact_words`` without its cache (for callers that keep their own)."""
    text = raw.lower()
    words: list[str] = []
    if "'" in text or "’" in text or "ʼ" in text:
        match = _ELISION.match(text)
        if match and match.end() < len(text):
            words.append(text[:match.end() - 1] + "'")
            text = text[match.end():]
        text = text.translate(_APOSTROPHE_TO_STRAIGHT)
    if "-" not in text and "‐" not in text and "‑" not in text:
        words.append(text)
    else:
        words.extend(part.group() for part in _COMPOUND_PART.finditer(text))
    return [word if word.isascii() else word.translate(_FOLD) for word in words]


def exact_analyzer() -> Analyzer:
    """Return the analyzer of the exact-form fields: words as written, case and accents folded."""
    return ExactAnalyzer(RegexTokenizer(TOKEN_PATTERN), LowercaseFilter(), ExactElisionFilter(),
                         CompoundSplitFilter(), AccentFoldFilter())


def french_analyzer(stem: bool = True) -> Analyzer:
    """Return the French analyzer of the text fields (unstemmed for author names)."""
    filters = [LowercaseFilter(), ElisionFilter(), CompoundSplitFilter(), AccentFoldFilter(),
               FrenchStopFilter()]
    if stem:
        filters.append(StemFilter(stemfn=stem_french, cachesize=None))
    return RememberingAnalyzer(RegexTokenizer(TOKEN_PATTERN), *filters)


def word_pair_analyzer(words: frozenset[str] | None = None) -> WordPairAnalyzer:
    """Return the analyzer of the word-pair fields: consecutive WORDS (stemmed), paired."""
    return WordPairAnalyzer(french_analyzer(), words)


def exact_word_pair_analyzer(words: frozenset[str] | None = None) -> ExactWordPairAnalyzer:
    """Return the analyzer of the exact word-pair fields: consecutive exact WORDS, paired."""
    return ExactWordPairAnalyzer(exact_analyzer(), words)


def frequent_words(texts: Iterable[str], share: float, exact: bool = False) -> frozenset[str]:
    """Return the analysed words found in at least SHARE of TEXTS (and in two of them).

    Stemmed words of the French chain, or with EXACT the words of the exact-form chain.
    """
    analyzer = french_analyzer()
    counts: Counter[str] = Counter()
    seen = 0
    for text in texts:
        seen += 1
        if exact:
            counts.update({word for match in _TOKEN.finditer(text)
                           for word in exact_words(match.group())})
        else:
            counts.update({t.text for t in analyzer(text)})
    floor = max(2.0, share * seen)
    return frozenset(word for word, count in counts.items() if count >= floor)


def spelling_analyzer() -> Analyzer:
    """Return the analyzer of the spelling field: whole words of 3+ letters, accents kept."""
    return (RegexTokenizer(SPELLING_PATTERN) | LowercaseFilter() | ElisionFilter()
            | StopFilter(stoplist=FRENCH_STOP_WORDS, minsize=3, renumber=False))
