"""The reader's query language: French (and English) operators -> a Whoosh query, never an error.

Words are ANDed; ``OU``/``OR``, ``ET``/``AND``, ``SAUF``/``NOT``/``-mot``, ``+mot``,
``"expression exacte"`` (also «…» and “…”: the words as written, only case and accents
optional, searched in the exact-form fields), ``"crise énergie"~5`` (the words within 5
positions of each other, any order, exact forms), ``électi*`` (words starting so, at least 3
letters), ``titre:`` and ``auteur:``, parentheses. Unquoted words are stemmed, and their form as
typed adds to the score. There are no other wildcards, ranges, fuzzy terms or dates in the
syntax: they cost seconds on a large index, and dates are filters of the search form. Whatever
is typed, ``parse_query`` returns a ``ParsedQuery``; a query it had to change or cannot use
carries a French ``message``.
"""

from __future__ import annotations

import copy
import re
import unicodedata
from dataclasses import dataclass
from typing import Any

from whoosh import query as wq
from whoosh.fields import Schema
from whoosh.qparser import (
    AndGroup,
    BoostPlugin,
    EveryPlugin,
    MultifieldParser,
    OperatorsPlugin,
    PhrasePlugin,
    PlusMinusPlugin,
    RangePlugin,
    SingleQuotePlugin,
    TaggingPlugin,
    WildcardPlugin,
)
from whoosh.qparser import syntax as qsyntax

from indexer.analysis import ELIDED_ARTICLES, fold_accents
from indexer.results import MAX_QUERY_CHARS
from indexer.schema import EXACT_FIELDS

DEFAULT_FIELDS = ("title", "body")

# What a reader may type before a colon, and the index field it means.
FIELD_ALIASES: dict[str, str] = {
    "titre": "title",
    "title": "title",
    "auteur": "author",
    "author": "author",
    "texte": "body",
    "corps": "body",
    "body": "body",
}

_OPERATORS = {
    "And": r"(?<=\s)(?:AND|ET)(?=\s)",
    "Or": r"(?<=\s)(?:OR|OU)(?=\s)",
    "AndNot": r"(?<=\s)ANDNOT(?=\s)",
    "AndMaybe": None,
    # SAUF is a prefix NOT: with words ANDed, "a SAUF b" is "a AND NOT b", and "SAUF b" works too.
    "Not": r"(?:^|(?<=[\s(]))(?:NOT|SAUF)(?=\s)",
    "Require": None,
}
# + and - only count at the start of a word, so "Jong-un" and "nord-coréens" stay words.
_PLUS = re.compile(r"(?:^|(?<=[\s(]))\+(?=[^\s+-])")
_NEVER = r"(?!)"
_MINUS = r"(?:^|(?<=[\s(]))-(?=[^\s+-])"

_QUOTES = str.maketrans({"«": '"', "»": '"', "“": '"', "”": '"', "„": '"', "‟": '"'})
_FIELD_PREFIX = re.compile(r"(\w+)\s*:\s*(?=\S)")
# Syntax of features we do not offer; inside words the analyzer drops these characters anyway.
# Kept: ``~N`` right after a closing quote (proximity) and ``*`` ending a word (prefix).
_UNSUPPORTED = re.compile(r'(?<!")~\d*|\^[\d.]*|~(?!\d)|(?<!\w)\*|\*(?![\s)]|$)|[?\[\]{}<>=\\]')
# A prefix: letters before the star, an elided article in front dropped (``l'électi*``).
_PREFIX = re.compile(r"(?<![\w'’-])(?:(?:" + "|".join(ELIDED_ARTICLES)
                     + r")['’])?([^\W_][\w'’-]*)\*", re.IGNORECASE)
MIN_PREFIX_LETTERS = 3
MAX_PREFIX_TERMS = 500
MAX_PROXIMITY = 50
_COMPOUND_MARK = "\ue001"  # quotes a hyphenated word typed unquoted: a stemmed phrase
_SPACES = re.compile(r"\s+")
_PLAIN_WORD = re.compile(r"[^\W_]+(?:['’][^\W_]+)?")
_OPERATOR_WORDS = frozenset({"AND", "ET", "OR", "OU", "ANDNOT", "NOT", "SAUF"})
_COMPOUND = re.compile(r"(?<![\w'’-])(\w+(?:[-‐‑]\w+)+)(?![\w'’*-])")
_FIELD_MARK = "\ue000"  # stands for a kept field colon while stray colons are removed


