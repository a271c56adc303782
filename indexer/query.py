"""The reader's query language: French (and English) operators -> a Whoosh query, never an error.

Words are ANDed; ``OU``/``OR``, ``ET``/``AND``, ``SAUF``/``NOT``/``-mot``, ``+mot``,
``"phrase exacte"`` (also «…» and “…”), ``titre:`` and ``auteur:``, parentheses. There are no
wildcards, ranges, fuzzy terms or dates in the syntax: they cost seconds on a large index, and
dates are filters of the search form. Whatever is typed, ``parse_query`` returns a
``ParsedQuery``; a query it had to change or cannot use carries a French ``message``.
"""

from __future__ import annotations

import re
import unicodedata
from dataclasses import dataclass

from whoosh import query as wq
from whoosh.fields import Schema
from whoosh.qparser import (
    AndGroup,
    BoostPlugin,
    EveryPlugin,
    MultifieldParser,
    OperatorsPlugin,
    PlusMinusPlugin,
    RangePlugin,
    SingleQuotePlugin,
    WildcardPlugin,
)

from indexer.results import MAX_QUERY_CHARS

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
_UNSUPPORTED = re.compile(r"[\^~][\d.]*|[*?\[\]{}<>=\\]")
_SPACES = re.compile(r"\s+")
_PLAIN_WORD = re.compile(r"[^\W_]+(?:['’][^\W_]+)?")
_OPERATOR_WORDS = frozenset({"AND", "ET", "OR", "OU", "ANDNOT", "NOT", "SAUF"})
_COMPOUND = re.compile(r"(?<![\w'’-])(\w+(?:[-‐‑]\w+)+)(?![\w'’-])")
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


def clean_query_text(text: str) -> tuple[str, list[str]]:
    """Return TEXT made safe for the parser, and the French notes on what was changed."""
    notes: list[str] = []
    text = unicodedata.normalize("NFC", str(text))
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
    """Search ``nord-coréens`` as the phrase it is, so ``sud-coréens … nord`` does not match."""
    pieces = text.split('"')
    for i in range(0, len(pieces), 2):
        pieces[i] = _COMPOUND.sub(r'"\1"', pieces[i])
    return '"'.join(pieces)


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


def make_parser(schema: Schema) -> MultifieldParser:
    """Return the reader-facing parser over title and body (words ANDed, French operators)."""
    parser = MultifieldParser(list(DEFAULT_FIELDS), schema, group=AndGroup)
    for plugin in (WildcardPlugin, RangePlugin, EveryPlugin, SingleQuotePlugin, BoostPlugin):
        parser.remove_plugin_class(plugin)
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
    try:
        query = _plain_words(cleaned, parser)
        if query is None:
            query = parser.parse(cleaned)
        query = query.normalize()
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
    return ParsedQuery(cleaned, query, " ".join(notes) or None)


def _plain_words(text: str, parser: MultifieldParser) -> wq.Query | None:
    """Build the query of plain words directly, as the parser would (it costs 1-2 ms more).

    Returns None for anything but words separated by spaces, each giving at most one token.
    """
    words = text.split(" ")
    if not all(_PLAIN_WORD.fullmatch(word) and word not in _OPERATOR_WORDS for word in words):
        return None
    schema = parser.schema
    clauses: list[wq.Query] = []
    for word in words:
        by_field = []
        for field in DEFAULT_FIELDS:
            tokens = [t.text for t in schema[field].analyzer(word, mode="query")]
            if len(tokens) > 1:
                return None
            if tokens:
                by_field.append(wq.Term(field, tokens[0]))
        if by_field:
            clauses.append(wq.Or(by_field))
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
