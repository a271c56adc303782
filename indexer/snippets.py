"""HTML-safe snippets and titles with the matched words wrapped in ``<mark>``.

Bodies are not stored in the index: their text comes from SQLite, and the places of the matched
words come from the character offsets the index keeps (``chars=True``), so a body is never
re-analysed (24 ms -> 3 ms for ten hits, ``docs/whoosh.md``). When the offsets do not fit
the text, or the article changed after this index generation, the body is re-analysed instead;
a body the index saw without the words (a match by its title only) gets its opening lines,
never a re-analysis that could only find nothing (3 ms a hit at 100,000 articles).
A query of many words (a prefix stands for up to 50) has the places of its words in the
bodies unchanged since the generation, and in the titles, found in their text instead
(``body_words``): reading 50 words' offsets in each segment cost more than scanning the page.
Everything the platform wrote is HTML-escaped; only our ``<mark>`` tags are markup.
"""

from __future__ import annotations

import html
import threading
from bisect import bisect_right
from collections.abc import Iterable, Mapping, Sequence
from collections.abc import Set as AbstractSet
from operator import attrgetter
from typing import Any, NamedTuple

import numpy as np
from whoosh.analysis import Analyzer
from whoosh.highlight import ContextFragmenter, HtmlFormatter, highlight
from whoosh.searching import Searcher

from indexer.analysis import exact_words
from indexer.body_words import Place, analyses_as_texts, places_in_texts, reads_texts
from indexer.matches import PostingsCache
from indexer.posting_blocks import SMALL_TERM_POSTINGS
from indexer.whoosh_format import (
    UnexpectedLayout,
    doc_frequency,
    read_page_characters,
    read_postings,
    report_fallback,
)

SNIPPET_CHARS = 200
_SURROUND = 60
_MAX_FRAGMENTS = 2
_MAX_TOKENS = 200
_ELLIPSIS = "…"


# Whoosh's ``PinpointFragmenter`` cuts its fragments no further than this far into a text.
_CHAR_LIMIT = 2**15


class MarkFormatter(HtmlFormatter):  # type: ignore[misc]
    """Whoosh's HTML formatter with a bare ``<mark>`` tag around each matched word (the
    snippets re-analysed with Whoosh's ``highlight``; ``_marked`` writes the others alike)."""

    template = "<%(tag)s>%(t)s</%(tag)s>"

    def __init__(self) -> None:
        super().__init__(tagname="mark", between=f" {_ELLIPSIS} ")


class Word(NamedTuple):
    """A matched word of a text: its indexed form and where it stands (as Whoosh's ``Token``
    carries them, without the dozen other attributes a ``Token`` is built with)."""

    text: str
    startchar: int
    endchar: int


class _Fragment(NamedTuple):
    """A stretch of a text to show, from STARTCHAR to ENDCHAR, and the matched words in it."""

    matches: list[Word]
    startchar: int
    endchar: int


