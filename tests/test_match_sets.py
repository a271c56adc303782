"""The set operations of the match engine on sorted documents give what dense arrays give.

``indexer.matches`` combines the parts of a query (the fields of a word, the words of an AND,
the excluded side of AND NOT) on their sorted document numbers, without arrays of the index's
size: a query then costs what its postings cost, not what the index's size does. These tests
hold the sorted-array union, intersection and difference to the dense arrays they replace, bit
for bit, scores and ceilings (typed forms settled later), on generated parts: empty ones,
documents shared by several parts, a part with a ceiling beside parts without.
"""

from __future__ import annotations

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from indexer.matches import (
    _POSITION_SPAN,
    EMPTY,
    Matches,
    PostingsCache,
    _dense_span,
    _near_merge,
    _near_pair_documents,
    _positions,
    _sequence_starts,
    _sorted_common,
    _sorted_unique,
    _windows,
    intersect,
    minus,
    union,
)

SIZE = 300


@st.composite
def matches(draw: st.DrawFn, size: int = SIZE) -> Matches:
    docs = sorted(draw(st.sets(st.integers(0, size - 1), max_size=60)))
    scores = draw(st.lists(st.floats(0.01, 40.0, allow_nan=False), min_size=len(docs),
                           max_size=len(docs)))
    with_ceiling = draw(st.booleans())
    ceiling = None
    if with_ceiling:
        extra = draw(st.lists(st.floats(0.0, 10.0, allow_nan=False), min_size=len(docs),
                              max_size=len(docs)))
        ceiling = np.asarray(scores, dtype=np.float64) + np.asarray(extra, dtype=np.float64)
    return Matches(np.asarray(docs, dtype=np.int64), np.asarray(scores, dtype=np.float64),
                   ceiling)


def dense_union(parts: list[Matches], size: int) -> Matches:
    """The union as adding each part in turn into zeroed arrays of the index's size."""
    parts = [p for p in parts if len(p)]
    if not parts:
        return EMPTY
    dense = np.zeros(size)
    present = np.zeros(size, dtype=bool)
    upper = np.zeros(size)
    for part in parts:
        dense[part.docs] += part.scores
        upper[part.docs] += part.upper
        present[part.docs] = True
    docs = np.flatnonzero(present)
    ceiling = upper[docs] if any(p.ceiling is not None for p in parts) else None
    return Matches(docs, dense[docs], ceiling)


def dense_intersection(a: Matches, b: Matches, size: int) -> Matches:
    """The intersection as looking A's documents up in arrays of the index's size marking B."""
    scores, upper, present = np.zeros(size), np.zeros(size), np.zeros(size, dtype=bool)
    scores[b.docs], upper[b.docs], present[b.docs] = b.scores, b.upper, True
    keep = present[a.docs]
    docs = a.docs[keep]
    ceiling = None
    if a.ceiling is not None or b.ceiling is not None:
        ceiling = a.upper[keep] + upper[docs]
    return Matches(docs, a.scores[keep] + scores[docs], ceiling)


def same(found: Matches, expected: Matches) -> None:
    assert found.docs.tolist() == expected.docs.tolist()
    assert found.scores.tolist() == expected.scores.tolist()  # to the bit
    if expected.ceiling is None:
        assert found.ceiling is None
    else:
        assert found.ceiling is not None
        assert found.ceiling.tolist() == expected.ceiling.tolist()


@settings(max_examples=300, deadline=None)
@given(st.lists(matches(), max_size=5))
def test_a_union_of_few_postings_adds_scores_as_a_dense_array_does(parts: list[Matches]) -> None:
    # An index many times the parts' size: merged as sorted arrays.
    same(union(parts, SIZE * 1000), dense_union(parts, SIZE * 1000))


@settings(max_examples=200, deadline=None)
@given(st.lists(matches(), max_size=5))
def test_a_union_of_many_postings_for_the_index_gives_the_same(parts: list[Matches]) -> None:
    # The parts nearly fill the index: added up in arrays of its size.
    same(union(parts, SIZE), dense_union(parts, SIZE))


@settings(max_examples=300, deadline=None)
@given(matches(), matches())
def test_an_intersection_adds_both_scores_as_a_dense_array_does(a: Matches,
                                                                b: Matches) -> None:
    same(intersect(a, b), dense_intersection(a, b, SIZE) if len(a) <= len(b)
         else dense_intersection(b, a, SIZE))


