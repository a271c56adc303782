"""Facet counts over the column arrays: category, month and year counts agree with counting
one by one, whether the matches are counted or, when they are most documents, the rest."""

from __future__ import annotations

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from indexer.columns import NO_DAY, NO_VALUE, Codes, Columns, month_parts
from indexer.search import _few_month_facets, _month_facets


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
    columns = _columns(in_category)
    assert columns.category_counts(docs).tolist() == expected
    rest = columns.rest_of(docs)
    assert (rest is not None) == (matches * 2 > 9_999)
    assert columns.category_counts(docs, rest).tolist() == expected


def _dated(months: np.ndarray, authors: np.ndarray, authors_known: int) -> Columns:
    size = len(months)
    return Columns(day=np.zeros(size, dtype=np.int32), month=months, author=authors,
                   edition=np.full(size, NO_VALUE, dtype=np.int32),
                   live=np.ones(size, dtype=bool),
                   authors=Codes([f"a{code}" for code in range(authors_known)]),
                   editions=Codes(), first_doc_of_author=np.zeros(0, dtype=np.int64))


@settings(max_examples=200, deadline=None)
@given(st.lists(st.one_of(st.integers(-40, 800), st.just(NO_DAY)), min_size=1, max_size=60),
       st.data())
def test_month_and_year_counts_are_those_of_each_month_counted_one_by_one(
        months: list[int], data: st.DataObject) -> None:
    docs = np.array(sorted(data.draw(st.sets(st.integers(0, len(months) - 1), min_size=1))))
    expected_months: dict[tuple[int, int], int] = {}
    for doc in docs.tolist():
        if months[doc] != NO_DAY:
            key = month_parts(months[doc])
            expected_months[key] = expected_months.get(key, 0) + 1
    expected_years: dict[int, int] = {}
    for (year, _), count in expected_months.items():
        expected_years[year] = expected_years.get(year, 0) + count
    columns = _dated(np.array(months, dtype=np.int32), np.zeros(len(months), dtype=np.int32), 1)
    rest = columns.rest_of(docs)
    assert (rest is not None) == (len(docs) * 2 > len(months))
    for use in (None, rest, None, rest):  # the second time from the bins and totals kept
        found_months, found_years = _month_facets(*columns.month_counts(docs, use))
        assert found_months == [(*key, count) for key, count in sorted(expected_months.items())]
        assert found_years == sorted(expected_years.items())
        assert all(type(value) is int for row in found_months + found_years for value in row)
    # Counted from the rest, the same counts to the last month found among the matches.
    first, counted = columns.month_counts(docs)
    assert columns.month_counts(docs, rest)[0] == first
    assert columns.month_counts(docs, rest)[1].tolist() == counted.tolist()
    # A few matches' months are counted in plain Python: the same lists.
    assert _few_month_facets(columns.month[docs].tolist()) == (found_months, found_years)


@pytest.mark.parametrize("authors_known", [3, 40_000])  # bins of 16 and of 32 bits
def test_author_counts_are_the_matches_of_each_known_author(authors_known: int) -> None:
    rng = np.random.default_rng(authors_known)
    authors = rng.integers(-1, authors_known, size=5_000).astype(np.int32)
    authors[authors < 0] = NO_VALUE
    columns = _dated(np.zeros(5_000, dtype=np.int32), authors, authors_known)
    for matches in (1, 50, 2_500, 2_501, 4_999, 5_000):
        docs = np.sort(rng.choice(5_000, matches, replace=False))
        known = authors[docs][authors[docs] != NO_VALUE]
        expected = np.bincount(known, minlength=authors_known)
        assert columns.value_counts("author", docs).tolist() == expected.tolist()
        rest = columns.rest_of(docs)  # the documents left out, when they are the fewer
        assert (rest is not None) == (matches > 2_500)
        assert columns.value_counts("author", docs, rest).tolist() == expected.tolist()
