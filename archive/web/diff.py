"""A readable comparison of two versions of an article: paragraphs aligned, words marked.

Paragraphs are aligned first, so a moved or rewritten paragraph reads as one change; inside a
replaced paragraph the words that changed are marked. Text stays plain: the template escapes it
and wraps each change in ``<ins>`` or ``<del>``.

Anyone can publish a long paragraph and then edit it, so the comparison is bounded in time and
size. ``difflib.SequenceMatcher`` grows faster than the square of the length on ordinary prose
(1,000 words 0.5 s, 4,000 words 21 s), so it only ever sees short stretches: both levels are
aligned by ``align``, which takes the common ends off, anchors on the items that occur once on
each side (the patience method, O(n log n)), and hands only small gaps to ``SequenceMatcher``.
A work budget and a deadline stop it: what is left is shown as whole paragraphs removed and
added, and the page says so. The text shown stops after ``MAX_SHOWN_CHARS``.
"""

from __future__ import annotations

import re
import time
from bisect import bisect_left
from collections import Counter
from collections.abc import Hashable, Sequence
from dataclasses import dataclass
from difflib import SequenceMatcher

from archive.web.formatting import paragraphs
from archive.web.limits import Deadline

# A word with the white space after it (or white space alone at the start): one token each, so
# the white space that fills prose never counts as matching material of its own.
_WORDS = re.compile(r"\S+\s*|\s+")
# Gaps no larger than this (items on one side times items on the other) go to SequenceMatcher.
SMALL_GAP_PAIRS = 6_400
# Items the anchoring may visit in one comparison (both levels together): about a second of
# work on one core (a 20,000-word paragraph with every seventh word changed takes 210,000).
WORK_LIMIT = 300_000
# Work done between two hand-overs of the GIL to the worker's other threads (about a ms).
YIELD_EVERY = 2_000
# The most text one comparison page shows; the rest is left to the version pages.
MAX_SHOWN_CHARS = 400_000
# The most paragraphs one comparison page shows (each costs its own markup).
MAX_SHOWN_PARAGRAPHS = 5_000
# Runs of this many words anchor a long stretch whose single words all repeat.
ANCHOR_RUN = 4
# What one word-level comparison costs on top of its words (splitting, setting up a matcher).
PARAGRAPH_COST = 200

Opcode = tuple[str, int, int, int, int]


@dataclass
class Budget:
    """The work one comparison may still do; spent by ``align``, checked against a deadline.

    ``gave_up`` says a long stretch had nothing to anchor on and was left as one change.
    """

    left: int = WORK_LIMIT
    deadline: Deadline | None = None
    exhausted: bool = False
    gave_up: bool = False
    since_yield: int = 0

    def spend(self, items: int) -> bool:
        """Take ITEMS from the budget; return False (and stay exhausted) once it is gone."""
        if self.exhausted:
            return False
        self.left -= items
        self.since_yield += items
        if self.since_yield >= YIELD_EVERY:
            # Hand the GIL over now: the worker's other threads (a health probe, a search)
            # would otherwise wait a switch interval after each of their reads.
            self.since_yield = 0
            time.sleep(0)
        if self.left < 0 or (self.deadline is not None and self.deadline.passed()):
            self.exhausted = True
        return not self.exhausted


@dataclass(frozen=True)
class Segment:
    """A run of text that is unchanged ("equal"), added ("insert") or removed ("delete")."""

    kind: str
    text: str


@dataclass(frozen=True)
class DiffParagraph:
    """One paragraph of the comparison, as segments; KIND says whether it changed as a whole."""

    kind: str
    segments: list[Segment]


@dataclass(frozen=True)
class VersionDiff:
    """The comparison of two texts, with counts of what changed and what was left coarse.

    ``coarse`` is True when some changed paragraphs are shown whole (removed, then added)
    because marking their words would have cost too much; ``truncated`` when the comparison
    stops before the end of the text (``MAX_SHOWN_CHARS``).
    """

    paragraphs: list[DiffParagraph]
    inserted_words: int
    deleted_words: int
    coarse: bool = False
    truncated: bool = False

    @property
    def unchanged(self) -> bool:
        """Return True when the two texts are the same."""
        return not (self.inserted_words or self.deleted_words)


def _word_count(text: str) -> int:
    return len(text.split())


