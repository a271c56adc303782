"""The JSON API, mirroring the pages: search, one article, the authors, and its OpenAPI document."""

from __future__ import annotations

from flask import Blueprint, Response, abort, jsonify, request

from archive.web.caching import cached_search_answer
from archive.web.copies import copies_for
from archive.web.openapi import openapi_document
from archive.web.params import SearchParams, parse_search
from archive.web.searching import run_search, services
from archive.web.serialize import article_json, author_json, result_json
from archive.web.takedown import check_public

bp = Blueprint("api", __name__, url_prefix="/api")


@bp.route("/search")
def search() -> Response:
    """Return one page of results of a search (same parameters as /recherche)."""
    return cached_search_answer(lambda: parse_search(request.args), _search_answer)


def _search_answer(params: SearchParams) -> Response:
    """Return the JSON answer of PARAMS; with ``mots=1`` while the live generation's word
    table is being read, wait for it in one of the worker's slots for that (a 503 at once
    when every slot is taken: ``archive.web.limits``)."""
    if params.mots and not services().search().info().words_ready:
        with services().word_waits.slot():
            return jsonify(result_json(params, run_search(params, associated=True)))
    return jsonify(result_json(params, run_search(params, associated=params.mots)))


@bp.route("/articles/<number:article_id>")
def article(article_id: int) -> Response:
    """Return one archived article with its citation and every version."""
    archive = services().archive()
    stored = archive.reads.get_article(article_id)
    if stored is None:
        abort(404)
    check_public(stored)
    found = article_json(stored, archive.articles.versions(article_id))
    found["copies"] = [copy.to_json() for copy in copies_for(article_id)]
    return jsonify(found)


@bp.route("/authors")
def authors() -> Response:
    """Return every author with their article count and date span, by name."""
    found = sorted(services().authors(), key=lambda a: a.key)
    return jsonify({"total": len(found), "authors": [author_json(a) for a in found]})


@bp.route("/openapi.json")
def openapi() -> Response:
    """Return the OpenAPI 3.1 description of this API."""
    return jsonify(openapi_document(request.host_url.rstrip("/")))
