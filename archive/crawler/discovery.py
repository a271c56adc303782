"""Finding every article of one site through whatever answers.

The channels, cheapest first: robots.txt (rules, Crawl-delay, ``Sitemap:`` lines), the
WordPress REST API (``X-WP-TotalPages`` paging; 401/403 means fall back), sitemap indexes with
``<lastmod>``, the RSS/Atom feed (recognised by content), and, when none of those enumerated
the whole site, the listing pages ``/page/N/`` and the author and date archives they link to.
Discovery is *complete* when one channel listed the whole site: only then may absence from the
listings count towards a withdrawal.

When REST answers, its full listing (only the fields needed, ``_fields``) is the truth: which
posts exist, when each changed (``modified_gmt``, the hint that spares an unchanged post any
request), which are not public (status, ``content.protected``: never queued, whoever else lists
them), their title and categories.
"""
from __future__ import annotations

import re
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import urlencode, urlsplit

from archive.crawler.fetcher import Fetcher, FetchResult
from archive.crawler.robots import RobotsRules
from archive.crawler.sources import (
    Listed,
    NotAListing,
    RestPost,
    feed_kind,
    parse_feed,
    parse_rest_categories,
    parse_rest_posts,
    parse_sitemap,
    total_pages,
)
from archive.crawler.urls import (
    LISTING_PAGE_PATH,
    is_archive_url,
    is_article_url,
    links_in,
    normalise,
    site_of,
)
from archive.french import agree, count

REST_PAGE_SIZE = 100
REST_FIELDS = "id,link,modified_gmt,status,content.protected,categories,author,title"
REST_CATEGORY_FIELDS = "id,name"
MAX_CATEGORY_PAGES = 50
SITEMAP_GUESSES = ("/wp-sitemap.xml", "/sitemap_index.xml", "/sitemap.xml")
MAX_SITEMAPS = 2000
MAX_LISTING_PAGES = 5000
MAX_HOME_LINKS = 40
_NOT_PAGES = re.compile(
    r"(^/(feed|wp-json|wp-content|wp-includes|wp-admin|comments)(/|$))|(/feed/?$)"
    r"|(\.(css|js|png|jpe?g|gif|svg|webp|ico|pdf|xml|gz|zip|mp3|mp4|woff2?)$)",
    re.IGNORECASE,
)


@dataclass
class SiteDiscovery:
    """What discovery found on one site."""

    site: str
    robots: RobotsRules | None = None
    articles: dict[str, str | None] = field(default_factory=dict)
    channels: dict[str, str] = field(default_factory=dict)
    complete: bool = False
    errors: list[dict[str, str]] = field(default_factory=list)
    requests: int = 0
    skipped_by_robots: int = 0
    notes: list[str] = field(default_factory=list)
    rest_posts: dict[str, RestPost] = field(default_factory=dict)
    withheld: dict[str, str] = field(default_factory=dict)
    category_names: dict[int, str] = field(default_factory=dict)
    home_page: bytes | None = None

    @property
    def reachable(self) -> bool:
        """Tell whether the site answered anything at all."""
        return self.robots is not None

    def add(self, entries: list[Listed]) -> int:
        """Keep the in-site article URLs of ENTRIES (first hint wins); return how many were new."""
        before = len(self.articles)
        for entry in entries:
            try:
                url = normalise(entry.url)
            except ValueError:
                continue
            if site_of(url) != self.site or not is_article_url(url):
                continue
            if entry.rest is not None:
                reason = entry.rest.withheld
                if reason is not None:
                    self.withheld[url] = reason
                    self.articles.pop(url, None)
                    continue
                self.rest_posts[url] = entry.rest
            if url in self.withheld:
                continue
            if self.articles.get(url) is None:
                self.articles[url] = entry.modified
        return len(self.articles) - before

    def categories_of(self, url: str) -> tuple[str, ...] | None:
        """Return the category names REST gives for URL, or None when REST did not list it."""
        rest = self.rest_posts.get(url)
        if rest is None or not self.category_names:
            return None
        return tuple(self.category_names[i] for i in rest.category_ids
                     if i in self.category_names)

    def error(self, url: str, kind: str, detail: str) -> None:
        """Record a problem met during discovery."""
        self.errors.append({"url": url, "kind": kind, "detail": detail})

    def to_json(self) -> dict[str, Any]:
        """Return the site's part of the run report."""
        return {
            "site": self.site,
            "reachable": self.reachable,
            "complete": self.complete,
            "articles_listed": len(self.articles),
            "crawl_delay": None if self.robots is None else self.robots.crawl_delay,
            "robots": None if self.robots is None else self.robots.note,
            "channels": dict(self.channels),
            "requests": self.requests,
            "withheld": len(self.withheld),
        }