def _longest_increasing(pairs: list[tuple[int, int]]) -> list[tuple[int, int]]:
    """Return the longest run of PAIRS (ordered by their first item) rising in the second."""
    tails: list[int] = []
    tail_at: list[int] = []
    previous = [-1] * len(pairs)
    for index, (_, j) in enumerate(pairs):
        place = bisect_left(tails, j)
        if place == len(tails):
            tails.append(j)
            tail_at.append(index)
        else:
            tails[place] = j
            tail_at[place] = index
        previous[index] = tail_at[place - 1] if place else -1
    found: list[tuple[int, int]] = []
    index = tail_at[-1] if tail_at else -1
    while index >= 0:
        found.append(pairs[index])
        index = previous[index]
    return found[::-1]


def _matching_blocks(a: Sequence[Hashable], b: Sequence[Hashable],
                     budget: Budget) -> list[tuple[int, int, int]]:
    """Return (i, j, size) runs where A and B agree, in order, found within BUDGET."""
    blocks: list[tuple[int, int, int]] = []
    gaps = [(0, len(a), 0, len(b))]
    while gaps:
        alo, ahi, blo, bhi = gaps.pop()
        start = 0
        while alo + start < ahi and blo + start < bhi and a[alo + start] == b[blo + start]:
            start += 1
        if start:
            blocks.append((alo, blo, start))
            alo, blo = alo + start, blo + start
        end = 0
        while alo < ahi - end and blo < bhi - end and a[ahi - end - 1] == b[bhi - end - 1]:
            end += 1
        if end:
            blocks.append((ahi - end, bhi - end, end))
            ahi, bhi = ahi - end, bhi - end
        if alo == ahi or blo == bhi:
            continue
        if (ahi - alo) * (bhi - blo) <= SMALL_GAP_PAIRS:
            if budget.spend(ahi - alo + bhi - blo):
                matcher = SequenceMatcher(None, a[alo:ahi], b[blo:bhi], autojunk=False)
                blocks.extend((alo + i, blo + j, size)
                              for i, j, size in matcher.get_matching_blocks() if size)
            continue
        if not budget.spend(ahi - alo + bhi - blo):
            continue
        size = 1
        anchors = _anchors(a, b, (alo, ahi, blo, bhi), size)
        if not anchors and budget.spend(ANCHOR_RUN * (ahi - alo + bhi - blo)):
            size = ANCHOR_RUN
            anchors = _anchors(a, b, (alo, ahi, blo, bhi), size)
        if not anchors:
            budget.gave_up = True
            continue
        blocks.extend((i, j, size) for i, j in anchors)
        edges = [(alo - size, blo - size), *anchors, (ahi, bhi)]
        for (i1, j1), (i2, j2) in zip(edges, edges[1:], strict=False):
            if i2 - i1 > size or j2 - j1 > size:
                gaps.append((i1 + size, i2, j1 + size, j2))
    return sorted(blocks)


def _anchors(a: Sequence[Hashable], b: Sequence[Hashable], gap: tuple[int, int, int, int],
             size: int) -> list[tuple[int, int]]:
    """Return where runs of SIZE items found once on each side of GAP line up, in order.

    Single words repeat too much in a long paragraph of prose; runs of a few words almost
    never do, so they anchor what single words cannot.
    """
    alo, ahi, blo, bhi = gap

    def runs(seq: Sequence[Hashable], lo: int, hi: int) -> list[tuple[Hashable, ...]]:
        return [tuple(seq[k:k + size]) for k in range(lo, hi - size + 1)]

    in_a, in_b = runs(a, alo, ahi), runs(b, blo, bhi)
    count_a, count_b = Counter(in_a), Counter(in_b)
    where_b = {run: blo + k for k, run in enumerate(in_b)
               if count_b[run] == 1 and count_a[run] == 1}
    chain = _longest_increasing(
        [(alo + k, where_b[run]) for k, run in enumerate(in_a) if run in where_b])
    apart: list[tuple[int, int]] = []
    for i, j in chain:
        if not apart or (i >= apart[-1][0] + size and j >= apart[-1][1] + size):
            apart.append((i, j))
    return apart


