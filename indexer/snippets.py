"""HTML-safe snippets and titles with the matched words wrapped in ``<mark>``.

Bodies are not stored in the index: their text comes from SQLite, and the places of the matched
words come from the character offsets the index keeps (``chars=True``), so a body is never
re-analysed (24 ms -> 3 ms for ten hits, research/perf-baseline.md). When the offsets do not fit
the text (the article changed after this index generation), the body is re-analysed instead.
Everything the platform wrote is HTML-escaped; only our ``<mark>`` tags are markup.
"""

from __future__ import annotations

import html
from collections.abc import Iterable, Mapping, Sequence

from whoosh.analysis import Analyzer, Token
from whoosh.highlight import (
    ContextFragmenter,
    Fragment,
    HtmlFormatter,
    PinpointFragmenter,
    WholeFragmenter,
    highlight,
)
from whoosh.searching import Searcher

SNIPPET_CHARS = 200
_SURROUND = 60
_MAX_FRAGMENTS = 2
_MAX_TOKENS = 200
_ELLIPSIS = "…"


class MarkFormatter(HtmlFormatter):  # type: ignore[misc]
    """Whoosh's HTML formatter with a bare ``<mark>`` tag around each matched word."""

    template = "<%(tag)s>%(t)s</%(tag)s>"

    def __init__(self) -> None:
        super().__init__(tagname="mark", between=f" {_ELLIPSIS} ")


def plain_snippet(text: str, limit: int = SNIPPET_CHARS) -> str:
    """Return the start of TEXT, escaped, cut at a word boundary (no word matched)."""
    text = " ".join(text.split())
    if len(text) <= limit:
        return html.escape(text, quote=False)
    cut = text[:limit]
    if " " in cut[limit // 2:]:
        cut = cut.rsplit(" ", 1)[0]
    return html.escape(cut, quote=False) + " " + _ELLIPSIS


class Highlighter:
    """Builds the snippets of one page of hits for one index generation."""

    def __init__(self, analyzer: Analyzer) -> None:
        self.analyzer = analyzer

    def title_html(self, title: str, terms: Iterable[str]) -> str:
        """Return TITLE escaped, with the words of TERMS (index forms) marked."""
        termset = frozenset(terms)
        if not termset or not title:
            return html.escape(title, quote=False)
        marked = highlight(title, termset, self.analyzer, WholeFragmenter(), MarkFormatter(),
                           top=1)
        return marked or html.escape(title, quote=False)

    def body_snippets(self, searcher: Searcher, field: str, terms: Iterable[str],
                      bodies: Mapping[int, str]) -> dict[int, str]:
        """Return a snippet per document number of BODIES, with the words of TERMS marked."""
        termset = sorted(set(terms))
        offsets = _offsets(searcher, field, termset, sorted(bodies)) if termset else {}
        snippets: dict[int, str] = {}
        for docnum, body in bodies.items():
            tokens = offsets.get(docnum, [])
            snippet = None
            if tokens and self._fits(body, tokens):
                snippet = _format(body, PinpointFragmenter(
                    maxchars=SNIPPET_CHARS, surround=_SURROUND, autotrim=True
                ).fragment_matches(body, tokens))
            elif termset:
                snippet = self._reanalysed(body, termset)
            snippets[docnum] = snippet or plain_snippet(body)
        return snippets

    def _fits(self, body: str, tokens: Sequence[Token]) -> bool:
        """True when the index's offsets still point at the matched words in BODY."""
        for token in tokens[:3]:
            if token.endchar > len(body):
                return False
            found = [t.text for t in self.analyzer(body[token.startchar:token.endchar])]
            if token.text not in found:
                return False
        return True

    def _reanalysed(self, body: str, terms: Sequence[str]) -> str:
        fragmenter = ContextFragmenter(maxchars=SNIPPET_CHARS, surround=_SURROUND)
        return str(highlight(body, frozenset(terms), self.analyzer, fragmenter,
                             MarkFormatter(), top=_MAX_FRAGMENTS))


def _offsets(searcher: Searcher, field: str, terms: Sequence[str],
             docnums: Sequence[int]) -> dict[int, list[Token]]:
    """Return the matched words of each document, as tokens carrying character offsets."""
    reader = searcher.reader()
    fieldobj = searcher.schema[field]
    found: dict[int, list[Token]] = {}
    for text in terms:
        btext = fieldobj.to_bytes(text)
        if (field, btext) not in reader:
            continue
        matcher = searcher.postings(field, btext)
        for docnum in docnums:
            if not matcher.is_active():
                break
            if matcher.id() < docnum:
                matcher.skip_to(docnum)
                if not matcher.is_active():
                    break
            if matcher.id() != docnum:
                continue
            places = found.setdefault(docnum, [])
            for pos, start, end in matcher.value_as("characters")[:_MAX_TOKENS]:
                places.append(Token(text=text, pos=pos, startchar=start, endchar=end,
                                    matched=True))
    for places in found.values():
        places.sort(key=lambda t: t.startchar)
    return found


def _format(text: str, fragments: Iterable[Fragment]) -> str:
    best = sorted(fragments, key=lambda f: (-len(f.matches), f.startchar))[:_MAX_FRAGMENTS]
    if not best:
        return ""
    best.sort(key=lambda f: f.startchar)
    formatted = str(MarkFormatter().format(best))
    if best[0].startchar > 0:
        formatted = f"{_ELLIPSIS} {formatted}"
    if best[-1].endchar < len(text):
        formatted = f"{formatted} {_ELLIPSIS}"
    return formatted
