"""Builders shared by the search tests: a real SQLite archive and a real index in tmp_path."""

from __future__ import annotations

from collections.abc import Iterable, Iterator
from datetime import UTC, date, datetime
from pathlib import Path

from whoosh.searching import Searcher

from archive.models import Article
from archive.replica.corpus import Corpus
from archive.store import Archive
from indexer.location import current_build, open_build
from indexer.search import SearchService
from indexer.update import update_index

SEEN = datetime(2025, 1, 1, tzinfo=UTC)


def article(slug: str, title: str, body: str, author: str | None = "Moussa Diop",
            published: date | None = date(2024, 1, 15), edition: str = "sn") -> Article:
    """Return an article as the parser would, at a platform-like URL."""
    day = published or date(2024, 1, 1)
    url = f"https://{edition}.notrecontinent.com/{day:%Y/%m/%d}/{slug}/"
    return Article(url=url, title=title, body=body, author=author, published=published,
                   edition=edition, canonical_url=url)


def replica_articles(count: int) -> list[Article]:
    """Return the replica corpus's first COUNT articles as the parser would, each at a slug of
    its own (the corpus repeats slugs)."""
    corpus = Corpus(size=count)
    items = []
    for i in range(count):
        item = corpus.article(i)
        items.append(article(f"{item.slug}-{i}", item.title, item.body, author=item.author,
                             published=item.published, edition=item.edition))
    return items


def archive_and_index(data_dir: Path, articles: Iterable[Article]) -> dict[str, int]:
    """Save ARTICLES into the archive, bring the index up to date; return ids by URL."""
    ids: dict[str, int] = {}
    with Archive.open(data_dir / "archive.sqlite3") as archive:
        for item in articles:
            ids[item.url] = archive.articles.save_article(item, capture_id=None,
                                                          seen_at=SEEN).article_id
    update_index(data_dir / "archive.sqlite3", data_dir / "index")
    return ids


def replica_in_two_segments(data_dir: Path, first: int, second: int) -> None:
    """Index the replica's first FIRST articles, then its next SECOND in a run of their own:
    an index of two segments."""
    items = replica_articles(first + second)
    archive_and_index(data_dir, items[:first])
    archive_and_index(data_dir, items[first:])


def live_searcher(data_dir: Path, segments: int) -> Iterator[Searcher]:
    """Yield a searcher of DATA_DIR's live build, which must hold SEGMENTS segments."""
    build = current_build(data_dir / "index")
    assert build is not None
    with open_build(build).searcher() as opened:
        assert len(opened.reader().leaf_readers()) == segments, f"expected {segments} segments"
        yield opened


def service_for(data_dir: Path, check_seconds: float = 0.0) -> SearchService:
    """Return a search service over DATA_DIR's archive and index."""
    return SearchService.over_archive(data_dir / "index", data_dir / "archive.sqlite3",
                                      check_seconds=check_seconds)

