"""Phrases through the word-pair fields: the same documents and scores as Whoosh's phrase query."""

from __future__ import annotations

import os
import random
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest
from search_fixtures import archive_and_index, article
from whoosh import query as wq
from whoosh.filedb.filestore import FileStorage
from whoosh.searching import Searcher

import indexer.matches as matches_module
from indexer import whoosh_format
from indexer.analysis import exact_word_pair_analyzer, frequent_words, word_pair_analyzer
from indexer.matches import MatchEngine, match_with_whoosh
from indexer.query import Near, make_parser, parse_query
from indexer.schema import PAIR_FIELDS
from indexer.whoosh_format import read_positions

_TEXTS = [
    ("Kim Jong-un en visite", "Le dirigeant Kim Jong-un a reçu l'armée à Pyongyang."),
    ("Kim Jong-il, le père", "Kim Jong-il avait gouverné avant Kim, ensuite Jong-un."),
    ("Les nord-coréens", "Les soldats nord-coréens et les nord coréens du Nord."),
    ("Nord, Corée", "Au nord, des marins coréens du sud parlent de la Corée du Nord."),
    ("L'armée d'aujourd'hui", "L'armée nationale d'aujourd'hui défile ; l’armée de l'air aussi."),
    ("Union africaine", "L'Union africaine réunit l'union des pays d'Afrique, union africaine."),
    ("Santé publique", "Le ministère de la santé publique et la santé du public."),
    ("Ordre inversé", "Publique santé, africaine union, Jong-un Kim, coréens nord."),
    ("Trois mots", "Le ministère de la santé, ensuite la santé publique du ministère."),
    ("Répétitions", "Union union africaine africaine, santé santé publique publique."),
    ("Titre seul union", "africaine et rien d'autre ici"),
]


@pytest.fixture(scope="module")
def searcher(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Searcher]:
    data = tmp_path_factory.mktemp("phrases")
    first = [article(f"p-{i}", title, body) for i, (title, body) in enumerate(_TEXTS)]
    archive_and_index(data, first)
    # A second run makes a second segment and deletes the first version of an article.
    archive_and_index(data, [
        article("p-6", "Santé publique", "Le ministère de la santé publique, encore."),
        article("p-extra", "Union africaine, encore", "Sommet de l'Union africaine à Dakar."),
    ])
    with _opened(data) as opened:
        yield opened


def _opened(data: Path) -> Searcher:
    """A searcher over DATA's live build, through Whoosh's own index (no fast readers)."""
    index = FileStorage(os.path.realpath(data / "index" / "current"), supports_mmap=False,
                        readonly=True).open_index()
    return index.searcher()


def _indexed_texts(data: Path, texts: list[str], slug: str) -> Searcher:
    """Index TEXTS as the bodies of articles titled « Titre N »; return a searcher over them."""
    archive_and_index(data, [article(f"{slug}-{i}", f"Titre {i}", text)
                             for i, text in enumerate(texts)])
    return _opened(data)


def _live(searcher: Searcher, docs: list[int]) -> list[int]:
    return [d for d in docs if not searcher.reader().is_deleted(d)]


def _agree(searcher: Searcher, query: wq.Query) -> list[int]:
    """Assert the pair route finds Whoosh's documents with Whoosh's scores; return them."""
    engine = MatchEngine(searcher, {})
    fast, slow = engine.match(query), match_with_whoosh(query, searcher)
    assert engine.enabled, "the W3 posting reader fell back to Whoosh's matchers"
    keep = [i for i, d in enumerate(fast.docs.tolist()) if not searcher.reader().is_deleted(d)]
    assert fast.docs[keep].tolist() == slow.docs.tolist()
    assert fast.scores[keep] == pytest.approx(slow.scores, rel=1e-9)
    return slow.docs.tolist()


def _random_quotes_agreeing(searcher: Searcher, parser: Any, rng: random.Random,
                            words: list[str], lengths: tuple[int, int], tries: int) -> int:
    """Check TRIES quotes of random WORDS (LENGTHS: randrange's bounds) against Whoosh;
    return how many found a document."""
    found = 0
    for _ in range(tries):
        quote = rng.sample(words, rng.randrange(*lengths))
        query = parse_query('"' + " ".join(quote) + '"', parser).query
        if query is not None:
            found += bool(_agree(searcher, query))
    return found


