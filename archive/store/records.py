"""The values the archive hands out: stored articles, versions, crawl state, runs and summaries."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date, datetime
from typing import Any


@dataclass(frozen=True)
class StoredArticle:
    """An article as the archive holds it now: its current version plus its archival state."""

    id: int
    url: str
    canonical_url: str | None
    title: str
    author: str | None
    author_key: str | None
    author_slug: str | None
    published: date | None
    modified: datetime | None
    body: str
    edition: str | None
    categories: tuple[str, ...]
    language: str | None
    status: str
    withdrawn_at: datetime | None
    withdrawn_reason: str | None
    first_seen: datetime
    last_seen: datetime
    captured_at: datetime | None
    version_count: int
    change_seq: int
    fetched_url: str | None = None
    sources: dict[str, str] = field(default_factory=dict)
    content_hash: str = ""
    hidden_at: datetime | None = None
    hidden_reason: str | None = None

    @property
    def withdrawn(self) -> bool:
        """Return True when the platform no longer shows this article."""
        return self.status == "withdrawn"

    @property
    def hidden(self) -> bool:
        """Return True when the archive keeps this article off every public surface."""
        return self.hidden_at is not None


@dataclass(frozen=True)
class ArticleAddress:
    """Where an article was last fetched from, and whether it is withdrawn (no body read)."""

    id: int
    url: str
    fetched_url: str | None
    withdrawn: bool


@dataclass(frozen=True)
class Version:
    """One distinct text of an article, as first and last seen on the platform."""

    article_id: int
    number: int
    content_hash: str
    title: str
    author: str | None
    published: date | None
    body: str
    categories: tuple[str, ...]
    first_seen: datetime
    last_seen: datetime
    capture_id: int | None


@dataclass(frozen=True)
class ArticleEvent:
    """One dated event in an article's life: archived, changed, withdrawn, republished."""

    article_id: int
    at: datetime
    kind: str
    detail: str | None
    change_seq: int | None


@dataclass(frozen=True)
class ArchiveChange:
    """One edit, withdrawal or reappearance, with the article it happened to (changes page)."""

    article_id: int
    at: datetime
    kind: str
    detail: str | None
    title: str
    author: str | None
    edition: str | None
    status: str
    version_count: int

    @property
    def version(self) -> int | None:
        """Return the version an edit created (``changed`` events), else None."""
        if self.kind != "changed" or not self.detail or not self.detail.startswith("version "):
            return None
        number = self.detail.removeprefix("version ")
        return int(number) if number.isdigit() else None


@dataclass(frozen=True)
class CaptureRecord:
    """Where and how one raw response was captured: its WARC record and its HTTP facts."""

    id: int
    url: str
    final_url: str | None
    status: int
    content_type: str | None
    fetched_at: datetime
    warc_file: str
    warc_offset: int
    warc_length: int
    payload_digest: str
    body_length: int


@dataclass(frozen=True)
class Takedown:
    """One hide or unhide of an article (a removal request, or its end), with its reason."""

    article_id: int
    at: datetime
    action: str
    reason: str


@dataclass(frozen=True)
class FetchState:
    """What the last fetch of one URL answered, for conditional GETs and incremental runs."""

    url: str
    etag: str | None
    last_modified: str | None
    hint: str | None
    fetched_at: datetime
    status: int | None
    article_id: int | None
    error: str | None = None


@dataclass(frozen=True)
class FrontierItem:
    """One URL waiting in a crawl run's queue."""

    url: str
    kind: str
    hint: str | None


@dataclass(frozen=True)
class CrawlRun:
    """One crawl run: when it ran, how it ended, what it counted and which errors it met."""

    id: int
    started_at: datetime
    finished_at: datetime | None
    status: str
    counts: dict[str, int]
    errors: list[dict[str, Any]]
    seeds: list[str]

    @property
    def duration_seconds(self) -> float | None:
        """Return the run's wall-clock length, or None while it has not finished."""
        if self.finished_at is None:
            return None
        return (self.finished_at - self.started_at).total_seconds()


@dataclass(frozen=True)
class AuthorSummary:
    """One author: every spelling of the name grouped under one key."""

    key: str
    slug: str
    name: str
    count: int
    first: date | None
    last: date | None


@dataclass(frozen=True)
class ArchiveStats:
    """Headline figures of the archive (``articles`` counts the hidden ones too)."""

    articles: int
    withdrawn: int
    authors: int
    first_published: date | None
    last_published: date | None
    last_run: CrawlRun | None
    versions: int = 0
    captures: int = 0
    hidden: int = 0


@dataclass(frozen=True)
class SaveResult:
    """What ``Archive.save_article`` did: outcome is "new", "changed" or "unchanged"."""

    article_id: int
    outcome: str
    change_seq: int = 0
    version: int = 1
    republished: bool = False
