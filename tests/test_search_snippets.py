"""Snippets of hits whose body the index saw without the searched words, or saw in another text."""

from __future__ import annotations

import random
from pathlib import Path

import pytest
from search_fixtures import SEEN, archive_and_index, article, service_for
from whoosh.analysis import Token

from archive.store import Archive
from indexer import snippets
from indexer.analysis import french_analyzer
from indexer.snippets import Highlighter


def _reanalyses(monkeypatch: pytest.MonkeyPatch) -> list[str]:
    """Record every body the highlighter analyses again (the slow path)."""
    seen: list[str] = []
    original = Highlighter._reanalysed

    def recording(self: Highlighter, body: str, terms: list[str]) -> str:
        seen.append(body)
        return original(self, body, terms)

    monkeypatch.setattr(Highlighter, "_reanalysed", recording)
    return seen


def test_title_only_match_shows_the_opening_lines_without_reanalysis(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    archive_and_index(tmp_path, [
        article("cholera", "Le choléra à Kaolack",
                "Les autorités sanitaires ont ouvert un centre."),
        article("autre", "Autre nouvelle", "Le choléra recule dans la région de Kaolack."),
    ])
    reanalysed = _reanalyses(monkeypatch)
    with service_for(tmp_path) as svc:
        hits = {hit.title: hit for hit in svc.search("choléra").hits}
    assert hits["Le choléra à Kaolack"].snippet == "Les autorités sanitaires ont ouvert un centre."
    assert hits["Le choléra à Kaolack"].title_html == "Le <mark>choléra</mark> à Kaolack"
    assert "<mark>choléra</mark>" in hits["Autre nouvelle"].snippet
    assert reanalysed == []


def test_body_changed_after_the_generation_is_marked_from_its_new_text(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    original = article("palu", "Paludisme : le point", "Rien de neuf cette semaine à Thiès.")
    archive_and_index(tmp_path, [original])
    edited = article("palu", "Paludisme : le point", "Le paludisme recule enfin à Thiès.")
    with Archive.open(tmp_path / "archive.sqlite3") as archive:
        archive.articles.save_article(edited, capture_id=None, seen_at=SEEN)
    reanalysed = _reanalyses(monkeypatch)
    with service_for(tmp_path) as svc:
        (hit,) = svc.search("paludisme").hits
    assert hit.snippet.startswith("Le <mark>paludisme</mark> recule enfin")
    assert reanalysed == [edited.body]


def test_titles_mark_every_form_of_the_word_where_the_index_places_it(tmp_path: Path) -> None:
    archive_and_index(tmp_path, [
        article("armees", "L'armée et les armées nord-coréennes <défilent>",
                "Un défilé à Pyongyang."),
        article("arme", "Une arme, deux Armées & un « armement »", "Rien d'autre."),
    ])
    with service_for(tmp_path) as svc:
        titles = {hit.title: hit.title_html for hit in svc.search("armée").hits}
    assert titles["L'armée et les armées nord-coréennes <défilent>"] == (
        "L'<mark>armée</mark> et les <mark>armées</mark> nord-coréennes &lt;défilent&gt;")
    assert titles["Une arme, deux Armées & un « armement »"] == (
        "Une <mark>arme</mark>, deux <mark>Armées</mark> &amp; un « armement »")


def test_offsets_fit_only_where_the_text_still_holds_the_word_however_often_asked() -> None:
    highlighter = Highlighter(french_analyzer())
    token = Token(text="arme", pos=1, startchar=4, endchar=10, matched=True)
    for _ in range(3):  # the second time and after, the piece's analysis is remembered
        assert highlighter._fits("Les armées défilent", [token])
        assert not highlighter._fits("Les dîners défilent", [token])
        assert not highlighter._fits("Les armes", [token])


def test_only_the_titles_the_index_lists_for_the_word_are_analysed_and_marked_the_same(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    # Two segments; the word in some titles (inflected, elided, in a compound) and in the
    # bodies of others: the index names the titles holding it, only those are analysed, and
    # every title is marked as when all are analysed.
    first = [article(f"a{n}", title, "Un texte sur le barrage de Kandadji.")
             for n, title in enumerate(["Le barrage de Kandadji", "Des barrages en crue",
                                        "L'autre chantier", "Anti-barrage : la colère",
                                        "Rien à voir"])]
    second = [article(f"b{n}", title, "Les barrages du fleuve.")
              for n, title in enumerate(["Un barrage neuf", "Une route", "La digue"])]
    archive_and_index(tmp_path, first)
    archive_and_index(tmp_path, second)
    analysed: list[str] = []
    matched = Highlighter._matched

    def recording(self: Highlighter, text: str, terms: frozenset[str]) -> list[Token]:
        analysed.append(text)
        return matched(self, text, terms)

    monkeypatch.setattr(Highlighter, "_matched", recording)
    with service_for(tmp_path) as svc:
        assert svc.info().doc_count == 8
        by_index = {hit.title: hit.title_html for hit in svc.search("barrage").hits}
        assert sorted(analysed) == sorted(["Le barrage de Kandadji", "Des barrages en crue",
                                           "Anti-barrage : la colère", "Un barrage neuf"])
    monkeypatch.setattr(snippets, "_title_holders", lambda *args: None)
    analysed.clear()
    with service_for(tmp_path) as svc:  # a new service: its own cache of results
        every_title = {hit.title: hit.title_html for hit in svc.search("barrage").hits}
        assert len(analysed) == 8
    assert by_index == every_title
    assert by_index["Anti-barrage : la colère"] == "Anti-<mark>barrage</mark> : la colère"
    assert by_index["Une route"] == "Une route"


def _whoosh_snippet(text: str, words: list[tuple[int, int]]) -> str:
    """The snippet Whoosh's own fragmenter and formatter make of WORDS in TEXT."""
    from whoosh.highlight import PinpointFragmenter

    tokens = [Token(text="w", startchar=start, endchar=end, matched=True)
              for start, end in words]
    fragments = PinpointFragmenter(maxchars=snippets.SNIPPET_CHARS, surround=snippets._SURROUND,
                                   autotrim=True).fragment_matches(text, tokens)
    best = sorted(fragments, key=lambda f: (-len(f.matches), f.startchar))[:2]
    if not best:
        return ""
    best.sort(key=lambda f: f.startchar)
    formatted = str(snippets.MarkFormatter().format(best))
    if best[0].startchar > 0:
        formatted = f"… {formatted}"
    if best[-1].endchar < len(text):
        formatted = f"{formatted} …"
    return formatted


def test_snippets_are_cut_and_marked_as_whoosh_s_fragmenter_and_formatter_do() -> None:
    # Texts of every size (past the 32,768 characters Whoosh's fragmenter looks at), words
    # overlapping, touching, starting together, near and far, markup to escape.
    from whoosh.highlight import Fragment

    rng = random.Random(14)
    for _ in range(3000):
        size = rng.choice([0, 1, 40, 250, 1200, 40_000])
        text = "".join(rng.choice("ab <&>é  xyz") for _ in range(size))
        starts = [rng.randrange(size) for _ in range(rng.randrange(12))] if size else []
        spans = sorted(((start, min(size, start + rng.randrange(0, 12))) for start in starts),
                       key=lambda span: span[0])
        words = [snippets.Word("w", start, end) for start, end in spans]
        assert snippets._format(text, snippets._pinpoint_fragments(text, words)) == \
            _whoosh_snippet(text, spans)
        if words:  # a title: one fragment, the whole text
            tokens = [Token(text="w", startchar=s, endchar=e, matched=True) for s, e in spans]
            assert snippets._marked(text, [snippets._Fragment(words, 0, size)]) == str(
                snippets.MarkFormatter().format([Fragment(text, tokens, 0, size)]))


def test_title_words_the_generation_holds_whole_are_not_read_again(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    # The search read « barrage »'s title list whole and kept it: the page's titles holding
    # it are found in that list, without a read, the same as from the segments.
    archive_and_index(tmp_path, [article(f"a{n}", title, "Un texte sur le barrage.")
                                 for n, title in enumerate(["Le barrage de Kandadji",
                                                            "Une route", "Des barrages"])])
    archive_and_index(tmp_path, [article("b", "Un barrage neuf", "Les barrages du fleuve."),
                                 article("c", "La digue", "Les barrages du fleuve.")])
    from indexer.matches import PostingsCache

    with service_for(tmp_path) as svc:
        searcher, generation = svc._generations.acquire()
        analyzer = searcher.schema["title"].analyzer
        docnums = list(range(searcher.doc_count_all()))
        from_segments = snippets._title_holders(searcher, analyzer, ["barrag"], docnums)
        assert from_segments is not None and len(from_segments) == 3
        svc.search("barrage")
        assert generation.postings.holds(("title", b"barrag"))

        def no_read(*args: object) -> None:
            raise AssertionError("read again")

        monkeypatch.setattr(snippets, "read_postings", no_read)
        assert snippets._title_holders(searcher, analyzer, ["barrag"], docnums,
                                       generation.postings) == from_segments
        assert snippets._title_holders(searcher, analyzer, ["barrag"], docnums[:2],
                                       generation.postings) == from_segments & {0, 1}
        with pytest.raises(AssertionError):  # without the cache, the segments are read
            snippets._title_holders(searcher, analyzer, ["barrag"], docnums, PostingsCache())
