"""The reader's query language: French operators, fields, and no input that raises."""

from __future__ import annotations

import re

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from whoosh import query as wq

from indexer.query import (
    MAX_QUERY_CHARS,
    _plain_words,
    _prefer_typed_forms,
    clean_query_text,
    make_parser,
    parse_query,
)
from indexer.schema import build_schema


@pytest.fixture(scope="module")
def parser():  # type: ignore[no-untyped-def]
    return make_parser(build_schema())


def _terms(query: wq.Query) -> set[tuple[str, str]]:
    return {(field, text) for field, text in query.iter_all_terms()}


def _stem(word: str) -> str:
    """The index form of WORD, as the schema's analyzer makes it."""
    (token,) = [t.text for t in build_schema()["body"].analyzer(word)]
    return token


def test_words_are_anded_across_title_and_body(parser) -> None:
    parsed = parse_query("armée russe", parser)
    assert isinstance(parsed.query, wq.And)
    armee, russe = _stem("armée"), _stem("russe")
    assert _terms(parsed.query) == {("title", armee), ("body", armee),
                                    ("title", russe), ("body", russe),
                                    ("title_exact", "armee"), ("body_exact", "armee"),
                                    ("title_exact", "russe"), ("body_exact", "russe")}


@pytest.mark.parametrize("operator", ["OU", "OR"])
def test_ou_and_or_make_alternatives(parser, operator: str) -> None:
    parsed = parse_query(f"armée {operator} Corée", parser)
    assert isinstance(parsed.query, wq.Or)
    assert ("body", _stem("Corée")) in _terms(parsed.query)


@pytest.mark.parametrize("text", ["armée SAUF Corée", "armée NOT Corée", "armée -Corée",
                                  "armée AND NOT Corée"])
def test_exclusions_exclude(parser, text: str) -> None:
    parsed = parse_query(text, parser)
    assert parsed.query is not None
    assert "NOT" in str(parsed.query)
    assert ("body", _stem("armée")) in _terms(parsed.query)


def test_lower_case_operators_are_plain_words(parser) -> None:
    parsed = parse_query("armée ou corée", parser)
    assert isinstance(parsed.query, wq.And)


def test_plus_prefix_keeps_every_word_required(parser) -> None:
    parsed = parse_query("armée +russe", parser)
    assert str(parsed.query) == str(parse_query("armée russe", parser).query)


def test_hyphenated_name_is_searched_as_a_phrase(parser) -> None:
    parsed = parse_query("nord-coréens", parser)
    phrases = [q for q in parsed.query.leaves() if isinstance(q, wq.Phrase)]
    assert phrases and phrases[0].words == [_stem("nord"), _stem("coréens")]


def test_french_quotes_make_a_phrase(parser) -> None:
    parsed = parse_query("«Kim Jong-un»", parser)
    phrases = [q for q in parsed.query.leaves() if isinstance(q, wq.Phrase)]
    assert phrases and len(phrases[0].words) == 3


@pytest.mark.parametrize(("typed", "field"), [("titre:élections", "title"),
                                              ("Titre : élections", "title"),
                                              ("auteur:Diop", "author")])
def test_french_field_names(parser, typed: str, field: str) -> None:
    parsed = parse_query(typed, parser)
    assert {f.removesuffix("_exact") for f, _ in _terms(parsed.query)} == {field}


def test_other_field_names_are_plain_text(parser) -> None:
    parsed = parse_query("published:2024 url:armée", parser)
    fields = {f for f, _ in _terms(parsed.query)}
    assert fields == {"title", "body", "title_exact", "body_exact"}


@pytest.mark.parametrize("text", ["a*", "*e*", "armée~2", "[a TO z]", "armée^3"])
def test_wildcards_ranges_fuzzy_and_boosts_are_not_syntax(parser, text: str) -> None:
    parsed = parse_query(text, parser)
    if parsed.query is not None:
        assert all(isinstance(q, wq.Term) for q in parsed.query.leaves())


def test_stop_words_only_gives_a_message(parser) -> None:
    parsed = parse_query("le la les", parser)
    assert parsed.query is None
    assert parsed.message and "aucun mot" in parsed.message


