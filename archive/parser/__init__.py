"""HTML page -> ``Article``: decode, read the page's metadata, remove comments and furniture,
reject what is not an article, extract the body, then fill each field by its fallback order.

``parse_page`` accepts any bytes: it returns an ``Article`` or raises ``NotAnArticle``.
"""

from __future__ import annotations

import re

from lxml import etree, html

from archive.errors import NotAnArticle, PageRefused
from archive.models import Article
from archive.parser import furniture, metadata, pagekind
from archive.parser.body import (
    body_paragraphs,
    find_container,
    linearize,
    platform_lines,
    without_title,
)
from archive.parser.canonical import trusted_canonical
from archive.parser.decode import decode_html

__all__ = ["decode_html", "parse_page"]

# C0 controls other than tab, newline and carriage return break libxml2's parser. Soft hyphens
# and zero-width characters, as characters or as references, split words for search
# ("réac\xadtion"): they go too.
_CONTROLS = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f]")
# libxml2 drops whatever follows a </body> or </html>; browsers read it as part of the body,
# and a page with a stray one early still shows its article. Both end tags are optional.
_DOCUMENT_END = re.compile(r"</(?:body|html)\s*>", re.IGNORECASE)
_INVISIBLE_CHARACTERS = "\u00ad\u200b\u200c\u200d\u2060\ufeff"
_INVISIBLE = re.compile(
    r"&(?:shy|ZeroWidthSpace|zwnj|zwj|NoBreak);"
    r"|&#(?:0*173|[xX]0*[aA][dD]|0*820[345]|0*8288|0*65279|[xX]0*200[bBcCdD]|[xX]0*2060"
    r"|[xX]0*[fF][eE][fF][fF]);"
)


def _tree(text: str, url: str) -> html.HtmlElement:
    """Return the parsed document of TEXT, or raise NotAnArticle when nothing is in it."""
    # huge_tree: libxml2 otherwise stops at 256 nested elements and drops the article.
    parser = html.HTMLParser(
        encoding="utf-8", remove_comments=True, remove_pis=True, no_network=True,
        huge_tree=True,
    )
    text = _DOCUMENT_END.sub("", _CONTROLS.sub("", text))
    for character in _INVISIBLE_CHARACTERS:
        if character in text:
            text = text.replace(character, "")
    data = _INVISIBLE.sub("", text).encode("utf-8", "replace")
    root: html.HtmlElement | None = None
    if data.strip():
        try:
            root = etree.fromstring(data, parser)
        except (etree.ParserError, etree.XMLSyntaxError, ValueError):
            root = None
        too_deep = next((e.message for e in parser.error_log
                         if "Excessive depth" in (e.message or "")), None)
        if too_deep is not None:
            limit = re.search(r"\d+", too_deep)
            raise PageRefused(
                f"page refusée : {url} imbrique ses éléments sur plus de "
                f"{limit.group() if limit else 'ce que le parseur admet de'} niveaux", url=url)
    if root is None:
        raise NotAnArticle(
            f"pas un article : {url} est une page vide ({len(text)} caractères de balisage)",
            url=url,
        )
    return root


def parse_page(body: bytes, url: str, content_type: str | None = None) -> Article:
    """Return the article in the page BODY served at URL, or raise NotAnArticle."""
    pagekind.check_url(url)
    pagekind.check_media_type(url, content_type)
    text, _encoding = decode_html(body, content_type)
    pagekind.check_document(url, text)
    root = _tree(text, url)
    head = metadata.read_head(root)
    pagekind.check_protection(url, head, root)
    pagekind.check_head(url, head, root)
    scan = furniture.remove_furniture(root)
    pagekind.check_listing(url, head, root)
    container, container_rule = find_container(scan)
    furniture.remove_link_lists(container, scan)
    blocks = linearize(root, container)
    paragraphs = body_paragraphs(blocks)
    facts = metadata.PageFacts(
        url=url, head=head, root=root, blocks=blocks, platform=platform_lines(blocks),
        body="\n\n".join(paragraphs),
    )
    fields = metadata.resolve(facts)
    paragraphs = without_title(paragraphs, fields.title)
    article_text = "\n\n".join(paragraphs)
    pagekind.check_text(url, fields.title, paragraphs, root)
    canonical = trusted_canonical(fields.canonical_url, url)
    edition, sources = fields.edition, dict(fields.sources)
    if canonical is None and sources.get("edition") in ("canonical", "og:url"):
        # An address the page may not claim says nothing about its edition either.
        edition = None
        sources.pop("edition")
    return Article(
        url=url,
        title=fields.title,
        body=article_text,
        author=fields.author,
        published=fields.published,
        modified=fields.modified,
        edition=edition,
        categories=fields.categories,
        language=fields.language,
        canonical_url=canonical,
        sources={**sources, "body": container_rule},
    )
