"""The numpy token scan finds the regex's tokens, groups equal ones, and never merges two."""

from __future__ import annotations

import re

import numpy as np
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from archive.replica.corpus import Corpus
from indexer import text_postings, token_scan
from indexer.analysis import TOKEN_PATTERN
from indexer.text_postings import TextPostings, field_kind
from indexer.token_scan import scan

# Joiners alone, doubled, at the ends and between other joiners; word characters of every
# kind \w takes (digits, underscore, letters of other scripts, combining marks, characters
# outside the BMP) and hostile ones (a lone surrogate, control and zero-width characters).
PIECES = ["l'", "L’", "qu’", "aujourd'hui", "Jong-un", "Jong‐il", "nord‑coréens", "-", "‐",
          "‑", "'", "’", "ʼ", "''", "-'", "a'-b", "x", "_", "2024", "١٢٣", "é", "e\u0301",
          "ﬁ", "Ǆ", "İ", "𝔘𝔫𝔦", "😀", "\ud800", "\udfff", "\x00", "\u200d", "\u200f", " ",
          "\n", "\t", ",", "«", "»", "anticonstitutionnellement"]

texts = st.lists(st.sampled_from(PIECES) | st.text(max_size=4), max_size=60).map("".join)


def regex_tokens(text: str) -> list[tuple[int, int]]:
    return [(found.start(), found.end()) for found in re.finditer(TOKEN_PATTERN, text)]


def tokens_of(text: str) -> list[str]:
    scanned = scan(text)
    assert scanned is not None
    return [scanned.distinct[which] for which in scanned.which.tolist()]


@settings(max_examples=400, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(text=texts)
def test_tokens_are_the_regex_s_with_equal_ones_grouped(text: str) -> None:
    scanned = scan(text)
    assert scanned is not None
    bounds = regex_tokens(text)
    assert list(zip(scanned.starts.tolist(), scanned.ends.tolist(), strict=True)) == bounds
    assert tokens_of(text) == [text[start:end] for start, end in bounds]
    # Each distinct token once, in the order it first occurs.
    assert scanned.distinct == list(dict.fromkeys(text[start:end] for start, end in bounds))


def test_every_code_point_is_classed_as_the_regex_classes_it() -> None:
    words = re.compile(r"\w")
    classes = token_scan._classes()
    sample = np.random.default_rng(7).integers(0, 0x110000, 20_000).tolist()
    for point in [*range(0x3000), *sample]:
        assert (classes[point] == 1) == bool(words.fullmatch(chr(point))), hex(point)


def test_replica_articles_give_the_regex_s_tokens() -> None:
    corpus = Corpus(size=60)
    text = "\n".join(corpus.article(i).body for i in range(60))
    assert tokens_of(text) == re.findall(TOKEN_PATTERN, text)


def test_a_text_without_tokens_has_none() -> None:
    for text in ["", " ", "\n\n", "- ' ’", "«»"]:
        scanned = scan(text)
        assert scanned is not None
        assert scanned.distinct == [] and len(scanned.starts) == 0 and len(scanned.which) == 0


def test_different_tokens_sharing_a_hash_are_refused(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(token_scan, "_hashes",
                        lambda points, starts, ends: np.zeros(len(starts), dtype=np.uint64))
    assert scan("la la la") is not None  # equal tokens: one group, rightly
    assert scan("le la") is None  # one group of different tokens: refused
    assert scan("ab ba") is None  # same size, same letters
    assert scan("la lac") is None  # same beginning


def test_postings_are_whoosh_s_when_every_hash_collides(monkeypatch: pytest.MonkeyPatch) -> None:
    """The regex's split takes over when two different tokens hash alike."""
    from indexer.schema import build_schema

    monkeypatch.setattr(token_scan, "_hashes",
                        lambda points, starts, ends: np.zeros(len(starts), dtype=np.uint64))
    monkeypatch.setattr(text_postings, "scan", token_scan.scan)
    schema = build_schema()
    corpus = Corpus(size=5)
    values = [corpus.article(i).body for i in range(5)]
    for name in ["body", "body_exact", "body_pairs", "body_exact_pairs"]:
        kind = field_kind(schema[name])
        assert kind is not None
        postings = TextPostings()
        batch = postings.postings(kind, values, {})
        for at, value in enumerate(values):
            mine = sorted((postings.term(kind, key), frequency) for key, frequency, doc in zip(
                batch.keys.tolist(), batch.frequencies.tolist(), batch.docs.tolist(),
                strict=True) if doc == at)
            theirs = sorted((term, frequency) for term, frequency, _, _ in
                            schema[name].index(value))
            assert mine == theirs, name


def test_long_texts_group_past_the_index_bits(monkeypatch: pytest.MonkeyPatch) -> None:
    """Texts of more tokens than the sort key's index bits hold are grouped by argsort."""
    monkeypatch.setattr(token_scan, "_INDEX_BITS", 3)
    monkeypatch.setattr(token_scan, "_INDEX_MASK", np.uint64(7))
    text = "un deux trois un quatre deux cinq six sept huit neuf un"
    assert tokens_of(text) == re.findall(TOKEN_PATTERN, text)