def test_only_exclusions_give_a_message(parser) -> None:
    parsed = parse_query("SAUF corée", parser)
    assert parsed.query is None and parsed.message


def test_long_query_is_cut_with_a_message(parser) -> None:
    parsed = parse_query("armée " * 2000, parser)
    assert len(parsed.text) <= MAX_QUERY_CHARS
    assert parsed.message and "raccourcie" in parsed.message


def test_control_characters_are_removed() -> None:
    cleaned, _ = clean_query_text("arm\x00ée\x1b[31m \u200b russe")
    assert "\x00" not in cleaned and "\x1b" not in cleaned


@pytest.mark.parametrize("text", ['"unclosed phrase', "(armée OU", "armée)", ":", "titre:",
                                  "a:b:c", ")))(((", '""', "\x00\x01", "é" * 10_000, "OR OR",
                                  "NOT", "-", "+", "titre:(armée OU", 'auteur:"x'])
def test_malformed_input_never_raises(parser, text: str) -> None:
    parsed = parse_query(text, parser)
    assert parsed.query is not None or parsed.message is not None or parsed.text == ""


@settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(st.text(alphabet=st.characters(blacklist_categories=("Cs",)), max_size=300)
       | st.lists(st.sampled_from(['"', "(", ")", ":", "-", "+", "*", "OU", "SAUF", "NOT",
                                   "titre:", "auteur:", "armée", "l'", " ", "«", "^", "~"]),
                  max_size=30).map("".join))
def test_any_text_parses_without_exception(text: str) -> None:
    parser = _shared_parser()
    parsed = parse_query(text, parser)
    assert isinstance(parsed.text, str)


_PARSER = []


def _shared_parser():  # type: ignore[no-untyped-def]
    if not _PARSER:
        _PARSER.append(make_parser(build_schema()))
    return _PARSER[0]


@settings(max_examples=200, deadline=None)
@given(st.lists(st.sampled_from(["armée", "l'armée", "Corée", "le", "OU", "ET", "russe",
                                 "aujourd'hui", "2024", "élections", "é", "x", "NOT", "Sénégal",
                                 "d’Ukraine", "1er", "ça"]), min_size=1, max_size=6)
       .map(" ".join))
def test_plain_words_shortcut_builds_the_parsers_query(text: str) -> None:
    parser = _shared_parser()
    shortcut = _plain_words(text, parser)
    if shortcut is not None:
        parsed = _prefer_typed_forms(parser.parse(text), text, parser.schema)
        # Already normalized: parse_query does not normalize it again.
        assert shortcut == shortcut.normalize()
        assert str(shortcut) == str(parsed.normalize())


@settings(max_examples=300, deadline=None)
@given(st.text(alphabet=st.characters(blacklist_categories=("Cs",)), max_size=40)
       | st.lists(st.sampled_from(["armée", "Corée", "2024", "²", "x", "OU", " ", "  ", "\t",
                                   "\u00a0", "\u200b", "_", "-", "'", ":", '"', "*", "e\u0301",
                                   "ﬁ", "Ⅻ", "日本"]), max_size=12).map("".join)
       | st.text(alphabet="ab ", min_size=495, max_size=505))
def test_plain_text_is_cleaned_as_every_step_cleans_it(text: str) -> None:
    # Words of letters and digits between single spaces skip the cleaning steps: they would
    # leave such a text as it is. Any text is cleaned the same as by every step.
    import indexer.query as query_module

    shortcut = clean_query_text(text)
    plain = query_module._PLAIN_TEXT
    try:
        query_module._PLAIN_TEXT = re.compile(r"(?!)")
        assert clean_query_text(text) == shortcut
    finally:
        query_module._PLAIN_TEXT = plain


def test_plain_text_takes_the_shortcut() -> None:
    import indexer.query as query_module

    assert query_module._PLAIN_TEXT.fullmatch("armée russe 2024")
    assert not query_module._PLAIN_TEXT.fullmatch("armée  russe")
    assert not query_module._PLAIN_TEXT.fullmatch("nord-coréen")
