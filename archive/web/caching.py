"""HTTP caching of search answers: one validator per state of the index and the archive, a 304
to a client that already holds the answer, and each worker's finished pages kept ready.

A results page (or an API answer) changes only when the index moves to another generation, when
its associated-words table becomes ready, or when the archive changes (an edit, a withdrawal, an
article hidden on request: each moves the archive's highest ``change_seq``), and with the code
that draws it (the package version). The weak ``ETag`` names exactly those, so a browser that
comes back with ``If-None-Match`` gets a 304 without a search, and a page drawn once is served
again from memory until one of them moves.

Kept answers are gzip-compressed once, when drawn (a results page of 40 to 50 KB becomes 10 KB):
a client that accepts gzip (every browser does) gets those bytes as they are kept, any other
the answer inflated again; the byte budgets of the kept pages then hold four to five times as
many, and the server's file of shared pages is written a fifth as much.
"""

from __future__ import annotations

import zlib
from collections.abc import Callable
from typing import TypeVar

from flask import Response, request

from archive import __version__
from archive.web.searching import services

P = TypeVar("P")


def search_tag() -> str:
    """Return the weak entity tag of every search answer in the current state (no quotes)."""
    svc = services()
    info = svc.search().info()
    words = "m" if info.words_ready else "s"
    return f"{__version__}-{info.build}-{info.generation}{words}-{svc.change_seq()}"


def cached_search_answer(parse: Callable[[], P], draw: Callable[[P], Response]) -> Response:
    """Answer the current search request: 304 when the client holds the current answer, the
    page kept from an earlier identical request, or DRAW's response to PARSE's parameters
    (then kept).

    PARSE reads the request's parameters (raising ``InvalidInput`` for a 400); a kept page
    answers without it, since only a 200 is kept and the key holds the whole address: the
    same address parsed the same under the same code (the tag names the version). Errors are
    never cached. The key is the address as the client sent it (scheme, host, script root,
    path and raw query string: some pages carry absolute links) and the state's tag, so a new
    generation or any change of the archive misses at once and the old entries age out. Kept
    bodies are gzip's (``GZIP_LEVEL``); the answer is gzip's when the client accepts it
    (``Vary``).
    """
    tag = search_tag()
    cache = services().pages
    key = (request_address(), tag)
    kept = cache.get(key)
    gzip_wanted = accepts_gzip()
    if kept is not None:
        if request.if_none_match.contains_weak(tag):
            return not_modified(tag)
        compressed, mimetype = kept
        if gzip_wanted:
            response = Response(compressed, mimetype=mimetype)
            response.headers["Content-Encoding"] = "gzip"
        else:
            response = Response(inflated(compressed), mimetype=mimetype)
    else:
        params = parse()
        if request.if_none_match.contains_weak(tag):
            return not_modified(tag)
        response = draw(params)
        if response.status_code == 200 and not response.is_streamed:
            compressed = deflated(response.get_data())
            cache.put(key, compressed, response.mimetype or "text/html")
            if gzip_wanted:
                response.set_data(compressed)
                response.headers["Content-Encoding"] = "gzip"
    response.set_etag(tag, weak=True)
    response.vary.add("Accept-Encoding")
    # Whether the worker already held the answer: for operators and bench/web.py's hit rate.
    response.headers["X-Archive-Cache"] = "hit" if kept is not None else "miss"
    return response


def request_address() -> str:
    """Return the current request's address as the client sent it, undecoded: what a kept
    answer is found by (werkzeug's ``request.url`` decodes it into an IRI, a tenth of a
    millisecond a request, for the same distinctions)."""
    environ = request.environ
    return (f"{environ['wsgi.url_scheme']}://{request.host}{environ.get('SCRIPT_NAME', '')}"
            f"{environ.get('PATH_INFO', '')}?{environ.get('QUERY_STRING', '')}")


# zlib's fastest level: a results page in 0.15 ms of CPU to a quarter to a fifth of its size
# (levels 3 to 6 gain 4 to 11% more for two to four times the CPU).
GZIP_LEVEL = 1
_GZIP_FORMAT = 31  # zlib's window bits for a gzip header and trailer


def accepts_gzip() -> bool:
    """Whether the current request's client accepts a gzip-encoded answer."""
    return request.accept_encodings.quality("gzip") > 0


def deflated(body: bytes) -> bytes:
    """Return BODY gzip-compressed (no file name, no time: the same bytes every time)."""
    return zlib.compress(body, GZIP_LEVEL, wbits=_GZIP_FORMAT)


def inflated(compressed: bytes) -> bytes:
    """Return the body ``deflated`` compressed."""
    return zlib.decompress(compressed, wbits=_GZIP_FORMAT)


def not_modified(tag: str) -> Response:
    """Return a 304 carrying TAG (and the ``Vary`` the 200 would carry)."""
    response = Response(status=304)
    response.set_etag(tag, weak=True)
    response.vary.add("Accept-Encoding")
    return response
