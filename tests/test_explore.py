"""Exploring a result set: facets on every dimension, negatable filters, both date orders,
associated words, coverage over time, and the way back from an article to its results.

The service is checked against the replica's ground truth; the pages through Flask's test client,
on a real archive and a real index on disk.
"""

from __future__ import annotations

import csv
import io
import json
import math
import re
from collections import Counter
from collections.abc import Iterator
from datetime import date

import numpy as np
import pytest
from flask import Flask
from flask.testing import FlaskClient
from web_archive import BuiltArchive, build_archive

from archive.editions import EDITION_NAMES, edition_label
from archive.web import create_app
from archive.web.params import MAX_URL_CHARS
from indexer.analysis import spelling_analyzer
from indexer.associated import WordTable, associated_words, set_frequencies
from indexer.documents import SPELLING_LEAD_CHARS
from indexer.results import MAX_QUERY_CHARS
from indexer.search import SearchService

WORD = "développement"


@pytest.fixture(scope="module")
def built(tmp_path_factory: pytest.TempPathFactory) -> BuiltArchive:
    return build_archive(tmp_path_factory.mktemp("explore-data"), 40)


@pytest.fixture(scope="module")
def service(built: BuiltArchive) -> Iterator[SearchService]:
    with SearchService.over_archive(built.data_dir / "index",
                                    built.data_dir / "archive.sqlite3") as found:
        yield found


@pytest.fixture(scope="module")
def app(built: BuiltArchive) -> Iterator[Flask]:
    application = create_app({"DATA_DIR": built.data_dir, "TESTING": True})
    yield application
    application.extensions["archive"].close()


@pytest.fixture
def client(app: Flask) -> FlaskClient:
    return app.test_client()


def page(client: FlaskClient, url: str, status: int = 200, **query: object) -> str:
    response = client.get(url, query_string=query or None)
    assert response.status_code == status, response.get_data(as_text=True)[:1500]
    return response.get_data(as_text=True)


def every_hit(service: SearchService, query: str = "", **filters: object) -> list:  # type: ignore[type-arg]
    result = service.search(query, page_size=100, **filters)  # type: ignore[arg-type]
    assert result.total <= 100
    return result.hits


def truth(built: BuiltArchive) -> list:  # type: ignore[type-arg]
    """The replica articles the archive holds (the hostile page aside)."""
    return [built.corpus.article(i) for i in range(built.corpus.size)]


# ------------------------------------------------------------------ the search service
def test_edition_and_category_facets_count_every_match(service: SearchService,
                                                       built: BuiltArchive) -> None:
    articles = truth(built)
    result = service.search("", page_size=1)
    editions = dict(result.facets.editions)
    expected = Counter(a.edition for a in articles)
    expected["sn"] += 1  # the hostile page is filed under sn
    assert editions == dict(expected)
    categories = dict(result.facets.categories)
    assert categories == dict(Counter(c for a in articles for c in a.categories))
    assert [c for _, c in result.facets.categories] == sorted(categories.values(), reverse=True)


def test_edition_filter_keeps_that_edition_and_its_negation_leaves_it_out(
    service: SearchService,
) -> None:
    kept = every_hit(service, WORD, edition="ci")
    left = every_hit(service, WORD, not_editions=("ci",))
    everything = every_hit(service, WORD)
    assert kept and {h.edition for h in kept} == {"ci"}
    assert left and "ci" not in {h.edition for h in left}
    assert len(kept) + len(left) == len(everything)


def test_category_filter_ignores_case_and_its_negation_is_the_complement(
    service: SearchService, built: BuiltArchive,
) -> None:
    articles = {a.canonical_url: a for a in truth(built)}
    kept = every_hit(service, "", category="SOCIÉTÉ")
    assert kept and all("Société" in articles[h.url].categories for h in kept)
    left = every_hit(service, "", not_categories=("société",))
    assert all("Société" not in articles[h.url].categories for h in left if h.url in articles)
    assert len(kept) + len(left) == service.search("").total


