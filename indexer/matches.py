"""Every document a query matches, with its score, as numpy arrays (not only the top ten).

Totals, filters, facets and both orders need all matches; Whoosh's collectors would score them
one Python call at a time through ``search(limit=None)`` and then build Results objects we do
not use. Here the query's own matcher is walked once, collecting document numbers and BM25F
scores. Plain words and their AND/OR/NOT combinations take the faster route of
``indexer.postings`` when it can read the index's posting blocks (same documents, same scores).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from whoosh import query as wq
from whoosh.searching import Searcher


@dataclass(frozen=True)
class Matches:
    """Document numbers (ascending) and their scores."""

    docs: np.ndarray     # int64
    scores: np.ndarray   # float64, aligned with docs

    def __len__(self) -> int:
        return int(self.docs.shape[0])

    def where(self, keep: np.ndarray) -> Matches:
        """Return the matches where the boolean array KEEP (aligned with docs) is true."""
        return Matches(self.docs[keep], self.scores[keep])


EMPTY = Matches(np.zeros(0, dtype=np.int64), np.zeros(0, dtype=np.float64))


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