def read_robots(fetcher: Fetcher, site: str) -> tuple[RobotsRules | None, FetchResult]:
    """Fetch the site's robots.txt; None when the site gave no HTTP answer at all."""
    result = fetcher.fetch(f"{site}/robots.txt")
    capture = result.capture
    if capture is None:
        if result.error in ("connection", "timeout"):
            return None, result
        return RobotsRules.from_status(site, None), result
    if capture.status == 200:
        text = capture.body.decode("utf-8", "replace")
        return RobotsRules.from_text(site, text), result
    return RobotsRules.from_status(site, capture.status), result


class SiteDiscoverer:
    """Runs the discovery channels of one site through a shared fetcher."""

    def __init__(
        self,
        fetcher: Fetcher,
        found: SiteDiscovery,
        *,
        max_listing_pages: int = MAX_LISTING_PAGES,
    ) -> None:
        self.fetcher = fetcher
        self.found = found
        self.site = found.site
        self.max_listing_pages = max_listing_pages
        self._archives: dict[str, None] = {}

    def run(self) -> SiteDiscovery:
        """Run every channel that applies and return what was found."""
        found = self.found
        rest_complete = self._rest()
        if rest_complete:
            self._categories()
        sitemap_complete = self._sitemaps()
        self._feed()
        self._home()
        listing_complete = False
        if not (rest_complete or sitemap_complete):
            listing_complete = self._listings()
        else:
            found.channels["listing"] = "not needed: une énumération complète a été lue"
        found.complete = rest_complete or sitemap_complete or listing_complete
        return found

    def _get(self, url: str) -> FetchResult:
        self.found.requests += 1
        result = self.fetcher.fetch(url)
        self.found.notes.extend(f"{url} : {note}" for note in result.notes)
        return result

    def _failed(self, url: str, result: FetchResult) -> str:
        if result.error == "robots":
            self.found.skipped_by_robots += 1
            return "interdit par robots.txt"
        if result.capture is not None:
            kind, detail = "http_status", f"HTTP {result.capture.status}"
        else:
            kind, detail = result.error or "fetch_failed", result.detail
        self.found.error(url, kind, detail)
        return detail

    # ---- REST API

    def _rest(self) -> bool:
        """Page through /wp-json/wp/v2/posts; return True when it listed every post."""
        found = self.found
        label = "rest"
        page, pages, posts = 1, 1, 0
        while page <= pages:
            query: dict[str, str | int] = {
                "per_page": REST_PAGE_SIZE, "page": page, "_fields": REST_FIELDS,
            }
            url = f"{self.site}/wp-json/wp/v2/posts?{urlencode(query)}"
            result = self._get(url)
            status = result.status
            if status in (401, 403):
                found.channels[label] = (
                    f"refused (HTTP {status}): repli sur les sitemaps, le flux et les listes"
                )
                return False
            if status in (404, 410) and page == 1:
                found.channels[label] = f"absent (HTTP {status})"
                return False
            if status != 200 or result.capture is None:
                detail = self._failed(url, result)
                found.channels[label] = f"failed: page {page} ({detail}), lecture partielle"
                return False
            try:
                entries = parse_rest_posts(result.capture.body)
            except NotAListing as exc:
                found.error(url, "bad_listing", str(exc))
                found.channels[label] = f"failed: page {page} ({exc}), lecture partielle"
                return False
            posts += len(entries)
            found.add(entries)
            announced = total_pages(result.capture.header("x-wp-totalpages"))
            if announced is None:
                # No paging header: keep going while pages come back full.
                pages = page + 1 if len(entries) >= REST_PAGE_SIZE else page
            else:
                pages = min(announced, 100_000)
            page += 1
        withheld = (f", {count(len(found.withheld), 'non public', 'non publics')}"
                    if found.withheld else "")
        found.channels[label] = (f"used: {count(posts, 'article')} en "
                                 f"{count(page - 1, 'page')}{withheld}")
        return True

    def _categories(self) -> None:
        """Read /wp-json/wp/v2/categories: the names of the category ids posts carry."""
        found = self.found
        for page in range(1, MAX_CATEGORY_PAGES + 1):
            query = {"per_page": REST_PAGE_SIZE, "page": page, "_fields": REST_CATEGORY_FIELDS}
            url = f"{self.site}/wp-json/wp/v2/categories?{urlencode(query)}"
            result = self._get(url)
            if result.status != 200 or result.capture is None:
                if page == 1:
                    self._failed(url, result)
                break
            try:
                names = parse_rest_categories(result.capture.body)
            except NotAListing as exc:
                found.error(url, "bad_listing", str(exc))
                break
            found.category_names.update(names)
            pages = total_pages(result.capture.header("x-wp-totalpages"))
            if len(names) < REST_PAGE_SIZE or (pages is not None and page >= pages):
                break
        found.channels["rest_categories"] = (
            f"used: {count(len(found.category_names), 'catégorie')}")

    # ---- sitemaps

    def _sitemaps(self) -> bool:
        """Read the sitemap index(es); return True when every sub-sitemap was read intact."""
        found = self.found
        robots = found.robots
        announced = [u for u in (robots.sitemaps if robots else []) if site_of(u) == self.site]
        candidates = announced or [self.site + path for path in SITEMAP_GUESSES]
        for start in candidates:
            result = self._get(start)
            if result.status != 200 or result.capture is None:
                if announced:
                    self._failed(start, result)
                continue
            try:
                root = parse_sitemap(result.capture.body, max_bytes=self.fetcher.max_bytes)
            except NotAListing as exc:
                found.error(start, exc.kind or "bad_sitemap", str(exc))
                continue
            return self._read_sitemap_tree(start, root)
        found.channels["sitemap"] = "absent: aucun sitemap n'a répondu"
        return False

    def _read_sitemap_tree(self, start: str, root: Any) -> bool:
        found = self.found
        intact = root.damaged is None
        if root.damaged:
            found.error(start, "malformed_xml", root.damaged)
        queue = [entry.url for entry in root.entries] if root.is_index else []
        if not root.is_index:
            found.add(root.entries)
        seen = {start}
        documents = 1
        while queue and documents < MAX_SITEMAPS:
            url = queue.pop(0)
            if url in seen or site_of(url) != self.site:
                continue
            seen.add(url)
            documents += 1
            result = self._get(url)
            if result.status != 200 or result.capture is None:
                self._failed(url, result)
                intact = False
                continue
            try:
                sitemap = parse_sitemap(result.capture.body, max_bytes=self.fetcher.max_bytes)
            except NotAListing as exc:
                found.error(url, exc.kind or "malformed_xml", str(exc))
                intact = False
                continue
            if sitemap.damaged:
                found.error(url, "malformed_xml",
                            f"{sitemap.damaged} (entrées précédentes gardées)")
                intact = False
            if sitemap.is_index:
                queue.extend(entry.url for entry in sitemap.entries)
            else:
                found.add(sitemap.entries)
        if queue:
            intact = False
        state = "used" if intact else "partial"
        found.channels["sitemap"] = f"{state}: {count(documents, 'document')} depuis {start}"
        return intact

    # ---- feed

    def _feed(self) -> None:
        found = self.found
        url = f"{self.site}/feed/"
        result = self._get(url)
        if result.status != 200 or result.capture is None:
            found.channels["feed"] = f"absent ({result.status or result.error})"
            return
        kind = feed_kind(result.capture.body)
        if kind is None:
            found.channels["feed"] = "absent: /feed/ n'est pas un flux"
            return
        try:
            entries, damage = parse_feed(result.capture.body, max_bytes=self.fetcher.max_bytes)
        except NotAListing as exc:
            found.error(url, exc.kind or "bad_feed", str(exc))
            found.channels["feed"] = f"failed: {exc}"
            return
        if damage:
            found.error(url, "malformed_xml", damage)
        new = found.add(entries)
        content_type = result.capture.header("content-type") or "sans Content-Type"
        found.channels["feed"] = (
            f"used: flux {kind} ({content_type}), {count(len(entries), 'entrée')}, "
            f"{count(new, 'article')} {agree(new, 'absent')} des autres listes"
        )

    # ---- the home page and the pages it links to

    def _home(self) -> None:
        """Read the home page and, once each, the in-site pages it links to (menus, footer)."""
        found = self.found
        home = self.site + "/"
        result = self._get(home)
        if result.status != 200 or result.capture is None:
            self._failed(home, result)
            found.channels["home"] = f"failed ({result.status or result.error})"
            return
        found.home_page = result.capture.body
        links = links_in(result.capture.body, home, {self.site})
        new = found.add([Listed(link) for link in links])
        pages = [link for link in links if _worth_exploring(link)][:MAX_HOME_LINKS]
        for url in pages:
            page = self._get(url)
            if page.status != 200 or page.capture is None:
                self._failed(url, page)
                continue
            new += found.add([Listed(link) for link in links_in(page.capture.body, url,
                                                                {self.site})])
        found.channels["home"] = (
            f"used: page d'accueil et {count(len(pages), 'page')} vers lesquelles elle pointe, "
            f"{count(new, 'article')} {agree(new, 'absent')} des autres listes"
        )

    # ---- listing pages and archives

    def _listings(self) -> bool:
        """Walk /page/N/, then the author and date archives; True if the walk ended naturally."""
        found = self.found
        before = len(found.articles)
        pages, natural_end = self._walk(self.site + "/")
        new = len(found.articles) - before
        found.channels["listing"] = (
            f"used: {count(pages, 'page')}, {count(new, 'article')} "
            f"{agree(new, 'absent')} des autres listes"
            + ("" if natural_end else " (arrêt sur une erreur)")
        )
        if natural_end:
            return True
        before = len(found.articles)
        walked = 0
        for archive in list(self._archives):
            if walked >= self.max_listing_pages:
                break
            read, _ = self._walk(archive)
            walked += read
        found.channels["archives"] = (
            f"used: {count(len(self._archives), 'archive')} d'auteur et de date, "
            f"{count(walked, 'page')}, {count(len(found.articles) - before, 'article')} de plus"
        )
        return False

    def _walk(self, first: str) -> tuple[int, bool]:
        """Read FIRST, FIRST/page/2/, ... until a page adds nothing; return (pages, ended well)."""
        found = self.found
        base = first if first.endswith("/") else first + "/"
        walked: set[str] = set()
        for number in range(1, self.max_listing_pages + 1):
            url = base if number == 1 else f"{base}page/{number}/"
            result = self._get(url)
            if result.status in (404, 410) and number > 1:
                return number - 1, True
            if result.status != 200 or result.capture is None:
                self._failed(url, result)
                return number - 1, False
            links = links_in(result.capture.body, url, {self.site})
            articles = [link for link in links if is_article_url(link)]
            new = len(set(articles) - walked)
            walked.update(articles)
            found.add([Listed(link) for link in articles])
            for link in links:
                if is_archive_url(link):
                    self._archives.setdefault(_archive_root(link), None)
            if new == 0:
                return number, True
        return self.max_listing_pages, False


def _worth_exploring(url: str) -> bool:
    """Tell whether a link of the home page is a page to look at once for more articles."""
    parts = urlsplit(url)
    if parts.path in ("", "/") or is_article_url(url) or is_archive_url(url):
        return False
    if LISTING_PAGE_PATH.search(parts.path):
        return False
    return not _NOT_PAGES.search(parts.path)


def _archive_root(url: str) -> str:
    path = urlsplit(url).path
    marker = path.find("/page/")
    return url[: len(url) - len(path) + marker + 1] if marker != -1 else url
