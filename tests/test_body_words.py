"""A prefix's page marked from its bodies' own text is the page marked from the index's offsets.

``body_words.places_in_texts`` finds the places of many words in texts by analysing only the
tokens that may hold one of them (a part starting with one of the words' first two letters);
``snippets`` uses it for the bodies unchanged since the index generation when a query stands
for many words (a prefix), and for the titles it analyses. Over a real index of two segments
with an article edited since the build, one holding an overlong word and one of elisions,
compounds, capitals and ligatures: every page of every prefix is the one the index's offsets
give, and the places found in a text are the French chain's, whatever the words.
"""

from __future__ import annotations

import random
from collections.abc import Iterator
from datetime import date
from pathlib import Path
from typing import Any

import pytest
from search_fixtures import (
    SEEN,
    archive_and_index,
    article,
    replica_articles,
    service_for,
)
from whoosh.analysis import StandardAnalyzer

from archive.store import Archive
from indexer import body_words, snippets
from indexer.analysis import exact_analyzer, french_analyzer, stem_french
from indexer.body_words import analyses_as_texts, places_in_texts, reads_texts
from indexer.search import SearchService

_TRICKY = ("L’Conseil et dʼconcert : la CONSTRUCTION anti-contrebande a conquis Çonstantine, "
           "l'œuvre des contre-pouvoirs, qu’ils consolident ; conseils, conseillers, "
           "CONSEILLÈRES, conçue, concertés. Ils vont payer, essayer, s'ennuyer, "
           "aux yeux des aïeux, à Coyah et Conakry. Zorbal, l’zorbec et anti-zorbic ; ZORBOD, "
           "zorbu, zorcal, zordel, Zorfin, zorgal, zorhal, zorial, zorjal. Ayissement, aidons, "
           "aigus, ailier, aimant, aisance, aiguille, aiglon, aînesse, airain.")
_NEWEST = date(2030, 1, 1)
# Invented words of one prefix ("zor"), all in the articles made here: its pages are theirs.
_PREFIXES = ("zor*", "ai*", "con*", "co*", "pro*", "pa*", "de*", "re*", "ma*", "cons*")


