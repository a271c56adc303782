"""A hostile WordPress-like site on loopback, and a crawl of it, for the hostile-input tests.

Anyone can publish on the platform, so the tests crawl a site written by an attacker: script
and formula payloads in every field (title, byline, categories, body, JSON-LD, meta, slug,
canonical), bidi controls, NUL bytes, invalid UTF-8, deep nesting, a huge paragraph (and a
later edit of it), a very long body, gzip bombs (a sitemap and a ``Content-Encoding``),
canonicals claiming another site's articles, redirects off the site, and a response whose
headers trickle in. ``HostileSite`` is the WSGI app (its ``requests`` list says what was
asked), ``serve_hostile_site`` runs it on a real server thread, ``serve_sentinel`` is a
loopback server that must never be asked anything, and ``crawl_hostile_archive`` crawls the
hostile site next to a replica edition (the victim) into a data directory and indexes it.

Tests of every output (HTML, Atom, CSV, JSON, API) reuse the crawled archive through
``crawl_hostile_archive`` (see the ``hostile_archive`` fixture in ``conftest.py``).
"""

from __future__ import annotations

import contextlib
import html
import json
import socket
import threading
import zlib
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass, field
from functools import cache
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

from werkzeug.serving import BaseWSGIServer, WSGIRequestHandler, make_server

XSS_SCRIPT = '<script>alert("xss")</script>'
XSS_IMG = '<img src=x onerror=alert(1)>'
XSS_SVG = '<svg onload=alert(2)>'
FORMULA = '=HYPERLINK("http://evil.example/","x")'
BIDI = "\u202egnp.exe\u202c"
JS_URL = "javascript:alert(document.domain)"

XSS_TITLE = f"{XSS_SCRIPT} Titre piégé {XSS_IMG}"
XSS_AUTHOR = f"{FORMULA} {XSS_SVG}"
XSS_CATEGORIES = (f"{XSS_SCRIPT}culture", "+SUM(1,2)", "@cmd", "-2+3")
XSS_SLUG = "%3Cscript%3Ealert(5)%3C%2Fscript%3E"
BIDI_TITLE = f"Facture {BIDI} payée"
UTF8_BAD_TEXT = "La santé publique au Sénégal"
HUGE_WORDS = 40_000
LONG_BODY_BYTES = 4_500_000
DEEP_LEVELS = 300
BOMB_BYTES = 256 * 1024 * 1024
SLOW_HEADER_SECONDS = 1.5

_HUGE_WORD_LIST = ("citoyen", "marché", "récolte", "village", "école", "route", "pluie", "eau")


