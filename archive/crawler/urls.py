"""URLs as the crawler sees them: one normal form, the article pattern, and the site boundary.

Every URL that enters the frontier goes through :func:`normalise`, so one article has exactly
one spelling in the store; :func:`site_of` is the boundary the crawler never crosses.
"""

from __future__ import annotations

import re
from urllib.parse import urljoin, urlsplit, urlunsplit

from archive.errors import InvalidInput

ARTICLE_PATH = re.compile(r"^/\d{4}/\d{2}/\d{2}/[^/?#]+/?$")
"""The platform's permalink structure: ``/YYYY/MM/DD/slug/``."""

AUTHOR_PATH = re.compile(r"^/author/[^/?#]+/?$")
DATE_ARCHIVE_PATH = re.compile(r"^/\d{4}(?:/\d{2}){0,2}/?$")
LISTING_PAGE_PATH = re.compile(r"/page/(\d+)/?$")

_DEFAULT_PORTS = {"http": 80, "https": 443}
_HREF = re.compile(rb"""href\s*=\s*(?:"([^"]*)"|'([^']*)')""", re.IGNORECASE)
_PERCENT = re.compile(r"%[0-9a-fA-F]{2}")


def site_of(url: str) -> str:
    """Return the site a URL belongs to: ``scheme://host[:port]`` without a default port."""
    parts = urlsplit(url)
    host = (parts.hostname or "").lower()
    if ":" in host:
        host = f"[{host}]"  # an IPv6 literal keeps its brackets in an address
    port = parts.port
    netloc = host if port in (None, _DEFAULT_PORTS.get(parts.scheme.lower())) else f"{host}:{port}"
    return f"{parts.scheme.lower()}://{netloc}"


def normalise(url: str) -> str:
    """Return URL in the crawler's one spelling: lower-case site, no fragment, article paths
    with a trailing slash and no query (tracking parameters are not part of an article)."""
    parts = urlsplit(url.strip())
    path = _PERCENT.sub(lambda m: m.group(0).upper(), parts.path or "/")
    query = parts.query
    if ARTICLE_PATH.match(path):
        query = ""
        if not path.endswith("/"):
            path += "/"
    return urlunsplit((*urlsplit(site_of(url))[:2], path, query, ""))


def seed_site(url: str) -> str:
    """Return the site to crawl for a seed URL given by the user, or raise InvalidInput."""
    parts = urlsplit(url.strip())
    if parts.scheme.lower() not in _DEFAULT_PORTS or not parts.hostname:
        raise InvalidInput(
            f"{url!r} n'est pas l'adresse d'un site : donnez une adresse http(s) comme "
            "https://sn.notrecontinent.com/", url=url
        )
    try:
        parts.port  # noqa: B018 - a bad port raises here, before any request is made
    except ValueError:
        raise InvalidInput(f"{url!r} a un numéro de port invalide", url=url) from None
    return site_of(url)


def is_article_url(url: str) -> bool:
    """Tell whether URL follows the platform's article permalink pattern."""
    return bool(ARTICLE_PATH.match(urlsplit(url).path))


def is_archive_url(url: str) -> bool:
    """Tell whether URL is an author or date archive (a listing worth walking)."""
    path = LISTING_PAGE_PATH.sub("/", urlsplit(url).path)
    return bool(AUTHOR_PATH.match(path) or DATE_ARCHIVE_PATH.match(path))


def links_in(body: bytes, base_url: str, sites: frozenset[str] | set[str]) -> list[str]:
    """Return the normalised in-site links of an HTML page, in page order, without repeats."""
    return [url for url in hrefs(body, base_url) if site_of(url) in sites]


def hrefs(body: bytes, base_url: str) -> list[str]:
    """Return every normalised http(s) link of an HTML page, any site, without repeats."""
    seen: dict[str, None] = {}
    for match in _HREF.finditer(body):
        raw = (match.group(1) or match.group(2) or b"").decode("utf-8", "replace").strip()
        if not raw or raw.startswith(("#", "mailto:", "javascript:", "tel:")):
            continue
        absolute = urljoin(base_url, raw.replace("&amp;", "&"))
        if not absolute.startswith(("http://", "https://")):
            continue
        try:
            url = normalise(absolute)
        except ValueError:
            continue
        seen.setdefault(url, None)
    return list(seen)