def test_excluding_an_author_leaves_out_every_spelling_of_the_name(
    service: SearchService,
) -> None:
    top = service.search(WORD).facets.authors[0]
    left = every_hit(service, WORD, not_authors=(top.name.upper(),))
    assert all(h.author_key != top.key for h in left)
    assert len(left) == service.search(WORD).total - top.count


def test_unknown_value_to_leave_out_leaves_everything(service: SearchService) -> None:
    total = service.search(WORD).total
    assert service.search(WORD, not_editions=("zz",)).total == total
    assert service.search(WORD, edition="zz").total == 0


def test_oldest_first_is_date_order_reversed(service: SearchService) -> None:
    newest = [h.id for h in every_hit(service, WORD)]
    by_date = service.search(WORD, sort="date", page_size=100).hits
    oldest = service.search(WORD, sort="oldest", page_size=100).hits
    days = [h.published for h in oldest]
    assert days == sorted(days) and len(oldest) == len(newest)
    assert [h.published for h in by_date] == sorted(days, reverse=True)


def test_authors_facet_goes_past_the_first_ten(service: SearchService) -> None:
    authors = service.search("", page_size=1).facets.authors
    assert len(authors) > 10
    counts = [a.count for a in authors]
    assert counts == sorted(counts, reverse=True)


def test_associated_words_are_over_represented_in_the_matches_and_counted_exactly(
    service: SearchService, built: BuiltArchive,
) -> None:
    result = service.search(WORD, page_size=100, associated=True)
    assert result.associated
    analyzer = spelling_analyzer()
    stored = {a.canonical_url: a for a in truth(built)}

    def words_of(url: str) -> set[str]:
        article = stored.get(url)
        if article is None:
            return set()
        text = f"{article.title}\n{article.body[:SPELLING_LEAD_CHARS]}"
        return {t.text for t in analyzer(text)}

    matched = [words_of(h.url) for h in result.hits]
    everywhere = [words_of(a.canonical_url) for a in stored.values()]
    total = service.search("").total
    for word in result.associated:
        inside = sum(word.word in words for words in matched)
        overall = sum(word.word in words for words in everywhere)
        assert word.count == inside
        assert inside / result.total > overall / total
    assert "developpement" not in {w.word for w in result.associated}
    assert "développement" not in {w.word for w in result.associated}
    scores = [w.score for w in result.associated]
    assert scores == sorted(scores, reverse=True)


def test_log_likelihood_ranks_the_word_concentrated_in_the_set_first() -> None:
    # Six documents; the set is documents 0-2. "pluie" is in all three and nowhere else,
    # "route" in one of them and in two others, "ville" everywhere (never over-represented).
    docs_words = [["pluie", "route", "ville"], ["pluie", "ville"], ["pluie", "ville"],
                  ["route", "ville"], ["route", "ville"], ["ville"]]
    words = ["pluie", "route", "ville"]
    codes = [words.index(w) for ws in docs_words for w in ws]
    starts = np.cumsum([0] + [len(ws) for ws in docs_words])
    table = WordTable(words, np.array([3, 3, 6]), starts.astype(np.int64),
                      np.array(codes, dtype=np.int32), 6)
    found = associated_words(table, np.array([0, 1, 2]))
    assert [w.word for w in found] == ["pluie"]
    # G² of the table (3, 0 / 0, 3): 2 * (3 ln 2 + 3 ln 2) = 12 ln 2
    assert math.isclose(found[0].score, 12 * math.log(2), rel_tol=1e-9)
    assert found[0].count == 3


def _random_word_table(rng: np.random.Generator, documents: int, words: int,
                       dead: np.ndarray) -> WordTable:
    """A table of DOCUMENTS with random words (some with none), DEAD left out of the counts."""
    per_doc = [np.unique(rng.integers(0, words, rng.integers(0, 12))) for _ in range(documents)]
    starts = np.cumsum([0] + [len(codes) for codes in per_doc]).astype(np.int64)
    codes = np.concatenate(per_doc).astype(np.int32)
    live = np.ones(documents, dtype=bool)
    live[dead] = False
    frequencies = np.bincount(np.concatenate([per_doc[d] for d in np.flatnonzero(live)]),
                              minlength=words).astype(np.int64)
    return WordTable([f"mot{n}" for n in range(words)], frequencies, starts, codes,
                     int(live.sum()))


