"""Whoosh behaviours the indexer's design relies on or works around (docs/whoosh.md).

These pin the installed distribution (whoosh-reloaded 2.7.5). If one of them fails after an
upgrade or a swap of distribution, re-read docs/whoosh.md and the design in indexer/update.py
before relaxing it.
"""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from datetime import datetime
from pathlib import Path

import pytest
from whoosh import index
from whoosh.fields import DATETIME, ID, TEXT, Schema
from whoosh.index import Index
from whoosh.query import Every, Term

from indexer.location import swap_current


def _plain_index(directory: Path) -> Index:
    directory.mkdir(parents=True, exist_ok=True)
    return index.create_in(str(directory), Schema(id=ID(stored=True, unique=True),
                                                  body=TEXT(stored=True)))


def _add(ix: Index, prefix: str, count: int, **commit: bool) -> None:
    writer = ix.writer()
    for i in range(count):
        writer.add_document(id=f"{prefix}{i}", body="armée")
    writer.commit(**commit)


def test_refreshed_searcher_returns_duplicates_after_a_merge(tmp_path: Path) -> None:
    """So searchers are reopened, never refresh()ed."""
    ix = _plain_index(tmp_path / "ix")
    _add(ix, "a", 10)
    searcher = ix.searcher()
    for batch in "bcd":
        _add(ix, batch, 10)
        searcher = searcher.refresh()
    _add(ix, "e", 10, optimize=True)
    # refresh() shares segment readers with the searcher it came from: close only the last.
    refreshed = searcher.refresh()
    fresh = index.open_dir(str(tmp_path / "ix")).searcher()
    try:
        ids = [fields["id"] for fields in refreshed.all_stored_fields()]
        assert fresh.doc_count() == 50
        assert len(set(ids)) == 50
        assert refreshed.doc_count() == 90
        assert len(refreshed.search(Every(), limit=None)) == 90
    finally:
        refreshed.close()
        fresh.close()
        ix.close()


def test_caught_add_document_failure_corrupts_the_segment(tmp_path: Path) -> None:
    """So documents are validated first, and a writer that saw a failure is cancelled."""
    schema = Schema(id=ID(stored=True, unique=True), body=TEXT(stored=True),
                    published=DATETIME(stored=True, sortable=True))
    ix = index.create_in(str(tmp_path), schema)
    writer = ix.writer()
    failures = 0
    for i in range(10):
        published: object = "oops" if i % 3 == 0 else datetime(2024, 1, 1)
        try:
            writer.add_document(id=f"d{i}", body=f"armée doc{i}", published=published)
        except ValueError:
            failures += 1
    writer.commit()
    with ix.searcher() as searcher:
        unreadable = 0
        for docnum in range(searcher.doc_count_all()):
            try:
                searcher.stored_fields(docnum)
            except Exception:  # noqa: BLE001 - zlib.error today; any failure is the point
                unreadable += 1
        hits = len(searcher.search(Term("body", "armée"), limit=None))
        doc_count = searcher.doc_count()
    ix.close()
    assert failures == 4
    assert doc_count == 6
    assert hits == 7
    assert unreadable == 1


def test_update_document_twice_in_one_writer_keeps_both(tmp_path: Path) -> None:
    """So each batch is de-duplicated by article id before it reaches a writer."""
    ix = _plain_index(tmp_path / "ix")
    with ix.writer() as writer:
        writer.update_document(id="a", body="v1")
        writer.update_document(id="a", body="v2")
    with ix.searcher() as searcher:
        assert sorted(f["body"] for f in searcher.all_stored_fields()) == ["v1", "v2"]
    with ix.writer() as writer:
        writer.update_document(id="a", body="v3")
    with ix.searcher() as searcher:
        assert sorted(f["body"] for f in searcher.all_stored_fields()) == ["v2", "v3"]
    ix.close()


_KILLED_COMMIT = """
import os, signal, sys
from whoosh import index
from whoosh.filedb import filestore
folder, point = sys.argv[1], sys.argv[2]
original = filestore.FileStorage.rename_file
def rename_file(self, old, new, safe=False):
    if new.endswith(".toc") and point == "before-toc-rename":
        os.kill(os.getpid(), signal.SIGKILL)
    original(self, old, new, safe)
    if new.endswith(".toc") and point == "after-toc-rename":
        os.kill(os.getpid(), signal.SIGKILL)
filestore.FileStorage.rename_file = rename_file
writer = index.open_dir(folder).writer()
for i in range(50):
    writer.add_document(id=f"new{i}", body="nouveau")
writer.commit(optimize=True)
"""


def _kill_inside_commit(folder: Path, point: str) -> int:
    proc = subprocess.run([sys.executable, "-c", _KILLED_COMMIT, str(folder), point],
                          capture_output=True, text=True, timeout=60)
    return proc.returncode


@pytest.mark.parametrize(("point", "documents", "generation"),
                         [("before-toc-rename", 30, 3), ("after-toc-rename", 80, 4)])
def test_commit_killed_at_the_toc_rename_leaves_one_whole_generation(
        tmp_path: Path, point: str, documents: int, generation: int) -> None:
    """So a killed run never damages the served index, and the next run just redoes its batch."""
    ix = _plain_index(tmp_path / "ix")
    for batch in "abc":
        _add(ix, batch, 10)
    ix.close()
    assert _kill_inside_commit(tmp_path / "ix", point) == -9
    ix = index.open_dir(str(tmp_path / "ix"))
    with ix.searcher() as searcher:
        ids = [f["id"] for f in searcher.all_stored_fields()]
        assert searcher.doc_count() == documents == len(ids) == len(set(ids))
    assert ix.latest_generation() == generation
    ix.writer(timeout=0).cancel()
    ix.close()


def test_a_commit_killed_before_the_toc_rename_leaves_a_temporary_toc_for_good(
        tmp_path: Path) -> None:
    """So the indexer deletes stray `_MAIN_*.toc.*` files itself."""
    ix = _plain_index(tmp_path / "ix")
    _add(ix, "a", 10)
    ix.close()
    assert _kill_inside_commit(tmp_path / "ix", "before-toc-rename") == -9
    strays = sorted(p.name for p in (tmp_path / "ix").glob("_MAIN_*.toc.*"))
    assert len(strays) == 1
    ix = index.open_dir(str(tmp_path / "ix"))
    _add(ix, "b", 10)
    _add(ix, "c", 10, optimize=True)
    ix.close()
    assert sorted(p.name for p in (tmp_path / "ix").glob("_MAIN_*.toc.*")) == strays


def test_symlink_swap_is_invisible_to_up_to_date(tmp_path: Path) -> None:
    """So readers compare the real path of `current`, and old searchers outlive their build."""
    build_a, build_b = tmp_path / "builds" / "a", tmp_path / "builds" / "b"
    first = _plain_index(build_a)
    _add(first, "a", 5)
    first.close()
    second = _plain_index(build_b)
    _add(second, "b", 7)
    second.close()
    swap_current(tmp_path, build_a)
    ix = index.open_dir(str(tmp_path / "current"))
    old = ix.searcher()
    swap_current(tmp_path, build_b)
    assert os.path.realpath(tmp_path / "current") == str(build_b)
    assert old.up_to_date()
    shutil.rmtree(build_a)
    assert old.doc_count() == 5
    assert len(list(old.all_stored_fields())) == 5
    new = ix.searcher()
    assert new.doc_count() == 7
    new.close()
    old.close()
    ix.close()
