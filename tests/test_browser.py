"""End to end in a real headless Chromium: search, filter, open an article, read a diff, subscribe.

The application runs on a real HTTP server on 127.0.0.1 over a real archive and index; Debian's
chromium is driven by Playwright. Screenshots of the main pages, on a desktop and on a phone,
are saved under tests/artifacts/screenshots/.
"""

from __future__ import annotations

import os
import re
import threading
from collections.abc import Iterator
from pathlib import Path
from xml.etree import ElementTree as ET

import pytest
from web_archive import EDIT_SENTENCE, BuiltArchive, build_archive

from archive.web import create_app
from archive.web.devserver import DevelopmentServer

pytestmark = pytest.mark.browser

CHROMIUM = Path("/usr/bin/chromium")
SCREENSHOTS = Path(__file__).parent / "artifacts" / "screenshots"
ATOM = "{http://www.w3.org/2005/Atom}"
LAUNCH_ARGS = [
    "--no-sandbox", "--disable-gpu", "--disable-dev-shm-usage", "--disable-background-networking",
    "--disable-component-update", "--disable-sync", "--no-first-run",
]
DESKTOP = {"width": 1280, "height": 900}
PHONE = {"width": 390, "height": 844}
WORD = "développement"
# How far the rightmost visible element reaches past the phone's width (0 or less: it fits).
OVERFLOW = f"""Math.max(...Array.from(document.querySelectorAll('body *'))
  .filter(e => e.getClientRects().length && !e.closest('.skip, .visually-hidden, svg'))
  .map(e => e.getBoundingClientRect().right)) - {PHONE["width"]}"""


def _require_chromium() -> None:
    if CHROMIUM.exists():
        return
    message = f"{CHROMIUM} is missing (apt-get install chromium, as .ci/run does)"
    if os.environ.get("ARCHIVE_REQUIRE_BROWSER") == "1":
        pytest.fail(message + "; ARCHIVE_REQUIRE_BROWSER=1 forbids skipping")
    pytest.skip(message)


@pytest.fixture(scope="module")
def site(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[str, BuiltArchive]]:
    _require_chromium()
    data_dir = tmp_path_factory.mktemp("browser-data")
    built = build_archive(data_dir, 40)
    app = create_app({"DATA_DIR": data_dir})
    server = DevelopmentServer("127.0.0.1", 0, app)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_port}", built
    finally:
        server.shutdown()
        server.server_close()
        thread.join(timeout=10)
        app.extensions["archive"].close()


@pytest.fixture(scope="module")
def browser(site: tuple[str, BuiltArchive]) -> Iterator[object]:
    from playwright.sync_api import sync_playwright

    SCREENSHOTS.mkdir(parents=True, exist_ok=True)
    with sync_playwright() as playwright:
        launched = playwright.chromium.launch(executable_path=str(CHROMIUM), args=LAUNCH_ARGS)
        try:
            yield launched
        finally:
            launched.close()


@pytest.fixture
def page(browser: object) -> Iterator[object]:
    context = browser.new_context(viewport=DESKTOP, locale="fr-FR")  # type: ignore[attr-defined]
    context.set_default_timeout(15_000)
    opened = context.new_page()
    problems: list[str] = []
    opened.on("console", lambda msg: problems.append(msg.text) if msg.type == "error" else None)
    opened.on("pageerror", lambda exc: problems.append(str(exc)))
    yield opened
    context.close()
    assert not problems, f"browser console errors (CSP violations?): {problems}"


def shot(page: object, name: str, *, full_page: bool = True) -> None:
    page.screenshot(  # type: ignore[attr-defined]
        path=str(SCREENSHOTS / f"{name}.png"), full_page=full_page)


