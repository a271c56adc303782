"""A generation's cache of whole posting lists changes nothing a search finds or scores.

``indexer.matches.PostingsCache`` keeps the posting lists a generation's searches read whole;
a later search reads them from memory (even where it would have read only some blocks). These
tests run every query through an engine whose cache was filled by all the others first and
compare it with a fresh engine, bit for bit, and hold the cache to its byte budget.
"""

from __future__ import annotations

import os
import random
from collections.abc import Iterator
from datetime import date, timedelta

import numpy as np
import pytest
from search_fixtures import archive_and_index, article
from whoosh.filedb.filestore import FileStorage
from whoosh.searching import Searcher

from indexer.matches import MatchEngine, PostingsCache
from indexer.query import make_parser, parse_query

WORDS = ["gouvernement", "gouvernements", "gouverné", "président", "présidente", "ville",
         "marché", "port", "école", "budget", "débat", "région", "santé", "route", "pluie"]
QUERIES = ["gouvernement", "gouverné", "président ville", "gouvernement SAUF ville",
           "gouvernement OU marché", "titre:gouvernement", "(gouverné OU président) santé",
           '"président ville"', "port -budget", "ville marché école"]


@pytest.fixture(scope="module")
def searcher(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Searcher]:
    rng = random.Random(3)
    items = []
    for i in range(200):
        body = " ".join(rng.choice(WORDS) for _ in range(rng.randrange(3, 50))) + "."
        title = " ".join(rng.choice(WORDS) for _ in range(2)).capitalize()
        day = date(2021, 1, 1) + timedelta(days=rng.randrange(0, 300))
        items.append(article(f"texte-{i}", title, body, published=day))
    data = tmp_path_factory.mktemp("postings-cache")
    archive_and_index(data, items)
    build = os.path.realpath(data / "index" / "current")
    index = FileStorage(build, supports_mmap=False, readonly=True).open_index()
    with index.searcher() as opened:
        yield opened


@pytest.mark.parametrize("text", QUERIES)
@pytest.mark.parametrize("settle_later", [False, True])
def test_a_search_through_a_filled_cache_matches_and_scores_as_a_fresh_read(
        searcher: Searcher, text: str, settle_later: bool) -> None:
    parser = make_parser(searcher.schema)
    cache = PostingsCache()
    for other in QUERIES:
        MatchEngine(searcher, {}, cache).match(parse_query(other, parser).query)
    assert len(cache) > 0
    query = parse_query(text, parser).query
    fresh = MatchEngine(searcher, {}).match(query, settle_later=settle_later)
    cached = MatchEngine(searcher, {}, cache).match(query, settle_later=settle_later)
    assert cached.docs.tolist() == fresh.docs.tolist()
    assert cached.scores.tolist() == fresh.scores.tolist()
    if settle_later and fresh.ceiling is not None:
        assert cached.ceiling is not None
        everything = np.arange(len(fresh))
        assert cached.settled(everything).scores.tolist() == \
            fresh.settled(everything).scores.tolist()


def test_the_cache_keeps_lists_it_was_given_and_returns_them_unchanged() -> None:
    cache = PostingsCache(max_bytes=1 << 20)
    ids = np.array([3, 8, 90], dtype=np.int64)
    weights = np.array([1.0, 2.0, 0.5], dtype=np.float64)
    cache.put(("body", b"mot"), ids, weights, 3)
    assert cache.holds(("body", b"mot"))
    found = cache.get(("body", b"mot"))
    assert found is not None
    assert found[0].dtype == np.int64 and found[0].tolist() == [3, 8, 90]
    assert found[1].dtype == np.float64 and found[1].tolist() == [1.0, 2.0, 0.5]
    assert found[2] == 3
    assert cache.get(("body", b"autre")) is None
    documents = cache.documents(("body", b"mot"))  # the documents alone
    assert documents is not None
    assert documents.dtype == np.int64 and documents.tolist() == [3, 8, 90]
    assert cache.documents(("body", b"autre")) is None


def test_the_cache_forgets_the_least_recently_used_lists_past_its_budget() -> None:
    cache = PostingsCache(max_bytes=8 * 1000 * 8)  # room for 8 lists of 1,000 postings
    postings = np.arange(1000, dtype=np.int64), np.ones(1000)
    for n in range(12):
        cache.put(("body", f"mot{n}".encode()), *postings, 1000)
        cache.get(("body", b"mot0"))  # kept in use
    assert cache.holds(("body", b"mot0"))
    assert not cache.holds(("body", b"mot1"))
    assert cache.holds(("body", b"mot11"))
    assert sum(cache.holds(("body", f"mot{n}".encode())) for n in range(12)) == 8


def test_a_list_larger_than_an_eighth_of_the_budget_is_not_kept() -> None:
    cache = PostingsCache(max_bytes=8 * 1000)
    cache.put(("body", b"grand"), np.arange(1000, dtype=np.int64), np.ones(1000), 1000)
    assert not cache.holds(("body", b"grand"))


def test_weights_that_32_bits_cannot_hold_exactly_are_kept_whole() -> None:
    cache = PostingsCache()
    weights = np.array([0.1, 1 / 3])
    cache.put(("body", b"mot"), np.array([1, 2], dtype=np.int64), weights, 2)
    found = cache.get(("body", b"mot"))
    assert found is not None
    assert found[1].tolist() == weights.tolist()