@pytest.mark.parametrize("seed", [1, 7, 64])
def test_set_frequencies_are_each_document_s_words_counted(seed: int) -> None:
    rng = np.random.default_rng(seed)
    table = _random_word_table(rng, 500, 80, np.array([], dtype=np.int64))
    for share in (0.002, 0.1, 0.45, 1.0):  # some documents hold no word at all
        docs = np.sort(rng.choice(500, max(1, int(share * 500)), replace=False))
        direct = np.zeros(80, dtype=np.int64)
        for doc in docs.tolist():
            direct[table.codes[table.starts[doc]:table.starts[doc + 1]]] += 1
        assert set_frequencies(table, docs).tolist() == direct.tolist()
    assert set_frequencies(table, np.array([], dtype=np.int64)).tolist() == [0] * 80


@pytest.mark.parametrize("share", [0.01, 0.3, 0.5, 0.51, 0.8, 0.97])
def test_set_frequencies_count_a_large_set_through_the_others_the_same(share: float) -> None:
    rng = np.random.default_rng(int(share * 100))
    dead = np.array([5, 17, 300])
    table = _random_word_table(rng, 400, 60, dead)
    live = np.ones(400, dtype=bool)
    live[dead] = False
    docs = np.sort(rng.choice(np.flatnonzero(live), int(share * live.sum()), replace=False))
    direct = np.zeros(60, dtype=np.int64)
    for doc in docs.tolist():
        direct[table.codes[table.starts[doc]:table.starts[doc + 1]]] += 1
    assert set_frequencies(table, docs).tolist() == direct.tolist()
    assert set_frequencies(table, docs, live).tolist() == direct.tolist()
    left_out = frozenset({"mot1", "mot2", "mot3"})
    assert associated_words(table, docs, live=live, leave_out=left_out, limit=5) == \
        associated_words(table, docs, leave_out=left_out, limit=5)


def test_associated_words_leave_out_as_many_query_words_as_rank_first() -> None:
    # Twenty words concentrated in the set, every one of them left out but the last two:
    # the first scores ordered do not suffice and the whole list is ordered.
    docs_words = [[f"mot{n}" for n in range(22)] for _ in range(4)] + [["autre"]] * 20
    words = [f"mot{n}" for n in range(22)] + ["autre"]
    codes = [words.index(w) for ws in docs_words for w in ws]
    starts = np.cumsum([0] + [len(ws) for ws in docs_words]).astype(np.int64)
    frequencies = np.array([4] * 22 + [20], dtype=np.int64)
    table = WordTable(words, frequencies, starts, np.array(codes, dtype=np.int32), 24)
    def analysed(word: str) -> str:  # the first twenty are forms of the query's one word
        return "mot" if word.startswith("mot") and int(word[3:]) < 20 else word

    found = associated_words(table, np.arange(4), limit=2, leave_out=frozenset({"mot"}),
                             same_word=analysed)
    assert [w.word for w in found] == ["mot20", "mot21"]


def test_highlight_marks_every_form_the_query_matches(service: SearchService) -> None:
    title, body = service.highlight("inondations -pluie", "Après les inondations",
                                    "Une inondation, puis la pluie.\n\nLe quartier <inondé>.")
    assert title == "Après les <mark>inondations</mark>"
    assert body == ["Une <mark>inondation</mark>, puis la pluie.",
                    "Le quartier &lt;<mark>inondé</mark>&gt;."]


# ------------------------------------------------------------------ the results page
def test_edition_parameter_filters_the_page_and_names_the_country(client: FlaskClient) -> None:
    text = page(client, "/recherche", q=WORD, edition="sn")
    assert "Édition : Sénégal (sn)" in text
    editions = re.findall(r'<span class="edition">([^<]+)</span>', text)
    assert editions and set(editions) == {"Sénégal"}


