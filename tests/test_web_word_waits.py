"""Searches that wait for a new generation's word table never hold every thread of a worker.

An API search asking for the associated words (``mots=1``) waits while the live generation's
word table is read (seconds on a large index, minutes on a starved machine). Without a bound,
a handful of such requests held every thread of a gunicorn worker, and health probes and every
page waited with them: the worker answered nothing until the table was read. Each worker now
lets ``word_table_waits(threads)`` of them wait and answers any other at once with a 503.
The word table's read is held back here on an event, with real threads on a real index.
"""

from __future__ import annotations

import json
import threading
from collections.abc import Callable, Iterator
from contextlib import AbstractContextManager, contextmanager
from typing import Any

import pytest
from flask import Flask
from web_archive import BuiltArchive, build_archive

import indexer.generations
from archive.web import create_app
from archive.web.limits import word_table_waits

WAIT_SECONDS = 60.0
WORD_SEARCH = "/api/search?q=march%C3%A9&mots=1"


@pytest.fixture(scope="module")
def built(tmp_path_factory: pytest.TempPathFactory) -> BuiltArchive:
    return build_archive(tmp_path_factory.mktemp("word-waits"), 30)


@pytest.fixture
def app(built: BuiltArchive) -> Iterator[Flask]:
    # A new application: a new search service, whose generation has no word table read yet.
    application = create_app({"DATA_DIR": built.data_dir, "TESTING": True})
    yield application
    application.extensions["archive"].close()


@pytest.fixture
def held_table(monkeypatch: pytest.MonkeyPatch) -> Iterator[threading.Event]:
    """Hold every read of a word table until the returned event is set (set at the end)."""
    release = threading.Event()
    read = indexer.generations.load_word_table

    def held(*args: Any, **kwargs: Any) -> Any:
        release.wait(WAIT_SECONDS)
        return read(*args, **kwargs)

    monkeypatch.setattr(indexer.generations, "load_word_table", held)
    yield release
    release.set()


def counted_slots(app: Flask, monkeypatch: pytest.MonkeyPatch) -> threading.Semaphore:
    """Return a semaphore released each time a request takes a word-table slot of APP."""
    entered = threading.Semaphore(0)
    waits = app.extensions["archive"].word_waits
    slot: Callable[[], AbstractContextManager[None]] = waits.slot

    @contextmanager
    def counted() -> Iterator[None]:
        with slot():
            entered.release()
            yield

    monkeypatch.setattr(waits, "slot", counted)
    return entered


def ask(app: Flask, path: str, answers: list[tuple[int, dict[str, str], bytes]]) -> None:
    """Send PATH through a test client of its own and keep the answer in ANSWERS."""
    response = app.test_client().get(path)
    answers.append((response.status_code, dict(response.headers), response.get_data()))


def test_searches_waiting_for_the_word_table_leave_a_worker_answering(
        app: Flask, held_table: threading.Event, monkeypatch: pytest.MonkeyPatch) -> None:
    settings = app.extensions["archive"].settings
    slots = word_table_waits(settings.web_threads)
    assert 1 <= slots < settings.web_threads
    entered = counted_slots(app, monkeypatch)
    waiting: list[tuple[int, dict[str, str], bytes]] = []
    waiters = [threading.Thread(target=ask, args=(app, WORD_SEARCH, waiting))
               for _ in range(slots)]
    for waiter in waiters:
        waiter.start()
    for _ in range(slots):
        assert entered.acquire(timeout=WAIT_SECONDS), "a search never took its slot"

    # Every slot is held by a search waiting for the table: one more is turned away at once
    # (it would otherwise wait with them), and the worker answers everything else meanwhile.
    turned: list[tuple[int, dict[str, str], bytes]] = []
    others: list[tuple[int, dict[str, str], bytes]] = []
    late = threading.Thread(target=ask, args=(app, WORD_SEARCH, turned))
    probes = [threading.Thread(target=ask, args=(app, path, others))
              for path in ("/healthz", "/recherche?q=march%C3%A9", "/api/search?q=march%C3%A9")]
    for thread in (late, *probes):
        thread.start()
    for thread in (late, *probes):
        thread.join(timeout=WAIT_SECONDS)
        assert not thread.is_alive(), "a request waited for the word table"
    assert not held_table.is_set() and all(waiter.is_alive() for waiter in waiters)
    [(status, headers, body)] = turned
    assert status == 503
    assert int(headers["Retry-After"]) <= 10
    assert "Les mots associés de l'index sont en cours de lecture" in body.decode()
    assert sorted(status for status, _, _ in others) == [200, 200, 200]

    held_table.set()
    for waiter in waiters:
        waiter.join(timeout=WAIT_SECONDS)
        assert not waiter.is_alive()
    assert [status for status, _, _ in waiting] == [200] * slots
    assert all(json.loads(body)["associated"] for _, _, body in waiting)


def test_searches_asking_for_words_take_no_slot_once_the_table_is_read(
        app: Flask, built: BuiltArchive) -> None:
    client = app.test_client()
    assert client.get(WORD_SEARCH).status_code == 200  # reads the table, waiting for it
    waits = app.extensions["archive"].word_waits
    held = [waits.slot() for _ in range(waits.slots)]
    for slot in held:
        slot.__enter__()
    try:
        answer = client.get("/api/search?q=sandaga&mots=1")
    finally:
        for slot in held:
            slot.__exit__(None, None, None)
    assert answer.status_code == 200
    assert "associated" in answer.get_json()


def test_a_worker_lets_half_its_threads_wait_for_the_word_table() -> None:
    assert [word_table_waits(threads) for threads in (1, 2, 3, 4, 8)] == [1, 1, 1, 2, 4]