@pytest.fixture(scope="module")
def data(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """An archive and an index of two segments; an article edited since the build."""
    root = tmp_path_factory.mktemp("body-words")
    items = replica_articles(260)
    # The newest: the first hits by date of the prefixes they hold.
    items.append(article("tricky", "Conseil : les contre-pouvoirs consolidés", _TRICKY,
                         published=_NEWEST))
    items.append(article("overlong", "Concert géant", "Le zorbal " + "x" * 240 + " zorcal"
                         " la zorfin.", published=_NEWEST))
    archive_and_index(root, items[:200])
    archive_and_index(root, items[200:])
    edited = article("tricky", "Conseil : les contre-pouvoirs consolidés",
                     "Tout autre texte, où le zorbal zorcal se contredit.", published=_NEWEST)
    with Archive.open(root / "archive.sqlite3") as archive:
        archive.articles.save_article(edited, capture_id=None, seen_at=SEEN)
    return root


def _pages(service: SearchService) -> list[Any]:
    pages = []
    for prefix in _PREFIXES:
        for sort, page in (("relevance", 1), ("relevance", 2), ("date", 1), ("date", 3)):
            result = service.search(prefix, sort=sort, page=page)
            pages.append([(hit.id, hit.snippet, hit.title_html) for hit in result.hits])
    return pages


@pytest.fixture()
def texts_read(monkeypatch: pytest.MonkeyPatch) -> Iterator[list[dict[int, Any]]]:
    """Record what each call of ``places_in_texts`` found."""
    found: list[dict[int, Any]] = []
    original = body_words.places_in_texts

    def recording(texts: Any, words: Any) -> dict[int, Any]:
        result = original(texts, words)
        found.append(result)
        return result

    monkeypatch.setattr(snippets, "places_in_texts", recording)
    yield found


def test_a_prefix_s_pages_marked_from_their_text_are_those_of_the_index_s_offsets(
        data: Path, monkeypatch: pytest.MonkeyPatch, texts_read: list[dict[int, Any]]) -> None:
    asked: list[list[int]] = []
    offsets = snippets._offsets

    def recording(searcher: Any, field: str, terms: Any, docnums: list[int]) -> Any:
        asked.append(list(docnums))
        return offsets(searcher, field, terms, docnums)

    monkeypatch.setattr(snippets, "_offsets", recording)
    with service_for(data) as service:
        from_texts = _pages(service)
    assert sum(len(page) for page in from_texts) >= 100
    read = [places for found in texts_read for places in found.values() if places is not None]
    assert sum(1 for places in read if places) > 50  # bodies and titles marked from their text
    # The edited article and the one with an overlong word: their offsets read from the index.
    assert any(None in found.values() for found in texts_read)
    assert any(docs for docs in asked)
    monkeypatch.setattr(snippets, "_TEXT_WORDS", 10**9)
    texts_read.clear()
    with service_for(data) as service:
        from_index = _pages(service)
    assert texts_read == []
    assert from_texts == from_index


def test_the_places_found_in_a_text_are_the_french_chain_s_for_any_words() -> None:
    analyzer = french_analyzer()
    rng = random.Random(7)
    pieces = _TRICKY.split() + ["Ynés", "YEUX", "ayons", "Œdipe", "æther", "İstanbul", "a",
                                "y", "x" * 30, "porte-parole", "jusqu’à", "aujourd'hui",
                                "Ayissement", "l’oyissement"]  # stems "ai", "oi"
    for round_ in range(200):
        text = " ".join(rng.choice(pieces) for _ in range(rng.randrange(1, 40)))
        tokens = [(t.text, t.startchar, t.endchar)
                  for t in analyzer(text, chars=True, positions=True, mode="index")]
        stems = sorted({word for word, _, _ in tokens})
        # All of the text's words, a few, those sharing a first letter, and absent ones.
        for words in (set(stems), set(rng.sample(stems, min(3, len(stems)))),
                      {w for w in stems if w[:1] == rng.choice(stems)[:1]},
                      {"zzz", "coi", "pai", "ai", "oi"}):
            expected = [token for token in tokens if token[0] in words]
            assert places_in_texts({round_: text}, words) == {round_: expected}, (text, words)


def test_several_texts_are_read_apart_and_a_text_the_index_cut_is_left_to_it() -> None:
    texts = {4: "Le conseil", 9: "", 2: "conseils-" + "y" * 205 + " du conseil", 5: "CONSEIL’"}
    assert places_in_texts(texts, {"conseil"}) == {
        4: [("conseil", 3, 10)], 9: [], 2: None, 5: [("conseil", 0, 7)]}
    assert places_in_texts({1: "conseil"}, set()) == {1: []}


def test_a_stem_starts_with_its_word_s_first_two_letters_but_for_a_final_y(data: Path) -> None:
    # What the filter rests on: Snowball changes no letter before the third, but a final
    # ``y`` made ``i`` (``payer``: ``pai``). Every word of a real index, and tricky ones.
    with service_for(data) as service:
        searcher, _ = service._generations.acquire()
        words = {bytes(word).decode() for leaf, _ in searcher.reader().leaf_readers()
                 for word in leaf.lexicon("body_exact")}
    words |= {"payer", "ayer", "chevaux", "yeux", "ayant", "oeuvre", "aieux", "essayer",
              "ennuyer", "aux", "eaux", "ions", "ete", "ils", "a", "y", "ay", "oyer",
              "ayissement"}
    assert len(words) > 1000
    for word in words:
        for part in word.replace("'", "-").split("-"):
            stem = stem_french(part)
            assert stem[:2] == part[:2] or (len(stem) > 1 and stem[1] == "i"
                                            and part[1] == "y") or len(stem) < 2, (part, stem)


def test_only_the_french_chain_with_offsets_is_read_from_texts(data: Path) -> None:
    assert analyses_as_texts(french_analyzer())
    assert not analyses_as_texts(exact_analyzer())
    assert not analyses_as_texts(StandardAnalyzer())
    assert not analyses_as_texts(french_analyzer(stem=False))
    with service_for(data) as service:
        searcher, _ = service._generations.acquire()
        assert reads_texts(searcher.schema["body"])
        assert not reads_texts(searcher.schema["title_exact"])
    assert body_words._analyzers  # remembered
