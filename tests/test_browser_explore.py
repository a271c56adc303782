"""Exploring in a real headless Chromium, on a desktop and on a 390 px phone: facets, negated
filters, associated words, the comparison chart, the timeline's drag, paging and the way back
from an article. Screenshots go to tests/artifacts/screenshots/ (explorer-*.png).

The server, browser and page fixtures are those of ``test_browser`` (same archive, same checks:
no console error, so no Content-Security-Policy violation).
"""

from __future__ import annotations

import re
from urllib.parse import parse_qs, quote, urlparse

from test_browser import DESKTOP, OVERFLOW, PHONE, WORD, browser, page, shot, site
from web_archive import BuiltArchive

__all__ = ["browser", "page", "site"]  # the fixtures, re-used from test_browser

import pytest

pytestmark = pytest.mark.browser


def query_of(p: object) -> dict[str, list[str]]:
    return parse_qs(urlparse(p.url).query)  # type: ignore[attr-defined]


def total_of(p: object) -> int:
    text = p.inner_text("#titre-resultats")  # type: ignore[attr-defined]
    found = re.search(r"[\d\u202f]+", text)
    return int(found.group().replace("\u202f", "")) if found else 0


def open_results(p: object, base: str, **args: str) -> None:
    query = "&".join(f"{k}={quote(v)}" for k, v in args.items())
    p.goto(f"{base}/recherche?{query}")  # type: ignore[attr-defined]


@pytest.mark.parametrize("facet, parameter", [
    ("editions", "edition"), ("categories", "categorie"), ("auteurs", "auteur"),
])
def test_each_facet_adds_a_chip_that_can_be_negated_and_removed(
    page: object, site: tuple[str, BuiltArchive], facet: str, parameter: str,
) -> None:
    base, _ = site
    p = page
    open_results(p, base, q=WORD)
    total = total_of(p)
    link = p.locator(f".facet-{facet} .facet a").first  # type: ignore[attr-defined]
    label = link.inner_text()
    count = int(link.locator("xpath=..").locator(".n").inner_text().replace("\u202f", ""))
    link.click()
    p.wait_for_url(re.compile(f"{parameter}="))  # type: ignore[attr-defined]
    assert total_of(p) == count
    chip = p.locator(".active-filters li").filter(has_text=label.split(" (")[0])  # type: ignore[attr-defined]
    assert chip.count() == 1
    shot(p, f"explorer-facette-{facet}")
    chip.locator("a.negate").click()
    p.wait_for_url(re.compile(f"sauf_{parameter}="))  # type: ignore[attr-defined]
    assert total_of(p) == total - count
    assert parameter not in query_of(p)
    negated = p.locator(".active-filters li.negated")  # type: ignore[attr-defined]
    assert negated.count() == 1 and label.split(" (")[0] in negated.inner_text()
    shot(p, f"explorer-sauf-{facet}")
    negated.locator("a.remove").click()
    p.wait_for_url(lambda url: f"sauf_{parameter}" not in url)  # type: ignore[attr-defined]
    assert total_of(p) == total


def test_voir_plus_unfolds_the_other_authors(page: object, site: tuple[str, BuiltArchive]) -> None:
    base, _ = site
    p = page
    open_results(p, base, du="2010-01-01")
    hidden = p.locator(".facet-auteurs details.more .facet a")  # type: ignore[attr-defined]
    assert hidden.count() > 0 and not hidden.first.is_visible()
    p.click(".facet-auteurs details.more summary")  # type: ignore[attr-defined]
    assert hidden.first.is_visible()
    name = hidden.first.inner_text()
    hidden.first.click()
    p.wait_for_url(re.compile("auteur="))  # type: ignore[attr-defined]
    assert query_of(p)["auteur"] == [name]


def test_associated_word_joins_the_query(page: object, site: tuple[str, BuiltArchive]) -> None:
    base, _ = site
    p = page
    # The page never waits for the word table; the API's mots=1 does: ask it first.
    answer = p.request.get(f"{base}/api/search?q={quote(WORD)}&mots=1")  # type: ignore[attr-defined]
    assert answer.ok and answer.json()["associated"]
    open_results(p, base, q=WORD)
    total = total_of(p)
    words = p.locator("#titre-facette-mots + p + ul.words a")  # type: ignore[attr-defined]
    assert words.count() > 0
    word = words.first.inner_text()
    words.first.click()
    p.wait_for_url(re.compile("q="))  # type: ignore[attr-defined]
    assert query_of(p)["q"] == [f"{WORD} {word}"]
    assert 0 < total_of(p) < total
    assert p.input_value("#q") == f"{WORD} {word}"  # type: ignore[attr-defined]


