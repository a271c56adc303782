"""One walk over the parsed page: what each element is (furniture, a comment section, a
candidate article container) and how much readable text it holds.

Text mass decides what survives furniture removal and which container holds the article, so
it is measured once, before anything is removed, and kept true as elements are removed.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from lxml import etree, html

from archive.parser import platform

BLOCK_TAGS = frozenset(
    "p div section article header footer main aside nav h1 h2 h3 h4 h5 h6 ul ol li dl dt dd "
    "blockquote pre figure figcaption table thead tbody tfoot tr td th caption address hr "
    "center details summary fieldset body".split()
)
_DENSEST_PARENTS = frozenset({"div", "section", "td", "body", "article", "main"})
_QUIET_TAGS = frozenset({
    "script", "style", "noscript", "template", "svg", "button", "select", "option",
    "textarea", "head", "title",
})
"""Elements whose text is never read (link text is counted apart: menus and teasers)."""

_MARKERS: dict[str, str] = {
    **{marker: "furniture" for marker in platform.FURNITURE_MARKERS},
    **{marker: "comment" for marker in platform.COMMENT_MARKERS},
}


_KNOWN: dict[str, str | None] = {}
_KNOWN_MAX = 4096


def marker(names: str) -> str | None:
    """Return "comment" or "furniture" when one of the class or id words NAMES is a marker or
    begins with a marker and a hyphen (``sidebar-1``); a mere prefix (``shareholders``) is no
    match."""
    if names in _KNOWN:
        return _KNOWN[names]
    kind = _marker(names)
    if len(_KNOWN) < _KNOWN_MAX:
        _KNOWN[names] = kind
    return kind


def _marker(names: str) -> str | None:
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


def _rule_index() -> tuple[
    dict[str, list[int]], dict[str, list[int]], dict[str, dict[str, list[int]]]
]:
    by_tag: dict[str, list[int]] = {}
    by_class: dict[str, list[int]] = {}
    by_attribute: dict[str, dict[str, list[int]]] = {}
    for index, rule in enumerate(platform.CONTAINER_RULES):
        for tag in rule.tags:
            by_tag.setdefault(tag, []).append(index)
        for name in rule.classes:
            by_class.setdefault(name, []).append(index)
        for attribute, value in rule.attributes:
            by_attribute.setdefault(attribute, {}).setdefault(value, []).append(index)
    return by_tag, by_class, by_attribute


_BY_TAG, _BY_CLASS, _BY_ATTRIBUTE = _rule_index()


def _container_rules(element: html.HtmlElement, tag: str, classes: list[str]) -> set[int]:
    found: set[int] = set(_BY_TAG.get(tag, ()))
    for name in classes:
        found.update(_BY_CLASS.get(name, ()))
    for attribute, values in _BY_ATTRIBUTE.items():
        value = element.get(attribute)
        if value is not None:
            found.update(values.get(value, ()))
    return found


@dataclass
class PageScan:
    """What one walk over the page found, kept true as elements are removed."""

    root: html.HtmlElement
    held: dict[html.HtmlElement, int] = field(default_factory=dict)
    linked: dict[html.HtmlElement, int] = field(default_factory=dict)
    density: dict[html.HtmlElement, int] = field(default_factory=dict)
    comments: list[html.HtmlElement] = field(default_factory=list)
    furniture: list[html.HtmlElement] = field(default_factory=list)
    headings: list[html.HtmlElement] = field(default_factory=list)
    candidates: dict[int, list[html.HtmlElement]] = field(default_factory=dict)

    def link_density(self, element: html.HtmlElement) -> float:
        """Return the share of ELEMENT's visible text that is link text."""
        linked = self.linked.get(element, 0)
        return linked / (linked + self.held.get(element, 0)) if linked else 0.0

    def attached(self, element: html.HtmlElement) -> bool:
        """Return whether ELEMENT is still in the page (no removed ancestor)."""
        top = element
        parent = top.getparent()
        while parent is not None:
            top, parent = parent, parent.getparent()
        return top is self.root

    def densest(self) -> tuple[html.HtmlElement | None, int]:
        """Return the block whose own paragraphs hold the most text, and that text's size."""
        for element, size in sorted(self.density.items(), key=lambda item: -item[1]):
            if self.attached(element):
                return element, size
        return None, 0

    def remove(self, elements: list[html.HtmlElement]) -> None:
        """Remove ELEMENTS from the page (their tails stay) and take their text off their
        ancestors' mass."""
        doomed = set(elements)
        for element in elements:
            held = self.held.get(element, 0)
            linked = self.linked.get(element, 0)
            if not held and not linked:
                continue
            ancestors = []
            for outer in element.iterancestors():
                if outer in doomed:
                    break
                ancestors.append(outer)
            else:
                for outer in ancestors:
                    self.held[outer] = self.held.get(outer, 0) - held
                    self.linked[outer] = self.linked.get(outer, 0) - linked
        for element in elements:
            if element.getparent() is not None:
                element.drop_tree()