_START = attrgetter("startchar")


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

    def __init__(self, analyzer: Analyzer,
                 forms: Mapping[str, AbstractSet[str]] | None = None,
                 postings: PostingsCache | None = None) -> None:
        self.analyzer = analyzer
        # Stems marked only where the text has one of these exact forms (quoted words).
        self.forms = forms or {}
        # The generation's whole posting lists read lately: a title word's may be there.
        self.postings = postings

    def titles_html(self, searcher: Searcher, terms: Iterable[str],
                    titles: Mapping[int, str]) -> dict[int, str]:
        """Return each stored title (by document number) escaped, its matched words marked.

        A stored title is the text the index analysed: analysing its few words again gives
        the offsets the index holds, without reading a posting block per word and hit. Only
        the titles the index says hold one of TERMS (``_title_holders``) are analysed: a
        page's titles mostly hold none of a rare word, and analysing ten titles cost more
        than asking the index. For many words (a prefix), every title is read for them at
        once (``body_words``: no word of them where the index lists none).
        """
        termset = frozenset(terms)
        found: Mapping[int, list[Place] | None] = {}
        if len(termset) >= _TEXT_WORDS and titles and analyses_as_texts(self.analyzer):
            found = places_in_texts(titles, termset)  # a word's places, as ``_matched``
        holders: set[int] | None = None if termset else set()
        if termset and not found:
            holders = _title_holders(searcher, self.analyzer, sorted(termset), sorted(titles),
                                     self.postings)
        analysed = {docnum: title for docnum, title in titles.items()
                    if holders is None or docnum in holders}
        marked: dict[int, str] = {}
        for docnum, title in titles.items():
            places = found.get(docnum)
            tokens = None
            if places is not None:
                tokens = self._exact_only(title, _first_places(places))
            elif docnum in analysed:
                tokens = self._exact_only(title, self._matched(title, termset))
            if tokens:
                marked[docnum] = _marked(title, [_Fragment(tokens, 0, len(title))])
            else:
                marked[docnum] = html.escape(title, quote=False)
        return marked

    def _matched(self, text: str, terms: AbstractSet[str]) -> list[Word]:
        """Return the words of TEXT whose analysis is one of TERMS, with their offsets."""
        matched: list[Word] = []
        counts: dict[str, int] = {}
        for token in self.analyzer(text, chars=True, positions=True, mode="index"):
            count = counts.get(token.text, 0)
            if token.text in terms and count < _MAX_TOKENS:  # as many as the index gives
                counts[token.text] = count + 1
                matched.append(Word(token.text, token.startchar, token.endchar))
        return matched

    def body_snippets(self, searcher: Searcher, field: str, terms: Iterable[str],
                      bodies: Mapping[int, str],
                      changed: AbstractSet[int] = frozenset()) -> dict[int, str]:
        """Return a snippet per document number of BODIES, with the words of TERMS marked.

        CHANGED holds the documents whose text may differ from what this generation indexed.
        """
        termset = sorted(set(terms))
        offsets = _page_offsets(searcher, field, termset, bodies, changed) if termset else {}
        snippets: dict[int, str] = {}
        for docnum, body in bodies.items():
            tokens = self._exact_only(body, offsets.get(docnum)) or []
            snippet = None
            if tokens and self._fits(body, tokens):
                snippet = _format(body, _pinpoint_fragments(body, tokens))
            elif termset and (tokens or docnum in changed):
                snippet = self._reanalysed(body, termset)
            snippets[docnum] = snippet or plain_snippet(body)
        return snippets

    def _exact_only(self, text: str, tokens: list[Word] | None) -> list[Word] | None:
        """Return TOKENS without the stem siblings of words that must match as written."""
        if not tokens or not self.forms:
            return tokens
        kept = []
        for token in tokens:
            forms = self.forms.get(token.text)
            written = exact_words(text[token.startchar:token.endchar])
            if forms is None or (written and written[-1] in forms):
                kept.append(token)
        return kept

    def _fits(self, body: str, tokens: Sequence[Word]) -> bool:
        """True when the index's offsets still point at the matched words in BODY."""
        for token in tokens[:3]:
            if token.endchar > len(body):
                return False
            found = _piece_analyses(self.analyzer)(body[token.startchar:token.endchar])
            if token.text not in found:
                return False
        return True

    def _reanalysed(self, body: str, terms: Sequence[str]) -> str:
        fragmenter = ContextFragmenter(maxchars=SNIPPET_CHARS, surround=_SURROUND)
        return str(highlight(body, frozenset(terms), self.analyzer, fragmenter,
                             MarkFormatter(), top=_MAX_FRAGMENTS))


# The words the offsets of a page point at, with their analysis (a query's few forms come back
# hit after hit): up to this many, then the memory starts again.
_PIECES_REMEMBERED = 10_000


