"""Block frontiers: the greatest weight a long list's block holds at each field length.

Written beside each segment by the index runs (``block_frontiers.write_missing_frontiers``),
they must bound every posting of their block at its document's length and be reached there
(the bound is the greatest weight of the block at that length or shorter, no more); a
quotation's page settled from ceilings that use them must be the complete evaluation's, bit
for bit, ties included. Every term is given a frontier here (``FROM_POSTINGS`` 0): the
archive is the one of ``test_phrase_ceilings`` (small words in varied numbers, texts
repeated word for word, two segments).
"""

from __future__ import annotations

import os
import shutil
from collections.abc import Iterator
from pathlib import Path

import numpy as np
import pytest
from search_fixtures import archive_and_index
from test_phrase_ceilings import QUOTES, _corpus, _days, assert_page_settled_as_complete
from whoosh.filedb.filestore import FileStorage
from whoosh.searching import Searcher

import indexer.block_frontiers as block_frontiers
import indexer.matches as matches_module
from indexer.block_frontiers import (
    FIELDS,
    SegmentFrontiers,
    frontier_ceilings,
    frontier_weights,
    frontiers_file,
    segment_frontiers,
    segment_frontiers_reader,
)
from indexer.matches import MatchEngine, _SettledOnce
from indexer.posting_blocks import LAST
from indexer.query import make_parser, parse_query
from indexer.search import _settle_first, _settled, _top
from indexer.whoosh_format import (
    _term_directory,
    _term_info,
    field_length_bytes,
    long_terms,
    read_postings,
    weight_ceilings,
)


@pytest.fixture(scope="module")
def build(tmp_path_factory: pytest.TempPathFactory) -> Path:
    data = tmp_path_factory.mktemp("block-frontiers")
    items = _corpus()
    with pytest.MonkeyPatch.context() as patch:
        patch.setattr(block_frontiers, "FROM_POSTINGS", 0)
        archive_and_index(data, items[:170])
        archive_and_index(data, items[170:])  # a second segment, by an incremental run
    return Path(os.path.realpath(data / "index" / "current"))


@pytest.fixture(scope="module")
def searcher(build: Path) -> Iterator[Searcher]:
    index = FileStorage(str(build), supports_mmap=False, readonly=True).open_index()
    with index.searcher() as opened:
        assert len(opened.reader().leaf_readers()) == 2
        yield opened


def _long_terms(leaf: object) -> Iterator[tuple[str, bytes, int, np.ndarray]]:
    for field in FIELDS:
        for btext, offset, directory in long_terms(leaf, field, 0):
            yield field, btext, offset, directory


def test_each_segment_has_its_frontier_file_from_the_run_that_wrote_it(
        build: Path, searcher: Searcher) -> None:
    for leaf, _ in searcher.reader().leaf_readers():
        assert (build / frontiers_file(leaf.segment().segment_id())).is_file()
        frontiers = segment_frontiers_reader(leaf)
        assert frontiers is not None
        offsets = [offset for _, _, offset, _ in _long_terms(leaf)]
        assert sorted(offsets) == frontiers.offsets.tolist()


def test_a_frontier_is_the_greatest_weight_of_the_block_at_each_length_or_shorter(
        searcher: Searcher) -> None:
    checked = 0
    for leaf, _ in searcher.reader().leaf_readers():
        frontiers = segment_frontiers_reader(leaf)
        assert frontiers is not None
        for field, btext, offset, directory in _long_terms(leaf):
            codes = field_length_bytes(leaf, field)
            read = read_postings(leaf, field, btext)
            assert read is not None
            docs, weights, _ = read
            bound = frontier_weights(frontiers, offset, directory, docs, codes[docs])
            assert bound is not None
            blocks = np.searchsorted(directory[LAST], docs)
            # By brute force: each posting's block's greatest weight at its length or shorter.
            expected = [max(weights[(blocks == block) & (codes[docs] <= code)])
                        for block, code in zip(blocks, codes[docs], strict=True)]
            assert bound.tolist() == expected  # bounds every posting, and is reached
            assert np.all(bound >= weights)
            assert np.all(bound <= weight_ceilings(leaf, field, btext, docs))
            checked += len(docs)
    assert checked > 5_000


def test_frontiers_are_tighter_than_the_heaviest_weight_somewhere(searcher: Searcher) -> None:
    # Otherwise the tests of pages below would hold with the old ceilings alone.
    tighter = 0
    for leaf, _ in searcher.reader().leaf_readers():
        codes = field_length_bytes(leaf, "body_exact")
        for btext in (b"de", b"la", b"a"):
            read = read_postings(leaf, "body_exact", btext)
            assert read is not None
            docs = read[0]
            bound = frontier_ceilings(leaf, "body_exact", btext, docs, codes[docs])
            heaviest = weight_ceilings(leaf, "body_exact", btext, docs)
            assert bound is not None and heaviest is not None
            tighter += int(np.count_nonzero(bound < heaviest))
    assert tighter > 100


