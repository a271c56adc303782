"""The gunicorn worker of the front end: gunicorn's threaded worker, answering in French the
requests gunicorn itself refuses before the application sees them.

gunicorn reads the request line and the headers first and refuses some requests on its own: a
request line past 8,190 bytes (its maximum), too many or too long headers, a malformed request.
Its answer is a bare English page. This worker answers them with the site's own French error page
(the form, the links), rendered by the application, under the same status. The limits stay
gunicorn's: ``limit_request_line = 0`` would lift the request-line limit altogether (its Python
parser then reads a line of any length into memory), so the limit is kept and only the answer
changes. ``gunicorn.conf.py`` names this class as ``worker_class``.

A new worker (at start-up, or replacing one recycled after ``max_requests``) prepares what its
first search needs before it takes a request (``warm_up``): meanwhile the server's other
workers answer, where a cold worker made its first readers wait seconds for it.
"""

from __future__ import annotations

import gc
import socket
import time
from concurrent import futures
from http import HTTPStatus
from typing import Any

from flask import Flask
from gunicorn.workers.gthread import ThreadWorker

from archive.errors import ArchiveError
from archive.web.errors import standalone_error_page
from archive.web.pagecache import SharedPages, shared_pages_path

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
# The collector's thresholds in a worker: a results page leaves some six hundred tracked objects
# behind (caches, cycles), so Python's defaults (700, 10, 10) ran a young collection every page
# or so and a full one every two hundred, each full one 100 to 500 ms of a worker holding the
# GIL (its other threads' requests waited) and some 7% of its CPU (bench/web.py --profile's
# mix at 100,000 articles, docs/architecture.md). Young collections every 10,000 objects and
# older ones far more rarely keep cycles collected, with pauses of a few milliseconds.
GC_THRESHOLDS = (10_000, 50, 100)
# How long a new worker may prepare (``warm_up``) before it takes requests anyway: the index's
# columns, the form's author list and the templates take seconds of CPU at 100,000 articles,
# far more on a starved machine. gunicorn's master kills a worker silent for its ``timeout``,
# so the worker tells it every second that it is alive meanwhile.
WARM_UP_SECONDS = 60.0


def tune_collector() -> None:
    """Set the garbage collector for a web worker: everything loaded so far (modules, the
    application) moved out of its sight for good (``gc.freeze``), and ``GC_THRESHOLDS``."""
    gc.collect()
    gc.freeze()
    gc.set_threshold(*GC_THRESHOLDS)


def warm_up(app: Flask) -> None:
    """Prepare what the first search of APP's worker needs: the live index generation, its
    columns and its segments' term directories, the author list of the search form, and every
    template compiled.

    Nothing is prepared where there is no index or archive yet (the pages say so).
    """
    services = app.extensions["archive"]
    try:
        services.search().prepare()
        services.datalist_authors()
    except ArchiveError:
        pass
    for name in app.jinja_env.list_templates():
        app.jinja_env.get_template(name)


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
    """gunicorn's ``gthread`` worker whose refusals are the application's French pages, and
    whose finished search pages are shared with the server's other workers."""

    def load_wsgi(self) -> None:
        """Load the application, share its kept pages with the master's other workers,
        prepare it (``warm_up``) and set the garbage collector for a long-lived server
        (``tune_collector``, which then also sets aside what was prepared)."""
        super().load_wsgi()
        app = getattr(self, "wsgi", None)
        services = app.extensions.get("archive") if isinstance(app, Flask) else None
        path = shared_pages_path(self.ppid) if services is not None else None
        if services is not None and path is not None:
            services.pages.share(SharedPages(path), str(services.settings.data_dir))
        if isinstance(app, Flask) and services is not None:
            self.prepare(app)
        tune_collector()

    def prepare(self, app: Flask) -> None:
        """Run ``warm_up`` on one of the worker's own threads (whatever it opens there serves
        that thread's requests later), for WARM_UP_SECONDS at most, telling the master that
        the worker is alive meanwhile; a failure is logged and left to the requests."""
        prepared = self.tpool.submit(warm_up, app)
        deadline = time.monotonic() + WARM_UP_SECONDS
        while self.alive and not prepared.done() and time.monotonic() < deadline:
            self.notify()
            futures.wait([prepared], timeout=1.0)
        if prepared.done() and prepared.exception() is not None:
            self.log.warning("préparation du processus web impossible (détail technique : %s)",
                             prepared.exception())

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
