"""The replica's WSGI application: one edition of the platform, with its state and faults.

``make_app(corpus, edition)`` returns a ``ReplicaApp``; every request is recorded in
``app.requests`` (method, path, status, time, User-Agent, headers) so tests can check that a
crawler is polite: delays between requests, robots.txt obeyed, conditional requests sent.
"""

from __future__ import annotations

import hashlib
import json
import re
import threading
import time
from collections import deque
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass, field
from datetime import UTC, date, datetime
from email.utils import format_datetime, parsedate_to_datetime
from typing import Any
from urllib.parse import parse_qsl

from archive.authors import author_slug
from archive.replica import feeds, rest, theme
from archive.replica.corpus import CATEGORIES, Corpus, category_slug, page_count, page_of
from archive.replica.faults import OVERSIZED_BYTES, FaultKey, Faults
from archive.replica.state import ReplicaState
from archive.replica.theme import Link, ListingItem, Site

StartResponse = Callable[..., Any]
_HTML = "text/html; charset=UTF-8"
_ARTICLE = re.compile(r"^/(\d{4})/(\d{2})/(\d{2})/([a-z0-9-]+)/?$")
_DATE_ARCHIVE = re.compile(r"^/(\d{4})/(?:(\d{2})/(?:(\d{2})/)?)?(?:page/(\d+)/)?$")
_PAGED = re.compile(r"^(?P<base>/(?:author|category)/[a-z0-9-]+/|/)(?:page/(?P<page>\d+)/)?$")
_POSTS_SITEMAP = re.compile(r"^/wp-sitemap-posts-post-(\d+)\.xml$")
_STATUS_TEXT = {
    200: "OK", 301: "Moved Permanently", 302: "Found", 304: "Not Modified", 400: "Bad Request",
    401: "Unauthorized", 403: "Forbidden", 404: "Not Found", 405: "Method Not Allowed",
    410: "Gone",
    429: "Too Many Requests", 500: "Internal Server Error",
}


@dataclass(frozen=True)
class RequestRecord:
    """One request the replica answered."""

    method: str
    path: str
    query: str
    status: int
    at: float
    monotonic: float
    user_agent: str
    headers: dict[str, str]


@dataclass
class Response:
    """An answer before faults and conditional requests are applied."""

    status: int
    body: bytes = b""
    content_type: str = _HTML
    headers: dict[str, str] = field(default_factory=dict)
    post_id: int | None = None
    modified: datetime | None = None
    conditional: bool = False


def _text(status: int, text: str, content_type: str = _HTML, **headers: str) -> Response:
    return Response(status, text.encode("utf-8"), content_type, dict(headers))


def _json(status: int, data: Any, **headers: str) -> Response:
    body = json.dumps(data, ensure_ascii=False).encode("utf-8")
    return Response(status, body, "application/json; charset=UTF-8", dict(headers))


