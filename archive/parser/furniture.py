"""Remove what is never article text: comment sections, scripts, navigation, sidebars, sharing,
related-post and "Lire aussi" boxes, and the site's header and footer.

Comment sections go with the rest, before any text is read: a reader's comment may contain a
line that looks like the platform's byline, and nothing read afterwards may see it.
"""

from __future__ import annotations

import re

from lxml import html

from archive.parser import platform

_MARKERS = re.compile(
    r"(?:^|\s)(?:(?P<comment>"
    + "|".join(re.escape(marker) for marker in platform.COMMENT_MARKERS)
    + r")|(?P<furniture>"
    + "|".join(re.escape(marker) for marker in platform.FURNITURE_MARKERS)
    + r"))"
)
_HEADING_TAGS = frozenset({"h2", "h3", "h4", "h5", "h6", "strong", "b", "p"})
_BOX_TAGS = frozenset({"div", "section", "aside", "nav", "ul", "ol"})
_BOX_MAX_CHARS = 1500
_LINK_DENSE = 0.5
_CONTENT_CLASSES = re.compile(
    r"(?:^|\s)(?:entry-content|post-content|article-content|article-body)"
)


def _marker(element: html.HtmlElement) -> str | None:
    """Return "comment" or "furniture" when a class or id word of ELEMENT starts with a marker."""
    if element.tag in platform.PROTECTED_TAGS:
        return None
    names = element.get("class")
    ident = element.get("id")
    if ident:
        names = f"{names} {ident}" if names else ident
    if not names:
        return None
    found = _MARKERS.search(names)
    return found.lastgroup if found else None


def _drop_all(elements: list[html.HtmlElement]) -> None:
    for element in elements:
        if element.getparent() is not None:
            element.drop_tree()


def _inside_content(element: html.HtmlElement) -> bool:
    return any(True for _ in element.iterancestors(*platform.CONTENT_ANCESTORS))


def remove_furniture(root: html.HtmlElement) -> None:
    """Remove comment sections, scripts, navigation, sidebars, widgets, sharing, related posts
    and site chrome from ROOT, in place, before any text is read."""
    doomed: list[html.HtmlElement] = []
    headings: list[html.HtmlElement] = []
    for element in root.iter():
        tag = element.tag
        if not isinstance(tag, str):
            continue
        if tag in platform.DROP_TAGS or _marker(element) is not None:
            doomed.append(element)
        elif tag in platform.SITE_CHROME_TAGS and not _inside_content(element):
            doomed.append(element)
        elif tag in _HEADING_TAGS:
            headings.append(element)
    _drop_all(doomed)
    _drop_all(_related_boxes(headings))


def _text_length(element: html.HtmlElement) -> int:
    return len(" ".join(element.text_content().split()))


def _link_density(element: html.HtmlElement) -> float:
    total = _text_length(element)
    if total == 0:
        return 0.0
    linked = sum(_text_length(link) for link in element.iter("a"))
    return linked / total


def _related_boxes(headings: list[html.HtmlElement]) -> list[html.HtmlElement]:
    """Return the "Lire aussi" boxes announced by HEADINGS (the box, or heading and its list)."""
    boxes: list[html.HtmlElement] = []
    for heading in headings:
        if heading.getparent() is None:
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
