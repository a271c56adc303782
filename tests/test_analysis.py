"""The French analysis: what readers type meets what journalists wrote (tokens and a real index)."""

from __future__ import annotations

import pickle
import re
import subprocess
import sys
from collections.abc import Iterator
from datetime import datetime
from pathlib import Path

import pytest
from whoosh import index
from whoosh.highlight import HtmlFormatter
from whoosh.index import Index
from whoosh.lang.snowball.french import FrenchStemmer
from whoosh.qparser import MultifieldParser, QueryParser

from indexer.analysis import (
    ELIDED_ARTICLES,
    FRENCH_STOP_WORDS,
    fold_accents,
    french_analyzer,
    snowball_french,
    spelling_analyzer,
)
from indexer.schema import build_schema

# The gold page that wraps the platform's real sample article (tests/gold/README.md).
SAMPLE = Path(__file__).parent / "gold" / "sample-twentytwenty.html"


def terms(text: str, *, stem: bool = True) -> list[str]:
    return [t.text for t in french_analyzer(stem=stem)(text)]


@pytest.mark.parametrize("form", ["l'armée", "l’armée", "armee", "armées", "ARMÉE", "L'ARMEE"])
def test_elided_article_matches_bare_noun(form: str) -> None:
    assert terms(form) == terms("armée")


@pytest.mark.parametrize("article", ELIDED_ARTICLES)
def test_every_elided_article_is_stripped_with_either_apostrophe(article: str) -> None:
    assert terms(f"{article}'avion") == terms("avion")
    assert terms(f"{article}’avion") == terms("avion")


def test_words_with_inner_apostrophes_stay_whole() -> None:
    assert terms("aujourd'hui") == ["aujourd'hui"]
    assert terms("aujourd’hui") == terms("aujourd'hui")
    assert terms("presqu'île") == terms("presqu’île") == ["presqu'il"]


@pytest.mark.parametrize("pair", [("Coree", "Corée"), ("COREE", "corée"), ("Seoul", "Séoul"),
                                  ("coeur", "cœur"), ("elections", "élections")])
def test_accents_do_not_matter(pair: tuple[str, str]) -> None:
    assert terms(pair[0]) == terms(pair[1])


def test_country_after_de_matches_bare_name() -> None:
    assert terms("d'Ukraine") == terms("Ukraine") == terms("d’Ukraine")


def test_singular_and_plural_meet() -> None:
    assert terms("élection") == terms("élections")
    assert terms("soldat") == terms("soldats")


@pytest.mark.parametrize("forms", [
    ("déclarer", "déclaré", "déclarée", "déclarés", "déclarées", "déclare", "déclarait",
     "déclarerait"),
    ("arriver", "arrivé", "arrivée", "arrivées", "arrivait"),
    ("créer", "créé", "créée", "créées"),
])
def test_verb_forms_meet(forms: tuple[str, ...]) -> None:
    assert len({tuple(terms(form)) for form in forms}) == 1


def test_feminine_endings_meet_the_masculine() -> None:
    assert terms("première") == terms("premier")
    assert terms("Coree") == terms("Corée")


def test_hyphenated_compound_splits_into_consecutive_positions() -> None:
    text = "Les renforts nord-coréens arrivent"
    tokens = [(t.text, t.pos, text[t.startchar:t.endchar])
              for t in french_analyzer()(text, positions=True, chars=True)]
    assert tokens == [("renfort", 0, "renforts"), ("nord", 1, "nord"),
                      ("coreen", 2, "coréens"), ("arrivent", 3, "arrivent")]


def test_stop_words_are_kept_inside_compounds_only() -> None:
    assert terms("Kim Jong-un") == ["kim", "jong", "un"]
    assert terms("Kim Jong-il") == ["kim", "jong", "il"]
    assert terms("un soldat") == terms("soldat")


@pytest.mark.parametrize("word", ["les", "ils", "elles", "cette", "ces", "aux", "été", "ete"])
def test_completed_stop_list_drops_common_words(word: str) -> None:
    assert word in FRENCH_STOP_WORDS
    assert terms(f"{word} soldat") == terms("soldat")


def test_removed_stop_words_leave_no_gap_in_positions() -> None:
    positions = [t.pos for t in french_analyzer()("la Corée du Nord", positions=True)]
    assert positions == [0, 1]


def test_offsets_of_elided_words_point_at_the_noun() -> None:
    text = "Selon l’armée russe"
    spans = [text[t.startchar:t.endchar] for t in french_analyzer()(text, chars=True)]
    assert spans == ["Selon", "armée", "russe"]


def test_unstemmed_analyzer_folds_but_keeps_endings() -> None:
    assert terms("Aïssatou N'Diaye", stem=False) == ["aissatou", "diaye"]
    assert terms("élections", stem=False) == ["elections"]


def test_spelling_analyzer_keeps_accents_and_drops_numbers() -> None:
    words = [t.text for t in spelling_analyzer()("L'armée nord-coréenne : 18 000 soldats à Séoul")]
    assert words == ["armée", "nord", "coréenne", "soldats", "séoul"]


def test_fold_accents_handles_ligatures() -> None:
    assert fold_accents("Œuvre à Sévaré, cœur") == "OEuvre a Sevare, coeur"


def _sample_words() -> list[str]:
    text = re.sub(r"<[^>]*>", " ", SAMPLE.read_text(encoding="utf-8"))
    text += " armées élections déclarèrent Corée nationalités soutiendraient"
    words = {w.lower() for w in re.findall(r"[^\W\d_]+", text)}
    return sorted(words | {fold_accents(w) for w in words})


