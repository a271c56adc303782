"""The archive store: SQLite (articles, versions, crawl state, runs) and WARC captures."""

from archive.store.archive import COMPLETE, Archive
from archive.store.article_versions import ArticleVersions
from archive.store.captures import Captures
from archive.store.crawl_state import CrawlState
from archive.store.reads import ReadQueries
from archive.store.records import (
    ArchiveChange,
    ArchiveStats,
    ArticleAddress,
    ArticleEvent,
    AuthorSummary,
    CaptureRecord,
    CrawlRun,
    FetchState,
    FrontierItem,
    SaveResult,
    StoredArticle,
    Takedown,
    Version,
)
from archive.store.schema import SCHEMA_VERSION

__all__ = [
    "COMPLETE",
    "SCHEMA_VERSION",
    "Archive",
    "ArchiveChange",
    "ArchiveStats",
    "ArticleAddress",
    "ArticleEvent",
    "ArticleVersions",
    "AuthorSummary",
    "CaptureRecord",
    "Captures",
    "CrawlRun",
    "CrawlState",
    "FetchState",
    "FrontierItem",
    "ReadQueries",
    "SaveResult",
    "StoredArticle",
    "Takedown",
    "Version",
]