@dataclass(frozen=True)
class ParsedQuery:
    """A reader's query, cleaned and parsed; ``query`` is None when nothing searchable remains."""

    text: str
    query: wq.Query | None
    message: str | None = None

    @property
    def is_empty(self) -> bool:
        """True when the reader typed nothing at all (a listing by filters only)."""
        return not self.text


# Letters and digits in words separated by single spaces: what most readers type, and what
# every step of ``clean_query_text`` leaves as it is.
_PLAIN_TEXT = re.compile(r"[^\W_]+(?: [^\W_]+)*")


def clean_query_text(text: str) -> tuple[str, list[str]]:
    """Return TEXT made safe for the parser, and the French notes on what was changed."""
    notes: list[str] = []
    text = unicodedata.normalize("NFC", str(text))
    if len(text) <= MAX_QUERY_CHARS and _PLAIN_TEXT.fullmatch(text):
        return text, notes
    text = "".join(" " if unicodedata.category(ch)[0] in "CZ" else ch for ch in text)
    text = _SPACES.sub(" ", text).strip()
    if len(text) > MAX_QUERY_CHARS:
        cut = text[:MAX_QUERY_CHARS]
        text = cut.rsplit(" ", 1)[0] if " " in cut else cut
        notes.append(f"Votre recherche a été raccourcie à {MAX_QUERY_CHARS} caractères.")
    text = text.translate(_QUOTES)
    # Words are ANDed already, so "+" changes nothing (Whoosh would make the other words optional).
    text = _PLUS.sub("", text)
    text = _UNSUPPORTED.sub(" ", text)
    text = _fix_fields(text)
    text = _balance_quotes(text)
    text = _quote_compounds(text)
    text = _balance_parentheses(text)
    return _SPACES.sub(" ", text).strip(), notes


def _fix_fields(text: str) -> str:
    """Map ``titre:``/``auteur:`` to index fields; any other ``name:`` becomes plain text."""

    def replace(match: re.Match[str]) -> str:
        field = FIELD_ALIASES.get(match.group(1).casefold())
        return f"{field}{_FIELD_MARK}" if field else f"{match.group(1)} "

    text = _FIELD_PREFIX.sub(replace, text)
    # A colon left over (":", "a:b:c") is punctuation; a field followed by nothing is dropped.
    text = text.replace(":", " ")
    text = re.sub(rf"\w+{_FIELD_MARK}(?=\s|$|\))", " ", text)
    return text.replace(_FIELD_MARK, ":")


def _balance_quotes(text: str) -> str:
    if text.count('"') % 2:
        head, _, tail = text.rpartition('"')
        text = f"{head} {tail}"
    return re.sub(r'"\s*"', " ", text)


def _quote_compounds(text: str) -> str:
    """Search ``nord-coréens`` as the phrase it is, so ``sud-coréens … nord`` does not match.

    The phrase is marked apart from the reader's quotes: a compound typed unquoted stays
    stemmed (``nord-coréen`` finds ``nord-coréens``), a quoted one is exact.
    """
    pieces = text.split('"')
    for i in range(0, len(pieces), 2):
        pieces[i] = _COMPOUND.sub(rf"{_COMPOUND_MARK}\1{_COMPOUND_MARK}", pieces[i])
    return '"'.join(pieces)


def _prefixes(text: str) -> tuple[str, str | None]:
    """Return TEXT with prefixes tidied (``l'électi*`` -> ``électi*``), or a French refusal."""
    pieces = text.split('"')
    for i in range(0, len(pieces), 2):
        for match in _PREFIX.finditer(pieces[i]):
            stem = match.group(1)
            if len(re.sub(r"[\W_]", "", stem)) < MIN_PREFIX_LETTERS or not re.fullmatch(
                    r"[^\W_]+", stem):
                return text, (
                    f"« {match.group(0)} » : la recherche par début de mot demande au moins "
                    f"{MIN_PREFIX_LETTERS} lettres avant l'étoile, sans apostrophe ni trait "
                    "d'union (par exemple électi*).")
        pieces[i] = _PREFIX.sub(r"\1*", pieces[i])
    return '"'.join(pieces), None


