"""The replica's machine-readable documents: robots.txt, WordPress sitemaps and RSS 2.0 feeds."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime
from email.utils import format_datetime
from html import escape

from archive.authors import author_slug
from archive.replica.corpus import CATEGORIES, ReplicaArticle, category_slug
from archive.replica.theme import content_html, excerpt, iso

_XML_HEAD = '<?xml version="1.0" encoding="UTF-8"?>\n'
_SITEMAP_NS = 'xmlns="http://www.sitemaps.org/schemas/sitemap/0.9"'


def robots_txt(base_url: str, crawl_delay: float | None = None) -> str:
    """Return robots.txt: the admin, the members' area and search are off limits."""
    lines = ["User-agent: *", "Disallow: /wp-admin/", "Allow: /wp-admin/admin-ajax.php",
             "Disallow: /prive/", "Disallow: /?s=", "Disallow: /*?s="]
    if crawl_delay is not None:
        lines.append(f"Crawl-delay: {crawl_delay:g}")
    lines += ["", f"Sitemap: {base_url}/wp-sitemap.xml", ""]
    return "\n".join(lines)


def sitemap_index(base_url: str, post_pages: int, with_users: bool = True,
                  malformed: bool = False) -> str:
    """Return ``/wp-sitemap.xml``: the list of sub-sitemaps."""
    names = [f"wp-sitemap-posts-post-{page}.xml" for page in range(1, post_pages + 1)]
    if malformed:
        names.append("wp-sitemap-posts-page-1.xml")
    names.append("wp-sitemap-taxonomies-category-1.xml")
    if with_users:
        names.append("wp-sitemap-users-1.xml")
    entries = "".join(f"<sitemap><loc>{base_url}/{name}</loc></sitemap>\n" for name in names)
    return f"{_XML_HEAD}<sitemapindex {_SITEMAP_NS}>\n{entries}</sitemapindex>\n"


def url_set(entries: Sequence[tuple[str, datetime | None]]) -> str:
    """Return a ``<urlset>`` of (absolute URL, last modification) pairs."""
    rows = []
    for url, lastmod in entries:
        modified = f"<lastmod>{iso(lastmod)}</lastmod>" if lastmod else ""
        rows.append(f"<url><loc>{escape(url)}</loc>{modified}</url>\n")
    return f"{_XML_HEAD}<urlset {_SITEMAP_NS}>\n{''.join(rows)}</urlset>\n"


def malformed_sitemap(base_url: str) -> str:
    """Return a sub-sitemap whose XML is broken (unclosed elements, stray ampersand)."""
    return (f"{_XML_HEAD}<urlset {_SITEMAP_NS}>\n<url><loc>{base_url}/a-propos/?a=1&b=2</loc>"
            "\n<url><loc>")


def category_url_set(base_url: str) -> str:
    """Return the categories sitemap."""
    return url_set([(f"{base_url}/category/{category_slug(name)}/", None)
                    for name in CATEGORIES])


def _cdata(text: str) -> str:
    return "<![CDATA[" + text.replace("]]>", "]]]]><![CDATA[>") + "]]>"


def rss_feed(base_url: str, title: str, feed_path: str, link_path: str,
             articles: Sequence[ReplicaArticle]) -> str:
    """Return an RSS 2.0 feed of ARTICLES (newest first) with pubDate and dc:creator."""
    items = []
    for article in articles:
        url = base_url + article.path
        categories = "".join(f"<category>{_cdata(name)}</category>"
                             for name in article.categories)
        items.append(
            f"<item>\n<title>{escape(article.title)}</title>\n<link>{escape(url)}</link>\n"
            f"<dc:creator>{_cdata(article.wp_author)}</dc:creator>\n"
            f"<pubDate>{format_datetime(article.published_at)}</pubDate>\n{categories}\n"
            f'<guid isPermaLink="false">{base_url}/?p={article.post_id}</guid>\n'
            f"<description>{_cdata(excerpt(article, 55))}</description>\n"
            f"<content:encoded>{_cdata(content_html(article))}</content:encoded>\n</item>\n")
    built = max((a.modified_at for a in articles), default=None)
    last_build = f"<lastBuildDate>{format_datetime(built)}</lastBuildDate>\n" if built else ""
    return (
        f"{_XML_HEAD}<rss version=\"2.0\" "
        'xmlns:content="http://purl.org/rss/1.0/modules/content/" '
        'xmlns:dc="http://purl.org/dc/elements/1.1/" '
        'xmlns:atom="http://www.w3.org/2005/Atom">\n<channel>\n'
        f"<title>{escape(title)}</title>\n"
        f'<atom:link href="{base_url}{feed_path}" rel="self" type="application/rss+xml" />\n'
        f"<link>{base_url}{link_path}</link>\n"
        "<description>Le journal citoyen du continent</description>\n"
        f"{last_build}<language>fr-FR</language>\n"
        f"{''.join(items)}</channel>\n</rss>\n"
    )


def account_url(base_url: str, account: str) -> str:
    """Return the author-archive URL of a WordPress account."""
    return f"{base_url}/author/{author_slug(account)}/"
