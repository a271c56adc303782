"""The archive store: SQLite (articles, versions, crawl state, runs) and WARC captures."""

from archive.store.archive import COMPLETE, Archive
from archive.store.records import (
    ArchiveChange,
    ArchiveStats,
    ArticleEvent,
    AuthorSummary,
    CaptureRecord,
    CrawlRun,
    FetchState,
    FrontierItem,
    SaveResult,
    StoredArticle,
    Version,
)
from archive.store.schema import SCHEMA_VERSION

__all__ = [
    "COMPLETE",
    "SCHEMA_VERSION",
    "Archive",
    "ArchiveChange",
    "ArchiveStats",
    "ArticleEvent",
    "AuthorSummary",
    "CaptureRecord",
    "CrawlRun",
    "FetchState",
    "FrontierItem",
    "SaveResult",
    "StoredArticle",
    "Version",
]