def test_pystemmer_gives_whoosh_french_stems() -> None:
    whoosh_stemmer = FrenchStemmer()
    words = _sample_words()
    assert len(words) > 20
    assert [snowball_french(w) for w in words] == [whoosh_stemmer.stem(w) for w in words]


def test_analyzer_survives_pickling_as_in_the_index_toc() -> None:
    analyzer = french_analyzer()
    restored = pickle.loads(pickle.dumps(analyzer))
    assert restored == analyzer
    assert [t.text for t in restored("l'armée nord-coréenne")] == terms("l'armée nord-coréenne")


# ---- with a real index on disk


DOCS = {
    "1": ("L'armée nord-coréenne", "Le leader Kim Jong-un a salué l'armée. Des renforts "
          "nord-coréens déployés en Russie, aujourd'hui, selon Séoul."),
    "2": ("Kim Jong-il", "Kim Jong-il est mort en 2011. Les soldats sud-coréens patrouillent."),
    "3": ("Élections en Corée", "La Corée du Sud prépare les élections. Le candidat a déclaré "
          "sa victoire."),
    "4": ("Guerre d'Ukraine", "Le front d'Ukraine, les forces russes."),
    "5": ("Coree du Nord", "Un texte écrit sans accents: la Coree du Nord et son armee."),
}


@pytest.fixture(scope="module")
def tiny_index(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Index]:
    directory = tmp_path_factory.mktemp("analysis-index")
    ix = index.create_in(str(directory), build_schema())
    with ix.writer() as writer:
        for doc_id, (title, body) in DOCS.items():
            writer.add_document(id=doc_id, url=f"https://sn.notrecontinent.com/{doc_id}/",
                                title=title, body=body, author="Sophie Diop",
                                author_key="sophie diop", published=datetime(2025, 4, 30),
                                withdrawn=False, spell=f"{title}\n{body}")
    ix.close()
    reopened = index.open_dir(str(directory))
    yield reopened
    reopened.close()


def found(ix: Index, query: str, field: str = "body") -> list[str]:
    with ix.searcher() as searcher:
        parsed = QueryParser(field, ix.schema).parse(query)
        return sorted(hit["id"] for hit in searcher.search(parsed, limit=None))


@pytest.mark.parametrize(("query", "expected"), [
    ("armee", ["1", "5"]),
    ("l'armée", ["1", "5"]),
    ("armées", ["1", "5"]),
    ("Coree", ["3", "5"]),
    ("Corée", ["3", "5"]),
    ("Ukraine", ["4"]),
    ("élection", ["3"]),
    ("déclarer", ["3"]),
    ("aujourd’hui", ["1"]),
])
def test_reader_queries_meet_the_written_forms(tiny_index: Index, query: str,
                                               expected: list[str]) -> None:
    assert found(tiny_index, query) == expected


def test_phrase_with_hyphenated_name_does_not_match_a_sibling(tiny_index: Index) -> None:
    assert found(tiny_index, '"Kim Jong-un"') == ["1"]
    assert found(tiny_index, '"Kim Jong-il"') == ["2"]


def test_north_korean_does_not_match_south_korean(tiny_index: Index) -> None:
    assert found(tiny_index, "nord-coréens") == ["1"]
    assert found(tiny_index, "sud-coréens") == ["2"]


def test_phrases_match_with_or_without_the_hyphen(tiny_index: Index) -> None:
    assert found(tiny_index, '"renforts nord-coréens déployés"') == ["1"]
    assert found(tiny_index, '"renforts nord coréens déployés"') == ["1"]


def test_highlights_mark_the_original_accented_text(tiny_index: Index) -> None:
    with tiny_index.searcher() as searcher:
        parser = MultifieldParser(["title", "body"], tiny_index.schema)
        results = searcher.search(parser.parse('armee "nord coreenne"'), limit=None)
        results.formatter = HtmlFormatter(tagname="mark")
        hit = next(h for h in results if h["id"] == "1")
        title = re.sub(r"<mark[^>]*>", "<mark>", hit.highlights("title"))
        body = re.sub(r"<mark[^>]*>", "<mark>", hit.highlights("body", text=DOCS["1"][1]))
    assert "<mark>armée</mark> <mark>nord</mark>-<mark>coréenne</mark>" in title
    assert "salué l'<mark>armée</mark>" in body


def test_body_is_indexed_with_character_offsets_but_not_stored(tiny_index: Index) -> None:
    schema = tiny_index.schema
    assert schema["body"].format.supports("characters")
    assert schema["title"].format.supports("characters")
    assert not schema["body"].stored
    with tiny_index.searcher() as searcher:
        assert "body" not in searcher.stored_fields(0)


def test_author_field_finds_a_name_in_any_spelling(tiny_index: Index) -> None:
    assert found(tiny_index, "diop", field="author") == sorted(DOCS)
    assert found(tiny_index, "DIÓP", field="author") == sorted(DOCS)


def test_spelling_field_suggests_accented_words(tiny_index: Index) -> None:
    with tiny_index.searcher() as searcher:
        assert "corée" in searcher.corrector("spell").suggest("coréé")
        assert "séoul" in searcher.corrector("spell").suggest("séol")


def test_index_opens_in_a_process_that_never_imported_the_analyzer(tiny_index: Index) -> None:
    script = ("import sys; from whoosh import index; ix = index.open_dir(sys.argv[1]); "
              "s = ix.searcher(); print(s.doc_count()); s.close(); ix.close()")
    proc = subprocess.run([sys.executable, "-c", script, tiny_index.storage.folder],
                          capture_output=True, text=True, timeout=60)
    assert proc.returncode == 0, proc.stderr
    assert proc.stdout.strip() == str(len(DOCS))
