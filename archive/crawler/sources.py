"""Reading the documents that list a site's articles: sitemaps, feeds and REST API pages.

Pure functions from bytes to entries (no I/O), so each format is tested on its own. Damaged
XML is salvaged as far as it goes and flagged, never fatal.
"""

from __future__ import annotations

import html
import json
import zlib
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from lxml import etree

from archive.crawler.inflate import DEFAULT_LIMIT, TooLarge, inflate, inflate_head
from archive.french import technical, xml_problem

_SAFE_XML = etree.XMLParser(resolve_entities=False, no_network=True, huge_tree=False)
_LENIENT_XML = etree.XMLParser(
    resolve_entities=False, no_network=True, recover=True, huge_tree=False
)
_ATOM = "{http://www.w3.org/2005/Atom}"


@dataclass(frozen=True)
class RestPost:
    """What the REST API says of one post: the facts the page itself may not say reliably."""

    link: str
    modified: str | None
    status: str
    protected: bool
    title: str | None
    category_ids: tuple[int, ...]

    @property
    def withheld(self) -> str | None:
        """Return why this post must never be archived (not public), or None."""
        if self.status != "publish":
            return f"REST status {self.status!r}"
        if self.protected:
            return "password-protected (REST content.protected)"
        return None


@dataclass(frozen=True)
class Listed:
    """One URL a listing document names, with the modification time it gives, if any."""

    url: str
    modified: str | None = None
    rest: RestPost | None = None


@dataclass(frozen=True)
class Sitemap:
    """A parsed sitemap: an index of sub-sitemaps or a set of page URLs."""

    is_index: bool
    entries: list[Listed]
    damaged: str | None = None


class NotAListing(ValueError):
    """The document is not of the format it was expected to be."""

    kind: str | None = None


class ListingTooLarge(NotAListing):
    """The document inflates past the page cap (a gzip bomb): refused, not read."""

    kind = "oversized"


def modified_key(text: str | None, *, assume_utc: bool = True) -> str | None:
    """Return a modification time as a UTC ISO string (the crawl hint), or None if unreadable.

    Sitemap ``<lastmod>`` and REST ``modified_gmt`` name one instant in different spellings;
    the hint must compare equal for both.
    """
    if not text:
        return None
    value = text.strip()
    if value.endswith("Z"):
        value = value[:-1] + "+00:00"
    try:
        moment = datetime.fromisoformat(value)
    except ValueError:
        return None
    if moment.tzinfo is None:
        if not assume_utc:
            return None
        moment = moment.replace(tzinfo=UTC)
    return moment.astimezone(UTC).replace(microsecond=0).isoformat()


def _inflate(body: bytes, max_bytes: int) -> bytes:
    try:
        return inflate(body, max_bytes)
    except TooLarge as exc:
        raise ListingTooLarge(f"document compressé refusé : {exc}") from None
    except zlib.error:
        return body


def _local(tag: object) -> str:
    return etree.QName(tag).localname if isinstance(tag, str) else ""


def _parse_xml(body: bytes, max_bytes: int) -> tuple[etree._Element | None, str | None]:
    """Parse strictly; on failure, salvage with the lenient parser and say what was wrong."""
    data = _inflate(body, max_bytes).lstrip()
    if not data:
        return None, "document vide"
    try:
        return etree.fromstring(data, _SAFE_XML), None
    except etree.XMLSyntaxError as exc:
        problem = xml_problem(exc)
    try:
        root = etree.fromstring(data, _LENIENT_XML)
    except etree.XMLSyntaxError:
        root = None
    return root, problem


def parse_sitemap(body: bytes, *, max_bytes: int = DEFAULT_LIMIT) -> Sitemap:
    """Read a sitemap index or urlset (namespace-agnostic, gzip accepted up to MAX_BYTES)."""
    root, problem = _parse_xml(body, max_bytes)
    if root is None:
        raise NotAListing(problem or "pas du XML")
    kind = _local(root.tag)
    if kind not in ("sitemapindex", "urlset"):
        raise NotAListing(f"pas un sitemap (élément racine <{kind}>)")
    entries: list[Listed] = []
    for entry in root:
        if _local(entry.tag) not in ("sitemap", "url"):
            continue
        loc = lastmod = None
        for child in entry:
            name = _local(child.tag)
            if name == "loc":
                loc = (child.text or "").strip()
            elif name == "lastmod":
                lastmod = modified_key(child.text)
        if loc:
            entries.append(Listed(loc, lastmod))
    return Sitemap(is_index=kind == "sitemapindex", entries=entries, damaged=problem)


