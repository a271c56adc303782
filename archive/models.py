"""The value objects that flow between the pipeline stages (a leaf module: no I/O)."""

from __future__ import annotations

from dataclasses import asdict, dataclass, field
from datetime import date, datetime
from typing import Any


@dataclass(frozen=True)
class Article:
    """What the parser extracts from one article page."""

    url: str
    title: str
    body: str
    author: str | None = None
    published: date | None = None
    modified: datetime | None = None
    edition: str | None = None
    categories: tuple[str, ...] = ()
    language: str | None = "fr"
    canonical_url: str | None = None
    sources: dict[str, str] = field(default_factory=dict)

    def to_json(self) -> dict[str, Any]:
        """Return the JSON object printed by ``python -m archive parse``."""
        data = asdict(self)
        data["published"] = self.published.isoformat() if self.published else None
        data["modified"] = self.modified.isoformat() if self.modified else None
        data["categories"] = list(self.categories)
        return data


@dataclass(frozen=True)
class RestFacts:
    """What a site's REST API said of one post when it was archived (the authority for these)."""

    modified: datetime | None
    title: str | None
    categories: tuple[str, ...] | None


@dataclass(frozen=True)
class Capture:
    """One raw HTTP response as fetched, kept so the archive can be re-parsed without a crawl."""

    url: str
    status: int
    headers: tuple[tuple[str, str], ...]
    body: bytes
    fetched_at: datetime
    final_url: str | None = None

    def header(self, name: str) -> str | None:
        """Return the first value of header NAME (case-insensitive), or None."""
        lowered = name.lower()
        for key, value in self.headers:
            if key.lower() == lowered:
                return value
        return None
