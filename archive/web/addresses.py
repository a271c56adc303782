"""The addresses of the site's fixed pages and files (navigation, footer, style sheet), built
once per script root instead of once per page.

Every page asks the routing map for about fifteen of them (the header's and footer's links,
the form's action, the static files), each the same on every page: werkzeug's URL building
was a tenth of drawing a results page. Templates' ``url_for`` keeps its signature; a call
naming nothing but an endpoint (and a static file's ``filename``) is answered from a small
cache keyed by the request's script root, every other call by Flask's own ``url_for``.
"""

from __future__ import annotations

import functools
import re
from collections.abc import Callable
from typing import Any

from flask import Flask, current_app, has_request_context, request, url_for

# How many distinct fixed addresses are kept (the site has a few dozen, per script root).
FIXED_ADDRESSES = 256
# A number no other part of an article's address can hold (``numbered`` cuts it out).
_SOME_ARTICLE = 918273645
# A slug no other part of an author's address can hold (``slugged`` cuts it out), and the
# slugs that go into an address as they are (``archive.authors.author_slug`` makes only those).
_SOME_SLUG = "auteur-918273645"
_PLAIN_SLUG = re.compile(r"[a-z0-9-]+")


def init_app(app: Flask) -> None:
    """Give APP's templates a ``url_for`` that builds each fixed address once."""
    build = app.url_for

    @functools.lru_cache(maxsize=FIXED_ADDRESSES)
    def fixed(script_root: str, endpoint: str, filename: str | None) -> str:
        if filename is None:
            return build(endpoint)
        return build(endpoint, filename=filename)

    def url_for(endpoint: str, **values: Any) -> str:
        """Flask's ``url_for``, a fixed page's or file's address from the cache."""
        if (has_request_context() and not endpoint.startswith(".")
                and values.keys() <= {"filename"}
                and isinstance(values.get("filename", ""), str)):
            return fixed(request.script_root, endpoint, values.get("filename"))
        return build(endpoint, **values)

    app.jinja_env.globals["url_for"] = url_for
    app.extensions["fixed_addresses"] = fixed


def fixed_address(endpoint: str) -> str:
    """Return the address of ENDPOINT, a page without path parameters (``url_for(endpoint)``),
    built once per script root."""
    fixed: Callable[[str, str, str | None], str] = current_app.extensions["fixed_addresses"]
    return fixed(request.script_root, endpoint, None)


def numbered(endpoint: str, *, external: bool = False) -> Callable[[int], str]:
    """Return a function giving ENDPOINT's address for an article number: what
    ``url_for(endpoint, article_id=..., _external=external)`` gives, the routing map asked
    once for a page's ten articles rather than once each."""
    before, _, after = url_for(endpoint, article_id=_SOME_ARTICLE, _external=external) \
        .partition(str(_SOME_ARTICLE))

    def address(article_id: int) -> str:
        return f"{before}{int(article_id)}{after}"

    return address


def slugged(endpoint: str, *, external: bool = False) -> Callable[[str], str]:
    """Return a function giving ENDPOINT's address for an author's slug: what
    ``url_for(endpoint, slug=..., _external=external)`` gives, the routing map asked once for
    a page's ten hits rather than once each (a slug that is not plain goes through it)."""
    before, _, after = url_for(endpoint, slug=_SOME_SLUG, _external=external) \
        .partition(_SOME_SLUG)

    def address(slug: str) -> str:
        if _PLAIN_SLUG.fullmatch(slug):
            return f"{before}{slug}{after}"
        return url_for(endpoint, slug=slug, _external=external)

    return address
