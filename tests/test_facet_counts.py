"""Facet counts over the column arrays: author, edition, category, month and year counts agree
with counting one by one and with the numpy passes the compiled count replaced, whether the
matches are counted or, when they are most documents, the others."""

from __future__ import annotations

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from indexer import columns as columns_module
from indexer import compiled
from indexer.columns import NO_DAY, NO_VALUE, Codes, Columns, FacetCounts, month_parts
from indexer.search import _few_month_facets, _month_facets


def reference_counts(columns: Columns, docs: np.ndarray) -> FacetCounts:
    """The numpy counting the facets did before their kernel: a gather and a ``bincount`` a
    column (through the documents left out for a set of most), a mask for the categories."""
    size = len(columns.live)
    rest = None
    if len(docs) * 2 > size:
        outside = np.ones(size, dtype=bool)
        outside[docs] = False
        rest = np.flatnonzero(outside)

    def counted(values: np.ndarray, bins: int) -> np.ndarray:
        if rest is None:
            found: np.ndarray = np.bincount(values[docs], minlength=bins)
            return found
        return np.bincount(values, minlength=bins) - np.bincount(values[rest], minlength=bins)

    authors = counted(columns.author + 1, len(columns.authors.values) + 1)[1:]
    editions = counted(columns.edition + 1, len(columns.editions.values) + 1)[1:]
    known = columns.month != NO_DAY
    first = int(columns.month[known].min()) if known.any() else 0
    month_bins = np.where(known, columns.month.astype(np.int64) - first + 1, 0)
    months = counted(month_bins, int(month_bins.max()) + 1 if size else 1)
    found = np.flatnonzero(months)
    months = months[1:int(found[-1]) + 1 if len(found) else 1]
    categories = (columns.in_category[:, docs].sum(axis=1, dtype=np.int64)
                  if columns.in_category.shape[0] else np.zeros(0, dtype=np.int64))
    return FacetCounts(authors, editions, categories, first, months)


def assert_same(found: FacetCounts, expected: FacetCounts) -> None:
    assert found.authors.tolist() == expected.authors.tolist()
    assert found.editions.tolist() == expected.editions.tolist()
    assert found.categories.tolist() == expected.categories.tolist()
    assert found.first_month == expected.first_month
    assert found.months.tolist() == expected.months.tolist()


def _columns(in_category: np.ndarray) -> Columns:
    size = in_category.shape[1]
    empty = np.zeros(size, dtype=np.int32)
    return Columns(day=empty, month=empty, author=empty, edition=empty,
                   live=np.ones(size, dtype=bool), authors=Codes(), editions=Codes(),
                   first_doc_of_author=np.zeros(0, dtype=np.int64), in_category=in_category)


@pytest.mark.parametrize("matches", [1, 7, 300, 2_000, 9_999])
def test_category_counts_are_the_matches_carrying_each_category(matches: int) -> None:
    rng = np.random.default_rng(matches)
    in_category = rng.random((11, 9_999)) < 0.2
    docs = np.sort(rng.choice(9_999, matches, replace=False))
    expected = [int(in_category[code, docs].sum()) for code in range(11)]
    columns = _columns(in_category)
    for _ in range(2):  # the second time from the packed categories kept
        assert columns.facet_counts(docs).categories.tolist() == expected


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
    for _ in range(2):  # the second time from the bins and totals kept
        counted = columns.facet_counts(docs)
        found_months, found_years = _month_facets(counted.first_month, counted.months)
        assert found_months == [(*key, count) for key, count in sorted(expected_months.items())]
        assert found_years == sorted(expected_years.items())
        assert all(type(value) is int for row in found_months + found_years for value in row)
    assert_same(columns.facet_counts(docs), reference_counts(columns, docs))
    # A few matches' months are counted in plain Python: the same lists.
    assert _few_month_facets(columns.month[docs].tolist()) == (found_months, found_years)


@pytest.mark.parametrize("authors_known", [3, 40_000])  # bins of 16 and of 32 bits
def test_author_counts_are_the_matches_of_each_known_author(authors_known: int) -> None:
    rng = np.random.default_rng(authors_known)
    authors = rng.integers(-1, authors_known, size=5_000).astype(np.int32)
    authors[authors < 0] = NO_VALUE
    columns = _dated(np.zeros(5_000, dtype=np.int32), authors, authors_known)
    for matches in (1, 50, 2_500, 2_501, 4_999, 5_000):  # the others counted past 2,500
        docs = np.sort(rng.choice(5_000, matches, replace=False))
        known = authors[docs][authors[docs] != NO_VALUE]
        expected = np.bincount(known, minlength=authors_known)
        assert columns.facet_counts(docs).authors.tolist() == expected.tolist()


@st.composite
def generations(draw: st.DrawFn) -> Columns:
    """Columns of a few documents: some authors, editions, categories and months unknown."""
    size = draw(st.integers(1, 300))
    authors = draw(st.integers(0, 6))
    editions = draw(st.integers(0, 3))
    categories = draw(st.integers(0, 4))
    seed = draw(st.integers(0, 2**32 - 1))
    rng = np.random.default_rng(seed)
    author = rng.integers(-1, authors, size).astype(np.int32) if authors else \
        np.full(size, NO_VALUE, dtype=np.int32)
    edition = rng.integers(-1, editions, size).astype(np.int32) if editions else \
        np.full(size, NO_VALUE, dtype=np.int32)
    month = rng.integers(600, 700, size).astype(np.int32)
    month[rng.random(size) < 0.1] = NO_DAY
    return Columns(day=np.zeros(size, dtype=np.int32), month=month, author=author,
                   edition=edition, live=np.ones(size, dtype=bool),
                   authors=Codes([f"a{n}" for n in range(authors)]),
                   editions=Codes([f"e{n}" for n in range(editions)]),
                   first_doc_of_author=np.zeros(authors, dtype=np.int64),
                   in_category=rng.random((categories, size)) < 0.3)


@settings(max_examples=300, deadline=None)
@given(generations(), st.data())
def test_every_facet_is_counted_as_numpy_counted_it(columns: Columns,
                                                    data: st.DataObject) -> None:
    size = len(columns.live)
    share = data.draw(st.sampled_from(["none", "few", "some", "most", "all"]))
    if share == "all":
        docs = np.arange(size, dtype=np.int64)
    elif share == "none":
        docs = np.zeros(0, dtype=np.int64)
    else:
        chosen = data.draw(st.sets(st.integers(0, size - 1),
                                   max_size=3 if share == "few" else size))
        if share == "most":
            chosen = set(range(size)) - chosen if len(chosen) * 2 < size else chosen
        docs = np.array(sorted(chosen), dtype=np.int64)
    assert_same(columns.facet_counts(docs), reference_counts(columns, docs))


def test_a_set_outside_the_columns_or_out_of_order_is_refused() -> None:
    columns = _dated(np.full(10, 610, dtype=np.int32), np.zeros(10, dtype=np.int32), 1)
    for docs in ([10], [-1], [0, 12], [3, 4, 5, 6, 7, 11]):  # a few, and most of them
        with pytest.raises(ValueError, match="outside"):
            columns.facet_counts(np.array(docs, dtype=np.int64))
    for docs in ([2, 1], [1, 1], [0, 1, 2, 4, 3, 5, 6]):
        with pytest.raises(ValueError, match="ascending"):
            columns.facet_counts(np.array(docs, dtype=np.int64))


def test_the_facet_kernel_is_warmed_up_with_the_service() -> None:
    assert columns_module._facet_example in compiled.registered()
    compiled.warm_up()
    assert columns_module._count_facets.compiled