def test_search_filter_by_author_and_date_then_open_an_article(
    page: object, site: tuple[str, BuiltArchive]
) -> None:
    base, _ = site
    p = page
    p.goto(base + "/")  # type: ignore[attr-defined]
    shot(p, "accueil-bureau")
    p.fill("#q", WORD)  # type: ignore[attr-defined]
    p.click("form[role=search] button[type=submit]")  # type: ignore[attr-defined]
    p.wait_for_url(re.compile(r"/recherche\?"))  # type: ignore[attr-defined]
    count = p.inner_text("#titre-resultats")  # type: ignore[attr-defined]
    total = int(re.search(r"\d+", count).group())  # type: ignore[union-attr]
    assert total > 10
    assert p.locator(".hit mark").count() > 0  # type: ignore[attr-defined]
    shot(p, "recherche-bureau")

    facet = p.locator(".facet a").first  # type: ignore[attr-defined]
    author = facet.inner_text()
    facet.click()
    p.wait_for_url(re.compile(r"auteur="))  # type: ignore[attr-defined]
    metas = p.locator(".hit .meta a").all_inner_texts()  # type: ignore[attr-defined]
    assert metas and set(metas) == {author}
    assert author in p.inner_text(".active-filters")  # type: ignore[attr-defined]

    p.locator(".active-filters a.remove").last.click()  # type: ignore[attr-defined]
    p.wait_for_url(lambda url: "auteur=" not in url)  # type: ignore[attr-defined]

    bar = p.locator(".timeline svg a").first  # type: ignore[attr-defined]
    bar.click()
    p.wait_for_url(re.compile(r"du=\d{4}-\d{2}-\d{2}&au=\d{4}-\d{2}-\d{2}"))  # type: ignore[attr-defined]
    assert "Depuis le" in p.inner_text(".active-filters")  # type: ignore[attr-defined]
    narrowed = int(re.search(r"\d+", p.inner_text("#titre-resultats")).group())  # type: ignore[union-attr,attr-defined]
    assert 0 < narrowed < total

    first = p.locator(".hit h3 a").first  # type: ignore[attr-defined]
    first.click()
    # Opened from the results, the article carries the search: words marked, a way back.
    p.wait_for_url(re.compile(r"/article/\d+\?q="))  # type: ignore[attr-defined]
    assert p.locator(".archived mark").count() > 0  # type: ignore[attr-defined]
    assert p.locator("a[rel=up]").is_visible()  # type: ignore[attr-defined]
    assert p.locator("#titre-citer").is_visible()  # type: ignore[attr-defined]
    assert "/article/" in p.input_value("#citation-texte")  # type: ignore[attr-defined]
    shot(p, "article-bureau")


def test_filters_typed_in_the_form_with_author_completion_list(
    page: object, site: tuple[str, BuiltArchive]
) -> None:
    base, built = site
    p = page
    author = built.corpus.article(0).author
    p.goto(base + "/recherche")  # type: ignore[attr-defined]
    options = p.locator("#auteurs option").evaluate_all(  # type: ignore[attr-defined]
        "els => els.map(e => e.value)")
    assert author in options
    p.fill("#auteur", author)  # type: ignore[attr-defined]
    p.fill("#du", "2010-01-01")  # type: ignore[attr-defined]
    p.fill("#au", "2030-12-31")  # type: ignore[attr-defined]
    p.click("form[role=search] button[type=submit]")  # type: ignore[attr-defined]
    p.wait_for_url(re.compile(r"auteur="))  # type: ignore[attr-defined]
    assert "du=2010-01-01" in p.url  # type: ignore[attr-defined]
    assert set(p.locator(".hit .meta a").all_inner_texts()) == {author}  # type: ignore[attr-defined]


def test_follow_a_version_diff(page: object, site: tuple[str, BuiltArchive]) -> None:
    base, built = site
    p = page
    p.goto(f"{base}/article/{built.edited[0]}")  # type: ignore[attr-defined]
    p.click("text=voir les changements")  # type: ignore[attr-defined]
    p.wait_for_url(re.compile(r"/diff\?de=1&a=2"))  # type: ignore[attr-defined]
    inserted = " ".join(p.locator(".diff ins").all_inner_texts())  # type: ignore[attr-defined]
    assert EDIT_SENTENCE.split(" : ")[1][:20] in inserted
    shot(p, "diff-bureau")
    p.select_option("#de", "2")  # type: ignore[attr-defined]
    p.click("form.compare button")  # type: ignore[attr-defined]
    p.wait_for_url(re.compile(r"de=2&a=2"))  # type: ignore[attr-defined]
    assert "même texte" in p.inner_text("main")  # type: ignore[attr-defined]