def test_the_file_computed_again_from_the_segment_is_the_same_bytes(
        build: Path, searcher: Searcher, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(block_frontiers, "FROM_POSTINGS", 0)
    for leaf, _ in searcher.reader().leaf_readers():
        written = (build / frontiers_file(leaf.segment().segment_id())).read_bytes()
        assert segment_frontiers(leaf) == written


def test_a_damaged_record_or_table_gives_the_heaviest_weight_again(
        build: Path, searcher: Searcher, tmp_path: Path) -> None:
    leaf, _ = searcher.reader().leaf_readers()[0]
    data = (build / frontiers_file(leaf.segment().segment_id())).read_bytes()
    frontiers = segment_frontiers_reader(leaf)
    assert frontiers is not None
    field, btext = "body_exact", b"de"
    term = _term_info(leaf, field, btext)
    assert term is not None
    postfile, info = term
    directory, _ = _term_directory(leaf, field, btext, postfile, info)
    at = int(np.searchsorted(frontiers.offsets, info[1]))
    record_start = 16 + len(frontiers.offsets) * 20 + (int(frontiers.ends[at - 1]) if at else 0)
    damaged = bytearray(data)
    damaged[record_start + 5] ^= 0x40
    path = tmp_path / "damaged"
    path.write_bytes(bytes(damaged))
    with FileStorage(str(tmp_path)).open_file("damaged") as source:
        assert SegmentFrontiers(source).record(int(info[1]), directory.shape[1]) is None
    table = bytearray(data)
    table[20] ^= 0x01
    path.write_bytes(bytes(table))
    with FileStorage(str(tmp_path)).open_file("damaged") as source, \
            pytest.raises(ValueError):
        SegmentFrontiers(source)


def test_a_segment_without_its_file_gives_the_heaviest_weight(
        build: Path, tmp_path: Path) -> None:
    copy = tmp_path / "build"
    shutil.copytree(build, copy)
    for name in os.listdir(copy):
        if name.endswith(block_frontiers.EXTENSION):
            os.remove(copy / name)
    index = FileStorage(str(copy), supports_mmap=False, readonly=True).open_index()
    with index.reader() as reader:
        leaf, _ = reader.leaf_readers()[0]
        assert segment_frontiers_reader(leaf) is None
        docs = read_postings(leaf, "body_exact", b"de")
        assert docs is not None
        codes = field_length_bytes(leaf, "body_exact")[docs[0]]
        got = frontier_ceilings(leaf, "body_exact", b"de", docs[0], codes)
        assert got is not None
        assert got.tolist() == weight_ceilings(leaf, "body_exact", b"de", docs[0]).tolist()


@pytest.fixture
def always_bounded(monkeypatch: pytest.MonkeyPatch) -> None:
    """Ceilings for every phrase of more than a few documents, kept whatever they reach."""
    monkeypatch.setattr(matches_module, "_CEILINGS_FROM", 3)
    monkeypatch.setattr(matches_module, "_CEILINGS_SHARE", 0)
    monkeypatch.setattr(matches_module, "_REACH_SHARE", 0)
    monkeypatch.setattr(matches_module, "_DECODED_SHARE", (1, 0))


@pytest.mark.parametrize("text", QUOTES)
@pytest.mark.parametrize("sort", ["relevance", "date", "oldest"])
def test_a_page_settled_from_frontier_ceilings_is_the_complete_page_bit_for_bit(
        searcher: Searcher, text: str, sort: str, always_bounded: None) -> None:
    query = parse_query(text, make_parser(searcher.schema)).query
    complete = MatchEngine(searcher, {}).match(query)
    days = _days(searcher, complete.docs)
    for limit in (1, 3, 10, 20, 50):
        bounded = MatchEngine(searcher, {}).match(
            query, settle_later=True, settle_first=_settle_first(limit, sort))
        assert bounded.docs.tolist() == complete.docs.tolist()
        assert np.all(bounded.upper >= complete.scores * (1 - 1e-12))
        assert_page_settled_as_complete(bounded, complete, days, sort, limit)


@pytest.mark.parametrize("text", ['"de la"', '"a t il rappelé"', '"le a t"'])
def test_the_probe_rounds_and_the_page_settle_each_document_once(
        searcher: Searcher, text: str, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(matches_module, "_CEILINGS_FROM", 3)
    monkeypatch.setattr(matches_module, "_CEILINGS_SHARE", 0)
    asked: list[np.ndarray] = []
    inner = _SettledOnce.__init__

    def counting(self: _SettledOnce, settle: object) -> None:
        def counted(docs: np.ndarray) -> object:
            asked.append(docs)
            return settle(docs)  # type: ignore[operator]
        inner(self, counted)

    monkeypatch.setattr(_SettledOnce, "__init__", counting)
    query = parse_query(text, make_parser(searcher.schema)).query
    complete = MatchEngine(searcher, {}).match(query)
    days = _days(searcher, complete.docs)
    bounded = MatchEngine(searcher, {}).match(query, settle_later=True, settle_first=4)
    settled = _settled(bounded, days, "relevance", 1)
    got = _top(settled.scores, days, settled.docs, "relevance", 1)
    expected = _top(complete.scores, days, complete.docs, "relevance", 1)
    assert settled.scores[got].tolist() == complete.scores[expected].tolist()
    every = np.concatenate(asked) if asked else np.zeros(0, dtype=np.int64)
    assert len(every) == len(np.unique(every))
