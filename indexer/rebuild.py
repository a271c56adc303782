"""Write every article of the archive into a new, empty index: the fast path of full rebuilds.

The archive's ids are split into one contiguous range per writer process. Each process (forked;
the work is inline when there is one) reads its articles from SQLite itself, turns them into
documents and writes them with the bulk writer (``indexer.bulk``), starting a new segment when
its buffered postings pass the memory limit. The parent only waits, shows progress and commits
one TOC listing every segment, as Whoosh's own multi-segment writer does, but without pickling
each document from the parent to the workers and without Whoosh's posting pool.

Anything that goes wrong in a writer (a document Whoosh refuses, an error inside Whoosh, a
process that dies) raises ``BuildFailed``, whether the writer is forked or runs inline: the
caller then builds again its careful way, batch by batch.
"""

from __future__ import annotations

import multiprocessing
import os
import traceback
from collections.abc import Callable
from dataclasses import dataclass, field
from multiprocessing.connection import Connection, wait
from pathlib import Path
from typing import TYPE_CHECKING, Any

from archive.errors import InvalidInput
from archive.store import Archive
from indexer.associated import FIELD as WORDS_FIELD
from indexer.associated import write_postings_words
from indexer.bulk import BulkSegmentWriter
from indexer.documents import with_earlier_versions
from indexer.interrupts import allow_interrupts, interrupts_held
from indexer.whoosh_format import commit_segments

if TYPE_CHECKING:
    from whoosh.index import Index

    from archive.store import StoredArticle

__all__ = ["BuildFailed", "Written", "write_archive"]

Progress = Callable[[int, int], None]
MakeDocument = Callable[["StoredArticle"], dict[str, Any]]

# A writer adds its articles this many at a time (their texts analysed together), then reports
# how far it got and checks its memory.
PROGRESS_EVERY = 500
# How long the parent waits for a message before checking that its writers still live.
POLL_SECONDS = 1.0


class BuildFailed(Exception):
    """A writer refused a document or died: the build must be redone another way."""


@dataclass
class Written:
    """What the writers wrote: documents, withdrawn ones, and the articles left out."""

    documents: int = 0
    withdrawn: int = 0
    invalid: list[str] = field(default_factory=list)
    segments: list[Any] = field(default_factory=list)

    def add(self, other: Written) -> None:
        """Count OTHER's work in this one."""
        self.documents += other.documents
        self.withdrawn += other.withdrawn
        self.invalid.extend(other.invalid)
        self.segments.extend(other.segments)


def write_archive(ix: Index, database_path: Path, *, processes: int, limit_bytes: int,
                  make_document: MakeDocument, codec: Callable[[], Any],
                  progress: Progress | None = None) -> Written:
    """Write every article of the archive at DATABASE_PATH into the empty index IX, committed.

    PROCESSES writers (forked when more than one) each take a range of ids; a writer starts a
    new segment when its postings pass LIMIT_BYTES. Raise BuildFailed if a writer fails.
    """
    with Archive.open(database_path, readonly=True) as archive:
        total = archive.reads.stats().articles
        ranges = archive.reads.id_ranges(max(1, processes))
    written = Written()
    if len(ranges) <= 1:
        for first, last in ranges:
            written.add(_write_inline(ix, database_path, first, last, limit_bytes,
                                      make_document, codec,
                                      lambda done: _report(progress, done, total)))
    else:
        written = _write_in_processes(ix, database_path, ranges, limit_bytes, make_document,
                                      codec, progress, total)
    commit_segments(ix, written.segments)
    _report(progress, total, total)
    return written


def _report(progress: Progress | None, done: int, total: int) -> None:
    if progress is not None:
        progress(min(done, total), total)


def _write_inline(ix: Index, database_path: Path, first: int, last: int, limit_bytes: int,
                  make_document: MakeDocument, codec: Callable[[], Any],
                  progress: Callable[[int], None]) -> Written:
    """Write the range in this process, failing as a forked writer does (BuildFailed)."""
    try:
        return _write_range(ix, database_path, first, last, limit_bytes, make_document, codec,
                            progress)
    except BuildFailed:
        raise
    except Exception as exc:  # noqa: BLE001 - as a forked writer's failure: the build is redone
        raise BuildFailed(_failure(first, last, exc)) from exc


def _failure(first: int, last: int, exc: BaseException) -> str:
    """Return how a writer of ids FIRST..LAST failed, in one line."""
    detail = traceback.format_exception_only(type(exc), exc)[-1].strip()
    return f"writer for ids {first}-{last}: {detail}"


