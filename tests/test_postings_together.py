"""An AND's terms read together: every segment, field and word of a read decoded at once.

Over a real index of three segments (a full build, then two incremental runs), the reads
``read_postings_together`` makes in one batch (frequent words of several blocks, short and
inlined ones, absent ones; for every document, for candidates in the first block, the last,
at block boundaries, in no block) are each term's ``read_postings`` and Whoosh's own postings,
with the block directories not kept yet, kept, and read by their head alone; the match engine
takes that path for words, ANDs and ORs and finds Whoosh's documents and scores; a page's
matches settled on their own documents (``MatchEngine._on``) score as the whole query there,
bit for bit; a typed form's count asked only of the segments holding its stem is its count;
and a typed form read with its stem for every document is read only where its stem is.
"""

from __future__ import annotations

import itertools
import random
from collections.abc import Iterator
from typing import Any

import numpy as np
import pytest
from search_fixtures import archive_and_index, replica_articles
from whoosh import query as wq
from whoosh.codec.whoosh3 import W3TermInfo
from whoosh.searching import Searcher

from indexer import matches as matches_module
from indexer import whoosh_format
from indexer.location import current_build, open_build
from indexer.matches import MatchEngine, PostingsCache, match_with_whoosh
from indexer.query import make_parser, parse_query
from indexer.schema import EXACT_FIELDS
from indexer.whoosh_format import (
    BLOCK_POSTINGS,
    PostingsWanted,
    read_postings,
    read_postings_together,
)

RUNS = (300, 60, 30)  # articles per indexing run: three segments, the first of full blocks
QUERIES = ["pouvoir pays", "président gouvernement ville", "santé école marché budget",
           "pays SAUF ville", "(santé OU école) pays", "pays -président", "titre:pays ville",
           "gouvernement président pays ville", "pays", "zzzqabsent pays"]


@pytest.fixture(scope="module")
def searcher(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Searcher]:
    data = tmp_path_factory.mktemp("postings-together")
    items = replica_articles(sum(RUNS))
    start = 0
    for count in RUNS:
        archive_and_index(data, items[start:start + count])
        start += count
    build = current_build(data / "index")
    assert build is not None
    with open_build(build).searcher() as opened:
        assert len(opened.reader().leaf_readers()) == len(RUNS), "expected three segments"
        yield opened


@pytest.fixture(autouse=True)
def no_directory_kept() -> Iterator[None]:
    with whoosh_format._directories_lock:
        whoosh_format._directories.clear()
        whoosh_format._directories_size = 0
    yield


def _leaves(searcher: Searcher) -> list[Any]:
    return [leaf for leaf, _ in searcher.reader().leaf_readers()]


def _words(leaf: Any, field: str) -> list[bytes]:
    """FIELD's words of every kind in a segment: the most frequent (several blocks), some of
    one short block, some inlined, and one absent."""
    frequency = {bytes(t): leaf.doc_frequency(field, t) for t in leaf.lexicon(field)}
    ordered = sorted(frequency, key=lambda word: -frequency[word])
    short = [word for word in ordered if 3 <= frequency[word] <= 40][:4]
    inlined = [word for word in ordered if leaf.term_info(field, word).is_inlined()][:3]
    return [*ordered[:4], *short, *inlined, b"zzzqabsent"]


def _whoosh_postings(leaf: Any, field: str, word: bytes) -> dict[int, float]:
    if (field, word) not in leaf:
        return {}
    matcher = leaf.postings(field, word)
    found: dict[int, float] = {}
    while matcher.is_active():
        found[matcher.id()] = matcher.weight()
        matcher.next()
    return found


def _candidates(leaf: Any) -> dict[str, np.ndarray | None]:
    size = leaf.doc_count_all()
    chosen = {
        "all": None,
        "first block": [0, 5, BLOCK_POSTINGS - 1],
        "last": [size - 1],
        "block boundaries": [BLOCK_POSTINGS - 1, BLOCK_POSTINGS, 2 * BLOCK_POSTINGS - 1,
                             2 * BLOCK_POSTINGS],
        "scattered": list(range(3, size, 37)),
        "none": [],
    }
    return {name: None if docs is None else np.asarray(sorted({d for d in docs if d < size}),
                                                        dtype=np.int64)
            for name, docs in chosen.items()}


def _asked(searcher: Searcher) -> list[PostingsWanted]:
    asked = []
    for leaf in _leaves(searcher):
        for field in ("body", "title", "body_exact"):
            for word in _words(leaf, field):
                for within in _candidates(leaf).values():
                    asked.append(PostingsWanted(leaf, field, word, within))
    return asked


