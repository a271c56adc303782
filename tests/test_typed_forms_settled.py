"""Typed forms scored only where a page needs them: same documents, same order, same scores.

A plain word adds its exact form's score to its stem's (``query.prefer_typed_forms``). The
service reads the exact-form postings only for the matches that can reach the page (their
ceiling: the most the typed form can add); these tests hold that shortcut to the complete
evaluation, bit for bit, over an archive where every word has stem siblings in varied
numbers, lengths and fields.
"""

from __future__ import annotations

import os
import random
from collections.abc import Iterator
from datetime import date, timedelta
from typing import Any

import numpy as np
import pytest
from search_fixtures import archive_and_index, article
from whoosh.filedb.filestore import FileStorage
from whoosh.searching import Searcher

import indexer.matches as matches_module
from indexer.matches import MatchEngine, Matches
from indexer.query import make_parser, parse_query
from indexer.search import _settled, _top

SIBLINGS = ["gouvernement", "gouvernements", "gouverné", "gouvernés", "gouverne",
            "gouvernerait", "président", "présidente", "présidents", "présider"]
FILLER = ["ville", "marché", "port", "école", "budget", "débat", "région", "santé", "route",
          "pluie", "récolte", "famille"]
QUERIES = ["gouvernement", "gouverné", "Gouvernements", "président", "présider",
           "gouvernement président", "gouverné présidente ville", "gouvernement SAUF ville",
           "gouvernement OU marché", "titre:gouvernement", "gouvernement -budget",
           "(gouverné OU président) santé", "gouvernerait", "ville"]


def _corpus() -> list:  # type: ignore[type-arg]
    rng = random.Random(14)
    items = []
    for i in range(240):
        words = [rng.choice(FILLER) for _ in range(rng.randrange(3, 60))]
        for _ in range(rng.randrange(0, 6)):
            words.insert(rng.randrange(len(words) + 1), rng.choice(SIBLINGS))
        title = " ".join([rng.choice(FILLER), rng.choice(SIBLINGS + FILLER)])
        day = date(2020, 1, 1) + timedelta(days=rng.randrange(0, 90))
        items.append(article(f"texte-{i}", title.capitalize(), " ".join(words) + ".",
                             published=day))
    return items


@pytest.fixture(scope="module")
def searcher(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Searcher]:
    data = tmp_path_factory.mktemp("typed-forms")
    archive_and_index(data, _corpus())
    build = os.path.realpath(data / "index" / "current")
    index = FileStorage(build, supports_mmap=False, readonly=True).open_index()
    with index.searcher() as opened:
        yield opened


@pytest.mark.parametrize("text", QUERIES)
def test_deferred_typed_forms_find_the_same_documents_within_their_ceilings(
        searcher: Searcher, text: str) -> None:
    query = parse_query(text, make_parser(searcher.schema)).query
    complete = MatchEngine(searcher, {}).match(query)
    deferred = MatchEngine(searcher, {}).match(query, settle_later=True)
    assert deferred.docs.tolist() == complete.docs.tolist()
    assert np.all(deferred.scores <= complete.scores + 1e-12)
    assert np.all(deferred.upper >= complete.scores - 1e-12)


def test_plain_words_do_defer_their_typed_forms(searcher: Searcher) -> None:
    query = parse_query("gouvernement président", make_parser(searcher.schema)).query
    deferred = MatchEngine(searcher, {}).match(query, settle_later=True)
    assert deferred.ceiling is not None
    assert np.any(deferred.ceiling > deferred.scores)


def _complete_deferred_and_days(searcher: Searcher, text: str,
                                ) -> tuple[Matches, Matches, np.ndarray]:
    """TEXT's matches evaluated whole and with typed forms deferred, and their days."""
    from indexer.columns import day_number

    query = parse_query(text, make_parser(searcher.schema)).query
    complete = MatchEngine(searcher, {}).match(query)
    deferred = MatchEngine(searcher, {}).match(query, settle_later=True)
    published = {d: searcher.stored_fields(d).get("published") for d in complete.docs.tolist()}
    days = np.array([day_number(published[d].date()) for d in complete.docs.tolist()],
                    dtype=np.int32)
    return complete, deferred, days


@pytest.mark.parametrize("text", QUERIES)
@pytest.mark.parametrize("sort", ["relevance", "date", "oldest"])
def test_a_settled_page_is_the_complete_page_bit_for_bit(searcher: Searcher, text: str,
                                                          sort: str) -> None:
    complete, deferred, days = _complete_deferred_and_days(searcher, text)
    for limit in (1, 3, 10, 50):
        expected = _top(complete.scores, days, complete.docs, sort, limit)
        settled = _settled(deferred, days, sort, limit)
        got = _top(settled.scores, days, settled.docs, sort, limit)
        assert settled.docs[got].tolist() == complete.docs[expected].tolist()
        assert settled.scores[got].tolist() == complete.scores[expected].tolist()


