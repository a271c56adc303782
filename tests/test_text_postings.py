"""The bulk writer's postings, a text at a time, are exactly what Whoosh's chains give."""

from __future__ import annotations

from typing import Any

import numpy as np
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from archive.replica.corpus import Corpus
from indexer import text_postings
from indexer.analysis import frequent_words
from indexer.schema import build_schema
from indexer.text_postings import TextPostings, field_kind, frequent_text_words

PAIR_WORDS = frozenset({"arme", "coree", "nord", "kim", "jong", "un", "president", "etat"})
EXACT_PAIR_WORDS = frozenset({"l'", "la", "de", "armee", "nord", "coreens", "kim", "jong"})
SCHEMA = build_schema(PAIR_WORDS, EXACT_PAIR_WORDS)
ALL_PAIRS = build_schema()  # every pair indexed
FIELDS = ["title", "body", "earlier", "title_exact", "body_exact", "earlier_exact",
          "title_pairs", "body_pairs", "title_exact_pairs", "body_exact_pairs", "spell"]

# Words and marks that exercise every filter: elisions with all three apostrophes, compounds
# with all three hyphens, stop words inside and outside compounds, accents and ligatures,
# letters whose lowercase is longer (İ), digits, long words, and hostile characters (control
# characters, a lone surrogate, zero-width joiner and non-joiner, right-to-left marks).
PIECES = ["l'", "L’", "d'", "qu’", "jusqu'", "aujourd'hui", "s'", "n'", "Jong-un", "Jong‐il",
          "nord‑coréens", "-", "‐", "'", "’", "ʼ", "armée", "Armées", "ARMÉE", "Corée", "coree",
          "les", "un", "Un", "de", "la", "cœur", "Œuvre", "İstanbul", "straße", "élection",
          "2024", "président", "Kim", "é", " ", " ", "\n", ",", ".", "«", "»", "_", "x",
          "États-Unis", "l'État-major", "anticonstitutionnellement" * 3, "\x00", "\x1f",
          "\ud800", "\u200d", "\u200c", "\u200f", "\u202e", "ﬁ", "Ǆ", "١٢٣"]

texts = st.lists(st.sampled_from(PIECES) | st.text(max_size=4), max_size=40).map("".join)


def whoosh_postings(schema: Any, name: str, value: str) -> list[Any]:
    return sorted(schema[name].index(value))


def fast_postings(schema: Any, name: str, value: str,
                  postings: TextPostings | None = None) -> list[Any]:
    """The postings TextPostings makes for VALUE in field NAME, as Whoosh's tuples."""
    field = schema[name]
    kind = field_kind(field)
    assert kind is not None, name
    postings = postings or TextPostings()
    batch = postings.postings(kind, [value], {})
    ends = np.cumsum(batch.sizes).tolist()
    starts = [0, *ends][:len(ends)]
    assert batch.docs.tolist() == [0] * len(batch.keys)
    assert batch.lengths.tolist() == [int(batch.frequencies.sum())]
    return sorted(zip([postings.term(kind, key) for key in batch.keys.tolist()],
                      batch.frequencies.tolist(), batch.weights.tolist(),
                      [batch.values[start:end] for start, end in zip(starts, ends, strict=True)],
                      strict=True))


@pytest.mark.parametrize("name", FIELDS)
@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(value=texts)
def test_postings_of_each_field_equal_whoosh_postings(name: str, value: str) -> None:
    assert fast_postings(SCHEMA, name, value) == whoosh_postings(SCHEMA, name, value)


def batch_postings(schema: Any, name: str, values: list[str],
                   postings: TextPostings | None = None) -> list[list[Any]]:
    """The postings TextPostings makes for VALUES at once in field NAME, per document."""
    kind = field_kind(schema[name])
    assert kind is not None, name
    postings = postings or TextPostings()
    batch = postings.postings(kind, values, {})
    assert np.all(np.diff(batch.docs) >= 0)  # document after document
    ends = np.cumsum(batch.sizes).tolist()
    starts = [0, *ends][:len(ends)]
    found: list[list[Any]] = [[] for _ in values]
    for doc, key, frequency, weight, start, end in zip(
            batch.docs.tolist(), batch.keys.tolist(), batch.frequencies.tolist(),
            batch.weights.tolist(), starts, ends, strict=True):
        found[doc].append((postings.term(kind, key), frequency, weight, batch.values[start:end]))
    assert batch.lengths.tolist() == [sum(p[1] for p in postings_) for postings_ in found]
    return [sorted(postings_) for postings_ in found]


@pytest.mark.parametrize("name", FIELDS)
@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(values=st.lists(texts, min_size=1, max_size=6))
def test_a_batch_of_texts_gives_each_text_whoosh_s_postings(name: str,
                                                             values: list[str]) -> None:
    # Texts side by side: no word, pair or offset runs from one into the next.
    assert batch_postings(SCHEMA, name, values) == [whoosh_postings(SCHEMA, name, value)
                                                    for value in values]


