"""The « copies » block of an article: other articles sharing most of its text, earliest first.

The search service's ``copies_of`` (``indexer.copies``) gives the group; the archive gives each
member's title and dates. The first is the first publication known of the text.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date
from typing import Any

from flask import url_for

from archive.errors import ArchiveError
from archive.web.searching import services


@dataclass(frozen=True)
class CopyLink:
    """One article of a group of copies, as the article page and the API show it."""

    id: int
    title: str
    author: str | None
    published: date | None
    share: float          # share of text in common with the article shown, 0..1
    earliest: bool        # « première publication connue »
    current: bool         # the article being shown

    def to_json(self) -> dict[str, Any]:
        """Return the copy as the API shows it."""
        return {
            "id": self.id, "title": self.title, "author": self.author,
            "published": self.published.isoformat() if self.published else None,
            "share": round(self.share, 2), "earliest": self.earliest,
            "archived_url": url_for("pages.article", article_id=self.id, _external=True),
        }


def copies_for(article_id: int) -> list[CopyLink]:
    """Return ARTICLE_ID's group of copies (itself included), earliest first; [] for none."""
    try:
        group = services().search().copies_of(article_id)
    except ArchiveError:
        return []
    hidden = services().hidden_ids()
    group = [copy for copy in group if copy.article_id not in hidden]
    if len(group) < 2:
        return []
    stored = services().archive().reads.articles([copy.article_id for copy in group])
    shown = [copy for copy in group if copy.article_id in stored]
    # The group is ordered earliest first: the first one shown is the first publication known
    # (an article hidden on request is left out, and never named).
    return [CopyLink(id=copy.article_id, title=stored[copy.article_id].title or "",
                     author=stored[copy.article_id].author, published=copy.published,
                     share=copy.share, earliest=i == 0, current=copy.article_id == article_id)
            for i, copy in enumerate(shown)] if len(shown) > 1 else []
