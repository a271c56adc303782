"""Remove what is never article text: comment sections, scripts, navigation, sidebars, sharing,
related-post and "Lire aussi" boxes, and the site's header and footer.

Comment sections go with the rest, before any text is read: a reader's comment may contain a
line that looks like the platform's byline, and nothing read afterwards may see it. Nothing
that holds the article's own text box, or most of the page's text, is ever removed, whatever
its class says (``div#main.sidebar-right``, a post ``div.share``, a whole page in a ``form``).
"""

from __future__ import annotations

import re

from lxml import html

from archive.parser import platform
from archive.parser.body import find_container
from archive.parser.scan import PageScan, scan_page

_BOX_TAGS = frozenset({"div", "section", "aside", "nav", "ul", "ol"})
_BOX_MAX_CHARS = 1500
_LINK_DENSE = 0.5
_LINK_LIST_TAGS = ("div", "section", "ul", "ol", "dl", "table")
_LINK_PARAGRAPH_TAGS = (*_LINK_LIST_TAGS, "p")
_LINK_LIST_DENSITY = 0.5
_CONTENT_CLASSES = re.compile(
    r"(?:^|\s)(?:entry-content|post-content|article-content|article-body)"
)


def remove_furniture(root: html.HtmlElement) -> PageScan:
    """Remove comment sections, scripts, navigation, sidebars, widgets, sharing, related posts
    and site chrome from ROOT, in place, before any text is read; return the page's scan,
    its text mass brought up to date."""
    scan = scan_page(root)
    container, _rule = find_container(scan, specific_only=True)
    kept: set[html.HtmlElement] = set()
    if container is not None:
        kept.add(container)
        kept.update(container.iterancestors())
    body = root.find("body")
    total = scan.held.get(body if body is not None else root, 0)
    scan.remove([
        element for element in scan.comments + scan.furniture
        if element not in kept and scan.held.get(element, 0) * 2 <= total
    ])
    scan.remove(_related_boxes(scan))
    return scan


def remove_link_lists(container: html.HtmlElement | None, scan: PageScan) -> None:
    """Remove, inside the article's CONTAINER, the blocks made mostly of links: "most read"
    lists, teaser cards and tag clouds that themes print between or after the paragraphs.

    On a page the platform wrote (its byline is in the container) a paragraph that is one link
    is the author's (a photo, a source) and stays; elsewhere it is a teaser ("Read more: …").
    """
    if container is None:
        return
    tags = _LINK_LIST_TAGS if platform.BYLINE_WORDS.search(container.text_content()) \
        else _LINK_PARAGRAPH_TAGS
    scan.remove([
        element for element in container.iterdescendants(*tags)
        if scan.link_density(element) > _LINK_LIST_DENSITY
    ])


def _text_length(element: html.HtmlElement) -> int:
    return len(" ".join(element.text_content().split()))


def _link_density(element: html.HtmlElement) -> float:
    total = _text_length(element)
    if total == 0:
        return 0.0
    linked = sum(_text_length(link) for link in element.iter("a"))
    return linked / total


def _related_boxes(scan: PageScan) -> list[html.HtmlElement]:
    """Return the "Lire aussi" boxes announced by headings (the box, or heading and its list)."""
    boxes: list[html.HtmlElement] = []
    for heading in scan.headings:
        if heading.getparent() is None or not scan.attached(heading):
            continue
        text = " ".join(heading.text_content().split())
        if not text or len(text) > 200 or not platform.RELATED_HEADING.match(text):
            continue
        if heading.tag in ("strong", "b"):
            parent = heading.getparent()
            if parent is not None and parent.tag == "p":
                heading = parent
        box = heading.getparent()
        if (
            box is not None
            and box.tag in _BOX_TAGS
            and not _CONTENT_CLASSES.search(box.get("class") or "")
            and _text_length(box) <= _BOX_MAX_CHARS
            and _link_density(box) >= _LINK_DENSE
        ):
            boxes.append(box)
            continue
        boxes.append(heading)
        following = heading.getnext()
        if following is not None and (
            following.tag in ("ul", "ol") or _link_density(following) >= _LINK_DENSE
        ):
            boxes.append(following)
    return boxes
