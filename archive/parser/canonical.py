"""Which canonical address a page may claim: its own site, or its own path on the platform.

A page's ``<link rel="canonical">`` (or ``og:url``) is written by whoever published the page,
and the archive files the article under it. So a canonical is believed only when it cannot
make one site's page a version of another site's article:

- it is an ``http(s)`` URL with a host and no user name or password;
- it stays on the page's own host and port (the scheme may differ: ``http`` -> ``https``), or
- it is on the platform's domain (``xx.notrecontinent.com``) with exactly the page's path,
  fetched from an address that is not itself on the platform: a mirror or the replica on
  loopback, where the canonical is the only place that says which edition the page is.

A page read from a local file (``python -m archive parse FILE``) has no site to protect: any
``http(s)`` canonical it declares is believed. Anything else (``javascript:``, another site,
another path, another edition's host for a platform page) is ignored, and the page is filed
under the address it was fetched from.
"""

from __future__ import annotations

from urllib.parse import SplitResult, urljoin, urlsplit

from archive.parser import platform

PLATFORM_DOMAIN = "notrecontinent.com"
"""The platform's domain: its editions are its subdomains (``sn.notrecontinent.com``)."""

_SCHEMES = frozenset({"http", "https"})
_DEFAULT_PORTS = {"http": 80, "https": 443}


def _split(url: str) -> SplitResult | None:
    try:
        parts = urlsplit(url)
        parts.port  # noqa: B018 - an invalid port raises here
    except ValueError:
        return None
    if parts.scheme.lower() not in _SCHEMES or not parts.hostname:
        return None
    if parts.username is not None or parts.password is not None:
        return None
    return parts


def _port(parts: SplitResult) -> int | None:
    return parts.port or _DEFAULT_PORTS.get(parts.scheme.lower())


def _path(parts: SplitResult) -> str:
    path = parts.path or "/"
    return path if path.endswith("/") else path + "/"


def trusted_canonical(declared: str | None, page_url: str) -> str | None:
    """Return the absolute canonical URL DECLARED by the page at PAGE_URL, or None if untrusted."""
    if not declared or not declared.strip():
        return None
    try:
        absolute = urljoin(page_url, declared.strip())
    except ValueError:
        return None
    canonical = _split(absolute)
    if canonical is None:
        return None
    page = _split(page_url)
    if page is None:
        return absolute if page_url.startswith("file:") or "://" not in page_url else None
    page_host = (page.hostname or "").lower()
    host = (canonical.hostname or "").lower()
    if host == page_host:
        same_port = canonical.port == page.port or _port(canonical) == _port(page)
        return absolute if same_port else None
    if platform.EDITION_HOST.match(host) and not _on_platform(page_host):
        return absolute if _path(canonical) == _path(page) else None
    return None


def _on_platform(host: str) -> bool:
    return host == PLATFORM_DOMAIN or host.endswith("." + PLATFORM_DOMAIN)
