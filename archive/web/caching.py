"""HTTP caching of search answers: one validator per state of the index and the archive, a 304
to a client that already holds the answer, and each worker's finished pages kept ready.

A results page (or an API answer) changes only when the index moves to another generation, when
its associated-words table becomes ready, or when the archive changes (an edit, a withdrawal, an
article hidden on request: each moves the archive's highest ``change_seq``), and with the code
that draws it (the package version). The weak ``ETag`` names exactly those, so a browser that
comes back with ``If-None-Match`` gets a 304 without a search, and a page drawn once is served
again from memory until one of them moves.
"""

from __future__ import annotations

from collections.abc import Callable

from flask import Response, request

from archive import __version__
from archive.web.searching import services


def search_tag() -> str:
    """Return the weak entity tag of every search answer in the current state (no quotes)."""
    svc = services()
    info = svc.search().info()
    words = "m" if info.words_ready else "s"
    return f"{__version__}-{info.build}-{info.generation}{words}-{svc.change_seq()}"


def cached_search_answer(draw: Callable[[], Response]) -> Response:
    """Answer the current search request: 304 when the client holds the current answer, the
    page kept from an earlier identical request, or DRAW's response (then kept).

    Only a 200 is kept: errors are never cached. The key is the whole URL (scheme, host and
    query: some pages carry absolute links) and the state's tag, so a new generation or any
    change of the archive misses at once and the old entries age out.
    """
    tag = search_tag()
    if request.if_none_match.contains_weak(tag):
        return not_modified(tag)
    cache = services().pages
    key = (request.url, tag)
    kept = cache.get(key)
    if kept is not None:
        response = Response(kept[0], mimetype=kept[1])
    else:
        response = draw()
        if response.status_code == 200 and not response.is_streamed:
            cache.put(key, response.get_data(), response.mimetype or "text/html")
    response.set_etag(tag, weak=True)
    # Whether the worker already held the answer: for operators and bench/web.py's hit rate.
    response.headers["X-Archive-Cache"] = "hit" if kept is not None else "miss"
    return response


def not_modified(tag: str) -> Response:
    """Return a 304 carrying TAG."""
    response = Response(status=304)
    response.set_etag(tag, weak=True)
    return response