def test_range_line_sort_both_ways_and_paging(page: object,
                                              site: tuple[str, BuiltArchive]) -> None:
    base, _ = site
    p = page
    open_results(p, base, q=WORD, tri="anciens")
    total = total_of(p)
    assert p.inner_text(".range") == f"Résultats 1–10 sur {total}"  # type: ignore[attr-defined]
    oldest = p.locator(".hit time").evaluate_all(  # type: ignore[attr-defined]
        "els => els.map(e => e.getAttribute('datetime'))")
    assert oldest == sorted(oldest)
    p.click(".pager a[rel=next]")  # type: ignore[attr-defined]
    p.wait_for_url(re.compile("page=2"))  # type: ignore[attr-defined]
    assert p.inner_text(".range") == f"Résultats 11–{min(20, total)} sur {total}"  # type: ignore[attr-defined]
    later = p.locator(".hit time").evaluate_all(  # type: ignore[attr-defined]
        "els => els.map(e => e.getAttribute('datetime'))")
    assert later[0] >= oldest[-1]
    p.click(".sort a >> text=récents d'abord")  # type: ignore[attr-defined]
    p.wait_for_url(re.compile("tri=date"))  # type: ignore[attr-defined]
    newest = p.locator(".hit time").evaluate_all(  # type: ignore[attr-defined]
        "els => els.map(e => e.getAttribute('datetime'))")
    assert newest == sorted(newest, reverse=True)


def test_article_from_results_marks_words_and_leads_back(page: object,
                                                         site: tuple[str, BuiltArchive]) -> None:
    base, _ = site
    p = page
    open_results(p, base, q=WORD, page="2")
    results_url = p.url  # type: ignore[attr-defined]
    p.locator(".hit h3 a").first.click()  # type: ignore[attr-defined]
    p.wait_for_url(re.compile(r"/article/\d+\?"))  # type: ignore[attr-defined]
    marks = p.locator(".archived .body mark").all_inner_texts()  # type: ignore[attr-defined]
    assert marks and all(m.lower().startswith("développ") or m.lower().startswith("developp")
                         for m in marks)
    shot(p, "explorer-article-surligne")
    p.click("a[rel=up]")  # type: ignore[attr-defined]
    p.wait_for_url(re.compile(r"/recherche\?"))  # type: ignore[attr-defined]
    assert query_of(p) == parse_qs(urlparse(results_url).query)


def test_month_and_year_pages_walk_to_their_neighbours(page: object,
                                                       site: tuple[str, BuiltArchive]) -> None:
    base, _ = site
    p = page
    p.goto(base + "/archives/2020/")  # type: ignore[attr-defined]
    p.click(".period-nav a[rel=next]")  # type: ignore[attr-defined]
    p.wait_for_url(re.compile(r"/archives/2021/$"))  # type: ignore[attr-defined]
    p.click(".period-nav a[rel=prev]")  # type: ignore[attr-defined]
    p.wait_for_url(re.compile(r"/archives/2020/$"))  # type: ignore[attr-defined]
    p.goto(base + "/archives/2020/01/")  # type: ignore[attr-defined]
    p.click(".period-nav a[rel=prev]")  # type: ignore[attr-defined]
    p.wait_for_url(re.compile(r"/archives/2019/12/$"))  # type: ignore[attr-defined]
    assert "décembre 2019" in p.inner_text("h1")  # type: ignore[attr-defined]


def test_comparison_chart_from_the_results(page: object, site: tuple[str, BuiltArchive]) -> None:
    base, _ = site
    p = page
    open_results(p, base, q=WORD)
    p.click("a.compare-link")  # type: ignore[attr-defined]
    p.wait_for_url(re.compile(r"/comparer\?"))  # type: ignore[attr-defined]
    assert p.input_value("#q1") == WORD  # type: ignore[attr-defined]
    p.fill("#q2", "inondations")  # type: ignore[attr-defined]
    p.click(".compare-form button")  # type: ignore[attr-defined]
    p.wait_for_url(re.compile("inondations"))  # type: ignore[attr-defined]
    assert p.locator(".chart polyline").count() == 2  # type: ignore[attr-defined]
    assert p.locator(".legend li").count() == 2  # type: ignore[attr-defined]
    box = p.locator(".chart svg").bounding_box()  # type: ignore[attr-defined]
    assert box["width"] > 600 and box["height"] > 150
    shot(p, "explorer-comparer-bureau")
    p.select_option("#mesure", "part")  # type: ignore[attr-defined]
    p.click(".compare-form button")  # type: ignore[attr-defined]
    p.wait_for_url(re.compile("mesure=part"))  # type: ignore[attr-defined]
    assert "%" in p.inner_text(".chart")  # type: ignore[attr-defined]
    shot(p, "explorer-comparer-part")
    with p.expect_download() as download:  # type: ignore[attr-defined]
        p.click("text=Télécharger les séries (CSV)")  # type: ignore[attr-defined]
    path = download.value.path()
    with open(path, encoding="utf-8-sig") as exported:
        header = exported.readline()
    assert header.startswith("mois,articles_du_mois,recherche_1,nombre_1,part_1_pourcent")