class _PieceAnalyses:
    """One analyzer's words of a piece of text (what ``Highlighter._fits`` checks), remembered."""

    def __init__(self, analyzer: Analyzer) -> None:
        self.analyzer = analyzer
        self.words: dict[str, frozenset[str]] = {}

    def __call__(self, piece: str) -> frozenset[str]:
        """Return the analysed words of PIECE."""
        words = self.words.get(piece)
        if words is None:
            words = frozenset(t.text for t in self.analyzer(piece))
            if len(self.words) >= _PIECES_REMEMBERED:
                self.words = {}
            self.words[piece] = words
        return words


_analyses: list[_PieceAnalyses] = []
_analyses_lock = threading.Lock()


def _piece_analyses(analyzer: Analyzer) -> _PieceAnalyses:
    """Return the remembered piece analyses of ANALYZER (a new generation's schema: new ones)."""
    current = _analyses[0] if _analyses else None
    if current is not None and current.analyzer is analyzer:
        return current
    with _analyses_lock:
        if not _analyses or _analyses[0].analyzer is not analyzer:
            _analyses[:] = [_PieceAnalyses(analyzer)]
        return _analyses[0]


# From this many words on, the places of a page's words in the bodies unchanged since the
# index generation are found in their text (``body_words``) rather than read from the index
# word by word: past four words the page's scan costs less (docs/whoosh.md, "Prefixes").
_TEXT_WORDS = 5


def _page_offsets(searcher: Searcher, field: str, terms: Sequence[str], bodies: Mapping[int, str],
                  changed: AbstractSet[int]) -> dict[int, list[Word]]:
    """Return ``_offsets`` of the documents of BODIES: those of the unchanged ones found in
    their text when the words are many, the others' read from the index."""
    if len(terms) < _TEXT_WORDS or not reads_texts(searcher.schema[field]):
        return _offsets(searcher, field, terms, sorted(bodies))
    found = places_in_texts({doc: body for doc, body in bodies.items() if doc not in changed},
                            frozenset(terms))
    unread = sorted(doc for doc in bodies if found.get(doc) is None)
    offsets = _offsets(searcher, field, terms, unread) if unread else {}
    for doc, places in found.items():
        if places:
            offsets[doc] = _first_places(places)
    return offsets


def _first_places(places: Sequence[Place]) -> list[Word]:
    """Return PLACES (in order) as words, at most ``_MAX_TOKENS`` of each (as ``_offsets``)."""
    counts: dict[str, int] = {}
    words: list[Word] = []
    for text, start, end in places:
        count = counts.get(text, 0)
        if count < _MAX_TOKENS:
            counts[text] = count + 1
            words.append(Word(text, start, end))
    return words


def _offsets(searcher: Searcher, field: str, terms: Sequence[str],
             docnums: Sequence[int]) -> dict[int, list[Word]]:
    """Return the matched words of each document with their character offsets, in order.

    A segment's offsets of every word are read together (``read_page_characters``: one
    decoding of their blocks per segment, not one per word).
    """
    fieldobj = searcher.schema[field]
    found: dict[int, list[Word]] = {}
    for leaf, base in searcher.reader().leaf_readers():
        stop = base + leaf.doc_count_all()
        local = [d - base for d in docnums if base <= d < stop]
        if not local:
            continue
        btexts = [fieldobj.to_bytes(text) for text in terms]
        try:
            per_term = read_page_characters(leaf, field, btexts, local)
        except UnexpectedLayout as exc:
            report_fallback(searcher, "character offsets", exc)
            per_term = [_characters_from_matcher(leaf, field, btext, local)
                        for btext in btexts]
        for text, places_by_doc in zip(terms, per_term, strict=True):
            for doc, places in places_by_doc.items():
                tokens = found.setdefault(doc + base, [])
                tokens.extend(Word(text, start, end) for _, start, end in places[:_MAX_TOKENS])
    for tokens in found.values():
        tokens.sort(key=_START)
    return found