def _balance_parentheses(text: str) -> str:
    out: list[str] = []
    depth = 0
    in_phrase = False
    for ch in text:
        if ch == '"':
            in_phrase = not in_phrase
        elif not in_phrase and ch == "(":
            depth += 1
        elif not in_phrase and ch == ")":
            if depth == 0:
                out.append(" ")
                continue
            depth -= 1
        out.append(ch)
    return "".join(out) + ")" * depth


class ExactPhrase(wq.Phrase):  # type: ignore[misc]  # Whoosh has no type hints
    """A quoted phrase of an exact-form field; ``stemmed`` holds the same text, stemmed.

    Every document with the exact phrase also holds the stemmed phrase, whose word pairs are
    indexed: the match engine narrows by it before reading exact positions.
    """

    def __init__(self, fieldname: str, words: list[str], slop: int = 1, boost: float = 1.0,
                 char_ranges: list[Any] | None = None, stemmed: list[str] | None = None,
                 ) -> None:
        super().__init__(fieldname, words, slop=slop, boost=boost, char_ranges=char_ranges)
        self.stemmed = list(stemmed or [])

    def normalize(self) -> wq.Query:
        words = [w for w in self.words if w is not None]
        if not words:
            return wq.NullQuery
        if len(words) == 1:
            return wq.Term(self.fieldname, words[0], boost=self.boost)
        return self.__class__(self.fieldname, words, slop=self.slop, boost=self.boost,
                              char_ranges=self.char_ranges, stemmed=self.stemmed)


class Near(wq.Phrase):  # type: ignore[misc]  # Whoosh has no type hints
    """Words within ``slop`` positions of each other, in any order (``"crise énergie"~5``).

    The match engine evaluates it; Whoosh's own matcher (a fallback only) would require the
    words in order.
    """

    def normalize(self) -> wq.Query:
        words = [w for w in self.words if w is not None]
        if not words:
            return wq.NullQuery
        if len(words) == 1:
            return wq.Term(self.fieldname, words[0], boost=self.boost)
        return self.__class__(self.fieldname, words, slop=self.slop, boost=self.boost,
                              char_ranges=self.char_ranges)


class _ExactPhraseNode(qsyntax.TextNode):  # type: ignore[misc]
    """A reader's quoted text: a phrase (or proximity) over the exact-form fields."""

    def __init__(self, text: str, slop: int | None) -> None:
        super().__init__(text)
        self.slop = slop

    def apply(self, fn: Any) -> Any:
        return self

    def query(self, parser: Any) -> Any:
        stemmed_field: str = self.fieldname or parser.fieldname
        fieldname = EXACT_FIELDS.get(stemmed_field, stemmed_field)
        schema = parser.schema
        if fieldname not in schema:
            fieldname = stemmed_field
        words = [t.text for t in schema[fieldname].tokenize(self.text, mode="query")]
        if self.slop is not None:
            query: wq.Query = Near(fieldname, words, slop=min(self.slop, MAX_PROXIMITY),
                                   boost=self.boost)
        elif fieldname != stemmed_field:
            stemmed = [t.text for t in schema[stemmed_field].tokenize(self.text, mode="query")]
            query = ExactPhrase(fieldname, words, boost=self.boost, stemmed=stemmed)
        else:
            query = wq.Phrase(fieldname, words, boost=self.boost)
        return qsyntax.attach(query, self)


class _ExactPhrasePlugin(PhrasePlugin):  # type: ignore[misc]
    class _Tagger(PhrasePlugin.PhraseTagger):  # type: ignore[misc]
        def create(self, parser: Any, match: re.Match[str]) -> Any:
            slop = match.group("slop")
            return _ExactPhraseNode(match.group("text"), int(slop) if slop else None)

    def __init__(self) -> None:
        super().__init__('"(?P<text>[^"]*)"(~(?P<slop>[0-9]+))?')

    def taggers(self, parser: Any) -> Any:
        return [(self._Tagger(self.expr), 0)]