def _titles(searcher: Searcher, docs: list[int]) -> set[str]:
    return {searcher.stored_fields(d)["title"] for d in docs}


def test_index_has_a_pair_field_for_each_phrase_field(searcher: Searcher) -> None:
    for field, pairs in PAIR_FIELDS.items():
        assert field in searcher.schema and pairs in searcher.schema
    assert "kim jong" in {t.decode() for t in searcher.lexicon("body_pairs")}


def test_only_pairs_of_frequent_words_are_indexed(searcher: Searcher) -> None:
    analyzer = searcher.schema["body_pairs"].analyzer
    # "nationale" is in one article only: "armée nationale" is checked by positions.
    assert analyzer.pairs("kim", "jong") and not analyzer.pairs("arme", "national")
    assert "arme national" not in {t.decode() for t in searcher.lexicon("body_pairs")}


@pytest.mark.parametrize("text", [
    '"Kim Jong-un"', "Jong-un", "Jong-il", '"Kim Jong"', "nord-coréens", '"nord coréens"',
    '"Corée du Nord"', '"la Corée du Nord"', '"l\'armée d\'aujourd\'hui"', "\"l'armée de l'air\"",
    '"armée nationale"', '"Union africaine"', '"union des pays"', '"santé publique"',
    '"ministère de la santé publique"', '"santé publique du ministère"', '"publique santé"',
    '"union africaine africaine"', '"santé santé publique"', '"africaine union"',
    'titre:"union africaine"', '"union africaine" OU "santé publique"',
    '"santé publique" SAUF ministère', '"absent jamais"', '"nord inconnu"',
])
def test_phrase_agrees_with_whoosh(searcher: Searcher, text: str) -> None:
    query = parse_query(text, make_parser(searcher.schema)).query
    assert query is not None
    _agree(searcher, query)


def test_exact_fields_have_pairs_of_their_frequent_small_words(searcher: Searcher) -> None:
    lexicon = {t.decode() for t in searcher.lexicon("body_exact_pairs")}
    assert {"de la", "la sante", "sante publique"} <= lexicon
    assert "armee nationale" not in lexicon  # "nationale" is in one article only


@pytest.mark.parametrize("text", [
    '"de la"', '"la santé"', '"de la santé"', '"et la"', '"du Nord"', '"de la Corée du Nord"',
    '"la santé du public"', '"santé, la"', '"la la"', '"de de la"', '"l\'armée de"',
    '"de la santé publique et la santé"', '"la Corée"',
])
def test_quote_of_common_words_agrees_with_whoosh(searcher: Searcher, text: str) -> None:
    query = parse_query(text, make_parser(searcher.schema)).query
    assert query is not None
    _agree(searcher, query)


def test_quote_of_two_frequent_words_reads_no_positions(
        searcher: Searcher, monkeypatch: pytest.MonkeyPatch) -> None:
    expected = match_with_whoosh(parse_query('"de la"', make_parser(searcher.schema)).query,
                                 searcher)

    def refuse(*args: object) -> None:
        raise AssertionError("positions were read for a quote whose pair is indexed")

    monkeypatch.setattr("indexer.matches.read_positions", refuse)
    found = MatchEngine(searcher, {}).match(
        parse_query('"de la"', make_parser(searcher.schema)).query)
    live = _live(searcher, found.docs.tolist())
    assert live == expected.docs.tolist() and live


def test_quote_of_small_words_finds_only_that_wording(searcher: Searcher) -> None:
    # "Santé publique" and "Trois mots" hold "de la santé"; "Nord, Corée" holds "de la Corée".
    query = parse_query('"de la santé"', make_parser(searcher.schema)).query
    assert _titles(searcher, _agree(searcher, query)) == {"Santé publique", "Trois mots"}


def test_hyphenated_name_never_matches_its_sibling(searcher: Searcher) -> None:
    query = parse_query('"Kim Jong-un"', make_parser(searcher.schema)).query
    assert _titles(searcher, _agree(searcher, query)) == {"Kim Jong-un en visite"}


