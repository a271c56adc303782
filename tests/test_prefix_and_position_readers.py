"""Prefixes and positions read straight from Whoosh's files agree with Whoosh's own readers.

Over a real index of two segments (a full build, then an incremental run): the words a prefix
stands for, their postings read together, the positions found in decoded blocks without
unpickling them, and the positions a segment reader keeps, each against Whoosh.
"""

from __future__ import annotations

import gc
import itertools
import random
from collections.abc import Iterator
from typing import Any

import numpy as np
import pytest
from reader_references import read_terms_characters
from search_fixtures import live_searcher, replica_in_two_segments
from whoosh import query as wq
from whoosh.searching import Searcher

from indexer import whoosh_format
from indexer.matches import (
    MatchEngine,
    PostingsCache,
    match_with_whoosh,
    prefix_words,
)
from indexer.query import Near, make_parser, parse_query
from indexer.schema import EXACT_FIELDS
from indexer.whoosh_format import (
    prefix_run,
    prefix_terms,
    read_characters,
    read_entries_ids,
    read_entries_postings,
    read_positions,
    read_postings,
    read_terms_ids,
    read_terms_postings,
)

FIRST, SECOND = 300, 60  # the first segment's common words fill several 128-posting blocks


@pytest.fixture(scope="module")
def searcher(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Searcher]:
    data = tmp_path_factory.mktemp("prefix-positions")
    replica_in_two_segments(data, FIRST, SECOND)
    yield from live_searcher(data, segments=2)


def _leaves(searcher: Searcher) -> list[Any]:
    return [leaf for leaf, _ in searcher.reader().leaf_readers()]


def _frequent(leaf: Any, field: str, count: int) -> list[bytes]:
    return sorted((bytes(t) for t in leaf.lexicon(field)),
                  key=lambda term: -leaf.doc_frequency(field, term))[:count]


def _whoosh_positions(leaf: Any, field: str, btext: bytes) -> dict[int, list[int]]:
    matcher = leaf.postings(field, btext)
    decode = leaf.schema[field].format.decode_positions
    found = {}
    while matcher.is_active():
        found[matcher.id()] = decode(matcher.value())
        matcher.next()
    return found


@pytest.mark.parametrize("prefix", ["d", "con", "pr", "é", "zzzq", "l'"])
def test_prefix_words_are_whoosh_s_in_every_segment(searcher: Searcher, prefix: str) -> None:
    for field in ("body", "title", "body_exact"):
        btext = searcher.schema[field].to_bytes(prefix)
        for leaf in _leaves(searcher):
            expected = [bytes(w) for w in leaf.expand_prefix(field, prefix)]
            assert prefix_terms(leaf, field, btext) == expected
            assert prefix_terms(leaf, field, btext) == expected  # kept: the same again
        merged = [bytes(w) for w in searcher.reader().expand_prefix(field, prefix)]
        assert prefix_words(searcher, field, prefix, 10**6) == merged
        assert prefix_words(searcher, field, prefix, 7) == merged[:7]
    assert prefix_terms(_leaves(searcher)[0], "body", b"d"), "the prefix has words"


def test_terms_read_together_are_each_term_s_postings(searcher: Searcher) -> None:
    for leaf in _leaves(searcher):
        words = sorted(prefix_terms(leaf, "body", b"d")) + [b"zzzabsent"]
        docs, weights, counts = read_terms_postings(leaf, "body", words)
        assert counts.tolist()[-1] == 0 and int(counts.sum()) == len(docs) == len(weights)
        at = 0
        for word, count in zip(words, counts.tolist(), strict=True):
            alone = read_postings(leaf, "body", word)
            expected_docs = [] if alone is None else alone[0].tolist()
            assert docs[at:at + count].tolist() == expected_docs
            if alone is not None:
                assert weights[at:at + count].tolist() == alone[1].tolist()
            at += count
        assert any(leaf.term_info("body", w).is_inlined() for w in words[:-1]), \
            "some words of the prefix are inlined"
        assert max(counts.tolist()) > whoosh_format.BLOCK_POSTINGS or leaf.doc_count_all() \
            < whoosh_format.BLOCK_POSTINGS, "some words fill several blocks"


