"""The journalist's evidence in a real headless Chromium: cite a version, open its capture
(inert: no script runs, nothing leaves 127.0.0.1), download its WARC record, follow the
changes page to a diff, subscribe to withdrawals.

The archive is the demo's own (stories crawled, edited, withdrawn and brought back between
passes), plus one capture of a hostile page full of scripts and outside requests, archived
as the crawler would have archived it. Screenshots go to tests/artifacts/screenshots/.
"""

from __future__ import annotations

import io
import re
import threading
from collections.abc import Iterator
from dataclasses import replace
from pathlib import Path
from typing import Any
from xml.etree import ElementTree as ET

import pytest
from demo_archive import DemoArchive, build_demo_archive
from test_browser import (
    CHROMIUM,
    DESKTOP,
    LAUNCH_ARGS,
    OVERFLOW,
    PHONE,
    SCREENSHOTS,
    _require_chromium,
    shot,
)
from warcio.archiveiterator import ArchiveIterator

from archive.parser import parse_page
from archive.store import Archive
from archive.web import create_app
from archive.web.devserver import DevelopmentServer

pytestmark = pytest.mark.browser

ATOM = "{http://www.w3.org/2005/Atom}"
KEUR_MASSAR = 1
HOSTILE_PATH = "/2025/10/01/page-piegee-par-des-scripts/"
HOSTILE_HEAD = (
    '<script>document.documentElement.setAttribute("data-ran", "head");'
    'fetch("/api/authors?ran=fetch");</script>'
    '<link rel="stylesheet" href="https://sn.notrecontinent.com/wp-content/themes/nc.css">'
    '<meta http-equiv="refresh" content="0;url=https://sn.notrecontinent.com/">'
)
HOSTILE_BODY = (
    '<img src="https://sn.notrecontinent.com/pixel.gif" alt="">'
    '<img src="/static/favicon.svg?ran=image" alt="">'
    "<img src=\"x\" onerror=\"document.documentElement.setAttribute('data-ran', 'onerror')\">"
    '<iframe src="https://example.org/"></iframe>'
    '<script src="https://sn.notrecontinent.com/tracker.js"></script>'
    '<form action="https://example.org/"><input name="x"></form>'
)


def archive_hostile_capture(data_dir: Path, demo: DemoArchive) -> int:
    """Archive a story's page laced with scripts and outside requests; return its article id."""
    with Archive.open(data_dir / "archive.sqlite3") as archive:
        article = archive.reads.get_article(demo.article_id(4))
        assert article is not None
        capture_id = archive.articles.versions(article.id)[0].capture_id
        assert capture_id is not None
        original = archive.captures.read_capture(capture_id)
        assert original is not None
        path = demo.corpus.article(3).path
        html = original.body.decode("utf-8").replace(path, HOSTILE_PATH)
        html = html.replace("<head>", "<head>" + HOSTILE_HEAD, 1)
        html = re.sub(r"(<body[^>]*>)", lambda m: m.group(1) + HOSTILE_BODY, html, count=1)
        url = original.url.replace(path, HOSTILE_PATH)
        capture = replace(original, url=url, final_url=url, body=html.encode("utf-8"))
        stored = archive.captures.store_capture(capture)
        parsed = parse_page(capture.body, url, capture.header("Content-Type"))
        saved = archive.articles.save_article(
            replace(parsed, title="Page piégée : " + parsed.title),
            capture_id=stored, seen_at=capture.fetched_at)
        return saved.article_id


@pytest.fixture(scope="module")
def site(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[str, DemoArchive, int]]:
    _require_chromium()
    demo = build_demo_archive(tmp_path_factory.mktemp("browser-demo"))
    hostile = archive_hostile_capture(demo.data_dir, demo)
    app = create_app({"DATA_DIR": demo.data_dir})
    server = DevelopmentServer("127.0.0.1", 0, app)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_port}", demo, hostile
    finally:
        server.shutdown()
        server.server_close()
        thread.join(timeout=10)
        app.extensions["archive"].close()


@pytest.fixture(scope="module")
def browser(site: object) -> Iterator[Any]:
    from playwright.sync_api import sync_playwright

    SCREENSHOTS.mkdir(parents=True, exist_ok=True)
    with sync_playwright() as playwright:
        launched = playwright.chromium.launch(executable_path=str(CHROMIUM), args=LAUNCH_ARGS)
        try:
            yield launched
        finally:
            launched.close()


