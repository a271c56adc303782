"""The gunicorn worker of the front end: gunicorn's threaded worker, answering in French the
requests gunicorn itself refuses before the application sees them.

gunicorn reads the request line and the headers first and refuses some requests on its own: a
request line past 8,190 bytes (its maximum), too many or too long headers, a malformed request.
Its answer is a bare English page. This worker answers them with the site's own French error page
(the form, the links), rendered by the application, under the same status. The limits stay
gunicorn's: ``limit_request_line = 0`` would lift the request-line limit altogether (its Python
parser then reads a line of any length into memory), so the limit is kept and only the answer
changes. ``gunicorn.conf.py`` names this class as ``worker_class``.
"""

from __future__ import annotations

import socket
from http import HTTPStatus
from typing import Any

from flask import Flask
from gunicorn.workers.gthread import ThreadWorker

from archive.web.errors import standalone_error_page

# gunicorn's refusals by class name (the classes vary between gunicorn versions), with the
# status and the French reason the reader gets. Any other refusal of gunicorn's parser is a 400.
REFUSALS: dict[str, tuple[int, str]] = {
    "LimitRequestLine": (414, "L'adresse demandée est trop longue (plus de 8 190 octets) : "
                              "raccourcissez la recherche."),
    "LimitRequestHeaders": (431, "Les en-têtes de la requête sont trop nombreux ou trop longs."),
    "UnsupportedTransferCoding": (501, "Ce codage de transfert n'est pas pris en charge."),
    "ExpectationFailed": (417, "L'en-tête Expect de la requête n'est pas pris en charge."),
    "ForbiddenProxyRequest": (403, "Cette requête de mandataire n'est pas permise."),
}
MALFORMED = (400, "La requête est mal formée : le serveur ne peut pas la lire.")
# The application's own mistakes that gunicorn catches (a bad header in a response) and
# gunicorn's configuration problems are not the reader's: a 500, logged with its traceback.
SERVER_FAULTS = frozenset({"InvalidResponseHeader", "InvalidResponseHeaderName",
                           "ConfigurationProblem"})
WRITE_SECONDS = 10.0


def refusal(exc: BaseException) -> tuple[int, str] | None:
    """Return the status and French reason for a request gunicorn refused with EXC, or None
    when EXC is not the client's fault."""
    names = [cls.__name__ for cls in type(exc).__mro__]
    if SERVER_FAULTS.intersection(names) or "ParseException" not in names:
        return None
    for name in names:
        if name in REFUSALS:
            return REFUSALS[name]
    return MALFORMED


def raw_response(status: int, headers: list[tuple[str, str]], body: bytes) -> bytes:
    """Return a complete HTTP/1.1 response that closes the connection."""
    lines = [f"HTTP/1.1 {status} {HTTPStatus(status).phrase}"]
    lines += [f"{name}: {value}" for name, value in headers
              if name.lower() not in ("connection", "content-length")]
    lines += [f"Content-Length: {len(body)}", "Connection: close", "", ""]
    return "\r\n".join(lines).encode("latin-1") + body


# gunicorn ships no type information, so its worker class is Any to mypy.
class FrenchErrorsWorker(ThreadWorker):  # type: ignore[misc]
    """gunicorn's ``gthread`` worker whose refusals are the application's French pages."""

    def handle_error(self, req: Any, client: socket.socket, addr: Any,
                     exc: BaseException) -> None:
        """Answer a request that failed before or outside the application, in French."""
        app = getattr(self, "wsgi", None)
        if not isinstance(app, Flask):
            super().handle_error(req, client, addr, exc)
            return
        found = refusal(exc)
        peer = addr[0] if addr else ""
        if found is None:
            self.log.exception("erreur en traitant une requête de %s", peer)
            status, reason = 500, None
        else:
            self.log.warning("requête refusée de %s : %s (détail technique : %s)", peer,
                             found[1], exc)
            status, reason = found
        try:
            headers, body = standalone_error_page(app, status, reason)
            client.settimeout(WRITE_SECONDS)
            client.sendall(raw_response(status, headers, body))
            # Whatever the client still sends (the rest of an overlong line) is left unread:
            # closing the writing side first lets it read the page before the reset.
            client.shutdown(socket.SHUT_WR)
        except OSError:
            self.log.debug("Failed to send error message.")