def align(a: Sequence[Hashable], b: Sequence[Hashable], budget: Budget) -> list[Opcode]:
    """Return SequenceMatcher-style opcodes turning A into B, computed within BUDGET."""
    opcodes: list[Opcode] = []
    i = j = 0
    for bi, bj, size in [*_matching_blocks(a, b, budget), (len(a), len(b), 0)]:
        if i < bi and j < bj:
            opcodes.append(("replace", i, bi, j, bj))
        elif i < bi:
            opcodes.append(("delete", i, bi, j, j))
        elif j < bj:
            opcodes.append(("insert", i, i, j, bj))
        if size:
            if opcodes and opcodes[-1][0] == "equal":
                _, i1, _, j1, _ = opcodes.pop()
                opcodes.append(("equal", i1, bi + size, j1, bj + size))
            else:
                opcodes.append(("equal", bi, bi + size, bj, bj + size))
        i, j = bi + size, bj + size
    return opcodes


def diff_words(old: str, new: str, budget: Budget | None = None) -> list[Segment]:
    """Return the segments turning OLD into NEW, word by word (white space kept)."""
    budget = budget or Budget()
    a, b = _WORDS.findall(old), _WORDS.findall(new)
    segments: list[Segment] = []
    opcodes = align(a, b, budget) if budget.spend(PARAGRAPH_COST) else [
        ("replace", 0, len(a), 0, len(b))]
    for tag, i1, i2, j1, j2 in opcodes:
        if tag == "equal":
            segments.append(Segment("equal", "".join(a[i1:i2])))
            continue
        if i2 > i1:
            segments.append(Segment("delete", "".join(a[i1:i2])))
        if j2 > j1:
            segments.append(Segment("insert", "".join(b[j1:j2])))
    return segments


class _Page:
    """The paragraphs of a comparison as they are added, cut at a number of characters."""

    def __init__(self, limit: int) -> None:
        self.paragraphs: list[DiffParagraph] = []
        self.room = limit
        self.truncated = False

    def add(self, paragraph: DiffParagraph) -> None:
        if self.truncated:
            return
        if len(self.paragraphs) >= MAX_SHOWN_PARAGRAPHS:
            self.truncated = True
            return
        kept: list[Segment] = []
        for segment in paragraph.segments:
            if len(segment.text) > self.room:
                self.truncated = True
                if self.room:
                    kept.append(Segment(segment.kind, segment.text[:self.room] + "…"))
                self.room = 0
                break
            self.room -= len(segment.text)
            kept.append(segment)
        if kept:
            self.paragraphs.append(DiffParagraph(paragraph.kind, kept))


def diff_texts(old: str, new: str, *, deadline: Deadline | None = None,
               max_chars: int = MAX_SHOWN_CHARS) -> VersionDiff:
    """Return the paragraph-aligned, word-marked comparison of two article bodies, bounded."""
    old_paras, new_paras = paragraphs(old), paragraphs(new)
    budget = Budget(deadline=deadline)
    page = _Page(max_chars)
    inserted = deleted = 0
    coarse = False
    for tag, i1, i2, j1, j2 in align(old_paras, new_paras, budget):
        if tag == "equal":
            for p in old_paras[i1:i2]:
                page.add(DiffParagraph("equal", [Segment("equal", p)]))
            continue
        olds, news = old_paras[i1:i2], new_paras[j1:j2]
        pairs = min(len(olds), len(news)) if tag == "replace" else 0
        for old_p, new_p in zip(olds[:pairs], news[:pairs], strict=True):
            if budget.exhausted:
                coarse = True
                deleted += _word_count(old_p)
                inserted += _word_count(new_p)
                page.add(DiffParagraph("delete", [Segment("delete", old_p)]))
                page.add(DiffParagraph("insert", [Segment("insert", new_p)]))
                continue
            segments = diff_words(old_p, new_p, budget)
            inserted += sum(_word_count(s.text) for s in segments if s.kind == "insert")
            deleted += sum(_word_count(s.text) for s in segments if s.kind == "delete")
            page.add(DiffParagraph("replace", segments))
        for old_p in olds[pairs:]:
            deleted += _word_count(old_p)
            page.add(DiffParagraph("delete", [Segment("delete", old_p)]))
        for new_p in news[pairs:]:
            inserted += _word_count(new_p)
            page.add(DiffParagraph("insert", [Segment("insert", new_p)]))
    coarse = coarse or budget.exhausted or budget.gave_up
    return VersionDiff(page.paragraphs, inserted, deleted, coarse=coarse,
                       truncated=page.truncated)
