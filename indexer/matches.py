"""Every document a query matches, with its score, as numpy arrays (not only the top ten).

Totals, filters, facets and both orders need all matches; Whoosh's collectors would score them
one Python call at a time through ``search(limit=None)`` and then build Results objects we do
not use. Here the query's own matcher is walked once, collecting document numbers and BM25F
scores. Plain words and their AND/OR/NOT combinations take the faster route of
``indexer.whoosh_format`` when it can read the index's posting blocks (same documents, same scores).
"""

from __future__ import annotations

import copy
import threading
from collections import OrderedDict
from collections.abc import Callable
from dataclasses import dataclass, field
from math import log
from typing import Any, NamedTuple

import numpy as np
from whoosh import query as wq
from whoosh.scoring import BM25F
from whoosh.searching import Searcher

from indexer import compiled
from indexer.analysis import word_pair
from indexer.block_frontiers import frontier_ceilings
from indexer.query import MAX_PREFIX_TERMS, ExactPhrase, Near
from indexer.schema import EXACT_FIELDS, PAIR_FIELDS
from indexer.score_bounds import (
    BOUND_SLACK,
    BoundExceeded,
    PageFloor,
    bm25f_bounds,
    settle_reaching,
)
from indexer.whoosh_format import (
    BLOCK_POSTINGS,
    LENGTH_SCORED,
    Postings,
    PostingsWanted,
    PrefixRun,
    TermEntry,
    TermsBlocks,
    TermValues,
    UnexpectedLayout,
    doc_frequency,
    field_b,
    field_length_bytes,
    near_documents_in_values,
    position_keys_in_values,
    positions_kept,
    prefix_run,
    read_entries_ids,
    read_entries_postings,
    read_positions,
    read_positions_and_postings,
    read_postings,
    read_postings_together,
    read_term_values,
    read_terms_ids,
    read_terms_postings,
    read_whole_term,
    report_fallback,
    slow_field_lengths,
)