def test_compound_matches_with_or_without_its_hyphen(searcher: Searcher) -> None:
    parser = make_parser(searcher.schema)
    with_hyphen = _agree(searcher, parse_query("nord-coréens", parser).query)
    without = _agree(searcher, parse_query('"nord coréens"', parser).query)
    assert with_hyphen == without
    assert _titles(searcher, with_hyphen) == {"Les nord-coréens"}


def test_three_words_need_to_follow_each_other(searcher: Searcher) -> None:
    # "Trois mots" holds the pairs "ministère santé" and "santé publique", not in sequence.
    query = parse_query('"ministère de la santé publique"', make_parser(searcher.schema)).query
    assert _titles(searcher, _agree(searcher, query)) == {"Santé publique"}


def test_phrase_never_spans_title_and_body(searcher: Searcher) -> None:
    # The title ends with "union", the body starts with "africaine".
    for field in ("title", "body"):
        docs = _agree(searcher, wq.Phrase(field, ["seul", "union", "africain"]))
        assert docs == []


def test_random_phrases_agree_with_whoosh(tmp_path: Path) -> None:
    rng = random.Random(11)
    vocabulary = ["Kim", "Jong-un", "Jong-il", "la", "de", "armée", "l'armée", "nord-coréens",
                  "nord", "coréens", "santé", "publique", "et", "du", "union", "africaine",
                  "aujourd'hui", "d'Afrique", "les", "ministère"]
    texts = [" ".join(rng.choice(vocabulary) for _ in range(rng.randrange(3, 40)))
             for _ in range(60)]
    # Words of a single article are not paired: their phrases go through positions.
    rare = ["pyongyang", "dakar", "bamako", "lomé", "niamey"]
    for i, word in enumerate(rare):
        tokens = texts[i].split(" ")
        tokens.insert(len(tokens) // 2, word)
        texts[i] = " ".join(tokens)
    vocabulary += rare
    with _indexed_texts(tmp_path, texts, "r") as opened:
        assert not opened.schema["body_pairs"].analyzer.pairs("dakar", "sante")
        parser = make_parser(opened.schema)
        matched = _random_quotes_agreeing(opened, parser, rng, vocabulary, (2, 5), 80)
        for i, text in enumerate(texts[:20]):
            tokens = text.split(" ")
            start = len(tokens) // 2 - 1 if i < len(rare) else rng.randrange(len(tokens))
            query = parse_query('"' + " ".join(tokens[start:start + 3]) + '"', parser).query
            if query is not None:
                assert _agree(opened, query), "a phrase cut from a text must find that text"
                matched += 1
        assert matched >= 20


def test_random_quotes_of_small_words_agree_with_whoosh(tmp_path: Path) -> None:
    rng = random.Random(5)
    small = ["de", "la", "le", "et", "du", "les", "à", "des", "en", "un", "il", "y", "a"]
    words = ["santé", "l'armée", "nord-coréens", "union", "publique", "pyongyang"]
    texts = [" ".join(rng.choice(small if rng.random() < 0.8 else words)
                      for _ in range(rng.randrange(5, 60))) for _ in range(50)]
    with _indexed_texts(tmp_path, texts, "s") as opened:
        assert opened.schema["body_exact_pairs"].analyzer.pairs("de", "la")
        parser = make_parser(opened.schema)
        matched = _random_quotes_agreeing(opened, parser, rng, small + words[:2], (2, 5), 60)
        for text in texts[:30]:
            tokens = text.split(" ")
            start = rng.randrange(max(1, len(tokens) - 3))
            query = parse_query('"' + " ".join(tokens[start:start + 4]) + '"', parser).query
            assert query is not None
            assert _agree(opened, query), "a quote cut from a text must find that text"
            matched += 1
        assert matched >= 40


def test_quote_partly_of_indexed_pairs_reads_their_positions_not_their_words(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    rng = random.Random(11)
    small = ["de", "la", "le", "et", "du", "les"]
    rare = ["pyongyang", "dakar", "sommet", "bamako", "lomé", "niamey", "accra", "banjul"]
    texts = [" ".join(rng.choice(small) if rng.random() < 0.99 else rng.choice(rare)
                      for _ in range(rng.randrange(10, 80))) for _ in range(120)]
    read: list[tuple[str, bytes]] = []
    reader = matches_module.read_positions_and_postings

    def recorded(leaf: Any, field: str, btext: bytes, docnums: Any) -> Any:
        read.append((field, btext))
        return reader(leaf, field, btext, docnums)

    monkeypatch.setattr(matches_module, "read_positions_and_postings", recorded)
    with _indexed_texts(tmp_path, texts, "m") as opened:
        pairs = opened.schema["body_exact_pairs"].analyzer.pairs
        assert pairs("de", "la") and not any(pairs(word, "de") for word in rare)
        parser = make_parser(opened.schema)
        checked = 0
        for text in texts:
            tokens = text.split(" ")
            for at in [i for i, token in enumerate(tokens) if token in rare][:2]:
                quote = tokens[max(0, at - 2):at + 3]
                if len(quote) < 4 or sum(token in rare for token in quote) != 1:
                    continue
                query = parse_query('"' + " ".join(quote) + '"', parser).query
                assert query is not None
                read.clear()
                # A quote cut from a text finds it, with Whoosh's documents and scores.
                assert _agree(opened, query)
                # Two small words that follow each other are read as their pair's positions.
                assert {field for field, _ in read} >= {"body_exact_pairs"}
                checked += 1
        assert checked >= 20


def test_random_phrases_over_several_segments_agree_with_whoosh(tmp_path: Path) -> None:
    # Inflected forms make a word's stemmed pair rarer or more frequent than the word as
    # written: quotes are narrowed by either first, then in the segments holding candidates.
    rng = random.Random(17)
    vocabulary = ["santé", "santés", "publique", "publiques", "union", "unions", "africaine",
                  "africaines", "de", "la", "nord", "coréens", "coréen", "armée", "armées"]
    texts = [" ".join(rng.choice(vocabulary) for _ in range(rng.randrange(3, 30)))
             for _ in range(90)]
    for run in range(3):
        archive_and_index(tmp_path, [article(f"g-{run}-{i}", f"Titre {i}", text)
                                     for i, text in enumerate(texts[run::3])])
    with _opened(tmp_path) as opened:
        assert len(opened.reader().leaf_readers()) == 3
        assert opened.schema["body_pairs"].analyzer.pairs("sant", "publiqu")
        parser = make_parser(opened.schema)
        matched = _random_quotes_agreeing(opened, parser, rng, vocabulary, (2, 4), 80)
        assert matched >= 20


def test_a_quote_reads_its_words_only_where_its_stemmed_pair_is(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    # « union » and « santés » are in every article, side by side in the last one only: the
    # stemmed pair « union sant » is the rarest list, so the words as written (and their
    # positions) are read in its segment alone.
    apart = [article(f"a-{i}", f"Titre {i}", f"union et santés, {i} fois union puis santés")
             for i in range(12)]
    archive_and_index(tmp_path, apart[:6])
    archive_and_index(tmp_path, apart[6:])
    archive_and_index(tmp_path, [article("ensemble", "Ensemble", "une union santés ici")])
    with _opened(tmp_path) as opened:
        leaves = [leaf for leaf, _ in opened.reader().leaf_readers()]
        assert len(leaves) == 3
        assert opened.schema["body_pairs"].analyzer.pairs("union", "sant")
        read: list[tuple[int, str]] = []

        def recording(reader: Callable[..., Any]) -> Callable[..., Any]:
            def record(leaf: Any, field: str, *args: Any) -> Any:
                read.append((leaves.index(leaf), field))
                return reader(leaf, field, *args)
            return record

        monkeypatch.setattr("indexer.matches.read_postings",
                            recording(matches_module.read_postings))
        together = matches_module.read_postings_together

        def record_together(wanted: list[Any]) -> Any:
            read.extend((leaves.index(request.leaf), request.field) for request in wanted)
            return together(wanted)

        monkeypatch.setattr("indexer.matches.read_postings_together", record_together)
        monkeypatch.setattr("indexer.matches.read_positions",
                            recording(matches_module.read_positions))
        monkeypatch.setattr("indexer.matches.read_positions_and_postings",
                            recording(matches_module.read_positions_and_postings))
        query = parse_query('"union santés"', make_parser(opened.schema)).query
        assert _titles(opened, _agree(opened, query)) == {"Ensemble"}
        exact = {segment for segment, field in read if field == "body_exact"}
        assert exact == {2}


def test_a_phrase_scores_its_words_from_the_blocks_its_positions_came_from(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    # « journal » is in every article: it narrows nothing, and its positions are read for
    # the few documents holding « petit » and « marché » (no pair of them is indexed: those
    # two are in too few articles). Its postings then come from the blocks decoded for those
    # positions, not decoded again to be scored; the documents and scores are Whoosh's.
    texts = ["le journal petit marché paraît", "journal petit marché du matin",
             "un journal petit marché encore", "un petit marché sans journal"]
    texts += [f"le journal du soir numéro {i}" for i in range(20)]
    for run in range(3):
        archive_and_index(tmp_path, [article(f"s-{run}-{i}", f"Titre {run} {i}", text)
                                     for i, text in enumerate(texts)])
    with _opened(tmp_path) as opened:
        leaves = [leaf for leaf, _ in opened.reader().leaf_readers()]
        assert len(leaves) == 3
        words = [t.text for t in opened.schema["body_exact"].analyzer("journal petit marché")]
        pairs = opened.schema["body_exact_pairs"].analyzer
        assert len(words) == 3 and not pairs.pairs(words[0], words[1])
        assert not pairs.pairs(words[1], words[2])
        common = words[0].encode()
        events: list[tuple[str, bytes]] = []
        positions = matches_module.read_positions_and_postings

        def record_positions(leaf: Any, field: str, btext: bytes, docs: Any) -> Any:
            events.append(("positions", btext))
            return positions(leaf, field, btext, docs)

        together = matches_module.read_postings_together

        def record_together(wanted: list[Any]) -> Any:
            events.extend(("postings", request.btext) for request in wanted)
            return together(wanted)

        monkeypatch.setattr("indexer.matches.read_positions_and_postings", record_positions)
        monkeypatch.setattr("indexer.matches.read_postings_together", record_together)
        with whoosh_format._positions_lock:
            for key in [key for key in whoosh_format._positions if key[3] == common]:
                whoosh_format._positions.pop(key)
        query = wq.Phrase("body_exact", words)
        assert len(_agree(opened, query)) == 3 * 3
        last = max(i for i, (kind, _) in enumerate(events) if kind == "positions")
        assert ("positions", common) in events
        assert ("postings", common) not in events[last:]
        # With its whole positions kept by the process no block is decoded for them: its
        # postings are read to be scored, as before.
        for leaf in leaves:
            read_positions(leaf, "body_exact", common, list(range(leaf.doc_count_all())))
        events.clear()
        assert len(_agree(opened, query)) == 3 * 3
        assert ("postings", common) in events


@pytest.mark.parametrize(("text", "pairs"), [
    ("l'armée de la Corée", ["l' armee", "armee de", "de la", "la coree"]),
    ("porte-parole du gouvernement", ["porte parole", "parole du", "du gouvernement"]),
    ("Santé", []),
])
def test_exact_pairs_are_consecutive_exact_words(text: str, pairs: list[str]) -> None:
    assert [t.text for t in exact_word_pair_analyzer()(text)] == pairs


@pytest.mark.parametrize(("text", "pairs"), [
    ("la Corée du Nord", ["cor nord"]),
    ("Kim Jong-un", ["kim jong", "jong un"]),
    ("l'armée d'aujourd'hui", ["arme aujourd'hui"]),
    ("santé", []),
    ("", []),
])
def test_pairs_are_consecutive_analysed_words(text: str, pairs: list[str]) -> None:
    assert [t.text for t in word_pair_analyzer()(text)] == pairs


def test_frequent_words_are_those_of_enough_texts() -> None:
    texts = ["La Corée du Nord", "Corée et Japon", "Nord-Mali", "Japon", "Sénégal"]
    # Analysed (folded, stemmed) words found in 40% of the texts, and in two at least.
    assert frequent_words(texts, 0.4) == frozenset({"cor", "nord", "japon"})
    assert frequent_words(texts, 0.9) == frozenset()


def _near_in_whoosh(searcher: Searcher, field: str, words: list[str], slop: int,
                    ) -> tuple[list[int], list[float]]:
    """The documents (and AND scores) where Whoosh's own matchers put WORDS within SLOP."""
    together = match_with_whoosh(wq.And([wq.Term(field, w) for w in words]), searcher)
    docs, scores = [], []
    for doc, score in zip(together.docs.tolist(), together.scores.tolist(), strict=True):
        places = []
        for word in dict.fromkeys(words):
            matcher = wq.Term(field, word).matcher(searcher, searcher.context())
            matcher.skip_to(doc)
            places.append(matcher.value_as("positions"))
        starts = [p for word_places in places for p in word_places]
        if any(all(any(s <= p <= s + slop for p in word_places) for word_places in places)
               for s in starts):
            docs.append(doc)
            scores.append(score)
    return docs, scores


def test_random_proximities_agree_with_whoosh_s_positions(tmp_path: Path) -> None:
    rng = random.Random(7)
    common = ["de", "la", "le", "et", "les", "union", "santé"]
    rare = ["africaine", "publique", "dakar", "armée", "sommet", "nord"]
    texts = [" ".join(rng.choice(common if rng.random() < 0.7 else rare)
                      for _ in range(rng.randrange(5, 300))) for _ in range(300)]
    with _indexed_texts(tmp_path, texts, "n") as opened:
        parser = make_parser(opened.schema)
        found = 0
        for _ in range(40):
            words = rng.sample(common + rare, rng.randrange(2, 4))
            slop = rng.randrange(1, 8)
            query = parse_query('"' + " ".join(words) + f'"~{slop}', parser).query
            assert query is not None
            for near in [q for q in query.leaves() if isinstance(q, Near)]:
                fast = MatchEngine(opened, {}).match(near)
                docs, scores = _near_in_whoosh(opened, near.fieldname, near.words, near.slop)
                assert fast.docs.tolist() == docs
                assert fast.scores.tolist() == pytest.approx(scores, rel=1e-9)
                found += bool(docs)
        assert found >= 20


def test_positions_of_documents_without_the_word_are_none(searcher: Searcher) -> None:
    leaf = searcher.reader().leaf_readers()[0][0]
    btext = searcher.schema["body"].to_bytes("pyongyang")
    holding = [d for d in range(leaf.doc_count_all())
               if d in set(leaf.postings("body", btext).all_ids())]
    others = [d for d in range(leaf.doc_count_all()) if d not in holding]
    owners, places = read_positions(leaf, "body", btext, others)
    assert owners.tolist() == [] and places.tolist() == []
    owners, places = read_positions(leaf, "body", btext, others + holding)
    assert set(owners.tolist()) == {len(others) + i for i in range(len(holding))}


def test_prefix_scores_as_whoosh_s_or_of_its_words(tmp_path: Path) -> None:
    rng = random.Random(3)
    words = ["santé", "sanitaire", "sanction", "sans", "union", "unique", "unis", "université",
             "de", "la", "publique", "dakar"]
    texts = [" ".join(rng.choice(words) for _ in range(rng.randrange(3, 80)))
             for _ in range(300)]
    with _indexed_texts(tmp_path, texts, "x") as opened:
        parser = make_parser(opened.schema)
        for text in ["san*", "uni*", "univ*", "dak*"]:
            query = parse_query(text, parser).query
            assert query is not None
            for prefix in [q for q in query.leaves() if isinstance(q, wq.Prefix)]:
                engine = MatchEngine(opened, {})
                fast = engine.match(prefix)
                words_of = engine.expand_prefix(prefix)
                slow = match_with_whoosh(words_of, opened)
                assert fast.docs.tolist() == slow.docs.tolist()
                assert fast.scores == pytest.approx(slow.scores, rel=1e-9)
                one_by_one = MatchEngine(opened, {}).match(words_of)
                assert fast.scores.tolist() == one_by_one.scores.tolist()
        assert len(MatchEngine(opened, {}).match(wq.Prefix("body_exact", "san"))) > 250
