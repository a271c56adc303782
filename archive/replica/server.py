"""Serve the replica over real HTTP on loopback: one port per edition, background threads.

Loopback has no subdomains, so each edition gets its own port (consecutive from ``port``, or
ephemeral when ``port`` is 0). ``RunningReplica.stop()`` (or leaving its ``with`` block)
shuts every server down and closes every socket.
"""

from __future__ import annotations

import errno
import socket
import threading
from collections.abc import Sequence
from dataclasses import dataclass, field
from types import TracebackType
from typing import Any

from werkzeug.serving import BaseWSGIServer, WSGIRequestHandler, make_server

from archive.errors import InvalidInput
from archive.french import os_reason
from archive.replica.app import ReplicaApp, make_app
from archive.replica.corpus import Corpus
from archive.replica.state import ReplicaState


class _QuietHandler(WSGIRequestHandler):
    """Request handler that does not print one line per request (the app records them)."""

    def log_request(self, code: int | str = "-", size: int | str = "-") -> None:
        return None


@dataclass
class RunningReplica:
    """The replica's servers, running in background threads until ``stop()``."""

    urls: dict[str, str]
    apps: dict[str, ReplicaApp]
    state: ReplicaState
    corpus: Corpus
    _servers: list[BaseWSGIServer] = field(default_factory=list, repr=False)
    _threads: list[threading.Thread] = field(default_factory=list, repr=False)

    @property
    def url(self) -> str:
        """Return the base URL of the first edition."""
        return next(iter(self.urls.values()))

    def stop(self) -> None:
        """Shut every server down and close its socket (safe to call twice)."""
        for server in self._servers:
            server.shutdown()
        for thread in self._threads:
            thread.join(timeout=10)
        for server in self._servers:
            server.server_close()
        self._servers.clear()
        self._threads.clear()

    def __enter__(self) -> RunningReplica:
        return self

    def __exit__(self, kind: type[BaseException] | None, error: BaseException | None,
                 trace: TracebackType | None) -> None:
        self.stop()


def _listening_socket(host: str, port: int) -> socket.socket:
    if not 0 <= port <= 65535:
        raise InvalidInput(f"le port {port} est hors limites : choisissez un port entre 1024 "
                           "et 65535")
    sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    try:
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        sock.bind((host, port))
        sock.listen(128)
    except OSError as error:
        sock.close()
        if error.errno == errno.EADDRINUSE:
            raise InvalidInput(f"le port {port} de {host} est déjà pris : choisissez-en "
                               "un autre, ou 0 pour un port libre") from None
        if error.errno == errno.EACCES:
            raise InvalidInput(f"le port {port} demande des privilèges : choisissez un port "
                               "au-dessus de 1023") \
                from None
        raise InvalidInput(f"impossible d'écouter sur {host}:{port} : {os_reason(error)}") from None
    return sock


def serve_replica(corpus: Corpus, editions: Sequence[str] | None = None,
                  host: str = "127.0.0.1", port: int = 0, *,
                  state: ReplicaState | None = None, **app_options: Any) -> RunningReplica:
    """Serve each edition of CORPUS on its own port of HOST; return the running replica."""
    chosen = tuple(editions or corpus.editions)
    shared_state = state or ReplicaState(corpus)
    sockets: list[socket.socket] = []
    try:
        for number, _edition in enumerate(chosen):
            sockets.append(_listening_socket(host, port + number if port else 0))
    except InvalidInput:
        for sock in sockets:
            sock.close()
        raise
    running = RunningReplica({}, {}, shared_state, corpus)
    try:
        for edition, sock in zip(chosen, sockets, strict=True):
            app = make_app(corpus, edition, state=shared_state, **app_options)
            server = make_server(host, sock.getsockname()[1], app, threaded=True,
                                 request_handler=_QuietHandler, fd=sock.fileno())
            sock.close()
            running._servers.append(server)
            thread = threading.Thread(target=server.serve_forever,
                                      kwargs={"poll_interval": 0.1},
                                      name=f"replica-{edition}", daemon=True)
            thread.start()
            running._threads.append(thread)
            running.urls[edition] = f"http://{host}:{server.server_address[1]}"
            running.apps[edition] = app
    except BaseException:
        for sock in sockets:
            sock.close()
        running.stop()
        raise
    for app in running.apps.values():
        app.edition_urls = dict(running.urls)  # the edition selector every page shows
    return running
