"""Relevance: what French readers type finds what they mean, and nothing of the page furniture.

A small archive of hand-written articles goes through the real store and the real indexer;
the furniture test goes further back, through the replica over HTTP and the real parser.
"""

from __future__ import annotations

from collections.abc import Iterator
from datetime import date
from pathlib import Path

import httpx
import pytest
from search_fixtures import archive_and_index, article, service_for

from archive.parser import parse_page
from archive.replica.corpus import Corpus
from archive.replica.server import serve_replica
from indexer.analysis import french_analyzer
from indexer.search import SearchService

ARTICLES = [
    article("armee-russe-nord-coreens", "L'armée russe renforcée par des soldats",
            "Des soldats nord-coréens ont rejoint l'armée russe près de Koursk. "
            "Kim Jong-un a envoyé ses troupes au front.",
            author="Aïssatou N'Diaye", published=date(2024, 3, 1)),
    article("heritage-kim-jong-il", "Un héritage politique",
            "L'ancien dirigeant Kim Jong-il est mort en 2011. Les sud-coréens observent le "
            "nord avec attention depuis Séoul.",
            author="Moussa Diop", published=date(2023, 12, 31)),
    article("coree-du-sud-vote", "La Corée du Sud vote",
            "Élections législatives : les électeurs se rendent aux urnes dans le calme.",
            author="aissatou n’diaye", published=date(2024, 3, 2)),
    article("marche-sandaga", "Le marché Sandaga face à la hausse des prix",
            "Les commerçants de Dakar parlent de la hausse des prix. Le poisson est cher.",
            author="Fatou Sène", published=date(2022, 6, 15)),
    article("inondations-saint-louis", "Inondations à Saint-Louis",
            "La ville compte ses dégâts après une semaine de pluie.",
            author="Fatou Sène", published=date(2021, 9, 3)),
    article("conseil-municipal", "Le conseil municipal se réunit",
            "Le maire a évoqué le budget, la voirie, les écoles et, brièvement, les "
            "inondations de l'an passé, avant de parler du marché et des transports.",
            author="Moussa Diop", published=date(2021, 10, 1)),
    article("sommet-presidents", "Les présidents africains se réunissent à Abidjan",
            "Un sommet consacré à la sécurité régionale et au commerce.",
            author="Koffi Yao", published=date(2020, 2, 20), edition="ci"),
]


@pytest.fixture(scope="module")
def service(tmp_path_factory: pytest.TempPathFactory) -> Iterator[SearchService]:
    data_dir = tmp_path_factory.mktemp("relevance")
    archive_and_index(data_dir, ARTICLES)
    with service_for(data_dir) as svc:
        yield svc


def _slugs(result) -> list[str]:  # type: ignore[no-untyped-def]
    return [hit.url.rstrip("/").rsplit("/", 1)[-1] for hit in result.hits]


def test_unaccented_query_finds_accented_word(service: SearchService) -> None:
    assert _slugs(service.search("Coree")) == ["coree-du-sud-vote"]


def test_accented_query_finds_the_same(service: SearchService) -> None:
    assert _slugs(service.search("CORÉE")) == ["coree-du-sud-vote"]


def test_elided_article_matches_bare_noun(service: SearchService) -> None:
    assert "armee-russe-nord-coreens" in _slugs(service.search("armée"))
    assert "armee-russe-nord-coreens" in _slugs(service.search("armee"))


def test_inflected_forms_match(service: SearchService) -> None:
    assert _slugs(service.search("président")) == ["sommet-presidents"]
    assert set(_slugs(service.search("réunir"))) == {"sommet-presidents", "conseil-municipal"}
    assert _slugs(service.search("élection")) == ["coree-du-sud-vote"]


def test_hyphenated_name_does_not_match_its_sibling(service: SearchService) -> None:
    assert _slugs(service.search('"Kim Jong-un"')) == ["armee-russe-nord-coreens"]
    assert _slugs(service.search('"Kim Jong-il"')) == ["heritage-kim-jong-il"]


def test_hyphenated_compound_does_not_match_its_parts_apart(service: SearchService) -> None:
    assert _slugs(service.search("nord-coréens")) == ["armee-russe-nord-coreens"]
    assert _slugs(service.search("sud-coréens")) == ["heritage-kim-jong-il"]


def test_phrase_needs_the_words_together(service: SearchService) -> None:
    assert _slugs(service.search('"hausse des prix"')) == ["marche-sandaga"]
    assert _slugs(service.search('"prix hausse"')) == []


def test_ou_widens_and_words_narrow(service: SearchService) -> None:
    assert set(_slugs(service.search("Koursk OU Séoul"))) == {"armee-russe-nord-coreens",
                                                               "heritage-kim-jong-il"}
    assert _slugs(service.search("Koursk Séoul")) == []


