"""A large prefix scored only where its page can be: the page is the full evaluation's.

Over real indexes of two segments: a generated corpus where many articles score alike (ties at
the page's edge, words filling several blocks, fields of many lengths) and the replica corpus.
The matches of ``MatchEngine.match(..., page=N)`` are the full evaluation's documents; every
score that can reach the N best is the full evaluation's, to the bit; every other score lies
below its ceiling, and every ceiling above the full score. Through ``SearchService``, pages 1
and 2 (and the orders and filters that take the usual path) are the usual path's, as JSON.
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import numpy as np
import pytest
from search_fixtures import (
    archive_and_index,
    article,
    live_searcher,
    replica_in_two_segments,
    service_for,
)
from whoosh import query as wq
from whoosh.searching import Searcher

import indexer.matches as matches_module
import indexer.search as search_module
from indexer.matches import MatchEngine, Matches, PostingsCache
from indexer.query import make_parser, parse_query
from indexer.score_bounds import PageFloor, settle_reaching

WORDS = ["projet", "programme", "province", "problème", "produit", "prochain", "profond",
         "promesse", "prix", "presse", "prise", "premier", "privé", "pression", "priorité"]
FILLER = ("le conseil a réuni les membres de la commission pour examiner la situation "
          "des marchés et des routes de la région").split()
PATTERNS = 12  # articles of one pattern and one filler length score alike: ties


def _tied_articles(first: int, count: int) -> list:
    items = []
    for i in range(first, first + count):
        pattern = i % PATTERNS
        words = [WORDS[(pattern * 3 + k) % len(WORDS)] for k in range(1 + pattern % 4)]
        words += [WORDS[pattern % len(WORDS)]] * (pattern % 3)
        filler = FILLER * (1 + (i // PATTERNS) % 4)
        title = f"Le {WORDS[pattern % 5]} du jour" if pattern % 2 else "Nouvelles du jour"
        items.append(article(f"article-{i}", title, " ".join(words + filler)))
    return items


@pytest.fixture(scope="module")
def tied_dir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    data = tmp_path_factory.mktemp("prefix-page-tied")
    archive_and_index(data, _tied_articles(0, 420))
    archive_and_index(data, _tied_articles(420, 180))
    return data


@pytest.fixture(scope="module")
def tied(tied_dir: Path) -> Iterator[Searcher]:
    yield from live_searcher(tied_dir, segments=2)


@pytest.fixture(scope="module")
def replica(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Searcher]:
    data = tmp_path_factory.mktemp("prefix-page-replica")
    replica_in_two_segments(data, 300, 60)
    yield from live_searcher(data, segments=2)


@pytest.fixture
def every_prefix_paged(monkeypatch: pytest.MonkeyPatch) -> None:
    """Every prefix of two words or more is large enough to be scored where its page is."""
    monkeypatch.setattr(matches_module, "PAGE_SCORED_POSTINGS", 0)


def _query(searcher: Searcher, text: str) -> wq.Query:
    query = parse_query(text, make_parser(searcher.schema)).query
    assert query is not None
    return query


def _assert_page_is_full(page: Matches, full: Matches, limit: int) -> None:
    assert page.exact_first == limit and page.ceiling is not None
    assert page.docs.tolist() == full.docs.tolist()
    assert bool((page.ceiling >= full.scores).all()), "a ceiling below the score it bounds"
    assert bool((page.scores <= full.scores).all())
    floor = np.sort(full.scores)[-min(limit, len(full))]
    reach = full.scores >= floor
    assert page.scores[reach].tolist() == full.scores[reach].tolist()
    assert page.ceiling[reach].tolist() == full.scores[reach].tolist()
    # A score not yet exact is below its ceiling: a caller can tell the exact ones.
    unsettled = page.ceiling != page.scores
    assert not bool(unsettled[reach].any())


@pytest.mark.parametrize("text", ["pro*", "pri*", "pre*"])
@pytest.mark.parametrize("limit", [1, 5, 10, 20, 40])
def test_a_page_scored_where_it_can_be_has_the_full_scores_with_ties(
        tied: Searcher, every_prefix_paged: None, text: str, limit: int) -> None:
    query = _query(tied, text)
    full = MatchEngine(tied, {}).match(query)
    page = MatchEngine(tied, {}).match(query, settle_later=True, page=limit)
    _assert_page_is_full(page, full, limit)
    floor = np.sort(full.scores)[-limit]
    assert int((full.scores == floor).sum()) > 1, "the page's edge falls among ties"
    if limit <= 10:  # a first round of FIRST_ROUND pages leaves most of 600 articles out
        assert bool((page.ceiling != page.scores).any()), "some matches were not scored"


@pytest.mark.parametrize("text", ["pou*", "con*", "pre*", "par*"])
@pytest.mark.parametrize("limit", [1, 10, 20])
def test_a_page_of_the_replica_corpus_has_the_full_scores(
        replica: Searcher, every_prefix_paged: None, text: str, limit: int) -> None:
    query = _query(replica, text)
    full = MatchEngine(replica, {}).match(query)
    assert len(full) > 2 * limit
    _assert_page_is_full(MatchEngine(replica, {}).match(query, page=limit), full, limit)


def test_a_page_leaves_out_documents_not_live(tied: Searcher, every_prefix_paged: None) -> None:
    query = _query(tied, "pro*")
    full = MatchEngine(tied, {}).match(query)
    live = np.ones(tied.doc_count_all(), dtype=bool)
    live[full.docs[np.argsort(-full.scores, kind="stable")[:7]]] = False  # the best gone
    live[::5] = False
    kept = full.where(live[full.docs])
    page = MatchEngine(tied, {}).match(query, page=10, live=live)
    _assert_page_is_full(page, kept, 10)


def test_a_small_prefix_or_another_query_is_evaluated_as_usual(tied: Searcher) -> None:
    for text in ("pro*", "projet province", "pro* projet"):
        query = _query(tied, text)
        found = MatchEngine(tied, {}).match(query, page=10)
        assert found.exact_first == 0
        full = MatchEngine(tied, {}).match(query)
        assert found.scores.tolist() == full.scores.tolist()


def test_a_prefix_whose_lists_are_all_kept_is_scored_from_them(
        tied: Searcher, every_prefix_paged: None) -> None:
    query = _query(tied, "pro*")
    full = MatchEngine(tied, {}).match(query)
    cache = PostingsCache()
    paged = MatchEngine(tied, {}, cache).match(query, page=10)
    assert paged.exact_first == 10 and len(cache) == 0, "a page scored so keeps no list"
    reader = MatchEngine(tied, {}, cache)
    for prefix in [q for q in query.leaves() if isinstance(q, wq.Prefix)]:
        reader.match(reader.expand_prefix(prefix))  # its words read alone keep their lists
    assert len(cache) > 2
    from_lists = MatchEngine(tied, {}, cache).match(query, page=10)
    assert from_lists.exact_first == 0
    assert from_lists.docs.tolist() == full.docs.tolist()
    assert from_lists.scores.tolist() == full.scores.tolist()
    forgotten = PostingsCache()  # the same lists but one
    for number, key in enumerate(list(cache._lists)):
        if number:
            ids, weights, frequency = cache._lists[key]
            forgotten.put(key, ids, weights, frequency)
    _assert_page_is_full(MatchEngine(tied, {}, forgotten).match(query, page=10), full, 10)


def _pages(data: Path, texts: list[str]) -> list[dict]:
    service = service_for(data)
    try:
        found = []
        for text in texts:
            for options in ({}, {"page": 2}, {"page": 3, "page_size": 7}, {"sort": "date"},
                            {"author": "Moussa Diop"}):
                result = service.search(text, **options)
                found.append(result.to_json() | {
                    "took_ms": None, "scores": [hit.score for hit in result.hits]})
        return found
    finally:
        service.close()


def test_search_pages_are_the_usual_path_s(tied_dir: Path, every_prefix_paged: None,
                                           monkeypatch: pytest.MonkeyPatch) -> None:
    texts = ["pro*", "pri*", "pre*"]
    paged = _pages(tied_dir, texts)
    monkeypatch.setattr(search_module, "_best_page_only", lambda request: False)
    usual = _pages(tied_dir, texts)
    assert paged == usual
    assert all(page["hits"] for page in paged[:3])


@pytest.mark.parametrize("seed", range(6))
def test_settling_finds_every_score_that_reaches_the_page(seed: int) -> None:
    rng = np.random.default_rng(seed)
    for limit in (1, 3, 10):
        count = int(rng.integers(1, 400))
        scores = rng.integers(1, 30, count).astype(np.float64)  # many ties
        ceilings = scores * rng.uniform(1.0, 2.0, count)
        asked: list[int] = []
        page = PageFloor(limit)

        def exact(positions: np.ndarray, scores: np.ndarray = scores,
                  ceilings: np.ndarray = ceilings, page: PageFloor = page,
                  asked: list[int] = asked) -> np.ndarray:
            assert bool((np.diff(positions) > 0).all())
            # What ``_SegmentPrefixes`` relies on to find later rounds' postings at once.
            assert bool((ceilings[positions] >= page.floor).all()), "asked below the floor"
            asked.extend(positions.tolist())
            return scores[positions]

        positions, found = settle_reaching(ceilings, page, exact)
        assert len(set(asked)) == len(asked), "a match scored twice"
        assert found.tolist() == scores[positions].tolist()
        floor = np.sort(scores)[-min(limit, count)]
        assert set(np.flatnonzero(scores >= floor).tolist()) <= set(positions.tolist())
        assert page.floor == (floor if count >= limit else float("-inf"))