def test_dragging_across_the_timeline_narrows_the_dates(page: object,
                                                        site: tuple[str, BuiltArchive]) -> None:
    base, _ = site
    p = page
    open_results(p, base, q=WORD)
    bars = p.locator(".timeline svg rect.hit-area")  # type: ignore[attr-defined]
    count = bars.count()
    assert count >= 4
    first, last = bars.nth(1), bars.nth(count - 2)
    start = first.get_attribute("data-start")
    end = last.get_attribute("data-end")
    a, b = first.bounding_box(), last.bounding_box()
    p.mouse.move(a["x"] + a["width"] / 2, a["y"] + a["height"] / 2)  # type: ignore[attr-defined]
    p.mouse.down()  # type: ignore[attr-defined]
    p.mouse.move(b["x"] + b["width"] / 2, b["y"] + b["height"] / 2, steps=8)  # type: ignore[attr-defined]
    p.mouse.up()  # type: ignore[attr-defined]
    p.wait_for_url(re.compile("au="))  # type: ignore[attr-defined]
    assert query_of(p)["du"] == [start] and query_of(p)["au"] == [end]
    assert query_of(p)["q"] == [WORD]


def test_date_fields_read_and_show_iso_dates_in_an_english_browser(
    browser: object, site: tuple[str, BuiltArchive],
) -> None:
    base, _ = site
    context = browser.new_context(viewport=DESKTOP, locale="en-US")  # type: ignore[attr-defined]
    try:
        p = context.new_page()
        p.goto(f"{base}/recherche?q={quote(WORD)}&du=2016-02-03")
        assert p.input_value("#du") == "2016-02-03"
        assert p.get_attribute("#du", "placeholder") == "AAAA-MM-JJ"
        p.fill("#au", "2024-11-30")
        p.click("form[role=search] button[type=submit]")
        p.wait_for_url(re.compile("au=2024-11-30"))
        assert "du=2016-02-03" in p.url
        assert p.input_value("#au") == "2024-11-30"
    finally:
        context.close()


def test_phone_folds_the_filters_and_shows_the_first_result_at_once(
    browser: object, site: tuple[str, BuiltArchive],
) -> None:
    base, _ = site
    context = browser.new_context(viewport=PHONE, locale="fr-FR", is_mobile=True,  # type: ignore[attr-defined]
                                  has_touch=True)
    try:
        p = context.new_page()
        problems: list[str] = []
        p.on("pageerror", lambda exc: problems.append(str(exc)))
        p.goto(f"{base}/recherche?q={quote(WORD)}&edition=sn")
        shot(p, "explorer-recherche-telephone", full_page=False)
        shot(p, "explorer-recherche-telephone-entiere")
        assert not p.locator("#du").is_visible()
        assert p.locator("details.filters-fold summary").is_visible()
        first = p.locator(".hit").first.bounding_box()
        assert first is not None and first["y"] + 60 < PHONE["height"]
        assert p.evaluate(OVERFLOW) <= 1
        p.click("details.filters-fold summary")
        assert p.locator("#du").is_visible()
        p.goto(f"{base}/comparer?q={quote(WORD)}&q=inondations")
        assert p.evaluate(OVERFLOW) <= 1
        shot(p, "explorer-comparer-telephone")
        assert not problems
    finally:
        context.close()


def test_desktop_keeps_the_filters_open(page: object, site: tuple[str, BuiltArchive]) -> None:
    base, _ = site
    p = page
    open_results(p, base, q=WORD)
    assert p.locator("#du").is_visible()  # type: ignore[attr-defined]
    assert not p.locator("details.filters-fold summary").is_visible()  # type: ignore[attr-defined]
    shot(p, "explorer-recherche-bureau")


def test_error_page_keeps_the_query_in_the_form(browser: object,
                                                site: tuple[str, BuiltArchive]) -> None:
    base, _ = site
    # Its own context: the 400 itself is logged by the browser as a failed load.
    context = browser.new_context(viewport=DESKTOP, locale="fr-FR")  # type: ignore[attr-defined]
    try:
        p = context.new_page()
        typed = "inondations " * 50
        response = p.goto(f"{base}/recherche?q={quote(typed)}")
        assert response is not None and response.status == 400
        assert "La recherche est trop longue" in p.inner_text(".error")
        assert p.input_value("#q") == typed.strip()
        shot(p, "explorer-erreur-400")
    finally:
        context.close()


def test_api_reference_reads_as_a_page(page: object, site: tuple[str, BuiltArchive]) -> None:
    base, _ = site
    p = page
    p.goto(base + "/")  # type: ignore[attr-defined]
    p.click("footer >> text=API JSON")  # type: ignore[attr-defined]
    p.wait_for_url(re.compile(r"/aide/api$"))  # type: ignore[attr-defined]
    assert p.locator("section h2 code").count() >= 8  # type: ignore[attr-defined]
    p.click("text=GET /api/search")  # type: ignore[attr-defined]
    assert p.locator("#search table td code").first.inner_text() == "q"  # type: ignore[attr-defined]
    shot(p, "explorer-api-reference")
