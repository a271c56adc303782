"""Scoring only where a page can be: upper bounds of BM25F scores, and the page's floor.

A page shows the LIMIT best-scored matches; its total and facets need every match's document,
not its score. A match whose upper bound (its ceiling) is below the LIMIT-th best exact score
found so far cannot be on the page, so its exact score is never computed. Each block of a
term's postings records its greatest weight and its shortest field (``posting_blocks.BLOCK``):
BM25F grows with the weight and falls with the field's length, so the score of that weight
over that length bounds every posting of the block (``bm25f_bounds``); over the document's own
length it bounds the posting more tightly, and a large prefix's document's ceiling is the sum
of those (``matches._length_sums``). ``settle_reaching`` scores exactly the matches whose
ceiling can reach the floor, the highest ceilings first so that the floor rises before the
others are tested (docs/whoosh.md, "A large prefix scored where its page can be").

A phrase's documents are known before its words are scored: each document's ceiling is then
its words' blocks' greatest weights (``heaviest_of_blocks``, from the directory a reader keeps)
over the document's own length, and the page is settled as typed forms are
(``search._settled``; docs/whoosh.md, "Quotations of common words settled from ceilings").
"""

from __future__ import annotations

from collections.abc import Callable

import numpy as np

from indexer.posting_blocks import HEAVIEST, LAST

# Each bound is raised by this share: the rounding of one posting's score and of a sum of a
# few hundred of them is some 1e-13 of it, so a ceiling stays above the exact score it bounds.
BOUND_SLACK = 1e-9

# The first round of exact scores: this many times the page, the highest ceilings (each later
# round four times the one before): enough for the floor to rise near the page's own.
FIRST_ROUND = 4


class BoundExceeded(ValueError):
    """An exact score is above its ceiling: the blocks' limits do not bound their postings."""


def bm25f_bounds(idf: np.ndarray, heaviest: np.ndarray, least_norm: np.ndarray,
                 k1: float) -> np.ndarray:
    """Return the most a posting of each block can score: Whoosh's BM25F of the block's
    greatest weight (HEAVIEST) over its shortest field's length part (LEAST_NORM), with its
    word's IDF (all per block), raised by ``BOUND_SLACK``."""
    bounds: np.ndarray = idf * ((heaviest * (k1 + 1)) / (heaviest + least_norm))
    return bounds * (1.0 + BOUND_SLACK)


class PageFloor:
    """The LIMIT best exact scores found so far: a match whose score is below the least of
    them cannot be among the LIMIT best."""

    def __init__(self, limit: int) -> None:
        self.limit = limit
        self._best = np.zeros(0, dtype=np.float64)

    @property
    def floor(self) -> float:
        """The least of the LIMIT best scores, minus infinity while fewer are known."""
        if len(self._best) < self.limit:
            return float("-inf")
        return float(self._best.min())

    def add(self, scores: np.ndarray) -> None:
        """Count SCORES (exact scores of matches not counted before)."""
        best = np.concatenate((self._best, scores))
        if len(best) > self.limit:
            best = np.partition(best, len(best) - self.limit)[len(best) - self.limit:]
        self._best = best


def settle_reaching(ceilings: np.ndarray, page: PageFloor,
                    exact: Callable[[np.ndarray], np.ndarray],
                    ) -> tuple[np.ndarray, np.ndarray]:
    """Score exactly the matches whose CEILINGS can reach PAGE's floor, raising the floor as
    their scores come: the highest ceilings first, in rounds of growing size, until no match
    left unscored reaches it.

    EXACT gives the exact scores of the matches at ascending positions, each among those
    whose ceiling reaches the floor when it is asked. Returns the positions scored
    (ascending) and their scores; every other match's ceiling is below the floor. Raises
    BoundExceeded when a score is above its ceiling.
    """
    found: list[tuple[np.ndarray, np.ndarray]] = []
    size = FIRST_ROUND * page.limit
    left = np.flatnonzero(ceilings >= page.floor)
    bounds = ceilings[left]
    while len(left):
        if len(left) > 2 * size:
            cut = len(left) - size
            chosen = np.zeros(len(left), dtype=bool)
            chosen[np.argpartition(bounds, cut)[cut:]] = True
        else:
            chosen = np.ones(len(left), dtype=bool)
        positions = left[chosen]
        scores = exact(positions)
        if bool((scores > bounds[chosen]).any()):
            raise BoundExceeded("a block's recorded limits do not bound its postings' scores")
        page.add(scores)
        found.append((positions, scores))
        size *= 4
        rest = ~chosen & (bounds >= page.floor)
        left, bounds = left[rest], bounds[rest]
    if not found:
        return np.zeros(0, dtype=np.int64), np.zeros(0, dtype=np.float64)
    positions = np.concatenate([positions for positions, _ in found])
    order = np.argsort(positions, kind="stable")
    return positions[order], np.concatenate([scores for _, scores in found])[order]


def heaviest_of_blocks(directory: np.ndarray, docs: np.ndarray) -> np.ndarray:
    """Return the greatest weight of the block of DIRECTORY (``posting_blocks.read_directory``)
    whose range holds each of DOCS (ascending documents of the segment, each holding the
    term): at least the term's weight there."""
    blocks = np.minimum(np.searchsorted(directory[LAST], docs), directory.shape[1] - 1)
    heaviest: np.ndarray = directory[HEAVIEST].view(np.float64)[blocks]
    return heaviest
