"""Every setting declared once (name, environment variable, default, help), read in one place.

The README's configuration table and the CLI's ``--help`` are derived from ``SETTINGS``;
a test fails when the README drifts from it.
"""

from __future__ import annotations

import os
from collections.abc import Callable, Mapping
from dataclasses import dataclass, fields
from pathlib import Path
from typing import Any

from archive.errors import InvalidInput


@dataclass(frozen=True)
class Setting:
    """One configurable value: its name, where it is read from, its default and what it does."""

    name: str
    env: str
    default: str
    help: str
    parse: Callable[[str], Any] = str


def _positive_float(text: str) -> float:
    value = float(text)
    if value < 0:
        raise ValueError("must not be negative")
    return value


def _non_negative_int(text: str) -> int:
    value = int(text)
    if value < 0:
        raise ValueError("must not be negative")
    return value


def _positive_int(text: str) -> int:
    value = int(text)
    if value < 1:
        raise ValueError("must be at least 1")
    return value


def _optional_path(text: str) -> Path | None:
    return Path(text) if text.strip() else None


def _host_patterns(text: str) -> tuple[str, ...]:
    patterns = tuple(part.strip().lower() for part in text.split(",") if part.strip())
    for pattern in patterns:
        if "/" in pattern or " " in pattern:
            raise ValueError(f"{pattern!r} is not a host pattern such as *.notrecontinent.com")
    return patterns


RevisitTiers = tuple[tuple[int | None, int], ...]
"""(articles up to AGE days old, re-checked every N days), the last tier's AGE being None."""


def _revisit_schedule(text: str) -> RevisitTiers:
    """Read ``7:1,60:7,30``: tiers AGE_DAYS:EVERY_DAYS by growing age, then the last interval."""
    parts = [part.strip() for part in text.split(",") if part.strip()]
    if not parts:
        raise ValueError("give at least the interval for old articles, e.g. 30")
    ages: list[int] = []
    intervals: list[int] = []
    for part in parts[:-1]:
        age, _, every = part.partition(":")
        ages.append(int(age))
        intervals.append(int(every))
    intervals.append(int(parts[-1]))
    if any(age < 1 for age in ages) or ages != sorted(set(ages)):
        raise ValueError("ages must be positive and growing, e.g. 7:1,60:7,30")
    if any(every < 1 for every in intervals):
        raise ValueError("intervals must be at least one day")
    bounds: list[int | None] = [*ages, None]
    return tuple(zip(bounds, intervals, strict=True))


