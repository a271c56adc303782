"""Posting blocks skipped by their directory: only the blocks of the documents wanted are read.

Over a real Whoosh index (the archive's codec and compact position format) whose words fill
many 128-posting blocks, at positions past 2**21 and 2**28 (four and five varint bytes): the
positions and postings read for candidate documents in the first block, the last, at block
boundaries, in no block, are Whoosh's own, read first without and then with the term's block
directory kept; phrases and proximities over them agree with Whoosh's matchers.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import numpy as np
import pytest
from whoosh import query as wq
from whoosh.analysis import Token, Tokenizer
from whoosh.fields import ID, TEXT, Schema
from whoosh.index import create_in
from whoosh.qparser import QueryParser
from whoosh.searching import Searcher

from indexer import matches, whoosh_format
from indexer.matches import MatchEngine, PostingsCache, match_with_whoosh
from indexer.posting_blocks import DIRECTORY_ROWS, LAST
from indexer.postings_format import CompactPositions
from indexer.query import Near
from indexer.whoosh_format import (
    BLOCK_POSTINGS,
    ArchiveCodec,
    PackedLeafMatcher,
    UnexpectedLayout,
    position_keys_in_values,
    read_positions,
    read_postings,
    read_term_values,
    read_whole_term,
)

DOCUMENTS = 5 * BLOCK_POSTINGS + 40  # "commun" in every document: six blocks, the last short
FAR = 2**21  # positions from here take four varint bytes
FARTHER = 2**28  # and from here five
SPAN = 2**32  # a key per occurrence: its document's index * SPAN + its position
FILLERS = [f"partout{letter}" for letter in "abcdefghij"]


class PlacedWords(Tokenizer):  # type: ignore[misc]  # Whoosh has no type hints
    """Tokens written ``word@position``: any position, however far, without a long text."""

    def __call__(self, value: str, positions: bool = False, chars: bool = False,
                 keeporiginal: bool = False, removestops: bool = True, start_pos: int = 0,
                 start_char: int = 0, tokenize: bool = True, mode: str = "",
                 **kwargs: Any) -> Iterator[Token]:
        token = Token(positions, chars, removestops=removestops, mode=mode, **kwargs)
        at = 0
        for item in value.split():
            word, _, place = item.partition("@")
            token.text = word
            token.boost = 1.0
            token.stopped = False
            if positions:
                token.pos = int(place)
            if chars:
                token.startchar, token.endchar = at, at + len(word)
            at += len(item) + 1
            yield token


def _body(number: int) -> str:
    """Document NUMBER's words: "commun" everywhere, far from the start in some documents;
    "voisin" right after it in a third of them, five places after its second occurrence in
    another third, right before it in the last third; "seul" right after it in one document
    of the fourth block only; the FILLERS words everywhere, after them."""
    start = (FARTHER if number % 7 == 0 else FAR if number % 2 else 0) + number
    words = [f"commun@{start}", f"commun@{start + 40}",
             *(f"{word}@{start + 100 + i}" for i, word in enumerate(FILLERS))]
    if number % 3 == 0:
        words.append(f"voisin@{start + 1}")
    elif number % 3 == 1:
        words.append(f"voisin@{start + 45}")
    else:
        words.append(f"voisin@{start + 39}")
    if number == 3 * BLOCK_POSTINGS + 17:
        words.append(f"seul@{start + 1}")
    return " ".join(sorted(words, key=lambda item: int(item.partition("@")[2])))


@pytest.fixture(scope="module")
def searcher(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Searcher]:
    path = tmp_path_factory.mktemp("posting-blocks")
    schema = Schema(id=ID(stored=True), body=TEXT(analyzer=PlacedWords(), phrase=True))
    schema["body"].format = CompactPositions(field_boost=1.0)
    index = create_in(str(path), schema)
    writer = index.writer(codec=ArchiveCodec())
    for number in range(DOCUMENTS):
        writer.add_document(id=str(number), body=_body(number))
    writer.commit()
    with index.searcher() as opened:
        yield opened


@pytest.fixture(autouse=True)
def no_directory_kept() -> Iterator[None]:
    with whoosh_format._directories_lock:
        whoosh_format._directories.clear()
        whoosh_format._directories_size = 0
        whoosh_format._positions.clear()
        whoosh_format._positions_size = 0
    yield


def _forget_positions() -> None:
    with whoosh_format._positions_lock:
        whoosh_format._positions.clear()
        whoosh_format._positions_size = 0


def _leaf(searcher: Searcher) -> Any:
    leaves = searcher.reader().leaf_readers()
    assert len(leaves) == 1
    return leaves[0][0]


def _whoosh_positions(leaf: Any, word: bytes) -> dict[int, list[int]]:
    matcher = leaf.postings("body", word)
    found: dict[int, list[int]] = {}
    while matcher.is_active():
        found[matcher.id()] = matcher.value_as("positions")
        matcher.next()
    return found


def _block_bounds(leaf: Any, word: bytes) -> list[int]:
    """The last document of each of WORD's blocks, from Whoosh's matcher stepping through
    them (``PackedLeafMatcher``)."""
    matcher = leaf.postings("body", word)
    assert isinstance(matcher, PackedLeafMatcher)
    bounds = [matcher.block_max_id()]
    while not matcher._lastblock:
        matcher._next_block()
        bounds.append(matcher.block_max_id())
    return bounds


CANDIDATES = {
    "first block": [0, 5, BLOCK_POSTINGS - 1],
    "last block": [DOCUMENTS - 1],
    "block boundaries": [BLOCK_POSTINGS - 1, BLOCK_POSTINGS, 3 * BLOCK_POSTINGS - 1,
                         3 * BLOCK_POSTINGS],
    "first and last": [0, DOCUMENTS - 1],
    "scattered": list(range(3, DOCUMENTS, 97)),
    "none": [],
}


def test_the_common_word_fills_many_blocks_at_far_positions(searcher: Searcher) -> None:
    leaf = _leaf(searcher)
    assert _block_bounds(leaf, b"commun") == [
        *range(BLOCK_POSTINGS - 1, DOCUMENTS, BLOCK_POSTINGS), DOCUMENTS - 1]
    positions = _whoosh_positions(leaf, b"commun")
    assert positions[7] == [FARTHER + 7, FARTHER + 47]
    assert positions[1] == [FAR + 1, FAR + 41]


@pytest.mark.parametrize("name", sorted(CANDIDATES))
def test_positions_of_candidates_are_whoosh_s_read_again_from_the_directory(
        searcher: Searcher, name: str) -> None:
    leaf = _leaf(searcher)
    for word in (b"commun", b"voisin", b"seul"):
        expected = _whoosh_positions(leaf, word)
        docnums = CANDIDATES[name]
        for _ in range(2):  # the first read keeps the directory, the second uses it
            owners, positions = read_positions(leaf, "body", word, docnums)
            for index, doc in enumerate(docnums):
                assert positions[owners == index].tolist() == expected.get(doc, []), (word, doc)
        key = (str(leaf.segment().segment_id()), "body", word)
        assert key in whoosh_format._directories or word == b"seul"  # inlined: no blocks


@pytest.mark.parametrize("name", sorted(CANDIDATES))
def test_only_the_blocks_holding_candidates_are_decoded(searcher: Searcher, name: str,
                                                        monkeypatch: pytest.MonkeyPatch,
                                                        ) -> None:
    leaf = _leaf(searcher)
    bounds = _block_bounds(leaf, b"commun")
    docnums = np.asarray(CANDIDATES[name], dtype=np.int64)
    holding = sorted({int(np.searchsorted(bounds, doc)) for doc in docnums.tolist()})
    decoded: list[int] = []
    real = whoosh_format.decode_blocks

    def recording(buffer: np.ndarray, blocks: np.ndarray, *args: Any, **kwargs: Any) -> Any:
        decoded.extend(blocks[LAST].tolist())
        return real(buffer, blocks, *args, **kwargs)

    monkeypatch.setattr(whoosh_format, "decode_blocks", recording)
    for _ in range(2):  # without, then with the directory kept
        decoded.clear()
        ids, _, _ = read_postings(leaf, "body", b"commun", docnums)  # type: ignore[misc]
        assert decoded == [bounds[i] for i in holding]
        first = {i: (bounds[i - 1] + 1 if i else 0) for i in holding}
        assert ids.tolist() == [doc for i in holding for doc in range(first[i], bounds[i] + 1)]


def test_the_kept_directories_stay_within_their_budget(searcher: Searcher,
                                                       monkeypatch: pytest.MonkeyPatch) -> None:
    leaf = _leaf(searcher)
    one = len(_block_bounds(leaf, b"commun")) * DIRECTORY_ROWS * 8  # int64 rows
    monkeypatch.setattr(whoosh_format, "BLOCK_DIRECTORY_BYTES", 8 * one)  # room for 8 words
    for word in FILLERS:  # 10 words of as many blocks
        read_positions(leaf, "body", word.encode(), [0])
    kept = [key[2].decode() for key in whoosh_format._directories]
    assert kept == FILLERS[-8:]  # the least recently read left first
    assert whoosh_format._directories_size == 8 * one == sum(
        directory.nbytes for directory in whoosh_format._directories.values())
    monkeypatch.setattr(whoosh_format, "BLOCK_DIRECTORY_BYTES", 8 * one - 1)
    read_positions(leaf, "body", b"commun", [0])  # more than an eighth now: not kept
    assert len(whoosh_format._directories) == 8


@pytest.mark.parametrize("text", ['"commun voisin"', '"voisin commun"', '"commun seul"',
                                  '"commun seul" voisin', '"commun commun"'])
def test_phrases_over_many_blocks_agree_with_whoosh(searcher: Searcher, text: str) -> None:
    query = QueryParser("body", searcher.schema).parse(text)
    expected = match_with_whoosh(query, searcher)
    for _ in range(2):  # without, then with the directories kept
        engine = MatchEngine(searcher, {})
        found = engine.match(query)
        assert engine.enabled
        assert found.docs.tolist() == expected.docs.tolist()
        assert found.scores == pytest.approx(expected.scores, rel=1e-9)
    assert len(expected) or text == '"commun commun"'


@pytest.mark.parametrize(("words", "slop"), [(["commun", "voisin"], 1), (["voisin", "commun"], 1),
                                             (["commun", "voisin"], 5), (["seul", "commun"], 1),
                                             (["voisin", "commun"], 4), (["voisin", "seul"], 40),
                                             (["commun", "partouta"], 60)])
def test_proximities_over_many_blocks_are_the_windows_of_whoosh_s_positions(
        searcher: Searcher, words: list[str], slop: int) -> None:
    leaf = _leaf(searcher)
    places = [_whoosh_positions(leaf, word.encode()) for word in words]
    expected = [doc for doc in sorted(set(places[0]) & set(places[1]))
                if any(all(any(start <= p <= start + slop for p in each[doc]) for each in places)
                       for start in places[0][doc] + places[1][doc])]
    terms = match_with_whoosh(wq.And([wq.Term("body", word) for word in words]), searcher)
    cache = PostingsCache()
    # Without, then with the directories kept; then common words read whole into the cache
    # with their positions kept, then from both.
    for postings in (None, None, cache, cache):
        engine = MatchEngine(searcher, {}, postings)
        found = engine.match(Near("body", words, slop=slop))
        assert engine.enabled
        assert found.docs.tolist() == expected
        assert found.scores == pytest.approx(
            terms.scores[np.isin(terms.docs, expected)], rel=1e-9)
    assert expected


def test_a_proximity_of_common_words_decodes_each_block_once(searcher: Searcher,
                                                              monkeypatch: pytest.MonkeyPatch,
                                                              ) -> None:
    expected = MatchEngine(searcher, {}).match(Near("body", ["commun", "voisin"], slop=3))
    _forget_positions()
    decoded: list[bytes] = []
    real = whoosh_format._term_packed

    def counting(leaf: Any, field: str, btext: bytes, *args: Any) -> Any:
        decoded.append(btext)
        return real(leaf, field, btext, *args)

    monkeypatch.setattr(whoosh_format, "_term_packed", counting)
    monkeypatch.setattr(whoosh_format, "_decoded", None)  # no block read for postings alone
    # No budget for whole positions, as a million articles leave none: each word's blocks
    # are still decoded once, for its postings and the positions wanted.
    monkeypatch.setattr(whoosh_format, "POSITIONS_CACHE_BYTES", 0)
    cache = PostingsCache()
    found = MatchEngine(searcher, {}, cache).match(Near("body", ["commun", "voisin"], slop=3))
    assert found.docs.tolist() == expected.docs.tolist()
    assert found.scores.tolist() == expected.scores.tolist()
    assert sorted(decoded) == [b"commun", b"voisin"]  # each word's blocks decoded once
    assert cache.holds(("body", b"commun")) and cache.holds(("body", b"voisin"))
    assert not whoosh_format._positions


@pytest.mark.parametrize("word", [b"commun", b"voisin", b"seul"])
@pytest.mark.parametrize("every", [1, 2, 5, 97])
def test_position_keys_from_values_are_the_positions_read_as_keys(
        searcher: Searcher, word: bytes, every: int) -> None:
    leaf = _leaf(searcher)
    values, _ = read_whole_term(leaf, "body", word) or pytest.fail("no term")
    # Documents wanted every EVERY, some of them without the word; its whole positions
    # neither kept nor then kept (decoded from the values), then kept (picked from them).
    wanted = np.arange(0, DOCUMENTS, every, dtype=np.int64)
    owners, places = read_positions(leaf, "body", word, wanted)
    expected = (owners * SPAN + places).tolist()
    assert expected == sorted(expected)
    _forget_positions()
    assert position_keys_in_values(leaf, "body", word, values, wanted, SPAN).tolist() == expected
    assert not whoosh_format._positions
    read_positions(leaf, "body", word, np.arange(DOCUMENTS))  # kept whole
    assert whoosh_format._positions
    assert position_keys_in_values(leaf, "body", word, values, wanted, SPAN).tolist() == expected
    held = [doc for doc in wanted.tolist() if doc in _whoosh_positions(leaf, word)]
    assert sorted({key // SPAN for key in expected}) == [wanted.tolist().index(doc)
                                                         for doc in held]


@pytest.mark.parametrize("word", [b"commun", b"voisin", b"seul"])
def test_a_term_s_values_found_from_its_known_documents_are_those_read_whole(
        searcher: Searcher, word: bytes) -> None:
    leaf = _leaf(searcher)
    whole, _ = read_whole_term(leaf, "body", word) or pytest.fail("no term")
    values = read_term_values(leaf, "body", word, whole.ids.copy()) or pytest.fail("no term")
    assert values.ids.tolist() == whole.ids.tolist()
    assert values.sizes.tolist() == whole.sizes.tolist()
    assert values.starts.tolist() == whole.starts.tolist()
    assert values.data.tobytes() == whole.data.tobytes()
    assert read_term_values(leaf, "body", b"absent", np.zeros(0, dtype=np.int64)) is None


@pytest.mark.parametrize("word", [b"commun", b"voisin"])
def test_documents_a_term_s_blocks_do_not_hold_are_refused(searcher: Searcher,
                                                            word: bytes) -> None:
    leaf = _leaf(searcher)
    whole, _ = read_whole_term(leaf, "body", word) or pytest.fail("no term")
    ids = whole.ids
    assert len(_block_bounds(leaf, word)) > 1
    for wrong in (ids[:-1], ids[1:], np.append(ids[:-1], ids[-1] + 1)):
        with pytest.raises(UnexpectedLayout):
            read_term_values(leaf, "body", word, wrong)
    with pytest.raises(UnexpectedLayout):
        read_term_values(leaf, "body", b"absent", np.array([3], dtype=np.int64))


def _apart_body(number: int) -> str:
    """Document NUMBER of the index of words apart: "pair" in even documents, "tiers" in
    every third, at a distance from "pair" growing with the document (1 to 7)."""
    words = [f"autre@{i}" for i in range(0, 30, 10)]
    if number % 2 == 0:
        words.append("pair@12")
    if number % 3 == 0:
        words.append(f"tiers@{12 + 1 + number % 7}")
    return " ".join(sorted(words, key=lambda item: int(item.partition("@")[2])))


@pytest.fixture(scope="module")
def apart(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Searcher]:
    path = tmp_path_factory.mktemp("words-apart")
    schema = Schema(id=ID(stored=True), body=TEXT(analyzer=PlacedWords(), phrase=True))
    schema["body"].format = CompactPositions(field_boost=1.0)
    index = create_in(str(path), schema)
    for first in (0, 2 * BLOCK_POSTINGS):  # two segments
        writer = index.writer(codec=ArchiveCodec())
        for number in range(first, first + 2 * BLOCK_POSTINGS):
            writer.add_document(id=str(number), body=_apart_body(number))
        writer.commit(merge=False)
    with index.searcher() as opened:
        yield opened


@pytest.mark.parametrize("slop", [1, 3, 7])
def test_common_words_near_decode_positions_only_where_both_are(
        apart: Searcher, monkeypatch: pytest.MonkeyPatch, slop: int) -> None:
    assert len(apart.reader().leaf_readers()) == 2
    query = Near("body", ["pair", "tiers"], slop=slop)
    expected = MatchEngine(apart, {}).match(query)  # no cache: positions read per segment
    assert 0 < len(expected) <= len(range(0, 4 * BLOCK_POSTINGS, 6))
    _forget_positions()  # the whole positions that engine kept
    keyed: list[int] = []
    compared: list[tuple[int, int]] = []
    real_keys = matches.position_keys_in_values
    real_near = matches.near_documents_in_values

    def recording_keys(leaf: Any, field: str, btext: bytes, values: Any, docs: np.ndarray,
                       span: int) -> Any:
        keyed.extend(docs.tolist())
        return real_keys(leaf, field, btext, values, docs, span)

    def recording_near(leaf: Any, field: str, first: Any, second: Any,
                       distance: int) -> Any:
        compared.append((len(first.ids), len(second.ids)))
        return real_near(leaf, field, first, second, distance)

    monkeypatch.setattr(matches, "position_keys_in_values", recording_keys)
    monkeypatch.setattr(matches, "near_documents_in_values", recording_near)
    cache = PostingsCache()
    # Searched again, the words' postings are in the cache: each segment's two words'
    # values are compared in one pass (``near_in_values``, which decodes the values of the
    # documents holding both alone), never keyed nor decoded whole.
    for _ in range(2):
        keyed.clear()
        compared.clear()
        found = MatchEngine(apart, {}, cache).match(query)
        assert found.docs.tolist() == expected.docs.tolist()
        assert found.scores.tolist() == expected.scores.tolist()
        assert not keyed
        assert len(compared) == 2  # once a segment
        assert cache.holds(("body", b"pair")) and cache.holds(("body", b"tiers"))
        assert not whoosh_format._positions


def test_common_words_searched_again_decode_their_value_sizes_alone(
        apart: Searcher, monkeypatch: pytest.MonkeyPatch) -> None:
    query = Near("body", ["pair", "tiers"], slop=3)
    expected = MatchEngine(apart, {}).match(query)  # no cache: positions read per segment
    _forget_positions()
    cache = PostingsCache()
    first = MatchEngine(apart, {}, cache).match(query)  # each word's blocks read whole
    assert cache.holds(("body", b"pair")) and cache.holds(("body", b"tiers"))
    whole: list[int] = []
    sizes: list[int] = []
    real_whole, real_sizes = whoosh_format.decode_blocks, whoosh_format.decode_value_sizes

    def decoding_whole(*args: Any, **kwargs: Any) -> Any:
        whole.append(1)
        return real_whole(*args, **kwargs)

    def decoding_sizes(*args: Any) -> Any:
        sizes.append(1)
        return real_sizes(*args)

    monkeypatch.setattr(whoosh_format, "decode_blocks", decoding_whole)
    monkeypatch.setattr(whoosh_format, "decode_value_sizes", decoding_sizes)
    # Their lists kept, their documents come from the cache: neither word's documents nor
    # weights are decoded from its blocks again, only its values' sizes, in each segment.
    again = MatchEngine(apart, {}, cache).match(query)
    for found in (first, again):
        assert found.docs.tolist() == expected.docs.tolist()
        assert found.scores.tolist() == expected.scores.tolist()
    assert not whole
    assert len(sizes) == 2 * len(apart.reader().leaf_readers())