class _CompoundPlugin(PhrasePlugin):  # type: ignore[misc]
    """A hyphenated word typed unquoted: a phrase of the stemmed field."""

    def __init__(self) -> None:
        super().__init__(f"{_COMPOUND_MARK}(?P<text>[^{_COMPOUND_MARK}]*){_COMPOUND_MARK}"
                         "(?P<slop>)")


class _PrefixNode(qsyntax.TextNode):  # type: ignore[misc]
    """``électi*``: the words of the exact-form field starting with the letters typed."""

    def query(self, parser: Any) -> Any:
        stemmed_field: str = self.fieldname or parser.fieldname
        fieldname = EXACT_FIELDS.get(stemmed_field, stemmed_field)
        if fieldname not in parser.schema:
            fieldname = stemmed_field
        prefix = fold_accents(self.text.lower())
        return qsyntax.attach(wq.Prefix(fieldname, prefix, boost=self.boost), self)


class _PrefixPlugin(TaggingPlugin):  # type: ignore[misc]
    expr = r"(?P<text>[^\W_]+)\*(?=\s|$|\))"
    nodetype = _PrefixNode


def make_parser(schema: Schema) -> MultifieldParser:
    """Return the reader-facing parser over title and body (words ANDed, French operators)."""
    parser = MultifieldParser(list(DEFAULT_FIELDS), schema, group=AndGroup)
    for plugin in (WildcardPlugin, RangePlugin, EveryPlugin, SingleQuotePlugin, BoostPlugin):
        parser.remove_plugin_class(plugin)
    parser.remove_plugin_class(PhrasePlugin)
    parser.add_plugin(_ExactPhrasePlugin())
    parser.add_plugin(_CompoundPlugin())
    parser.add_plugin(_PrefixPlugin())
    parser.replace_plugin(OperatorsPlugin(**_OPERATORS))
    parser.add_plugin(PlusMinusPlugin(plusexpr=_NEVER, minusexpr=_MINUS))
    return parser


_NOTHING_LEFT = (
    "Votre recherche ne contient aucun mot utilisable (mots trop courants ou seulement de la "
    "ponctuation) : essayez d'autres mots."
)
_UNPARSABLE = "Votre recherche n'a pas pu être comprise telle quelle : essayez sans opérateurs."
_ONLY_EXCLUSIONS = (
    "Votre recherche n'exclut que des mots : ajoutez au moins un mot à chercher."
)


def parse_query(text: str, parser: MultifieldParser) -> ParsedQuery:
    """Parse what a reader typed; never raises, whatever the input."""
    try:
        cleaned, notes = clean_query_text(text)
    except Exception:  # noqa: BLE001 - the contract is "never an exception"
        return ParsedQuery("", None, _UNPARSABLE)
    if not cleaned:
        return ParsedQuery("", None, " ".join(notes) or None)
    cleaned, refusal = _prefixes(cleaned)
    if refusal is not None:
        return ParsedQuery(_shown(cleaned), None, " ".join([*notes, refusal]))
    try:
        query = _plain_words(cleaned, parser)
        if query is None:
            query = _prefer_typed_forms(parser.parse(cleaned), cleaned,
                                        parser.schema).normalize()
    except Exception:  # noqa: BLE001 - whatever Whoosh's parser does, the reader gets a message
        query = None
        notes.append(_UNPARSABLE)
    if query is not None:
        query = _without_nulls(query)
        if query is None:
            notes.append(_NOTHING_LEFT)
        elif _only_negative(query):
            query = None
            notes.append(_ONLY_EXCLUSIONS)
    return ParsedQuery(_shown(cleaned), query, " ".join(notes) or None)


def _shown(text: str) -> str:
    """The cleaned query as the reader may see it again (compound marks removed)."""
    return text.replace(_COMPOUND_MARK, "")


def exact_form(word: str, schema: Schema) -> str | None:
    """Return the exact-form term of one typed WORD (its elided article dropped), or None."""
    field = EXACT_FIELDS["body"]
    if field not in schema:
        return None
    forms = [t.text for t in schema[field].analyzer(word, mode="query")
             if not t.text.endswith("'")]
    return forms[0] if len(forms) == 1 else None


