"""A stable argsort of small non-negative integers, through one plain sort.

numpy's stable argsort of 32- and 64-bit integers is a merge sort (radix sort only for 16
bits or fewer), three times slower than its plain sort of the same integers. When a key and
its index fit together in 64 bits, sorting the numbers ``key << index_bits | index`` gives the
stable order at once: equal keys stay in index order because their indexes break the tie.
"""

from __future__ import annotations

import numpy as np

__all__ = ["stable_order"]


def stable_order(keys: np.ndarray, bound: int) -> np.ndarray:
    """Return ``np.argsort(KEYS, kind="stable")`` (int64) for KEYS in 0..BOUND-1."""
    count = len(keys)
    index_bits = max(1, (count - 1).bit_length())
    if (bound - 1).bit_length() + index_bits > 64:
        order: np.ndarray = np.argsort(keys, kind="stable")
        return order.astype(np.int64, copy=False)
    combined = keys.astype(np.uint64) << np.uint64(index_bits)
    combined |= np.arange(count, dtype=np.uint64)
    combined.sort()
    combined &= np.uint64((1 << index_bits) - 1)
    return combined.view(np.int64)