@dataclass(frozen=True)
class Matches:
    """Document numbers (ascending) and their scores.

    With ``ceiling`` the scores are not final yet (``MatchEngine.match(..., settle_later=True)``):
    each is at most its final score, ``ceiling`` at least, and ``settled`` gives final scores.
    With ``exact_first`` (``MatchEngine.match(..., page=...)``), every match whose final score
    can reach the ``exact_first``-th best final score has it already (its ceiling equal to its
    score): the first ``exact_first`` by score need no settling. Matches made from these
    (``where``, ``among``, ``settled``) do not keep it.
    """

    docs: np.ndarray     # int64
    scores: np.ndarray   # float64, aligned with docs
    ceiling: np.ndarray | None = None  # float64, aligned with docs: no final score is above
    settle: Callable[[np.ndarray], Matches] | None = field(default=None, compare=False)
    exact_first: int = 0

    def __len__(self) -> int:
        return int(self.docs.shape[0])

    @property
    def upper(self) -> np.ndarray:
        """The highest each final score can be (the scores themselves once final)."""
        return self.scores if self.ceiling is None else self.ceiling

    def where(self, keep: np.ndarray) -> Matches:
        """Return the matches where the boolean array KEEP (aligned with docs) is true."""
        return Matches(self.docs[keep], self.scores[keep],
                       None if self.ceiling is None else self.ceiling[keep], self.settle)

    def among(self, docs: np.ndarray) -> Matches:
        """Return the matches whose document is one of DOCS (ascending)."""
        if len(docs) < len(self):
            at = _found(self.docs, docs)
            return Matches(self.docs[at], self.scores[at],
                           None if self.ceiling is None else self.ceiling[at], self.settle)
        return self.where(_member(self.docs, docs))

    def settled(self, positions: np.ndarray) -> Matches:
        """Return these matches with the final scores at POSITIONS (the rest unchanged).

        The final scores come from the full query evaluated on those documents alone, so they
        are exactly the scores ``MatchEngine.match`` gives. Settled positions get their final
        score as ceiling too.
        """
        if self.ceiling is None or self.settle is None or not len(positions):
            return self
        positions = np.unique(positions)
        found, final = self.final_scores(positions)
        scores = self.scores.copy()
        ceiling = self.ceiling.copy()
        scores[found] = final
        ceiling[found] = final
        if len(found) == len(positions) == len(self):
            return Matches(self.docs, scores)
        return Matches(self.docs, scores, ceiling, self.settle)

    def final_scores(self, positions: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """Return which of POSITIONS (unique, ascending) the full query matches, and their
        final scores: the work of ``settled`` without copying a score per match."""
        if self.settle is None or not len(positions):
            return positions[:0], np.zeros(0, dtype=np.float64)
        docs = self.docs[positions]
        final = self.settle(docs)
        if not len(final):
            return positions[:0], np.zeros(0, dtype=np.float64)
        at = np.minimum(np.searchsorted(final.docs, docs), len(final) - 1)
        found = final.docs[at] == docs
        return positions[found], final.scores[at[found]]


EMPTY = Matches(np.zeros(0, dtype=np.int64), np.zeros(0, dtype=np.float64))


class _SettledOnce:
    """A query's ``Matches.settle`` that settles each document once: the matches settled so
    far are kept, so the rounds that probe a page's floor (``MatchEngine._probed_pay``) and
    those that settle the page (``search._settled_page``) score no document twice."""

    def __init__(self, settle: Callable[[np.ndarray], Matches]) -> None:
        self._settle = settle
        self._asked = np.zeros(0, dtype=np.int64)  # every document asked, ascending
        self._found = EMPTY  # their matches, with final scores

    def __call__(self, docs: np.ndarray) -> Matches:
        """The matches among DOCS (ascending), with their final scores."""
        if not len(self._asked):
            self._asked, self._found = docs, self._settle(docs)
            return self._found
        rest = docs[_positions(self._asked, docs) < 0]
        if len(rest):
            new = self._settle(rest)
            asked = np.concatenate((self._asked, rest))
            self._asked = asked[np.argsort(asked, kind="stable")]
            if len(new):
                both = np.concatenate((self._found.docs, new.docs))
                order = np.argsort(both, kind="stable")
                self._found = Matches(both[order], np.concatenate(
                    (self._found.scores, new.scores))[order])
        return self._found.among(docs)


_NO_WEIGHTS = np.zeros(0, dtype=np.float64)
_NO_DOCS = np.zeros(0, dtype=np.int64)

# Whole posting lists kept per generation (documents as 32 bits, weights as 32 bits when that
# keeps them exact): about 8 million postings, read again by many searches (a word shared by
# several queries, the stems and typed forms of a word, settling a page).
POSTINGS_CACHE_BYTES = 64 * 2**20

# A prefix (or an OR of prefixes) whose words hold more postings than this, for a caller that
# shows only its best-scored page, is scored only where that page can be
# (``MatchEngine._prefix_page``), unless the postings cache holds every one of its words'
# lists. At a million articles, read fresh, prefixes of 300,000 to a million postings took
# 29-116 ms scored in full and 28-79 scored so; below some 250,000 postings scoring in full
# was as fast or faster (docs/whoosh.md, "Prefixes").
PAGE_SCORED_POSTINGS = 300_000


class PostingsCache:
    """One generation's whole posting lists read lately, shared by its threads: an LRU
    bounded by bytes. Decoding a list is most of a search's cost; a list never changes
    within a generation."""

    def __init__(self, max_bytes: int = POSTINGS_CACHE_BYTES) -> None:
        self.max_bytes = max_bytes
        self._lists: OrderedDict[tuple[str, bytes], tuple[np.ndarray, np.ndarray, int]] = \
            OrderedDict()
        self._size = 0
        self._lock = threading.Lock()

    def __len__(self) -> int:
        return len(self._lists)

    def holds(self, key: tuple[str, bytes]) -> bool:
        """Whether the list of the term KEY (field, bytes) is kept."""
        return key in self._lists

    def get(self, key: tuple[str, bytes], within: np.ndarray | None = None,
            ) -> tuple[np.ndarray, np.ndarray, int] | None:
        """Return the documents (int64), weights (float64) and document frequency of the term
        KEY, or None when not kept. With WITHIN (ascending documents), only the postings of
        those documents (the frequency is still the whole list's)."""
        if key not in self._lists:
            # Most lists asked are not kept (a query's new words): answered without the lock
            # (a list kept meanwhile by another thread is only missed once).
            return None
        with self._lock:
            found = self._lists.get(key)
            if found is None:
                return None
            self._lists.move_to_end(key)
        ids, weights, frequency = found
        if within is not None:
            at = _found(ids, within)
            ids, weights = ids[at], weights[at]
        return ids.astype(np.int64), weights.astype(np.float64), frequency

    def documents(self, key: tuple[str, bytes]) -> np.ndarray | None:
        """Return the documents (int64) of the term KEY, or None when not kept: ``get``
        without copying its weights."""
        if key not in self._lists:
            return None  # as ``get``: a list not kept answered without the lock
        with self._lock:
            found = self._lists.get(key)
            if found is None:
                return None
            self._lists.move_to_end(key)
        documents: np.ndarray = found[0].astype(np.int64)
        return documents

    def put(self, key: tuple[str, bytes], ids: np.ndarray, weights: np.ndarray,
            frequency: int) -> None:
        """Keep the whole list of the term KEY, forgetting the least recently used past the
        budget (a list larger than an eighth of it is not kept)."""
        small_ids = ids.astype(np.int32) if len(ids) and int(ids.max()) < 2**31 else ids
        small_weights = weights.astype(np.float32)
        # ``np.array_equal``'s test without its checks (the same shape): a few µs a list.
        if not bool((small_weights == weights).all()):
            small_weights = weights
        size = small_ids.nbytes + small_weights.nbytes
        if size > self.max_bytes // 8:
            return
        with self._lock:
            old = self._lists.pop(key, None)
            if old is not None:
                self._size -= old[0].nbytes + old[1].nbytes
            self._lists[key] = (small_ids, small_weights, frequency)
            self._size += size
            while self._size > self.max_bytes:
                _, (dropped_ids, dropped_weights, _) = self._lists.popitem(last=False)
                self._size -= dropped_ids.nbytes + dropped_weights.nbytes


def _present_words(kept: dict[bytes, int], held: dict[int, Any], leaf_words: list[bytes],
                   entries: list[TermEntry] | None,
                   ) -> tuple[list[int], list[int], list[TermEntry | None] | None]:
    """A segment's words of a prefix (LEAF_WORDS, their ENTRIES if read with them) among the
    words KEPT (by index): the indexes of those it holds, in order, of those among them not
    HELD in the postings cache, and the entries of the latter (None without ENTRIES)."""
    if entries is None:
        present = [kept[word] for word in leaf_words if word in kept]
        return present, [i for i in present if i not in held], None
    present = []
    unread = []
    chosen: list[TermEntry | None] = []
    get = kept.get
    for word, entry in zip(leaf_words, entries, strict=True):
        i = get(word)
        if i is not None:
            present.append(i)
            if i not in held:
                unread.append(i)
                chosen.append(entry)
    return present, unread, chosen


def prefix_words(searcher: Searcher, field: str, text: str, limit: int) -> list[bytes]:
    """Return the first LIMIT words of FIELD (in byte order) starting with TEXT.

    The words Whoosh's ``searcher.reader().expand_prefix`` gives, read from each segment's
    term table as ``MatchEngine`` reads them (and kept by the segment readers, so that a
    search's second expansion of a prefix costs nothing).
    """
    try:
        prefix = searcher.schema[field].to_bytes(text)
    except (KeyError, ValueError):
        return []
    words: set[bytes] = set()
    for leaf, _ in searcher.reader().leaf_readers():
        # A segment's run is in byte order: a word among the first LIMIT of all has fewer
        # than LIMIT words before it in its own segment (hundreds of words a segment, 50 kept).
        words.update(_segment_prefix_run(searcher, leaf, field, prefix, text).words[:limit])
    return sorted(words)[:limit]


def _segment_prefix_run(searcher: Searcher, leaf: Any, field: str, prefix: bytes,
                        text: str) -> PrefixRun:
    """The words of FIELD in the segment LEAF starting with PREFIX (TEXT's bytes), in byte
    order, with their term entries: from its term table (``prefix_run``), or from Whoosh's
    ``expand_prefix`` if not laid out as expected (then without entries). Not to be changed:
    the segment reader keeps it."""
    try:
        return prefix_run(leaf, field, prefix)
    except UnexpectedLayout as exc:
        report_fallback(searcher, "prefix words", exc)
        return PrefixRun([bytes(word) for word in leaf.expand_prefix(field, text)], [])


def match_all(live: np.ndarray) -> Matches:
    """Return every live document, unscored (a listing by filters only)."""
    docs = np.flatnonzero(live).astype(np.int64)
    return Matches(docs, np.zeros(docs.shape[0], dtype=np.float64))


def match_with_whoosh(query: wq.Query, searcher: Searcher) -> Matches:
    """Return the matches of QUERY by walking Whoosh's own matcher (any query type)."""
    matcher = query.matcher(searcher, searcher.context())
    docs: list[int] = []
    scores: list[float] = []
    add_doc = docs.append
    add_score = scores.append
    while matcher.is_active():
        add_doc(matcher.id())
        add_score(matcher.score())
        matcher.next()
    if not docs:
        return EMPTY
    order = np.asarray(docs, dtype=np.int64)
    values = np.asarray(scores, dtype=np.float64)
    if order.shape[0] > 1 and np.any(order[1:] < order[:-1]):
        sort = np.argsort(order, kind="stable")
        order, values = order[sort], values[sort]
    return Matches(order, values)


_SCORED_FIELDS = frozenset({"title", "body", "author", *EXACT_FIELDS.values()})
_STEMMED_FIELD = {exact: stemmed for stemmed, exact in EXACT_FIELDS.items()}
_POSITION_SPAN = 1 << 32  # keys (document index, position) packed into one int64
_EVERYWHERE = 2  # a word in more than 1 / _EVERYWHERE of the documents hardly narrows
# Words each in 1 / _COMMON_SHARE of the documents at least: a proximity of them reads their
# postings and positions whole (``whoosh_format`` reads a term's positions whole for a
# quarter of its documents).
_COMMON_SHARE = 4
# A term read whole for some documents scores theirs alone when they are fewer than
# 1 / _ASKED_SHARE of its postings: finding them costs less than scoring every posting.
_ASKED_SHARE = 8
# A phrase found in more documents than this, its page still to be settled, gives them
# ceilings from its words' block directories instead of scores (``MatchEngine._ceilings``):
# scoring them would decode its common words' long lists for a page of ten.
_CEILINGS_FROM = 8 * BLOCK_POSTINGS
# Nor in more than 1 / _CEILINGS_SHARE of the index's documents: its words are then in most
# blocks of most documents, and the ceilings' own cost (some 60 ns a document and word, as
# much again to merge a title's and a body's) nears scoring's; no phrase of the benchmark's
# million-article set kept them there (docs/whoosh.md).
_CEILINGS_SHARE = 3
# Ceilings pay when the matches whose ceiling reaches the page's floor, as the highest
# ceilings' exact scores put it, are at most 1 / _REACH_SHARE of the phrase's documents: the
# rest is then never scored. Common words' blocks each hold a heavy posting, and their blocks'
# greatest weights reach the floor nearly everywhere; the blocks' frontiers (the greatest
# weight at the document's length or shorter, ``block_frontiers``) lower most of them.
_REACH_SHARE = 8
# And when settling them decodes at most this share (numerator, denominator) of the postings
# of the words given ceilings: a word asked for in more documents than its blocks is read
# whole anyway (``_term_plan``), and is then not kept in the generation's cache.
_DECODED_SHARE = (2, 3)
# The highest ceilings scored to put that floor, when the caller gave no count
# (``search._settle_first``'s least).
_PROBED = 40
# ``search._SETTLE_FIRST``: how many times the page the caller settles first.
_PAGES_PROBED = 4


class MatchEngine:
    """Evaluates a query over one searcher with numpy: words, AND, OR, NOT and AND NOT.

    Term postings come from ``indexer.whoosh_format`` and are scored with Whoosh's own BM25F
    formula and statistics, so documents and scores are Whoosh's; any other kind of subquery
    (phrases above all) is evaluated by Whoosh's matcher and combined.
    """

    def __init__(self, searcher: Searcher,
                 lengths: dict[str, tuple[np.ndarray, np.ndarray]],
                 postings: PostingsCache | None = None) -> None:
        self.searcher = searcher
        # The generation's whole posting lists read lately, shared by its threads (optional).
        self.postings = postings
        self.leaves = searcher.reader().leaf_readers()
        self.size = searcher.doc_count_all()
        # Each segment's first and next-after-last document number (asking a segment reader
        # for its count each time costs more than the rest of a small term's read).
        bases = [base for _, base in self.leaves]
        self._spans = list(zip(bases, [*bases[1:], self.size], strict=True))
        self.lengths = lengths
        # BM25F's length part per field: each document's length code, the part of each code.
        self._norms: dict[str, tuple[np.ndarray, np.ndarray]] = {}
        self._frequencies: dict[tuple[str, str], int] = {}  # document frequency of each word
        # The same per segment, for the words asked of every segment.
        self._segment_frequencies: dict[tuple[str, str], list[int]] = {}
        weighting = searcher.weighting
        self.enabled = type(weighting) is BM25F
        self.weighting = weighting
        # The postings of each term read so far, scored, with their weights, the documents
        # they were read for (None: all) and which segments were read whole (a boolean per
        # segment); settling reads the same terms again on fewer.
        self._read: dict[tuple[str, str, float],
                         tuple[Matches, np.ndarray, np.ndarray | None, np.ndarray]] = {}
        self._starts = np.asarray(bases, dtype=np.int64)
        # Whether a phrase of many documents may give ceilings rather than scores: only while
        # evaluating a query whose page is settled afterwards (``match(settle_later=True)``).
        self._bounding = False
        self._settle_first = _PROBED
        # Each phrase found on every document while ``_bounding``, by (kind, field, words):
        # its matches, scored or given ceilings. Settling them, or scoring them at once after
        # all, does not find the phrase again (``_phrase_node``).
        self._phrases: dict[tuple[str, str, tuple[str, ...]], Matches] = {}
        # The words (field, text) given ceilings from their block directories.
        self._bounded_words: set[tuple[str, str]] = set()
        # Each prefix's words, per segment, and their document frequencies, once counted.
        self._counted: dict[tuple[str, str], tuple[list[bytes], list[list[bytes]],
                                                   dict[bytes, int]]] = {}
        # Each segment's words of the prefixes expanded, with their entries, by the words'
        # list (``_entries_of``).
        self._run_of: dict[int, PrefixRun] = {}

    def match(self, query: wq.Query, *, settle_later: bool = False,
              settle_first: int | None = None, page: int | None = None,
              live: np.ndarray | None = None) -> Matches:
        """Return every document QUERY matches, with Whoosh's score.

        SETTLE_LATER: when QUERY adds typed forms to stemmed words (``query.prefer_typed_forms``),
        the exact-form postings are not read for every match. The scores are then the stemmed
        words' alone, with a ``ceiling`` per match (the most its typed forms can add: an exact
        form occurs at most as often as its stem in the same field), and
        ``Matches.settled(positions)`` gives the final scores of the matches a page shows.
        The documents are the same: a document holding a word's exact form holds its stem.

        SETTLE_FIRST (when given) is how many matches the caller settles in any case. A query
        whose stems match no more documents than that, or at most ``BLOCK_POSTINGS`` without an
        AND (each typed form then one block of a segment at most, the block settling would
        read), is evaluated at once: one evaluation costs less than an evaluation and a
        settling (``_settles_anyway``). A phrase found in many documents then gives them
        ceilings too (``_ceilings``), settled the same way.

        PAGE (when given): the caller reads no score but those of the PAGE best-scored matches
        (no filter, no other order). A large prefix, or an OR of prefixes, is then scored
        only where those can be (``_prefix_page``: ``Matches.exact_first``), the matches of
        documents not LIVE (a boolean per document, when given) left out.
        """
        if not self.enabled:
            return match_with_whoosh(query, self.searcher)
        try:
            self._bounding = settle_later
            self._settle_first = settle_first or _PROBED
            if page is not None and page > 0:
                found = self._prefix_page(query, page, live)
                if found is not None:
                    return found
            if settle_later:
                stemmed = _without_typed_forms(query)
                if stemmed is not query and (settle_first is None or not self._settles_anyway(
                        stemmed, settle_first)):
                    found = self._settled_later(query, stemmed, self._node(stemmed))
                    if found.ceiling is not None:
                        return found
                return self._settled_later(query, query, self._node(query))
            return self._node(query)
        except UnexpectedLayout as exc:
            self.enabled = False
            report_fallback(self.searcher, "matching", exc)
            return match_with_whoosh(query, self.searcher)

    def _settled_later(self, query: wq.Query, evaluated: wq.Query, found: Matches) -> Matches:
        """FOUND (the matches of EVALUATED: QUERY, or its stems) to be settled later for
        QUERY when they have ceilings. Ceilings of phrases (``_ceilings``) are kept when the
        exact scores of the highest ceilings put the page's floor (its last score, the page
        being a quarter of what the caller settles first) above all ceilings but a few
        (``_REACH_SHARE``): else nearly every match would be settled, each more dearly than
        scored at once, and EVALUATED's scores are computed now, its phrases' documents known.
        """
        if found.ceiling is None:
            return found
        settle = _SettledOnce(lambda docs: self._settle(query, docs))
        bounded = Matches(found.docs, found.scores, found.ceiling, settle)
        count, first = len(found), self._settle_first
        if not self._bounded_words or count <= first:
            return bounded
        page = max(first // _PAGES_PROBED, 1)
        if self._probed_pay(found.docs, found.ceiling, settle, first, page):
            return bounded
        self._bounding = False
        found = self._node(evaluated)
        return found if found.ceiling is None else Matches(found.docs, found.scores,
                                                           found.ceiling, settle)

    def _probed_pay(self, docs: np.ndarray, ceiling: np.ndarray, settle: _SettledOnce,
                    first: int, page: int) -> bool:
        """Whether the ceilings (CEILING, of DOCS) of a query's matches pay (``_ceilings_pay``)
        once the page's floor (the PAGE-th best final score found) is put by the exact scores
        of the highest ceilings: FIRST of them, then, while the floor those put leaves too
        many matches reaching it, four times as many of the highest ceilings still reaching
        it, a round at a time (``search._settled_page`` settles in the same rounds; SETTLE
        keeps the scores for it). A further round is made only while the last one at least
        halved the matches reaching the floor, and while the matches probed stay within
        2 / ``_REACH_SHARE`` of them: beyond, settling them and those left could not pay."""
        count = len(docs)
        probed = np.zeros(count, dtype=bool)
        scores = np.full(count, -np.inf)
        size, floor, reaching = first, float("-inf"), 2 * count  # a second round in any case
        while True:
            left = np.flatnonzero(~probed & (ceiling >= floor))
            if len(left) > size:
                left = np.sort(left[np.argpartition(ceiling[left], len(left) - size)
                                    [len(left) - size:]])
            final = settle(docs[left])
            at = _positions(final.docs, docs[left])
            probed[left] = True
            scores[left[at >= 0]] = final.scores[at[at >= 0]]
            known = scores[probed]
            if len(known) < page:
                return False
            floor = float(np.partition(known, len(known) - page)[len(known) - page])
            reach = int(np.count_nonzero(ceiling >= floor))
            if self._ceilings_pay(reach, count):
                return True
            size *= 4
            if reach * 2 > reaching or (int(probed.sum()) + size) * _REACH_SHARE > 2 * count:
                return False
            reaching = reach

    def _ceilings_pay(self, reach: int, count: int) -> bool:
        """Whether settling REACH of COUNT matches later costs less than scoring them now:
        at most 1 / ``_REACH_SHARE`` of them, and the postings their words' blocks hold (a
        document asked for decodes its block of ``BLOCK_POSTINGS``, a word's list at most)
        at most ``_DECODED_SHARE`` of the words' lists, which scoring them now decodes."""
        if reach * _REACH_SHARE > count:
            return False
        lists = [self._doc_frequency(field, text) for field, text in self._bounded_words]
        settled = sum(min(size, reach * BLOCK_POSTINGS) for size in lists)
        return settled * _DECODED_SHARE[1] <= sum(lists) * _DECODED_SHARE[0]

    def _settles_anyway(self, stemmed: wq.Query, settle_first: int) -> bool:
        """Whether the query whose stems are STEMMED (``_without_typed_forms``) is better
        evaluated at once than settled later, its caller settling SETTLE_FIRST matches.

        Its matches are at most the estimate of STEMMED (the term entries' counts, which the
        evaluation asks for anyway). At most SETTLE_FIRST, every match would be settled. At
        most ``BLOCK_POSTINGS`` and no AND, each typed form lies in one block of a segment at
        most, read whole at once where settling would read that block for the matches it
        settles; an AND would read its typed forms for every candidate instead of the few
        settled, blocks apart in a long list. Measured on the 100,000-article benchmark's rare
        words (docs/whoosh.md, "A query's fixed cost"): matching and settling 1.27 -> 0.87 ms.
        """
        estimate = self._estimate(stemmed)
        return estimate <= settle_first or (estimate <= BLOCK_POSTINGS
                                            and not _holds_and(stemmed))

    def _settle(self, query: wq.Query, docs: np.ndarray) -> Matches:
        """The matches of QUERY among DOCS (ascending), with their final scores."""
        self._bounding = False  # final scores: no ceilings
        try:
            if self.enabled:
                if _pointwise(query):
                    present, scores = self._on(query, docs)
                    return Matches(docs[present], scores[present])
                found = self._node(query, docs)
                return found.among(docs)
        except UnexpectedLayout as exc:
            self.enabled = False
            report_fallback(self.searcher, "matching", exc)
        found = match_with_whoosh(query, self.searcher)
        return found.among(docs)

    def _on(self, query: wq.Query, docs: np.ndarray,
            ahead: bool = True) -> tuple[np.ndarray, np.ndarray]:
        """Which of DOCS (ascending, few: a page's matches being settled) QUERY matches, and
        their scores (aligned with DOCS; meaningless where not matched), as ``_node`` gives
        them there: the same terms read (``_term``), the same scores added in the same order,
        but each node an array the size of DOCS rather than sorted matches looked up in one
        another. QUERY is made of words, AND, OR, AND NOT and NOT (``_pointwise``). AHEAD:
        read its words' terms together first (``_read_ahead``)."""
        if _read_as_term(query):
            return self._term_on(query, self._term(query, docs), docs)
        if isinstance(query, wq.And):
            positives = [sub for sub in query.subqueries if not isinstance(sub, wq.Not)]
            if ahead:
                self._read_ahead([(_or_subqueries(sub), docs) for sub in positives])
            # Its words and ORs of words were read ahead; an AND in it reads its own.
            present, scores = self._on(positives[0], docs, _nested_and(positives[0]))
            for sub in positives[1:]:
                found, added = self._on(sub, docs, _nested_and(sub))
                present = present & found
                scores = scores + added
            for sub in query.subqueries:
                if isinstance(sub, wq.Not):
                    # As ``_and``: NOT's documents out, its boost added to every score.
                    present = present & ~self._on(sub.query, docs)[0]
                    scores = scores + sub.boost
            boost = query.boost if len(query.subqueries) > 1 else 1.0
            return present, scores * boost if boost != 1.0 else scores
        if isinstance(query, wq.AndNot):
            present, scores = self._on(query.a, docs)
            present = present & ~self._on(query.b, docs)[0]
            return present, scores * query.boost if query.boost != 1.0 else scores
        subqueries = query.subqueries  # an OR of words (``_or_subqueries``)
        if ahead:
            self._read_ahead([(subqueries, docs)])
        present = np.zeros(len(docs), dtype=bool)
        scores = np.zeros(len(docs), dtype=np.float64)
        found = np.zeros(len(docs), dtype=bool)  # the documents the subquery before matched
        for i, sub in enumerate(subqueries):
            if i and _is_typed_form(sub, subqueries[i - 1]):
                # As ``_or_parts``: read for the documents holding its stem alone.
                self._doc_frequency(sub.fieldname, sub.text, subqueries[i - 1])
                wanted = docs[found]
                if not len(wanted):
                    continue
                found, added = self._term_on(sub, self._term(sub, wanted), docs)
            else:
                found, added = self._on(sub, docs, ahead=False)
            # Added in the subqueries' order, as ``union`` adds them (0.0 + x is x).
            scores[found] += added[found]
            present |= found
        return present, scores * query.boost if query.boost != 1.0 else scores

    @staticmethod
    def _term_on(query: wq.Term, found: Matches,
                 docs: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """``_on`` of a term whose read FOUND holds at least DOCS' postings."""
        if not len(found):
            return np.zeros(len(docs), dtype=bool), np.zeros(len(docs), dtype=np.float64)
        at = _positions(found.docs, docs)
        present = at >= 0
        return present, np.where(present, found.scores[at], 0.0)

    def _node(self, query: wq.Query, within: np.ndarray | None = None) -> Matches:
        """The matches of QUERY; with WITHIN (ascending documents), exact only on those.

        Outside WITHIN the result may hold documents the query does not match: whoever passes
        WITHIN keeps only the documents in it. Posting blocks that cannot hold one of them are
        then never decoded.
        """
        if isinstance(query, wq.Term) and query.fieldname in _SCORED_FIELDS:
            return self._term(query, within)
        if isinstance(query, wq.And):
            return self._and(query, within)
        if _plain_or(query):
            parts = self._or_parts(query.subqueries, within)
            if within is not None:
                # Only WITHIN is asked for: what blocks read beside it is dropped before adding.
                parts = [part.among(within) for part in parts]
            return self._scaled(self._union(parts), query.boost)
        if isinstance(query, wq.AndNot):
            return self._scaled(self._minus(self._node(query.a, within),
                                            self._node(query.b, within)), query.boost)
        if isinstance(query, Near) and query.fieldname in _SCORED_FIELDS \
                and all(isinstance(w, str) for w in query.words):
            return self._near(query, within)
        if isinstance(query, wq.Phrase) and query.fieldname in _SCORED_FIELDS \
                and query.slop == 1 and all(isinstance(w, str) for w in query.words):
            return self._phrase_node(query, within)
        if isinstance(query, wq.Prefix) and query.fieldname in _SCORED_FIELDS:
            return self._prefix(query, within)
        return match_with_whoosh(query, self.searcher)

    def _or_parts(self, subqueries: list[wq.Query], within: np.ndarray | None) -> list[Matches]:
        """The matches of each of an OR's SUBQUERIES (exact on WITHIN if given).

        With WITHIN, a typed form (an exact-form term right after its stem,
        ``query.prefer_typed_forms``) is read only for the documents of WITHIN holding its
        stem: a document holding the form as written holds its stem in the same field, so
        the others owe it nothing. Settling a page's matches reads a word's form in the titles
        only where its stem is in their titles (seldom), not in every segment holding them.
        """
        self._read_ahead([(subqueries, within)])
        parts: list[Matches] = []
        for sub in subqueries:
            if within is not None and parts and _is_typed_form(sub, subqueries[len(parts) - 1]):
                self._doc_frequency(sub.fieldname, sub.text, subqueries[len(parts) - 1])
                wanted = parts[-1].among(within).docs
                parts.append(self._node(sub, wanted) if len(wanted) else EMPTY)
            else:
                parts.append(self._node(sub, within))
        return parts

    def _read_ahead(self, groups: list[tuple[list[wq.Query], np.ndarray | None]]) -> None:
        """Read together the terms that ``_or_parts`` reads to evaluate each of GROUPS (an
        OR's subqueries, for the documents WITHIN; None: all) and has not read yet: their
        terms first, then their typed forms, each for the documents of WITHIN holding its
        stem (as ``_or_parts`` asks for it). Only reads: each part is evaluated afterwards,
        from them (``_term``), as it would be without them."""
        asked: list[tuple[wq.Term, np.ndarray | None]] = []
        typed: list[tuple[wq.Term, wq.Term, np.ndarray]] = []
        for subqueries, within in groups:
            for i, sub in enumerate(subqueries):
                if within is not None and i and _is_typed_form(sub, subqueries[i - 1]):
                    if _read_as_term(subqueries[i - 1]):
                        typed.append((subqueries[i - 1], sub, within))
                elif _read_as_term(sub) and self._unread(sub, within):
                    if i and _is_typed_form(sub, subqueries[i - 1]):
                        # Counted, then read, only in the segments holding its stem: the
                        # others cannot hold it, and a lookup costs some 10 µs a segment.
                        self._doc_frequency(sub.fieldname, sub.text, subqueries[i - 1])
                    asked.append((sub, within))
        if asked:
            self._terms_read(asked)
        asked = []
        for stem, sub, within in typed:
            wanted = self._term(stem, within).among(within).docs
            self._doc_frequency(sub.fieldname, sub.text, stem)
            if len(wanted) and self._unread(sub, wanted):
                asked.append((sub, wanted))
        if asked:
            self._terms_read(asked)

    def expand_prefix(self, query: wq.Prefix) -> wq.Query:
        """Return PREFIX as the OR of the words it stands for (the most frequent ones first).

        Scored as those words are (BM25F), not with Whoosh's constant prefix score, so that
        articles using the words more rank higher. At most ``MAX_PREFIX_TERMS`` words.
        """
        words, _, _ = self._expansion(query)
        if not words:
            return wq.NullQuery
        terms = [wq.Term(query.fieldname, word.decode("utf-8")) for word in words]
        return terms[0] if len(terms) == 1 else wq.Or(terms, boost=query.boost)

    def _expansion(self, query: wq.Prefix,
                   ) -> tuple[list[bytes], list[list[bytes]], dict[bytes, int] | None]:
        """The words PREFIX stands for (in byte order, Whoosh's), each segment's own, and
        their document frequencies when they were needed to choose the words (else None).

        At most ``MAX_PREFIX_TERMS`` words: the most frequent ones. Each segment's list holds
        its words of the prefix in byte order (some may be beyond the words kept).
        """
        field = query.fieldname
        try:
            prefix = self.searcher.schema[field].to_bytes(query.text)
        except (KeyError, ValueError):
            return [], [[] for _ in self.leaves], None
        runs = [_segment_prefix_run(self.searcher, leaf, field, prefix, query.text)
                for leaf, _ in self.leaves]
        for run in runs:
            self._run_of[id(run.words)] = run
        per_leaf = [run.words for run in runs]
        # Each segment's words, merged, in Whoosh's order: by their bytes.
        words = sorted(set().union(*per_leaf))
        frequency = None
        if len(words) > MAX_PREFIX_TERMS:
            # Frequencies from the term entries the segments keep, which the read reuses.
            frequency = self._prefix_frequencies(field, per_leaf)
            words.sort(key=lambda word: -frequency[word])
            words = sorted(words[:MAX_PREFIX_TERMS])
        return words, per_leaf, frequency

    def _prefix_frequencies(self, field: str, per_leaf: list[list[bytes]]) -> dict[bytes, int]:
        """How many documents hold each word of PER_LEAF (each segment's words of a prefix),
        summed over the segments that hold it: from the entries read with a segment's words
        (``prefix_run``), else from the term entries the segments keep."""
        frequency: dict[bytes, int] = {}
        get = frequency.get
        for (leaf, _), leaf_words in zip(self.leaves, per_leaf, strict=True):
            entries = self._entries_of(leaf_words)
            if entries is None:
                for word in leaf_words:
                    frequency[word] = get(word, 0) + doc_frequency(leaf, field, word)
                continue
            for word, entry in zip(leaf_words, entries, strict=True):
                frequency[word] = get(word, 0) + entry[0]
        return frequency

    def _entries_of(self, leaf_words: list[bytes]) -> list[TermEntry] | None:
        """The term entries read with LEAF_WORDS (a segment's words of a prefix expanded by
        this engine, ``_expansion``), None when they were not read with them."""
        run = self._run_of.get(id(leaf_words))
        if run is None or run.words is not leaf_words or len(run.entries) != len(leaf_words):
            return None
        return run.entries

    def _prefix(self, query: wq.Prefix, within: np.ndarray | None = None) -> Matches:
        """The OR of the words PREFIX stands for, their postings scored together.

        The same documents and scores as the OR of their terms: every posting is scored with
        its word's idf, and the scores are added per document in the words' order
        (``np.bincount`` adds in input order, as the OR adds its parts). A document is in one
        segment, so the sums are made segment by segment, each segment's postings of all the
        words read in one piece (``read_terms_postings``): a search holds one segment's
        postings at a time, not the prefix's (millions at a million articles).
        """
        # Counted already when the prefix was asked for its page (``_prefix_page``).
        words, per_leaf, known = self._counted.get((query.fieldname, query.text)) \
            or self._expansion(query)
        if len(words) < 2:
            return self._node(self.expand_prefix(query), within)
        if within is not None:
            return self._prefix_within(query, words, within)
        field = query.fieldname
        frequency = self._prefix_frequencies(field, per_leaf) if known is None else known
        held = self._held_lists(field, words)
        idf = np.array([self._idf(held[i][2] if i in held else frequency.get(word, 0))
                        for i, word in enumerate(words)], dtype=np.float64)
        kept = {word: i for i, word in enumerate(words)}
        docs_parts: list[np.ndarray] = []
        score_parts: list[np.ndarray] = []
        for (leaf, _), span, leaf_words in zip(self.leaves, self._spans, per_leaf,
                                               strict=True):
            present, unread, chosen = _present_words(kept, held, leaf_words,
                                                     self._entries_of(leaf_words))
            read = _SegmentRead(_NO_DOCS, _NO_WEIGHTS, [], [])
            if unread:
                # The entries read with the words, when they were: none looked up again.
                docs, tf, counts = read_terms_postings(
                    leaf, field, [words[i] for i in unread]) if chosen is None \
                    else read_entries_postings(leaf, chosen)
                read = _SegmentRead(docs, tf, unread, counts.tolist())
            summed = self._segment_sums(field, span, present, held, read, idf)
            if summed is not None:
                docs_parts.append(summed[0])
                score_parts.append(summed[1])
        if not docs_parts:
            return EMPTY
        return self._scaled(Matches(np.concatenate(docs_parts).astype(np.int64, copy=False),
                                    np.concatenate(score_parts)), query.boost)

    def _held_lists(self, field: str, words: list[bytes],
                    ) -> dict[int, tuple[np.ndarray, np.ndarray, int]]:
        """The whole lists of WORDS the generation's cache holds (by word index).

        A prefix keeps none of the lists it reads: keeping them cost a third of a small
        prefix's matching (hundreds of words, each list made anew as the cache keeps it) and
        pushed out the lists of the words other searches share, for the few later searches
        of the set that read one of them again (docs/whoosh.md, "Prefixes", 2026-12-08,
        later)."""
        held: dict[int, tuple[np.ndarray, np.ndarray, int]] = {}
        if self.postings is None:
            return held
        for i, word in enumerate(words):
            cached = self.postings.get((field, word))
            if cached is not None:
                held[i] = cached
        return held

    def _segment_sums(self, field: str, span: tuple[int, int], present: list[int],
                      held: dict[int, tuple[np.ndarray, np.ndarray, int]], read: _SegmentRead,
                      idf: np.ndarray) -> tuple[np.ndarray, np.ndarray] | None:
        """The documents of one segment (SPAN: its first and next-after-last document) that
        the words PRESENT (their indexes, in order) hold, and their summed scores; each word's
        postings from HELD (whole lists from the cache) or READ (this segment's), IDF by word.

        The words read in this segment are taken as one piece, their postings one after
        another as read (no copy per word); only a word held in the cache splits it."""
        start, stop = span
        if not held or not any(i in held for i in present):
            if not len(read.docs):
                return None
            local = read.docs
            which, counted = read.words, read.counts
            tf = read.tf
        else:
            ids: list[np.ndarray] = []
            weights: list[np.ndarray] = []
            which, counted = [], []
            ends = np.cumsum(read.counts).tolist()
            place = {i: (end - count, end)
                     for i, count, end in zip(read.words, read.counts, ends, strict=True)}
            for i in present:
                if i in held:
                    all_ids, all_tf, _ = held[i]
                    first, last = np.searchsorted(all_ids, (start, stop)).tolist()
                    piece = (all_ids[first:last] - start, all_tf[first:last])
                else:
                    first, last = place[i]
                    piece = (read.docs[first:last], read.tf[first:last])
                if len(piece[0]):
                    ids.append(piece[0])
                    weights.append(piece[1])
                    which.append(i)
                    counted.append(len(piece[0]))
            if not ids:
                return None
            local = np.concatenate(ids)
            tf = np.concatenate(weights)
        k1 = float(self.weighting.K1)
        codes, norm = self._norm(field)
        if codes.dtype == np.uint8 and tf.dtype == np.float64 and local.dtype == np.int64:
            # Scored and added in one pass, in the order below (``_prefix_sums``).
            matched, sums, inside = _prefix_sums(
                np.ascontiguousarray(idf[which]), np.asarray(counted, dtype=np.int64),
                np.ascontiguousarray(tf), np.ascontiguousarray(local), int(start),
                int(stop - start), codes, norm, k1)
            if not inside:
                raise ValueError("a posting's document is beyond the field lengths")
            return matched + start, sums
        scores = self._bm25f(field, np.repeat(idf[which], counted), tf, local, start)
        summed = np.bincount(local, weights=scores, minlength=stop - start)
        # Every posting adds a positive score (Whoosh's idf and BM25F are positive for a
        # positive weight): the documents held are where the sum is above zero. A boolean
        # array's nonzero places are found some eight times faster than a float array's.
        held_here = summed > 0.0 if float(scores.min()) > 0.0 \
            else np.bincount(local, minlength=stop - start) > 0
        matched = np.flatnonzero(held_here)
        return matched + start, summed[matched]

    def _summed(self, field: str, ids: list[np.ndarray], weights: list[np.ndarray],
                 idfs: list[np.ndarray]) -> Matches:
        """The documents of the words' postings (IDS, WEIGHTS, each posting's word's IDFS), each
        scored with the sum of its postings' BM25F, added in the words' order (``bincount``
        adds in input order, as the OR adds its parts): over the documents present, not an
        array of the index's size."""
        if not ids:
            return EMPTY
        docs = np.concatenate(ids)
        scores = self._bm25f(field, np.concatenate(idfs), np.concatenate(weights), docs)
        matched, place = np.unique(docs, return_inverse=True)
        summed = np.bincount(place.reshape(-1), weights=scores, minlength=len(matched))
        return Matches(matched.astype(np.int64), summed)

    def _prefix_within(self, query: wq.Prefix, words: list[bytes],
                       within: np.ndarray) -> Matches:
        """``_prefix`` exact on WITHIN (ascending): each word's blocks holding none are skipped,
        every word's segment reads decoded together."""
        field = query.fieldname
        ids: list[np.ndarray] = []
        weights: list[np.ndarray] = []
        idfs: list[np.ndarray] = []
        wanted: list[PostingsWanted] = []
        reads: list[tuple[int, int, list[int], int]] = []  # each word's reads, bases, count
        nowhere = np.zeros(len(self._spans), dtype=bool)
        for word in words:
            text = word.decode("utf-8")
            frequency = self._doc_frequency(field, text)
            first = len(wanted)
            bases: list[int] = []
            self._postings_wanted(field, text, word, self._reach(within, frequency), nowhere,
                                  nowhere, wanted, bases)
            reads.append((first, len(wanted), bases, frequency))
        segments = read_postings_together(wanted)
        for first, last, bases, frequency in reads:
            found, tf = _joined(segments[first:last], bases)
            if len(found):
                ids.append(found)
                weights.append(tf)
                idfs.append(np.full(len(found), self._idf(frequency)))
        return self._scaled(self._summed(field, ids, weights, idfs), query.boost)

    def _prefix_page(self, query: wq.Query, limit: int,
                     live: np.ndarray | None) -> Matches | None:
        """The matches of QUERY, a prefix or an OR of prefixes whose words hold more than
        ``PAGE_SCORED_POSTINGS`` postings, scored only where the LIMIT best can be; None for
        another query (evaluated as usual).

        Every document matched is found from its postings' documents alone (``read_terms_ids``)
        with a ceiling: the sum, over its postings, of BM25F of their block's greatest weight
        over the document's own length (``score_bounds``, ``_length_sums``). Segment by
        segment, the documents whose ceiling reaches the LIMIT-th best exact score found so
        far are scored exactly (``settle_reaching``), from their own postings' weights, in the
        order ``_prefix`` and ``union`` add them, so the LIMIT best have the same scores, to
        the bit; the others keep a score of 0 below their ceiling (``Matches.exact_first``).
        Documents not LIVE are left out. A score above its ceiling (limits that do not bound
        their blocks) gives None: the query is then scored as usual.
        """
        parts = [query] if isinstance(query, wq.Prefix) \
            else query.subqueries if _plain_or(query) else []
        if not parts or query.boost != 1.0 or not all(
                isinstance(part, wq.Prefix) and part.fieldname in _SCORED_FIELDS
                and part.boost == 1.0 for part in parts):
            return None
        fields: list[_PrefixField] = []
        postings = 0
        for part in parts:
            words, per_leaf, known = self._expansion(part)
            field = part.fieldname
            frequency = self._prefix_frequencies(field, per_leaf) if known is None else known
            self._counted[(field, part.text)] = (words, per_leaf, frequency)
            if self._lengths(field)[1] is not LENGTH_SCORED:
                return None
            if not words:  # ``_prefix``: a prefix of no word matches nothing
                continue
            postings += sum(frequency.get(word, 0) for word in words)
            idf = np.array([self._idf(frequency.get(word, 0)) for word in words],
                           dtype=np.float64)
            fields.append(_PrefixField(field, words, per_leaf, idf))
        if not fields or postings <= PAGE_SCORED_POSTINGS or self._lists_held(fields):
            return None
        try:
            return self._page_scored(query, fields, limit, live)
        except BoundExceeded as exc:
            report_fallback(self.searcher, "prefix bounds", UnexpectedLayout(str(exc)))
            return None

    def _lists_held(self, fields: list[_PrefixField]) -> bool:
        """Whether the postings cache holds the list of every word of FIELDS' prefixes.

        Those lists are read from the cache without decoding (each word read on its own by
        other searches; a prefix keeps none): scoring all their postings is then cheaper
        than the page's bounds, which decode the documents again.
        """
        if self.postings is None:
            return False
        cache = self.postings
        return all(cache.holds((prefix.field, word)) for prefix in fields
                   for word in prefix.words)

    def _page_scored(self, query: wq.Query, fields: list[_PrefixField], limit: int,
                     live: np.ndarray | None) -> Matches:
        """``_prefix_page`` of the prefixes FIELDS (one per field, in QUERY's order)."""
        page = PageFloor(limit)
        # Each segment's matches written in place (a large prefix matches most of a million
        # documents: no part copied again to be joined).
        documents = np.empty(int(self.size), dtype=np.int64)
        ceilings = np.empty(int(self.size), dtype=np.float64)
        exact_parts: list[tuple[np.ndarray, np.ndarray]] = []
        before = 0
        kept = [{word: i for i, word in enumerate(prefix.words)} for prefix in fields]
        for s, ((leaf, _), span) in enumerate(zip(self.leaves, self._spans, strict=True)):
            segment = _SegmentPrefixes(self, span, page)
            for prefix, index in zip(fields, kept, strict=True):
                leaf_words = prefix.per_leaf[s]
                entries = self._entries_of(leaf_words)
                if entries is None:
                    present = [index[word] for word in leaf_words if word in index]
                    if present:
                        segment.add(prefix, present, read_terms_ids(
                            leaf, prefix.field, [prefix.words[i] for i in present]))
                    continue
                # The entries read with the words: none looked up again.
                present = []
                chosen: list[TermEntry | None] = []
                for word, entry in zip(leaf_words, entries, strict=True):
                    i = index.get(word)
                    if i is not None:
                        present.append(i)
                        chosen.append(entry)
                if present:
                    segment.add(prefix, present, read_entries_ids(leaf, chosen))
            found = segment.matched(live)
            if found is None:
                continue
            matched, ceiling = found
            positions, scores = settle_reaching(ceiling, page, segment.exact)
            after = before + len(matched)
            np.add(matched, span[0], out=documents[before:after])
            ceilings[before:after] = ceiling
            exact_parts.append((positions + before, scores))
            before = after
        if not before:
            return EMPTY
        ceilings = ceilings[:before]
        scores = np.zeros(before, dtype=np.float64)
        for positions, found_scores in exact_parts:
            scores[positions] = found_scores
            ceilings[positions] = found_scores
        return Matches(documents[:before], scores, ceilings,
                       lambda docs: self._settle(query, docs), exact_first=limit)

    def _and(self, query: wq.And, within: np.ndarray | None = None) -> Matches:
        positives = [q for q in query.subqueries if not isinstance(q, wq.Not)]
        if not positives:
            return match_with_whoosh(query, self.searcher)
        result = self._all_of(positives, within, ahead=True)
        if not len(result):
            return EMPTY
        for sub in query.subqueries:
            if isinstance(sub, wq.Not):
                # Whoosh's matcher for NOT scores every document it lets through with its
                # boost: the same constant keeps scores identical to Whoosh's.
                result = self._minus(result, self._node(sub.query, result.docs))
                result = Matches(result.docs, result.scores + sub.boost,
                                 None if result.ceiling is None else result.ceiling + sub.boost)
        return self._scaled(result, query.boost if len(query.subqueries) > 1 else 1.0)

    def _all_of(self, parts: list[wq.Query], within: np.ndarray | None,
                ahead: bool = False) -> Matches:
        """The documents every part matches (exact on WITHIN if given), scores summed.

        The rarest part first, each next part read only where documents are still in the
        running; the scores are then added in the parts' order, as Whoosh adds them. AHEAD:
        the words' terms are first read together for WITHIN (``_read_ahead``), where nearly
        every document of WITHIN is expected to match (a page's matches being settled).
        """
        found: dict[int, Matches] = {}
        candidates = within
        estimates = [self._estimate(part) for part in parts]
        if ahead and within is not None:
            self._read_ahead([(_or_subqueries(part), self._reach(within, estimate))
                              for part, estimate in zip(parts, estimates, strict=True)])
        for i in sorted(range(len(parts)), key=lambda i: estimates[i]):
            # A word is read for the candidates in any case: its read takes the blocks, or
            # the whole list, as they need, and scores theirs (``_term_plan``).
            reach = candidates if _read_as_term(parts[i]) or _terms_or(parts[i]) else \
                self._reach(candidates, estimates[i])
            matches = self._node(parts[i], reach)
            if candidates is not None:
                matches = matches.among(candidates)
            if not len(matches):
                return EMPTY
            found[i] = matches
            candidates = matches.docs
        assert candidates is not None
        # Every part holds each of the last CANDIDATES: their scores are added in the parts'
        # order, as intersecting the parts one after the other adds them.
        at = [_positions(found[i].docs, candidates) for i in range(len(parts))]
        scores = found[0].scores[at[0]]
        for i in range(1, len(parts)):
            scores = scores + found[i].scores[at[i]]
        ceiling = None
        if any(found[i].ceiling is not None for i in range(len(parts))):
            ceiling = found[0].upper[at[0]]
            for i in range(1, len(parts)):
                ceiling = ceiling + found[i].upper[at[i]]
        return Matches(candidates, scores, ceiling)

    def _reach(self, candidates: np.ndarray | None, estimate: int) -> np.ndarray | None:
        """CANDIDATES if reading only their blocks of ESTIMATE postings skips enough of them.

        Candidates spread over the posting blocks: with fewer candidates than blocks, a good
        share of blocks is skipped; with more, nearly all would be decoded anyway, and the
        bookkeeping would cost more than it saves, unless some segment holds no candidate:
        it is then not read at all (each segment's read of a term costs a tenth of a
        millisecond and more, however short the term).
        """
        if candidates is None or (len(candidates) * BLOCK_POSTINGS >= estimate
                                  and self._in_every_segment(candidates)):
            return None
        return candidates

    def _estimate(self, query: wq.Query) -> int:
        """About how many documents QUERY matches, from term entries alone (to order parts)."""
        if isinstance(query, wq.Term) and query.fieldname in _SCORED_FIELDS:
            return self._doc_frequency(query.fieldname, query.text)
        if isinstance(query, wq.Or):
            return sum(self._estimate(sub) for sub in query.subqueries)
        if isinstance(query, wq.And) and query.subqueries:
            return min(self._estimate(sub) for sub in query.subqueries)
        if isinstance(query, wq.Phrase) and query.fieldname in _SCORED_FIELDS:
            if isinstance(query, ExactPhrase) and query.stemmed:
                stemmed: str = _STEMMED_FIELD.get(query.fieldname) or query.fieldname
                return min(self._doc_frequency(stemmed, word) for word in query.stemmed)
            words = [word for word in query.words if isinstance(word, str)]
            if words and len(words) == len(query.words):
                return min(self._doc_frequency(query.fieldname, word) for word in words)
        return int(self.size)

    def _term(self, query: wq.Term, within: np.ndarray | None = None) -> Matches:
        """The documents of a term with their BM25F scores (WITHIN: at least those of them)."""
        key = _term_key(query)
        read = self._read.get(key)
        if read is None or not self._covered(read[2], read[3], within):
            self._terms_read([(query, within)])
            read = self._read[key]
        found, tf, _, _ = read
        if isinstance(query, _StemOfTypedForm) and len(found):
            if within is not None and len(found) > len(within):
                # Only WITHIN is asked for (an AND's candidates): their ceilings alone are
                # computed, not those of a common word's whole list.
                at = _found(found.docs, within)
                found, tf = Matches(found.docs[at], found.scores[at]), tf[at]
            bound = self._typed_form_bound(query.typed, query, found.docs, tf)
            return Matches(found.docs, found.scores, found.scores + bound)
        return found

    def _unread(self, query: wq.Term, within: np.ndarray | None) -> bool:
        """Whether ``_term`` would read QUERY's term for WITHIN (not read for them yet)."""
        read = self._read.get(_term_key(query))
        return read is None or not self._covered(read[2], read[3], within)

    def _terms_read(self, asked: list[tuple[wq.Term, np.ndarray | None]]) -> None:
        """Read each term of ASKED for its documents (None: all), as ``_term`` reads one, and
        keep the reads: every segment's postings of all of them decoded together
        (``read_postings_together``), where each term's read of each segment costs some
        60 numpy calls on short arrays alone."""
        plans: list[_TermPlan] = []
        wanted: list[PostingsWanted] = []
        planned: set[tuple[str, str, float]] = set()
        for query, within in asked:
            key = _term_key(query)
            if key in planned:  # asked twice: the second is looked at when evaluated
                continue
            planned.add(key)
            plans.append(self._term_plan(query, key, within, wanted))
        found = read_postings_together(wanted) if wanted else []
        for plan in plans:
            self._read[plan.key] = self._term_done(plan, found)

    def _term_plan(self, query: wq.Term, key: tuple[str, str, float],
                   within: np.ndarray | None, wanted: list[PostingsWanted]) -> _TermPlan:
        """How to read QUERY's term for the documents WITHIN (None: all), knowing its earlier
        read (if any), adding the segment reads it needs to WANTED."""
        earlier = self._read.get(key)
        held = self._held(query)
        asked = None
        whole = np.full(len(self._spans), within is None)
        if within is not None and not held and len(within) * BLOCK_POSTINGS \
                >= self._doc_frequency(query.fieldname, query.text):
            # Nearly every block holds a candidate: read it whole (and keep it) in every
            # segment holding one. A list held whole already gives the candidates' postings
            # alone. A segment without a candidate is not read at all: each segment's read of
            # a term costs a tenth of a millisecond and more, however short the term.
            whole = self._segments_holding(within)
            if whole.all():
                # Read whole, but scored for the documents asked alone when they are few
                # against the list (``_ASKED_SHARE``): the rest would be scored for nothing.
                asked, within = within, None
        # The segments an earlier read took whole are not read again.
        done = np.zeros(len(self._spans), dtype=bool) if earlier is None or held \
            else earlier[3]
        plan = _TermPlan(query, key, earlier, within, whole, done, asked)
        try:
            plan.btext = self.searcher.schema[query.fieldname].to_bytes(query.text)
        except ValueError:
            return plan
        if self.postings is not None:
            plan.held = self.postings.get((query.fieldname, plan.btext), within)
        if plan.held is None:
            plan.first = len(wanted)
            self._postings_wanted(query.fieldname, query.text, plan.btext, within, whole,
                                  done, wanted, plan.bases)
            plan.last = len(wanted)
        return plan

    def _term_done(self, plan: _TermPlan, found: list[Postings | None]) -> _TermRead:
        """The read of PLAN's term (its postings scored, their weights, the documents read
        for, which segments were read whole), from FOUND (the batch's segment reads)."""
        matches, tf = self._term_postings(plan, found)
        within, whole, done, earlier = plan.within, plan.whole, plan.done, plan.earlier
        if plan.scored_for is not None:  # read whole, scored for the documents asked alone
            within, whole = plan.scored_for, np.zeros_like(whole)
        if earlier is not None and done.any():
            kept = done[self._segment_of(earlier[0].docs)]
            docs = np.concatenate((earlier[0].docs[kept], matches.docs))
            order = np.argsort(docs, kind="stable")
            matches = Matches(docs[order],
                              np.concatenate((earlier[0].scores[kept], matches.scores))[order])
            tf = np.concatenate((earlier[1][kept], tf))[order]
            whole = whole | done
            if whole.all():
                within = None
        return matches, tf, within, whole

    def _segment_of(self, docs: np.ndarray) -> np.ndarray:
        """The index of the segment holding each of DOCS."""
        found: np.ndarray = self._starts.searchsorted(docs, side="right") - 1
        return found

    def _segments_holding(self, docs: np.ndarray) -> np.ndarray:
        """Whether each segment holds one of DOCS (ascending) at least, a boolean each."""
        firsts = np.searchsorted(docs, self._starts)
        stops = np.searchsorted(docs, [stop for _, stop in self._spans])
        held: np.ndarray = stops > firsts
        return held

    def _in_every_segment(self, docs: np.ndarray) -> bool:
        """Whether each segment holds one of DOCS (ascending) at least."""
        return bool(self._segments_holding(docs).all())

    def _covered(self, earlier: np.ndarray | None, whole: np.ndarray,
                 within: np.ndarray | None) -> bool:
        """Whether a term read for the documents EARLIER (None: all), and in whole in the
        segments WHOLE, holds every posting of the documents WITHIN (None: all)."""
        if earlier is None:  # read for every document: every segment was read whole
            return True
        if within is None:
            return False
        if within is earlier:
            return True
        rest = within[~whole[self._segment_of(within)]] if whole.any() else within
        return not len(rest) or int(_positions(earlier, rest).min()) >= 0

    def _term_postings(self, plan: _TermPlan, found: list[Postings | None],
                       ) -> tuple[Matches, np.ndarray]:
        """PLAN's term's postings (its WITHIN: at least those documents, and every posting of
        the segments its WHOLE marks; none of those its DONE marks), scored, and their
        weights: from the generation's cache, or from FOUND (the batch's segment reads)."""
        if plan.btext is None:
            return EMPTY, _NO_WEIGHTS
        field, within, whole = plan.query.fieldname, plan.within, plan.whole
        if plan.held is not None:
            ids, tf, frequency = plan.held
        else:
            ids, tf = _joined(found[plan.first:plan.last], plan.bases)
            # Every segment's count, read or not (the term entries the search looked up).
            frequency = self._doc_frequency(field, plan.query.text)
            if within is None and self.postings is not None and len(ids) \
                    and not plan.done.any():
                self.postings.put((field, plan.btext), ids, tf, frequency)
            if plan.asked is not None and len(plan.asked) * _ASKED_SHARE < len(ids):
                at = _found(ids, plan.asked)
                ids, tf = ids[at], tf[at]
                plan.scored_for = plan.asked
            elif within is not None and len(ids):
                # The blocks read hold other documents too: only WITHIN's are scored, and
                # those of the segments read whole (kept for other candidates).
                if whole.any():
                    keep = _member(ids, within) | whole[self._segment_of(ids)]
                    ids, tf = ids[keep], tf[keep]
                else:
                    at = _found(ids, within)
                    ids, tf = ids[at], tf[at]
        if not len(ids):
            return EMPTY, _NO_WEIGHTS
        scores = self._bm25f(field, self._idf(frequency), tf, ids)
        if plan.query.boost != 1.0:
            scores = scores * plan.query.boost
        return Matches(ids, scores), tf

    def _held(self, query: wq.Term) -> bool:
        """Whether the generation's cache holds the whole posting list of QUERY's term."""
        if self.postings is None:
            return False
        try:
            btext = self.searcher.schema[query.fieldname].to_bytes(query.text)
        except ValueError:
            return False
        return self.postings.holds((query.fieldname, btext))

    def _postings_wanted(self, field: str, text: str, btext: bytes,
                         within: np.ndarray | None,
                         whole: np.ndarray, done: np.ndarray, wanted: list[PostingsWanted],
                         bases: list[int]) -> None:
        """Add to WANTED the segment reads of a term's postings (WITHIN: only the blocks
        holding those documents, and not at all in a segment holding none; the segments
        WHOLE marks are read whole if they hold one; those DONE marks are not read, nor
        those whose count of TEXT is known to be none), and each one's first document to
        BASES."""
        bounds = None if within is None else within.searchsorted(self._starts).tolist()
        counts = self._segment_frequencies.get((field, text))
        for segment, (leaf, base) in enumerate(self.leaves):
            local = None
            if done[segment] or (counts is not None and not counts[segment]):
                continue  # read whole already, or holding none of the term's postings
            if bounds is not None:  # segments follow each other
                assert within is not None
                lo = bounds[segment]
                hi = bounds[segment + 1] if segment + 1 < len(bounds) else len(within)
                if lo == hi:
                    continue  # no document wanted in this segment
                if not whole[segment]:
                    local = within[lo:hi] - base
            wanted.append(PostingsWanted(leaf, field, btext, local))
            bases.append(base)

    def _typed_form_bound(self, typed: wq.Term, stem: wq.Term, ids: np.ndarray,
                          tf: np.ndarray) -> np.ndarray:
        """The most the exact-form term TYPED can score in IDS, whose STEM weighs TF there.

        BM25F grows with the weight: the typed form's weight is at most its stem's (the same
        occurrences, the same field boost), with the exact field's own statistics and lengths.
        """
        field = typed.fieldname
        frequency = self._doc_frequency(field, typed.text, stem)
        if not frequency:
            return np.zeros(len(ids), dtype=np.float64)
        bound = self._bm25f(field, self._idf(frequency), tf, ids)
        return bound * float(typed.boost) if typed.boost != 1.0 else bound

    def _idf(self, frequency: int) -> float:
        """Whoosh's idf (``scoring.WeightingModel.idf``) of a term in FREQUENCY documents."""
        return log(self.size / (frequency + 1)) + 1

    def _bm25f(self, field: str, idf: float | np.ndarray, tf: np.ndarray,
               docs: np.ndarray, start: int = 0) -> np.ndarray:
        """Whoosh's BM25F score of postings of weights TF in DOCS of FIELD (its formula, its
        field lengths and average); DOCS counted from document START."""
        k1 = float(self.weighting.K1)
        codes, norm = self._norm(field)
        if codes.dtype != np.uint8 or tf.dtype != np.float64 or docs.dtype != np.int64:
            # Lengths read through Whoosh (coded by ``np.unique``), or weights of another
            # type: the arrays' own arithmetic (``bm25f_reference``).
            return bm25f_reference(idf, tf, docs, start, codes, norm, k1)
        each = idf if isinstance(idf, np.ndarray) else np.array((idf,), dtype=np.float64)
        scores, inside = _bm25f_scores(
            np.ascontiguousarray(each, dtype=np.float64), np.ascontiguousarray(tf),
            np.ascontiguousarray(docs), int(start), codes, norm, k1)
        if not inside:
            raise ValueError("a posting's document is beyond the field lengths")
        return scores

    def _norm(self, field: str) -> tuple[np.ndarray, np.ndarray]:
        """FIELD's length code per document and BM25F's length part of the denominator per
        code (Whoosh keeps a length as one byte): the same operations on the same values as
        per posting."""
        known = self._norms.get(field)
        if known is None:
            k1 = float(self.weighting.K1)
            avgfl = self.searcher.avg_field_length(field) or 1
            b = field_b(self.weighting, field)
            codes, lengths = self._lengths(field)
            known = self._norms[field] = (codes, k1 * ((1 - b) + b * lengths / avgfl))
        return known

    def _lengths(self, field: str) -> tuple[np.ndarray, np.ndarray]:
        """FIELD's length in every document as (a code per document, the length of each code):
        a byte a document rather than a float (8 MB a field at a million documents), kept in
        the generation's ``lengths``."""
        found = self.lengths.get(field)
        if found is None:
            parts = [self._leaf_lengths(leaf, field) for leaf, _ in self.leaves]
            if all(part.dtype == np.uint8 for part in parts):
                codes = np.concatenate(parts) if parts else np.zeros(0, dtype=np.uint8)
                found = (codes, LENGTH_SCORED)
            else:  # a segment read through Whoosh: its lengths as they are, coded
                lengths = np.concatenate([LENGTH_SCORED[part] if part.dtype == np.uint8
                                          else part for part in parts])
                table, codes = np.unique(lengths, return_inverse=True)
                found = (codes.reshape(-1), table)
            self.lengths[field] = found
        return found

    def _leaf_lengths(self, leaf: Any, field: str) -> np.ndarray:
        """A segment's lengths of FIELD: Whoosh's byte per document (uint8), else its lengths
        read document by document (float64)."""
        try:
            return field_length_bytes(leaf, field)
        except UnexpectedLayout as exc:
            report_fallback(self.searcher, "field lengths", exc)
            return slow_field_lengths(leaf, field)

    def _phrase_node(self, query: wq.Phrase, within: np.ndarray | None) -> Matches:
        """A phrase or quotation of words (``_phrase``, ``_exact_phrase``). Asked again
        after it was found on every document (a page being settled, or scored at once after
        all), its matches are not found again: those scored give their scores, those given
        ceilings their words' scores there (each document's score is the sum of its words',
        whichever others are asked)."""
        key = (type(query).__name__, query.fieldname, tuple(query.words))
        known = self._phrases.get(key)
        if known is not None and (within is not None or not self._bounding):
            if known.ceiling is None:
                return known if within is None else known.among(within)
            docs = known.docs if within is None else _sorted_common(known.docs, within)
            if not len(docs):
                return EMPTY
            terms = [wq.Term(query.fieldname, word) for word in query.words]
            return self._scaled(self._all_of(terms, docs), query.boost)
        bounding = self._bounding
        self._bounding = bounding and within is None  # only where its documents are all found
        try:
            found = self._exact_phrase(query, within) if isinstance(query, ExactPhrase) \
                else self._phrase(query, within)
        finally:
            self._bounding = bounding
        if within is None and bounding:
            self._phrases[key] = found
        return found

    def _phrase(self, query: wq.Phrase, within: np.ndarray | None = None) -> Matches:
        """Documents where the words follow each other, scored as Whoosh does (sum of words).

        The documents holding every word are found in numpy and narrowed to those holding
        every pair of consecutive words (the word-pair field, when the index has one): that
        is the answer for two words; for more, positions are then read only for those
        documents, from only the posting blocks that hold them.
        """
        paired, _ = self._pair_documents(query.fieldname, query.words, within)
        return self._phrase_among(query, within, paired)

    def _phrase_among(self, query: wq.Phrase, within: np.ndarray | None,
                      paired: np.ndarray | None) -> Matches:
        """The phrase QUERY on WITHIN, knowing PAIRED (the documents of its indexed pairs)."""
        field = query.fieldname
        candidates = paired
        if within is not None:
            candidates = within if candidates is None else _sorted_common(candidates, within)
        if candidates is not None and not len(candidates):
            return EMPTY
        terms = [wq.Term(field, word) for word in query.words]
        if paired is not None and len(query.words) == 2:
            # Two words whose pair is indexed: the pair's documents are the answer.
            assert candidates is not None
            bounded = self._ceilings(terms, candidates)
            if bounded is not None:
                return self._scaled(bounded, query.boost)
            return self._scaled(self._all_of(terms, candidates), query.boost)
        if candidates is not None and paired is not None \
                and self._pairs_complete(field, query.words):
            holding = candidates  # every word is in one of the pairs they all hold
        else:
            holding = self._holding(field, query.words, candidates)
        decoded: _SequencePostings = {}
        ordered = holding[self._in_sequence(field, query.words, holding, decoded)]
        if not len(ordered):
            return EMPTY
        # Scores only for the documents the phrase is in: the common words' blocks that
        # hold none of them are not read, and those its positions came from not again.
        self._read_from_positions(terms, ordered, decoded)
        bounded = self._ceilings(terms, ordered)
        if bounded is not None:
            return self._scaled(bounded, query.boost)
        together = self._all_of(terms, ordered)
        return self._scaled(together.where(self._mask(ordered)[together.docs]), query.boost)

    def _ceilings(self, terms: list[wq.Term], docs: np.ndarray) -> Matches | None:
        """DOCS (ascending, each holding every one of TERMS: a phrase's documents) with
        ceilings of their scores and no scores yet (0.0, at most any BM25F sum), or None
        where they are to be scored now: few (``_CEILINGS_FROM``), a page not settled
        afterwards (``_bounding``), or every term read for them already or kept whole in
        the generation's cache (scored from there at about a ceiling's cost).

        A term read for DOCS already gives its scores; any other its block directories (no
        posting decoded): the BM25F of its blocks' greatest weights at each document's own
        length (``score_bounds``), the most it can score there. Added in TERMS' order, as
        ``_all_of`` adds the scores, so a ceiling is at least the final score (rounding
        aside: ``search._settled`` keeps a margin).
        """
        if not self._bounding or len(docs) <= _CEILINGS_FROM \
                or len(docs) * _CEILINGS_SHARE > self.size:
            return None
        reads = [self._read.get(_term_key(query)) for query in terms]
        if all((read is not None and self._covered(read[2], read[3], docs)) or self._held(query)
               for query, read in zip(terms, reads, strict=True)):
            return None  # scored from what was read already, or from the generation's cache
        bounds = docs.searchsorted(self._starts).tolist()
        bounds.append(len(docs))
        k1 = float(self.weighting.K1)
        parts: dict[str, np.ndarray] = {}  # each field's length part of DOCS, gathered once
        ceiling: np.ndarray | None = None
        for query, read in zip(terms, reads, strict=True):
            field = query.fieldname
            if read is not None and self._covered(read[2], read[3], docs):
                at = _positions(read[0].docs, docs)
                if int(at.min()) < 0:
                    return None
                upper = read[0].scores[at]
            else:
                try:
                    btext = self.searcher.schema[field].to_bytes(query.text)
                except ValueError:
                    return None
                weights = np.empty(len(docs), dtype=np.float64)
                for segment, (leaf, base) in enumerate(self.leaves):
                    lo, hi = bounds[segment], bounds[segment + 1]
                    if lo == hi:
                        continue
                    heaviest = frontier_ceilings(leaf, field, btext, docs[lo:hi] - base,
                                                 self._norm(field)[0][docs[lo:hi]])
                    if heaviest is None:  # not a phrase's documents after all: score them
                        return None
                    weights[lo:hi] = heaviest
                frequency = self._doc_frequency(field, query.text)
                self._bounded_words.add((field, query.text))
                part = parts.get(field)
                if part is None:
                    codes, norm = self._norm(field)
                    part = parts[field] = norm[codes[docs]]
                # ``_bm25f``'s formula (raised by ``BOUND_SLACK``): it grows with the weight,
                # the length part fixed.
                upper = bm25f_bounds(np.array([self._idf(frequency)]), weights, part, k1)
                if query.boost != 1.0:
                    upper = upper * query.boost
            ceiling = upper if ceiling is None else ceiling + upper
        assert ceiling is not None
        return Matches(docs, np.zeros(len(docs), dtype=np.float64), ceiling)

    def _phrase_documents(self, field: str, words: list[str],
                          within: np.ndarray) -> np.ndarray:
        """The documents of WITHIN (ascending) where WORDS of FIELD follow each other, without
        scores: what ``_phrase`` finds there, for a phrase that only narrows another."""
        paired, complete = self._pair_documents(field, words, within)
        candidates = within if paired is None else _sorted_common(paired, within)
        if paired is not None and (len(words) == 2 or not len(candidates)):
            return candidates  # two words whose pair is indexed: the pair's documents
        holding = candidates if paired is not None and complete else \
            self._holding(field, words, candidates)
        found: np.ndarray = holding[self._in_sequence(field, words, holding)]
        return found

    def _holding(self, field: str, words: list[str],
                 candidates: np.ndarray | None) -> np.ndarray:
        """The CANDIDATES (all documents if None) holding every word found in few documents.

        A word in most documents narrows little and its postings are long: the documents
        holding the others are enough to look for the phrase in (its positions tell).
        """
        frequencies = [self._doc_frequency(field, word) for word in words]
        narrowing = [wq.Term(field, word) for word, frequency in zip(words, frequencies,
                                                                       strict=True)
                     if frequency * _EVERYWHERE < self.size]
        if not narrowing:
            narrowing = [wq.Term(field, words[frequencies.index(min(frequencies))])]
        docs = self._all_of(narrowing, candidates).docs
        if candidates is not None:
            docs = _sorted_common(docs, candidates)
        return docs

    def _exact_phrase(self, query: ExactPhrase, within: np.ndarray | None = None) -> Matches:
        """A quoted phrase of an exact-form field, narrowed first by word pairs.

        The exact-form pairs of frequent words (small words included) come first: when every
        two consecutive words are such a pair, their posting lists narrow the most. Otherwise
        the same phrase stemmed narrows too (``_stemmed_narrowed``): every document holding
        the words as written holds their stems in sequence (the stemmed field drops stop words
        and renumbers, so the stems stay consecutive), and the stemmed phrase is quick (word
        pairs). Exact positions are read only for the documents left.
        """
        paired, complete = self._pair_documents(query.fieldname, query.words, within)
        candidates = within
        if paired is not None:
            candidates = paired if within is None else _sorted_common(paired, within)
            if not len(candidates):
                return EMPTY
        stemmed_field = _STEMMED_FIELD.get(query.fieldname)
        if stemmed_field is not None and query.stemmed and not complete:
            candidates = self._stemmed_narrowed(query, stemmed_field, candidates,
                                                self._pairs_placed(query.fieldname)
                                                and paired is not None)
            if not len(candidates):
                return EMPTY
        result = self._phrase_among(query, candidates, paired)
        if candidates is not None and len(result):
            result = result.where(self._mask(candidates)[result.docs])
        return result

    def _stemmed_narrowed(self, query: ExactPhrase, stemmed_field: str,
                          candidates: np.ndarray | None, pairs_placed: bool = False,
                          ) -> np.ndarray:
        """The CANDIDATES (all documents if None) holding every word of QUERY found in few
        documents as written, and its stemmed phrase (``query.stemmed`` in STEMMED_FIELD).

        Whichever is rarer is read first and the other only in the blocks holding what it
        left: the stemmed pairs' documents (a pair of two words in a few dozen articles, where
        a word may be in thousands) or the words as written. A rare word makes the documents
        holding it few, and the stemmed phrase of its common stems is then asked only about
        those; two stems whose pair is indexed are a stemmed phrase by their pair alone.
        PAIRS_PLACED: the exact phrase's sequence is checked on some of its own pairs' places
        (``_in_sequence``), its small words then read as pairs: the stemmed phrase's positions
        (as many as the exact check's, and not read again to score) are then not checked.
        """
        stems = query.stemmed
        pairs_field = PAIR_FIELDS.get(stemmed_field)
        indexed = None if pairs_field is None or pairs_field not in self.searcher.schema \
            else getattr(self.searcher.schema[pairs_field].analyzer, "pairs", None)
        stem_pairs = None
        if indexed is not None and pairs_field is not None and len(stems) > 1:
            pairs = [word_pair(a, b) for a, b in zip(stems, stems[1:], strict=False)
                     if indexed(a, b)]
            rarest_word = min(self._doc_frequency(query.fieldname, word)
                              for word in query.words)
            if pairs and min(self._doc_frequency(pairs_field, pair) for pair in pairs) \
                    < rarest_word:
                stem_pairs, _ = self._pair_documents(stemmed_field, stems, candidates)
        if stem_pairs is not None:
            candidates = stem_pairs if candidates is None else \
                _sorted_common(stem_pairs, candidates)
            if not len(candidates):
                return candidates
        holding = self._holding(query.fieldname, query.words, candidates)
        if not len(holding) or (stem_pairs is not None and len(stems) == 2):
            # Two stems whose pair is indexed: its documents are the stemmed phrase's.
            return holding
        if pairs_placed and len(stems) > 1:
            return holding
        if len(stems) == 1:
            stemmed = self._node(wq.Term(stemmed_field, stems[0]), holding).docs
        elif stemmed_field in _SCORED_FIELDS:
            stemmed = self._phrase_documents(stemmed_field, stems, holding)
        else:
            stemmed = self._node(wq.Phrase(stemmed_field, stems), holding).docs
        return _sorted_common(stemmed, holding)

    def _near(self, query: Near, within: np.ndarray | None = None) -> Matches:
        """Documents holding every word within ``slop`` positions of each other, any order.

        Scored as a phrase (the sum of its words' BM25F). A window starting at any occurrence
        of any word must hold an occurrence of every word within ``slop`` positions after it.
        """
        field = query.fieldname
        words = list(dict.fromkeys(query.words))
        distance = int(query.slop)
        terms = [wq.Term(field, word) for word in query.words]
        if within is None and len(words) > 1 and all(
                self._doc_frequency(field, word) * _COMMON_SHARE >= self.size for word in words):
            near = self._read_whole(field, words, distance)
            if near is not None:
                # Scored where the words are near each other alone (a fraction of the
                # documents holding them all), as ``_all_of`` scores them: the same terms,
                # the same scores added in the same order.
                if not len(near):
                    return EMPTY
                present, scores = self._on(wq.And(terms), near)
                return self._scaled(Matches(near[present], scores[present]), query.boost)
        together = self._all_of(terms, within)
        if not len(together) or len(words) < 2:
            return self._scaled(together, query.boost)
        keep = np.zeros(len(together), dtype=bool)
        fieldobj = self.searcher.schema[field]
        for leaf, base in self.leaves:
            docs = together.docs
            lo, hi = np.searchsorted(docs, [base, base + leaf.doc_count_all()])
            if lo == hi:
                continue
            local = docs[lo:hi] - base
            keys = [_position_keys(*read_positions(leaf, field, fieldobj.to_bytes(word), local))
                    for word in words]
            found = _near_documents(keys, distance)
            if len(found):
                keep[lo + found] = True
        return self._scaled(together.where(keep), query.boost)

    def _read_whole(self, field: str, words: list[str], distance: int) -> np.ndarray | None:
        """Return the documents holding WORDS within DISTANCE of each other, reading the
        words' whole postings (into the generation's cache) and their values together, each
        block decoded once (``read_whole_term``); None without a postings cache.

        Words each in a good share of the documents are found together in a good share of
        each one's documents, whose postings are read whole anyway. Segment by segment, the
        documents holding every word are found from the postings, and only their positions
        are decoded: never the whole positions of every word (which did not stay in the
        process's budget at a million articles and were decoded again to be read), not even
        of a word whose postings are kept. A word whose postings are kept has only its
        values' sizes decoded from its blocks (``read_term_values``): its documents are the
        kept list's, its weights not needed here.
        """
        if self.postings is None:
            return None
        fieldobj = self.searcher.schema[field]
        try:
            btexts = [fieldobj.to_bytes(word) for word in words]
        except ValueError:
            return None
        lists: dict[bytes, tuple[list[np.ndarray], list[np.ndarray], int]] = {}
        # The documents of the lists kept (asked once: each answer is a copy of the list).
        kept: dict[bytes, np.ndarray] = {}
        for btext in btexts:
            documents = self.postings.documents((field, btext))
            if documents is None:
                lists[btext] = ([], [], 0)
            else:
                kept[btext] = documents
        near: list[np.ndarray] = []
        for leaf, base in self.leaves:
            values: list[TermValues | None] = []
            held: list[np.ndarray] = []
            for btext in btexts:
                if btext in kept:
                    docs = _segment_documents((kept[btext], _NO_WEIGHTS, 0), leaf, base,
                                              field, btext)
                    held.append(docs)
                    # Its whole positions kept by the process are picked from; else its
                    # values are found from its blocks without decoding its postings again.
                    values.append(None if positions_kept(leaf, field, btext) else
                                  read_term_values(leaf, field, btext, docs))
                    continue
                found = read_whole_term(leaf, field, btext)
                values.append(None if found is None else found[0])
                held.append(_NO_DOCS if found is None else found[0].ids)
                if found is not None and len(found[0].ids):
                    docs_read, weights, frequency = lists[btext]
                    docs_read.append(found[0].ids + base)
                    weights.append(found[0].weights)
                    lists[btext] = (docs_read, weights, frequency + found[1])
            close = _near_in_segment(leaf, field, btexts, values, held, distance)
            if len(close):
                near.append(close + base)
        for btext, (docs_read, weights, frequency) in lists.items():
            if docs_read:
                self.postings.put((field, btext), np.concatenate(docs_read),
                                  np.concatenate(weights), frequency)
        return np.concatenate(near) if near else np.zeros(0, dtype=np.int64)

    def _doc_frequency(self, field: str, word: str, stem: wq.Term | None = None) -> int:
        """How many documents hold WORD in FIELD (asked again and again by one search).

        STEM: the stemmed term whose typed form WORD is (``query.prefer_typed_forms``): only
        the segments holding the stem are asked, as a document holding a word as written
        holds its stem in the same field (a word is in the titles of a few segments).
        """
        key = (field, word)
        known = self._frequencies.get(key)
        if known is not None:
            return known
        try:
            btext = self.searcher.schema[field].to_bytes(word)
        except ValueError:
            return 0
        if stem is None:
            counts = self._segment_frequencies[key] = [doc_frequency(leaf, field, btext)
                                                       for leaf, _ in self.leaves]
        else:
            self._doc_frequency(stem.fieldname, stem.text)
            holding = self._segment_frequencies.get((stem.fieldname, stem.text),
                                                    [1] * len(self.leaves))
            counts = self._segment_frequencies[key] = [
                doc_frequency(leaf, field, btext) if held else 0
                for (leaf, _), held in zip(self.leaves, holding, strict=True)]
        known = self._frequencies[key] = sum(counts)
        return known

    def _pair_documents(self, field: str, words: list[str], within: np.ndarray | None = None,
                        ) -> tuple[np.ndarray | None, bool]:
        """Return the documents holding every indexed pair of consecutive WORDS, and whether
        every pair of consecutive WORDS is indexed.

        None when no pair of WORDS is indexed (or the index has no pair field). With WITHIN
        (ascending documents), exact only on those: the pairs' blocks that hold none of them
        are not read.
        """
        pairs_field = PAIR_FIELDS.get(field)
        if pairs_field is None or pairs_field not in self.searcher.schema or len(words) < 2:
            return None, False
        fieldobj = self.searcher.schema[pairs_field]
        indexed = getattr(fieldobj.analyzer, "pairs", None)
        if indexed is None:
            return None, False
        consecutive = list(zip(words, words[1:], strict=False))
        pairs = {word_pair(a, b) for a, b in consecutive if indexed(a, b)}
        if not pairs:
            return None, False
        complete = self._pairs_complete(field, words)
        found: np.ndarray | None = None
        for pair in sorted(pairs, key=lambda pair: self._doc_frequency(pairs_field, pair)):
            reach = self._reach(within, self._doc_frequency(pairs_field, pair))
            parts = []
            for (leaf, base), (_, stop) in zip(self.leaves, self._spans, strict=True):
                local = None
                if reach is not None:
                    lo, hi = np.searchsorted(reach, [base, stop])
                    local = reach[lo:hi] - base
                postings = read_postings(leaf, pairs_field, fieldobj.to_bytes(pair), local)
                if postings is not None:
                    parts.append(postings[0] + base)
            docs = np.concatenate(parts) if parts else np.zeros(0, dtype=np.int64)
            found = docs if found is None else _sorted_common(found, docs)
            if not len(found):
                break
        return found, complete

    def _pairs_complete(self, field: str, words: list[str]) -> bool:
        """True when every two consecutive WORDS are a pair the index holds."""
        pairs_field = PAIR_FIELDS.get(field)
        if pairs_field is None or pairs_field not in self.searcher.schema or len(words) < 2:
            return False
        indexed = getattr(self.searcher.schema[pairs_field].analyzer, "pairs", None)
        return indexed is not None and all(
            indexed(a, b) for a, b in zip(words, words[1:], strict=False))

    def _mask(self, docs: np.ndarray) -> np.ndarray:
        present = np.zeros(self.size, dtype=bool)
        present[docs] = True
        return present

    def _read_from_positions(self, terms: list[wq.Term], docs: np.ndarray,
                             decoded: _SequencePostings) -> None:
        """Keep as each of TERMS' read for DOCS (ascending) the postings their positions were
        decoded with (DECODED, ``_terms_in_sequence``), where those hold every posting of
        DOCS: the same postings, scored as ``_term_postings`` scores them, without decoding
        their blocks a second time. A term already read for DOCS, or not decoded in every
        segment holding one of them, is left to ``_term``. A term decoded whole in every
        segment holding it goes to the generation's cache, as ``_term`` would keep it."""
        holding = np.flatnonzero(self._segments_holding(docs)).tolist()
        for query in terms:
            key = _term_key(query)
            earlier = self._read.get(key)
            if earlier is not None and self._covered(earlier[2], earlier[3], docs):
                continue
            segments = decoded.get((query.fieldname, query.text), {})
            if not all(segment in segments for segment in holding):
                continue
            self._keep_whole_list(query, segments)
            parts = [segments[segment] for segment in holding]
            ids = parts[0][0] if len(parts) == 1 else np.concatenate([p[0] for p in parts])
            tf = parts[0][1] if len(parts) == 1 else np.concatenate([p[1] for p in parts])
            at = _found(ids, docs)
            ids, tf = ids[at], tf[at]
            found = EMPTY
            if len(ids):
                frequency = self._doc_frequency(query.fieldname, query.text)
                scores = self._bm25f(query.fieldname, self._idf(frequency), tf, ids)
                if query.boost != 1.0:
                    scores = scores * query.boost
                found = Matches(ids, scores)
            self._read[key] = (found, tf, docs, np.zeros(len(self._spans), dtype=bool))

    def _keep_whole_list(self, query: wq.Term, segments: dict[int, tuple[np.ndarray,
                                                                          np.ndarray]]) -> None:
        """Put QUERY's whole list in the generation's cache when SEGMENTS (its postings decoded
        by segment) hold every posting of every segment holding it."""
        counts = self._segment_frequencies.get((query.fieldname, query.text))
        if self.postings is None or counts is None or not any(counts):
            return
        if not all(segment in segments and len(segments[segment][0]) == count
                   for segment, count in enumerate(counts) if count):
            return
        try:
            btext = self.searcher.schema[query.fieldname].to_bytes(query.text)
        except ValueError:
            return
        if self.postings.holds((query.fieldname, btext)):
            return
        parts = [segments[segment] for segment, count in enumerate(counts) if count]
        self.postings.put((query.fieldname, btext), np.concatenate([p[0] for p in parts]),
                          np.concatenate([p[1] for p in parts]), sum(counts))

    def _in_sequence(self, field: str, words: list[str], docs: np.ndarray,
                     decoded: _SequencePostings | None = None) -> np.ndarray:
        """Return which of DOCS (ascending) hold WORDS at consecutive positions.

        Where two consecutive words are an indexed pair with positions (the exact pairs), the
        pair is checked in place of both: far fewer positions than those of common words.
        Every two consecutive words such a pair: the pairs at every other place (``confreres
        de`` + ``la presse`` for « confrères de la presse »); otherwise, from the first word
        on, a pair where the next two words make one, else the word itself (« a déclaré »
        + « abdourahamane » + « tiani »). The rarest term is read first. DECODED, if given,
        receives the postings the words' positions were decoded with
        (``_terms_in_sequence``).
        """
        pairs_field = PAIR_FIELDS.get(field)
        placed = [(field, word, offset) for offset, word in enumerate(words)]
        if pairs_field is not None and pairs_field in self.searcher.schema \
                and self.searcher.schema[pairs_field].format.supports("positions"):
            if self._pairs_complete(field, words):
                pairs = [word_pair(a, b) for a, b in zip(words, words[1:], strict=False)]
                places = sorted({*range(0, len(pairs), 2), len(pairs) - 1})
                return self._terms_in_sequence([(pairs_field, pairs[i], i) for i in places],
                                               docs)
            placed = self._pairs_in_place(field, pairs_field, words)
        # The words a pair stands for: their postings are read (without their positions) for
        # the documents found, from the blocks holding them, to score them.
        paired = list(dict.fromkeys((field, word) for kind, pair, offset in placed
                                    if kind != field for word in words[offset:offset + 2]))
        return self._terms_in_sequence(placed, docs, decoded, paired)

    def _pairs_placed(self, field: str) -> bool:
        """Whether FIELD's indexed pairs have positions (``_in_sequence`` checks on them)."""
        pairs_field = PAIR_FIELDS.get(field)
        return pairs_field is not None and pairs_field in self.searcher.schema \
            and bool(self.searcher.schema[pairs_field].format.supports("positions"))

    def _pairs_in_place(self, field: str, pairs_field: str,
                        words: list[str]) -> list[tuple[str, str, int]]:
        """WORDS of FIELD as terms at their offsets, two consecutive words whose pair
        PAIRS_FIELD indexes (each pair at the position of its first word) as their pair."""
        indexed = getattr(self.searcher.schema[pairs_field].analyzer, "pairs", None)
        placed: list[tuple[str, str, int]] = []
        offset = 0
        while offset < len(words):
            if indexed is not None and offset + 1 < len(words) \
                    and indexed(words[offset], words[offset + 1]):
                placed.append((pairs_field, word_pair(words[offset], words[offset + 1]),
                               offset))
                offset += 2
            else:
                placed.append((field, words[offset], offset))
                offset += 1
        return placed

    def _terms_in_sequence(self, placed: list[tuple[str, str, int]], docs: np.ndarray,
                           decoded: _SequencePostings | None = None,
                           paired: list[tuple[str, str]] | None = None) -> np.ndarray:
        """Return which of DOCS (ascending) hold each term of PLACED (field, text, offset) at
        its offset from a start (the fields numbering positions alike).

        The rarest term's positions are read first; each next one's only for the documents
        where the sequence can still start. DECODED, if given, receives each term's postings
        (documents, weights) decoded with its positions, by segment, from its first read
        there: every posting of the documents still in the running then, so of every
        document found. PAIRED: terms (field, text) whose postings DECODED receives too, read
        for the documents found in each segment (the words a pair's positions stood for).
        """
        order = sorted(placed, key=lambda item: self._doc_frequency(item[0], item[1]))
        keep = np.zeros(len(docs), dtype=bool)
        for segment, (leaf, base) in enumerate(self.leaves):
            stop = base + leaf.doc_count_all()
            lo, hi = np.searchsorted(docs, [base, stop])
            if lo == hi:
                continue
            local = docs[lo:hi] - base
            running = local
            starts: np.ndarray | None = None
            for fieldname, term, offset in order:
                owners, places, postings = read_positions_and_postings(
                    leaf, fieldname, self.searcher.schema[fieldname].to_bytes(term), running)
                if decoded is not None and postings is not None:
                    decoded.setdefault((fieldname, term), {}).setdefault(
                        segment, (postings.ids + base, postings.weights))
                # A sequence starts at p in a document when this term is at p + offset.
                starts, running = _sequence_starts(starts, running, owners, places, offset)
                if not len(starts):
                    break
            if starts is not None and len(starts):
                keep[lo + np.searchsorted(local, running)] = True
                for fieldname, word in (paired or []) if decoded is not None else []:
                    assert decoded is not None
                    read = read_postings(leaf, fieldname,
                                         self.searcher.schema[fieldname].to_bytes(word), running)
                    if read is not None:
                        decoded.setdefault((fieldname, word), {}).setdefault(
                            segment, (read[0] + base, read[1]))
        return keep

    def _union(self, parts: list[Matches]) -> Matches:
        return union(parts, self.size)

    def _minus(self, a: Matches, b: Matches) -> Matches:
        return minus(a, b)

    @staticmethod
    def _scaled(matches: Matches, boost: float) -> Matches:
        if boost == 1.0 or not len(matches):
            return matches
        return Matches(matches.docs, matches.scores * boost,
                       None if matches.ceiling is None else matches.ceiling * boost)


_TermRead = tuple[Matches, np.ndarray, np.ndarray | None, np.ndarray]
"""A term's read as ``MatchEngine`` keeps it: its postings scored, their weights, the
documents it was read for (None: all), which segments were read whole."""


# A phrase's words' postings decoded with their positions: (field, word) -> segment ->
# (documents, weights), every posting of the documents whose positions were read there.
_SequencePostings = dict[tuple[str, str], dict[int, tuple[np.ndarray, np.ndarray]]]


class _PrefixField(NamedTuple):
    """A prefix of one field as ``MatchEngine._prefix_page`` scores it."""

    field: str
    words: list[bytes]            # the words it stands for, in byte order
    per_leaf: list[list[bytes]]   # each segment's words of the prefix
    idf: np.ndarray               # each word's idf


class _SegmentPrefixes:
    """One segment's postings of a page's prefixes (``MatchEngine._prefix_page``): their
    documents, a ceiling per document from its postings' blocks and its own length, and the
    exact scores of chosen documents."""

    def __init__(self, engine: MatchEngine, span: tuple[int, int], page: PageFloor) -> None:
        self.engine = engine
        self.start, self.stop = span
        self.page = page
        self.k1 = float(engine.weighting.K1)
        # Per field read: the prefix, its postings, each term's word.
        self.reads: list[tuple[_PrefixField, TermsBlocks, np.ndarray]] = []
        self.sums: np.ndarray | None = None  # per document of the segment, before the slack
        self.held: np.ndarray | None = None  # documents holding a posting of no score
        self.docs = _NO_DOCS
        self.ceilings = _NO_WEIGHTS  # the matches' ceilings, aligned with docs
        # The matches whose postings were last found (a boolean per match), and those
        # postings' places per read.
        self._narrowed: tuple[np.ndarray, list[np.ndarray]] | None = None

    def add(self, prefix: _PrefixField, present: list[int], blocks: TermsBlocks) -> None:
        """Count the postings BLOCKS of PREFIX's words PRESENT (their indexes) here."""
        if not len(blocks.docs):
            return
        words = np.asarray(present, dtype=np.int64)[blocks.terms]
        block_starts = np.cumsum(blocks.block_postings) - blocks.block_postings
        block_idf = prefix.idf[words[np.searchsorted(blocks.term_starts, block_starts,
                                                     side="right") - 1]]
        codes, norm = self.engine._norm(prefix.field)
        size = self.stop - self.start
        summed, positive = _length_sums(blocks.docs, blocks.block_postings, blocks.heaviest,
                                        block_idf, codes, self.start, norm, self.k1 + 1, size)
        if self.sums is None:
            self.sums = summed
        else:  # in place: the same sums as ``sums + summed``, no array of the segment more
            np.add(self.sums, summed, out=self.sums)
        if not positive:  # a weight of 0: matched, scored 0
            counted = np.bincount(blocks.docs, minlength=size) > 0
            self.held = counted if self.held is None else self.held | counted
        self.reads.append((prefix, blocks, words))

    def matched(self, live: np.ndarray | None) -> tuple[np.ndarray, np.ndarray] | None:
        """The documents matched here (counted from the segment's first; LIVE ones alone
        when given) and their ceilings, None when none."""
        if self.sums is None:
            return None
        present = self.sums > 0.0
        if self.held is not None:
            present |= self.held
        if live is not None:  # one pass over the segment, not a gather of its matches
            present &= live[self.start:self.stop]
        docs = np.flatnonzero(present)
        self.docs = docs
        self.ceilings = self.sums[docs] * (1.0 + BOUND_SLACK)
        return docs, self.ceilings

    def _chosen(self, positions: np.ndarray) -> list[np.ndarray]:
        """Per read, the places (ascending) of the postings of the matches at POSITIONS
        (ascending): among those found last when they hold them all, else found in one pass
        over the postings for them and every match the next rounds of exact scores may ask
        for (``_reaching``)."""
        size = self.stop - self.start
        narrowed = self._narrowed
        if narrowed is None or not bool(narrowed[0][positions].all()):
            found = self._reaching(positions)
            places = [_places_of(_marked(self.docs[found], size), blocks.docs)
                      for _, blocks, _ in self.reads]
            self._narrowed = (_marked(found, len(self.docs)), places)
            if len(found) == len(positions):
                return places
            narrowed = self._narrowed
        wanted = _marked(self.docs[positions], size)
        return [_narrowed_places(wanted, blocks.docs, places)
                for places, (_, blocks, _) in zip(narrowed[1], self.reads, strict=True)]

    def _reaching(self, positions: np.ndarray) -> np.ndarray:
        """POSITIONS and, once the page has a floor, those of every match whose ceiling
        reaches it (every match a later round can ask for), ascending."""
        floor = self.page.floor
        if floor == float("-inf"):
            return positions
        reach = self.ceilings >= floor
        reach[positions] = True
        found: np.ndarray = np.flatnonzero(reach)
        return found

    def exact(self, positions: np.ndarray) -> np.ndarray:
        """The exact scores of the matches at POSITIONS (ascending): each field's postings
        scored and added in its words' order (as ``_segment_sums``), the fields added in
        order (as ``union``: 0.0 + x is x)."""
        docs = self.docs[positions]
        total = np.zeros(len(docs), dtype=np.float64)
        ranks = None
        for places, (prefix, blocks, words) in zip(self._chosen(positions), self.reads,
                                                   strict=True):
            if not len(places):
                continue
            if ranks is None:
                ranks = self._ranks(docs)
            weights = blocks.weights(places)
            word = words[np.searchsorted(blocks.term_starts, places, side="right") - 1]
            order = np.lexsort((places, word))
            ids = blocks.docs[places[order]]
            scores = self.engine._bm25f(prefix.field, prefix.idf[word[order]], weights[order],
                                        ids, self.start)
            total = total + np.bincount(ranks[ids], weights=scores, minlength=len(docs))
        return total

    def _ranks(self, docs: np.ndarray) -> np.ndarray:
        """Each document's place among DOCS (ascending; counted from the segment's first),
        for looking postings' documents up by an index rather than a search."""
        ranks = np.zeros(self.stop - self.start, dtype=np.int64)
        ranks[docs] = np.arange(len(docs))
        return ranks


def _marked(docs: np.ndarray, size: int) -> np.ndarray:
    """A boolean per document of a segment of SIZE documents, true for DOCS."""
    marked = np.zeros(size, dtype=bool)
    marked[docs] = True
    return marked


def _length_sums(docs: np.ndarray, block_postings: np.ndarray, heaviest: np.ndarray,
                 block_idf: np.ndarray, codes: np.ndarray, start: int, norm: np.ndarray,
                 k1_plus: float, size: int) -> tuple[np.ndarray, bool]:
    """Each of a segment's SIZE documents' ceiling, unraised: the sum, over its postings DOCS
    (BLOCK_POSTINGS a block, in order), of BM25F of the posting's block's HEAVIEST weight
    with its word's BLOCK_IDF over the document's own length part (NORM of its length code
    in CODES, the segment's first at START; K1_PLUS being K1 + 1), added in the postings'
    order; and whether every posting added more than 0. One compiled pass
    (``_length_sums_kernel``). Raises UnexpectedLayout when the postings are not the blocks'
    or a document, a code, a block's count is out of range."""
    summed, fine, positive = _length_sums_kernel(
        np.ascontiguousarray(docs, dtype=np.int64),
        np.ascontiguousarray(block_postings, dtype=np.int64),
        np.ascontiguousarray(heaviest, dtype=np.float64),
        np.ascontiguousarray(block_idf, dtype=np.float64),
        np.ascontiguousarray(codes, dtype=np.uint8), np.int64(start),
        np.ascontiguousarray(norm, dtype=np.float64), np.float64(k1_plus), np.int64(size))
    if not fine:
        raise UnexpectedLayout("a prefix's postings are not its blocks' or not its segment's")
    return summed, positive


@compiled.kernel
def _length_sums_kernel(docs: np.ndarray, block_postings: np.ndarray, heaviest: np.ndarray,
                        block_idf: np.ndarray, codes: np.ndarray, start: np.int64,
                        norm: np.ndarray, k1_plus: np.float64,
                        size: np.int64) -> tuple[np.ndarray, bool, bool]:
    """``_length_sums``' kernel; False (second) when a block's count, a document or a code is
    out of range."""
    summed = np.zeros(size, np.float64)
    blocks = block_postings.shape[0]
    if heaviest.shape[0] != blocks or block_idf.shape[0] != blocks or start < 0 \
            or codes.shape[0] - start < size:
        return summed, False, True
    positive = True
    at = 0
    for block in range(blocks):
        count = block_postings[block]
        if count < 0 or count > docs.shape[0] - at:
            return summed, False, positive
        weight = heaviest[block]
        idf = block_idf[block]
        lifted = weight * k1_plus
        for posting in range(at, at + count):
            document = docs[posting]
            if document < 0 or document >= size:
                return summed, False, positive
            code = codes[start + document]
            if code >= norm.shape[0]:
                return summed, False, positive
            bound = idf * (lifted / (weight + norm[code]))
            if not bound > 0.0:
                positive = False
            summed[document] += bound
        at += count
    return summed, at == docs.shape[0], positive


def _places_of(wanted: np.ndarray, docs: np.ndarray) -> np.ndarray:
    """The places (ascending) of the postings DOCS whose document is WANTED (a boolean per
    document of the segment): ``np.flatnonzero(wanted[docs])`` in one compiled pass
    (``_places_kernel``). Raises UnexpectedLayout when a document is outside the segment."""
    places, fine = _places_kernel(np.ascontiguousarray(wanted, dtype=np.bool_),
                                  np.ascontiguousarray(docs, dtype=np.int64))
    if not fine:
        raise UnexpectedLayout("a prefix's posting is not its segment's")
    return places


@compiled.kernel
def _places_kernel(wanted: np.ndarray, docs: np.ndarray) -> tuple[np.ndarray, bool]:
    """``_places_of``' kernel; False when a document is not an index into WANTED."""
    found = np.empty(docs.shape[0], np.int64)
    count = 0
    for posting in range(docs.shape[0]):
        document = docs[posting]
        if document < 0 or document >= wanted.shape[0]:
            return found[:0].copy(), False
        if wanted[document]:
            found[count] = posting
            count += 1
    return found[:count].copy(), True


def _narrowed_places(wanted: np.ndarray, docs: np.ndarray, places: np.ndarray) -> np.ndarray:
    """The PLACES (ascending) among the postings DOCS whose document is WANTED:
    ``places[wanted[docs[places]]]`` in one compiled pass (``_narrowed_kernel``). Raises
    UnexpectedLayout when a place or a document is out of range."""
    found, fine = _narrowed_kernel(np.ascontiguousarray(wanted, dtype=np.bool_),
                                   np.ascontiguousarray(docs, dtype=np.int64),
                                   np.ascontiguousarray(places, dtype=np.int64))
    if not fine:
        raise UnexpectedLayout("a prefix's posting is not its segment's")
    return found


@compiled.kernel
def _narrowed_kernel(wanted: np.ndarray, docs: np.ndarray,
                     places: np.ndarray) -> tuple[np.ndarray, bool]:
    """``_narrowed_places``' kernel; False when a place is not an index into DOCS or its
    document not one into WANTED."""
    found = np.empty(places.shape[0], np.int64)
    count = 0
    for i in range(places.shape[0]):
        place = places[i]
        if place < 0 or place >= docs.shape[0]:
            return found[:0].copy(), False
        document = docs[place]
        if document < 0 or document >= wanted.shape[0]:
            return found[:0].copy(), False
        if wanted[document]:
            found[count] = place
            count += 1
    return found[:count].copy(), True


@compiled.warms_up
def _warm_prefix_page() -> None:
    """Compile or load the page's kernels for the types their callers pass (a field's length
    codes written or read only)."""
    docs = np.array([0, 2, 1], dtype=np.int64)
    codes = np.zeros(3, dtype=np.uint8)
    for length_codes in (codes, np.frombuffer(codes.tobytes(), dtype=np.uint8)):
        _length_sums(docs, np.array([2, 1], dtype=np.int64), np.array([1.0, 2.0]),
                     np.array([0.5, 0.7]), length_codes, 0, np.ones(256), 2.2, 3)
    wanted = np.array([True, False, True])
    _narrowed_places(wanted, docs, _places_of(wanted, docs))


def _term_key(query: wq.Term) -> tuple[str, str, float]:
    """What identifies a term's read in ``MatchEngine``: its field, text and boost."""
    return query.fieldname, query.text, float(query.boost)


class _SegmentRead(NamedTuple):
    """The postings of a prefix's words read in one segment (``read_terms_postings``):
    documents of the segment, weights, and which words (their indexes) hold how many."""

    docs: np.ndarray
    tf: np.ndarray
    words: list[int]
    counts: list[int]


@dataclass
class _TermPlan:
    """How ``MatchEngine._terms_read`` reads one term, and where its segment reads lie."""

    query: wq.Term
    key: tuple[str, str, float]
    earlier: _TermRead | None  # the term's read before, if any
    within: np.ndarray | None  # the documents it is read for (None: all)
    whole: np.ndarray  # the segments read whole (a boolean each)
    done: np.ndarray  # the segments read whole before, not read again
    asked: np.ndarray | None = None  # the documents asked for, when read whole for them
    scored_for: np.ndarray | None = None  # ASKED when only theirs were scored
    btext: bytes | None = None  # None: the field cannot hold the text
    held: tuple[np.ndarray, np.ndarray, int] | None = None  # from the generation's cache
    first: int = 0  # its segment reads in the batch: FIRST to LAST
    last: int = 0
    bases: list[int] = field(default_factory=list)  # each segment read's first document


def _joined(found: list[Postings | None], bases: list[int]) -> tuple[np.ndarray, np.ndarray]:
    """A term's documents and weights from its segment reads FOUND (each segment's first
    document in BASES)."""
    docs: list[np.ndarray] = []
    weights: list[np.ndarray] = []
    for postings, base in zip(found, bases, strict=True):
        if postings is not None and len(postings[0]):
            docs.append(postings[0] + base)
            weights.append(postings[1])
    if not docs:
        return _NO_DOCS, _NO_WEIGHTS
    ids = docs[0] if len(docs) == 1 else np.concatenate(docs)
    tf = weights[0] if len(weights) == 1 else np.concatenate(weights)
    return ids, tf


def _sorted_unique(values: np.ndarray) -> np.ndarray:
    """The distinct VALUES (ascending) in order, without sorting them again."""
    if len(values) < 2:
        return values
    return values[np.concatenate(([True], values[1:] != values[:-1]))]


def _sorted_common(a: np.ndarray, b: np.ndarray) -> np.ndarray:
    """The values of both A and B (each ascending and distinct, not negative), ascending.

    Many values for their span are marked in a boolean array of that span (a few passes
    over memory); few are looked up with binary searches. ``np.intersect1d`` sorts both
    (12 ms for two lists of 77,000 documents of 100,000, against 0.3 ms marked).
    """
    if len(a) > len(b):
        a, b = b, a
    if not len(a):
        return a
    span = _dense_span(a, b)
    if span:
        marked = np.zeros(span, dtype=bool)
        marked[b] = True
        kept: np.ndarray = a[marked[a]]
        return kept
    at = np.searchsorted(b, a)
    np.minimum(at, len(b) - 1, out=at)
    common: np.ndarray = a[b[at] == a]
    return common


def _sequence_starts(starts: np.ndarray | None, running: np.ndarray, owners: np.ndarray,
                     places: np.ndarray, offset: int) -> tuple[np.ndarray, np.ndarray]:
    """Return where a sequence can still start (keys: document * ``_POSITION_SPAN`` + place,
    ascending) and in which documents of RUNNING (ascending), once the term at OFFSET has
    its occurrences at PLACES in the documents RUNNING[OWNERS] (``read_positions`` of
    RUNNING): the keys of STARTS (None: any start) where the term is OFFSET later.

    One compiled pass (``_sequence_kept``) over the occurrences, merged with STARTS: the
    term's keys are ascending (documents ascending, positions ascending in each) and
    distinct (a document has each position once), as STARTS are.
    """
    kept, documents, fine = _sequence_kept(
        _NO_STARTS if starts is None else starts, starts is None,
        np.ascontiguousarray(running, dtype=np.int64),
        np.ascontiguousarray(owners, dtype=np.int64),
        np.ascontiguousarray(places, dtype=np.int64), np.int64(offset),
        np.int64(_POSITION_SPAN))
    if not fine:
        raise ValueError("an occurrence's document is not among those asked")
    return kept, documents


_NO_STARTS = np.zeros(0, dtype=np.int64)


@compiled.kernel
def _sequence_kept(starts: np.ndarray, anywhere: bool, running: np.ndarray,
                   owners: np.ndarray, places: np.ndarray, offset: np.int64,
                   span: np.int64) -> tuple[np.ndarray, np.ndarray, bool]:
    """``_sequence_starts``' kernel (ANYWHERE: no STARTS yet); False when an owner is not an
    index into RUNNING."""
    room = owners.shape[0] if anywhere else min(owners.shape[0], starts.shape[0])
    kept = np.empty(room, np.int64)
    documents = np.empty(room, np.int64)
    count = 0
    found = 0
    j = 0
    for i in range(owners.shape[0]):
        place = places[i]
        if place < offset:
            continue
        owner = owners[i]
        if owner < 0 or owner >= running.shape[0]:
            return kept[:0], documents[:0], False
        key = running[owner] * span + (place - offset)
        if not anywhere:
            while j < starts.shape[0] and starts[j] < key:
                j += 1
            if j == starts.shape[0]:
                break
            if starts[j] != key:
                continue
            j += 1  # each start kept once (COUNT <= J <= the length of STARTS)
        kept[count] = key
        count += 1
        document = running[owner]
        if not found or documents[found - 1] != document:
            documents[found] = document
            found += 1
    return kept[:count], documents[:found], True


@compiled.warms_up
def _warm_sequence_kept() -> None:
    """Compile or load ``_sequence_kept`` for the types its callers pass."""
    running, owners = np.array([2, 5], dtype=np.int64), np.array([0, 1], dtype=np.int64)
    starts, _ = _sequence_starts(None, running, owners, np.array([3, 4], dtype=np.int64), 0)
    _sequence_starts(starts, running, owners, np.array([4, 5], dtype=np.int64), 1)


_NEVER = np.iinfo(np.int64).max


def _windows(keys: list[np.ndarray], distance: int) -> np.ndarray:
    """The occurrences (keys: document index * _POSITION_SPAN + position) that start a window
    holding every word within DISTANCE positions after them, ascending.

    KEYS holds each word's occurrences, ascending. A window may start at any occurrence of any
    word; for each word, its first occurrence at or after the start must be DISTANCE at most
    after it. The occurrences of all words are merged once, and each word's next occurrence
    from every place is a running minimum from the end: linear, where looking each start up
    in every word's occurrences costs a binary search each.
    """
    merged = np.concatenate(keys)
    if not len(merged):
        return merged
    labels = np.repeat(np.arange(len(keys)), [len(k) for k in keys])
    order = np.argsort(merged, kind="stable")  # runs already sorted: merged, not sorted
    merged, labels = merged[order], labels[order]
    # Two words may share a place: each occurrence looks from the first of its equals.
    places = np.arange(len(merged))
    first = np.concatenate(([True], merged[1:] != merged[:-1]))
    first_equal = np.maximum.accumulate(np.where(first, places, 0))
    inside = np.ones(len(merged), dtype=bool)
    for word in range(len(keys)):
        own = np.where(labels == word, merged, _NEVER)
        following = np.minimum.accumulate(own[::-1])[::-1]
        inside &= following[first_equal] - merged <= distance
    found: np.ndarray = merged[inside]
    return found


def _near_pair_documents(a: np.ndarray, b: np.ndarray, distance: int) -> np.ndarray:
    """The document indexes (ascending, once each) of two words' occurrences (keys as
    ``_windows`` takes them, each ascending) where one occurs at most DISTANCE positions
    from the other: one compiled merge of both lists (``_near_merge``)."""
    near: np.ndarray = _near_merge(np.ascontiguousarray(a, dtype=np.int64),
                                   np.ascontiguousarray(b, dtype=np.int64),
                                   np.int64(distance), np.int64(_POSITION_SPAN))
    return near


@compiled.kernel
def _near_merge(a: np.ndarray, b: np.ndarray, distance: np.int64,
                span: np.int64) -> np.ndarray:
    """``_near_pair_documents``' kernel, keys of SPAN positions a document.

    Between two occurrences of different words DISTANCE apart at most, the occurrences in
    between, in order, hold two neighbours of different words as close: walking both lists
    in order, each occurrence is compared with the last one of the other word alone. A
    document found, the rest of its occurrences are skipped. Every index read is below its
    list's length (checked by each loop): keys are data, never indexes.
    """
    found = np.empty(min(a.shape[0], b.shape[0]), np.int64)
    count = 0
    i = 0
    j = 0
    last_a = 0
    last_b = 0
    seen_a = False
    seen_b = False
    while i < a.shape[0] and j < b.shape[0]:
        if a[i] <= b[j]:
            key = a[i]
            i += 1
            near = seen_b and key - last_b <= distance
            last_a = key
            seen_a = True
        else:
            key = b[j]
            j += 1
            near = seen_a and key - last_a <= distance
            last_b = key
            seen_b = True
        if near:
            document = key // span
            found[count] = document
            count += 1
            following = (document + 1) * span
            while i < a.shape[0] and a[i] < following:
                i += 1
            while j < b.shape[0] and b[j] < following:
                j += 1
            seen_a = False
            seen_b = False
    # One list done: the other's next occurrence alone may still be near its last.
    if i < a.shape[0] and seen_b and a[i] - last_b <= distance:
        found[count] = a[i] // span
        count += 1
    elif j < b.shape[0] and seen_a and b[j] - last_a <= distance:
        found[count] = b[j] // span
        count += 1
    return found[:count]


@compiled.warms_up
def _warm_near_merge() -> None:
    """Compile or load ``_near_merge`` for the types its callers pass."""
    _near_pair_documents(np.array([1, 9], dtype=np.int64), np.array([3], dtype=np.int64), 2)


def bm25f_reference(idf: float | np.ndarray, tf: np.ndarray, docs: np.ndarray, start: int,
                    codes: np.ndarray, norm: np.ndarray, k1: float) -> np.ndarray:
    """BM25F's scores of weights TF in DOCS (counted from document START) with numpy's array
    operations: each document's length CODES picks BM25F's length part NORM."""
    scores: np.ndarray = idf * ((tf * (k1 + 1)) / (tf + norm[codes[start:][docs]]))
    return scores


@compiled.kernel
def _bm25f_scores(idf: np.ndarray, tf: np.ndarray, docs: np.ndarray, start: int,
                  codes: np.ndarray, norm: np.ndarray,
                  k1: float) -> tuple[np.ndarray, bool]:
    """``MatchEngine._bm25f``'s kernel: ``bm25f_reference``'s operations, in its order, on
    each posting in one pass (IDF one for all, or one a posting); False when a document or
    its length code is not an index into CODES or NORM, or IDF's length is neither."""
    count = tf.shape[0]
    scores = np.empty(count, np.float64)
    if docs.shape[0] != count or (idf.shape[0] != 1 and idf.shape[0] != count) or start < 0:
        return scores[:0], False
    step = 0 if idf.shape[0] == 1 else 1
    factor = k1 + 1
    for i in range(count):
        at = start + docs[i]
        if docs[i] < 0 or at >= codes.shape[0]:
            return scores[:0], False
        code = codes[at]
        if code >= norm.shape[0]:
            return scores[:0], False
        weight = tf[i]
        scores[i] = idf[i * step] * ((weight * factor) / (weight + norm[code]))
    return scores, True


@compiled.warms_up
def _warm_bm25f_scores() -> None:
    """Compile or load ``_bm25f_scores`` for the types ``MatchEngine._bm25f`` passes."""
    _bm25f_scores(np.ones(1), np.ones(2), np.zeros(2, dtype=np.int64), 0,
                  np.zeros(1, dtype=np.uint8), np.ones(1), 1.2)


@compiled.kernel
def _prefix_sums(idf: np.ndarray, counts: np.ndarray, tf: np.ndarray, docs: np.ndarray,
                 start: int, size: int, codes: np.ndarray, norm: np.ndarray,
                 k1: float) -> tuple[np.ndarray, np.ndarray, bool]:
    """``MatchEngine._segment_sums``' kernel: the documents (ascending, of a segment of SIZE
    documents from document START) of postings of weights TF in DOCS, COUNTS of them a word
    one word after another, and their sums of BM25F with each word's IDF; the scores those
    of ``_bm25f_scores`` and added in the postings' order, as ``np.bincount`` adds them.
    False when a document or its length code is not an index into the segment, CODES or
    NORM, or the counts do not cover the postings."""
    total = tf.shape[0]
    summed = np.zeros(max(size, 0), np.float64)
    held = np.zeros(max(size, 0), np.bool_)
    nowhere = np.zeros(0, np.int64)
    if docs.shape[0] != total or counts.shape[0] != idf.shape[0] or start < 0 or size < 0 \
            or start + size > codes.shape[0]:
        return nowhere, summed[:0], False
    factor = k1 + 1
    first = 0
    for word in range(counts.shape[0]):
        count = counts[word]
        if count < 0 or first + count > total:
            return nowhere, summed[:0], False
        each = idf[word]
        for i in range(first, first + count):
            doc = docs[i]
            if doc < 0 or doc >= size:
                return nowhere, summed[:0], False
            code = codes[start + doc]
            if code >= norm.shape[0]:
                return nowhere, summed[:0], False
            weight = tf[i]
            summed[doc] += each * ((weight * factor) / (weight + norm[code]))
            held[doc] = True
        first += count
    if first != total:
        return nowhere, summed[:0], False
    found = 0
    for doc in range(size):
        if held[doc]:
            found += 1
    matched = np.empty(found, np.int64)
    sums = np.empty(found, np.float64)
    at = 0
    for doc in range(size):
        if held[doc]:
            matched[at] = doc
            sums[at] = summed[doc]
            at += 1
    return matched, sums, True


@compiled.warms_up
def _warm_prefix_sums() -> None:
    """Compile or load ``_prefix_sums`` for the types ``MatchEngine._segment_sums`` passes."""
    _prefix_sums(np.ones(1), np.ones(1, dtype=np.int64), np.ones(1),
                 np.zeros(1, dtype=np.int64), 0, 1, np.zeros(1, dtype=np.uint8), np.ones(1),
                 1.2)


# A union of fewer postings than 1 / _SPARSE_SHARE of the index's documents is merged as sorted
# arrays; a larger one is added up in arrays of the index's size (cheaper per posting then).
_SPARSE_SHARE = 8


# Sorted document numbers are looked up in an array spanning their values (one pass over
# memory) when those looked up number at least 1 / _DENSE_SHARE of the span: 15 times faster
# than binary searches for 77,000 of 100,000 documents, slower for a few hundred.
_DENSE_SHARE = 32


def _segment_documents(kept: tuple[np.ndarray, np.ndarray, int] | None, leaf: Any, base: int,
                       field: str, btext: bytes) -> np.ndarray:
    """The documents of the segment at BASE (its own numbers) holding the term: from KEPT
    (the whole list, as the postings cache gives it), else read from LEAF."""
    if kept is not None:
        docs = kept[0]
        lo, hi = np.searchsorted(docs, [base, base + leaf.doc_count_all()])
        found: np.ndarray = docs[lo:hi] - base
        return found
    read = read_postings(leaf, field, btext)
    return np.zeros(0, dtype=np.int64) if read is None else read[0]


def _position_keys(owners: np.ndarray, places: np.ndarray) -> np.ndarray:
    """One key per occurrence, its document's index times ``_POSITION_SPAN`` plus its
    position, ascending (``read_positions``' occurrences: documents ascending, positions
    ascending in each)."""
    keys: np.ndarray = owners * _POSITION_SPAN + places
    if len(keys) > 1 and bool((keys[1:] <= keys[:-1]).any()):
        keys = np.sort(keys)
    return keys


def _near_in_segment(leaf: Any, field: str, btexts: list[bytes],
                     values: list[TermValues | None], held: list[np.ndarray],
                     distance: int) -> np.ndarray:
    """The documents of LEAF (ascending) holding the terms BTEXTS within DISTANCE of each
    other, from their VALUES (None: positions the process keeps) and the documents HELD by
    each: two words' values compared as they are decoded (``near_documents_in_values``),
    else every word's positions made keys and compared."""
    if len(btexts) == 2 and values[0] is not None and values[1] is not None:
        pair = near_documents_in_values(leaf, field, values[0], values[1], distance)
        if pair is not None:
            return pair
    common = held[0]
    for holding in held[1:]:
        common = _sorted_common(common, holding)
    if not len(common):
        return common
    keys = [_position_keys(*read_positions(leaf, field, btext, common)) if read is None
            else position_keys_in_values(leaf, field, btext, read, common, _POSITION_SPAN)
            for btext, read in zip(btexts, values, strict=True)]
    found: np.ndarray = common[_near_documents(keys, distance)]
    return found


def _near_documents(keys: list[np.ndarray], distance: int) -> np.ndarray:
    """The indexes (ascending, once each) of the documents where the words of KEYS
    (``_position_keys`` of each word) are all within DISTANCE positions of each other."""
    if len(keys) == 2:
        return _near_pair_documents(keys[0], keys[1], distance)
    near = _windows(keys, distance)
    return _sorted_unique(near // _POSITION_SPAN) if len(near) else np.zeros(0, np.int64)


def _dense_span(wanted: np.ndarray, docs: np.ndarray) -> int:
    """The span of values (the largest + 1) of WANTED and DOCS (ascending, not negative) if
    WANTED are many enough for it to look them up in an array of that span, else 0."""
    span = int(max(wanted[-1], docs[-1])) + 1
    return span if len(wanted) * _DENSE_SHARE >= span else 0


def _positions(docs: np.ndarray, wanted: np.ndarray) -> np.ndarray:
    """The position in DOCS (ascending, unique) of each of WANTED, -1 where absent: one
    compiled pass (``_positions_of``; an AND's candidates looked up in a word's documents
    are some 50 calls a four-word query, each a handful of numpy calls otherwise)."""
    if docs.dtype != np.int32:
        docs = np.ascontiguousarray(docs, dtype=np.int64)
    found: np.ndarray = _positions_of(np.ascontiguousarray(docs),
                                      np.ascontiguousarray(wanted, dtype=np.int64))
    return found


@compiled.kernel
def _positions_of(docs: np.ndarray, wanted: np.ndarray) -> np.ndarray:
    """``_positions``' kernel: each of WANTED searched from where the one before it was found
    (steps doubling, then halving), from the start again where WANTED descends. Every index
    read is checked against DOCS' length; values are never indexes."""
    count = docs.shape[0]
    found = np.empty(wanted.shape[0], np.int64)
    low = 0
    for i in range(wanted.shape[0]):
        value = wanted[i]
        if i and value < wanted[i - 1]:
            low = 0
        # Every document before LOW is below VALUE: gallop until one at BOUND is not.
        bound = low
        step = 1
        while bound < count and docs[bound] < value:
            low = bound + 1
            bound = low + step
            step *= 2
        high = min(bound, count)
        while low < high:
            middle = (low + high) >> 1
            if docs[middle] < value:
                low = middle + 1
            else:
                high = middle
        found[i] = low if low < count and docs[low] == value else -1
    return found


@compiled.warms_up
def _warm_positions_of() -> None:
    """Compile or load ``_positions_of`` for the document types its callers pass."""
    for kind in (np.int64, np.int32):
        _positions(np.array([2, 5], dtype=kind), np.array([5, 7], dtype=np.int64))


def _found(docs: np.ndarray, wanted: np.ndarray) -> np.ndarray:
    """The positions in DOCS (ascending, unique) of those of WANTED (ascending) it holds,
    ascending: one binary search per document wanted, however long DOCS is."""
    at = _positions(docs, wanted)
    found: np.ndarray = at[at >= 0]
    return found


def _member(docs: np.ndarray, among: np.ndarray) -> np.ndarray:
    """Which of DOCS are in AMONG (ascending, unique), aligned with DOCS.

    The same as ``mask[docs]`` for a boolean array ``mask`` of the index's size true at
    AMONG, without that array: a query's cost stays with its postings, not the index's size.
    """
    return _positions(among, docs) >= 0


def _merged(a: Matches, b: Matches) -> Matches:
    """The union of A and B (documents ascending), scores added as ``a + b``.

    A document of both gets A's score plus B's, one of either its own: what adding A then
    B into a zeroed array gives, to the bit (``0.0 + x`` is ``x``; addition commutes).
    """
    large, small = (a, b) if len(a) >= len(b) else (b, a)
    at = np.searchsorted(large.docs, small.docs)
    clipped = np.minimum(at, len(large) - 1)
    both = large.docs[clipped] == small.docs
    shared = at[both]
    scores = large.scores.copy()
    scores[shared] += small.scores[both]
    ceiling = None
    if a.ceiling is not None or b.ceiling is not None:
        ceiling = large.upper.copy()
        ceiling[shared] += small.upper[both]
    if both.all():  # a title's documents among the body's, most often
        return Matches(large.docs, scores, ceiling)
    only = ~both
    # Where each document of SMALL alone lands among the others: after the documents of
    # LARGE before it and the ones of SMALL alone before it.
    added = at[only] + np.arange(int(only.sum()))
    kept = np.ones(len(large) + len(added), dtype=bool)
    kept[added] = False
    return Matches(_placed(large.docs, small.docs[only], kept, added),
                   _placed(scores, small.scores[only], kept, added),
                   None if ceiling is None else
                   _placed(ceiling, small.upper[only], kept, added))


def _placed(values: np.ndarray, extra: np.ndarray, kept: np.ndarray,
            added: np.ndarray) -> np.ndarray:
    """VALUES where KEPT is true and EXTRA at the positions ADDED, in one new array."""
    merged = np.empty(len(kept), dtype=values.dtype)
    merged[kept] = values
    merged[added] = extra
    return merged


def intersect(a: Matches, b: Matches) -> Matches:
    """The documents of both A and B, each one's scores (and ceilings) added.

    On the sorted documents alone (no array of the index's size): the same documents and
    scores, to the bit, as marking B in such an array and looking A's documents up in it.
    """
    if len(a) > len(b):
        a, b = b, a
    at = _positions(b.docs, a.docs)
    keep = at >= 0
    at = at[keep]
    ceiling = None
    if a.ceiling is not None or b.ceiling is not None:
        ceiling = a.upper[keep] + b.upper[at]
    return Matches(a.docs[keep], a.scores[keep] + b.scores[at], ceiling)


def union(parts: list[Matches], size: int) -> Matches:
    """The documents of any of PARTS (documents below SIZE), scores added in the parts' order.

    Few postings for SIZE, or a long part and a short one (a word's body and title), are
    merged as sorted arrays, two parts at a time in order (a document's score is then added
    up in the same order as over a zeroed array of SIZE); many postings in several long parts
    are added up in arrays of SIZE, cheaper per posting then.
    """
    parts = [p for p in parts if len(p)]
    if not parts:
        return EMPTY
    if len(parts) == 1:
        return parts[0]
    lengths = sorted(len(part) for part in parts)
    if sum(lengths) * _SPARSE_SHARE <= size or (
            len(parts) == 2 and lengths[0] * _SPARSE_SHARE <= lengths[1]):
        merged = parts[0]
        for part in parts[1:]:
            merged = _merged(merged, part)
        return merged
    dense = np.zeros(size, dtype=np.float64)
    present = np.zeros(size, dtype=bool)
    for part in parts:
        dense[part.docs] += part.scores
        present[part.docs] = True
    docs = np.flatnonzero(present).astype(np.int64)
    ceiling = None
    if any(part.ceiling is not None for part in parts):
        upper = np.zeros(size, dtype=np.float64)
        for part in parts:
            upper[part.docs] += part.upper
        ceiling = upper[docs]
    return Matches(docs, dense[docs], ceiling)


def minus(a: Matches, b: Matches) -> Matches:
    """The matches of A whose document is not in B."""
    if not len(a) or not len(b):
        return a
    return a.where(~_member(a.docs, b.docs))


class _StemOfTypedForm(wq.Term):  # type: ignore[misc]  # Whoosh has no type hints
    """A stemmed word whose typed form (``typed``, an exact-form term) is scored later."""

    def __init__(self, stem: wq.Term, typed: wq.Term) -> None:
        super().__init__(stem.fieldname, stem.text, boost=stem.boost)
        self.typed = typed


def _without_typed_forms(query: wq.Query) -> wq.Query:
    """QUERY with each typed form left out and its stem (the term just before it) marked.

    ``query.prefer_typed_forms`` puts a word's exact-form term right after its stem in the
    same OR. Only where the match engine evaluates the query itself (words, AND, OR, AND
    NOT's kept side), so that the typed forms left out are all accounted for in a ceiling.
    Returns QUERY itself when it has no typed form there.
    """
    if isinstance(query, wq.AndNot):
        kept = _without_typed_forms(query.a)
        if kept is query.a:
            return query
        changed = copy.copy(query)
        changed.a = kept
        changed.subqueries = [kept, query.b]
        return changed
    if isinstance(query, wq.Or):
        if query.scale or query.minmatch or any(isinstance(sub, wq.Not)
                                                for sub in query.subqueries):
            return query
    elif not isinstance(query, wq.And):
        return query
    subqueries: list[wq.Query] = []
    changed_any = False
    for sub in query.subqueries:
        before: Any = subqueries[-1] if subqueries else None
        if isinstance(query, wq.Or) and _is_typed_form(sub, before):
            subqueries[-1] = _StemOfTypedForm(before, sub)
            changed_any = True
            continue
        new = _without_typed_forms(sub)
        changed_any = changed_any or new is not sub
        subqueries.append(new)
    if not changed_any:
        return query
    changed = copy.copy(query)
    changed.subqueries = subqueries
    return changed


def _pointwise(query: wq.Query) -> bool:
    """Whether ``MatchEngine._on`` evaluates QUERY: words, AND (with a word or more besides
    its NOTs), OR of words, AND NOT and NOT, as ``MatchEngine._node`` evaluates them."""
    if _read_as_term(query):
        return True
    if isinstance(query, wq.And):
        positives = [sub for sub in query.subqueries if not isinstance(sub, wq.Not)]
        return bool(positives) and all(
            _pointwise(sub.query if isinstance(sub, wq.Not) else sub)
            for sub in query.subqueries)
    if isinstance(query, wq.AndNot):
        return _pointwise(query.a) and _pointwise(query.b)
    return _plain_or(query) and all(_pointwise(sub) for sub in query.subqueries)


def _nested_and(query: wq.Query) -> bool:
    """Whether QUERY, a part of an AND, is evaluated otherwise than as a word or an OR of
    words (whose terms ``MatchEngine._on`` reads ahead for the whole AND)."""
    return not (_read_as_term(query) or _plain_or(query))


def _read_as_term(query: wq.Query) -> bool:
    """Whether ``MatchEngine`` evaluates QUERY as one term's postings (``_term``)."""
    return isinstance(query, wq.Term) and query.fieldname in _SCORED_FIELDS


def _plain_or(query: wq.Query) -> bool:
    """Whether QUERY is an OR ``MatchEngine`` adds up itself (``_or_parts``, ``union``)."""
    return isinstance(query, wq.Or) and not query.scale and not query.minmatch and not any(
        isinstance(sub, wq.Not) for sub in query.subqueries)


def _terms_or(query: wq.Query) -> bool:
    """Whether QUERY is an OR of words alone (a word's stems, and typed forms): each read
    for an AND's candidates as a word alone is (``_term_plan``)."""
    return _plain_or(query) and all(_read_as_term(sub) for sub in query.subqueries)


def _or_subqueries(query: wq.Query) -> list[wq.Query]:
    """The subqueries ``MatchEngine._or_parts`` evaluates QUERY by: an OR's own (as
    ``MatchEngine._node`` takes an OR apart), else QUERY alone."""
    return list(query.subqueries) if _plain_or(query) else [query]


def _holds_and(query: wq.Query) -> bool:
    """Whether QUERY or one of its subqueries is an AND (of any kind but a phrase's words)."""
    if isinstance(query, wq.And | wq.AndNot | wq.AndMaybe | wq.Require):
        return True
    return isinstance(query, wq.compound.CompoundQuery) and any(
        _holds_and(sub) for sub in query.subqueries)


def _is_typed_form(query: wq.Query, before: wq.Query | None) -> bool:
    """Whether QUERY is the typed form of the stem BEFORE it in an OR: an exact-form term
    right after a term of its stemmed field (``query.prefer_typed_forms`` puts them so)."""
    if type(query) is not wq.Term or type(before) is not wq.Term:
        return False
    stem: Any = before
    return EXACT_FIELDS.get(stem.fieldname) == query.fieldname \
        and isinstance(stem.text, str) and isinstance(query.text, str)
