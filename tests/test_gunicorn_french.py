"""gunicorn's own log lines (start-up, workers, refusals, shutdown) are French, like the site."""

from __future__ import annotations

import ast
import os
import signal
import socket
import subprocess
import sys
import threading
from pathlib import Path

import gunicorn
import pytest
from french_text import english_words
from search_fixtures import archive_and_index, article
from web_servers import free_port

from archive.web.gunicorn_french import MESSAGES, WORDS, in_french

ROOT = Path(__file__).resolve().parents[1]
START_SECONDS = 60
# The modules of gunicorn that run with gunicorn.conf.py: the master, its sockets, its control
# socket, the threaded worker and its base, the WSGI response writer.
RUNNING = ("arbiter.py", "sock.py", "ctl/server.py", "workers/base.py", "workers/gthread.py",
           "http/wsgi.py")
SHOWN = {"info", "warning", "error", "critical", "exception", "log_func", "log_level"}


def _text(node: ast.expr) -> str | None:
    if isinstance(node, ast.Constant) and isinstance(node.value, str):
        return node.value
    if isinstance(node, ast.BinOp) and isinstance(node.op, ast.Add):
        left, right = _text(node.left), _text(node.right)
        return left + right if left is not None and right is not None else None
    return None


def gunicorn_messages() -> set[str]:
    """Return every message gunicorn's running modules log at INFO and above, as written."""
    found = set()
    for module in RUNNING:
        tree = ast.parse((Path(gunicorn.__file__).parent / module).read_text(encoding="utf-8"))
        for node in ast.walk(tree):
            if isinstance(node, ast.Call) and node.args:
                name = getattr(node.func, "attr", getattr(node.func, "id", None))
                text = _text(node.args[0])
                if name in SHOWN and text is not None:
                    found.add(text)
    return found


def test_every_message_gunicorn_can_log_has_its_french() -> None:
    """A gunicorn release that adds a message fails here until the message has its French."""
    messages = gunicorn_messages()
    assert "Booting worker with pid: %s" in messages  # the scan reads gunicorn's source
    assert messages - set(MESSAGES) == set()
    assert [text for text in MESSAGES.values() if english_words(text)] == []


@pytest.mark.parametrize(("logged", "args", "said"), [
    ("Booting worker with pid: %s", (412,), "démarrage d'un processus web (pid 412)"),
    ("Shutting down: %s", ("Master",), "arrêt : processus maître"),
    ("Reason: %s", ("App failed to load.",), "raison : l'application n'a pas pu être chargée"),
    ("Worker (pid:%s) was sent %s! Perhaps out of memory?", (9, "SIGKILL"),
     "le processus web (pid 9) a reçu le signal SIGKILL : mémoire épuisée ?"),
    ("connection to ('127.0.0.1', 8000) failed: [Errno 98] Address already in use", (),
     "écoute sur ('127.0.0.1', 8000) impossible (adresse déjà utilisée)"),
    ("Invalid request from ip=127.0.0.1: Invalid HTTP Version: (9, 9)", (),
     "requête refusée de 127.0.0.1 (détail technique : Invalid HTTP Version: (9, 9))"),
])
def test_gunicorn_messages_are_said_in_french(logged: str, args: tuple[object, ...],
                                              said: str) -> None:
    message, values = in_french(logged, args)
    assert str(message) % values == said


def test_unknown_message_is_kept_as_gunicorn_wrote_it() -> None:
    assert in_french("Something new: %s", ("x",)) == ("Something new: %s", ("x",))
    assert set(WORDS) >= {"Master", "Worker failed to boot.", "App failed to load."}


def test_gunicorn_run_with_the_repository_settings_logs_in_french(tmp_path: Path) -> None:
    data_dir = tmp_path / "data"
    archive_and_index(data_dir, [article("pluie", "Pluie", "La pluie tombe sur Dakar.")])
    port = free_port()
    env = dict(os.environ, ARCHIVE_DATA_DIR=str(data_dir), HOME=str(tmp_path),
               ARCHIVE_WEB_BIND=f"127.0.0.1:{port}", ARCHIVE_WEB_WORKERS="1")
    server = subprocess.Popen(
        [sys.executable, "-m", "gunicorn", "-c", "gunicorn.conf.py", "wsgi:app"], cwd=ROOT,
        env=env, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True,
        start_new_session=True)
    lines: list[str] = []
    booted = threading.Event()

    def read_log() -> None:
        assert server.stderr is not None
        for line in server.stderr:
            lines.append(line)
            if "démarrage d'un processus web" in line:
                booted.set()
        booted.set()

    reader = threading.Thread(target=read_log, daemon=True)
    reader.start()
    try:
        assert booted.wait(START_SECONDS) and server.poll() is None, "".join(lines)
        with socket.create_connection(("127.0.0.1", port), timeout=START_SECONDS) as client:
            client.sendall(b"garbage\r\n\r\n")  # a request gunicorn itself refuses
            answer = b""
            while chunk := client.recv(65536):
                answer += chunk
        assert answer.startswith(b"HTTP/1.1 400 "), answer[:200]
    finally:
        os.killpg(server.pid, signal.SIGTERM)
        server.wait(timeout=START_SECONDS)
        reader.join(timeout=START_SECONDS)
        if server.stderr is not None:
            server.stderr.close()
    log = "".join(lines)
    assert "[INFO] démarrage de gunicorn " in log, log
    assert f"[INFO] à l'écoute sur http://127.0.0.1:{port} (processus maître " in log, log
    assert "[ATTENTION] requête refusée de 127.0.0.1 : La requête est mal formée" in log, log
    assert "[INFO] arrêt : processus maître" in log, log
    assert "gunicorn.ctl" not in log  # no control socket in the service user's home
    assert english_words(log) == [], log


def test_an_unusable_setting_stops_gunicorn_with_one_french_line(tmp_path: Path) -> None:
    env = dict(os.environ, HOME=str(tmp_path), ARCHIVE_WEB_WORKERS="beaucoup")
    done = subprocess.run(
        [sys.executable, "-m", "gunicorn", "-c", "gunicorn.conf.py", "wsgi:app"], cwd=ROOT,
        env=env, capture_output=True, text=True, timeout=START_SECONDS)
    assert done.returncode == 2, done.stderr
    assert done.stderr.startswith("erreur : ARCHIVE_WEB_WORKERS='beaucoup' n'est pas utilisable")
    assert done.stderr.count("\n") == 1 and "Traceback" not in done.stderr, done.stderr
