"""The crawler: polite, incremental, resumable discovery and fetching of the platform's articles.

``crawl(seeds, settings)`` runs one crawl into the archive and returns its ``CrawlReport``.
"""

from archive.crawler.crawl import Crawler, crawl
from archive.crawler.report import COUNT_NAMES, CrawlReport

__all__ = ["COUNT_NAMES", "CrawlReport", "Crawler", "crawl"]
