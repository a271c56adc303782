"""A new gunicorn worker prepares what its first search needs before it takes a request.

Cold, a worker's first results page read the index's columns, counted the archive's authors
and compiled the templates (seconds of CPU at 100,000 articles), and its segments' term
directories (the word pairs': some 57 ms at a million articles), with its first readers
waiting; ``archive.web.worker.warm_up`` does that work before the worker takes requests.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest
from flask import Flask
from web_archive import BuiltArchive, build_archive

import indexer.generations
from archive.store.reads import ReadQueries
from archive.web import create_app
from archive.web.worker import warm_up
from indexer.term_dictionary import DictionaryReader

SEARCH = "/recherche?q=march%C3%A9"


@pytest.fixture(scope="module")
def built(tmp_path_factory: pytest.TempPathFactory) -> BuiltArchive:
    return build_archive(tmp_path_factory.mktemp("warm-up"), 20)


@pytest.fixture
def new_app(built: BuiltArchive) -> Iterator[Callable[[], Flask]]:
    """Make applications over BUILT as a new worker loads them; close them at the end."""
    made: list[Flask] = []

    def make() -> Flask:
        made.append(create_app({"DATA_DIR": built.data_dir, "TESTING": True}))
        return made[-1]

    yield make
    for app in made:
        app.extensions["archive"].close()


def first_search_work(app: Flask, monkeypatch: pytest.MonkeyPatch) -> dict[str, int]:
    """Return how often APP's first results page read columns, counted authors, compiled
    a template and read a field's term directory in a segment."""
    counts = {"columns": 0, "authors": 0, "templates": 0, "directories": 0}

    def counting(name: str, function: Callable[..., Any]) -> Callable[..., Any]:
        def counted(*args: Any, **kwargs: Any) -> Any:
            counts[name] += 1
            return function(*args, **kwargs)
        return counted

    monkeypatch.setattr(indexer.generations, "load_columns",
                        counting("columns", indexer.generations.load_columns))
    monkeypatch.setattr(ReadQueries, "authors", counting("authors", ReadQueries.authors))
    monkeypatch.setattr(app.jinja_env, "compile", counting("templates", app.jinja_env.compile))
    section = DictionaryReader._section

    def directory(reader: DictionaryReader, field: str) -> Any:
        counts["directories"] += field not in reader._sections
        return section(reader, field)

    monkeypatch.setattr(DictionaryReader, "_section", directory)
    response = app.test_client().get(SEARCH)
    assert response.status_code == 200
    assert "article" in response.get_data(as_text=True)
    return counts


def test_a_prepared_worker_does_none_of_the_first_search_work_again(
        new_app: Callable[[], Flask], monkeypatch: pytest.MonkeyPatch) -> None:
    prepared = new_app()
    warm_up(prepared)
    assert first_search_work(prepared, monkeypatch) == {
        "columns": 0, "authors": 0, "templates": 0, "directories": 0}


def test_a_cold_worker_does_the_first_search_work_while_its_reader_waits(
        new_app: Callable[[], Flask], monkeypatch: pytest.MonkeyPatch) -> None:
    cold = first_search_work(new_app(), monkeypatch)
    assert cold["columns"] == 1 and cold["authors"] == 1 and cold["templates"] >= 3
    assert cold["directories"] >= 1


def test_a_worker_with_no_archive_or_index_yet_prepares_its_templates(tmp_path: Path) -> None:
    app = create_app({"DATA_DIR": tmp_path / "vide", "TESTING": True})
    try:
        warm_up(app)
        names = app.jinja_env.list_templates()
        assert names and all(app.jinja_env.cache is not None
                             and any(key[1] == name for key in app.jinja_env.cache)
                             for name in names)
        assert app.test_client().get("/healthz").status_code == 503
    finally:
        app.extensions["archive"].close()
