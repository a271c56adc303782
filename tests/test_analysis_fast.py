"""The single-pass French analysis of full rebuilds gives exactly what Whoosh's chain gives."""

from __future__ import annotations

from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from archive.replica.corpus import Corpus
from indexer.analysis import french_analyzer, frequent_words
from indexer.schema import build_schema

SCHEMA = build_schema(frozenset({"arme", "coree", "nord", "kim", "jong", "un", "president"}))

# Words and marks that exercise every filter: elisions with all three apostrophes, compounds
# with all three hyphens, stop words inside and outside compounds, accents and ligatures,
# letters whose lowercase is longer (İ), digits, and punctuation between words.
PIECES = ["l'", "L’", "d'", "qu’", "jusqu'", "aujourd'hui", "s'", "n'", "Jong-un", "Jong‐il",
          "nord‑coréens", "-", "‐", "'", "’", "ʼ", "armée", "Armées", "ARMÉE", "Corée", "coree",
          "les", "un", "Un", "de", "cœur", "Œuvre", "İstanbul", "straße", "élection", "2024",
          "président", "Kim", "é", " ", " ", "\n", ",", ".", "«", "»", "_", "x", "États-Unis"]

texts = st.lists(st.sampled_from(PIECES) | st.text(max_size=4), max_size=40).map("".join)


def whoosh_postings(name: str, value: str) -> list[Any]:
    return sorted(SCHEMA[name].index(value))


def fast_postings(name: str, value: str) -> list[Any]:
    field = SCHEMA[name]
    fast = field.analyzer.fast_postings(field.format)
    assert fast is not None
    return sorted(fast(value))


@pytest.mark.parametrize("name", ["body", "title", "body_exact", "title_exact"])
@settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(value=texts)
def test_fast_postings_equal_whoosh_postings(name: str, value: str) -> None:
    assert fast_postings(name, value) == whoosh_postings(name, value)


@pytest.mark.parametrize("name", ["body", "title"])
@settings(max_examples=200, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(value=texts)
def test_word_pairs_after_the_fast_path_equal_whoosh_pairs(name: str, value: str) -> None:
    fast_postings(name, value)  # remembers the words, as Whoosh's chain does
    pairs = SCHEMA[f"{name}_pairs"]
    fast = pairs.analyzer.fast_postings(pairs.format)
    after_fast = sorted(fast(value))
    whoosh_postings(name, value)
    assert after_fast == sorted(pairs.index(value))


def test_fast_postings_equal_whoosh_postings_on_replica_articles() -> None:
    corpus = Corpus(size=120)
    bodies = [corpus.article(i).body for i in range(120)]
    schema = build_schema(frequent_words(bodies, 0.05))
    body, pairs = schema["body"], schema["body_pairs"]
    fast, fast_pairs = (field.analyzer.fast_postings(field.format) for field in (body, pairs))
    for text in bodies:
        quick = sorted(fast(text))
        quick_pairs = sorted(fast_pairs(text))
        assert quick == sorted(body.index(text))
        assert quick_pairs == sorted(pairs.index(text))


def test_accented_title_is_weighted_by_the_field_boost() -> None:
    [(term, frequency, weight, _)] = fast_postings("title", "l'Armée")
    assert (term, frequency, weight) == (b"arme", 1, SCHEMA["title"].format.field_boost)


@pytest.mark.parametrize("name", ["author", "spell", "categories", "id"])
def test_other_fields_have_no_fast_path(name: str) -> None:
    field = SCHEMA[name]
    fast = getattr(field.analyzer, "fast_postings", None)
    assert fast is None or fast(field.format) is None


def test_a_changed_chain_has_no_fast_path() -> None:
    unstemmed = french_analyzer(stem=False)
    assert unstemmed.fast_postings(SCHEMA["body"].format) is None


def test_exact_fields_keep_articles_stop_words_and_unstemmed_forms() -> None:
    words = [(term, frequency) for term, frequency, _, _ in
             fast_postings("body_exact", "Le porte-parole du Gouvernement, l’armée")]
    assert sorted(words) == [(b"armee", 1), (b"du", 1), (b"gouvernement", 1), (b"l'", 1),
                             (b"le", 1), (b"parole", 1), (b"porte", 1)]


def test_exact_positions_after_a_compound_and_an_elision_follow_whoosh() -> None:
    value = "Des nord-coréens dans l’armée russe, d'après Kim Jong-un et l'État-major."
    assert fast_postings("body_exact", value) == whoosh_postings("body_exact", value)