def _write_range(ix: Index, database_path: Path, first: int, last: int, limit_bytes: int,
                 make_document: MakeDocument, codec: Callable[[], Any],
                 progress: Callable[[int], None]) -> Written:
    """Write the articles with ids FIRST..LAST into new segments of IX (not committed)."""
    written = Written()
    writer = _writer(ix, codec)
    documents: list[dict[str, Any]] = []
    try:
        with Archive.open(database_path, readonly=True) as archive:
            for done, article in enumerate(archive.reads.iter_articles(first, last), start=1):
                if not article.hidden:  # withdrawn from the public on request: never indexed
                    try:
                        documents.append(with_earlier_versions(make_document(article), article,
                                                               archive))
                    except InvalidInput as exc:
                        written.invalid.append(exc.message)
                if done % PROGRESS_EVERY == 0:
                    _add(writer, documents, written)
                    progress(done)
                    if writer.buffered_bytes() > limit_bytes:
                        written.segments.append(writer.finish_segment())
                        writer = _writer(ix, codec)
        _add(writer, documents, written)
        if writer.doc_count():
            written.segments.append(writer.finish_segment())
        else:
            writer.cancel()
    except BaseException:
        if not writer.is_closed:
            writer.cancel()
        raise
    return written


def _add(writer: BulkSegmentWriter, documents: list[dict[str, Any]], written: Written) -> None:
    """Add DOCUMENTS to WRITER at once and count them in WRITTEN; the list is emptied."""
    added = writer.docnum
    try:
        writer.add_documents(documents)
    except OSError:
        raise
    except Exception as exc:
        refused = documents[min(writer.docnum - added, len(documents) - 1)]
        raise BuildFailed(f"article {refused.get('id')}: {type(exc).__name__}: {exc}") from exc
    written.documents += len(documents)
    written.withdrawn += sum(bool(document.get("withdrawn")) for document in documents)
    documents.clear()


def _write_in_processes(ix: Index, database_path: Path, ranges: list[tuple[int, int]],
                        limit_bytes: int, make_document: MakeDocument,
                        codec: Callable[[], Any], progress: Progress | None,
                        total: int) -> Written:
    context = multiprocessing.get_context("fork")
    workers: list[tuple[Any, Connection]] = []
    try:
        for first, last in ranges:
            reader, sender = context.Pipe(duplex=False)
            process = context.Process(
                target=_writer_process, name=f"index-writer-{first}-{last}",
                args=(ix, database_path, first, last, limit_bytes, make_document, codec, sender))
            # A Ctrl-C during the fork hooks would be dropped (indexer/interrupts.py).
            with interrupts_held():
                process.start()
                workers.append((process, reader))
            sender.close()
        return _collect(workers, progress, total)
    finally:
        for process, reader in workers:
            if process.is_alive():
                process.kill()
            process.join()
            reader.close()


def _collect(workers: list[tuple[Any, Connection]], progress: Progress | None,
             total: int) -> Written:
    """Read the writers' messages until each has sent its result; raise BuildFailed if not.

    The segments are listed in the order of the id ranges, whichever writer ends first, so
    that documents are numbered in id order as a one-process build numbers them.
    """
    results: dict[Connection, Written] = {}
    done = {reader: 0 for _, reader in workers}
    pending = {reader: process for process, reader in workers}
    while pending:
        for reader in wait(list(pending), timeout=POLL_SECONDS):
            assert isinstance(reader, Connection)
            try:
                kind, payload = reader.recv()
            except EOFError:
                process = pending[reader]
                process.join(timeout=5)
                raise BuildFailed(f"un processus d'écriture s'est arrêté (code {process.exitcode})"
                                  ) from None
            if kind == "progress":
                done[reader] = payload
                _report(progress, sum(done.values()), total)
            elif kind == "done":
                results[reader] = payload
                del pending[reader]
            else:
                raise BuildFailed(payload)
    written = Written()
    for _, reader in workers:
        written.add(results[reader])
    return written


def _writer(ix: Index, codec: Callable[[], Any]) -> BulkSegmentWriter:
    """Return a bulk writer of one segment, which also writes the segment's word file."""
    # Compound (one file per segment, Whoosh's default): a searcher opened through the
    # ``current`` symlink opens a segment's files lazily, so separate files would be looked
    # for in the next build once the symlink is swapped; one file is opened at once.
    return BulkSegmentWriter(ix, _lk=False, codec=codec(),
                             on_postings={WORDS_FIELD: write_postings_words})


def _writer_process(ix: Index, database_path: Path, first: int, last: int, limit_bytes: int,
                    make_document: MakeDocument, codec: Callable[[], Any],
                    sender: Connection) -> None:
    try:
        allow_interrupts()  # forked with SIGINT held: a Ctrl-C meanwhile is raised here
        written = _write_range(ix, database_path, first, last, limit_bytes, make_document,
                               codec, lambda done: sender.send(("progress", done)))
    except BuildFailed as exc:
        sender.send(("failed", str(exc)))
        os._exit(1)
    except BaseException as exc:  # noqa: BLE001 - the parent reports it; this process ends
        try:
            sender.send(("failed", _failure(first, last, exc)))
        finally:
            os._exit(1)
    sender.send(("done", written))
    sender.close()
