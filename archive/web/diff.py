"""A readable comparison of two versions of an article: paragraphs aligned, words marked.

Paragraphs are aligned first, so a moved or rewritten paragraph reads as one change; inside a
replaced paragraph the words that changed are marked. Text stays plain: the template escapes it
and wraps each change in ``<ins>`` or ``<del>``.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from difflib import SequenceMatcher

from archive.web.formatting import paragraphs

_WORDS = re.compile(r"\s+|[^\s]+")


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
    """The comparison of two texts, with counts of what changed."""

    paragraphs: list[DiffParagraph]
    inserted_words: int
    deleted_words: int

    @property
    def unchanged(self) -> bool:
        """Return True when the two texts are the same."""
        return not (self.inserted_words or self.deleted_words)


def _word_count(text: str) -> int:
    return len(text.split())


def diff_words(old: str, new: str) -> list[Segment]:
    """Return the segments turning OLD into NEW, word by word (white space kept)."""
    a, b = _WORDS.findall(old), _WORDS.findall(new)
    segments: list[Segment] = []
    for tag, i1, i2, j1, j2 in SequenceMatcher(None, a, b, autojunk=False).get_opcodes():
        if tag == "equal":
            segments.append(Segment("equal", "".join(a[i1:i2])))
            continue
        if i2 > i1:
            segments.append(Segment("delete", "".join(a[i1:i2])))
        if j2 > j1:
            segments.append(Segment("insert", "".join(b[j1:j2])))
    return segments


def diff_texts(old: str, new: str) -> VersionDiff:
    """Return the paragraph-aligned, word-marked comparison of two article bodies."""
    old_paras, new_paras = paragraphs(old), paragraphs(new)
    result: list[DiffParagraph] = []
    inserted = deleted = 0
    matcher = SequenceMatcher(None, old_paras, new_paras, autojunk=False)
    for tag, i1, i2, j1, j2 in matcher.get_opcodes():
        if tag == "equal":
            result.extend(DiffParagraph("equal", [Segment("equal", p)]) for p in old_paras[i1:i2])
            continue
        olds, news = old_paras[i1:i2], new_paras[j1:j2]
        pairs = min(len(olds), len(news)) if tag == "replace" else 0
        for old_p, new_p in zip(olds[:pairs], news[:pairs], strict=True):
            segments = diff_words(old_p, new_p)
            inserted += sum(_word_count(s.text) for s in segments if s.kind == "insert")
            deleted += sum(_word_count(s.text) for s in segments if s.kind == "delete")
            result.append(DiffParagraph("replace", segments))
        for old_p in olds[pairs:]:
            deleted += _word_count(old_p)
            result.append(DiffParagraph("delete", [Segment("delete", old_p)]))
        for new_p in news[pairs:]:
            inserted += _word_count(new_p)
            result.append(DiffParagraph("insert", [Segment("insert", new_p)]))
    return VersionDiff(result, inserted, deleted)