def test_every_facet_links_to_the_search_with_its_filter_added(client: FlaskClient) -> None:
    text = page(client, "/recherche", q=WORD)
    for name, parameter in (("editions", "edition"), ("categories", "categorie"),
                            ("auteurs", "auteur")):
        block = text.split(f'id="titre-facette-{name}"', 1)[1].split("</section>", 1)[0]
        links = re.findall(r'<a href="([^"]+)"', block)
        assert links and all(f"{parameter}=" in link and "q=" in link for link in links)
    assert "Côte d&#39;Ivoire (ci)" in text or "Côte d'Ivoire (ci)" in text


def test_more_than_ten_authors_fold_behind_voir_plus(client: FlaskClient) -> None:
    text = page(client, "/recherche", du="2015-01-01")
    block = text.split('id="titre-facette-auteurs"', 1)[1].split("</section>", 1)[0]
    first, rest = block.split("<details", 1)
    assert first.count("<li>") == 10
    assert "Voir plus" in rest and rest.count("<li>") > 0


def test_a_filter_chip_can_be_removed_or_negated(client: FlaskClient,
                                                 service: SearchService) -> None:
    author = service.search(WORD).facets.authors[0].name
    text = page(client, "/recherche", q=WORD, auteur=author)
    chip = text.split('class="active-filters"', 1)[1].split("</ul>", 1)[0]
    negate = re.search(r'<a href="([^"]+)" class="negate"', chip)
    assert negate and "sauf cet auteur" in chip
    href = negate.group(1).replace("&amp;", "&")
    negated = page(client, href)
    assert f"Sauf l&#39;auteur : {author}" in negated or f"Sauf l'auteur : {author}" in negated
    metas = re.findall(r'title="Filtrer sur cet auteur">([^<]+)</a>', negated)
    assert metas and author not in metas


def test_results_say_which_ranks_the_page_shows(client: FlaskClient,
                                                service: SearchService) -> None:
    total = service.search(WORD).total
    assert total > 10
    text = page(client, "/recherche", q=WORD, page=2)
    assert f"Résultats 11–{min(20, total)} sur {total}" in text


def test_oldest_first_order_is_offered_and_applied(client: FlaskClient,
                                                   service: SearchService) -> None:
    text = page(client, "/recherche", q=WORD, tri="anciens")
    assert '<strong aria-current="true">anciens d&#39;abord</strong>' in text
    first = service.search(WORD, sort="oldest").hits[0]
    assert re.search(r'<h3><a href="/article/(\d+)', text).group(1) == str(first.id)  # type: ignore[union-attr]


def test_associated_words_add_themselves_to_the_query(client: FlaskClient) -> None:
    # The page never waits for a generation's word table; the API's mots=1 does: ask it first.
    assert client.get("/api/search", query_string={"q": WORD, "mots": "1"}).get_json()[
        "associated"]
    text = page(client, "/recherche", q=WORD)
    block = text.split('id="titre-facette-mots"', 1)[1].split("</section>", 1)[0]
    words = re.findall(r'<a href="[^"]*q=([^"&]+)[^"]*"[^>]*>([^<]+)</a>', block)
    assert words
    from urllib.parse import unquote_plus

    for query, word in words:
        assert unquote_plus(query) == f"{WORD} {word}"


def test_years_are_links_narrowing_the_dates(client: FlaskClient) -> None:
    text = page(client, "/recherche", q=WORD)
    years = text.split('class="years"', 1)[1].split("</p>", 1)[0]
    links = re.findall(r'<a href="([^"]+)"[^>]*>(\d{4})</a>', years)
    assert len(links) > 1
    for href, year in links:
        assert f"du={year}-01-01" in href and f"au={year}-12-31" in href


