"""werkzeug's development server as ``python -m archive serve`` and the in-process tests run it.

Two differences from ``werkzeug.serving.run_simple``. It prints no English banner (the command
says in French where it listens) and a port already taken is a French ``InvalidInput`` (exit 2),
not werkzeug's English lines and exit 1. And it closes every answer of the application: werkzeug's
request handler closes the answer (an open static file, a streamed export) only after draining
the request's unread bytes, so a client that resets the connection during that drain (a browser
cancelling a favicon when it leaves the page) leaves the answer to the garbage collector, an
unclosed file and a ``ResourceWarning``. Here the handler closes it in every case.
"""

from __future__ import annotations

import errno
from collections.abc import Iterable, Iterator
from typing import TYPE_CHECKING

from werkzeug.serving import ThreadedWSGIServer, WSGIRequestHandler

from archive.errors import InvalidInput
from archive.french import os_reason

if TYPE_CHECKING:
    from _typeshed.wsgi import StartResponse, WSGIApplication, WSGIEnvironment

ANSWERS = "archive.devserver.answers"
"""The environ key of the list where each request's answers wait to be closed."""


class Answer:
    """An application's answer that closes once, whoever asks first."""

    def __init__(self, body: Iterable[bytes]) -> None:
        self.body = body
        self.closed = False

    def __iter__(self) -> Iterator[bytes]:
        return iter(self.body)

    def close(self) -> None:
        """Close the answer's body (a file, a generator) unless it is closed already."""
        if self.closed:
            return
        self.closed = True
        close = getattr(self.body, "close", None)
        if close is not None:
            close()


def closing_answers(app: WSGIApplication) -> WSGIApplication:
    """Return APP whose every answer the request handler below can close."""

    def application(environ: WSGIEnvironment, start_response: StartResponse) -> Answer:
        answer = Answer(app(environ, start_response))
        environ.get(ANSWERS, []).append(answer)
        return answer

    return application


class ClosingRequestHandler(WSGIRequestHandler):
    """werkzeug's request handler, closing the application's answer however the request ended."""

    answers: list[Answer]

    def make_environ(self) -> WSGIEnvironment:
        """Return werkzeug's environ with the list that collects this request's answers."""
        environ = super().make_environ()
        environ[ANSWERS] = self.answers
        return environ

    def run_wsgi(self) -> None:
        """Serve one request, then close whatever answer werkzeug left open."""
        self.answers = []
        try:
            super().run_wsgi()
        finally:
            for answer in self.answers:
                answer.close()


class DevelopmentServer(ThreadedWSGIServer):
    """werkzeug's threaded server, with a French error when its address cannot be taken."""

    def __init__(self, host: str, port: int, app: WSGIApplication) -> None:
        super().__init__(host, port, closing_answers(app), handler=ClosingRequestHandler)

    def server_bind(self) -> None:
        """Bind the socket; a taken port or an unusable address is the user's to change."""
        try:
            super().server_bind()
        except OSError as exc:
            host, port = self.host, self.port
            if exc.errno == errno.EADDRINUSE:
                reason = (f"le port {port} de {host} est déjà pris ; choisissez-en un autre "
                          "avec --port")
            else:
                reason = f"impossible d'écouter sur {host}:{port} ({os_reason(exc)})"
            # Not an OSError: werkzeug would print English and exit; this closes the socket
            # and reaches the command line's handler.
            raise InvalidInput(reason) from None