@pytest.fixture(scope="module")
def segmented(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Searcher]:
    """The same articles written by four runs: four segments."""
    data = tmp_path_factory.mktemp("typed-forms-segments")
    items = _corpus()
    for start in range(0, len(items), 60):
        archive_and_index(data, items[start:start + 60])
    build = os.path.realpath(data / "index" / "current")
    index = FileStorage(build, supports_mmap=False, readonly=True).open_index()
    with index.searcher() as opened:
        assert len(opened.reader().leaf_readers()) == 4
        yield opened


@pytest.mark.parametrize("text", QUERIES)
def test_settling_segment_after_segment_gives_the_complete_scores(segmented: Searcher,
                                                                  text: str) -> None:
    # Each settling reads a typed form whole in the segments holding its matches only; the
    # next one reads the other segments and keeps what was read: the scores stay exact.
    query = parse_query(text, make_parser(segmented.schema)).query
    complete = MatchEngine(segmented, {}).match(query)
    deferred = MatchEngine(segmented, {}).match(query, settle_later=True)
    rng = random.Random(text)
    settled = deferred.settled(np.sort(rng.sample(range(len(deferred)),
                                                  min(3, len(deferred)))))
    leaves = segmented.reader().leaf_readers()
    stops = [base for _, base in leaves[1:]] + [segmented.doc_count_all()]
    for (_, base), stop in reversed(list(zip(leaves, stops, strict=True))):
        settled = settled.settled(np.flatnonzero((deferred.docs >= base)
                                                 & (deferred.docs < stop)))
    assert settled.docs.tolist() == complete.docs.tolist()
    assert settled.scores.tolist() == complete.scores.tolist()


def test_settling_reads_a_typed_form_only_where_its_stem_is(
        searcher: Searcher, monkeypatch: pytest.MonkeyPatch) -> None:
    # A document holding « gouvernement » in its title holds its stem there: matches whose
    # titles lack the stem are settled without reading the titles' typed forms at all.
    query = parse_query("gouvernement", make_parser(searcher.schema)).query
    complete = MatchEngine(searcher, {}).match(query)
    deferred = MatchEngine(searcher, {}).match(query, settle_later=True)
    plain = [i for i, doc in enumerate(deferred.docs.tolist())
             if "gouvern" not in searcher.stored_fields(doc)["title"].lower()]
    assert len(plain) > 5
    fields: list[str] = []
    reader = matches_module.read_postings_together

    def recording(wanted: list[Any]) -> Any:
        fields.extend(request.field for request in wanted)
        return reader(wanted)

    monkeypatch.setattr("indexer.matches.read_postings_together", recording)
    settled = deferred.settled(np.asarray(plain[:5]))
    assert "body_exact" in fields and "title_exact" not in fields
    assert settled.scores[plain[:5]].tolist() == complete.scores[plain[:5]].tolist()


@pytest.mark.parametrize("text", QUERIES)
@pytest.mark.parametrize("settle_first", [0, 10, 40, 1000])
def test_a_query_the_page_settles_anyway_is_evaluated_at_once_the_same(
        searcher: Searcher, text: str, settle_first: int) -> None:
    # Few matches for what the caller settles first (or few and no AND): no ceilings, the
    # complete documents and scores at once; otherwise deferred as before.
    from indexer.matches import BLOCK_POSTINGS, _holds_and, _without_typed_forms

    query = parse_query(text, make_parser(searcher.schema)).query
    complete = MatchEngine(searcher, {}).match(query)
    engine = MatchEngine(searcher, {})
    found = engine.match(query, settle_later=True, settle_first=settle_first)
    stemmed = _without_typed_forms(query)
    estimate = engine._estimate(stemmed)
    at_once = stemmed is query or estimate <= settle_first or (
        estimate <= BLOCK_POSTINGS and not _holds_and(stemmed))
    assert estimate >= len(complete) or stemmed is query
    if at_once:
        assert found.ceiling is None
    else:  # deferred: ceilings, unless the stems matched nothing to defer
        assert found.ceiling is not None or not len(found)
    assert found.docs.tolist() == complete.docs.tolist()
    if found.ceiling is None:
        assert found.scores.tolist() == complete.scores.tolist()


def test_both_ways_are_taken_over_the_query_set(searcher: Searcher) -> None:
    # The corpus is small enough for single words to be evaluated at once, and holds ANDs
    # above the page's settling: both ways are exercised by the test above.
    parser = make_parser(searcher.schema)
    ways = set()
    for text in QUERIES:
        query = parse_query(text, parser).query
        found = MatchEngine(searcher, {}).match(query, settle_later=True, settle_first=10)
        ways.add(found.ceiling is None)
    assert ways == {True, False}


def test_the_service_evaluates_a_rare_word_at_once(
        tmp_path: Any, monkeypatch: pytest.MonkeyPatch) -> None:
    # A word of three articles: the service's search asks for no settling at all.
    from search_fixtures import service_for

    archive_and_index(tmp_path, _corpus() + [
        article(f"rare-{n}", f"Titre {n}", "Le zébu de Kolda broute.") for n in range(3)])
    settled_calls: list[int] = []
    original = MatchEngine._settle

    def recording(self: MatchEngine, query: Any, docs: np.ndarray) -> Any:
        settled_calls.append(len(docs))
        return original(self, query, docs)

    monkeypatch.setattr(MatchEngine, "_settle", recording)
    with service_for(tmp_path) as svc:
        assert svc.search("zébu").total == 3
        assert settled_calls == []
        assert svc.search("gouvernement ville").total > 0
    assert settled_calls != []


