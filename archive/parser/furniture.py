"""Remove what is never article text: comment sections, scripts, navigation, sidebars, sharing,
related-post and "Lire aussi" boxes, and the site's header and footer.

Comment sections go with the rest, before any text is read: a reader's comment may contain a
line that looks like the platform's byline, and nothing read afterwards may see it.
"""

from __future__ import annotations

import re

from lxml import html

from archive.parser import platform
from archive.parser.body import TextMass, find_container, text_mass

_MARKERS: dict[str, str] = {
    **{marker: "furniture" for marker in platform.FURNITURE_MARKERS},
    **{marker: "comment" for marker in platform.COMMENT_MARKERS},
}
_HEADING_TAGS = frozenset({"h2", "h3", "h4", "h5", "h6", "strong", "b", "p"})
_BOX_TAGS = frozenset({"div", "section", "aside", "nav", "ul", "ol"})
_BOX_MAX_CHARS = 1500
_LINK_LIST_TAGS = ("div", "section", "ul", "ol", "dl", "table", "p")
_LINK_LIST_DENSITY = 0.5
_LINK_DENSE = 0.5
_CONTENT_CLASSES = re.compile(
    r"(?:^|\s)(?:entry-content|post-content|article-content|article-body)"
)


def _marker(element: html.HtmlElement) -> str | None:
    """Return "comment" or "furniture" when a class or id word of ELEMENT is a marker or begins
    with a marker and a hyphen (``sidebar-1``); a mere prefix (``shareholders``) is no match."""
    if element.tag in platform.PROTECTED_TAGS:
        return None
    names = element.get("class")
    ident = element.get("id")
    if ident:
        names = f"{names} {ident}" if names else ident
    if not names:
        return None
    for word in names.lower().replace("_", "-").split():
        kind = _MARKERS.get(word)
        if kind is not None:
            return kind
        cut = word.find("-")
        while cut > 0:
            kind = _MARKERS.get(word[:cut])
            if kind is not None:
                return kind
            cut = word.find("-", cut + 1)
    return None


def _drop_all(elements: list[html.HtmlElement]) -> None:
    for element in elements:
        if element.getparent() is not None:
            element.drop_tree()


def _inside_content(element: html.HtmlElement) -> bool:
    return any(True for _ in element.iterancestors(*platform.CONTENT_ANCESTORS))


def remove_furniture(root: html.HtmlElement) -> None:
    """Remove comment sections, scripts, navigation, sidebars, widgets, sharing, related posts
    and site chrome from ROOT, in place, before any text is read.

    Nothing that holds the article's own text box, or most of the page's paragraph text, is
    removed, whatever its class says (``div#main.sidebar-right``, a whole page in a ``form``).
    """
    doomed: list[html.HtmlElement] = []
    comments: list[html.HtmlElement] = []
    headings: list[html.HtmlElement] = []
    for element in root.iter():
        tag = element.tag
        if not isinstance(tag, str):
            continue
        kind = "drop" if tag in platform.DROP_TAGS else _marker(element)
        if kind == "comment":
            comments.append(element)
        elif kind is not None:
            doomed.append(element)
        elif tag in platform.SITE_CHROME_TAGS and not _inside_content(element):
            doomed.append(element)
        elif tag in _HEADING_TAGS:
            headings.append(element)
    skip = frozenset(comments)
    mass = text_mass(root, skip)
    page = root.find("body")
    total = mass.held.get(page if page is not None else root, 0)
    container, _rule = find_container(root, mass, specific_only=True, skip=skip)
    kept: set[html.HtmlElement] = set()
    if container is not None:
        kept.add(container)
        kept.update(container.iterancestors())
    _drop_all([
        element for element in comments + doomed
        if element not in kept and mass.held.get(element, 0) * 2 <= total
    ])
    _drop_all(_related_boxes(headings))


def remove_link_lists(container: html.HtmlElement | None, mass: TextMass) -> None:
    """Remove, inside the article's CONTAINER, the blocks made mostly of links: "most read"
    lists, teaser cards and tag clouds that themes print between or after the paragraphs."""
    if container is None:
        return
    doomed = [
        element for element in container.iterdescendants(*_LINK_LIST_TAGS)
        if mass.link_density(element) > _LINK_LIST_DENSITY
    ]
    _drop_all(doomed)


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
