"""The search service: results, facets, snippets, paging, errors and index generations."""

from __future__ import annotations

import json
import os
import threading
from collections.abc import Iterator, Sequence
from datetime import date
from pathlib import Path

import numpy as np
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from search_fixtures import SEEN, archive_and_index, article, service_for

from archive.errors import IndexUnavailable, InvalidInput
from archive.store import Archive
from indexer.search import SearchService
from indexer.texts import ArticleText
from indexer.update import update_index

AUTHORS = ["Aïssatou N'Diaye", "Moussa Diop", "Fatou Sène"]


def _corpus() -> list:  # type: ignore[type-arg]
    items = []
    for i in range(30):
        author = AUTHORS[i % 3] if i < 27 else None
        day = date(2020 + i % 4, 1 + i % 12, 1 + i % 28)
        items.append(article(
            f"sante-{i}", f"Santé publique numéro {i}",
            f"Le ministère de la santé annonce la campagne {i} de vaccination. "
            f"Les infirmiers du district {i} sont mobilisés.", author=author, published=day))
    items.append(article(
        "balise", "Un titre avec <script>alert(1)</script> & des chevrons",
        "Le texte parle de <b>vaccination</b> & de « sécurité » sanitaire.",
        author=None, published=date(2019, 5, 5)))
    return items


@pytest.fixture(scope="module")
def data(tmp_path_factory: pytest.TempPathFactory) -> Path:
    data_dir = tmp_path_factory.mktemp("search")
    archive_and_index(data_dir, _corpus())
    return data_dir


@pytest.fixture
def service(data: Path) -> Iterator[SearchService]:
    with service_for(data) as svc:
        yield svc


def test_texts_come_from_the_injected_reader(data: Path) -> None:
    asked: list[list[int]] = []

    def texts(ids: Sequence[int]) -> dict[int, ArticleText]:
        asked.append(list(ids))
        return {i: ArticleText("Une vaccination lue ailleurs.", 0) for i in ids}

    with SearchService(data / "index", texts) as svc:
        result = svc.search("vaccination", page_size=3)
    assert asked == [[hit.id for hit in result.hits]]
    assert all("lue ailleurs" in hit.snippet for hit in result.hits)


def test_an_unexpected_failure_reaches_the_caller_not_the_reader(data: Path) -> None:
    def broken(ids: Sequence[int]) -> dict[int, ArticleText]:
        raise RuntimeError("a bug of ours")

    with SearchService(data / "index", broken) as svc, \
            pytest.raises(RuntimeError, match="a bug of ours"):
        svc.search("vaccination")


def test_result_carries_total_hits_and_facets(service: SearchService) -> None:
    result = service.search("vaccination")
    assert result.total == 31
    assert len(result.hits) == 10
    assert result.took_ms >= 0
    assert sum(a.count for a in result.facets.authors) == 27
    assert {a.name for a in result.facets.authors} == set(AUTHORS)
    assert sum(count for _, count in result.facets.years) == 31
    assert sum(count for _, _, count in result.facets.months) == 31


def test_facets_count_all_matches_not_the_page(service: SearchService) -> None:
    result = service.search("vaccination", page_size=3)
    assert len(result.hits) == 3
    assert sum(a.count for a in result.facets.authors) == 27


def test_snippet_marks_matched_words_and_escapes_platform_text(service: SearchService) -> None:
    result = service.search("vaccination sanitaire")
    assert result.total == 1
    hit = result.hits[0]
    assert "<mark>vaccination</mark>" in hit.snippet
    assert "<b>" not in hit.snippet and "&lt;b&gt;" in hit.snippet
    assert "<script>" not in hit.title_html and "&lt;script&gt;" in hit.title_html


def test_title_is_highlighted(service: SearchService) -> None:
    hit = service.search("santé numéro 7").hits[0]
    assert "<mark>Santé</mark>" in hit.title_html
    assert hit.url.endswith("/sante-7/")


def test_pages_do_not_overlap(service: SearchService) -> None:
    first = service.search("vaccination", page=1, page_size=10)
    second = service.search("vaccination", page=2, page_size=10)
    assert not {h.id for h in first.hits} & {h.id for h in second.hits}
    beyond = service.search("vaccination", page=9)
    assert beyond.total == 31 and beyond.hits == []


def test_sort_by_date_is_newest_first(service: SearchService) -> None:
    result = service.search("vaccination", sort="date", page_size=31)
    days = [hit.published for hit in result.hits]
    assert days == sorted(days, reverse=True)


def test_empty_query_with_filter_lists_newest_first(service: SearchService) -> None:
    result = service.search("", author="moussa diop")
    assert result.total == 9
    days = [hit.published for hit in result.hits]
    assert days == sorted(days, reverse=True)


def test_unknown_author_finds_nothing(service: SearchService) -> None:
    assert service.search("vaccination", author="Personne Inconnue").total == 0


def test_no_hits_is_a_result_not_an_error(service: SearchService) -> None:
    result = service.search("zyxwvutsr")
    assert result.total == 0 and result.hits == []