@pytest.mark.parametrize("text", QUERIES)
def test_final_scores_are_the_complete_scores_of_the_positions_asked(searcher: Searcher,
                                                                     text: str) -> None:
    query = parse_query(text, make_parser(searcher.schema)).query
    complete = MatchEngine(searcher, {}).match(query)
    deferred = MatchEngine(searcher, {}).match(query, settle_later=True)
    before = deferred.scores.copy()
    positions = np.arange(0, len(deferred), 3)
    found, final = deferred.final_scores(positions)
    assert found.tolist() == positions.tolist()  # the same documents: every one is matched
    assert final.tolist() == complete.scores[positions].tolist()
    assert deferred.scores.tolist() == before.tolist()  # nothing written where it was read


@pytest.mark.parametrize("text", QUERIES)
def test_the_page_settles_exactly_the_matches_whose_ceiling_reaches_its_floor(
        searcher: Searcher, text: str) -> None:
    # The matches near the floor are found by one comparison with a slack, then tested
    # exactly: the matches settled are those the exact test over every match picks.
    from indexer.search import _SETTLE_MARGIN, _settle_first

    query = parse_query(text, make_parser(searcher.schema)).query
    deferred = MatchEngine(searcher, {}).match(query, settle_later=True)
    if deferred.ceiling is None or deferred.settle is None:
        pytest.skip("evaluated at once: nothing to settle")
    asked: list[list[int]] = []
    settle = deferred.settle

    def recording(docs: np.ndarray) -> Matches:
        asked.append(docs.tolist())
        return settle(docs)

    recorded = Matches(deferred.docs, deferred.scores, deferred.ceiling, recording)
    limit = 3
    first = _settle_first(limit, "relevance")
    days = np.zeros(len(deferred), dtype=np.int32)
    result = _settled(recorded, days, "relevance", limit)
    if first >= len(deferred):
        assert asked == [deferred.docs.tolist()]
        return
    ceiling = deferred.ceiling
    positions = np.sort(np.argpartition(ceiling, len(ceiling) - first)[len(ceiling) - first:])
    assert asked[0] == deferred.docs[positions].tolist()
    scores = deferred.settled(positions).scores
    floor = np.sort(scores[positions])[-limit]
    reach = (ceiling + (np.abs(ceiling) + 1.0) * _SETTLE_MARGIN >= floor) \
        & (ceiling != deferred.scores)
    reach[positions] = False
    assert (asked[1] if len(asked) > 1 else []) == deferred.docs[reach].tolist()
    assert result.scores.tolist() == deferred.settled(
        np.union1d(positions, np.flatnonzero(reach))).scores.tolist()


@pytest.mark.parametrize("text", QUERIES)
def test_a_page_ordered_among_the_matches_near_its_floor_is_the_complete_page(
        searcher: Searcher, text: str) -> None:
    from indexer.search import _page_order, _settled_page

    complete, deferred, days = _complete_deferred_and_days(searcher, text)
    for limit in (1, 3, 10, 50):
        expected = _top(complete.scores, days, complete.docs, "relevance", limit)
        settled, among = _settled_page(deferred, days, "relevance", limit)
        got = _page_order(settled, days, "relevance", limit, among)
        assert settled.docs[got].tolist() == complete.docs[expected].tolist()
        assert settled.scores[got].tolist() == complete.scores[expected].tolist()


@pytest.mark.parametrize("seed", range(20))
def test_ties_at_the_page_edge_are_ordered_as_over_every_match(seed: int) -> None:
    # Final scores of few distinct values (many ties at the page's edge), partial scores
    # below them and ceilings above: the page ordered among the matches settling left near
    # its floor is the page ordered over every final score, ties broken by day then document.
    from indexer.search import _page_order, _settled_page

    rng = np.random.default_rng(seed)
    count = int(rng.integers(60, 3000))
    docs = np.sort(rng.choice(10 * count, count, replace=False)).astype(np.int64)
    final = rng.choice([1.0, 1.5, 2.0, 2.5], count)
    partial = final - rng.choice([0.0, 0.25, 0.5], count)
    ceiling = final + rng.choice([0.0, 0.1, 1.0], count)
    days = rng.integers(0, 5, count).astype(np.int32)

    def settle(asked: np.ndarray) -> Matches:
        return Matches(asked, final[np.searchsorted(docs, asked)])

    deferred = Matches(docs, partial, ceiling, settle)
    for limit in (1, 7, 10, 20, 40):
        expected = _top(final, days, docs, "relevance", limit)
        settled, among = _settled_page(deferred, days, "relevance", limit)
        got = _page_order(settled, days, "relevance", limit, among)
        assert got.tolist() == expected.tolist()
        if among is not None:  # every match left out scores below the page's last
            outside = np.setdiff1d(np.arange(count), among)
            assert bool((ceiling[outside] < final[expected[-1]]).all())
