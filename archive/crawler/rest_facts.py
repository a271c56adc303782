"""What the REST API says of a post, laid over what its page says.

The platform's byline lines stay the authority for the author and the publication date; REST
is the authority for the modification time, the categories and the title (the page's title
depends on the theme, REST's does not). Every field where the two differ is returned as a
disagreement for the run report.
"""

from __future__ import annotations

import re
from dataclasses import replace
from datetime import datetime

from archive.models import Article, RestFacts

_SPACE = re.compile(r"\s+")


def rest_facts(modified: str | None, title: str | None,
               categories: tuple[str, ...] | None) -> RestFacts:
    """Return the facts of one REST post (MODIFIED as the crawl hint's UTC ISO text)."""
    moment = datetime.fromisoformat(modified) if modified else None
    return RestFacts(modified=moment, title=title, categories=categories)


def _same_text(first: str, second: str) -> bool:
    def tidy(text: str) -> str:
        return _SPACE.sub(" ", text.replace("\u00a0", " ")).strip().casefold()

    return tidy(first) == tidy(second)


def apply_rest_facts(article: Article, facts: RestFacts) -> tuple[Article, list[dict[str, str]]]:
    """Return ARTICLE with REST's modified, categories and title, and where the page disagreed."""
    disagreements: list[dict[str, str]] = []
    changes: dict[str, object] = {}
    sources = dict(article.sources)

    def differs(name: str, page: object, rest: object) -> None:
        disagreements.append({"url": article.url, "field": name, "page": str(page),
                              "rest": str(rest)})

    if facts.title:
        if article.title and not _same_text(article.title, facts.title):
            differs("title", article.title, facts.title)
        changes["title"] = facts.title
        sources["title"] = "rest:title.rendered"
    if facts.modified is not None:
        if article.modified is not None and article.modified != facts.modified:
            differs("modified", article.modified.isoformat(), facts.modified.isoformat())
        changes["modified"] = facts.modified
        sources["modified"] = "rest:modified_gmt"
    if facts.categories is not None:
        if article.categories and set(article.categories) != set(facts.categories):
            differs("categories", ", ".join(article.categories), ", ".join(facts.categories))
        changes["categories"] = facts.categories
        sources["categories"] = "rest:categories"
    if not changes:
        return article, disagreements
    return replace(article, sources=sources, **changes), disagreements  # type: ignore[arg-type]
