"""The replay of the web benchmark's draws counts which drawn answers find their set's parts."""

from __future__ import annotations

import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))  # bench/ is scripts, not an installed package

from bench.set_repeats import needs_words, replay, set_of  # noqa: E402


def test_a_set_is_the_query_and_its_filters_whatever_the_sort_page_or_folding() -> None:
    assert set_of("/recherche?q=loi&tri=date&page=2&taille=50&replier=1") == set_of(
        "/api/search?q=loi&mots=1")
    assert set_of("/recherche?q=loi&auteur=Awa+Ndiaye") != set_of("/recherche?q=loi")
    assert set_of("/recherche?q=loi&du=2020-01-01") != set_of("/recherche?q=loi")


def test_the_results_page_shows_words_and_the_api_only_when_asked() -> None:
    assert needs_words("/recherche?q=loi")
    assert needs_words("/api/search?q=loi&mots=1")
    assert not needs_words("/api/search?q=loi")


def test_only_drawn_answers_of_a_set_the_same_worker_drew_before_find_its_parts() -> None:
    found = replay([
        (0, "/recherche?q=loi"),                  # drawn, first of its set
        (0, "/recherche?q=loi&tri=date"),         # drawn, its set kept with the words
        (1, "/recherche?q=loi&page=2"),           # drawn, but by the other worker
        (0, "/recherche?q=loi"),                  # a kept page: not drawn
        (1, "/api/search?q=vote"),                # drawn, no words computed
        (1, "/recherche?q=vote&tri=anciens"),     # its set kept, not the words it shows
        (1, "/api/search?q=vote&page=2"),         # its set kept, words now too (not needed)
    ], keep_size=None)
    assert (found.requests, found.drawn, found.set_kept, found.all_kept) == (7, 6, 3, 2)


def test_the_keep_forgets_the_least_recently_used_set_beyond_its_size() -> None:
    draws = [(0, "/recherche?q=loi"), (0, "/recherche?q=vote"),
             (0, "/recherche?q=loi&tri=date")]
    assert replay(draws, keep_size=1).set_kept == 0
    assert replay(draws, keep_size=2).set_kept == 1