_TITLE = "title"  # the stemmed field of titles, analysed as the stored title
# The index is asked which titles hold the words when that takes at most this many reads
# (a word in a segment) per title: analysing a title costs about as much as two reads of a
# short term (docs/whoosh.md), and a page of a few hits or a query of many words (a prefix
# stands for tens) is analysed.
_TITLE_READS_PER_TITLE = 0.6


def _title_holders(searcher: Searcher, analyzer: Analyzer, terms: Sequence[str],
                   docnums: Sequence[int], postings: PostingsCache | None = None,
                   ) -> set[int] | None:
    """Return which of DOCNUMS hold one of TERMS in their indexed title, from the title
    field's postings (a list the generation's POSTINGS cache holds whole, else only the
    blocks holding one of DOCNUMS); None when the index cannot tell (a title analysed
    otherwise than by ANALYZER, or not laid out as expected): then every title is analysed.

    The title field's words are the analysis of the stored title, by the same analyzer: a
    title the field does not list for any of TERMS has no word to mark.
    """
    if _TITLE not in searcher.schema or searcher.schema[_TITLE].analyzer != analyzer:
        return None
    fieldobj = searcher.schema[_TITLE]
    holders: set[int] = set()
    btexts: list[bytes] = []
    for term in terms:
        btext = fieldobj.to_bytes(term)
        held = postings.get((_TITLE, btext)) if postings is not None else None
        if held is None:
            btexts.append(btext)
        else:  # read whole lately (the search's own title words): no read at all
            holders.update(set(held[0].tolist()).intersection(docnums))
    if not btexts:
        return holders
    leaves = searcher.reader().leaf_readers()
    bases = [base for _, base in leaves]
    by_segment: dict[int, list[int]] = {}
    for docnum in docnums:
        by_segment.setdefault(bisect_right(bases, docnum) - 1, []).append(docnum)
    if len(btexts) * len(by_segment) > _TITLE_READS_PER_TITLE * len(docnums):
        return None
    try:
        for segment, docs in by_segment.items():
            leaf, base = leaves[segment]
            frequencies = [doc_frequency(leaf, _TITLE, btext) for btext in btexts]
            if any(frequency > SMALL_TERM_POSTINGS for frequency in frequencies):
                # A word of many titles: its blocks cost more to read than the titles
                # their analysis (measured in docs/whoosh.md); this segment's are analysed.
                holders.update(docs)
                continue
            local = np.array(docs, dtype=np.int64) - base
            for btext, frequency in zip(btexts, frequencies, strict=True):
                if not frequency:
                    continue  # not in this segment's titles
                found = read_postings(leaf, _TITLE, btext, local)
                if found is not None and len(found[0]):
                    holders.update((found[0][np.isin(found[0], local)] + base).tolist())
    except UnexpectedLayout as exc:
        report_fallback(searcher, "title words", exc)
        return None
    return holders


def _characters_from_matcher(leaf: Any, field: str, btext: bytes,
                             docnums: Sequence[int]) -> dict[int, list[tuple[int, int, int]]]:
    """Whoosh's own (slower) way to the same offsets, for a segment of another layout."""
    if (field, btext) not in leaf:
        return {}
    matcher = leaf.postings(field, btext)
    found: dict[int, list[tuple[int, int, int]]] = {}
    for docnum in sorted(docnums):
        if not matcher.is_active():
            break
        if matcher.id() < docnum:
            matcher.skip_to(docnum)
            if not matcher.is_active():
                break
        if matcher.id() == docnum:
            found[docnum] = list(matcher.value_as("characters"))
    return found


