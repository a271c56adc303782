"""Ceilings of a term's weights from its block directory, without decoding a posting.

A page needs exact scores only for the matches that can reach it. BM25F grows with a
posting's weight when the document's field length is fixed, so a term's score in a document
is at most the score its block's greatest weight (``posting_blocks.HEAVIEST``, in every
block's record) gives at that document's own length. ``MatchEngine`` turns these weights into
ceilings (``Matches.ceiling``), and the page is settled as for typed forms: the highest
ceilings first, then every match whose ceiling still reaches the page's last exact score
(``search._settled``, the threshold loop), so the page, its scores and its ties are those of
the full evaluation.
"""

from __future__ import annotations

import numpy as np

from indexer.posting_blocks import HEAVIEST, LAST


def heaviest_of_blocks(directory: np.ndarray, docs: np.ndarray) -> np.ndarray:
    """Return the greatest weight of the block of DIRECTORY (``posting_blocks.read_directory``)
    whose range holds each of DOCS (ascending documents of the segment, each holding the
    term): at least the term's weight there."""
    blocks = np.minimum(np.searchsorted(directory[LAST], docs), directory.shape[1] - 1)
    heaviest: np.ndarray = directory[HEAVIEST].view(np.float64)[blocks]
    return heaviest
