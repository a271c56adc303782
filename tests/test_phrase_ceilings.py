"""Quotations of common words scored only where the page can be: the complete page, bit for bit.

A phrase found in many documents may give them ceilings (its words' blocks' greatest weights
at each document's length) instead of scores; the page is then settled from the highest
ceilings (``search._settled``). These tests hold that to the complete evaluation, over an
archive of small words in varied numbers (heavy postings in every block), with texts repeated
word for word (equal scores: ties) and two segments.
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
from indexer.columns import day_number
from indexer.matches import MatchEngine, Matches
from indexer.query import make_parser, parse_query
from indexer.search import _settle_first, _settled, _top
from indexer.whoosh_format import read_postings, weight_ceilings

SMALL = ["de", "la", "le", "et", "du", "les", "à", "des", "en", "un", "il", "a", "t"]
WORDS = ["santé", "publique", "union", "africaine", "Kim", "Jong", "rappelé", "indiqué"]
QUOTES = ['"de la"', '"la santé"', '"il a"', '"a t il rappelé"', '"Kim Jong un"',
          '"du a indiqué"', '"union africaine"', '"le a t"', '"de la santé publique"',
          '"et de la"', '"Kim Jong un" santé', '"de la" OU "et le"', '"il a" -union',
          'titre:"de la"']


def _corpus() -> list:  # type: ignore[type-arg]
    rng = random.Random(7)
    phrases = ["a t il rappelé", "Kim Jong un", "du a indiqué", "union africaine",
               "de la santé publique", "le a t"]
    texts = []
    for _ in range(260):
        words = [rng.choice(SMALL if rng.random() < 0.75 else WORDS)
                 for _ in range(rng.randrange(4, 90))]
        for _ in range(rng.randrange(0, 4)):
            words.insert(rng.randrange(len(words) + 1), rng.choice(phrases))
        texts.append(" ".join(words))
    texts += texts[:30]  # the same words again: the same scores, ties the page must break
    items = []
    for i, text in enumerate(texts):
        title = " ".join(rng.choice(SMALL + WORDS) for _ in range(rng.randrange(2, 7)))
        day = date(2021, 1, 1) + timedelta(days=rng.randrange(0, 40))
        items.append(article(f"citation-{i}", title.capitalize(), text + ".", published=day))
    return items


@pytest.fixture(scope="module")
def searcher(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Searcher]:
    data = tmp_path_factory.mktemp("phrase-ceilings")
    items = _corpus()
    archive_and_index(data, items[:170])
    archive_and_index(data, items[170:])  # a second segment
    build = os.path.realpath(data / "index" / "current")
    index = FileStorage(build, supports_mmap=False, readonly=True).open_index()
    with index.searcher() as opened:
        assert len(opened.reader().leaf_readers()) == 2
        yield opened


@pytest.fixture
def always_bounded(monkeypatch: pytest.MonkeyPatch) -> None:
    """Ceilings for every phrase of more than a few documents (a share of the corpus or
    not), kept whatever they reach."""
    monkeypatch.setattr(matches_module, "_CEILINGS_FROM", 3)
    monkeypatch.setattr(matches_module, "_CEILINGS_SHARE", 0)
    monkeypatch.setattr(matches_module, "_REACH_SHARE", 0)
    monkeypatch.setattr(matches_module, "_DECODED_SHARE", (1, 0))


def _days(searcher: Searcher, docs: np.ndarray) -> np.ndarray:
    return np.array([day_number(searcher.stored_fields(d)["published"].date())
                     for d in docs.tolist()], dtype=np.int32)


@pytest.mark.parametrize("text", QUOTES)
def test_ceilings_bound_the_complete_scores_of_the_same_documents(
        searcher: Searcher, text: str, always_bounded: None) -> None:
    query = parse_query(text, make_parser(searcher.schema)).query
    complete = MatchEngine(searcher, {}).match(query)
    bounded = MatchEngine(searcher, {}).match(query, settle_later=True)
    assert bounded.docs.tolist() == complete.docs.tolist()
    assert np.all(bounded.scores <= complete.scores)
    assert np.all(bounded.upper >= complete.scores * (1 - 1e-12))


@pytest.mark.parametrize("text", QUOTES)
@pytest.mark.parametrize("sort", ["relevance", "date", "oldest"])
def test_a_page_settled_from_ceilings_is_the_complete_page_bit_for_bit(
        searcher: Searcher, text: str, sort: str, always_bounded: None) -> None:
    query = parse_query(text, make_parser(searcher.schema)).query
    complete = MatchEngine(searcher, {}).match(query)
    days = _days(searcher, complete.docs)
    for limit in (1, 3, 10, 20, 50):
        bounded = MatchEngine(searcher, {}).match(
            query, settle_later=True, settle_first=_settle_first(limit, sort))
        assert_page_settled_as_complete(bounded, complete, days, sort, limit)


def assert_page_settled_as_complete(bounded: Matches, complete: Matches, days: np.ndarray,
                                    sort: str, limit: int) -> None:
    """The first LIMIT of BOUNDED settled are COMPLETE's first LIMIT in SORT, bit for bit."""
    expected = _top(complete.scores, days, complete.docs, sort, limit)
    settled = _settled(bounded, days, sort, min(len(bounded), limit))
    got = _top(settled.scores, days, settled.docs, sort, limit)
    assert settled.docs[got].tolist() == complete.docs[expected].tolist()
    assert settled.scores[got].tolist() == complete.scores[expected].tolist()