def _plain(found: tuple[np.ndarray, np.ndarray, int] | None) -> Any:
    return None if found is None else (found[0].tolist(), found[1].tolist(), found[2])


@pytest.mark.parametrize("how", ["not kept", "kept", "heads only"])
def test_terms_read_together_are_each_term_s_postings_and_whoosh_s(
        searcher: Searcher, how: str, monkeypatch: pytest.MonkeyPatch) -> None:
    asked = _asked(searcher)
    assert any(len(_whoosh_postings(a.leaf, a.field, a.btext)) > 2 * BLOCK_POSTINGS
               for a in asked), "some words fill several blocks"
    if how == "kept":
        read_postings_together(asked)  # keeps every directory read
    if how == "heads only":
        # Longer terms are read by their head and directory, then the stretch of blocks.
        monkeypatch.setattr(whoosh_format, "_SMALL_TERM", 0)
        monkeypatch.setattr(whoosh_format, "_TINY_TERM", 0)
    decoded: list[int] = []
    real = getattr(whoosh_format, "decode_blocks")  # noqa: B009  # imported there, not ours

    def counted(*args: Any, **kwargs: Any) -> Any:
        decoded.append(1)
        return real(*args, **kwargs)

    monkeypatch.setattr(whoosh_format, "decode_blocks", counted)
    together = read_postings_together(asked)
    assert len(decoded) == 1  # every term of every segment in one decoding
    monkeypatch.setattr(whoosh_format, "decode_blocks", real)
    for request, found in zip(asked, together, strict=True):
        alone = read_postings(request.leaf, request.field, request.btext, request.within)
        assert _plain(found) == _plain(alone), request[1:3]
        expected = _whoosh_postings(request.leaf, request.field, request.btext)
        if found is None:
            assert not expected
            continue
        got = dict(zip(found[0].tolist(), found[1].tolist(), strict=True))
        wanted = expected if request.within is None else {
            doc: weight for doc, weight in expected.items() if doc in set(request.within.tolist())}
        assert {doc: got[doc] for doc in wanted} == wanted  # every posting wanted, Whoosh's
        assert all(expected[doc] == weight for doc, weight in got.items())
        assert found[2] == len(expected)