class Watched:
    """A page with every request that reached the network, and every console error.

    ``sent`` holds what the browser actually dispatched (requests a page's policy blocks never
    get that far); anything not for 127.0.0.1 is aborted there and recorded, never sent.
    """

    def __init__(self, context: Any, base: str) -> None:
        self.context = context
        self.sent: list[str] = []
        self.failures: list[tuple[str, str]] = []
        self.errors: list[tuple[str, str]] = []

        def dispatch(route: Any) -> None:
            self.sent.append(route.request.url)
            if route.request.url.startswith(base + "/"):
                route.continue_()
            else:
                route.abort()

        context.route("**/*", dispatch)
        context.on("requestfailed", lambda request: self.failures.append(
            (request.url, request.failure or "")))
        self.page = context.new_page()
        self.page.on("console", lambda msg: self.errors.append(
            (msg.location.get("url", ""), msg.text)) if msg.type == "error" else None)
        self.page.on("pageerror", lambda exc: self.errors.append(("", str(exc))))

    def errors_outside_captures(self) -> list[tuple[str, str]]:
        """Return the console errors not raised by a sandboxed capture refusing to run.

        Only a capture answers with ``default-src 'none'`` (our pages allow 'self'), so a
        violation of it is a capture's request being refused.
        """
        return [(url, text) for url, text in self.errors
                if "/capture/contenu" not in url and "sandboxed" not in text
                and "directive: \"default-src 'none'\"" not in text]


@pytest.fixture
def watched(browser: Any, site: tuple[str, DemoArchive, int]) -> Iterator[Watched]:
    context = browser.new_context(viewport=DESKTOP, locale="fr-FR", accept_downloads=True)
    context.set_default_timeout(15_000)
    found = Watched(context, site[0])
    yield found
    context.close()
    assert not found.errors_outside_captures(), f"console errors: {found.errors}"


def test_cite_a_version_from_the_article_page(
    watched: Watched, site: tuple[str, DemoArchive, int]
) -> None:
    base, demo, _ = site
    p = watched.page
    article_id = demo.article_id(KEUR_MASSAR)
    p.goto(f"{base}/article/{article_id}")
    assert "version/2" in p.input_value("#citation-texte")
    shot(p, "article-demo-bureau")
    p.click("text=Version 1")
    p.wait_for_url(re.compile(rf"/article/{article_id}/version/1$"))
    assert "140 familles" in p.inner_text("article .body")
    citation = p.input_value("#citation-texte")
    assert f"{base}/article/{article_id}/version/1" in citation
    assert "version 1 sur 2" in citation and re.search(r"SHA-256 [0-9a-f]{64}", citation)
    assert p.get_attribute("meta[name=citation_title]", "content").startswith("Keur Massar")
    shot(p, "version-bureau")
    with p.expect_download() as caught:
        p.click("a:text('BibTeX')")
    bibtex = Path(caught.value.path()).read_text(encoding="utf-8")
    assert bibtex.startswith(f"@online{{notrecontinent{article_id}v1,")


def test_open_a_capture_no_script_runs_and_nothing_leaves_loopback(
    watched: Watched, site: tuple[str, DemoArchive, int]
) -> None:
    base, _, hostile = site
    p = watched.page
    p.goto(f"{base}/article/{hostile}")
    p.click("text=la page telle que capturée")
    p.wait_for_url(re.compile(rf"/article/{hostile}/version/1/capture$"))
    frame_element = p.locator("iframe.capture-frame")
    assert frame_element.get_attribute("sandbox") == ""
    captured = p.frame_locator("iframe.capture-frame")
    assert "Page piégée" not in captured.locator("h1").first.inner_text(), "shown as captured"
    assert captured.locator("h1").first.inner_text().startswith("Douala")
    frame = next(f for f in p.frames if "/capture/contenu" in f.url)
    assert frame.evaluate("document.documentElement.getAttribute('data-ran')") is None
    assert p.evaluate("document.documentElement.getAttribute('data-ran')") is None
    shot(p, "capture-bureau")
    assert "Statut HTTP" in p.inner_text(".capture-facts")
    outside = [url for url in watched.sent if not url.startswith(base + "/")]
    assert not outside, f"requests sent beyond 127.0.0.1: {outside}"
    assert not [url for url in watched.sent if "ran=" in url], "a captured page called us"
    refused = {url for url, _ in watched.failures}
    assert "https://sn.notrecontinent.com/pixel.gif" in refused, "blocked before leaving"
    assert any("sandboxed" in text or "Content Security Policy" in text
               for _, text in watched.errors), "the browser refused the capture's scripts"


