"""The search contract: its limits, the request, the result dataclasses and their one JSON shape.

Every limit of a search (page, page size, query length) is declared here once; the search
service, the query cleaner, the web parameters, the OpenAPI document and the CLI import them.
``SearchResult.to_json()`` is the one JSON shape of a page of results: ``search --json`` prints
it as is, and the JSON API adds its links and addresses to it (``archive.web.serialize``).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date, datetime
from typing import Any

from archive.editions import edition_name

MAX_QUERY_CHARS = 500
MAX_PAGE = 1000
MAX_PAGE_SIZE = 100
DEFAULT_PAGE_SIZE = 10
# Rows one page of an export reads: the largest page the service serves.
EXPORT_PAGE_SIZE = MAX_PAGE_SIZE
# The sort orders in the URL's words (French) and in the service's.
SORT_NAMES = {"pertinence": "relevance", "date": "date", "anciens": "oldest"}
SORTS = tuple(SORT_NAMES.values())
_SORT_WORDS = {service: word for word, service in SORT_NAMES.items()}
# The « statut » filter in the URL's words and the service's: edited (more than one
# version), withdrawn from the platform, or neither.
STATUS_NAMES = {"modifie": "changed", "retire": "withdrawn", "inchange": "unchanged"}
STATUSES = tuple(STATUS_NAMES.values())
STATUS_WORDS = {service: word for word, service in STATUS_NAMES.items()}


def _iso(value: date | None) -> str | None:
    return value.isoformat() if value is not None else None


@dataclass(frozen=True)
class SearchRequest:
    """One search as it was asked for: the query text, the filters, the order and the page."""

    text: str = ""
    author: str | None = None
    since: date | None = None
    until: date | None = None
    edition: str | None = None
    sort: str = "relevance"
    page: int = 1
    page_size: int = DEFAULT_PAGE_SIZE
    category: str | None = None
    not_authors: tuple[str, ...] = ()
    not_editions: tuple[str, ...] = ()
    not_categories: tuple[str, ...] = ()
    associated: bool = False   # also find the words most over-represented in the matches
    status: str | None = None     # one of STATUSES: edited, withdrawn or neither
    earlier: bool = False         # also search the superseded versions' text
    fold: bool = False            # fold copies under their first publication known

    def to_json(self) -> dict[str, Any]:
        """Return the request in the words of the API's parameters."""
        return {
            "q": self.text, "auteur": self.author, "du": _iso(self.since),
            "au": _iso(self.until), "edition": self.edition, "categorie": self.category,
            "sauf_auteur": list(self.not_authors), "sauf_edition": list(self.not_editions),
            "sauf_categorie": list(self.not_categories),
            "tri": _SORT_WORDS.get(self.sort, self.sort), "page": self.page,
            "taille": self.page_size,
            "statut": STATUS_WORDS.get(self.status) if self.status else None,
            "anterieures": self.earlier, "replier": self.fold,
        }


@dataclass(frozen=True)
class Hit:
    """One article in a page of results."""

    id: int
    url: str
    title: str
    author: str | None
    author_key: str | None
    published: date | None
    edition: str | None
    withdrawn: bool
    snippet: str          # HTML-safe: platform text escaped, only our <mark> tags unescaped
    title_html: str       # title HTML-escaped with <mark> highlights
    score: float | None
    versions: int = 1     # versions the archive holds (« modifié N fois » when more than 1)
    # Searched with ``earlier``: the numbers of the superseded versions the query matches.
    earlier_versions: tuple[int, ...] = ()
    # Searched with ``fold``: how many copies of this text were folded under it.
    copies: int = 0

    def to_json(self) -> dict[str, Any]:
        """Return the hit as the JSON object of the CLI and the API."""
        return {
            "id": self.id, "title": self.title, "title_html": self.title_html,
            "author": self.author, "author_key": self.author_key,
            "published": _iso(self.published), "edition": self.edition,
            "withdrawn": self.withdrawn, "original_url": self.url, "snippet": self.snippet,
            "score": self.score, "versions": self.versions,
            "earlier_versions": list(self.earlier_versions), "copies": self.copies,
        }


@dataclass(frozen=True)
class AuthorFacet:
    """An author among the matches, with the number of matching articles."""

    key: str
    name: str
    count: int


@dataclass(frozen=True)
class Facets:
    """Counts over ALL the matches (not only the page): authors, editions and categories (most
    first), years and months (in order)."""

    authors: list[AuthorFacet]
    years: list[tuple[int, int]]
    months: list[tuple[int, int, int]]
    editions: list[tuple[str, int]] = field(default_factory=list)
    categories: list[tuple[str, int]] = field(default_factory=list)

    def to_json(self) -> dict[str, Any]:
        """Return the facets as JSON-ready lists."""
        return {
            "authors": [{"key": a.key, "name": a.name, "count": a.count} for a in self.authors],
            "editions": [{"edition": e, "name": edition_name(e), "count": c}
                         for e, c in self.editions],
            "categories": [{"name": n, "count": c} for n, c in self.categories],
            "years": [{"year": y, "count": c} for y, c in self.years],
            "months": [{"year": y, "month": m, "count": c} for y, m, c in self.months],
        }


@dataclass(frozen=True)
class AssociatedWord:
    """A word over-represented in the matches: in how many of them, and its G² score."""

    word: str
    count: int
    score: float

    def to_json(self) -> dict[str, Any]:
        """Return the word as a JSON-ready object."""
        return {"word": self.word, "count": self.count, "score": round(self.score, 2)}


NO_FACETS = Facets([], [], [])


@dataclass(frozen=True)
class SearchResult:
    """One page of results with its totals, facets and notes."""

    query: str            # the query text as it was searched (cleaned, possibly cut)
    total: int
    page: int
    page_size: int
    sort: str
    hits: list[Hit]
    facets: Facets
    suggestion: str | None
    took_ms: float
    message: str | None   # a French, user-facing note when the query could not be used as typed
    request: SearchRequest = field(default_factory=SearchRequest)
    # The words most over-represented in the matches, when the request asked for them.
    associated: list[AssociatedWord] = field(default_factory=list)

    @property
    def pages(self) -> int:
        """Return how many pages the matches fill (at least one)."""
        return max(1, -(-self.total // self.page_size))

    def to_json(self) -> dict[str, Any]:
        """Return the result as the one JSON object of ``search --json`` and the API."""
        return {
            "query": self.request.to_json(), "total": self.total, "pages": self.pages,
            "took_ms": round(self.took_ms, 2), "suggestion": self.suggestion,
            "message": self.message, "hits": [hit.to_json() for hit in self.hits],
            "facets": self.facets.to_json(),
            "associated": [word.to_json() for word in self.associated],
        }


@dataclass(frozen=True)
class IndexInfo:
    """What the live index is: its build, generation, size and how far it follows the archive."""

    build: str
    generation: int
    doc_count: int
    change_seq: int | None
    words_ready: bool = False
    """Whether this generation's associated-words table has been read (pages show the words)."""


def plain_date(value: date) -> date:
    """Return VALUE as a date (a datetime's day)."""
    return value.date() if isinstance(value, datetime) else value