def scan_page(root: html.HtmlElement) -> PageScan:
    """Walk ROOT once: mark furniture and comment sections, collect container candidates and
    "Lire aussi" heading candidates, and measure each element's text (comment text left out)."""
    walk = _Walk(PageScan(root))
    for event, element in etree.iterwalk(root, events=("start", "end")):
        tag = element.tag
        if not isinstance(tag, str):
            continue
        if event == "start":
            walk.start(element, tag)
        else:
            walk.end(element, tag)
    return walk.scan


class _Walk:
    """The state of ``scan_page``'s walk: open elements and the text counted in each."""

    def __init__(self, scan: PageScan) -> None:
        self.scan = scan
        self.elements: list[html.HtmlElement] = []
        self.totals: list[int] = [0]
        self.links: list[int] = [0]
        self.inline: list[int] = [0]
        self.quiet = self.in_link = self.in_comment = self.in_content = 0
        self.comments: set[html.HtmlElement] = set()

    def _count(self, text: str | None) -> None:
        if self.quiet or not text:
            return
        size = len(text.strip())
        if self.in_link:
            self.links[-1] += size
        else:
            self.totals[-1] += size
            self.inline[-1] += size

    def start(self, element: html.HtmlElement, tag: str) -> None:
        """Open ELEMENT: classify it and count its leading text."""
        self.elements.append(element)
        self.totals.append(0)
        self.links.append(0)
        self.inline.append(0)
        _classify(self.scan, element, tag, self.in_content)
        if tag in _QUIET_TAGS:
            self.quiet += 1
        elif tag == "a":
            self.in_link += 1
        if tag in platform.CONTENT_ANCESTORS:
            self.in_content += 1
        if self.scan.comments and self.scan.comments[-1] is element:
            self.comments.add(element)
            self.in_comment += 1
        self._count(element.text)

    def end(self, element: html.HtmlElement, tag: str) -> None:
        """Close ELEMENT: record its mass, pass it to its parent, count its tail."""
        self.elements.pop()
        own = self.totals.pop()
        own_links = self.links.pop()
        direct = self.inline.pop()
        if tag in _QUIET_TAGS:
            self.quiet -= 1
        elif tag == "a":
            self.in_link -= 1
        if tag in platform.CONTENT_ANCESTORS:
            self.in_content -= 1
        if self.in_comment and element in self.comments:
            self.in_comment -= 1
            own = direct = own_links = 0
        if own:
            self.scan.held[element] = own
            self.totals[-1] += own
        if own_links:
            self.scan.linked[element] = own_links
            self.links[-1] += own_links
        if tag not in BLOCK_TAGS:
            self.inline[-1] += direct
        elif direct and not self.in_comment:
            self._paragraph(element, tag, direct)
        self._count(element.tail)

    def _paragraph(self, element: html.HtmlElement, tag: str, size: int) -> None:
        """Credit a block's own text to the block that holds it as a paragraph."""
        holder: html.HtmlElement | None = element
        if tag not in _DENSEST_PARENTS:
            holder = next(
                (outer for outer in reversed(self.elements) if outer.tag in _DENSEST_PARENTS),
                None,
            )
        if holder is not None:
            self.scan.density[holder] = self.scan.density.get(holder, 0) + size


_HEADING_TAGS = frozenset({"h2", "h3", "h4", "h5", "h6", "strong", "b", "p"})


def _classify(scan: PageScan, element: html.HtmlElement, tag: str, in_content: int) -> None:
    """Record what ELEMENT is: furniture, a comment section, a container candidate."""
    names = element.get("class") or ""
    ident = element.get("id")
    for index in _container_rules(element, tag, names.split()):
        scan.candidates.setdefault(index, []).append(element)
    if ident:
        names = f"{names} {ident}"
    if tag in platform.DROP_TAGS:
        scan.furniture.append(element)
        return
    kind = marker(names) if names and tag not in platform.PROTECTED_TAGS else None
    if kind == "comment":
        scan.comments.append(element)
    elif kind is not None or (tag in platform.SITE_CHROME_TAGS and not in_content):
        scan.furniture.append(element)
    elif tag in _HEADING_TAGS:
        scan.headings.append(element)
