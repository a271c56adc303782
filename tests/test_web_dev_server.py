"""The development server (``python -m archive serve``, the in-process browser tests) closes
every answer, even for a client that resets the connection, and says its refusals in French."""

from __future__ import annotations

import socket
import struct
import threading
from collections.abc import Iterable, Iterator
from pathlib import Path
from typing import TYPE_CHECKING

import pytest
from werkzeug.serving import BaseWSGIServer, make_server

from archive.errors import InvalidInput
from archive.web import create_app
from archive.web.devserver import DevelopmentServer

if TYPE_CHECKING:
    from _typeshed.wsgi import StartResponse, WSGIApplication, WSGIEnvironment

CLOSE_SECONDS = 10


class WatchedAnswer:
    """An application's answer that says when the server closed it."""

    def __init__(self, body: Iterable[bytes], closed: threading.Event) -> None:
        self.body = body
        self.closed = closed

    def __iter__(self) -> Iterator[bytes]:
        return iter(self.body)

    def close(self) -> None:
        close = getattr(self.body, "close", None)
        if close is not None:
            close()
        self.closed.set()


def watched(app: WSGIApplication, closed: threading.Event) -> WSGIApplication:
    def application(environ: WSGIEnvironment, start_response: StartResponse) -> WatchedAnswer:
        return WatchedAnswer(app(environ, start_response), closed)

    return application


def fetch_then_reset(port: int, path: str) -> bytes:
    """Ask PATH announcing a body never sent, read the whole answer, then reset the connection.

    The server has answered and is draining the announced body when the reset reaches it: the
    moment werkzeug's own handler gives up without closing the answer.
    """
    with socket.create_connection(("127.0.0.1", port), timeout=CLOSE_SECONDS) as client:
        client.sendall(f"GET {path} HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Length: 100\r\n"
                       "\r\nabc".encode())
        received = b""
        while b"\r\n\r\n" not in received:
            received += client.recv(65536)
        head, _, body = received.partition(b"\r\n\r\n")
        length = next(int(line.split(b":")[1]) for line in head.split(b"\r\n")
                      if line.lower().startswith(b"content-length:"))
        while len(body) < length:
            body += client.recv(65536)
        client.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
    return head


def serve_in_thread(server: BaseWSGIServer) -> Iterator[int]:
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield server.server_port
    finally:
        server.shutdown()
        server.server_close()
        thread.join(timeout=CLOSE_SECONDS)


def test_static_file_is_closed_when_the_client_resets_before_the_server_is_done(
    tmp_path: Path,
) -> None:
    app = create_app({"DATA_DIR": tmp_path})
    closed = threading.Event()
    server = DevelopmentServer("127.0.0.1", 0, watched(app.wsgi_app, closed))
    for port in serve_in_thread(server):
        head = fetch_then_reset(port, "/static/favicon.svg")
        assert head.startswith(b"HTTP/1.1 200"), head
        assert closed.wait(CLOSE_SECONDS), "the favicon's open file was never closed"


def test_werkzeug_handler_alone_leaves_that_answer_open() -> None:
    """Why the development server has its own handler: this fails once werkzeug closes it."""
    closes: list[str] = []

    class Answer(list[bytes]):
        def close(self) -> None:
            closes.append(self[0].decode())

    def app(environ: WSGIEnvironment, start_response: StartResponse) -> Answer:
        start_response("200 OK", [("Content-Length", str(len(environ["PATH_INFO"])))])
        return Answer([environ["PATH_INFO"].encode()])

    # One request at a time: the second is served once the first one's handler has ended.
    server = make_server("127.0.0.1", 0, app, threaded=False)
    for port in serve_in_thread(server):
        fetch_then_reset(port, "/reset")
        with socket.create_connection(("127.0.0.1", port), timeout=CLOSE_SECONDS) as other:
            other.sendall(b"GET /read HTTP/1.1\r\nHost: 127.0.0.1\r\nConnection: close\r\n\r\n")
            while other.recv(65536):
                pass
    assert closes == ["/read"]


def test_a_taken_port_is_refused_in_french(tmp_path: Path) -> None:
    with socket.socket() as taken:
        taken.bind(("127.0.0.1", 0))
        taken.listen()
        port = taken.getsockname()[1]
        with pytest.raises(InvalidInput, match=f"le port {port} de 127.0.0.1 est déjà pris"):
            DevelopmentServer("127.0.0.1", port, create_app({"DATA_DIR": tmp_path}))