def test_download_the_warc_record_of_a_capture(
    watched: Watched, site: tuple[str, DemoArchive, int]
) -> None:
    base, demo, _ = site
    p = watched.page
    article_id = demo.article_id(KEUR_MASSAR)
    p.goto(f"{base}/article/{article_id}/version/1/capture")
    shown_sha256 = p.inner_text(".capture-facts div:last-child dd")
    with p.expect_download() as caught:
        p.click("text=Télécharger l'enregistrement WARC")
    download = caught.value
    assert download.suggested_filename.endswith(".warc.gz")
    record = Path(download.path()).read_bytes()
    import hashlib

    assert hashlib.sha256(record).hexdigest() == shown_sha256
    bodies = [(r.rec_type, r.content_stream().read())
              for r in ArchiveIterator(io.BytesIO(record))]
    assert [kind for kind, _ in bodies] == ["response"]
    assert b"140 familles" in bodies[0][1]


def test_follow_the_changes_page_to_a_diff(
    watched: Watched, site: tuple[str, DemoArchive, int]
) -> None:
    base, _, _ = site
    p = watched.page
    p.goto(base + "/")
    p.click("header.site >> text=Changements")
    p.wait_for_url(re.compile(r"/changements$"))
    shot(p, "changements-bureau")
    p.select_option("#type", "modification")
    p.click("form.changes-filter button")
    p.wait_for_url(re.compile(r"type=modification"))
    assert set(p.locator(".change").evaluate_all("els => els.map(e => e.className)")) == {
        "change change-changed"}
    link = p.locator(".change >> text=Voir les changements").first
    link.click()
    p.wait_for_url(re.compile(r"/diff\?de=1&a=2"))
    assert p.locator(".diff ins, .diff del").count() > 0
    shot(p, "diff-changement-bureau")


def test_subscribe_to_withdrawals_from_the_home_page(
    watched: Watched, site: tuple[str, DemoArchive, int]
) -> None:
    base, _, _ = site
    p = watched.page
    p.goto(base + "/")
    shot(p, "accueil-demo-bureau")
    p.click("text=1 article retiré")
    p.wait_for_url(re.compile(r"/changements\?type=retrait$"))
    advertised = p.get_attribute("link[rel=alternate][type='application/atom+xml']", "href")
    assert advertised == p.get_attribute("a.feed-link", "href") == "/changements.atom?type=retrait"
    response = p.request.get(base + advertised)
    assert response.ok and "application/atom+xml" in response.headers["content-type"]
    feed = ET.fromstring(response.body())
    entries = feed.findall(f"{ATOM}entry")
    assert len(entries) == 2
    assert all(e.find(f"{ATOM}title").text.startswith("Retiré") for e in entries)
    p.goto(entries[0].find(f"{ATOM}link").get("href"))
    assert p.locator("#titre-article").is_visible()


@pytest.mark.parametrize("path", ["/changements", "version", "capture"])
def test_evidence_pages_fit_a_phone_screen(
    browser: Any, site: tuple[str, DemoArchive, int], path: str
) -> None:
    base, demo, _ = site
    article_id = demo.article_id(KEUR_MASSAR)
    url = {"version": f"/article/{article_id}/version/1",
           "capture": f"/article/{article_id}/version/1/capture"}.get(path, path)
    context = browser.new_context(viewport=PHONE, is_mobile=True, has_touch=True)
    try:
        p = context.new_page()
        p.goto(base + url)
        overflow = p.evaluate(OVERFLOW)
        assert overflow <= 1, f"{url}: something sticks out by {overflow}px on a phone"
        shot(p, f"{path.strip('/')}-telephone", full_page=False)
    finally:
        context.close()