def test_a_damaged_term_read_together_is_refused(searcher: Searcher,
                                                 monkeypatch: pytest.MonkeyPatch) -> None:
    leaf = _leaves(searcher)[0]
    word = _words(leaf, "body")[0]
    reader = whoosh_format._read_at

    def flipped(postfile: Any, position: int, size: int, pad: int = 0) -> bytes:
        raw = bytearray(reader(postfile, position, size, pad))
        raw[len(raw) // 2] ^= 0x40
        return bytes(raw)

    monkeypatch.setattr(whoosh_format, "_read_at", flipped)
    with pytest.raises(whoosh_format.UnexpectedLayout):
        read_postings_together([PostingsWanted(leaf, "body", word)])


def test_term_entries_parsed_alone_are_whoosh_s_term_infos(searcher: Searcher) -> None:
    seen = {True: 0, False: 0}
    for leaf in _leaves(searcher):
        dictionary = leaf._terms._dictionary
        for field in ("body", "title_exact", "body_pairs"):
            for name, _, value in itertools.islice(dictionary.items_from(field, b""), 5000):
                if name != field:
                    break
                info = W3TermInfo.from_bytes(value)
                assert whoosh_format._entry_of(value) == whoosh_format._kept_entry(info)
                seen[info.is_inlined()] += 1
    assert seen[True] and seen[False]


def _parsed(searcher: Searcher, text: str) -> wq.Query:
    query = parse_query(text, make_parser(searcher.schema)).query
    assert query is not None
    return query


@pytest.mark.parametrize("text", QUERIES)
def test_words_and_ands_read_together_find_whoosh_s_documents_and_scores(
        searcher: Searcher, text: str, monkeypatch: pytest.MonkeyPatch) -> None:
    batches: list[int] = []
    together = getattr(matches_module, "read_postings_together")  # noqa: B009  # imported

    def counted(wanted: list[PostingsWanted]) -> Any:
        batches.append(len(wanted))
        return together(wanted)

    monkeypatch.setattr(matches_module, "read_postings_together", counted)
    monkeypatch.setattr(matches_module, "read_postings", None)  # words never read alone
    query = _parsed(searcher, text)
    for postings in (None, PostingsCache()):
        engine = MatchEngine(searcher, {}, postings)
        fast = engine.match(query)
        assert engine.enabled
        slow = match_with_whoosh(query, searcher)
        if isinstance(query, wq.AndNot):
            # Whoosh's own AND NOT matcher lets a document of its excluded side through over
            # these segments (« pays -président »: the first document holding « président »
            # in its body; the same before this change): held to Whoosh's two sides instead.
            kept = match_with_whoosh(query.a, searcher)
            kept = kept.where(~np.isin(kept.docs, match_with_whoosh(query.b, searcher).docs))
            slow = type(kept)(kept.docs, kept.scores * query.boost)
        assert fast.docs.tolist() == slow.docs.tolist()
        assert fast.scores == pytest.approx(slow.scores, rel=1e-9)
        deferred = MatchEngine(searcher, {}, postings).match(query, settle_later=True)
        settled = deferred.settled(np.arange(len(deferred)))
        assert settled.docs.tolist() == fast.docs.tolist()
        assert settled.scores.tolist() == fast.scores.tolist()
    if text == "zzzqabsent pays":  # a word no segment holds: the AND reads nothing at all
        assert not batches
    elif text == "titre:pays ville":  # « pays » titles one segment: only that one is read
        assert batches and max(batches) == 1
    else:
        assert batches and max(batches) > 1  # a word's segments (and fields) in one batch


@pytest.mark.parametrize("text", QUERIES)
def test_matches_settled_on_their_own_documents_score_as_the_whole_query(
        searcher: Searcher, text: str) -> None:
    query = _parsed(searcher, text)
    assert matches_module._pointwise(query)
    everywhere = MatchEngine(searcher, {}).match(query)
    rng = random.Random(text)
    size = searcher.doc_count_all()
    for count in (1, 3, 40):
        chosen = rng.sample(everywhere.docs.tolist(), min(count, len(everywhere)))
        docs = np.asarray(sorted({*chosen, *rng.sample(range(size), count)}), dtype=np.int64)
        on = MatchEngine(searcher, {})._settle(query, docs)
        node = MatchEngine(searcher, {})._node(query, docs).among(docs)
        assert on.docs.tolist() == node.docs.tolist()
        assert on.scores.tolist() == node.scores.tolist()  # the same sums, bit for bit
        kept = np.isin(everywhere.docs, docs)
        assert on.docs.tolist() == everywhere.docs[kept].tolist()
        assert on.scores.tolist() == everywhere.scores[kept].tolist()


def test_queries_of_other_parts_are_settled_by_the_whole_engine(searcher: Searcher) -> None:
    for text in ('"pouvoir pays"', "pou*", '"pays ville"~3 santé'):
        assert not matches_module._pointwise(_parsed(searcher, text))


def test_a_typed_form_is_counted_in_the_segments_holding_its_stem(searcher: Searcher) -> None:
    query = _parsed(searcher, "présidente gouvernements villes titre:pays")
    pairs = []  # each typed form with its stem, as ``query.prefer_typed_forms`` puts them
    for word in query.subqueries:
        if isinstance(word, wq.Or):
            parts = word.subqueries
            pairs += [(parts[i - 1], parts[i]) for i in range(1, len(parts))
                      if matches_module._is_typed_form(parts[i], parts[i - 1])]
    assert len(pairs) >= 6
    for stem, typed in pairs:
        engine = MatchEngine(searcher, {})
        counted = engine._doc_frequency(typed.fieldname, typed.text, stem)
        assert counted == MatchEngine(searcher, {})._doc_frequency(typed.fieldname, typed.text)
        assert counted == searcher.doc_frequency(typed.fieldname, typed.text)


@pytest.mark.parametrize("text", ["pays", "président gouvernement", "in some segments"])
def test_a_typed_form_read_for_every_document_is_read_where_its_stem_is(
        searcher: Searcher, text: str, monkeypatch: pytest.MonkeyPatch) -> None:
    # Evaluated at once (no settling), a word's typed form is read with its stem for every
    # document, but only in the segments holding the stem: a document holding the form as
    # written holds its stem in the same field. The matches stay Whoosh's.
    leaves = [leaf for leaf, _ in searcher.reader().leaf_readers()]
    if text == "in some segments":  # a word of the first segment the last does not hold
        last = leaves[-1]
        text = next(word for word in itertools.islice(
            (bytes(w).decode() for w in leaves[0].lexicon("body_exact")), 2000)
            if len(word) > 6 and word.isalpha() and not last.doc_frequency("body", _stem_of(
                _parsed(searcher, word), "body_exact", word.encode())))
    reads: list[tuple[Any, str, bytes]] = []
    together = getattr(matches_module, "read_postings_together")  # noqa: B009  # imported

    def recorded(wanted: list[PostingsWanted]) -> Any:
        reads.extend((w.leaf, w.field, w.btext) for w in wanted)
        return together(wanted)

    monkeypatch.setattr(matches_module, "read_postings_together", recorded)
    query = _parsed(searcher, text)
    found = MatchEngine(searcher, {}).match(query)
    slow = match_with_whoosh(query, searcher)
    assert found.docs.tolist() == slow.docs.tolist()
    assert found.scores == pytest.approx(slow.scores, rel=1e-9)
    stemmed = {exact: stem for stem, exact in EXACT_FIELDS.items()}
    typed = [(leaf, field, btext) for leaf, field, btext in reads if field in stemmed]
    assert typed
    stems = {(field, btext): [leaf.doc_frequency(stemmed[field], _stem_of(query, field, btext))
                              for leaf in leaves] for _, field, btext in typed}
    for leaf, field, btext in typed:
        assert stems[(field, btext)][leaves.index(leaf)] > 0
    assert len({leaf for leaf, field, _ in typed if field == "body_exact"}) \
        < len(leaves) or text in ("pays", "président gouvernement")


def _stem_of(query: wq.Query, field: str, btext: bytes) -> str:
    """The stem the exact-form term FIELD:BTEXT of QUERY follows (``prefer_typed_forms``)."""
    for parent in _ors(query):
        parts = parent.subqueries
        for i in range(1, len(parts)):
            if matches_module._is_typed_form(parts[i], parts[i - 1]) \
                    and parts[i].fieldname == field and parts[i].text.encode() == btext:
                return str(parts[i - 1].text)
    raise AssertionError(f"no stem before {field}:{btext!r}")


def _ors(query: wq.Query) -> Iterator[wq.Or]:
    if isinstance(query, wq.Or):
        yield query
    for sub in query.children():
        yield from _ors(sub)


@pytest.mark.parametrize("cached", [False, True])
def test_a_word_read_whole_for_a_few_documents_scores_theirs_alone(searcher: Searcher,
                                                                   cached: bool) -> None:
    # Its blocks are all read (the few documents lie in nearly every one), but only theirs
    # are scored: a later read for every document gives the complete read's scores again.
    reader = searcher.reader()
    word = max((bytes(w) for w in reader.lexicon("body")),
               key=lambda w: reader.doc_frequency("body", w))
    term = wq.Term("body", word.decode("utf-8"))
    complete = MatchEngine(searcher, {})._term(term)
    few = np.union1d(complete.docs[:: len(complete) // 12][:11], complete.docs[-1:])  # each segment
    assert len(few) * BLOCK_POSTINGS >= len(complete)  # read whole for them
    assert len(few) * matches_module._ASKED_SHARE < len(complete)  # and few against it
    engine = MatchEngine(searcher, {}, PostingsCache() if cached else None)
    assert engine._segments_holding(few).all()
    found = engine._term(term, few)
    assert found.docs.tolist() == few.tolist()
    assert found.scores.tolist() == complete.scores[np.isin(complete.docs, few)].tolist()
    everything = engine._term(term)
    assert everything.docs.tolist() == complete.docs.tolist()
    assert everything.scores.tolist() == complete.scores.tolist()


def test_a_stem_read_for_candidates_has_the_ceilings_of_its_whole_read(
        searcher: Searcher) -> None:
    # An AND reads each word's stems for its candidates: their ceilings (the most the typed
    # forms can add) are those a read of every document gives them.
    parser = make_parser(searcher.schema)
    parsed = parse_query("pays ville", parser).query
    assert parsed is not None
    stemmed = matches_module._without_typed_forms(parsed)
    stems = [sub for sub in stemmed.leaves()
             if isinstance(sub, matches_module._StemOfTypedForm)]
    checked = 0
    for stem in stems:
        complete = MatchEngine(searcher, {})._term(stem)
        if len(complete) <= 4:  # a word seldom in the titles
            continue
        assert complete.ceiling is not None
        checked += 1
        few = complete.docs[:: max(1, len(complete) // 4)][:4]
        found = MatchEngine(searcher, {})._term(stem, few)
        assert found.ceiling is not None
        at = np.searchsorted(complete.docs, found.docs)
        assert found.docs.tolist() == few.tolist()
        assert found.scores.tolist() == complete.scores[at].tolist()
        assert found.ceiling.tolist() == complete.ceiling[at].tolist()
    assert checked >= 2  # each word's stem in the bodies at least