@cache
def gzip_bomb(size: int = BOMB_BYTES) -> bytes:
    """Return one gzip member that inflates to SIZE zero bytes (about 1000:1)."""
    compressor = zlib.compressobj(6, zlib.DEFLATED, 31)
    block = bytes(1 << 20)
    parts = [compressor.compress(block) for _ in range(size // len(block))]
    parts.append(compressor.flush())
    return b"".join(parts)


def huge_paragraph(edited: bool = False) -> str:
    """Return the one long paragraph of the huge-paragraph article (or its edited text)."""
    words = [_HUGE_WORD_LIST[i % len(_HUGE_WORD_LIST)] + str(i % 97) for i in range(HUGE_WORDS)]
    if edited:
        words[HUGE_WORDS // 2] = "modifié"
    return " ".join(words)


@dataclass(frozen=True)
class HostilePage:
    """One article of the hostile site: its path and what the tests expect of it."""

    path: str
    kind: str
    title: str


def _page(path: str, kind: str, title: str) -> HostilePage:
    return HostilePage(path=path, kind=kind, title=title)


ARTICLES: tuple[HostilePage, ...] = (
    _page(f"/2024/01/01/{XSS_SLUG}/", "xss", XSS_TITLE),
    _page("/2024/01/02/bidi-nul/", "bidi", BIDI_TITLE),
    _page("/2024/01/03/sante-octet-invalide/", "bad-utf8", UTF8_BAD_TEXT),
    _page("/2024/01/04/imbrication-profonde/", "deep", "Un article très imbriqué"),
    _page("/2024/01/05/paragraphe-immense/", "huge", "Un paragraphe immense"),
    _page("/2024/01/06/corps-tres-long/", "long", "Un corps très long"),
    _page("/2024/01/07/canonique-volee/", "steal", "Article usurpé"),
    _page("/2024/01/08/canonique-plateforme/", "steal-platform", "Article usurpé (plateforme)"),
    _page("/2024/01/09/canonique-javascript/", "js-canonical", "Canonique javascript"),
    _page("/2024/02/01/bombe-gzip/", "bomb", "Bombe"),
    _page("/2024/02/02/entetes-lents/", "slow", "Des en-têtes qui traînent"),
    _page("/2024/03/01/redirection-ailleurs/", "redirect-offsite", ""),
    _page("/2024/03/02/redirection-ipv6/", "redirect-ipv6", ""),
    _page("/2024/03/03/redirection-javascript/", "redirect-js", ""),
    _page("/2024/03/04/redirection-fichier/", "redirect-file", ""),
    _page("/2024/03/05/redirection-identifiants/", "redirect-userinfo", ""),
    _page("/2024/03/06/redirection-relative-protocole/", "redirect-scheme-relative", ""),
)
"""Every article path the hostile site lists, with the trick it plays."""


def _e(text: str) -> str:
    return html.escape(text, quote=True)


def _article_html(*, title: str, author: str, published: str, paragraphs: Iterable[str],
                  canonical: str | None, categories: Iterable[str] = (),
                  json_ld: dict[str, Any] | None = None, meta: str = "",
                  charset: str = "UTF-8", wrap: Callable[[str], str] = lambda inner: inner) -> str:
    ld = json.dumps(json_ld or {"@type": "NewsArticle", "headline": title,
                                "author": {"@type": "Person", "name": author}}).replace("/", "\\/")
    # As WordPress's wp_json_encode does, "/" is escaped: the payloads stay inside the JSON.
    head_canonical = f'<link rel="canonical" href="{_e(canonical)}">' if canonical else ""
    cats = "".join(f'<a rel="category tag" href="/category/c{i}/">{_e(c)}</a>'
                   for i, c in enumerate(categories))
    body = "\n".join(f"<p>{_e(p)}</p>" for p in paragraphs)
    content = (f'<div class="entry-content">\n{body}\n<p>Article écrit par : {_e(author)}</p>\n'
               f"<p>Mis en ligne : {published}</p>\n</div>")
    return (
        f'<!DOCTYPE html>\n<html lang="fr-FR">\n<head>\n<meta charset="{charset}">\n'
        f"<title>{_e(title)} - Notre Continent</title>\n"
        f'<meta name="author" content="{_e(author)}">\n'
        f'<meta name="description" content="{_e(XSS_SCRIPT)}">\n'
        f'<meta property="og:title" content="{_e(title)}">\n{meta}'
        f"{head_canonical}\n"
        f'<script type="application/ld+json">{ld}</script>\n'
        f'</head>\n<body class="single single-post">\n<div id="content">\n'
        f'<article class="post">\n<header class="entry-header">'
        f'<h1 class="entry-title">{_e(title)}</h1>\n<span class="cat-links">{cats}</span>'
        f"</header>\n{wrap(content)}\n</article>\n</div>\n</body>\n</html>\n"
    )


def _ordinary_paragraphs(topic: str) -> list[str]:
    return [
        f"{topic} : les habitants du quartier ont tenu une réunion publique samedi pour discuter "
        "de l'avenir du marché central et des travaux annoncés par la commune.",
        "Les commerçants demandent un calendrier précis et une aide pendant la durée du chantier, "
        "tandis que les élus promettent une concertation avant la fin du mois.",
    ]


@dataclass
class HostileSite:
    """The hostile site as a WSGI app; ``requests`` lists every path asked, in order."""

    victim_urls: tuple[str, ...] = ()
    platform_victim_url: str | None = None
    sentinel_url: str = "http://127.0.0.1:9/"
    sentinel_v6_url: str = "http://[::1]:9/"
    bomb_bytes: int = BOMB_BYTES
    base_url: str = ""
    edited: bool = False
    requests: list[str] = field(default_factory=list)
    _lock: threading.Lock = field(default_factory=threading.Lock, repr=False)

    def edit_huge_paragraph(self) -> None:
        """Change one word in the middle of the huge paragraph (the next crawl sees version 2)."""
        self.edited = True

    def __call__(self, environ: dict[str, Any], start_response: Callable[..., Any]) -> list[bytes]:
        path = environ.get("RAW_URI") or environ.get("PATH_INFO", "/")
        path = path.split("?", 1)[0]
        with self._lock:
            self.requests.append(path)
        status, headers, body = self.respond(path)
        start_response(status, [*headers, ("Content-Length", str(len(body)))])
        return [body]

    def respond(self, path: str) -> tuple[str, list[tuple[str, str]], bytes]:
        """Return (status, headers, body) for PATH."""
        html_type = ("Content-Type", "text/html; charset=UTF-8")
        if path == "/robots.txt":
            text = (f"User-agent: *\nAllow: /\nSitemap: {self.base_url}/sitemap-bombe.xml.gz\n"
                    f"Sitemap: {self.base_url}/wp-sitemap.xml\n")
            return "200 OK", [("Content-Type", "text/plain")], text.encode()
        if path == "/sitemap-bombe.xml.gz":
            return "200 OK", [("Content-Type", "application/gzip")], gzip_bomb(self.bomb_bytes)
        if path == "/wp-sitemap.xml":
            urls = "".join(f"<url><loc>{_e(self.base_url + page.path)}</loc>"
                           f"<lastmod>{self._lastmod(page)}</lastmod></url>"
                           for page in self.pages())
            text = ('<?xml version="1.0" encoding="UTF-8"?>\n<urlset xmlns="http://www.sitemaps'
                    f'.org/schemas/sitemap/0.9">{urls}</urlset>\n')
            return "200 OK", [("Content-Type", "application/xml")], text.encode()
        if path == "/":
            links = "".join(f'<li><a href="{_e(page.path)}">{_e(page.title)}</a></li>'
                            for page in self.pages())
            text = f"<!DOCTYPE html><html><body><ul>{links}</ul></body></html>"
            return "200 OK", [html_type], text.encode()
        page = next((p for p in self.pages() if p.path == path), None)
        if page is None:
            return "404 Not Found", [html_type], b"<html><body>introuvable</body></html>"
        return self._article(page)

    def pages(self) -> tuple[HostilePage, ...]:
        """Every article page the site lists: ``ARTICLES`` and the impostor of the victim."""
        if not self.platform_victim_url:
            return ARTICLES
        impostor = _page(urlsplit(self.platform_victim_url).path, "impostor", "Imposteur")
        return (*ARTICLES, impostor)

    def _lastmod(self, page: HostilePage) -> str:
        if page.kind == "huge" and self.edited:
            return "2024-06-02T10:00:00+00:00"
        return "2024-06-01T10:00:00+00:00"

    def _article(self, page: HostilePage) -> tuple[str, list[tuple[str, str]], bytes]:
        html_type = ("Content-Type", "text/html; charset=UTF-8")
        own = self.base_url + page.path
        redirects = {
            "redirect-offsite": self.sentinel_url + "vol/",
            "redirect-ipv6": self.sentinel_v6_url + "vol/",
            "redirect-js": JS_URL,
            "redirect-file": "file:///etc/passwd",
            "redirect-userinfo": self.base_url.replace("://", "://user:pw@", 1) + "@10.0.0.1/",
            "redirect-scheme-relative": "//evil.example/vol/",
        }
        if page.kind in redirects:
            return "302 Found", [("Location", redirects[page.kind]), html_type], b""
        if page.kind == "bomb":
            headers = [("Content-Type", "text/html; charset=UTF-8"), ("Content-Encoding", "gzip")]
            return "200 OK", headers, gzip_bomb(self.bomb_bytes)
        text = self._article_text(page, own)
        if page.kind == "bad-utf8":
            raw = text.encode("utf-8")
            # One stray byte in a page otherwise valid UTF-8 (declared so).
            return "200 OK", [html_type], raw.replace(b"publique", b"publ\xffique", 1)
        return "200 OK", [html_type], text.encode("utf-8")

    def _article_text(self, page: HostilePage, own: str) -> str:
        published = "01/06/2024"
        common: dict[str, Any] = {"published": published, "canonical": own}
        if page.kind == "xss":
            ld = {"@type": "NewsArticle", "headline": "</script><script>alert(4)</script>",
                  "author": {"@type": "Person", "name": XSS_AUTHOR}, "articleSection": FORMULA}
            paragraphs = [f"Premier paragraphe {XSS_SCRIPT} et {XSS_IMG} dans le texte.",
                          f"Un lien {JS_URL} et une formule {FORMULA} et {BIDI}.",
                          *_ordinary_paragraphs("Sabotage")]
            return _article_html(title=XSS_TITLE, author=XSS_AUTHOR, paragraphs=paragraphs,
                                 categories=XSS_CATEGORIES, json_ld=ld, **common)
        if page.kind == "bidi":
            paragraphs = [f"Une facture {BIDI} et un octet nul \x00 ici.",
                          *_ordinary_paragraphs("Commerce")]
            return _article_html(title=BIDI_TITLE, author=f"Awa {BIDI} Diop",
                                 paragraphs=paragraphs, **common)
        if page.kind == "bad-utf8":
            paragraphs = [f"{UTF8_BAD_TEXT} : la publique campagne de vaccination reprend.",
                          *_ordinary_paragraphs("Santé")]
            return _article_html(title=UTF8_BAD_TEXT, author="Moussa Fall",
                                 paragraphs=paragraphs, **common)
        if page.kind == "deep":
            def nest(inner: str) -> str:
                return "<div>" * DEEP_LEVELS + inner + "</div>" * DEEP_LEVELS
            return _article_html(title=page.title, author="Fatou Sarr", wrap=nest,
                                 paragraphs=_ordinary_paragraphs("Imbrication profonde"),
                                 **common)
        if page.kind == "huge":
            paragraphs = [huge_paragraph(self.edited), *_ordinary_paragraphs("Immense")]
            return _article_html(title=page.title, author="Ibrahima Ndiaye",
                                 paragraphs=paragraphs, **common)
        if page.kind == "long":
            sentence = "Le conseil municipal a voté le budget de la ville après un long débat. "
            count = LONG_BODY_BYTES // len(sentence.encode("utf-8"))
            paragraphs = [sentence * 40] * (count // 40)
            return _article_html(title=page.title, author="Aminata Ba",
                                 paragraphs=paragraphs, **common)
        if page.kind == "steal":
            victim = self.victim_urls[0] if self.victim_urls else own
            return _article_html(title="Titre remplacé par un faussaire", author="Faussaire",
                                 paragraphs=_ordinary_paragraphs("Contrefaçon"),
                                 published=published, canonical=victim)
        if page.kind == "steal-platform":
            victim = self.platform_victim_url or own
            return _article_html(title="Titre remplacé par un faussaire", author="Faussaire",
                                 paragraphs=_ordinary_paragraphs("Contrefaçon"),
                                 published=published, canonical=victim)
        if page.kind == "impostor":
            # The victim's own path, claiming the victim's platform address.
            return _article_html(title="Titre remplacé par un imposteur", author="Imposteur",
                                 paragraphs=_ordinary_paragraphs("Imposture"),
                                 published=published, canonical=self.platform_victim_url)
        if page.kind == "js-canonical":
            return _article_html(title=page.title, author="Faussaire",
                                 paragraphs=_ordinary_paragraphs("Javascript"),
                                 published=published, canonical=JS_URL)
        return _article_html(title=page.title, author="Lent Lent",
                             paragraphs=_ordinary_paragraphs("Lenteur"), **common)


class _SlowHeaderHandler(WSGIRequestHandler):
    """Quiet handler that trickles the response headers of the slow page, byte by byte."""

    slow_seconds = SLOW_HEADER_SECONDS

    def log_request(self, code: int | str = "-", size: int | str = "-") -> None:
        return None

    def end_headers(self) -> None:
        if "/entetes-lents/" not in self.path:
            super().end_headers()
            return
        self._headers_buffer.append(b"\r\n")  # type: ignore[attr-defined]
        data = b"".join(self._headers_buffer)  # type: ignore[attr-defined]
        self._headers_buffer = []  # type: ignore[attr-defined]
        pause = threading.Event()
        step = self.slow_seconds / max(len(data), 1)
        for index in range(len(data)):
            self.wfile.write(data[index:index + 1])
            self.wfile.flush()
            # Server-side pacing of the attack, not test synchronisation.
            pause.wait(step)


@dataclass
class RunningSite:
    """A WSGI app served on a loopback port by a background thread until ``stop()``."""

    url: str
    app: Any
    server: BaseWSGIServer
    thread: threading.Thread

    def stop(self) -> None:
        """Shut the server down and close its socket."""
        self.server.shutdown()
        self.thread.join(timeout=10)
        self.server.server_close()


def _serve(app: Any, host: str = "127.0.0.1") -> RunningSite:
    server = make_server(host, 0, app, threaded=True, request_handler=_SlowHeaderHandler)
    port = server.socket.getsockname()[1]
    shown = f"[{host}]" if ":" in host else host
    thread = threading.Thread(target=server.serve_forever, name=f"hostile-{port}", daemon=True)
    thread.start()
    return RunningSite(url=f"http://{shown}:{port}", app=app, server=server, thread=thread)


@dataclass
class Sentinel:
    """A WSGI app that records every request: the crawler must never reach it."""

    requests: list[str] = field(default_factory=list)

    def __call__(self, environ: dict[str, Any], start_response: Callable[..., Any]) -> list[bytes]:
        self.requests.append(environ.get("PATH_INFO", "/"))
        start_response("200 OK", [("Content-Type", "text/plain")])
        return [b"stolen"]


def serve_sentinel(host: str = "127.0.0.1") -> RunningSite:
    """Serve a request-recording ``Sentinel`` on a free port of HOST."""
    return _serve(Sentinel(), host)


def ipv6_loopback_available() -> bool:
    """Tell whether this machine can listen on ``::1``."""
    try:
        with socket.socket(socket.AF_INET6, socket.SOCK_STREAM) as probe:
            probe.bind(("::1", 0))
    except OSError:
        return False
    return True


def serve_hostile_site(site: HostileSite, host: str = "127.0.0.1") -> RunningSite:
    """Serve SITE on a free port of HOST; its ``base_url`` is set to the served address."""
    running = _serve(site, host)
    site.base_url = running.url
    return running


@dataclass
class HostileArchive:
    """A data directory holding a crawl of the hostile site next to its victim edition."""

    data_dir: Path
    hostile_url: str
    victim_url: str
    victim_article_urls: tuple[str, ...]
    victim_title: str
    victim_body: str
    site: HostileSite
    sentinel: Sentinel
    sentinel_v6: Sentinel | None
    reports: list[dict[str, Any]]
    off_loopback: list[str]


def _recording_connect(off_loopback: list[str]) -> Callable[..., Any]:
    real_connect = socket.socket.connect

    def connect(self: socket.socket, address: Any) -> Any:
        host = str(address[0]) if isinstance(address, tuple) and address else str(address)
        if not (host.startswith("127.") or host in ("::1", "localhost")):
            off_loopback.append(host)
            raise OSError(f"hostile-site test refused a connection to {host}")
        return real_connect(self, address)

    return connect


@contextlib.contextmanager
def _only_loopback(off_loopback: list[str]) -> Iterator[None]:
    real_connect = socket.socket.connect
    socket.socket.connect = _recording_connect(off_loopback)  # type: ignore[method-assign]
    try:
        yield
    finally:
        socket.socket.connect = real_connect  # type: ignore[method-assign]


def _read_reports(data_dir: Path) -> list[dict[str, Any]]:
    reports = sorted((data_dir / "reports").glob("crawl-*.json"),
                     key=lambda path: int(path.stem.split("-")[1]))
    return [json.loads(path.read_text(encoding="utf-8")) for path in reports]


def crawl_hostile_archive(data_dir: Path, *, bomb_bytes: int = BOMB_BYTES,
                          index: bool = True) -> HostileArchive:
    """Crawl a replica edition (the victim) into DATA_DIR, then it and the hostile site twice.

    The first crawl archives the victim alone; the second both sites; then the hostile site
    edits its huge paragraph and a third crawl archives that edit as version 2. The index is
    brought up to date unless INDEX is false. Every connection off loopback is refused and
    listed in ``off_loopback``.
    """
    from archive.config import load_settings
    from archive.crawler import crawl
    from archive.replica import Corpus, ReplicaState, serve_replica

    settings = load_settings(environ={}, data_dir=data_dir, crawl_delay=0.0)
    corpus = Corpus(3, editions=("sn",))
    replica = serve_replica(corpus, state=ReplicaState(corpus))
    sentinel = serve_sentinel()
    sentinel_v6 = serve_sentinel("::1") if ipv6_loopback_available() else None
    victim = corpus.article(0)
    victim_url = replica.urls["sn"] + victim.path
    site = HostileSite(victim_urls=(victim_url,), platform_victim_url=victim.canonical_url,
                       sentinel_url=sentinel.url + "/", bomb_bytes=bomb_bytes,
                       sentinel_v6_url=(sentinel_v6.url if sentinel_v6 else "http://[::1]:9")
                       + "/")
    hostile = serve_hostile_site(site)
    off_loopback: list[str] = []
    try:
        with _only_loopback(off_loopback):
            # The victim is archived first, as in a real archive a hostile site joins later.
            crawl([replica.urls["sn"] + "/"], settings)
            seeds = [replica.urls["sn"] + "/", hostile.url + "/"]
            crawl(seeds, settings)
            site.edit_huge_paragraph()
            crawl(seeds, settings)
            if index:
                from indexer.update import update_index

                update_index(settings.database_path, settings.index_dir,
                             build_mb=settings.index_build_mb)
    finally:
        for running in (hostile, sentinel, *([sentinel_v6] if sentinel_v6 else [])):
            running.stop()
        replica.stop()
    return HostileArchive(
        data_dir=data_dir, hostile_url=hostile.url, victim_url=replica.urls["sn"],
        victim_article_urls=(victim_url,), victim_title=victim.title, victim_body=victim.body,
        site=site, sentinel=sentinel.app,
        sentinel_v6=sentinel_v6.app if sentinel_v6 else None,
        reports=_read_reports(data_dir), off_loopback=off_loopback,
    )
