"""What changed or vanished, in search: the « statut » filter, version counts, earlier versions.

A real archive where one article was edited (a sentence removed), one withdrawn and one left
alone; the index is built before the edit and brought in step by an incremental run, as the
crawler's cron job would.
"""

from __future__ import annotations

from collections.abc import Iterator
from datetime import date, timedelta
from pathlib import Path

import pytest
from search_fixtures import SEEN, article, service_for

from archive.errors import InvalidInput
from archive.store import Archive
from indexer.search import SearchService
from indexer.update import update_index

EDITED = article("impots", "Le budget présenté",
                 "Le ministre a promis une baisse des impôts. La décision sera prise lundi.",
                 published=date(2024, 4, 2))
EDITED_AGAIN = article("impots", "Le budget présenté",
                       "La décision sera prise lundi, après le conseil.",
                       published=date(2024, 4, 2))
WITHDRAWN = article("retire", "Un article retiré", "La décision du maire fait débat.",
                    published=date(2024, 4, 3))
UNCHANGED = article("stable", "Un article stable", "La décision de la cour est attendue.",
                    published=date(2024, 4, 4))


@pytest.fixture(scope="module")
def service(tmp_path_factory: pytest.TempPathFactory) -> Iterator[SearchService]:
    data_dir: Path = tmp_path_factory.mktemp("versions")
    database = data_dir / "archive.sqlite3"
    with Archive.open(database) as archive:
        for item in (EDITED, WITHDRAWN, UNCHANGED):
            archive.articles.save_article(item, capture_id=None, seen_at=SEEN)
    update_index(database, data_dir / "index")
    with Archive.open(database) as archive:
        later = SEEN + timedelta(days=3)
        archive.articles.save_article(EDITED_AGAIN, capture_id=None, seen_at=later)
        archive.articles.mark_withdrawn(WITHDRAWN.url, when=later, reason="410")
    update_index(database, data_dir / "index")  # incremental: the edit and the withdrawal
    with service_for(data_dir) as svc:
        yield svc


def _slugs(result) -> list[str]:  # type: ignore[no-untyped-def]
    return [hit.url.rstrip("/").rsplit("/", 1)[-1] for hit in result.hits]


def test_status_filter_keeps_edited_articles(service: SearchService) -> None:
    assert _slugs(service.search("décision", status="changed")) == ["impots"]


def test_status_filter_keeps_withdrawn_articles(service: SearchService) -> None:
    assert _slugs(service.search("décision", status="withdrawn")) == ["retire"]


def test_status_filter_keeps_articles_neither_edited_nor_withdrawn(
        service: SearchService) -> None:
    assert _slugs(service.search("", status="unchanged")) == ["stable"]


def test_unknown_status_is_refused(service: SearchService) -> None:
    with pytest.raises(InvalidInput, match="statut inconnu"):
        service.search("décision", status="modifié")


def test_hits_carry_their_version_count(service: SearchService) -> None:
    counts = {_slugs_of(hit): hit.versions for hit in service.search("décision").hits}
    assert counts == {"impots": 2, "retire": 1, "stable": 1}
    assert service.search("décision").to_json()["hits"][0]["versions"] >= 1


def _slugs_of(hit) -> str:  # type: ignore[no-untyped-def]
    return str(hit.url.rstrip("/").rsplit("/", 1)[-1])


def test_removed_sentence_is_not_found_in_the_current_text(service: SearchService) -> None:
    assert service.search('"baisse des impôts"').total == 0


def test_earlier_versions_find_a_removed_sentence_and_say_which(
        service: SearchService) -> None:
    result = service.search('"baisse des impôts"', earlier=True)
    assert _slugs(result) == ["impots"]
    assert result.hits[0].earlier_versions == (1,)
    assert result.to_json()["hits"][0]["earlier_versions"] == [1]


def test_earlier_versions_do_not_find_a_sentence_never_published(
        service: SearchService) -> None:
    assert service.search('"hausse des impôts"', earlier=True).total == 0
    assert service.search('"baisse des taxes"', earlier=True).total == 0


def test_current_text_matches_carry_no_earlier_version(service: SearchService) -> None:
    result = service.search('"après le conseil"', earlier=True)
    assert _slugs(result) == ["impots"]
    assert result.hits[0].earlier_versions == ()


def test_earlier_words_combine_with_the_status_filter(service: SearchService) -> None:
    assert _slugs(service.search("ministre", earlier=True, status="changed")) == ["impots"]
    assert service.search("ministre", earlier=True, status="unchanged").total == 0



def test_cli_searches_earlier_versions_and_filters_by_status(
        service: SearchService, run_cli) -> None:  # type: ignore[no-untyped-def]
    data_dir = service.index_dir.parent
    code, out, err = run_cli("--data-dir", str(data_dir), "search", '"baisse des impôts"',
                             "--earlier", "--status", "changed")
    assert code == 0, err
    assert "modifié 1 fois" in out and "trouvé dans la version antérieure 1" in out
    code, out, err = run_cli("--data-dir", str(data_dir), "search", "décision",
                             "--status", "edited")
    assert code == 2 and "edited" in err
