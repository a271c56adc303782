"""Copies: the same text republished under another name or address is found, earliest first.

A real archive and a real index: ``update_index`` keeps the copies index in step, full at the
first run and incrementally after, as the crawler's cron job does.
"""

from __future__ import annotations

import re
import sqlite3
from collections.abc import Iterator
from datetime import date, timedelta
from pathlib import Path

import psutil
import pytest
from fork_interrupts import ctrl_c_at_next_fork
from search_fixtures import SEEN, article, service_for

import indexer.copies
from archive.store import Archive
from archive.web import create_app
from indexer.analysis import fold_accents
from indexer.copies import (
    BANDS,
    ROWS,
    SHINGLE_WORDS,
    THRESHOLD,
    CopyFinder,
    lsh_shape,
    shingles,
    signature,
    similarity,
    update_copies,
)
from indexer.search import SearchService
from indexer.update import update_index

TEXT = ("Les pêcheurs de Joal ont manifesté mardi devant la préfecture pour dénoncer la "
        "raréfaction du poisson. Selon eux, les chalutiers étrangers vident les eaux du "
        "littoral et les pirogues rentrent presque vides. Le préfet a promis de transmettre "
        "leurs doléances au ministre de la Pêche avant la fin du mois. Les femmes qui "
        "transforment le poisson sur la plage disent avoir perdu la moitié de leurs revenus "
        "depuis l'an dernier.")
ORIGINAL = article("joal-original", "Colère des pêcheurs de Joal", TEXT,
                   author="Fatou Sène", published=date(2023, 3, 7))
REPOST = article("joal-repris", "Joal : les pêcheurs en colère",
                 TEXT.replace("mardi", "hier"),
                 author="Un lecteur", published=date(2023, 3, 9), edition="ci")
LATE_COPY = article("joal-copie", "Pêche : la colère monte",
                    TEXT + " Un rassemblement est prévu la semaine prochaine.",
                    author="Anonyme", published=date(2023, 5, 1))
UNRELATED = article("budget", "Le budget municipal voté",
                    "Le conseil municipal a voté le budget après un long débat sur la voirie, "
                    "les écoles et le marché central, que la mairie veut rénover cette année.",
                    published=date(2023, 3, 8))


@pytest.fixture(scope="module")
def data_dir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    folder = tmp_path_factory.mktemp("copies")
    with Archive.open(folder / "archive.sqlite3") as archive:
        for item in (REPOST, ORIGINAL, UNRELATED):
            archive.articles.save_article(item, capture_id=None, seen_at=SEEN)
    update_index(folder / "archive.sqlite3", folder / "index")
    with Archive.open(folder / "archive.sqlite3") as archive:
        archive.articles.save_article(LATE_COPY, capture_id=None, seen_at=SEEN + timedelta(days=2))
    update_index(folder / "archive.sqlite3", folder / "index")  # incremental
    return folder


@pytest.fixture(scope="module")
def service(data_dir: Path) -> Iterator[SearchService]:
    with service_for(data_dir) as svc:
        yield svc


def _ids(data_dir: Path) -> dict[str, int]:
    with Archive.open(data_dir / "archive.sqlite3", readonly=True) as archive:
        return {a.url.rstrip("/").rsplit("/", 1)[-1]: a.id for a in archive.reads.iter_articles()}


def test_copies_are_listed_earliest_first_with_the_first_publication_marked(
        data_dir: Path, service: SearchService) -> None:
    ids = _ids(data_dir)
    group = service.copies_of(ids["joal-repris"])
    assert [c.article_id for c in group] == [ids["joal-original"], ids["joal-repris"],
                                             ids["joal-copie"]]
    assert [c.earliest for c in group] == [True, False, False]
    assert all(THRESHOLD <= c.share <= 1.0 for c in group)
    assert group[0].published == date(2023, 3, 7)


def test_a_copy_added_by_an_incremental_run_joins_its_group(
        data_dir: Path, service: SearchService) -> None:
    ids = _ids(data_dir)
    assert ids["joal-copie"] in {c.article_id for c in service.copies_of(ids["joal-original"])}


def test_an_article_without_copies_has_none(data_dir: Path, service: SearchService) -> None:
    assert service.copies_of(_ids(data_dir)["budget"]) == []


def test_an_edit_that_replaces_the_text_leaves_the_group(data_dir: Path, tmp_path: Path) -> None:
    folder = tmp_path / "edit"
    folder.mkdir()
    with Archive.open(folder / "archive.sqlite3") as archive:
        for item in (ORIGINAL, REPOST):
            archive.articles.save_article(item, capture_id=None, seen_at=SEEN)
    update_index(folder / "archive.sqlite3", folder / "index")
    rewritten = article("joal-repris", REPOST.title, UNRELATED.body, author="Un lecteur",
                        published=date(2023, 3, 9), edition="ci")
    with Archive.open(folder / "archive.sqlite3") as archive:
        archive.articles.save_article(rewritten, capture_id=None, seen_at=SEEN + timedelta(days=1))
    update_index(folder / "archive.sqlite3", folder / "index")
    finder = CopyFinder(folder / "index")
    try:
        assert finder.copies_of(1) == [] and finder.copies_of(2) == []
    finally:
        finder.close()