def test_a_prefix_s_entries_are_those_its_words_are_looked_up_by(searcher: Searcher) -> None:
    for leaf in _leaves(searcher):
        run = prefix_run(leaf, "body", b"d")
        assert run.words == prefix_terms(leaf, "body", b"d") and len(run.words) > 10
        assert prefix_run(leaf, "body", b"d") is run  # kept by the segment reader
        for word, entry in zip(run.words, run.entries, strict=True):
            assert entry[0] == leaf.doc_frequency("body", word)
            leaf._terms._archive_term_infos.clear()  # looked up afresh in the dictionary
            assert whoosh_format._term_info(leaf, "body", word) == (leaf._terms._postfile,
                                                                    entry)
        # Read from the entries, a prefix's postings are those read by looking its words up.
        chosen = list(range(0, len(run.words), 3))
        from_entries = read_entries_ids(leaf, [run.entries[i] for i in chosen] + [None])
        looked_up = read_terms_ids(leaf, "body", [run.words[i] for i in chosen]
                                   + [b"zzzabsent"])
        assert from_entries.terms.tolist() == looked_up.terms.tolist()
        assert from_entries.docs.tolist() == looked_up.docs.tolist()
        assert from_entries.block_postings.tolist() == looked_up.block_postings.tolist()
        places = np.arange(len(looked_up.docs))
        assert from_entries.weights(places).tolist() == looked_up.weights(places).tolist()
        # And with their weights, each term's postings in the order asked, an absent one none.
        entries = [run.entries[i] for i in chosen]
        entries.insert(1, None)
        words = [run.words[i] for i in chosen]
        words.insert(1, b"zzzabsent")
        read = read_entries_postings(leaf, entries)
        expected = read_terms_postings(leaf, "body", words)
        assert [part.tolist() for part in read] == [part.tolist() for part in expected]
        assert read[2].tolist()[1] == 0 and read[0].dtype == np.int64
        assert read[1].dtype == np.float64


@pytest.mark.parametrize("span", [whoosh_format._EXTENTS_SPAN, 3000, 1])
def test_terms_read_as_documents_alone_are_each_term_s_postings(
        searcher: Searcher, monkeypatch: pytest.MonkeyPatch, span: int) -> None:
    # Terms lying further apart than the span are read in several pieces (one a term at 1).
    monkeypatch.setattr(whoosh_format, "_EXTENTS_SPAN", span)
    for leaf in _leaves(searcher):
        words = sorted(prefix_terms(leaf, "body", b"d")) + [b"zzzabsent"]
        read = read_terms_ids(leaf, "body", words)
        assert sorted(read.terms.tolist()) == list(range(len(words) - 1))
        ends = [*read.term_starts.tolist()[1:], len(read.docs)]
        places = np.arange(len(read.docs))
        weights = read.weights(places)
        for term, first, end in zip(read.terms.tolist(), read.term_starts.tolist(), ends,
                                    strict=True):
            alone = read_postings(leaf, "body", words[term])
            assert alone is not None
            assert read.docs[first:end].tolist() == alone[0].tolist()
            assert weights[first:end].tolist() == alone[1].tolist()
        # Each block's greatest weight and shortest field bound its postings.
        block_firsts = np.cumsum(read.block_postings) - read.block_postings
        block = np.searchsorted(block_firsts, places, side="right") - 1
        assert bool((weights <= read.heaviest[block]).all())
        lengths = whoosh_format.field_length_bytes(leaf, "body")[read.docs]
        assert bool((lengths >= read.shortest[block]).all())
        some = places[::7]
        assert read.weights(some).tolist() == weights[some].tolist()


@pytest.mark.parametrize("text", ["pou*", "con*", "pre*", "poli*"])
def test_a_prefix_over_segments_scores_as_whoosh_s_or_of_its_words(searcher: Searcher,
                                                                    text: str) -> None:
    parser = make_parser(searcher.schema)
    query = parse_query(text, parser).query
    assert query is not None
    cache = PostingsCache()
    for prefix in [q for q in query.leaves() if isinstance(q, wq.Prefix)]:
        engine = MatchEngine(searcher, {})
        fast = engine.match(prefix)
        words = engine.expand_prefix(prefix)
        slow = match_with_whoosh(words, searcher)
        assert engine.enabled
        assert fast.docs.tolist() == slow.docs.tolist() and len(fast)
        assert fast.scores == pytest.approx(slow.scores, rel=1e-9)
        # Term by term through the engine: the very same sums.
        assert fast.scores.tolist() == MatchEngine(searcher, {}).match(words).scores.tolist()
        # With the generation's cache, then with its words' lists read into it term by
        # term and read from it: the same again.
        for _ in range(2):
            held = MatchEngine(searcher, {}, cache).match(prefix)
            assert held.docs.tolist() == fast.docs.tolist()
            assert held.scores.tolist() == fast.scores.tolist()
            MatchEngine(searcher, {}, cache).match(words)
    assert len(cache)