def test_a_batch_of_articles_gives_each_whoosh_s_postings() -> None:
    corpus = Corpus(size=40)
    bodies = [corpus.article(i).body for i in range(40)]
    bodies[3:5] = ["", "l'armée d’État-major l'"]  # an empty text, one ending in an elision
    schema = build_schema(frequent_words(bodies, 0.05), frequent_words(bodies, 0.3, exact=True))
    postings = TextPostings()  # one writer's tables, batch after batch
    for first in (0, 16, 37):
        batch = bodies[first:first + 16]
        for name in ("body", "body_exact", "body_pairs", "body_exact_pairs", "spell"):
            assert batch_postings(schema, name, batch, postings) == [
                whoosh_postings(schema, name, value) for value in batch]


@pytest.mark.parametrize("name", ["title_pairs", "body_exact_pairs"])
@settings(max_examples=100, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(value=texts)
def test_pair_fields_without_a_word_list_pair_every_word(name: str, value: str) -> None:
    assert fast_postings(ALL_PAIRS, name, value) == whoosh_postings(ALL_PAIRS, name, value)


def test_one_writer_s_tables_give_whoosh_s_postings_text_after_text() -> None:
    corpus = Corpus(size=150)
    bodies = [corpus.article(i).body for i in range(150)]
    schema = build_schema(frequent_words(bodies, 0.02), frequent_words(bodies, 0.2, exact=True))
    postings = TextPostings()  # its tables fill up as the texts go
    for text in bodies:
        for name in ("body", "body_exact", "body_pairs", "body_exact_pairs", "spell"):
            assert fast_postings(schema, name, text, postings) == whoosh_postings(
                schema, name, text)


def test_token_table_starting_again_keeps_the_postings_right(
        monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(text_postings, "TOKEN_TABLE_LIMIT", 5)
    postings = TextPostings()
    for value in ("Kim Jong-un et l'armée", "la Corée du Nord", "l'armée de Kim Jong-un"):
        for name in ("body", "body_exact", "body_pairs", "spell"):
            assert fast_postings(SCHEMA, name, value, postings) == whoosh_postings(
                SCHEMA, name, value)


def test_title_weights_carry_the_field_boost() -> None:
    [(term, frequency, weight, _)] = fast_postings(SCHEMA, "title", "l'Armée")
    assert (term, frequency, weight) == (b"arme", 1, SCHEMA["title"].format.field_boost)


def test_exact_fields_keep_articles_stop_words_and_unstemmed_forms() -> None:
    words = [(term, frequency) for term, frequency, _, _ in
             fast_postings(SCHEMA, "body_exact", "Le porte-parole du Gouvernement, l’armée")]
    assert sorted(words) == [(b"armee", 1), (b"du", 1), (b"gouvernement", 1), (b"l'", 1),
                             (b"le", 1), (b"parole", 1), (b"porte", 1)]


def test_exact_positions_after_a_compound_and_an_elision_follow_whoosh() -> None:
    value = "Des nord-coréens dans l’armée russe, d'après Kim Jong-un et l'État-major."
    assert fast_postings(SCHEMA, "body_exact", value) == whoosh_postings(
        SCHEMA, "body_exact", value)


@pytest.mark.parametrize("name", ["author", "categories", "id", "edition", "published"])
def test_other_fields_keep_whoosh_s_own_analysis(name: str) -> None:
    assert field_kind(SCHEMA[name]) is None


def test_far_positions_and_offsets_are_encoded_as_the_format_encodes_them() -> None:
    # Past 2**14 characters and 128 positions: values of two and three varint bytes.
    value = " ".join(["Corée", *(["mot"] * 300), "x" * 150, *(["nord"] * 9000), "Corée l'armée"])
    for name in ("body", "body_exact", "body_exact_pairs"):
        assert fast_postings(ALL_PAIRS, name, value) == whoosh_postings(ALL_PAIRS, name, value)


def test_frequent_words_of_a_token_table_are_whoosh_s_for_both_chains() -> None:
    corpus = Corpus(size=200)
    bodies = [corpus.article(i).body for i in range(200)]
    # Texts without words, of stop words only, elisions and compounds, other scripts, a
    # long one: each counts as a text, with its words once however often they occur.
    bodies += ["", "   ", "« — »", "le la les de du", "l'armée d’État-major l'armée",
               "Ελλάδα 北京 ١٢٣ Москва", "Corée du Nord " * 2000, "de la Corée", "Kim Jong-un"]
    for share, exact_share in ((0.02, 0.2), (0.3, 0.01), (0.9, 0.9)):
        assert frequent_text_words(bodies, share, exact_share) == (
            frequent_words(bodies, share), frequent_words(bodies, exact_share, exact=True))


@settings(max_examples=100, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(values=st.lists(texts, max_size=8))
def test_frequent_words_of_any_texts_are_whoosh_s(values: list[str]) -> None:
    assert frequent_text_words(values, 0.25, 0.5) == (
        frequent_words(values, 0.25), frequent_words(values, 0.5, exact=True))


def test_no_texts_have_no_frequent_words() -> None:
    assert frequent_text_words([], 0.02, 0.2) == (frozenset(), frozenset())