def test_misspelling_gets_a_suggestion(service: SearchService) -> None:
    result = service.search("vacination")
    assert result.total == 0
    assert result.suggestion == "vaccination"


def test_a_word_of_the_texts_beyond_the_lead_gets_no_correction(tmp_path: Path) -> None:
    # The spelling field holds titles and leads: « vaccinations » is only deep in a body, so
    # the spelling field does not know it, yet it is no typo for « vaccination ».
    body = "La campagne de vaccination continue. " * 40 + "Les vaccinations du district."
    archive_and_index(tmp_path, [article("loin", "Campagne", body)])
    with service_for(tmp_path) as svc:
        result = svc.search('"vaccinations du"')
        assert result.total == 1 and result.suggestion is None
        assert svc.search("vacination").suggestion == "vaccination"


def test_stop_words_only_gets_a_message(service: SearchService) -> None:
    result = service.search("le la les")
    assert result.total == 0 and result.message


@pytest.mark.parametrize(("kwargs", "word"), [({"sort": "title"}, "tri"), ({"page": 0}, "page"),
                                              ({"page_size": 0}, "taille de page"),
                                              ({"page_size": 1000}, "taille de page")])
def test_bad_arguments_are_invalid_input(service: SearchService, kwargs, word: str) -> None:
    with pytest.raises(InvalidInput, match=word):
        service.search("santé", **kwargs)


def test_since_after_until_is_invalid(service: SearchService) -> None:
    with pytest.raises(InvalidInput, match="postérieure"):
        service.search("santé", since=date(2024, 1, 2), until=date(2024, 1, 1))


@settings(max_examples=80, deadline=None,
          suppress_health_check=[HealthCheck.too_slow, HealthCheck.function_scoped_fixture])
@given(text=st.text(max_size=200) | st.lists(st.sampled_from(
    ['"', "(", ")", ":", "-", "*", "OU", "SAUF", "titre:", "auteur:", "santé", "?", "\x00"]),
    max_size=20).map(" ".join))
def test_any_query_text_returns_a_result(service: SearchService, text: str) -> None:
    result = service.search(text)
    assert result.total >= 0


@pytest.mark.parametrize("text", [
    "vaccination", "santé numéro", "vaccination OU infirmiers", "vaccination SAUF numéro",
    "santé -district", "titre:santé", "auteur:diop vaccination", '"campagne 7"',
    "(santé OU sécurité) vaccination NOT balise", "inconnu", "sanitaire",
    '"ministère de la santé"', '"santé publique" OU "campagne 3"', 'titre:"publique numéro"',
    '"publique santé"', "infirmiers-district"])
def test_numpy_matching_agrees_with_whoosh(data: Path, text: str) -> None:
    from whoosh.filedb.filestore import FileStorage

    from indexer.matches import MatchEngine, match_with_whoosh
    from indexer.query import make_parser, parse_query

    build = os.path.realpath(data / "index" / "current")
    index = FileStorage(build, supports_mmap=False, readonly=True).open_index()
    with index.searcher() as searcher:
        query = parse_query(text, make_parser(searcher.schema)).query
        assert query is not None
        engine = MatchEngine(searcher, {})
        fast, slow = engine.match(query), match_with_whoosh(query, searcher)
        assert engine.enabled, "the W3 posting reader fell back to Whoosh's matchers"
        assert fast.docs.tolist() == slow.docs.tolist()
        assert fast.scores == pytest.approx(slow.scores, rel=1e-9)


def test_more_like_never_returns_the_article_itself(service: SearchService) -> None:
    target = service.search("santé numéro 7").hits[0]
    related = service.more_like(target.id, limit=5)
    assert related and target.id not in {hit.id for hit in related}


def test_info_describes_the_live_build(service: SearchService, data: Path) -> None:
    info = service.info()
    assert info.doc_count == 31
    assert info.build == Path(os.path.realpath(data / "index" / "current")).name
    assert info.change_seq is not None


def test_missing_index_is_unavailable(tmp_path: Path) -> None:
    with SearchService.over_archive(tmp_path / "index", tmp_path / "archive.sqlite3") as svc, \
            pytest.raises(IndexUnavailable, match="python -m archive index"):
        svc.search("santé")


def test_new_articles_appear_after_an_incremental_update(tmp_path: Path) -> None:
    archive_and_index(tmp_path, [article("premier", "Premier article", "Le paludisme recule.")])
    with service_for(tmp_path, check_seconds=0) as svc:
        assert svc.search("paludisme").total == 1
        generation = svc.info().generation
        archive_and_index(tmp_path, [article("second", "Second article",
                                             "Le paludisme recule encore.")])
        assert svc.search("paludisme").total == 2
        assert svc.info().generation > generation


