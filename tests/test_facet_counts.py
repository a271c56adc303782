"""Facet counts over the column arrays: the category counts agree with counting one by one."""

from __future__ import annotations

import numpy as np
import pytest

from indexer.columns import Codes, Columns


def _columns(in_category: np.ndarray) -> Columns:
    size = in_category.shape[1]
    empty = np.zeros(size, dtype=np.int32)
    return Columns(day=empty, month=empty, author=empty, edition=empty,
                   live=np.ones(size, dtype=bool), authors=Codes(), editions=Codes(),
                   first_doc_of_author=np.zeros(0, dtype=np.int64), in_category=in_category)


@pytest.mark.parametrize("matches", [0, 1, 7, 300, 2_000, 9_999])
def test_category_counts_are_the_matches_carrying_each_category(matches: int) -> None:
    rng = np.random.default_rng(matches)
    in_category = rng.random((11, 9_999)) < 0.2
    docs = np.sort(rng.choice(9_999, matches, replace=False))
    expected = [int(in_category[code, docs].sum()) for code in range(11)]
    assert _columns(in_category).category_counts(docs).tolist() == expected
