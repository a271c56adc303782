"""One search as the views run it: the parameters handed to the search service, the hits
completed with what the archive knows (capture dates) for citations and exports."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import replace
from typing import TYPE_CHECKING

from flask import current_app, url_for

from archive.errors import ArchiveError
from archive.web.citation import Citation, citation_for
from archive.web.params import SearchParams
from archive.web.services import Services
from indexer.results import EXPORT_PAGE_SIZE

if TYPE_CHECKING:
    from indexer.results import Hit, SearchResult



def services() -> Services:
    """Return the current application's services."""
    found: Services = current_app.extensions["archive"]
    return found


@contextmanager
def reading_index() -> Iterator[None]:
    """Turn a failure to read the index's files into IndexUnreadable: a 503, never a 500.

    Whoosh reports a damaged segment with whatever its decoder met (UnicodeDecodeError,
    EOFError, struct.error, even a bare Exception), so anything but our own errors counts.
    """
    try:
        yield
    except ArchiveError:
        raise
    except Exception as exc:  # noqa: BLE001 - see the docstring: any read failure is damage
        raise services().index_damaged(exc) from exc


def run_search(
    params: SearchParams, *, page: int | None = None, page_size: int | None = None,
    associated: bool = False, wait_for_words: bool = True,
) -> SearchResult:
    """Run the search PARAMS describes (optionally another page or page size).

    ASSOCIATED adds the words most over-represented in the matches (the results page's);
    WAIT_FOR_WORDS=False does not wait for a new index generation's word table to be read.
    """
    with reading_index():
        result = services().search().search(
            params.q,
            sort=params.sort,
            page=page or params.page,
            page_size=page_size or params.taille,
            associated=associated,
            wait_for_words=wait_for_words,
            **params.filters(),
        )
    return public_only(result)


def public_only(result: SearchResult) -> SearchResult:
    """Return RESULT without the articles hidden on request since the index was last updated."""
    hidden = services().hidden_ids()
    if not hidden or not any(hit.id in hidden for hit in result.hits):
        return result
    return replace(result, hits=[hit for hit in result.hits if hit.id not in hidden])


def archived_url(article_id: int) -> str:
    """Return the absolute address of an article's archived copy."""
    return url_for("pages.article", article_id=article_id, _external=True)


def edit_counts(hits: list[Hit]) -> dict[int, int]:
    """Return how many times each edited article of HITS was modified (« modifié N fois »)."""
    counts = services().archive().reads.version_counts([hit.id for hit in hits])
    return {article_id: count - 1 for article_id, count in counts.items() if count > 1}


def version_url(article_id: int, number: int) -> str:
    """Return the absolute permalink of version NUMBER of an article (it never changes)."""
    return url_for("pages.version", article_id=article_id, number=number, _external=True)


def citations(hits: list[Hit]) -> list[Citation]:
    """Return the citations of HITS' current versions, in order, skipping any the archive
    does not show (gone, or hidden on request)."""
    stored = services().archive().reads.articles([hit.id for hit in hits])
    return [citation_for(stored[hit.id], version_url(hit.id, stored[hit.id].version_count))
            for hit in hits if hit.id in stored and not stored[hit.id].hidden]


def all_citations(params: SearchParams, limit: int) -> Iterator[Citation]:
    """Yield the citations of every result of PARAMS, in its order, LIMIT at most."""
    produced = 0
    page = 1
    while produced < limit:
        result = run_search(params, page=page, page_size=EXPORT_PAGE_SIZE)
        if not result.hits:
            return
        for citation in citations(result.hits[: limit - produced]):
            produced += 1
            yield citation
        if page * EXPORT_PAGE_SIZE >= result.total:
            return
        page += 1