def _pinpoint_fragments(text: str, words: Sequence[Word]) -> list[_Fragment]:
    """Return the fragments Whoosh's ``PinpointFragmenter(maxchars=SNIPPET_CHARS,
    surround=_SURROUND, autotrim=True)`` cuts around WORDS (in order) in TEXT.

    Its steps, on plain tuples: a dozen Python objects fewer per fragment and per word
    (``tests/test_search_snippets.py`` holds the two to the same fragments).
    """
    fragments: list[_Fragment] = []
    size = len(text)
    last = len(words) - 1
    j = -1
    for i, word in enumerate(words):
        if j >= i:
            continue
        j = i
        left, right = word.startchar, word.endchar
        if right > _CHAR_LIMIT:
            break
        length = right - left
        while j < last and length < SNIPPET_CHARS:
            following = words[j + 1]
            end = following.endchar
            if end - right <= _SURROUND and end - left <= SNIPPET_CHARS:
                j += 1
                right = end
                length += end - following.startchar
            else:
                break
        start, stop = max(0, left - _SURROUND), min(size, right + _SURROUND)
        # Whoosh's autotrim: from the first space on, to the last one, the words kept whole.
        space = text.find(" ", start, stop)
        if space > 0:
            start = space + 1
        space = text.rfind(" ", start, stop)
        if space > 0:
            stop = space
        matches = list(words[i:j + 1])
        fragments.append(_Fragment(matches, min(start, matches[0].startchar),
                                   max(stop, matches[-1].endchar)))
    return fragments


def _marked(text: str, fragments: Sequence[_Fragment]) -> str:
    """Return FRAGMENTS of TEXT escaped with each matched word in ``<mark>``, joined by an
    ellipsis: what ``MarkFormatter().format`` makes of them (the first of overlapping words,
    the longest of those starting together, is marked)."""
    escape = html.escape
    pieces: list[str] = []
    for number, fragment in enumerate(fragments):
        if number:
            pieces.append(f" {_ELLIPSIS} ")
        index = fragment.startchar
        for word in sorted(fragment.matches,
                           key=lambda w: (w.startchar, w.startchar - w.endchar)):
            start = word.startchar
            if start < index:
                continue
            if start > index:
                pieces.append(escape(text[index:start], quote=False))
            pieces.append(f"<mark>{escape(text[start:word.endchar], quote=False)}</mark>")
            index = word.endchar
        pieces.append(escape(text[index:fragment.endchar], quote=False))
    return "".join(pieces)


def _format(text: str, fragments: Iterable[_Fragment]) -> str:
    best = sorted(fragments, key=lambda f: (-len(f.matches), f.startchar))[:_MAX_FRAGMENTS]
    if not best:
        return ""
    best.sort(key=_START)
    formatted = _marked(text, best)
    if best[0].startchar > 0:
        formatted = f"{_ELLIPSIS} {formatted}"
    if best[-1].endchar < len(text):
        formatted = f"{formatted} {_ELLIPSIS}"
    return formatted


def marked_paragraphs(analyzer: Analyzer, text: str, terms: Iterable[str]) -> list[str]:
    """Return TEXT's paragraphs as HTML-safe strings with every form of TERMS marked.

    TERMS are indexed forms (stems); each word of the text whose analysis gives one of them is
    wrapped in ``<mark>``, so « inondations » and « inondé » are both marked for ``inond``.
    """
    wanted = frozenset(terms)
    paragraphs = [part.strip() for part in (text or "").split("\n\n") if part.strip()]
    if not wanted:
        return [html.escape(part, quote=False) for part in paragraphs]
    marked = []
    for part in paragraphs:
        pieces: list[str] = []
        position = 0
        for token in analyzer(part, chars=True, mode="index"):
            if token.text not in wanted or token.startchar < position:
                continue
            pieces.append(html.escape(part[position:token.startchar], quote=False))
            pieces.append(f"<mark>{html.escape(part[token.startchar:token.endchar], quote=False)}"
                          "</mark>")
            position = token.endchar
        pieces.append(html.escape(part[position:], quote=False))
        marked.append("".join(pieces))
    return marked
