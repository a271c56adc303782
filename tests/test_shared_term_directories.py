"""A segment's term directories are read once per process, shared by every thread's readers.

Each thread of a web worker searches with its own Whoosh searcher, whose segment readers each
open the segment's term dictionary (``indexer.term_dictionary``); a field's directory never
changes once read, so the readers of one file share one copy (``docs/operations.md``, the
million-article section: some 65-85 MB a thread at a million articles before), and it goes
with the last reader of the file: a worker living through many builds does not keep theirs.
"""

from __future__ import annotations

import gc
import threading
import weakref
from pathlib import Path
from typing import Any

import pytest
from web_archive import BuiltArchive, build_archive
from whoosh.searching import Searcher

from indexer.location import current_build, open_build
from indexer.search import SearchService
from indexer.term_dictionary import DictionaryReader
from indexer.update import update_index
from indexer.whoosh_format import read_term_directories

THREADS = 4
WAIT_SECONDS = 60.0


@pytest.fixture(scope="module")
def built(tmp_path_factory: pytest.TempPathFactory) -> BuiltArchive:
    return build_archive(tmp_path_factory.mktemp("shared-directories"), 40)


def dictionaries(searcher: Searcher) -> list[DictionaryReader]:
    """The term dictionary of each segment SEARCHER reads, in segment order."""
    found = [leaf._terms._dictionary for leaf, _ in searcher.reader().leaf_readers()]
    assert found and all(isinstance(d, DictionaryReader) for d in found)
    return found


def sections(dictionary: DictionaryReader) -> dict[str, Any]:
    """The field directories DICTIONARY has read (or shares), by field."""
    return {name: dictionary._sections.get(name) for name in dictionary.field_names()}


def test_a_second_reader_of_a_segment_uses_the_directories_the_first_read(
        built: BuiltArchive) -> None:
    index = open_build(current_build(built.data_dir / "index"))
    with index.searcher() as first, index.searcher() as second:
        read_term_directories(first)
        for mine, theirs in zip(dictionaries(first), dictionaries(second), strict=True):
            assert mine is not theirs
            read = sections(mine)
            assert read and all(section is not None for section in read.values())
            # Nothing left for the second reader to read: the very same objects.
            assert all(sections(theirs)[name] is section for name, section in read.items())
            assert theirs.get("title", b"zzzz-absent") is None


def test_threads_reading_a_segment_s_directories_at_once_keep_one_whole_copy(
        built: BuiltArchive) -> None:
    index = open_build(current_build(built.data_dir / "index"))
    searchers = [index.searcher() for _ in range(THREADS)]
    start = threading.Barrier(THREADS, timeout=WAIT_SECONDS)
    errors: list[BaseException] = []

    def read(searcher: Searcher) -> None:
        try:
            start.wait()
            read_term_directories(searcher)
        except BaseException as exc:  # noqa: BLE001 - reported by the assertion below
            errors.append(exc)

    try:
        threads = [threading.Thread(target=read, args=(s,)) for s in searchers]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join(WAIT_SECONDS)
        assert not errors and not any(thread.is_alive() for thread in threads)
        per_segment = zip(*(dictionaries(s) for s in searchers), strict=True)
        for readers in per_segment:
            kept = [sections(reader) for reader in readers]
            assert all(section is not None for section in kept[0].values())
            assert all(other[name] is section
                       for other in kept[1:] for name, section in kept[0].items())
        # Every reader finds the terms through them as its own reader would.
        with index.searcher() as alone:
            words = list(alone.reader().lexicon("body"))[::7]
            expected = [[d.get("body", w) for w in words] for d in dictionaries(alone)]
        for searcher in searchers:
            assert [[d.get("body", w) for w in words]
                    for d in dictionaries(searcher)] == expected
        assert words and all(value is not None for per in expected for value in per[:1])
    finally:
        for searcher in searchers:
            searcher.close()


def test_a_replaced_build_s_directories_are_freed_once_no_thread_searches_it(
        tmp_path: Path) -> None:
    archive = build_archive(tmp_path, 20)
    index_dir = archive.data_dir / "index"
    service = SearchService.over_archive(index_dir, archive.data_dir / "archive.sqlite3",
                                         check_seconds=0)
    try:
        service.prepare()
        searcher, _ = service._generations.acquire()
        kept = [weakref.ref(d._shared) for d in dictionaries(searcher)]
        del searcher
        assert service.search("marché").total
        # Two full rebuilds: the first build is pruned, and every search reads the newest.
        for _ in range(2):
            update_index(archive.data_dir / "archive.sqlite3", index_dir, full=True)
            assert service.search("marché").total
        gc.collect()
        assert not any(ref() is not None for ref in kept)
        searcher, _ = service._generations.acquire()
        assert all(d._shared is not None for d in dictionaries(searcher))
    finally:
        service.close()