def test_the_corpus_gives_ceilings_above_scores_and_ties(searcher: Searcher,
                                                        always_bounded: None) -> None:
    # Otherwise the tests above would hold with no shortcut taken.
    query = parse_query('"de la"', make_parser(searcher.schema)).query
    complete = MatchEngine(searcher, {}).match(query)
    bounded = MatchEngine(searcher, {}).match(query, settle_later=True)
    assert bounded.ceiling is not None and bounded.settle is not None
    assert np.any(bounded.ceiling > complete.scores * (1 + 1e-9))
    top = np.sort(complete.scores)[-20:]
    assert len(np.unique(top)) < len(top)


@pytest.mark.parametrize("text", QUOTES)
def test_ceilings_reaching_the_floor_almost_everywhere_give_the_scores_at_once(
        searcher: Searcher, text: str, monkeypatch: pytest.MonkeyPatch) -> None:
    # Kept only when at most one match in REACH_SHARE reaches the page's floor: with every
    # match asked to be under it, the phrase is scored at once, as without ceilings.
    monkeypatch.setattr(matches_module, "_CEILINGS_FROM", 3)
    monkeypatch.setattr(matches_module, "_CEILINGS_SHARE", 0)
    monkeypatch.setattr(matches_module, "_REACH_SHARE", 10**9)
    query = parse_query(text, make_parser(searcher.schema)).query
    complete = MatchEngine(searcher, {}).match(query)
    found = MatchEngine(searcher, {}).match(query, settle_later=True, settle_first=4)
    assert found.docs.tolist() == complete.docs.tolist()
    if found.ceiling is None:
        assert found.scores.tolist() == complete.scores.tolist()


def test_a_complete_evaluation_gives_no_ceilings(searcher: Searcher,
                                                 always_bounded: None) -> None:
    query = parse_query('"de la"', make_parser(searcher.schema)).query
    assert MatchEngine(searcher, {}).match(query).ceiling is None


def test_a_block_s_heaviest_weight_bounds_each_of_its_postings(searcher: Searcher) -> None:
    leaf, _ = searcher.reader().leaf_readers()[0]
    btext = searcher.schema["body_exact"].to_bytes("de")
    found = read_postings(leaf, "body_exact", btext)
    assert found is not None
    docs, weights, _ = found
    assert len(docs) > 128  # several blocks
    ceilings = weight_ceilings(leaf, "body_exact", btext, docs)
    assert ceilings is not None
    blocks = np.arange(len(docs)) // 128
    heaviest = np.maximum.reduceat(weights, np.flatnonzero(np.diff(blocks, prepend=-1)))
    assert ceilings.tolist() == heaviest[blocks].tolist()
    assert weight_ceilings(leaf, "body_exact", searcher.schema["body_exact"].to_bytes("zzz"),
                           docs) is None


def test_a_phrase_in_a_third_of_the_documents_is_scored_at_once(
        searcher: Searcher, monkeypatch: pytest.MonkeyPatch) -> None:
    # Its words are in most blocks: the ceilings would cost about what scoring costs.
    monkeypatch.setattr(matches_module, "_CEILINGS_FROM", 3)
    monkeypatch.setattr(matches_module, "_REACH_SHARE", 0)
    monkeypatch.setattr(matches_module, "_DECODED_SHARE", (1, 0))
    query = parse_query('"de la"', make_parser(searcher.schema)).query
    complete = MatchEngine(searcher, {}).match(query)
    assert len(complete) * matches_module._CEILINGS_SHARE > searcher.doc_count_all()
    found = MatchEngine(searcher, {}).match(query, settle_later=True)
    assert found.ceiling is None
    assert found.scores.tolist() == complete.scores.tolist()


def test_a_quotation_scored_at_once_after_all_is_found_once(
        searcher: Searcher, monkeypatch: pytest.MonkeyPatch) -> None:
    # Its ceilings reaching the floor everywhere, the quotation is scored at once: from the
    # documents found, not by finding its pairs and positions again.
    monkeypatch.setattr(matches_module, "_CEILINGS_FROM", 3)
    monkeypatch.setattr(matches_module, "_CEILINGS_SHARE", 0)
    monkeypatch.setattr(matches_module, "_REACH_SHARE", 10**9)
    query = parse_query('"a t il rappelé"', make_parser(searcher.schema)).query
    complete = MatchEngine(searcher, {}).match(query)
    found: list[str] = []
    evaluate = MatchEngine._exact_phrase

    def recorded(engine: MatchEngine, phrase: Any, within: Any = None) -> Any:
        found.append(phrase.fieldname)
        return evaluate(engine, phrase, within)

    monkeypatch.setattr(MatchEngine, "_exact_phrase", recorded)
    scored = MatchEngine(searcher, {}).match(query, settle_later=True, settle_first=4)
    assert scored.ceiling is None
    assert sorted(found) == ["body_exact", "title_exact"]
    assert scored.docs.tolist() == complete.docs.tolist()
    assert scored.scores.tolist() == complete.scores.tolist()