def test_full_rebuild_swap_is_seen_without_restart(tmp_path: Path) -> None:
    archive_and_index(tmp_path, [article("un", "Un article", "Le choléra est vaincu.")])
    with service_for(tmp_path, check_seconds=0) as svc:
        before = svc.info().build
        with Archive.open(tmp_path / "archive.sqlite3") as archive:
            archive.articles.save_article(article("deux", "Deux", "Le choléra revient."),
                                 capture_id=None, seen_at=SEEN)
        update_index(tmp_path / "archive.sqlite3", tmp_path / "index", full=True)
        assert svc.info().build != before
        assert svc.search("choléra").total == 2


def test_each_thread_gets_its_own_searcher(service: SearchService) -> None:
    totals: list[int] = []
    errors: list[BaseException] = []

    def run() -> None:
        try:
            for _ in range(5):
                totals.append(service.search("infirmiers district").total)
        except BaseException as exc:  # noqa: BLE001 - reported by the assertion below
            errors.append(exc)

    threads = [threading.Thread(target=run) for _ in range(4)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=60)
    assert not errors
    assert totals == [30] * 20


def test_json_of_a_result_has_the_documented_keys(service: SearchService) -> None:
    data = service.search("vaccination").to_json()
    assert {"query", "total", "pages", "hits", "facets", "suggestion", "message"} <= set(data)
    assert {"original_url", "title", "author", "published", "snippet"} <= set(data["hits"][0])
    assert data["query"]["q"] == "vaccination" and data["query"]["tri"] == "pertinence"
    json.dumps(data)


# ---------------------------------------------------------------------- the command
def test_cli_search_json(run_cli, data_dir: Path) -> None:  # type: ignore[no-untyped-def]
    archive_and_index(data_dir, _corpus())
    code, out, err = run_cli("search", "vaccination", "--author", "MOUSSA DIOP", "--json",
                             "--limit", "3")
    assert code == 0, err
    data = json.loads(out)
    assert data["total"] == 9 and len(data["hits"]) == 3
    assert data["hits"][0]["author"] == "Moussa Diop"
    assert data["query"]["auteur"] == "MOUSSA DIOP" and data["query"]["taille"] == 3


def test_cli_search_human_and_empty(run_cli, data_dir: Path) -> None:  # type: ignore[no-untyped-def]
    archive_and_index(data_dir, _corpus())
    code, out, _ = run_cli("search", "infirmiers", "--since", "2023-01-01", "--sort", "date")
    assert code == 0
    assert "[infirmiers]" in out and "résultats" in out
    code, out, _ = run_cli("search", "zyxwvutsr", "--json")
    assert code == 0 and json.loads(out)["total"] == 0


def test_cli_without_index_exits_7(run_cli) -> None:  # type: ignore[no-untyped-def]
    code, _, err = run_cli("search", "santé")
    assert code == 7
    assert "python -m archive index" in err and "Traceback" not in err


@pytest.mark.parametrize("args", [("--since", "2024-13-01"), ("--sort", "title"),
                                  ("--limit", "0")])
def test_cli_bad_options_exit_2(run_cli, args) -> None:  # type: ignore[no-untyped-def]
    code, _, err = run_cli("search", "santé", *args)
    assert code == 2 and "Traceback" not in err


def test_updated_article_is_found_once_with_its_new_text(tmp_path: Path) -> None:
    from whoosh.filedb.filestore import FileStorage

    from indexer.matches import MatchEngine, match_with_whoosh
    from indexer.query import make_parser, parse_query

    first = [article(f"grippe-{i}", f"Grippe {i}", f"La grippe saisonnière {i} arrive.")
             for i in range(5)]
    archive_and_index(tmp_path, first)
    changed = article("grippe-2", "Grippe 2", "La rougeole remplace la grippe saisonnière.")
    archive_and_index(tmp_path, [changed, article("grippe-9", "Grippe 9", "Encore la grippe.")])
    with service_for(tmp_path) as svc:
        assert svc.search("grippe").total == 6
        assert [h.url for h in svc.search("rougeole").hits] == [changed.url]
    build = os.path.realpath(tmp_path / "index" / "current")
    index = FileStorage(build, supports_mmap=False, readonly=True).open_index()
    with index.searcher() as searcher:
        parser = make_parser(searcher.schema)
        for text in ("grippe", '"grippe saisonnière"', "grippe SAUF rougeole"):
            query = parse_query(text, parser).query
            fast, slow = MatchEngine(searcher, {}).match(query), match_with_whoosh(query, searcher)
            live = np.array([not searcher.reader().is_deleted(d) for d in fast.docs], dtype=bool)
            assert fast.where(live).docs.tolist() == slow.docs.tolist()


def test_article_without_date_is_listed_last_and_never_in_date_filters(tmp_path: Path) -> None:
    archive_and_index(tmp_path, [
        article("date-connue", "Variole connue", "La variole.", published=date(2024, 2, 2)),
        article("sans-date", "Variole sans date", "La variole encore.", published=None),
    ])
    with service_for(tmp_path) as svc:
        by_date = svc.search("variole", sort="date")
        assert [h.published for h in by_date.hits] == [date(2024, 2, 2), None]
        assert svc.search("variole", since=date(1900, 1, 1)).total == 1
        assert svc.search("variole").facets.years == [(2024, 1)]
