"""Scoring only where a page can be: upper bounds of BM25F scores, and the page's floor.

A page shows the LIMIT best-scored matches; its total and facets need every match's document,
not its score. A match whose upper bound (its ceiling) is below the LIMIT-th best exact score
found so far cannot be on the page, so its exact score is never computed. Each block of a
term's postings records its greatest weight and its shortest field (``posting_blocks.BLOCK``):
BM25F grows with the weight and falls with the field's length, so the score of that weight
over that length bounds every posting of the block (``bm25f_bounds``), and a document's
ceiling is the sum of its postings' blocks' bounds. ``settle_reaching`` scores exactly the
matches whose ceiling can reach the floor, the highest ceilings first so that the floor rises
before the others are tested (docs/whoosh.md, "A large prefix scored where its page can be").
"""

from __future__ import annotations

from collections.abc import Callable

import numpy as np

# Each bound is raised by this share: the rounding of one posting's score and of a sum of a
# few hundred of them is some 1e-13 of it, so a ceiling stays above the exact score it bounds.
BOUND_SLACK = 1e-9

# The first round of exact scores: this many times the page, the highest ceilings (each later
# round four times the one before): enough for the floor to rise near the page's own.
FIRST_ROUND = 4


class BoundExceeded(ValueError):
    """An exact score is above its ceiling: the blocks' limits do not bound their postings."""


def least_norms(norm: np.ndarray) -> np.ndarray:
    """Return, per length byte, the least length part of BM25F's denominator among that byte
    and those below it (NORM: the part per byte): the part of a block's shortest field."""
    least: np.ndarray = np.minimum.accumulate(norm)
    return least


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
                    tighter: Callable[[np.ndarray], np.ndarray] | None = None,
                    ) -> tuple[np.ndarray, np.ndarray]:
    """Score exactly the matches whose CEILINGS can reach PAGE's floor, raising the floor as
    their scores come: the highest ceilings first, in rounds of growing size, until no match
    left unscored reaches it.

    EXACT gives the exact scores of the matches at ascending positions. TIGHTER (optional)
    gives tighter ceilings of matches at ascending positions, dearer to find: once a floor
    is known (from earlier matches, or after a first round), the matches still reaching it
    are tested with those. Returns the positions
    scored (ascending) and their scores; every other match's ceiling is below the floor.
    Raises BoundExceeded when a score is above a ceiling of its.
    """
    found: list[tuple[np.ndarray, np.ndarray]] = []
    size = FIRST_ROUND * page.limit
    left = np.flatnonzero(ceilings >= page.floor)
    bounds = ceilings[left]
    tightened = tighter is None
    while len(left):
        if not tightened and tighter is not None and page.floor > float("-inf"):
            # A floor known already (from matches tested before): tighter ceilings at once.
            tightened = True
            bounds = tighter(left)
            reach = bounds >= page.floor
            left, bounds = left[reach], bounds[reach]
            continue
        if len(left) > 2 * size:
            cut = len(left) - size
            chosen = np.zeros(len(left), dtype=bool)
            chosen[np.argpartition(bounds, cut)[cut:]] = True
        else:
            chosen = np.ones(len(left), dtype=bool)
        positions = left[chosen]
        scores = exact(positions)
        if bool((scores > bounds[chosen]).any()) \
                or bool((scores > ceilings[positions]).any()):
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