def test_api_and_exports_accept_every_filter_of_the_page(client: FlaskClient) -> None:
    body = client.get("/api/search", query_string={
        "q": WORD, "sauf_edition": "ci", "categorie": "Société", "mots": "1"}).get_json()
    assert body["associated"] and {"word", "count", "score"} == set(body["associated"][0])
    assert body["query"]["sauf_edition"] == ["ci"] and body["query"]["categorie"] == "Société"
    assert body["hits"] and all(h["edition"] != "ci" for h in body["hits"])
    assert {e["edition"] for e in body["facets"]["editions"]} <= {"sn", "cm"}
    assert body["facets"]["editions"][0]["name"] in EDITION_NAMES.values()
    exported = client.get("/recherche.csv", query_string={"q": WORD, "edition": "cm"})
    rows = list(csv.DictReader(io.StringIO(exported.get_data(as_text=True).lstrip("\ufeff"))))
    assert rows and int(exported.headers["X-Total-Count"]) == len(rows)
    assert {row["edition"] for row in rows} == {"cm"}


def test_bad_filter_values_are_french_400s(client: FlaskClient) -> None:
    text = page(client, "/recherche", 400, q=WORD, sauf_edition="x" * 40)
    assert "L'édition est trop longue" in text or "L&#39;édition est trop longue" in text


# ------------------------------------------------------------------ article, periods, errors
def test_article_opened_from_results_marks_the_words_and_links_back(
    client: FlaskClient, service: SearchService,
) -> None:
    results = page(client, "/recherche", q="inondations", page=1)
    link = re.search(r'<h3><a href="(/article/\d+\?[^"]+)"', results)
    assert link
    href = link.group(1).replace("&amp;", "&")
    article = page(client, href)
    assert "<mark>" in article.split('class="body"', 1)[1]
    back = re.search(r'<a href="([^"]+)" rel="up">', article)
    assert back and back.group(1).replace("&amp;", "&") == "/recherche?q=inondations"
    plain = page(client, href.split("?", 1)[0])
    assert "<mark>" not in plain and 'rel="up"' not in plain


def test_month_and_year_pages_link_to_their_neighbours(client: FlaskClient) -> None:
    text = page(client, "/archives/2020/")
    assert '<a href="/archives/2019/" rel="prev">' in text
    assert '<a href="/archives/2021/" rel="next">' in text
    text = page(client, "/archives/2020/01/")
    assert '<a href="/archives/2019/12/" rel="prev">← décembre 2019</a>' in text
    assert '<a href="/archives/2020/02/" rel="next">février 2020 →</a>' in text


def test_first_month_page_of_the_archive_has_no_previous_link(client: FlaskClient,
                                                              built: BuiltArchive) -> None:
    first = min(built.corpus.article(i).published for i in range(built.corpus.size))
    text = page(client, f"/archives/{first.year}/{first.month:02d}/")
    assert 'rel="prev"' not in text.split('class="period-nav"', 1)[-1].split("</nav>", 1)[0]


def test_error_page_keeps_the_form_and_the_query(client: FlaskClient) -> None:
    typed = "inondations " * 50
    text = page(client, "/recherche", 400, q=typed, auteur="Awa")
    assert "La recherche est trop longue" in text
    assert 'role="search"' in text and 'value="Awa"' in text
    assert f'value="{typed.strip()}"' in text


def test_overlong_address_gets_a_french_414(client: FlaskClient) -> None:
    text = page(client, "/recherche?q=" + "a" * (MAX_URL_CHARS + 10), 414)
    assert "Adresse trop longue" in text and 'role="search"' in text
    assert MAX_QUERY_CHARS < MAX_URL_CHARS


# ------------------------------------------------------------------ coverage over time
def test_comparison_draws_one_line_per_query_and_its_csv_holds_the_same_series(
    client: FlaskClient, service: SearchService, built: BuiltArchive,
) -> None:
    text = page(client, "/comparer", q=["inondations", WORD])
    assert text.count('<polyline class="series') == 2
    assert "Télécharger les séries (CSV)" in text
    exported = client.get("/comparer.csv", query_string={"q": ["inondations", WORD]})
    assert exported.status_code == 200 and exported.mimetype == "text/csv"
    rows = list(csv.DictReader(io.StringIO(exported.get_data(as_text=True).lstrip("\ufeff"))))
    assert sum(int(r["nombre_2"]) for r in rows) == service.search(WORD).total
    assert sum(int(r["nombre_1"]) for r in rows) == service.search("inondations").total
    for row in rows:
        monthly = int(row["articles_du_mois"])
        expected = 100.0 * int(row["nombre_2"]) / monthly if monthly else 0.0
        assert math.isclose(float(row["part_2_pourcent"]), expected, abs_tol=1e-3)
    assert sum(int(r["articles_du_mois"]) for r in rows) == built.corpus.size + 1


