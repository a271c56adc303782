"""Relevance of the journalist's searches: exact wording in quotes, prefixes, proximity, names.

Inside quotes, words match as written (only case and accents are optional), so a quotation
can be checked; without quotes search stays stemmed, but the form as typed ranks first.
A small archive of hand-written articles goes through the real store and the real indexer.
"""

from __future__ import annotations

from collections.abc import Iterator
from datetime import date

import pytest
from search_fixtures import archive_and_index, article, service_for

from indexer.search import SearchService

ARTICLES = [
    article("porte-parole", "Démenti officiel",
            "Le porte-parole du gouvernement a démenti hier toute hausse des prix.",
            author="Éric N'Guessan", published=date(2024, 5, 2), edition="ci"),
    article("gouverne", "Une réponse inattendue",
            "Le porte-parole du gouverné a répondu aux questions des habitants.",
            published=date(2024, 5, 3)),
    article("gouvernes", "Une ville qui se parle",
            "Ceux qui décident et les gouvernés se parlent enfin dans la ville.",
            published=date(2024, 5, 4)),
    article("gouvernement-budget", "Le budget voté",
            "Le gouvernement a fait voter son budget dans la ville sans débat.",
            published=date(2024, 5, 1)),
    article("marches", "Jour de marché",
            "Le marché couvert et les marchés du port ouvrent tôt.",
            published=date(2023, 3, 1)),
    article("elections", "Les élections locales",
            "Les élections locales auront lieu en juin, un scrutin électif très suivi.",
            published=date(2023, 1, 10)),
    article("electorat", "Un électorat divisé",
            "L'électorat reste partagé selon les sondages de la semaine.",
            published=date(2023, 1, 11)),
    article("crise-proche", "Les ménages inquiets",
            "La crise de l'énergie frappe les ménages de la capitale.",
            published=date(2022, 2, 1)),
    article("crise-inverse", "Coupures en série",
            "Le prix de l'énergie en crise pèse sur les artisans.",
            published=date(2022, 2, 2)),
    article("crise-loin", "Un long hiver",
            "La crise dure depuis des mois, les familles attendent toujours, les écoles "
            "ferment tôt, les marchés se vident et personne ne parle plus d'énergie.",
            published=date(2022, 2, 3)),
]


@pytest.fixture(scope="module")
def service(tmp_path_factory: pytest.TempPathFactory) -> Iterator[SearchService]:
    data_dir = tmp_path_factory.mktemp("relevance-exact")
    archive_and_index(data_dir, ARTICLES)
    with service_for(data_dir) as svc:
        yield svc


def _slugs(result) -> list[str]:  # type: ignore[no-untyped-def]
    return [hit.url.rstrip("/").rsplit("/", 1)[-1] for hit in result.hits]


def test_quoted_phrase_finds_the_exact_wording(service: SearchService) -> None:
    assert _slugs(service.search('"porte-parole du gouvernement"')) == ["porte-parole"]


def test_quoted_phrase_with_a_stem_sibling_finds_only_that_wording(
        service: SearchService) -> None:
    assert _slugs(service.search('"porte-parole du gouverné"')) == ["gouverne"]
    assert _slugs(service.search('« porte-parole du gouvernerait »')) == []


def test_quoted_phrase_ignores_case_accents_and_hyphens(service: SearchService) -> None:
    assert _slugs(service.search('"PORTE PAROLE DU GOUVERNEMENT"')) == ["porte-parole"]
    assert _slugs(service.search('"elections locales"')) == ["elections"]


def test_quoted_phrase_counts_its_small_words(service: SearchService) -> None:
    assert _slugs(service.search('"porte-parole de gouvernement"')) == []


def test_quoted_word_matches_only_that_form(service: SearchService) -> None:
    assert set(_slugs(service.search('"gouvernement"'))) == {"porte-parole",
                                                             "gouvernement-budget"}
    assert _slugs(service.search('"gouvernés"')) == ["gouvernes"]


def test_unquoted_word_stays_stemmed(service: SearchService) -> None:
    assert set(_slugs(service.search("gouvernement"))) == {
        "porte-parole", "gouverne", "gouvernes", "gouvernement-budget"}


def test_unquoted_word_ranks_its_typed_form_above_its_stem_siblings(
        service: SearchService) -> None:
    ranked = _slugs(service.search("gouvernement"))
    exact = {"porte-parole", "gouvernement-budget"}
    assert set(ranked[:2]) == exact
    assert _slugs(service.search("gouvernés"))[0] == "gouvernes"


def test_quoted_word_marks_only_its_form_in_the_snippet(service: SearchService) -> None:
    [hit] = [h for h in service.search('"marchés"').hits if "/marches/" in h.url]
    assert "<mark>marchés</mark>" in hit.snippet
    assert "<mark>marché</mark>" not in hit.snippet
    assert "<mark>" not in hit.title_html
    [unquoted] = [h for h in service.search("marchés").hits if "/marches/" in h.url]
    assert "<mark>marché</mark>" in unquoted.snippet
    assert "<mark>marché</mark>" in unquoted.title_html


def test_prefix_finds_every_word_starting_so(service: SearchService) -> None:
    assert _slugs(service.search("électi*")) == ["elections"]
    assert set(_slugs(service.search("élect*"))) == {"elections", "electorat"}
    assert _slugs(service.search("l'électo*")) == ["electorat"]


def test_prefix_of_fewer_than_three_letters_is_refused_in_french(
        service: SearchService) -> None:
    result = service.search("él*")
    assert result.total == 0
    assert result.message is not None and "au moins 3 lettres" in result.message


def test_proximity_finds_words_near_each_other_in_any_order(service: SearchService) -> None:
    found = set(_slugs(service.search('"crise énergie"~5')))
    assert found == {"crise-proche", "crise-inverse"}


def test_proximity_leaves_out_words_too_far_apart(service: SearchService) -> None:
    assert "crise-loin" in _slugs(service.search("crise énergie"))
    assert "crise-loin" not in _slugs(service.search('"crise énergie"~5'))
    assert _slugs(service.search('"crise énergie"')) == []


@pytest.mark.parametrize("typed", ["Éric N'Guessan", "Éric N’Guessan", "Eric NGuessan",
                                   "eric n guessan", "ERIC N-GUESSAN"])
def test_author_filter_forgives_accents_apostrophes_and_spaces(
        service: SearchService, typed: str) -> None:
    assert _slugs(service.search("", author=typed)) == ["porte-parole"]


def test_author_filter_still_tells_authors_apart(service: SearchService) -> None:
    assert _slugs(service.search("", author="Eric Guessan")) == []