def _prefix_of(searcher: Searcher, text: str) -> wq.Prefix:
    query = parse_query(text, make_parser(searcher.schema)).query
    assert query is not None
    return next(q for q in query.leaves() if isinstance(q, wq.Prefix)
                and q.fieldname == EXACT_FIELDS["body"])


@pytest.mark.parametrize("text", ["con*", "pre*"])
def test_a_prefix_with_some_words_in_the_cache_scores_as_read_fresh(searcher: Searcher,
                                                                    text: str) -> None:
    prefix = _prefix_of(searcher, text)
    fresh = MatchEngine(searcher, {}).match(prefix)
    words = MatchEngine(searcher, {}).expand_prefix(prefix)
    assert isinstance(words, wq.Or) and len(words.subqueries) > 3
    for kept in (words.subqueries[1::3], words.subqueries[:1], words.subqueries[-1:]):
        cache = PostingsCache()
        for term in kept:  # a word read alone and kept whole, its neighbours not
            MatchEngine(searcher, {}, cache).match(term)
        held = [term for term in words.subqueries
                if cache.holds((prefix.fieldname, term.text.encode("utf-8")))]
        assert held and len(held) < len(words.subqueries)
        mixed = MatchEngine(searcher, {}, cache).match(prefix)
        assert mixed.docs.tolist() == fresh.docs.tolist()
        assert mixed.scores.tolist() == fresh.scores.tolist()


@pytest.mark.parametrize("text", ["con*", "pre*"])
def test_a_prefix_keeps_none_of_its_words_lists_in_the_cache(searcher: Searcher,
                                                            text: str) -> None:
    prefix = _prefix_of(searcher, text)
    words = MatchEngine(searcher, {}).expand_prefix(prefix)
    assert isinstance(words, wq.Or)
    keys = [(prefix.fieldname, term.text.encode("utf-8")) for term in words.subqueries]
    fresh = MatchEngine(searcher, {}).match(prefix)
    cache = PostingsCache()
    for _ in range(2):  # read twice: the second reads its words again, from the files
        found = MatchEngine(searcher, {}, cache).match(prefix)
        assert found.docs.tolist() == fresh.docs.tolist()
        assert found.scores.tolist() == fresh.scores.tolist()
        assert not any(cache.holds(key) for key in keys) and len(cache) == 0


def test_positions_found_in_decoded_blocks_are_whoosh_s(searcher: Searcher) -> None:
    rng = random.Random(5)
    for leaf in _leaves(searcher):
        for word in _frequent(leaf, "body_exact", 25):
            expected = _whoosh_positions(leaf, "body_exact", word)
            holding = sorted(expected)
            # A few documents (only their blocks are read), one without the word, shuffled.
            docnums = holding[::40] + [leaf.doc_count_all() - 1]
            rng.shuffle(docnums)
            if len(holding) > whoosh_format.BLOCK_POSTINGS:
                wanted = np.unique(np.asarray(docnums, dtype=np.int64))
                # The blocks holding them are decoded from their packed values.
                ids = whoosh_format._term_packed(leaf, "body_exact", word, wanted)[0]
                assert set(holding) & set(docnums) <= set(ids.tolist())
            owners, positions = read_positions(leaf, "body_exact", word, docnums)
            for index, doc in enumerate(docnums):
                assert positions[owners == index].tolist() == expected.get(doc, [])


def test_whole_positions_kept_per_segment_are_whoosh_s(searcher: Searcher) -> None:
    leaf = _leaves(searcher)[0]
    with whoosh_format._positions_lock:
        whoosh_format._positions.clear()  # nothing kept yet
        whoosh_format._positions_size = 0
    words = _frequent(leaf, "body_exact", 10)
    for word in words:
        expected = _whoosh_positions(leaf, "body_exact", word)
        docnums = list(range(leaf.doc_count_all()))[::-3]  # most documents, descending
        for _ in range(2):  # read whole and kept, then from what is kept
            owners, positions = read_positions(leaf, "body_exact", word, docnums)
            for index, doc in enumerate(docnums):
                assert positions[owners == index].tolist() == expected.get(doc, [])
    segment = leaf.segment().segment_id()
    assert {(segment, leaf.doc_count_all(), "body_exact", word) for word in words} \
        <= set(whoosh_format._positions)
    assert whoosh_format._positions_size == sum(
        sum(part.nbytes for part in kept) for kept in whoosh_format._positions.values())