def test_comparison_as_shares_and_its_limits(client: FlaskClient) -> None:
    text = page(client, "/comparer", q=WORD, mesure="part")
    assert "Voir en nombre d&#39;articles" in text or "Voir en nombre d'articles" in text
    assert " %" in text
    page(client, "/comparer", 400, q=["a", "b", "c", "d"])
    page(client, "/comparer", 400, q=WORD, mesure="moyenne")


def test_results_page_links_to_the_comparison(client: FlaskClient) -> None:
    text = page(client, "/recherche", q=WORD)
    assert f'href="/comparer?q={WORD}"' in text or "/comparer?q=d%C3%A9veloppement" in text


def test_edition_labels_name_the_country() -> None:
    assert edition_label("sn") == "Sénégal (sn)"
    assert edition_label("CI") == "Côte d'Ivoire (ci)"
    assert edition_label("cm") == "Cameroun (cm)"
    assert edition_label("xx") == "XX (xx)"


def test_timeline_never_labels_december_and_the_next_january_together() -> None:
    from archive.web.timeline import build_timeline, month_periods

    months = [(2019, m, 3) for m in range(6, 13)] + [(2020, m, 2) for m in range(1, 13)] \
        + [(2021, m, 1) for m in range(1, 7)]
    timeline = build_timeline(month_periods(months), "mois", lambda p: "#")
    assert timeline is not None
    labels = [b.period.label for b in timeline.bars if b.show_label]
    assert labels[0] == "juin 2019"
    assert "2020" in labels and "2021" in labels
    extents = []
    for bar in timeline.bars:
        if bar.show_label:
            width = 6.6 * len(bar.period.label)
            start = bar.label_x if bar.label_anchor == "start" else bar.label_x - width / 2
            extents.append((start, start + width))
    assert extents[0][0] >= 0
    for (_, left_end), (right_start, _) in zip(extents, extents[1:], strict=False):
        assert left_end <= right_start
    december = next(b for b in timeline.bars if b.period.start == date(2019, 12, 1))
    assert not december.show_label


def test_comparison_chart_keeps_to_its_canvas(client: FlaskClient) -> None:
    text = page(client, "/comparer", q=[WORD, "inondations"])
    points = re.findall(r'points="([^"]+)"', text)
    xs = [float(p.split(",")[0]) for line in points for p in line.split()]
    ys = [float(p.split(",")[1]) for line in points for p in line.split()]
    width, height = (int(v) for v in re.search(r'viewBox="0 0 (\d+) (\d+)"',  # type: ignore[union-attr]
                                                 text.split('class="chart"', 1)[1]).groups())
    assert 0 <= min(xs) and max(xs) <= width and 0 <= min(ys) and max(ys) <= height


# ------------------------------------------------------------------ the command line
def test_cli_agrees_in_number(run_cli, built: BuiltArchive) -> None:  # type: ignore[no-untyped-def]
    data = ("--data-dir", str(built.data_dir))
    code, out, _ = run_cli(*data, "search", "zyxwvutsr")
    assert code == 0 and out.startswith("0 résultat pour « zyxwvutsr »")
    code, out, _ = run_cli(*data, "search", "Sandaga")
    assert code == 0 and out.startswith("1 résultat pour « Sandaga »")
    code, out, _ = run_cli(*data, "search", WORD)
    assert code == 0 and re.match(r"\d+ résultats pour", out)