@settings(max_examples=200, deadline=None)
@given(matches(), matches())
def test_a_difference_keeps_the_matches_whose_document_is_not_excluded(a: Matches,
                                                                       b: Matches) -> None:
    excluded = set(b.docs.tolist())
    keep = np.asarray([doc not in excluded for doc in a.docs.tolist()], dtype=bool)
    same(minus(a, b), a.where(keep) if len(a) else a)


def test_the_union_of_nothing_is_empty_and_of_one_part_that_part() -> None:
    one = Matches(np.asarray([3, 9], dtype=np.int64), np.asarray([1.5, 2.5]))
    assert len(union([], SIZE)) == 0
    assert len(union([EMPTY, EMPTY], SIZE)) == 0
    assert union([EMPTY, one], SIZE) is one


@settings(max_examples=100, deadline=None)
@given(matches(), st.sets(st.integers(0, SIZE - 1), max_size=40))
def test_a_held_list_gives_only_the_postings_of_the_documents_asked_for(
        held: Matches, asked: set[int]) -> None:
    cache = PostingsCache()
    weights = held.scores
    cache.put(("body", b"mot"), held.docs, weights, 77)
    within = np.asarray(sorted(asked), dtype=np.int64)
    found = cache.get(("body", b"mot"), within)
    assert found is not None
    whole = cache.get(("body", b"mot"))
    assert whole is not None
    ids, tf, frequency = found
    keep = np.isin(whole[0], within)
    assert ids.tolist() == whole[0][keep].tolist() == held.docs[np.isin(held.docs,
                                                                        within)].tolist()
    assert tf.tolist() == whole[1][keep].tolist()
    assert frequency == 77  # the whole list's, whatever the documents asked for


@settings(max_examples=200, deadline=None)
@given(matches(), st.sets(st.integers(0, SIZE - 1), max_size=80))
def test_matches_among_documents_keep_exactly_those_documents(found: Matches,
                                                              wanted: set[int]) -> None:
    docs = np.asarray(sorted(wanted), dtype=np.int64)
    same(found.among(docs), found.where(np.isin(found.docs, docs)))


@st.composite
def sparse_or_dense(draw: st.DrawFn) -> tuple[np.ndarray, np.ndarray]:
    """Two ascending sets of documents, many or few for the span of their values (position
    keys past 2^32 included): looked up in an array of that span, or by binary searches."""
    span = draw(st.sampled_from([50, 300, 100_000, 2**40]))
    values = st.integers(0, span - 1)
    a = np.asarray(sorted(draw(st.sets(values, max_size=60))), dtype=np.int64)
    b = np.asarray(sorted(draw(st.sets(values, max_size=60))), dtype=np.int64)
    return a, b


@settings(max_examples=300, deadline=None)
@given(sparse_or_dense())
def test_common_documents_are_what_numpy_intersect1d_finds(sets: tuple[np.ndarray,
                                                                          np.ndarray]) -> None:
    a, b = sets
    assert _sorted_common(a, b).tolist() == np.intersect1d(a, b).tolist()
    assert _sorted_common(b, a).tolist() == np.intersect1d(a, b).tolist()


@settings(max_examples=300, deadline=None)
@given(sparse_or_dense())
def test_each_document_looked_up_gets_its_place_or_minus_one(sets: tuple[np.ndarray,
                                                                         np.ndarray]) -> None:
    docs, wanted = sets
    place = {doc: i for i, doc in enumerate(docs.tolist())}
    assert _positions(docs, wanted).tolist() == [place.get(doc, -1)
                                                 for doc in wanted.tolist()]


def test_many_documents_for_their_span_are_looked_up_in_an_array_of_it() -> None:
    # Both ways give the same answers: the array (dense) for many, binary searches for few.
    many = np.arange(0, 1000, 2, dtype=np.int64)
    few = np.asarray([5, 999_998], dtype=np.int64)
    assert _dense_span(many, many) == 999
    assert _dense_span(few, many) == 0
    assert _positions(many, many[::5]).tolist() == list(range(0, 500, 5))
    assert _sorted_common(many, np.arange(0, 1000, 3, dtype=np.int64)).tolist() == \
        list(range(0, 1000, 6))



