"""The JSON shapes of the API: hits, results, articles, versions and authors (plain dicts)."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from flask import url_for

from archive.authors import author_slug
from archive.editions import edition_name
from archive.web.citation import citation_for
from archive.web.params import SearchParams

if TYPE_CHECKING:
    from archive.store.records import AuthorSummary, StoredArticle, Version
    from indexer.search import Hit, SearchResult


def _iso(value: Any) -> str | None:
    return value.isoformat() if value is not None else None


def hit_json(hit: Hit) -> dict[str, Any]:
    """Return one search hit; ``snippet`` and ``title_html`` are HTML with ``<mark>`` only."""
    return {
        "id": hit.id,
        "title": hit.title,
        "title_html": hit.title_html,
        "author": hit.author,
        "author_url": (
            url_for("pages.author", slug=author_slug(hit.author), _external=True)
            if hit.author else None
        ),
        "published": _iso(hit.published),
        "edition": hit.edition,
        "withdrawn": hit.withdrawn,
        "original_url": hit.url,
        "archived_url": url_for("pages.article", article_id=hit.id, _external=True),
        "api_url": url_for("api.article", article_id=hit.id, _external=True),
        "snippet": hit.snippet,
        "score": hit.score,
    }


def result_json(params: SearchParams, result: SearchResult) -> dict[str, Any]:
    """Return a page of search results with the facets, the suggestion and paging links."""
    pages = max(1, -(-result.total // params.taille))
    links: dict[str, str | None] = {
        "self": url_for("api.search", _external=True, **params.query_args()),
        "html": url_for("pages.search", _external=True, **params.query_args()),
        "atom": url_for("feeds.search", _external=True, **params.query_args(page=1, taille=10)),
        "next": None,
        "prev": None,
    }
    if params.page < min(pages, 1000):
        links["next"] = url_for("api.search", _external=True,
                                **params.query_args(page=params.page + 1))
    if params.page > 1:
        links["prev"] = url_for("api.search", _external=True,
                                **params.query_args(page=params.page - 1))
    return {
        "query": {
            "q": params.q, "auteur": params.auteur, "du": _iso(params.du), "au": _iso(params.au),
            "edition": params.edition, "categorie": params.categorie,
            "sauf_auteur": list(params.sauf_auteur), "sauf_edition": list(params.sauf_edition),
            "sauf_categorie": list(params.sauf_categorie),
            "tri": params.tri, "page": params.page, "taille": params.taille,
        },
        "total": result.total,
        "pages": pages,
        "took_ms": round(result.took_ms, 2),
        "suggestion": result.suggestion,
        "message": result.message,
        "hits": [hit_json(hit) for hit in result.hits],
        "facets": {
            "authors": [
                {"key": f.key, "name": f.name, "count": f.count} for f in result.facets.authors
            ],
            "editions": [{"edition": e, "name": edition_name(e), "count": c}
                         for e, c in result.facets.editions],
            "categories": [{"name": n, "count": c} for n, c in result.facets.categories],
            "years": [{"year": y, "count": c} for y, c in result.facets.years],
            "months": [{"year": y, "month": m, "count": c} for y, m, c in result.facets.months],
        },
        "associated": [word.to_json() for word in result.associated],
        "links": links,
    }


def version_json(version: Version) -> dict[str, Any]:
    """Return one version of an article, with its text."""
    return {
        "number": version.number,
        "title": version.title,
        "author": version.author,
        "published": _iso(version.published),
        "first_seen": _iso(version.first_seen),
        "last_seen": _iso(version.last_seen),
        "content_hash": version.content_hash,
        "body": version.body,
    }


def article_json(article: StoredArticle, versions: list[Version]) -> dict[str, Any]:
    """Return an archived article, its citation and its versions."""
    archived = url_for("pages.article", article_id=article.id, _external=True)
    citation = citation_for(article, archived)
    return {
        "id": article.id,
        "title": article.title,
        "author": article.author,
        "author_url": (
            url_for("pages.author", slug=article.author_slug, _external=True)
            if article.author_slug else None
        ),
        "published": _iso(article.published),
        "modified": _iso(article.modified),
        "edition": article.edition,
        "categories": list(article.categories),
        "language": article.language,
        "original_url": citation.original_url,
        "archived_url": archived,
        "captured_at": _iso(citation.captured_at),
        "first_seen": _iso(article.first_seen),
        "last_seen": _iso(article.last_seen),
        "status": article.status,
        "withdrawn_at": _iso(article.withdrawn_at),
        "withdrawn_reason": article.withdrawn_reason,
        "body": article.body,
        "citation": citation.text(),
        "version_count": article.version_count,
        "versions": [version_json(v) for v in versions],
    }


def author_json(author: AuthorSummary) -> dict[str, Any]:
    """Return one author with their article count and date span."""
    return {
        "key": author.key,
        "slug": author.slug,
        "name": author.name,
        "count": author.count,
        "first": _iso(author.first),
        "last": _iso(author.last),
        "url": url_for("pages.author", slug=author.slug, _external=True),
        "search_url": url_for("api.search", auteur=author.name, _external=True),
    }
