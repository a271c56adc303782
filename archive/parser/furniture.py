"""Remove what is never article text: comment sections, scripts, navigation, sidebars, sharing,
related-post and "Lire aussi" boxes, and the site's header and footer.

Comment sections go first and on their own: a reader's comment may contain a line that looks
like the platform's byline, and nothing read afterwards may see it.
"""

from __future__ import annotations

import re

from lxml import html

from archive.parser import platform


def _marker_pattern(markers: tuple[str, ...]) -> re.Pattern[str]:
    alternatives = "|".join(re.escape(marker) for marker in markers)
    return re.compile(rf"(?:^|\s)(?:{alternatives})", re.IGNORECASE)


_COMMENT = _marker_pattern(platform.COMMENT_MARKERS)
_FURNITURE = _marker_pattern(platform.FURNITURE_MARKERS)
_CODE_TAGS = frozenset({"script", "style", "noscript", "template"})
_HEADING_TAGS = frozenset({"h2", "h3", "h4", "h5", "h6", "strong", "b", "p"})
_BOX_TAGS = frozenset({"div", "section", "aside", "nav", "ul", "ol"})
_BOX_MAX_CHARS = 1500
_LINK_DENSE = 0.5
_CONTENT_CLASSES = re.compile(r"entry-content|post-content|article-content|article-body")


def _marked(element: html.HtmlElement, pattern: re.Pattern[str]) -> bool:
    if element.tag in platform.PROTECTED_TAGS:
        return False
    return bool(
        pattern.search(element.get("class") or "") or pattern.search(element.get("id") or "")
    )


def _drop_all(elements: list[html.HtmlElement]) -> None:
    for element in elements:
        if element.getparent() is not None:
            element.drop_tree()


def remove_comment_sections(root: html.HtmlElement) -> None:
    """Remove scripts, styles and every comment section from ROOT, in place."""
    doomed = [
        element
        for element in root.iter()
        if not isinstance(element.tag, str)
        or element.tag in _CODE_TAGS
        or _marked(element, _COMMENT)
    ]
    _drop_all(doomed)


def _inside_content(element: html.HtmlElement) -> bool:
    return any(True for _ in element.iterancestors(*platform.CONTENT_ANCESTORS))


def remove_furniture(root: html.HtmlElement) -> None:
    """Remove navigation, sidebars, widgets, sharing, related posts and site chrome, in place."""
    doomed: list[html.HtmlElement] = []
    headings: list[html.HtmlElement] = []
    for element in root.iter():
        tag = element.tag
        if not isinstance(tag, str):
            continue
        if tag in platform.DROP_TAGS or _marked(element, _FURNITURE):
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
            and not _marked(box, _CONTENT_CLASSES)
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
