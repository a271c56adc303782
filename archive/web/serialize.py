"""The JSON shapes of the API: results (``indexer.results``' shape plus links), articles,
versions and authors (plain dicts)."""

from __future__ import annotations

from collections.abc import Callable
from typing import TYPE_CHECKING, Any

from flask import url_for

from archive.authors import author_slug
from archive.web.addresses import numbered, slugged
from archive.web.citation import citation_for
from archive.web.links import web_link
from archive.web.params import SearchParams
from indexer.results import MAX_PAGE

if TYPE_CHECKING:
    from archive.store.records import AuthorSummary, StoredArticle, Version
    from indexer.results import Hit, SearchResult


def _iso(value: Any) -> str | None:
    return value.isoformat() if value is not None else None


def hit_json(hit: Hit, archived: Callable[[int], str] | None = None,
             api: Callable[[int], str] | None = None,
             author: Callable[[str], str] | None = None) -> dict[str, Any]:
    """Return one search hit's JSON with the addresses the API adds (author, archive, API).

    ARCHIVED, API and AUTHOR: the builders of those addresses (``addresses.numbered``,
    ``addresses.slugged``), when a page of hits shares them.
    """
    found = hit.to_json()
    author = author or slugged("pages.author", external=True)
    found["author_url"] = author(author_slug(hit.author)) if hit.author else None
    archived = archived or numbered("pages.article", external=True)
    api = api or numbered("api.article", external=True)
    found["archived_url"] = archived(hit.id)
    found["api_url"] = api(hit.id)
    found["original_url"] = web_link(hit.url)  # only an http(s) address is a link
    return found


def result_json(params: SearchParams, result: SearchResult) -> dict[str, Any]:
    """Return the result's one JSON shape with the hits' addresses and the paging links."""
    found = result.to_json()
    archived = numbered("pages.article", external=True)
    api = numbered("api.article", external=True)
    author = slugged("pages.author", external=True)
    found["hits"] = [hit_json(hit, archived, api, author) for hit in result.hits]
    found["links"] = {
        "self": url_for("api.search", _external=True, **params.query_args()),
        "html": url_for("pages.search", _external=True, **params.query_args()),
        "atom": url_for("feeds.search", _external=True, **params.query_args(page=1, taille=10)),
        "next": (url_for("api.search", _external=True, **params.query_args(page=params.page + 1))
                 if params.page < min(result.pages, MAX_PAGE) else None),
        "prev": (url_for("api.search", _external=True, **params.query_args(page=params.page - 1))
                 if params.page > 1 else None),
    }
    return found


def version_json(version: Version) -> dict[str, Any]:
    """Return one version of an article, with its text, its permalink and its capture."""
    capture = None
    if version.capture_id is not None:
        capture = {
            "html_url": url_for("versions.capture_page", article_id=version.article_id,
                                number=version.number, _external=True),
            "warc_url": url_for("versions.capture_warc", article_id=version.article_id,
                                number=version.number, _external=True),
        }
    return {
        "number": version.number,
        "url": url_for("pages.version", article_id=version.article_id, number=version.number,
                       _external=True),
        "title": version.title,
        "author": version.author,
        "published": _iso(version.published),
        "first_seen": _iso(version.first_seen),
        "last_seen": _iso(version.last_seen),
        "content_hash": version.content_hash,
        "capture": capture,
        "body": version.body,
    }


def article_json(article: StoredArticle, versions: list[Version]) -> dict[str, Any]:
    """Return an archived article, its citation and its versions."""
    archived = url_for("pages.article", article_id=article.id, _external=True)
    permalink = url_for("pages.version", article_id=article.id, number=article.version_count,
                        _external=True)
    citation = citation_for(article, permalink, versions[-1] if versions else None)
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
        "original_url": web_link(citation.original_url),
        "archived_url": archived,
        "captured_at": _iso(citation.captured_at),
        "first_seen": _iso(article.first_seen),
        "last_seen": _iso(article.last_seen),
        "status": article.status,
        "withdrawn_at": _iso(article.withdrawn_at),
        "withdrawn_reason": article.withdrawn_reason,
        "body": article.body,
        "citation": citation.text(),
        "version": article.version_count,
        "content_hash": article.content_hash,
        "version_url": permalink,
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
