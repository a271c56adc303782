"""Errors as French pages (JSON under /api): 400 with its reason, 404, 503 while building, 500."""

from __future__ import annotations

import logging

from flask import Flask, Response, jsonify, render_template, request
from flask.globals import request_ctx
from werkzeug.exceptions import HTTPException

from archive.errors import ArchiveError, IndexUnreadable, InvalidInput, ServerBusy
from archive.web.limits import BUSY_RETRY_SECONDS
from archive.web.params import CONTROL, MAX_URL_CHARS, SearchParams, parse_date
from archive.web.services import BUILDING

log = logging.getLogger(__name__)

RETRY_AFTER_SECONDS = 120
TYPED_CHARS = 2000   # how much of a typed query an error page shows back
DAMAGED = ("L'index de recherche est endommagé : la recherche reviendra dès qu'il aura été "
           "reconstruit. Les articles restent consultables par auteur et par date.")

TITLES = {
    400: "Requête incorrecte",
    403: "Requête refusée",
    404: "Page introuvable",
    405: "Méthode non permise",
    410: "Article retiré",
    413: "Requête trop volumineuse",
    414: "Adresse trop longue",
    416: "Plage hors du fichier",
    417: "Attente non satisfaite",
    422: "Contenu inutilisable",
    429: "Trop de requêtes",
    431: "En-têtes trop volumineux",
    500: "Erreur interne",
    501: "Non pris en charge",
    502: "Source injoignable",
    503: "Archive indisponible",
}
MESSAGES = {
    400: "Un paramètre de l'adresse n'est pas utilisable.",
    404: "Cette adresse ne correspond à aucune page de l'archive.",
    405: "Cette adresse ne s'utilise qu'en lecture (GET).",
    413: "La requête envoyée est trop volumineuse.",
    414: "L'adresse demandée est trop longue.",
    416: "La plage d'octets demandée est illisible ou hors du fichier : demandez-le en entier.",
    500: "Une erreur inattendue s'est produite. Elle a été consignée ; réessayez plus tard.",
    503: BUILDING,
}


def wants_json() -> bool:
    """Return True when the error should be answered in JSON (the API and the JSON export)."""
    return request.path.startswith("/api/") or request.path.endswith(".json")


def error_response(status: int, message: str | None = None, *,
                   retry_after: int = RETRY_AFTER_SECONDS) -> tuple[Response, int]:
    """Return the French error page (or JSON object) for STATUS, explaining MESSAGE."""
    title = TITLES.get(status, "Erreur")
    text = message or MESSAGES.get(status, title)
    if wants_json():
        response = jsonify({"error": {"status": status, "title": title, "message": text}})
    else:
        # A request whose Host header cannot be routed has no URL adapter: its page is the
        # one that builds no link (``url_for`` would fail and turn a 400 into a 500).
        routable = request_ctx.url_adapter is not None
        template = "erreur.html" if routable else "erreur_sans_adresse.html"
        response = Response(render_template(template, status=status, title=title,
                                            message=text, params=typed_search()),
                            mimetype="text/html")
    if status == 503:
        response.headers["Retry-After"] = str(retry_after)
    return response, status


def standalone_error_page(app: Flask, status: int,
                          message: str | None = None) -> tuple[list[tuple[str, str]], bytes]:
    """Return the headers and body of APP's French error page for STATUS, outside any request.

    For the server (``archive.web.worker``) when it refuses a request before the application
    sees it: the page is the application's own, with its form and its security headers.
    """
    with app.test_request_context("/"):
        response = app.process_response(app.make_response(error_response(status, message)))
        return response.headers.to_wsgi_list(), response.get_data()


def typed_search() -> SearchParams:
    """Return the search the reader typed, as far as it can be shown again in the form.

    An error page keeps the form and the query (even one too long to run), so the reader
    corrects it instead of typing it again; dates that cannot be read are left out.
    """
    args = request.args
    q = " ".join(CONTROL.sub(" ", (args.get("q") or "")[:TYPED_CHARS]).split())
    auteur = " ".join(CONTROL.sub(" ", (args.get("auteur") or "")[:TYPED_CHARS]).split())
    dates = {}
    for name in ("du", "au"):
        try:
            dates[name] = parse_date(args.get(name), name)
        except InvalidInput:
            dates[name] = None
    return SearchParams(q=q, auteur=auteur or None, du=dates["du"], au=dates["au"])


def refuse_overlong_address() -> tuple[Response, int] | None:
    """Answer 414 in French when the address is longer than the application accepts."""
    raw = request.environ.get("RAW_URI") or request.full_path
    if len(raw) > MAX_URL_CHARS:
        return error_response(414, f"L'adresse demandée est trop longue ({len(raw)} caractères ; "
                                   f"{MAX_URL_CHARS} au plus) : raccourcissez la recherche.")
    return None


def handle_archive_error(exc: ArchiveError) -> tuple[Response, int]:
    """Answer a product error with its HTTP status; 5xx details go to the log, not the reader."""
    status = exc.http_status
    if isinstance(exc, ServerBusy):
        return error_response(status, exc.message, retry_after=BUSY_RETRY_SECONDS)
    if isinstance(exc, IndexUnreadable):
        log.error("%s sur %s : %s", type(exc).__name__, request.path, exc.message)
        return error_response(status, DAMAGED)
    if status >= 500:
        log.warning("%s sur %s : %s", type(exc).__name__, request.path, exc.message)
        return error_response(status, BUILDING if status == 503 else None)
    return error_response(status, exc.message)


def handle_http_error(exc: HTTPException) -> tuple[Response, int]:
    """Answer werkzeug's HTTP errors (404, 405, ...) in French."""
    status = exc.code or 500
    response, code = error_response(status)
    if status == 405:
        response.headers["Allow"] = "GET, HEAD"
    if status == 416:
        # The file's length (« bytes */1234 »), so that a client can ask again.
        response.headers.update((name, value) for name, value in exc.get_headers()
                                if name == "Content-Range")
    return response, code


def handle_unexpected(exc: Exception) -> tuple[Response, int]:
    """Log an unexpected exception with its traceback and answer a French 500."""
    if isinstance(exc, HTTPException):
        return handle_http_error(exc)
    log.exception("erreur inattendue sur %s", request.path)
    return error_response(500)


def init_app(app: Flask) -> None:
    """Register the error handlers on APP."""
    app.before_request(refuse_overlong_address)
    app.register_error_handler(ArchiveError, handle_archive_error)
    app.register_error_handler(HTTPException, handle_http_error)
    app.register_error_handler(Exception, handle_unexpected)