def _prefer_typed_forms(query: wq.Query, text: str, schema: Schema) -> wq.Query:
    """Add to each stemmed word of QUERY its exact form, so that form as typed scores higher.

    ``gouvernement`` still finds ``gouvernés`` (the stem), but an article with the word as
    typed gets the score of the exact-form field on top. Excluded words are left alone.
    """
    if isinstance(query, wq.Not):
        return query
    if isinstance(query, wq.Term):
        exact_field = EXACT_FIELDS.get(query.fieldname)
        start, end = getattr(query, "startchar", None), getattr(query, "endchar", None)
        if exact_field is None or exact_field not in schema or start is None or end is None:
            return query
        form = exact_form(text[start:end], schema)
        if form is None:
            return query
        return wq.Or([query, wq.Term(exact_field, form, boost=query.boost)])
    if isinstance(query, wq.AndNot):
        return wq.AndNot(_prefer_typed_forms(query.a, text, schema), query.b)
    if isinstance(query, wq.And | wq.Or):
        changed = copy.copy(query)
        changed.subqueries = [_prefer_typed_forms(sub, text, schema) for sub in query.subqueries]
        return changed
    return query


def earlier_query(query: wq.Query) -> wq.Query:
    """Return QUERY asked of the superseded versions' text (the ``earlier`` fields)."""
    from indexer.schema import EARLIER_FIELDS

    changed = copy.copy(query)
    name = getattr(query, "fieldname", None)
    if name in EARLIER_FIELDS:
        changed.fieldname = EARLIER_FIELDS[name]
    if isinstance(query, wq.compound.CompoundQuery):
        changed.subqueries = [earlier_query(sub) for sub in query.subqueries]
        if isinstance(query, wq.BinaryQuery):
            changed.a, changed.b = changed.subqueries
    elif isinstance(query, wq.Not):
        changed.query = earlier_query(query.query)
    return changed


def _plain_words(text: str, parser: MultifieldParser) -> wq.Query | None:
    """Build the query of plain words directly, as the parser would (it costs 1-2 ms more),
    already as ``normalize()`` leaves it (its walk of the tree costs a quarter of parsing).

    Returns None for anything but words separated by spaces, each giving at most one token.
    """
    words = text.split(" ")
    if not all(_PLAIN_WORD.fullmatch(word) and word not in _OPERATOR_WORDS for word in words):
        return None
    schema = parser.schema
    clauses: list[wq.Query] = []
    for word in words:
        by_field = []
        form = exact_form(word, schema)
        analysed: dict[int, list[str]] = {}  # title and body share their analyzer: once
        for field in DEFAULT_FIELDS:
            analyzer = schema[field].analyzer
            tokens = analysed.get(id(analyzer))
            if tokens is None:
                tokens = analysed[id(analyzer)] = [
                    t.text for t in analyzer(word, mode="query")]
            if len(tokens) > 1:
                return None
            if tokens:
                # Flat, as normalize() would make it (merging nested ORs deep-copies each term)
                by_field.append(wq.Term(field, tokens[0]))
                if form is not None:
                    by_field.append(wq.Term(EXACT_FIELDS[field], form))
        # As normalize() leaves them: a part once (a word typed twice), an OR of one its term.
        by_field = [term for i, term in enumerate(by_field) if term not in by_field[:i]]
        if by_field:
            clause = by_field[0] if len(by_field) == 1 else wq.Or(by_field)
            if clause not in clauses:
                clauses.append(clause)
    if not clauses:
        return wq.NullQuery
    return clauses[0] if len(clauses) == 1 else wq.And(clauses)


def _without_nulls(query: wq.Query) -> wq.Query | None:
    """Return QUERY, or None when it can match nothing (stop words only, empty groups)."""
    if query is wq.NullQuery or isinstance(query, wq.NullQuery.__class__):
        return None
    if isinstance(query, wq.Phrase) and not query.words:
        return None
    if isinstance(query, wq.compound.CompoundQuery) and not query.subqueries:
        return None
    return query


def _only_negative(query: wq.Query) -> bool:
    """True for a query that only excludes (``-corée``), which would list the whole archive."""
    if isinstance(query, wq.Not):
        return True
    if isinstance(query, wq.And):
        return all(_only_negative(sub) for sub in query.subqueries)
    if isinstance(query, wq.Or):
        return any(_only_negative(sub) for sub in query.subqueries)
    return False