def test_search_can_fold_copies_under_their_first_publication(
        data_dir: Path, service: SearchService) -> None:
    ids = _ids(data_dir)
    plain = service.search("pêcheurs Joal")
    assert {hit.id for hit in plain.hits} == {ids["joal-original"], ids["joal-repris"],
                                              ids["joal-copie"]}
    folded = service.search("pêcheurs Joal", fold=True)
    assert [(hit.id, hit.copies) for hit in folded.hits] == [(ids["joal-original"], 2)]
    assert folded.total == plain.total


def test_minhash_estimate_follows_exact_shingle_overlap() -> None:
    a, b = TEXT, REPOST.body
    exact_a, exact_b = set(shingles(a).tolist()), set(shingles(b).tolist())
    exact = len(exact_a & exact_b) / len(exact_a | exact_b)
    estimate = similarity(signature(a), signature(b))  # type: ignore[arg-type]
    assert abs(exact - estimate) < 0.2
    assert similarity(signature(TEXT), signature(UNRELATED.body)) < 0.1  # type: ignore[arg-type]


def test_case_accents_and_punctuation_do_not_tell_copies_apart() -> None:
    assert list(shingles(TEXT)) == list(shingles(TEXT.upper().replace("é", "e")
                                                 .replace(".", " ;")))


def _fnv(word: str) -> int:
    value = 0x811C9DC5
    for byte in word.encode("utf-8"):
        value = ((value ^ byte) * 0x01000193) & 0xFFFFFFFF
    return value


def _shingles_by_definition(text: str) -> list[int]:
    """The text lowercased and folded whole, then cut into words, then runs of words."""
    words = [_fnv(w) for w in re.findall(r"[^\W_]+", fold_accents(text.lower()))]
    if not words:
        return []
    width = min(SHINGLE_WORDS, len(words))
    multipliers = [int(m) for m in indexer.copies._SHINGLE_MULTIPLIERS]
    found = set()
    for start in range(len(words) - width + 1):
        value = 0
        for j in range(width):
            value = (value * multipliers[j] + words[start + j]) & 0xFFFFFFFF
        found.add(value)
    return sorted(found)


@pytest.mark.parametrize("text", [
    TEXT, "Cœur ÉTÉ l’armée naïve Straße ǅemal", "", "un", "deux mots",
    # Combining marks that accent folding turns into letters join the words around them.
    "ete\u0303 te\u0308xte a\u0303b c d e f g", "Ḿ ñ e\u0301 trois quatre cinq six",
])
def test_shingles_are_those_of_the_folded_text(text: str) -> None:
    assert shingles(text).tolist() == _shingles_by_definition(text)


def test_a_parallel_full_build_writes_what_one_process_writes(
        data_dir: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    def rows(index_dir: Path) -> list[object]:
        db = sqlite3.connect(index_dir / "copies.sqlite3")
        try:
            return [*db.execute("SELECT * FROM signatures ORDER BY article_id"),
                    *db.execute("SELECT * FROM bands ORDER BY band, key, article_id")]
        finally:
            db.close()

    database = data_dir / "archive.sqlite3"
    monkeypatch.setattr(indexer.copies, "PARALLEL_MIN_ARTICLES", 10**9)
    update_copies(database, tmp_path / "one", full=True)
    monkeypatch.setattr(indexer.copies, "PARALLEL_MIN_ARTICLES", 1)
    monkeypatch.setattr(indexer.copies, "MAX_PROCESSES", 2)
    monkeypatch.setattr(indexer.copies.os, "cpu_count", lambda: 2)
    monkeypatch.setattr(indexer.copies, "_RANGE_ARTICLES", 1)
    report = update_copies(database, tmp_path / "two", full=True)
    assert report.signed == 4
    assert rows(tmp_path / "two") == rows(tmp_path / "one")


def test_ctrl_c_while_the_signing_processes_are_forked_stops_a_full_build(
        data_dir: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(indexer.copies, "PARALLEL_MIN_ARTICLES", 1)
    monkeypatch.setattr(indexer.copies, "MAX_PROCESSES", 2)
    monkeypatch.setattr(indexer.copies.os, "cpu_count", lambda: 2)
    before = set(psutil.Process().children())
    with ctrl_c_at_next_fork(), pytest.raises(KeyboardInterrupt):
        update_copies(data_dir / "archive.sqlite3", tmp_path / "index", full=True)
    assert set(psutil.Process().children()) <= before, "a signing process outlived the build"


def test_article_page_and_api_list_the_copies_with_the_first_publication(
        data_dir: Path) -> None:
    ids = _ids(data_dir)
    app = create_app({"DATA_DIR": data_dir, "TESTING": True})
    try:
        client = app.test_client()
        page = client.get(f"/article/{ids['joal-copie']}").get_data(as_text=True)
        assert "Copies de ce texte" in page and "première publication connue" in page
        assert "Colère des pêcheurs de Joal" in page and "% du texte en commun" in page
        body = client.get(f"/api/articles/{ids['joal-copie']}").get_json()
        assert [c["id"] for c in body["copies"]][0] == ids["joal-original"]
        assert body["copies"][0]["earliest"] is True
        alone = client.get(f"/article/{ids['budget']}").get_data(as_text=True)
        assert "Copies de ce texte" not in alone
        assert client.get(f"/api/articles/{ids['budget']}").get_json()["copies"] == []
    finally:
        app.extensions["archive"].close()


def test_written_down_lsh_bands_are_the_ones_datasketch_picks() -> None:
    assert lsh_shape() == (BANDS, ROWS)
