"""A page's character offsets read block by block are Whoosh's, and damaged blocks are refused.

``whoosh_format.read_page_characters`` reads only the blocks holding a page's documents (each
run of consecutive blocks in one read) and each value wanted from its blocks' values or
alone. Over a real index of two segments (a full build, then an incremental run), for words
of several blocks, of one, inlined, absent and repeated, and pages of documents far apart or
together: each term's offsets are those of Whoosh's matcher and of ``read_terms_characters``,
whichever way the values are read and whether the term's directory is kept or read now.
"""

from __future__ import annotations

import random
from collections.abc import Iterator
from typing import Any

import numpy as np
import pytest
from reader_references import read_terms_characters
from search_fixtures import live_searcher, replica_in_two_segments
from whoosh.searching import Searcher

from indexer import whoosh_format
from indexer.posting_blocks import LAST, PACKED_END, VALUES_END
from indexer.whoosh_format import UnexpectedLayout, read_page_characters

FIRST, SECOND = 300, 60  # the first segment's common words fill several 128-posting blocks


@pytest.fixture(scope="module")
def searcher(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Searcher]:
    data = tmp_path_factory.mktemp("page-characters")
    replica_in_two_segments(data, FIRST, SECOND)
    yield from live_searcher(data, segments=2)


def _leaves(searcher: Searcher) -> list[Any]:
    return [leaf for leaf, _ in searcher.reader().leaf_readers()]


def _by_frequency(leaf: Any) -> list[bytes]:
    return sorted((bytes(t) for t in leaf.lexicon("body")),
                  key=lambda term: -leaf.doc_frequency("body", term))


def _whoosh_characters(leaf: Any, word: bytes) -> dict[int, list[tuple[int, int, int]]]:
    decode = leaf.schema["body"].format.decode_characters
    found: dict[int, list[tuple[int, int, int]]] = {}
    if ("body", word) in leaf:
        matcher = leaf.postings("body", word)
        while matcher.is_active():
            found[matcher.id()] = decode(matcher.value())
            matcher.next()
    return found


@pytest.mark.parametrize("values_read", [0, whoosh_format._PAGE_VALUES_READ, 2**30])
@pytest.mark.parametrize("directories_kept", [True, False])
def test_page_characters_are_whoosh_s_however_the_blocks_are_read(
        searcher: Searcher, monkeypatch: pytest.MonkeyPatch, values_read: int,
        directories_kept: bool) -> None:
    # VALUES_READ 0: every value read alone; 2**30: every term's values in one piece.
    monkeypatch.setattr(whoosh_format, "_PAGE_VALUES_READ", values_read)
    rng = random.Random(values_read + directories_kept)
    several_blocks = 0
    for leaf in _leaves(searcher):
        words = _by_frequency(leaf)
        frequent = [w for w in words if leaf.doc_frequency("body", w) > 128][:8]
        rare = [w for w in words if leaf.doc_frequency("body", w) <= 2]
        middle = [w for w in words if 3 <= leaf.doc_frequency("body", w) <= 128]
        assert rare and middle
        several_blocks += len(frequent)
        count = leaf.doc_count_all()
        for round_ in range(12):
            chosen = rng.sample(frequent, min(2, len(frequent))) + rng.sample(middle, 2) \
                + rng.sample(rare, 1) + [b"absentissime"]
            chosen.append(chosen[0])  # a word asked twice
            rng.shuffle(chosen)
            # A page of a few documents: at both ends (blocks far apart), together, anywhere.
            docnums = sorted({0, count - 1, *rng.sample(range(count), 1 + round_ % 4)}) \
                if round_ % 3 == 0 else sorted(rng.sample(range(count), 1 + round_))
            if not directories_kept:
                whoosh_format._directories.clear()  # read now: a short term's read whole
            found = read_page_characters(leaf, "body", chosen, docnums)
            assert found == read_terms_characters(leaf, "body", chosen, docnums)
            for word, characters in zip(chosen, found, strict=True):
                expected = _whoosh_characters(leaf, word)
                assert characters == {d: expected[d] for d in docnums if d in expected}
    assert several_blocks, "expected words of several blocks"


def test_a_page_of_no_document_held_reads_nothing(searcher: Searcher) -> None:
    leaf = _leaves(searcher)[0]
    assert read_page_characters(leaf, "body", [b"absentissime"], [0, 1]) == [{}]
    assert read_page_characters(leaf, "body", _by_frequency(leaf)[:2], []) == [{}, {}]


def _damaged(searcher: Searcher, monkeypatch: pytest.MonkeyPatch, row: int,
             by: int) -> tuple[Any, bytes, list[int]]:
    """A segment, a word of several blocks and a page of it, with the word's kept directory
    changed: ROW of its first block moved BY bytes."""
    leaf = _leaves(searcher)[0]
    word = next(w for w in _by_frequency(leaf) if leaf.doc_frequency("body", w) > 128)
    term = whoosh_format._term_info(leaf, "body", word)
    assert term is not None
    directory, _ = whoosh_format._term_directory(leaf, "body", word, *term)
    key = whoosh_format._directory_key(leaf, "body", word)
    assert key is not None
    changed = directory.copy()
    changed[row, 0] += by
    monkeypatch.setitem(whoosh_format._directories, key, changed)
    docnums = [int(np.asarray(directory[LAST])[0])]
    return leaf, word, docnums


@pytest.mark.parametrize(("row", "by"), [(PACKED_END, 10**9), (VALUES_END, 10**9),
                                         (VALUES_END, 1), (PACKED_END, -1)])
def test_a_damaged_block_is_refused_never_read_wrong(
        searcher: Searcher, monkeypatch: pytest.MonkeyPatch, row: int, by: int) -> None:
    # Blocks or values beyond the term's postings, or values and sizes that disagree.
    leaf, word, docnums = _damaged(searcher, monkeypatch, row, by)
    with pytest.raises(UnexpectedLayout):
        read_page_characters(leaf, "body", [word], docnums)


def test_a_value_beyond_its_term_is_refused(searcher: Searcher,
                                            monkeypatch: pytest.MonkeyPatch) -> None:
    leaf = _leaves(searcher)[0]
    word = next(w for w in _by_frequency(leaf) if leaf.doc_frequency("body", w) > 128)
    docnums = sorted(_whoosh_characters(leaf, word))[:3]
    starts = whoosh_format.value_starts
    monkeypatch.setattr(whoosh_format, "value_starts",
                        lambda *args: starts(*args) + 10**9)
    with pytest.raises(UnexpectedLayout):
        read_page_characters(leaf, "body", [word], docnums)
