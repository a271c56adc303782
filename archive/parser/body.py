"""The article's text: find its container, cut it into paragraphs, and take out the platform's
byline, date and boilerplate wherever they sit.

Paragraphs are the text of block elements; ``<br>`` only separates lines so that a byline or
date sharing a paragraph with the last sentence can be cut off. Inside a paragraph runs of
ASCII white space become one space; no-break spaces (U+00A0, U+202F) are kept as they are.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import date

from lxml import etree, html

from archive.parser import platform
from archive.parser.scan import BLOCK_TAGS, PageScan

_ASCII_SPACE = re.compile(r"[ \t\n\r\f\v]+")
_MIN_CONTAINER_CHARS = 1
_BODY_EXCLUDED = etree.XPath(platform.BODY_EXCLUDED_XPATH)
_SENTENCE_END = frozenset(".!?…»\")”:;")


@dataclass(frozen=True)
class Block:
    """The text of one block element, as lines (``<br>`` starts a new line)."""

    lines: tuple[str, ...]
    in_container: bool
    in_body: bool

    @property
    def text(self) -> str:
        """Return the lines joined by newlines."""
        return "\n".join(self.lines)

    def may_hold(self, hint: str) -> bool:
        """Return whether HINT (lower case) occurs in the block: a cheap test before a regex."""
        return any(hint in line.lower() for line in self.lines)


@dataclass(frozen=True)
class PlatformLines:
    """What the platform's own lines say, where present."""

    author: str | None = None
    published: date | None = None


def collapse(line: str) -> str:
    """Return LINE with runs of ASCII white space made one space (no-break spaces kept)."""
    return _ASCII_SPACE.sub(" ", line).strip(" ")


def find_container(
    scan: PageScan, specific_only: bool = False
) -> tuple[html.HtmlElement | None, str]:
    """Return the element holding the article text and the rule that found it.

    Rules go from the most specific selector to the most general; a rule's candidates compete
    by text mass, and its best one is taken only when it holds at least half the text of the
    densest block, so a teaser never beats the article it announces. Candidates inside a
    comment section or a removed element never count.
    """
    held_by = scan.held
    _densest, densest_held = scan.densest()
    rules = platform.CONTAINER_RULES[:platform.SPECIFIC_CONTAINER_RULES] if specific_only \
        else platform.CONTAINER_RULES
    comments = set(scan.comments)
    for index, rule in enumerate(rules):
        candidates = [
            element for element in scan.candidates.get(index, ())
            if scan.attached(element)
            and not (comments and any(outer in comments for outer in element.iterancestors()))
        ]
        if not candidates:
            continue
        own = _own_mass(candidates, held_by)
        best = max(candidates, key=own.__getitem__)
        held = own[best]
        if not held:
            best = max(candidates, key=_text_size)
        if held * 2 < densest_held:
            continue
        if held or _text_size(best) >= _MIN_CONTAINER_CHARS:
            return best, rule.name
    if specific_only:
        return None, "none"
    if _densest is not None:
        return _densest, "densest-block"
    body = scan.root.find("body")
    return body, "body" if body is not None else "none"


def _own_mass(
    candidates: list[html.HtmlElement], held_by: dict[html.HtmlElement, int]
) -> dict[html.HtmlElement, int]:
    """Return each candidate's text mass without that of the candidates nested in it (the
    cards of a "you may also like" list inside the article's own ``article`` element)."""
    own = {candidate: held_by.get(candidate, 0) for candidate in candidates}
    if len(candidates) > 1:
        for candidate in candidates:
            outer = next((a for a in candidate.iterancestors() if a in own), None)
            if outer is not None:
                own[outer] -= held_by.get(candidate, 0)
    return own


def _text_size(element: html.HtmlElement) -> int:
    return len(element.text_content().strip())


def linearize(root: html.HtmlElement, container: html.HtmlElement | None) -> list[Block]:
    """Return the text of ROOT's body as blocks, each knowing whether it is article text."""
    start = root.find("body")
    if start is None:
        start = root
    excluded: set[html.HtmlElement] = set()
    if container is not None:
        excluded.update(_BODY_EXCLUDED(container))
    blocks: list[Block] = []
    pieces: list[str] = []
    stack: list[tuple[bool, bool]] = [(False, False)]

    def flush(flags: tuple[bool, bool]) -> None:
        if pieces:
            text = "".join(pieces)
            pieces.clear()
            lines = tuple(line for line in map(collapse, text.split("\n")) if line.strip())
            if lines:
                blocks.append(Block(lines, flags[0], flags[0] and not flags[1]))

    for event, element in etree.iterwalk(start, events=("start", "end")):
        tag = element.tag
        if not isinstance(tag, str):
            continue
        if event == "start":
            outer = stack[-1]
            flags = (outer[0] or element is container, outer[1] or element in excluded)
            if tag in BLOCK_TAGS or flags != outer:
                flush(outer)
            stack.append(flags)
            if tag == "br":
                pieces.append("\n")
            elif element.text:
                pieces.append(element.text)
        else:
            flags = stack.pop()
            if tag in BLOCK_TAGS or flags != stack[-1]:
                flush(flags)
            if element.tail and element is not start:
                pieces.append(element.tail)
    flush(stack[-1])
    return blocks