SETTINGS: tuple[Setting, ...] = (
    Setting("data_dir", "ARCHIVE_DATA_DIR", "./archive-data",
            "Directory holding everything the product stores (SQLite, WARC, index, reports).",
            Path),
    Setting("contact_url", "ARCHIVE_CONTACT_URL", "https://example.org/notrecontinent-archive",
            "Contact URL sent in the crawler's User-Agent so site operators can reach us."),
    Setting("crawl_delay", "ARCHIVE_CRAWL_DELAY", "1.0",
            "Seconds between two requests to one host (robots.txt Crawl-delay wins if larger).",
            _positive_float),
    Setting("crawl_concurrency", "ARCHIVE_CRAWL_CONCURRENCY", "2",
            "Requests in flight at once, over all hosts.", _positive_int),
    Setting("withdraw_after_runs", "ARCHIVE_WITHDRAW_AFTER_RUNS", "3",
            "Complete crawls an article may be missing from every listing before it is marked "
            "withdrawn.", _positive_int),
    Setting("edition_hosts", "ARCHIVE_EDITION_HOSTS", "*.notrecontinent.com",
            "Hosts that are editions of the platform (host[:port] patterns, * as wildcard, "
            "comma-separated): a crawl crawls every edition the given sites link to; empty: "
            "only the sites given.", _host_patterns),
    Setting("revisit_schedule", "ARCHIVE_REVISIT_SCHEDULE", "7:1,60:7,30",
            "When nothing says what changed (no REST, sitemap dates or validators): re-check an "
            "archived article every N days by age, as AGE_DAYS:EVERY_DAYS tiers then the interval "
            "for older ones (default: daily in its first week, weekly to two months, then "
            "monthly).", _revisit_schedule),
    Setting("revisit_budget", "ARCHIVE_REVISIT_BUDGET", "200",
            "Most re-checks of archived articles one crawl run makes under that schedule, the "
            "most overdue first; new articles always come first and are not counted.",
            _non_negative_int),
    Setting("max_page_bytes", "ARCHIVE_MAX_PAGE_BYTES", "5000000",
            "Largest response body the crawler accepts, in bytes.", _positive_int),
    Setting("secret_key", "ARCHIVE_SECRET_KEY", "",
            "Flask secret key (no endpoint uses sessions; set it anyway in production)."),
    Setting("searcher_check_seconds", "ARCHIVE_SEARCHER_CHECK_SECONDS", "2.0",
            "How often a web worker checks for a new index generation.", _positive_float),
    Setting("web_bind", "ARCHIVE_WEB_BIND", "127.0.0.1:8000",
            "Address gunicorn listens on (host:port); keep it on loopback behind a reverse proxy."),
    Setting("web_workers", "ARCHIVE_WEB_WORKERS", "2",
            "Gunicorn worker processes (one per core); each opens the index after fork.",
            _positive_int),
    Setting("web_threads", "ARCHIVE_WEB_THREADS", "4",
            "Threads per gunicorn worker; each thread keeps its own searcher.", _positive_int),
    Setting("trusted_proxies", "ARCHIVE_TRUSTED_PROXIES", "0",
            "Reverse proxies in front of the app whose X-Forwarded-For and X-Forwarded-Proto "
            "headers are trusted (0 = none; 1 behind nginx).", _non_negative_int),
    Setting("export_max_rows", "ARCHIVE_EXPORT_MAX_ROWS", "10000",
            "Most rows one CSV or JSON export of a search returns.", _positive_int),
    Setting("release_dir", "ARCHIVE_RELEASE_DIR", "",
            "A web host's publish directory (what `python -m archive publish` fills): the web "
            "serves its current release read-only and follows each switch; empty: serve "
            "ARCHIVE_DATA_DIR.", _optional_path),
    Setting("index_build_mb", "ARCHIVE_INDEX_BUILD_MB", "1024",
            "Postings (MB) one writer process of a full index rebuild buffers before it starts "
            "a new segment; its memory peaks at about 1.6x this.", _positive_int),
)


@dataclass(frozen=True)
class Settings:
    """The resolved configuration of one process."""

    data_dir: Path
    contact_url: str
    crawl_delay: float
    crawl_concurrency: int
    withdraw_after_runs: int
    edition_hosts: tuple[str, ...]
    revisit_schedule: RevisitTiers
    revisit_budget: int
    max_page_bytes: int
    secret_key: str
    searcher_check_seconds: float
    web_bind: str
    web_workers: int
    web_threads: int
    trusted_proxies: int
    export_max_rows: int
    index_build_mb: int
    release_dir: Path | None = None

    @property
    def database_path(self) -> Path:
        """The SQLite archive."""
        return self.data_dir / "archive.sqlite3"

    @property
    def warc_dir(self) -> Path:
        """Where raw captures are written as WARC files."""
        return self.data_dir / "warc"

    @property
    def index_dir(self) -> Path:
        """Parent of the Whoosh index builds and of the ``current`` symlink."""
        return self.data_dir / "index"

    @property
    def reports_dir(self) -> Path:
        """Where crawl runs write their JSON reports."""
        return self.data_dir / "reports"

    def with_changes(self, **changes: Any) -> Settings:
        """Return a copy with some values replaced."""
        values = {f.name: getattr(self, f.name) for f in fields(self)}
        values.update(changes)
        return Settings(**values)


def load_settings(
    environ: Mapping[str, str] | None = None, **overrides: Any
) -> Settings:
    """Read every setting from ENVIRON (default ``os.environ``), then apply OVERRIDES."""
    environ = os.environ if environ is None else environ
    values: dict[str, Any] = {}
    for setting in SETTINGS:
        if overrides.get(setting.name) is not None:
            values[setting.name] = overrides[setting.name]
            continue
        raw = environ.get(setting.env, setting.default)
        try:
            values[setting.name] = setting.parse(raw)
        except ValueError as exc:
            raise InvalidInput(
                f"{setting.env}={raw!r} n'est pas utilisable ({exc}) ; {setting.help}"
            ) from None
    return Settings(**values)