@st.composite
def occurrences(draw: st.DrawFn) -> tuple[np.ndarray, np.ndarray, int]:
    """Two words' occurrences in a few documents (keys: document * span + position; the
    same position possible for both) and a distance."""
    words: list[list[int]] = [[], []]
    for doc in range(draw(st.integers(1, 4))):
        for word in words:
            places = draw(st.sets(st.integers(0, 40), max_size=8))
            word.extend(doc * _POSITION_SPAN + place for place in sorted(places))
    return (np.asarray(words[0], dtype=np.int64), np.asarray(words[1], dtype=np.int64),
            draw(st.integers(0, 8)))


@settings(max_examples=400, deadline=None)
@given(occurrences())
def test_two_words_near_each_other_are_in_the_documents_their_windows_find(
        found: tuple[np.ndarray, np.ndarray, int]) -> None:
    a, b, distance = found
    windows = _sorted_unique(_windows([a, b], distance) // _POSITION_SPAN)
    # The compiled merge, whichever word comes first, and its Python source alike.
    assert _near_pair_documents(a, b, distance).tolist() == windows.tolist()
    assert _near_pair_documents(b, a, distance).tolist() == windows.tolist()
    assert _near_merge.python(a, b, np.int64(distance),
                              np.int64(_POSITION_SPAN)).tolist() == windows.tolist()


def test_two_words_near_each_other_at_the_end_of_one_list_are_found() -> None:
    a = np.array([5, _POSITION_SPAN + 3], dtype=np.int64)
    b = np.array([_POSITION_SPAN + 7], dtype=np.int64)
    assert _near_pair_documents(a, b, 4).tolist() == [1]
    assert _near_pair_documents(a, b, 3).tolist() == []
    assert _near_pair_documents(a, b[:0], 4).tolist() == []


def _numpy_sequence_starts(starts: np.ndarray | None, running: np.ndarray, owners: np.ndarray,
                           places: np.ndarray, offset: int) -> tuple[np.ndarray, np.ndarray]:
    """``_sequence_starts`` as numpy computed it before its kernel (the reference)."""
    after = places >= offset
    keys = running[owners[after]] * _POSITION_SPAN + (places[after] - offset)
    kept = keys if starts is None else _sorted_common(starts, keys)
    return kept, _sorted_unique(kept // _POSITION_SPAN)


@st.composite
def sequences(draw: st.DrawFn) -> tuple[np.ndarray, list[tuple[np.ndarray, np.ndarray]]]:
    """Documents asked (ascending) and a few terms' occurrences in them (owners: indexes
    into the documents, ascending; places ascending in each, distinct)."""
    running = np.array(sorted(draw(st.sets(st.integers(0, 2**20), min_size=1, max_size=8))),
                       dtype=np.int64)
    terms = []
    for _ in range(draw(st.integers(1, 4))):
        owners: list[int] = []
        places: list[int] = []
        for owner in range(len(running)):
            held = sorted(draw(st.sets(st.integers(0, 30), max_size=6)))
            owners.extend([owner] * len(held))
            places.extend(held)
        terms.append((np.array(owners, dtype=np.int64), np.array(places, dtype=np.int64)))
    return running, terms


@settings(max_examples=300, deadline=None)
@given(sequences())
def test_a_sequence_s_starts_are_kept_as_numpy_kept_them(
        found: tuple[np.ndarray, list[tuple[np.ndarray, np.ndarray]]]) -> None:
    running, terms = found
    starts: np.ndarray | None = None
    expected: np.ndarray | None = None
    for offset, (owners, places) in enumerate(terms):
        kept, documents = _sequence_starts(starts, running, owners, places, offset)
        reference, reference_documents = _numpy_sequence_starts(expected, running, owners,
                                                                places, offset)
        assert kept.tolist() == reference.tolist()
        assert documents.tolist() == reference_documents.tolist()
        starts, expected = kept, reference


def test_an_occurrence_outside_the_documents_asked_is_refused() -> None:
    running = np.array([3, 8], dtype=np.int64)
    with pytest.raises(ValueError, match="not among those asked"):
        _sequence_starts(None, running, np.array([0, 2], dtype=np.int64),
                         np.array([1, 1], dtype=np.int64), 0)
