"""Finding the platform's other editions from its own links, within an allow-list of hosts.

The platform runs one WordPress per country edition, on subdomains. An edition's pages link to
the others (edition selector, menus, canonical and alternate links): every linked site whose
``host[:port]`` matches ``ARCHIVE_EDITION_HOSTS`` (default ``*.notrecontinent.com``) is crawled
as its own site in the same run. Nothing outside those patterns is ever treated as an edition,
so a page written by a stranger cannot send the crawler to another host; a test on loopback
names its own pattern (``127.0.0.1:*``), the default never matches a loopback address.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from fnmatch import fnmatchcase
from urllib.parse import urlsplit

from archive.crawler.urls import hrefs, site_of

MAX_SITES = 50
"""Most sites (given and found) one run crawls: a bound on what links can add."""


def edition_matcher(patterns: Iterable[str]) -> Callable[[str], bool]:
    """Return a test telling whether a site (``scheme://host[:port]``) is an allowed edition."""
    allowed = tuple(pattern.strip().lower() for pattern in patterns if pattern.strip())

    def is_edition(site: str) -> bool:
        parts = urlsplit(site)
        if parts.scheme not in ("http", "https") or not parts.netloc:
            return False
        return any(fnmatchcase(parts.netloc, pattern) for pattern in allowed)

    return is_edition


def editions_linked(body: bytes, base_url: str, is_edition: Callable[[str], bool],
                    known: Iterable[str]) -> list[str]:
    """Return the edition sites a page links to that are not in KNOWN, in page order."""
    seen = set(known)
    found: list[str] = []
    for url in hrefs(body, base_url):
        site = site_of(url)
        if site not in seen and is_edition(site):
            seen.add(site)
            found.append(site)
    return found