def test_proximities_over_segments_agree_with_whoosh_s_positions(searcher: Searcher) -> None:
    leaf = _leaves(searcher)[0]
    common = [w.decode() for w in _frequent(leaf, "body_exact", 12)]
    parser = make_parser(searcher.schema)
    rng = random.Random(11)
    found = 0
    for _ in range(12):
        words = rng.sample(common, 2)
        query = parse_query('"' + " ".join(words) + f'"~{rng.randrange(1, 6)}', parser).query
        assert query is not None
        for near in [q for q in query.leaves() if isinstance(q, Near)]:
            for _ in range(2):  # the second time from the positions kept
                fast = MatchEngine(searcher, {}).match(near)
                expected = _near_documents(searcher, near)
                assert fast.docs.tolist() == expected
            found += bool(expected)
    assert found >= 6


def _near_documents(searcher: Searcher, near: Near) -> list[int]:
    """The documents where Whoosh's own positions put NEAR's words within its slop."""
    field = near.fieldname
    words = list(dict.fromkeys(near.words))
    places: dict[str, dict[int, list[int]]] = {}
    for word in words:
        places[word] = {}
        for leaf, base in searcher.reader().leaf_readers():
            btext = searcher.schema[field].to_bytes(word)
            if (field, btext) in leaf:
                for doc, found in _whoosh_positions(leaf, field, btext).items():
                    places[word][doc + base] = found
    docs = set.intersection(*(set(p) for p in places.values()))
    near_docs = []
    for doc in sorted(docs):
        lists = [places[word][doc] for word in words]
        starts = [p for each in lists for p in each]
        if any(all(any(s <= p <= s + near.slop for p in each) for each in lists)
               for s in starts):
            near_docs.append(doc)
    return near_docs


def test_characters_found_in_decoded_blocks_are_whoosh_s(searcher: Searcher) -> None:
    for leaf in _leaves(searcher):
        body = leaf.schema["body"].format
        for word in _frequent(leaf, "body", 15):
            matcher = leaf.postings("body", word)
            expected = {}
            while matcher.is_active():
                expected[matcher.id()] = body.decode_characters(matcher.value())
                matcher.next()
            docnums = sorted(expected)[::9] + [leaf.doc_count_all() - 1]
            found = read_characters(leaf, "body", word, docnums)
            assert found == {doc: expected[doc] for doc in docnums if doc in expected}


def test_characters_of_several_terms_read_together_are_whoosh_s(searcher: Searcher) -> None:
    # Frequent words (several blocks, some read whole, some by block), rare ones (inlined or
    # one block), a word absent from the segment and one repeated: each term's offsets are
    # those of Whoosh's matcher, as if read alone.
    rng = random.Random(21)
    for leaf in _leaves(searcher):
        body = leaf.schema["body"].format
        words = [bytes(t) for t in leaf.lexicon("body")]
        rare = [word for word in words if leaf.doc_frequency("body", word) <= 2]
        assert rare
        for round_ in range(6):
            chosen = _frequent(leaf, "body", 12)[round_::3] + rng.sample(rare, 3) \
                + [b"absentissime", _frequent(leaf, "body", 1)[0]]
            rng.shuffle(chosen)
            docnums = sorted(rng.sample(range(leaf.doc_count_all()),
                                        min(leaf.doc_count_all(), 6 + 20 * round_)))
            for word in chosen[:3]:
                if word in rare:  # a document holding a rare word too
                    docnums.append(next(iter(leaf.postings("body", word).all_ids())))
            together = read_terms_characters(leaf, "body", chosen, docnums)
            assert len(together) == len(chosen)
            for word, found in zip(chosen, together, strict=True):
                expected = {}
                if ("body", word) in leaf:
                    matcher = leaf.postings("body", word)
                    while matcher.is_active():
                        expected[matcher.id()] = body.decode_characters(matcher.value())
                        matcher.next()
                assert found == {doc: expected[doc] for doc in docnums if doc in expected}
                assert found == read_characters(leaf, "body", word, docnums)


def _small_words(leaf: Any, field: str) -> list[bytes]:
    """Words of FIELD in one block of few postings (past the inlined ones)."""
    return [bytes(t) for t in leaf.lexicon(field)
            if 3 <= leaf.doc_frequency(field, t) <= 40][:60]