def _opens_a_line(line: str, start: int) -> bool:
    before = line[:start].rstrip(" \u00a0\u202f")
    return not before or before[-1] in _SENTENCE_END or bool(platform.BYLINE.search(before))


def _platform_matches(pattern: re.Pattern[str], line: str) -> list[re.Match[str]]:
    """Return PATTERN's matches that open LINE, follow a finished sentence or follow the byline;
    never one in the middle of a phrase ("… a été mis en ligne : 12/03/2024 par la mairie")."""
    return [found for found in pattern.finditer(line) if _opens_a_line(line, found.start())]


def _day_first(found: re.Match[str]) -> date | None:
    try:
        return date(int(found["year"]), int(found["month"]), int(found["day"]))
    except ValueError:
        return None


def _byline_in(blocks: list[Block]) -> str | None:
    for block in blocks:
        if not block.may_hold(platform.BYLINE_HINT):
            continue
        for line in block.lines:
            for found in _platform_matches(platform.BYLINE, line):
                name = found["name"].strip(" \u00a0\u202f.,;|")
                if name and len(name) <= platform.BYLINE_NAME_MAX:
                    return name
    return None


def _date_in(blocks: list[Block]) -> date | None:
    for block in blocks:
        if not block.may_hold(platform.PUBLISHED_LINE_HINT):
            continue
        for line in block.lines:
            for found in _platform_matches(platform.PUBLISHED_LINE, line):
                published = _day_first(found)
                if published is not None:
                    return published
    return None


def platform_lines(blocks: list[Block]) -> PlatformLines:
    """Return the platform byline and date, read in the article container first, then anywhere."""
    inside = [block for block in blocks if block.in_container]
    return PlatformLines(
        author=_byline_in(inside) or _byline_in(blocks),
        published=_date_in(inside) or _date_in(blocks),
    )


def _platform_cut(line: str) -> re.Match[str] | None:
    lowered = line.lower()
    if platform.BYLINE_HINT not in lowered and platform.PUBLISHED_LINE_HINT not in lowered:
        return None
    found = _platform_matches(platform.BYLINE, line) + _platform_matches(
        platform.PUBLISHED_LINE, line
    )
    return min(found, key=lambda match: match.start()) if found else None


def _is_furniture_text(paragraph: str) -> bool:
    if len(paragraph) <= platform.VISIBLE_META_LINE_MAX:
        if platform.SHARE_LINE.match(paragraph) or platform.VISIBLE_META_ONLY.match(paragraph):
            return True
    return len(paragraph) <= 200 and bool(platform.RELATED_HEADING.match(paragraph))


def _drop_trailing_separators(paragraphs: list[str]) -> None:
    while paragraphs and platform.SEPARATOR_LINE.match(paragraphs[-1]):
        paragraphs.pop()


def body_paragraphs(blocks: list[Block]) -> list[str]:
    """Return the article's paragraphs, without the platform's byline, date and boilerplate."""
    paragraphs: list[str] = []
    for block in blocks:
        if not block.in_body:
            continue
        lines: tuple[str, ...] | list[str] = block.lines
        if block.may_hold(platform.BOILERPLATE_HINT):
            text, removed = platform.BOILERPLATE.subn("\n", block.text)
            if removed:
                _drop_trailing_separators(paragraphs)
            lines = [line for line in map(collapse, text.split("\n")) if line.strip()]
        kept: list[str] = []
        finished = False
        for line in lines:
            cut = _platform_cut(line)
            if cut is None:
                kept.append(line)
                continue
            before = line[: cut.start()].strip(" ")
            if before:
                kept.append(before)
            if paragraphs or kept:
                finished = True
                break
        paragraph = " ".join(kept)
        if paragraph and not _is_furniture_text(paragraph):
            paragraphs.append(paragraph)
        if finished:
            break
    _drop_trailing_separators(paragraphs)
    return paragraphs


def without_title(paragraphs: list[str], title: str) -> list[str]:
    """Return PARAGRAPHS without a leading copy of the title (themes that print it in the text)."""
    if title and paragraphs and collapse(paragraphs[0].replace("\u00a0", " ")) == collapse(
        title.replace("\u00a0", " ")
    ):
        return paragraphs[1:]
    return paragraphs
