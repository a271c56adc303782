"""The arithmetic of settling a page's typed forms (``search._settled``) per match, alone.

    python bench/settle_page.py [--matches 460000] [--runs 30]

A common word matches some 46,000 articles of 100,000 and ten times more at a million: the
work ``_settled`` does for every match (choosing the highest ceilings, copying scores,
finding the ceilings that reach the page) grows with them, the settling of the few chosen
does not. Synthetic matches (stem scores, ceilings up to half as much again, final scores
between), settled by a lookup that costs nothing, so that only that arithmetic is timed:
prints the median and best CPU ms (``time.process_time``) of RUNS settlings of page 1.
"""

from __future__ import annotations

import argparse
import statistics
import time

import numpy as np

from indexer.matches import Matches
from indexer.search import _settled


def main() -> None:
    """Time ``_settled`` on synthetic matches and print the figures."""
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--matches", type=int, default=460_000)
    parser.add_argument("--runs", type=int, default=30)
    options = parser.parse_args()
    rng = np.random.default_rng(14)
    count = options.matches
    docs = np.sort(rng.choice(count * 2, count, replace=False)).astype(np.int64)
    scores = rng.gamma(4.0, 2.0, count)
    ceiling = scores * (1.0 + rng.uniform(0.0, 0.5, count))
    final = scores + rng.uniform(0.0, 1.0, count) * (ceiling - scores)

    def settle(wanted: np.ndarray) -> Matches:
        return Matches(wanted, final[np.searchsorted(docs, wanted)])

    days = np.zeros(count, dtype=np.int32)
    spent = []
    for _ in range(options.runs):
        matches = Matches(docs, scores, ceiling, settle)
        started = time.process_time()
        _settled(matches, days, "relevance", 10)
        spent.append((time.process_time() - started) * 1000)
    print(f"{count} matches: median {statistics.median(spent):.2f} ms, "
          f"best {min(spent):.2f} ms CPU")


if __name__ == "__main__":
    main()