def test_withdrawn_article_notice(page: object, site: tuple[str, BuiltArchive]) -> None:
    base, built = site
    p = page
    p.goto(f"{base}/article/{built.withdrawn}")  # type: ignore[attr-defined]
    assert "retiré de la plateforme" in p.inner_text(".notice-withdrawn")  # type: ignore[attr-defined]
    shot(p, "article-retire-bureau")


def test_subscribe_to_the_feed_of_a_search(page: object, site: tuple[str, BuiltArchive]) -> None:
    base, _ = site
    p = page
    p.goto(f"{base}/recherche?q={WORD}")  # type: ignore[attr-defined]
    href = p.get_attribute("a.feed", "href")  # type: ignore[attr-defined]
    advertised = p.get_attribute("link[rel=alternate][type='application/atom+xml']", "href")  # type: ignore[attr-defined]
    assert href == advertised
    response = p.request.get(base + href)  # type: ignore[attr-defined]
    assert response.ok and "atom+xml" in response.headers["content-type"]
    feed = ET.fromstring(response.body())
    assert feed.findall(f"{ATOM}entry")
    link = feed.find(f"{ATOM}entry/{ATOM}link[@rel='alternate']")
    assert link is not None
    p.goto(link.get("href"))  # type: ignore[attr-defined]
    assert p.locator("#titre-article").is_visible()  # type: ignore[attr-defined]


def test_pages_work_without_javascript(browser: object, site: tuple[str, BuiltArchive]) -> None:
    base, _ = site
    context = browser.new_context(viewport=DESKTOP, java_script_enabled=False)  # type: ignore[attr-defined]
    try:
        p = context.new_page()
        p.goto(base + "/")
        p.fill("#q", WORD)
        p.press("#q", "Enter")
        p.wait_for_url(re.compile(r"/recherche\?q="))
        assert p.locator(".hit").count() == 10
        p.locator(".pager a[rel=next]").click()
        p.wait_for_url(re.compile(r"page=2"))
        assert p.locator(".hit").count() > 0
    finally:
        context.close()


def test_keyboard_reaches_the_skip_link_first(page: object, site: tuple[str, BuiltArchive]) -> None:
    base, _ = site
    p = page
    p.goto(base + "/")  # type: ignore[attr-defined]
    p.keyboard.press("Tab")  # type: ignore[attr-defined]
    assert p.evaluate("document.activeElement.textContent") == "Aller au contenu"  # type: ignore[attr-defined]
    p.keyboard.press("Enter")  # type: ignore[attr-defined]
    # The fragment navigation completes after the key press returns: wait for it (bounded).
    p.wait_for_url("**#contenu", timeout=10_000)  # type: ignore[attr-defined]
    assert p.url.endswith("#contenu")  # type: ignore[attr-defined]


@pytest.mark.parametrize("path", ["/", f"/recherche?q={WORD}", "/auteurs", "/archives/"])
def test_pages_fit_a_phone_screen(browser: object, site: tuple[str, BuiltArchive],
                                  path: str) -> None:
    base, built = site
    context = browser.new_context(viewport=PHONE, is_mobile=True, has_touch=True)  # type: ignore[attr-defined]
    try:
        p = context.new_page()
        p.goto(base + path)
        overflow = p.evaluate(OVERFLOW)
        assert overflow <= 1, f"{path}: something sticks out by {overflow}px on a phone"
        name = {"/": "accueil", "/auteurs": "auteurs", "/archives/": "archives"}.get(
            path, "recherche")
        shot(p, f"{name}-telephone", full_page=False)
        if path == "/":
            p.goto(f"{base}/article/{built.edited[0]}")
            assert p.evaluate(OVERFLOW) <= 1
            shot(p, "article-telephone", full_page=False)
            p.locator("#titre-citer").scroll_into_view_if_needed()
            shot(p, "article-citation-telephone", full_page=False)
    finally:
        context.close()