@pytest.mark.parametrize("text", ["inondations SAUF maire", "inondations -maire",
                                  "inondations NOT maire"])
def test_exclusion_removes_articles(service: SearchService, text: str) -> None:
    assert _slugs(service.search(text)) == ["inondations-saint-louis"]


def test_plus_is_accepted(service: SearchService) -> None:
    assert _slugs(service.search("+Koursk soldats")) == ["armee-russe-nord-coreens"]


def test_title_field(service: SearchService) -> None:
    assert _slugs(service.search("titre:inondations")) == ["inondations-saint-louis"]


def test_author_field(service: SearchService) -> None:
    assert set(_slugs(service.search("auteur:Sène"))) == {"marche-sandaga",
                                                          "inondations-saint-louis"}


def test_title_match_ranks_above_body_only_mention(service: SearchService) -> None:
    assert _slugs(service.search("inondations")) == ["inondations-saint-louis",
                                                     "conseil-municipal"]


def test_author_filter_accepts_any_spelling(service: SearchService) -> None:
    for typed in ("Aïssatou N'Diaye", "aissatou n’diaye", "AISSATOU  N'DIAYE"):
        result = service.search("", author=typed)
        assert set(_slugs(result)) == {"armee-russe-nord-coreens", "coree-du-sud-vote"}


def test_date_filters_include_both_boundary_days(service: SearchService) -> None:
    one_day = service.search("", since=date(2024, 3, 1), until=date(2024, 3, 1))
    assert _slugs(one_day) == ["armee-russe-nord-coreens"]
    around_new_year = service.search("", since=date(2023, 12, 31), until=date(2024, 3, 2))
    assert set(_slugs(around_new_year)) == {"heritage-kim-jong-il", "armee-russe-nord-coreens",
                                            "coree-du-sud-vote"}
    assert _slugs(service.search("", until=date(2020, 2, 20))) == ["sommet-presidents"]


def test_sort_by_date_is_newest_first(service: SearchService) -> None:
    result = service.search("", sort="date")
    days = [hit.published for hit in result.hits]
    assert days == sorted(days, reverse=True)
    words = service.search("inondations", sort="date")
    assert _slugs(words) == ["conseil-municipal", "inondations-saint-louis"]


def test_edition_filter(service: SearchService) -> None:
    assert _slugs(service.search("", edition="ci")) == ["sommet-presidents"]


# ---------------------------------------------------------------------- page furniture
@pytest.fixture(scope="module")
def parsed_service(tmp_path_factory: pytest.TempPathFactory) -> Iterator[SearchService]:
    """Twelve replica pages fetched over loopback HTTP, parsed, archived and indexed."""
    data_dir: Path = tmp_path_factory.mktemp("furniture")
    corpus = Corpus(size=12)
    articles = []
    with serve_replica(corpus) as replica, httpx.Client(timeout=10) as client:
        for i in range(corpus.size):
            truth = corpus.article(i)
            url = replica.urls[truth.edition] + truth.path
            response = client.get(url)
            response.raise_for_status()
            articles.append(parse_page(response.content, url,
                                       response.headers.get("content-type")))
    archive_and_index(data_dir, articles)
    with service_for(data_dir) as svc:
        svc.corpus = corpus  # type: ignore[attr-defined]
        yield svc


def test_parsed_article_words_are_found(parsed_service: SearchService) -> None:
    truth = parsed_service.corpus.article(0)  # type: ignore[attr-defined]
    assert parsed_service.search(f'"{truth.title}"').total >= 1


@pytest.mark.parametrize("furniture", ['"plateforme NOTRECONTINENT"', "NOTRECONTINENT",
                                       "Cliquez-ici", '"Articles récents"', '"Lecteur Malin"',
                                       '"Article écrit par"', '"Mis en ligne"'])
def test_boilerplate_sidebar_and_comment_words_find_nothing(parsed_service: SearchService,
                                                            furniture: str) -> None:
    assert parsed_service.search(furniture).total == 0


def test_comment_text_is_not_searchable(parsed_service: SearchService) -> None:
    corpus = parsed_service.corpus  # type: ignore[attr-defined]
    comments = [c for i in range(corpus.size) for c in corpus.article(i).comments]
    if not comments:
        pytest.skip("this corpus has no comments")
    analyzer = french_analyzer()
    in_articles = {t.text for i in range(corpus.size) for t in analyzer(
        f"{corpus.article(i).title} {corpus.article(i).body}")}
    names = [c.author for c in comments
             if not {t.text for t in analyzer(c.author)} & in_articles]
    assert names, "every commenter's name also appears in an article"
    for name in names[:5]:
        assert parsed_service.search(name).total == 0