def feed_kind(body: bytes) -> str | None:
    """Recognise a feed by its content (never its Content-Type): "rss", "atom", "rdf" or None."""
    head = inflate_head(body, 2048).lstrip(b"\xef\xbb\xbf \t\r\n").lower()
    if not head.startswith(b"<"):
        return None
    for marker, kind in ((b"<rss", "rss"), (b"<feed", "atom"), (b"<rdf:rdf", "rdf")):
        position = head.find(marker)
        if position != -1 and b"<html" not in head[:position]:
            return kind
    return None


def parse_feed(body: bytes, *, max_bytes: int = DEFAULT_LIMIT) -> tuple[list[Listed], str | None]:
    """Return the item links of an RSS 2.0, RSS 1.0 or Atom feed, and any damage found."""
    if feed_kind(body) is None:
        raise NotAListing("pas un flux (ni <rss>, ni <feed>, ni <rdf:RDF> à la racine)")
    root, problem = _parse_xml(body, max_bytes)
    if root is None:
        raise NotAListing(problem or "pas du XML")
    links: list[Listed] = []
    for element in root.iter():
        name = _local(element.tag)
        if name == "item":
            link = next((c for c in element if _local(c.tag) == "link"), None)
            if link is not None and (link.text or "").strip():
                links.append(Listed(link.text.strip()))
        elif name == "entry" and element.tag.startswith(_ATOM):
            for child in element:
                rel = child.get("rel", "alternate")
                if _local(child.tag) == "link" and rel == "alternate" and child.get("href"):
                    updated = next(
                        (c.text for c in element if _local(c.tag) == "updated"), None
                    )
                    links.append(Listed(child.get("href", "").strip(), modified_key(updated)))
                    break
    return links, problem


def _json_list(body: bytes, what: str) -> list[Any]:
    try:
        items = json.loads(body)
    except (UnicodeDecodeError, json.JSONDecodeError, RecursionError) as exc:
        raise NotAListing(f"la réponse REST n'est pas du JSON {technical(exc)}") from None
    if not isinstance(items, list):
        raise NotAListing(f"la réponse REST n'est pas une liste ({what})")
    return items


def _rendered(value: object) -> str | None:
    if isinstance(value, dict):
        value = value.get("rendered")
    if not isinstance(value, str):
        return None
    return html.unescape(value).strip() or None


def parse_rest_posts(body: bytes) -> list[Listed]:
    """Read one page of ``/wp-json/wp/v2/posts``: each post's link, modification time and the
    facts REST is the authority for (status, protection, title, category ids)."""
    listed: list[Listed] = []
    for post in _json_list(body, "articles"):
        if not isinstance(post, dict) or not isinstance(post.get("link"), str):
            continue
        # modified_gmt is UTC; plain modified is site-local time, only a consistent fallback.
        modified = modified_key(post.get("modified_gmt") or post.get("modified"))
        content = post.get("content")
        protected = isinstance(content, dict) and content.get("protected") is True
        status = post.get("status")
        categories = post.get("categories")
        rest = RestPost(
            link=post["link"], modified=modified,
            status=status if isinstance(status, str) else "publish", protected=protected,
            title=_rendered(post.get("title")),
            category_ids=tuple(c for c in categories if isinstance(c, int) and
                               not isinstance(c, bool)) if isinstance(categories, list) else (),
        )
        listed.append(Listed(post["link"], modified, rest))
    return listed


def parse_rest_categories(body: bytes) -> dict[int, str]:
    """Read one page of ``/wp-json/wp/v2/categories``: category id to name."""
    names: dict[int, str] = {}
    for term in _json_list(body, "catégories"):
        if not isinstance(term, dict):
            continue
        term_id, name = term.get("id"), _rendered(term.get("name"))
        if isinstance(term_id, int) and not isinstance(term_id, bool) and name:
            names[term_id] = name
    return names


def total_pages(header: str | None) -> int | None:
    """Return the ``X-WP-TotalPages`` value as an int, or None if absent or unusable."""
    try:
        value = int((header or "").strip())
    except ValueError:
        return None
    return value if value >= 0 else None