def test_small_terms_decoded_with_plain_ints_are_whoosh_s_and_numpy_s(
        searcher: Searcher, monkeypatch: pytest.MonkeyPatch) -> None:
    # A term of one small block is read whole and decoded with plain ints: the postings and
    # character offsets are those of Whoosh's matcher and of the numpy reader it replaced
    # (the same call with that path turned off), for every document and for candidates.
    decoded: list[int] = []
    plain = whoosh_format.decode_small_term

    def counted(raw: bytes, length: int, values: bool = False) -> Any:
        found = plain(raw, length, values)
        decoded.append(found is not None)
        return found

    monkeypatch.setattr(whoosh_format, "decode_small_term", counted)
    rng = random.Random(48)
    for leaf in _leaves(searcher):
        body = leaf.schema["body"].format
        for field in ("body", "body_exact", "title"):
            for word in _small_words(leaf, field):
                matcher = leaf.postings(field, word)
                expected: dict[int, tuple[float, bytes]] = {}
                while matcher.is_active():
                    expected[matcher.id()] = (matcher.weight(), matcher.value())
                    matcher.next()
                candidates = sorted(rng.sample(sorted(expected), 2)
                                    + rng.sample(range(leaf.doc_count_all()), 3))
                beyond = np.array([max(expected) + 1], dtype=np.int64)
                ids, weights, frequency = read_postings(leaf, field, word)  # type: ignore[misc]
                assert dict(zip(ids.tolist(), weights.tolist(), strict=True)) == {
                    doc: weight for doc, (weight, _) in expected.items()}
                assert frequency == len(expected)
                within = np.array(candidates, dtype=np.int64)
                small = [read_postings(leaf, field, word, within),
                         read_postings(leaf, field, word, beyond)]
                characters = read_terms_characters(leaf, "body", [word, b"absentissime"],
                                                   candidates) if field == "body" else None
                with monkeypatch.context() as numpy_only:
                    numpy_only.setattr(whoosh_format, "_TINY_TERM", 0)
                    for found, wanted in zip(small, (within, beyond), strict=True):
                        assert found is not None
                        old = read_postings(leaf, field, word, wanted)
                        assert old is not None
                        assert [part.tolist() for part in found[:2]] == \
                            [part.tolist() for part in old[:2]]
                        assert found[2] == old[2]
                    if characters is not None:
                        assert characters == read_terms_characters(
                            leaf, "body", [word, b"absentissime"], candidates)
                        assert characters[0] == {
                            doc: body.decode_characters(expected[doc][1])
                            for doc in candidates if doc in expected}
    assert decoded and all(decoded)  # the plain path was taken for every such term


def test_the_terms_from_a_key_are_the_sorted_terms_not_below_it(searcher: Searcher) -> None:
    rng = random.Random(14)
    for leaf in _leaves(searcher):
        words = [bytes(t) for t in leaf.lexicon("body")]
        assert words == sorted(words)
        keys = [b"", b"\xff\xff\xff"]
        for word in rng.sample(words, 60):
            keys += [word, word[:-1], word + b"\x00", word[:1], word[:-1] + b"\xff"]
        for key in keys:
            expected = [word for word in words if word >= key][:3]
            found = [text for field, text in itertools.islice(
                leaf._terms.terms_from("body", key), 3) if field == "body"]
            assert found == expected, key


def test_kept_term_entries_are_whoosh_s_and_not_walked_by_the_garbage_collector(
        searcher: Searcher) -> None:
    # Tens of thousands of entries kept as objects made every full collection a long pause:
    # they are kept as plain tuples (a prefix's read with its words), which the collector
    # stops tracking, and give Whoosh's frequencies, extents and postings.
    leaf = _leaves(searcher)[0]
    words = prefix_terms(leaf, "body", b"a")
    assert len(words) > 10
    kept = leaf._terms._archive_term_infos
    assert {type(kept[("body", word)]) for word in words} == {tuple}
    for word in words:
        info = leaf._terms.term_info("body", word)
        assert whoosh_format.doc_frequency(leaf, "body", word) == info.doc_frequency()
        entry = kept[("body", word)]
        assert type(entry) is tuple
        if info.is_inlined():
            assert entry[3] == tuple(info.inlined_postings())
        else:
            offset, length = info.extent()
            assert entry[1:] == (offset, length[0] if isinstance(length, tuple) else length,
                                 None)
        found = read_postings(leaf, "body", word)
        assert found is not None
        assert found[0].tolist() == list(leaf.postings("body", word).all_ids())
    gc.collect()
    assert not any(gc.is_tracked(kept[("body", word)]) for word in words
                   if kept[("body", word)][3] is None)
