"""The stable order through one plain sort is numpy's stable argsort."""

from __future__ import annotations

import numpy as np
from hypothesis import given, settings
from hypothesis import strategies as st

from indexer.stable_order import stable_order


@settings(max_examples=300, deadline=None)
@given(keys=st.lists(st.integers(0, 40), max_size=200), bits=st.sampled_from([0, 10, 40, 57]))
def test_stable_order_is_numpy_s_stable_argsort(keys: list[int], bits: int) -> None:
    values = np.array(keys, dtype=np.int64) << bits
    bound = (40 << bits) + 1
    order = stable_order(values, bound)
    assert order.dtype == np.int64
    assert order.tolist() == np.argsort(values, kind="stable").tolist()


def test_keys_too_wide_for_the_index_bits_are_sorted_by_argsort() -> None:
    rng = np.random.default_rng(3)
    values = rng.integers(0, 1 << 60, 5000, dtype=np.int64) // 1024 * 1024  # ties
    for bound in (1 << 60, 1 << 40):
        keys = values % bound
        assert stable_order(keys, bound).tolist() == np.argsort(keys, kind="stable").tolist()


def test_unsigned_keys_and_no_keys() -> None:
    keys = np.array([3, 1, 3, 0, 1], dtype=np.uint32)
    assert stable_order(keys, 4).tolist() == [3, 1, 4, 0, 2]
    assert stable_order(np.zeros(0, dtype=np.uint32), 1).tolist() == []
    assert stable_order(np.zeros(1, dtype=np.uint32), 1).tolist() == [0]
