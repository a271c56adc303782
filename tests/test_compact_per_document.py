"""What the search service keeps per document is compact and scores as Whoosh does.

At a million articles every float or flag kept per document and field costs megabytes of the
search worker's memory (``docs/operations.md``, the million-article section): field lengths are
kept as Whoosh's own byte per document, and the scores they give are Whoosh's to the last bit.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import numpy as np
import pytest
from search_fixtures import archive_and_index, article, replica_articles
from whoosh import query as wq
from whoosh.searching import Searcher

from indexer import matches
from indexer.location import current_build, open_build
from indexer.matches import MatchEngine, match_with_whoosh
from indexer.whoosh_format import (
    LENGTH_SCORED,
    UnexpectedLayout,
    field_length_bytes,
    field_lengths,
    slow_field_lengths,
)

ARTICLES = 150


@pytest.fixture(scope="module")
def searcher(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Searcher]:
    data_dir = tmp_path_factory.mktemp("compact")
    items = replica_articles(ARTICLES)
    items.append(article("sans-titre", "", "Un corps sans titre ni longueur de titre."))
    archive_and_index(data_dir, items)
    build = current_build(data_dir / "index")
    assert build is not None
    with open_build(build).searcher() as opened:
        yield opened


def _queries(searcher: Searcher) -> list[wq.Query]:
    reader = searcher.reader()
    words = [bytes(w).decode() for w in reader.lexicon("body")]
    common = sorted(words, key=lambda w: -reader.doc_frequency("body", w))[:3]
    return [wq.Or([wq.Term("body", w), wq.Term("title", w, boost=2.0)]) for w in common] + [
        wq.And([wq.Term("body", common[0]), wq.Term("body", common[2])]),
        wq.Prefix("body", common[1][:3]),
    ]


def test_a_length_byte_scores_as_the_length_whoosh_reads(searcher: Searcher) -> None:
    assert LENGTH_SCORED[0] == 1.0  # as the float lengths kept before had it
    for leaf, _ in searcher.reader().leaf_readers():
        for field in ("title", "body", "title_exact", "body_exact"):
            codes = field_length_bytes(leaf, field)
            assert codes.dtype == np.uint8 and codes.shape == (leaf.doc_count_all(),)
            # A document without the field holds none of its words: no score reads its length.
            held = codes > 0
            assert LENGTH_SCORED[codes][held].tolist() == \
                slow_field_lengths(leaf, field)[held].tolist()
            assert np.array_equal(LENGTH_SCORED[codes], field_lengths(leaf, field))


def test_the_engine_keeps_a_byte_per_document_and_scores_as_whoosh(searcher: Searcher) -> None:
    lengths: dict[str, Any] = {}
    for query in _queries(searcher):
        engine = MatchEngine(searcher, lengths)
        fast = engine.match(query)
        # A prefix scores as the OR of its words (Whoosh's own prefix scores a constant).
        slow = match_with_whoosh(engine.expand_prefix(query) if isinstance(query, wq.Prefix)
                                 else query, searcher)
        assert fast.docs.tolist() == slow.docs.tolist() and len(fast)
        assert fast.scores == pytest.approx(slow.scores, rel=1e-9)
    assert lengths and all(codes.dtype == np.uint8 and codes.shape == (searcher.doc_count_all(),)
                           for codes, _ in lengths.values())


def test_lengths_read_through_whoosh_give_the_very_same_scores(
        searcher: Searcher, monkeypatch: pytest.MonkeyPatch) -> None:
    expected = [MatchEngine(searcher, {}).match(query) for query in _queries(searcher)]

    def unexpected(leaf: Any, field: str) -> np.ndarray:
        raise UnexpectedLayout("a length column of another layout")

    monkeypatch.setattr(matches, "field_length_bytes", unexpected)
    lengths: dict[str, Any] = {}
    for query, before in zip(_queries(searcher), expected, strict=True):
        found = MatchEngine(searcher, lengths).match(query)
        assert found.docs.tolist() == before.docs.tolist()
        assert found.scores.tolist() == before.scores.tolist()
    assert all(codes.shape == (searcher.doc_count_all(),) for codes, _ in lengths.values())