def test_cli_prints_each_hit_on_three_lines_whatever_the_snippet_holds(
    run_cli, built: BuiltArchive,  # type: ignore[no-untyped-def]
) -> None:
    code, out, _ = run_cli("--data-dir", str(built.data_dir), "search", WORD, "--limit", "5")
    assert code == 0
    blocks = out.split("\n\n")[1:]
    assert len(blocks) == 5
    for block in blocks:
        lines = block.strip("\n").split("\n")
        assert len(lines) == 3, lines
        assert re.match(r"\s+\d+\. ", lines[0]) and "[" in lines[0] + lines[2]


def test_cli_says_why_a_filter_found_nothing(run_cli, built: BuiltArchive) -> None:  # type: ignore[no-untyped-def]
    data = ("--data-dir", str(built.data_dir))
    code, out, _ = run_cli(*data, "search", WORD, "--edition", "zz")
    assert code == 0 and "Aucune édition « zz » dans l'archive" in out and "sn (Sénégal)" in out
    code, out, _ = run_cli(*data, "search", WORD, "--author", "Personne Inconnue")
    assert code == 0 and "Aucun article de l'auteur « Personne Inconnue »" in out
    code, out, _ = run_cli(*data, "search", WORD, "--page", "50")
    assert code == 0 and "La page 50 est au-delà des résultats" in out
    code, out, _ = run_cli(*data, "search", WORD, "--categorie", "Astrologie")
    assert code == 0 and "Aucune catégorie « Astrologie »" in out


def test_cli_french_aliases_give_the_same_results(run_cli, built: BuiltArchive,  # type: ignore[no-untyped-def]
                                                  service: SearchService) -> None:
    data = ("--data-dir", str(built.data_dir))
    author = service.search(WORD).facets.authors[0].name
    _, english, _ = run_cli(*data, "search", WORD, "--author", author, "--sort", "oldest",
                            "--json")
    _, french, _ = run_cli(*data, "search", WORD, "--auteur", author, "--tri", "anciens",
                           "--json")
    assert [h["id"] for h in json.loads(english)["hits"]] == \
        [h["id"] for h in json.loads(french)["hits"]]
    assert json.loads(french)["query"]["tri"] == "anciens"


def test_cli_errors_are_french(run_cli, built: BuiltArchive) -> None:  # type: ignore[no-untyped-def]
    code, _, err = run_cli("--data-dir", str(built.data_dir), "search", WORD,
                           "--since", "15/03/2024")
    assert code == 2 and err.startswith("erreur : --since « 15/03/2024 » n'est pas une date")


def test_api_reference_page_lists_every_path_and_parameter_of_the_openapi_document(
    client: FlaskClient,
) -> None:
    document = client.get("/api/openapi.json").get_json()
    text = page(client, "/aide/api")
    for path, methods in document["paths"].items():
        assert f"GET {path}</code>" in text
        for parameter in methods["get"].get("parameters", []):
            section = text.split(f'id="{methods["get"]["operationId"]}"', 1)[1]
            section = section.split("</section>", 1)[0]
            assert f"<code>{parameter['name']}</code>" in section
    assert "répétable" in text and "AAAA-MM-JJ" in text


def test_results_page_does_not_wait_for_a_new_generations_word_table(
    built: BuiltArchive, monkeypatch: pytest.MonkeyPatch,
) -> None:
    import threading

    import indexer.generations as generations

    release = threading.Event()
    real = generations.load_word_table

    def held_back(*args: object) -> object:
        assert release.wait(60), "the test never released the reader"
        return real(*args)  # type: ignore[arg-type]

    monkeypatch.setattr(generations, "load_word_table", held_back)
    with SearchService.over_archive(built.data_dir / "index",
                                    built.data_dir / "archive.sqlite3") as fresh:
        first = fresh.search(WORD, associated=True, wait_for_words=False)
        assert first.associated == [] and first.total > 0
        release.set()
        waited = fresh.search(WORD, associated=True)
        assert waited.associated, "asking with wait_for_words waits for the table"
        again = fresh.search(WORD, associated=True, wait_for_words=False)
        assert [w.word for w in again.associated] == [w.word for w in waited.associated]