class ReplicaApp:
    """One edition of the replica platform as a WSGI callable."""

    def __init__(self, corpus: Corpus, edition: str, *, state: ReplicaState | None = None,
                 faults: Faults | None = None, rest_api: bool = True,
                 sitemap_page_size: int = 2000, listing_page_size: int = 10,
                 feed_content_type: str = "application/rss+xml; charset=UTF-8",
                 crawl_delay: float | None = None, feed_size: int = 10,
                 request_log_size: int = 100_000):
        if edition not in corpus.editions:
            raise ValueError(f"edition {edition!r} is not one of {corpus.editions}")
        self.corpus = corpus
        self.edition = edition
        self.edition_urls: dict[str, str] = {}
        self.state = state or ReplicaState(corpus)
        self.faults = faults or Faults.none()
        self.rest_api = rest_api
        self.sitemap_page_size = sitemap_page_size
        self.listing_page_size = listing_page_size
        self.feed_content_type = feed_content_type
        self.crawl_delay = crawl_delay
        self.feed_size = feed_size
        # Bounded so a benchmark crawl of 100,000 pages cannot exhaust memory.
        self.requests: deque[RequestRecord] = deque(maxlen=request_log_size)
        self._lock = threading.Lock()
        self._fault_counts: dict[tuple[str, FaultKey], int] = {}

    def __repr__(self) -> str:
        return f"ReplicaApp(edition={self.edition!r}, corpus={self.corpus!r})"

    def hits(self, prefix: str) -> list[RequestRecord]:
        """Return the recorded requests whose path starts with PREFIX."""
        with self._lock:
            return [record for record in self.requests if record.path.startswith(prefix)]

    def clear_requests(self) -> None:
        """Forget the recorded requests (between two crawls of one test)."""
        with self._lock:
            self.requests.clear()

    def __call__(self, environ: dict[str, Any], start_response: StartResponse
                 ) -> Iterable[bytes]:
        """Answer one WSGI request, applying the fault plan, and record it."""
        path = environ.get("PATH_INFO", "/") or "/"
        query = environ.get("QUERY_STRING", "")
        method = environ.get("REQUEST_METHOD", "GET")
        headers = {key[5:].replace("_", "-").lower(): str(value)
                   for key, value in environ.items() if key.startswith("HTTP_")}
        started = time.monotonic()
        stamp = time.time()
        base_url = f"{environ.get('wsgi.url_scheme', 'http')}://" \
                   f"{environ.get('HTTP_HOST') or environ.get('SERVER_NAME', 'localhost')}"
        try:
            response = self._answer(method, path, dict(parse_qsl(query)), base_url, headers)
        except rest.RestError as error:
            response = _json(error.status, error.body)
        with self._lock:
            self.requests.append(RequestRecord(method, path, query, response.status, stamp,
                                               started, headers.get("user-agent", ""), headers))
        return self._send(response, method, start_response)

    def _fault_keys(self, path: str, post_id: int | None) -> list[FaultKey]:
        return [path] if post_id is None else [post_id, path]

    def _count(self, kind: str, key: FaultKey) -> int:
        with self._lock:
            count = self._fault_counts.get((kind, key), 0)
            self._fault_counts[(kind, key)] = count + 1
            return count

    def _answer(self, method: str, path: str, query: dict[str, str], base_url: str,
                headers: dict[str, str]) -> Response:
        if method not in ("GET", "HEAD"):
            return _text(405, "Méthode non permise", "text/plain; charset=UTF-8", Allow="GET")
        found = self._article_index(path)
        post_id = None if found is None else found + 1
        faults = self.faults
        for key in self._fault_keys(path, post_id):
            if key in faults.rate_limit and self._count("429", key) < faults.rate_limit[key]:
                return _text(429, "Trop de requêtes", "text/plain; charset=UTF-8",
                             **{"Retry-After": str(faults.retry_after)})
            if key in faults.error500:
                limit = faults.error500[key]
                if limit is None or self._count("500", key) < limit:
                    return _text(500, "<h1>Erreur interne du serveur</h1>")
            if key in faults.slow:
                time.sleep(faults.slow[key])
        if found is not None and not path.endswith("/"):
            response = _text(301, "", Location=f"{base_url}{path}/")
        elif found is not None:
            response = self._article(found, base_url)
        else:
            response = self._route(path, query, base_url)
        if response.conditional and self._not_modified(response, headers):
            return Response(304, b"", response.content_type,
                            {key: value for key, value in response.headers.items()
                             if key in ("ETag", "Last-Modified")}, post_id=response.post_id)
        for key in self._fault_keys(path, post_id):
            self._apply_body_faults(response, key)
        return response

    def _apply_body_faults(self, response: Response, key: FaultKey) -> None:
        faults = self.faults
        if key in faults.wrong_charset or key in faults.lying_charset:
            text = response.body.decode("utf-8")
            if key in faults.wrong_charset:
                text = text.replace('<meta charset="UTF-8">',
                                    '<meta charset="windows-1252">', 1)
                response.content_type = "text/html"
            response.body = text.encode("windows-1252", errors="xmlcharrefreplace")
        if key in faults.oversized:
            padding = b"<!-- " + b"remplissage " * (OVERSIZED_BYTES // 12 + 1) + b"-->\n"
            response.body = response.body.replace(b"</body>", padding + b"</body>", 1)
        if key in faults.truncated:
            response.headers["X-Replica-Truncated"] = "1"

    def _not_modified(self, response: Response, headers: dict[str, str]) -> bool:
        etag = response.headers.get("ETag")
        if "if-none-match" in headers:
            candidates = [tag.strip() for tag in headers["if-none-match"].split(",")]
            return etag is not None and (etag in candidates or "*" in candidates)
        since = headers.get("if-modified-since")
        if since and response.modified is not None:
            try:
                moment = parsedate_to_datetime(since)
            except (TypeError, ValueError):
                return False
            if moment.tzinfo is None:
                moment = moment.replace(tzinfo=UTC)
            return response.modified.replace(microsecond=0) <= moment
        return False

    def _send(self, response: Response, method: str, start_response: StartResponse
              ) -> Iterable[bytes]:
        body = response.body
        headers = [("Content-Type", response.content_type)]
        truncated = response.headers.pop("X-Replica-Truncated", None) is not None
        headers += list(response.headers.items())
        if response.status != 304:
            headers.append(("Content-Length", str(len(body))))
        headers.append(("Server", "Apache"))
        if response.status >= 400 and response.content_type.startswith("text/html"):
            headers.append(("Cache-Control", "no-cache, must-revalidate, max-age=0"))
        reason = _STATUS_TEXT.get(response.status, "Unknown")
        start_response(f"{response.status} {reason}", headers)
        if method == "HEAD" or response.status == 304:
            return [b""]
        if truncated:
            return [body[: len(body) // 2]]
        return _chunks(body)

    def _article_index(self, path: str) -> int | None:
        if not _ARTICLE.match(path):
            return None
        return self.state.find(self.edition, path if path.endswith("/") else path + "/")

    def _site(self, base_url: str) -> Site:
        recent = [Link(self.corpus.title(i), base_url + self._path(i))
                  for i in self.state.listed(self.edition)[:5]]
        return Site(base_url, self.edition, recent, redirect_loop=self.faults.redirect_loop,
                    editions=tuple(self.edition_urls.items()))

    def _path(self, i: int) -> str:
        stamp = self.state.published_timestamp(i)
        published = datetime.fromtimestamp(stamp, UTC).date()
        return f"/{published:%Y/%m/%d}/{self.corpus.slug(i)}/"

    def _article(self, i: int, base_url: str) -> Response:
        status = self.state.status(i)
        site = self._site(base_url)
        if status in ("404", "410"):
            page = theme.simple_page("Page introuvable", "Cette page n’existe plus.", site,
                                     "error404")
            return _text(int(status), page)
        article = self.state.article(i)
        listed = self.state.listed(self.edition)
        related = [Link(self.corpus.title(k), base_url + self._path(k))
                   for k in listed[:40] if k != i][(i % 7): (i % 7) + 3]
        previous = following = None
        position = listed.index(i) if self.state.is_listed(i) else -1
        if position >= 0:
            if position + 1 < len(listed):
                older = listed[position + 1]
                previous = Link(self.corpus.title(older), base_url + self._path(older))
            if position > 0:
                newer = listed[position - 1]
                following = Link(self.corpus.title(newer), base_url + self._path(newer))
        page = theme.article_page(article, site, related, previous, following)
        body = page.encode("utf-8")
        # Keyed on the article, not the page bytes: the sidebar changes with every new
        # article, and the platform's page cache validates on the post's modification.
        version = f"{self.corpus.seed}:{article.post_id}:{article.modified_at.isoformat()}:" \
                  f"{self.state.edit_count(i)}"
        etag = '"' + hashlib.sha1(version.encode()).hexdigest()[:20] + '"'
        headers = {"ETag": etag, "Last-Modified": format_datetime(article.modified_at, True),
                   "Link": f'<{base_url}/?p={article.post_id}>; rel=shortlink'}
        return Response(200, body, _HTML, headers, post_id=article.post_id,
                        modified=article.modified_at, conditional=True)

    def _listing(self, heading: str, ids: list[int], page: int, base_path: str,
                 base_url: str, body_class: str) -> Response:
        pages = page_count(len(ids), self.listing_page_size)
        site = self._site(base_url)
        if page > pages:
            return self._not_found(site)
        items = [ListingItem(self.state.article(i), base_url + self._path(i))
                 for i in page_of(ids, page, self.listing_page_size)]
        html = theme.listing_page(heading, items, site, page, pages, base_path, body_class)
        return _text(200, html)

    def _not_found(self, site: Site) -> Response:
        page = theme.simple_page("Page introuvable",
                                 "Désolé, cette page est introuvable. Essayez une recherche.",
                                 site, "error404")
        return _text(404, page)

    def _route(self, path: str, query: dict[str, str], base_url: str) -> Response:
        if path == "/robots.txt":
            return _text(200, feeds.robots_txt(base_url, self.crawl_delay),
                         "text/plain; charset=UTF-8")
        if path.startswith("/wp-json"):
            return self._rest(path, query, base_url)
        if path.startswith("/wp-sitemap") and path.endswith(".xml"):
            return self._sitemap(path, base_url)
        if path in ("/feed/", "/feed") or path.endswith("/feed/"):
            return self._feed(path, base_url)
        if path.startswith("/prive/"):
            return _text(200, theme.simple_page(
                "Espace membres", "Connectez-vous pour publier vos articles.",
                self._site(base_url)))
        if path.startswith("/wp-admin"):
            return _text(403, "<h1>Accès interdit</h1>")
        if path in ("/boucle/a/", "/boucle/b/") and self.faults.redirect_loop:
            target = "/boucle/b/" if path == "/boucle/a/" else "/boucle/a/"
            return _text(301, "", Location=base_url + target)
        if path == "/mentions-legales/":
            return _text(200, theme.simple_page(
                "Mentions légales", "Notre Continent est édité par une association.",
                self._site(base_url)))
        if path == "/" and "p" in query and query["p"].isdigit():
            index = int(query["p"]) - 1
            if self.state.is_listed(index) and self.corpus.edition_of(index) == self.edition:
                return _text(301, "", Location=base_url + self._path(index))
        if path == "/" and "s" in query:
            return self._listing(f"Résultats de recherche pour « {query['s']} »", [], 1, "/",
                                 base_url, "search search-no-results")
        paged = _PAGED.match(path)
        if paged:
            return self._paged(paged.group("base"), int(paged.group("page") or 1), base_url)
        dated = _DATE_ARCHIVE.match(path)
        if dated:
            return self._date_archive(dated.groups(), base_url)
        return self._not_found(self._site(base_url))

    def _paged(self, base: str, page: int, base_url: str) -> Response:
        listed = self.state.listed(self.edition)
        if base == "/":
            return self._listing("Derniers articles", listed, page, "/", base_url, "home blog")
        kind, slug = base.strip("/").split("/")
        if kind == "author":
            ids = [i for i in listed if self.corpus.account_slug(i) == slug]
            if not ids:
                return self._not_found(self._site(base_url))
            name = self.corpus.entry(ids[0]).wp_author
            return self._listing(f"Auteur : {name}", ids, page, base, base_url,
                                 f"archive author author-{slug}")
        names = [name for name in CATEGORIES if category_slug(name) == slug]
        if not names:
            return self._not_found(self._site(base_url))
        ids = [i for i in listed if names[0] in self.corpus.entry(i).categories]
        return self._listing(f"Catégorie : {names[0]}", ids, page, base, base_url,
                             f"archive category category-{slug}")

    def _date_archive(self, groups: tuple[str | None, ...], base_url: str) -> Response:
        year_text, month_text, day_text, page_text = groups
        assert year_text is not None
        year, month, day = int(year_text), int(month_text or 0), int(day_text or 0)
        try:
            if month:
                date(year, month, day or 1)
        except ValueError:
            return self._not_found(self._site(base_url))
        base_path = f"/{year:04d}/" + (f"{month:02d}/" if month else "") + (
            f"{day:02d}/" if day else "")
        listed = self.state.listed(self.edition)

        def inside(i: int) -> bool:
            moment = datetime.fromtimestamp(self.state.published_timestamp(i), UTC)
            return (moment.year == year and (not month or moment.month == month)
                    and (not day or moment.day == day))

        ids = [i for i in listed if inside(i)]
        heading = "Archives : " + base_path.strip("/")
        return self._listing(heading, ids, int(page_text or 1), base_path, base_url,
                             "archive date")

    def _feed(self, path: str, base_url: str) -> Response:
        listed = self.state.listed(self.edition)
        title, link_path = "Notre Continent", "/"
        if path.startswith("/author/"):
            slug = path.split("/")[2]
            listed = [i for i in listed if self.corpus.account_slug(i) == slug]
            if not listed:
                return self._not_found(self._site(base_url))
            title, link_path = f"Notre Continent » {slug}", f"/author/{slug}/"
        elif path.startswith("/category/"):
            slug = path.split("/")[2]
            listed = [i for i in listed if slug in {
                category_slug(c) for c in self.corpus.entry(i).categories}]
            title, link_path = f"Notre Continent » {slug}", f"/category/{slug}/"
        elif path not in ("/feed/", "/feed"):
            return self._not_found(self._site(base_url))
        articles = [self.state.article(i) for i in listed[: self.feed_size]]
        text = feeds.rss_feed(base_url, title, path, link_path, articles)
        response = _text(200, text, self.feed_content_type)
        if articles:
            newest = max(article.modified_at for article in articles)
            response.headers["Last-Modified"] = format_datetime(newest, True)
            response.headers["ETag"] = '"' + hashlib.sha1(response.body).hexdigest()[:20] + '"'
            response.modified, response.conditional = newest, True
        return response

    def _sitemap(self, path: str, base_url: str) -> Response:
        xml = "application/xml; charset=UTF-8"
        listed = sorted(self.state.listed(self.edition))
        size = self.sitemap_page_size
        if path == "/wp-sitemap.xml":
            pages = page_count(len(listed), size)
            return _text(200, feeds.sitemap_index(base_url, pages, True,
                                                  self.faults.malformed_sitemap), xml)
        posts = _POSTS_SITEMAP.match(path)
        if posts:
            page = int(posts.group(1))
            chunk = listed[(page - 1) * size: page * size]
            if page > 1 and not chunk:
                return self._not_found(self._site(base_url))
            entries: list[tuple[str, datetime | None]] = [
                (base_url + self._path(i),
                 datetime.fromtimestamp(self.state.modified_timestamp(i), UTC))
                for i in chunk]
            if page == 1:
                entries += [(f"{base_url}/2024/02/29/article-disparu-{number}/", None)
                            for number in range(1, self.faults.sitemap_missing + 1)]
            return _text(200, feeds.url_set(entries), xml)
        if path == "/wp-sitemap-posts-page-1.xml" and self.faults.malformed_sitemap:
            return _text(200, feeds.malformed_sitemap(base_url), xml)
        if path == "/wp-sitemap-taxonomies-category-1.xml":
            return _text(200, feeds.category_url_set(base_url), xml)
        if path == "/wp-sitemap-users-1.xml":
            accounts = sorted({self.corpus.entry(i).wp_author for i in listed[:50_000]})
            return _text(200, feeds.url_set(
                [(f"{base_url}/author/{author_slug(name)}/", None) for name in accounts]), xml)
        return self._not_found(self._site(base_url))

    def _rest(self, path: str, query: dict[str, str], base_url: str) -> Response:
        route = path.rstrip("/")
        if not self.rest_api:
            raise rest.not_logged_in()
        if route == "/wp-json":
            return _json(200, rest.discovery(base_url))
        if route == "/wp-json/wp/v2/posts":
            posts, headers = rest.list_posts(self.state, self.edition, query, base_url)
            return _json(200, posts, **headers)
        if route.startswith("/wp-json/wp/v2/posts/"):
            post = route.rsplit("/", 1)[1]
            index = int(post) - 1 if post.isdigit() else -1
            if self.state.is_listed(index) and self.corpus.edition_of(index) == self.edition:
                return _json(200, rest.post_json(self.state.article(index), base_url,
                                                 "_embed" in query))
            raise rest.RestError(404, "rest_post_invalid_id", "Identifiant d’article non valide.")
        if route == "/wp-json/wp/v2/categories":
            return _json(200, rest.categories_json(base_url),
                         **{"X-WP-Total": str(len(CATEGORIES)), "X-WP-TotalPages": "1"})
        if route.startswith("/wp-json/wp/v2/users"):
            raise rest.not_logged_in()
        raise rest.RestError(404, "rest_no_route",
                             "Aucune route correspondante à l’URL et à la méthode de la requête.")


def _chunks(body: bytes, size: int = 256 * 1024) -> Iterator[bytes]:
    for start in range(0, len(body), size):
        yield body[start:start + size]


def make_app(corpus: Corpus, edition: str, *, state: ReplicaState | None = None,
             faults: Faults | None = None, rest_api: bool = True, sitemap_page_size: int = 2000,
             listing_page_size: int = 10, **options: Any) -> ReplicaApp:
    """Return the WSGI app of one edition of the replica."""
    return ReplicaApp(corpus, edition, state=state, faults=faults, rest_api=rest_api,
                      sitemap_page_size=sitemap_page_size,
                      listing_page_size=listing_page_size, **options)
