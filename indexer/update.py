"""Bring the search index in step with the archive: incremental updates and full rebuilds.

One run at a time holds the index lock (``indexer.lock``). An incremental run follows the
archive's ``change_seq`` cursor from the value recorded in the live build's ``sync.json``, one
batch per commit: each batch is de-duplicated by article id (Whoosh keeps both copies when one
writer updates an id twice), its documents are validated before any writer sees them, and
the bulk writer writes them as a new segment, leaving out a document it refuses, while the
old versions of those written are deleted in the same commit. ``sync.json`` is written after
the commit, so a run killed in between re-applies that batch (idempotently: the copies it
wrote are then the old versions). Once enough small segments accumulate, a second commit
writes their articles again as one segment. A full rebuild goes into a new build directory, is
swapped in atomically through the ``current`` symlink, then catches up with the changes made
while it was built. Withdrawn articles stay indexed, flagged ``withdrawn``; an article hidden on
request (``python -m archive hide``) is deleted from it and never indexed again while hidden.
"""

from __future__ import annotations

import logging
import os
import shutil
import time
from collections.abc import Callable, Iterable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field, replace
from datetime import UTC, datetime
from itertools import islice
from pathlib import Path
from typing import TYPE_CHECKING, Any

from whoosh import index
from whoosh.fields import Schema
from whoosh.index import Index

from archive.errors import IndexUnavailable, IndexUnreadable, InvalidInput, StoreError
from archive.french import count, decimal
from archive.store import Archive
from indexer.agreement import archive_mismatch
from indexer.associated import FIELD as WORDS_FIELD
from indexer.associated import write_missing_words, write_postings_words
from indexer.block_frontiers import write_missing_frontiers
from indexer.build_budget import available_bytes, writer_limit_mb
from indexer.bulk import BulkSegmentWriter
from indexer.copies import update_copies
from indexer.documents import document_for, with_earlier_versions
from indexer.location import (
    SyncState,
    create_build_index,
    current_build,
    new_build_dir,
    open_current,
    open_for_writing,
    prune_builds,
    read_sync,
    remove_stray_files,
    swap_current,
    write_sync,
)
from indexer.lock import IndexLock
from indexer.rebuild import BuildFailed, write_archive
from indexer.schema import SCHEMA_VERSION, build_schema
from indexer.text_postings import frequent_text_words
from indexer.whoosh_format import ArchiveCodec

if TYPE_CHECKING:
    from archive.store import StoredArticle

__all__ = ["IndexReport", "open_current", "update_index"]

log = logging.getLogger(__name__)

Progress = Callable[[int, int], None]

BATCH_SIZE = 1000
# Word pairs are indexed for the words found in at least this share of a sample of the
# articles, taken when a full build starts: a phrase with a rarer word is checked by positions
# on at most that share of the index. At 100,000 articles, 5% / 2% / 1% gave phrase p95 77 / 60 /
# 51 ms for an index of 813 / 1,149 / 1,451 MB (docs/architecture.md, "Phrases and word pairs").
PAIR_WORD_SHARE = 0.02
# The same for the exact-form words of quotations (small words included).
EXACT_PAIR_WORD_SHARE = 0.2
PAIR_SAMPLE = 2000
# Per writer of incremental runs: Whoosh sorts postings in memory and spills a run to disk past
# this, then merges the runs in Python.
LIMIT_MB = 256
# Posting lists shorter than this live in their term's entry instead of a zlib-compressed block
# of their own: most word pairs, and many words, occur in one or two articles only.
INLINE_POSTINGS = 3
# Below this many articles, starting writer processes costs more than it saves.
PARALLEL_MIN_ARTICLES = 2000
# An incremental batch is committed as a segment of its own, merging nothing (Whoosh's default
# merge of small segments made one run in about eight take 45 s at 100,000 articles). Each
# small segment (fewer than SMALL_SEGMENT_DOCS documents, or than SMALL_SEGMENT_SHARE of the
# index if more) costs every query a look-up per term, so a second commit of the same run folds
# them: writes their articles again, from the archive, as one segment with the bulk writer.
# Folding costs about 0.3 s plus 3 ms an article at 100,000 articles, so the small segments are
# kept in tiers: a segment's tier is how many times FOLD_FACTOR fits between FOLD_DOCS and its
# documents, and a tier holding two segments is folded with every tier below it. Each run's
# segment is folded into the previous one until that holds FOLD_DOCS; two of those are folded,
# and so on: one small segment a tier at most, and each article written again a few times.
# An index whose segments are all small folds them once MERGE_SMALL_SEGMENTS exist.
SMALL_SEGMENT_DOCS = 2000
SMALL_SEGMENT_SHARE = 0.02
FOLD_DOCS = 500
FOLD_FACTOR = 5
MERGE_SMALL_SEGMENTS = 10
# Superseded builds are kept this long (the latest one always), for readers still on them.
STRAY_FILE_AGE_SECONDS = 3600.0
WRITER_TIMEOUT_SECONDS = 10.0
MAX_REPORTED_INVALID = 20


@dataclass(frozen=True)
class IndexReport:
    """What one indexing run did."""

    added: int
    updated: int
    flagged: int
    skipped_invalid: int
    change_seq: int
    build: str
    seconds: float
    full: bool
    documents: int = 0
    optimized: bool = False
    invalid: tuple[str, ...] = ()
    hidden: int = 0
    rebuilt_because: tuple[str, ...] = ()
    """Why the live build was rebuilt in full (unreadable, or built from another archive)."""

    @property
    def removed(self) -> int:
        """Withdrawn articles flagged in the index (they are never deleted from it)."""
        return self.flagged

    def summary(self) -> str:
        """Return the one-line summary printed by ``python -m archive index``."""
        kind = "reconstruction complète : " if self.full else ""
        if self.rebuilt_because:
            kind = f"reconstruction complète ({' ; '.join(self.rebuilt_because)}) : "
        optimized = ", optimisé" if self.optimized else ""
        hidden = f", {count(self.hidden, 'masqué')} sur demande" if self.hidden else ""
        return (f"index : {kind}{count(self.added, 'ajouté')}, "
                f"{count(self.updated, 'mis à jour', 'mis à jour')}, "
                f"{count(self.flagged, 'marqué retiré', 'marqués retirés')}, "
                f"{count(self.skipped_invalid, 'invalide ignoré', 'invalides ignorés')} en "
                f"{decimal(self.seconds)} s ; construction {self.build} ; "
                f"changement n° {self.change_seq} ; "
                f"{count(self.documents, 'document')}{hidden}{optimized}")


@dataclass
class _Counts:
    added: int = 0
    updated: int = 0
    flagged: int = 0
    hidden: int = 0
    invalid: list[str] = field(default_factory=list)

    def skip(self, message: str) -> None:
        log.warning("non indexé : %s", message)
        self.invalid.append(message)


class _Reasons(_Counts):
    """Counts whose skips are only noted: an article skipped by a fold stays indexed."""

    def skip(self, message: str) -> None:
        self.invalid.append(message)


def update_index(database_path: Path, index_dir: Path, *, full: bool = False,
                 optimize: bool = False, progress: Progress | None = None,
                 build_mb: int | None = None, copies: bool = True) -> IndexReport:
    """Bring the index under INDEX_DIR in step with the archive; raise IndexLocked if busy.

    A full rebuild's writer processes each start a new segment past BUILD_MB of postings
    (None: as the free memory allows, ``indexer.build_budget``).
    With COPIES, the copies index (``indexer.copies``) is brought in step too, under the
    same lock (in full when the index was rebuilt).
    """
    started = time.monotonic()
    if not database_path.exists():
        raise StoreError(f"aucune archive dans {database_path} : lancez d'abord "
                         "`python -m archive crawl URL`",
                         path=str(database_path))
    with IndexLock(index_dir):
        prune_builds(index_dir)
        with Archive.open(database_path, readonly=True) as archive:
            counts = _Counts()
            reasons: list[str] = []
            live = None if full else _live_build(index_dir, archive, reasons)
            try:
                build, state, documents = _update(archive, index_dir, live, counts, progress,
                                                  build_mb, optimize)
            except IndexUnreadable as exc:
                if live is None:
                    raise
                # Damage that only showed once the incremental update read the index.
                log.warning("reconstruction complète : %s", exc.message)
                reasons.append(exc.message)
                live, counts = None, _Counts()
                build, state, documents = _update(archive, index_dir, None, counts, progress,
                                                  build_mb, optimize)
            rebuild = live is None
        if rebuild:
            prune_builds(index_dir)
        if copies:
            update_copies(database_path, index_dir, full=rebuild)
    return IndexReport(
        added=counts.added, updated=counts.updated, flagged=counts.flagged,
        skipped_invalid=len(counts.invalid), change_seq=state.change_seq, build=build.name,
        seconds=time.monotonic() - started, full=rebuild, documents=documents,
        optimized=optimize, invalid=tuple(counts.invalid[:MAX_REPORTED_INVALID]),
        hidden=counts.hidden, rebuilt_because=tuple(reasons),
    )


def _update(archive: Archive, index_dir: Path, live: tuple[Path, SyncState, Index] | None,
            counts: _Counts, progress: Progress | None, build_mb: int | None,
            optimize: bool) -> tuple[Path, SyncState, int]:
    """Apply the archive's changes to LIVE (or to a new full build); return the build's state."""
    if live is None:
        build, state = _full_build(archive, index_dir, counts, progress, build_mb)
        ix = open_for_writing(build)
    else:
        build, state, ix = live
    remove_stray_files(build, older_than=STRAY_FILE_AGE_SECONDS)
    try:
        state = _apply_changes(ix, archive, build, state, counts, progress)
        if not optimize:
            _merge_small_segments(ix, archive)
        if optimize:
            ix.optimize()
            state = replace(state, updated_at=_now())
            write_sync(build, state)
        write_missing_words(ix)
        write_missing_frontiers(ix)
        return build, state, ix.doc_count()
    finally:
        ix.close()


def _live_build(index_dir: Path, archive: Archive,
                reasons: list[str]) -> tuple[Path, SyncState, Index] | None:
    """Return the live build, its sync state and its open index; None if it must be rebuilt.

    The reason for a rebuild other than a first build is appended to REASONS.
    """
    build = current_build(index_dir)
    state = read_sync(build) if build is not None else None
    if build is None or state is None or state.schema_version != SCHEMA_VERSION:
        return None
    mismatch = archive_mismatch(archive.reads, state)
    if mismatch is not None:
        reasons.append(mismatch)
        log.warning("reconstruction complète : %s", mismatch)
        return None
    try:
        ix = open_for_writing(build)
    except (OSError, index.EmptyIndexError) as exc:
        reasons.append(f"la construction en service {build.name} ne s'ouvre pas ({exc})")
        log.warning("la construction en service %s ne s'ouvre pas (%s) : reconstruction",
                    build.name, exc)
        return None
    except Exception as exc:  # noqa: BLE001 - Whoosh reports damaged files with many types
        reasons.append(f"la construction en service {build.name} est illisible ({_described(exc)})")
        return None
    try:
        with ix.reader() as reader:  # opens every segment's files
            reader.doc_count_all()
    except Exception as exc:  # noqa: BLE001 - as above
        ix.close()
        reasons.append(f"la construction en service {build.name} est illisible ({_described(exc)})")
        return None
    return build, state, ix


def _described(exc: BaseException) -> str:
    text = "".join(c if c.isprintable() else "?" for c in str(exc))[:120]
    return f"{type(exc).__name__}: {text}" if text else type(exc).__name__


def _full_build(archive: Archive, index_dir: Path, counts: _Counts,
                progress: Progress | None, build_mb: int | None) -> tuple[Path, SyncState]:
    # The cursor is read before the articles: whatever changes meanwhile has a later
    # change_seq and is applied again by the catch-up that follows the swap.
    change_seq = archive.reads.max_change_seq()
    total = archive.reads.stats().articles
    procs = _writer_processes(total)
    if build_mb is None:
        build_mb = writer_limit_mb(procs, available_bytes())
    log.info("reconstruction : %d processus d'écriture, %d Mo de postings chacun par segment",
             procs, build_mb)
    schema = build_schema(*_pair_words(archive, total))
    build = new_build_dir(index_dir)
    try:
        try:
            _fill_fast(build, schema, archive.path, procs, counts, progress, build_mb)
        except BuildFailed as exc:
            log.warning("la construction rapide a échoué (%s) ; reprise lot par lot", exc)
            shutil.rmtree(build, ignore_errors=True)
            build = new_build_dir(index_dir)
            fresh = _Counts()
            _fill_careful(build, schema, archive.reads.iter_articles(), fresh, progress, total,
                          archive)
            counts.added, counts.flagged, counts.invalid = (fresh.added, fresh.flagged,
                                                            fresh.invalid)
        # Before the swap: the first searches of the build find every segment's frontiers.
        built = open_for_writing(build)
        try:
            write_missing_frontiers(built)
        finally:
            built.close()
        now = _now()
        state = SyncState(change_seq=change_seq, schema_version=SCHEMA_VERSION, built_at=now,
                          updated_at=now, archive=archive.reads.fingerprint(change_seq))
        write_sync(build, state)
    except OSError as exc:
        shutil.rmtree(build, ignore_errors=True)
        raise IndexUnavailable(f"impossible d'écrire la nouvelle construction {build} : {exc}",
                               path=str(build)) from exc
    except BaseException:
        shutil.rmtree(build, ignore_errors=True)
        raise
    swap_current(index_dir, build)
    return build, state


def _pair_words(archive: Archive, total: int) -> tuple[frozenset[str], frozenset[str]]:
    """Return the words (stemmed, exact) frequent enough for their pairs to be indexed."""
    step = max(1, total // PAIR_SAMPLE)
    sample = list(archive.reads.articles(list(range(1, total + 1, step))).values())
    if len(sample) < min(total, PAIR_SAMPLE) // 2:  # ids far from 1..total: take the first ones
        sample = list(islice(archive.reads.iter_articles(), PAIR_SAMPLE))
    bodies = [article.body or "" for article in sample]
    return frequent_text_words(bodies, PAIR_WORD_SHARE, EXACT_PAIR_WORD_SHARE)


def _fill_fast(build: Path, schema: Schema, database_path: Path, procs: int, counts: _Counts,
               progress: Progress | None, build_mb: int) -> None:
    """Write every article with the bulk writer (several processes if worth it), one commit."""
    ix = create_build_index(build, schema)
    try:
        written = write_archive(ix, database_path, processes=procs,
                                limit_bytes=build_mb * 1024 * 1024,
                                make_document=document_for, codec=_codec, progress=progress)
        if ix.doc_count() != written.documents:
            raise BuildFailed(
                f"{written.documents} documents écrits mais {ix.doc_count()} dans l'index")
    finally:
        ix.close()
    for message in written.invalid:
        counts.skip(message)
    counts.flagged += written.withdrawn
    counts.added += written.documents - written.withdrawn


def _fill_careful(build: Path, schema: Schema, articles: Iterable[StoredArticle],
                  counts: _Counts, progress: Progress | None, total: int,
                  archive: Archive) -> None:
    """Write the articles batch by batch, each batch redone without a document Whoosh refuses."""
    ix = create_build_index(build, schema)
    try:
        done = 0
        batch: dict[str, dict[str, Any]] = {}
        for document in _documents(articles, counts, archive):
            batch[document["id"]] = document
            if len(batch) >= BATCH_SIZE:
                done += _write_new(ix, list(batch.values()), counts)
                batch = {}
                if progress is not None:
                    progress(done, total)
        if batch:
            _write_new(ix, list(batch.values()), counts)
    finally:
        ix.close()


def _write_new(ix: Index, documents: list[dict[str, Any]], counts: _Counts) -> int:
    # A new build: ids come once each from the archive, so no document is replaced.
    refused = _write_batch(ix, documents)
    refused_ids = {document["id"] for document, _ in refused}
    for document, reason in refused:
        counts.skip(f"article {document['id']}: {reason}")
    for document in documents:
        if document["id"] not in refused_ids:
            _count_new(document, counts)
    return len(documents)


def _apply_changes(ix: Index, archive: Archive, build: Path, state: SyncState, counts: _Counts,
                   progress: Progress | None) -> SyncState:
    """Apply every archive change after STATE's change_seq, one committed batch at a time."""
    first = state.change_seq
    last = archive.reads.max_change_seq()
    while True:
        changes = archive.reads.changes_since(state.change_seq, limit=BATCH_SIZE)
        if not changes:
            break
        reached = max(article.change_seq for article in changes)
        if reached <= state.change_seq:
            raise StoreError(f"le change_seq de l'archive a reculé ({reached} après "
                             f"{state.change_seq}) : vérifiez le sync.json de {build.name}")
        latest: dict[int, StoredArticle] = {}
        for article in changes:
            previous = latest.get(article.id)
            if previous is None or article.change_seq >= previous.change_seq:
                latest[article.id] = article
        hidden = [str(article.id) for article in latest.values() if article.hidden]
        if hidden:
            counts.hidden += _delete(ix, hidden)
        documents = list(_documents(latest.values(), counts, archive))
        if documents:
            known = _known_ids(ix, build, documents)
            refused = _write_changes(ix, documents)
            refused_ids = {document["id"] for document, _ in refused}
            for document, reason in refused:
                counts.skip(f"article {document['id']}: {reason}")
            for document in documents:
                if document["id"] in refused_ids:
                    continue
                if document["withdrawn"]:
                    counts.flagged += 1
                elif document["id"] in known:
                    counts.updated += 1
                else:
                    counts.added += 1
        state = replace(state, change_seq=reached, updated_at=_now())
        write_sync(build, state)
        if progress is not None:
            progress(min(reached, last) - first, max(last - first, 1))
    fingerprint = archive.reads.fingerprint(state.change_seq)
    if state.archive != fingerprint:
        state = replace(state, archive=fingerprint)
        write_sync(build, state)
    return state


def _known_ids(ix: Index, build: Path, documents: list[dict[str, Any]]) -> set[str]:
    """Return the ids of DOCUMENTS already in the index; IndexUnreadable if it cannot tell."""
    try:
        with ix.searcher() as searcher:
            return {d["id"] for d in documents
                    if searcher.document_number(id=d["id"]) is not None}
    except Exception as exc:  # noqa: BLE001 - Whoosh reports damage with many types
        raise IndexUnreadable(
            f"la construction en service {build.name} est illisible ({_described(exc)})",
            path=str(build)) from exc


def _write_batch(ix: Index, documents: list[dict[str, Any]]) -> list[tuple[dict[str, Any], str]]:
    """Commit new DOCUMENTS in one Whoosh writer; return those Whoosh refused, with the reason.

    The careful path of a full build, after the bulk writer failed.

    A refused document is never left in a writer: that writer is cancelled (a caught
    ``add_document`` failure corrupts the segment) and the batch is redone without it.
    """
    refused: list[tuple[dict[str, Any], str]] = []
    pending = list(documents)
    while True:
        writer = _writer(ix)
        bad: tuple[int, str] | None = None
        with _cancelled_on_failure(ix, writer):
            for position, document in enumerate(pending):
                try:
                    writer.add_document(**document)
                except OSError:
                    raise
                except Exception as exc:  # noqa: BLE001 - whatever Whoosh raised, it refused
                    bad = (position, f"{type(exc).__name__}: {exc}")
                    break
            if bad is None:
                writer.commit()
                return refused
        _cancel(writer)
        position, reason = bad
        refused.append((pending.pop(position), reason))


def _write_changes(ix: Index, documents: list[dict[str, Any]]) -> list[tuple[dict[str, Any], str]]:
    """Commit DOCUMENTS (new or changed articles) as one new segment; return those refused.

    The bulk writer writes the segment (the same bytes as Whoosh's writer, several times
    faster) and drops a document it refuses without harm; the old version of each document
    written is deleted in the same commit, and that of a refused one stays. No segment is
    merged on this commit (``_merge_small_segments`` does it after).
    """
    refused: list[tuple[dict[str, Any], str]] = []
    writer = _bulk_writer(ix)
    with _cancelled_on_failure(ix, writer):
        written: list[str] = []
        for document in documents:
            try:
                writer.add_document(**document)
            except OSError:
                raise
            except Exception as exc:  # noqa: BLE001 - whatever Whoosh raised, it refused
                refused.append((document, f"{type(exc).__name__}: {exc}"))
                continue
            written.append(document["id"])
        # The writer's searcher sees the committed segments only, not the documents added.
        searcher = writer.searcher()
        for article_id in written:
            for docnum in list(searcher.document_numbers(id=article_id)):
                writer.delete_document(docnum)
        writer.commit(merge=False)
    return refused


def _merge_small_segments(ix: Index, archive: Archive) -> int:
    """Fold the small segments that crowd a tier into one (``_segments_to_fold``).

    Return how many segments were replaced (0 when no tier holds two, or when the fold is
    given up). The articles are read from the archive, whose changes the index has just
    applied, and written by the bulk writer in one commit that drops the folded segments:
    Whoosh's own merge reads and rewrites them term by term, several times slower.

    A fold never drops an article: if one of the folded articles can no longer be written
    (the archive lost it, the code now refuses it), the fold is given up with a warning and
    the small segments stay as they are, each article in its indexed version.
    """
    if not _segments_to_fold(ix._segments()):
        return 0
    writer = _bulk_writer(ix)
    with _cancelled_on_failure(ix, writer):
        # As the writer, holding the lock, reads them.
        folded = _segments_to_fold(writer.segments)
        ids = _live_ids(ix, folded)
        articles = archive.reads.articles(ids)
        skipped = _Reasons()
        documents = list(_documents((articles[i] for i in ids if i in articles), skipped,
                                    archive))
        hidden = {i for i, article in articles.items() if article.hidden}  # to be dropped
        lost = sorted(set(ids) - hidden - {int(document["id"]) for document in documents})
        if lost:
            return _fold_given_up(writer, lost,
                                  "; ".join(skipped.invalid) or "absent de l'archive")
        for document in documents:
            try:
                writer.add_document(**document)
            except OSError:
                raise
            except Exception as exc:  # noqa: BLE001 - it was indexed once: say why not now
                return _fold_given_up(writer, [int(document["id"])],
                                      f"{type(exc).__name__}: {exc}")
        dropped = {segment.segment_id() for segment in folded}
        writer.commit(mergetype=lambda _writer, kept: [
            segment for segment in kept if segment.segment_id() not in dropped])
    log.info("%s fusionnés en un", count(len(folded), "petit segment", "petits segments"))
    return len(folded)


def _fold_given_up(writer: BulkSegmentWriter, ids: list[int], reason: str) -> int:
    """Cancel the fold's WRITER, say which articles of IDS stopped it, and return 0."""
    _cancel(writer)
    shown = ", ".join(map(str, ids[:5])) + (", …" if len(ids) > 5 else "")
    log.warning("fusion des petits segments abandonnée, ils restent tels quels : "
                "%s (%s) non réécrit%s : %s", count(len(ids), "article", "articles"), shown,
                "s" if len(ids) > 1 else "", reason)
    return 0


def _small(segments: list[Any]) -> list[Any]:
    """Return the small segments of SEGMENTS (``SMALL_SEGMENT_DOCS``, ``SMALL_SEGMENT_SHARE``)."""
    total = sum(segment.doc_count_all() for segment in segments)
    limit = max(SMALL_SEGMENT_DOCS, int(total * SMALL_SEGMENT_SHARE))
    return [segment for segment in segments if segment.doc_count_all() < limit]


def _fold_tier(documents: int) -> int:
    """Return the fold tier of a small segment of DOCUMENTS (``FOLD_DOCS``, ``FOLD_FACTOR``)."""
    tier, bound = 0, FOLD_DOCS
    while documents >= bound:
        tier, bound = tier + 1, bound * FOLD_FACTOR
    return tier


def _segments_to_fold(segments: list[Any]) -> list[Any]:
    """Return the small SEGMENTS to write again as one: none unless a tier holds two.

    The lowest tier holding two small segments is folded with every tier below it; if the
    folded segment would then crowd its own tier, that tier is folded too, and so on.
    """
    small = _small(segments)
    if len(small) == len(segments):
        # An index of small segments only (a few thousand articles at most) gains little
        # from folding and would be written again whole: its segments wait for ten.
        return small if len(small) >= MERGE_SMALL_SEGMENTS else []
    groups = [[segment] for segment in small]
    for _ in range(len(small)):  # each fold leaves one group fewer
        tiers = [_fold_tier(sum(s.doc_count_all() for s in group)) for group in groups]
        crowded = [tier for tier in tiers if tiers.count(tier) > 1]
        if not crowded:
            break
        top = min(crowded)
        folded = [s for group, tier in zip(groups, tiers, strict=True) if tier <= top
                  for s in group]
        groups = [group for group, tier in zip(groups, tiers, strict=True) if tier > top]
        groups.append(folded)
    return [segment for group in groups if len(group) > 1 for segment in group]


def _live_ids(ix: Index, segments: list[Any]) -> list[int]:
    """Return the article ids of the documents of SEGMENTS that are not deleted, in order."""
    from whoosh.reading import SegmentReader

    ids: list[int] = []
    for segment in segments:
        reader = SegmentReader(ix.storage, ix.schema, segment)
        try:
            for docnum in reader.all_doc_ids():
                ids.append(int(reader.stored_fields(docnum)["id"]))
        finally:
            reader.close()
    return ids


def _bulk_writer(ix: Index) -> BulkSegmentWriter:
    try:
        return BulkSegmentWriter(ix, codec=_codec(), timeout=WRITER_TIMEOUT_SECONDS, delay=0.25,
                                 on_postings={WORDS_FIELD: write_postings_words})
    except index.LockError as exc:
        raise _locked(ix) from exc


def _delete(ix: Index, ids: list[str]) -> int:
    """Delete the documents of IDS from IX in one commit; return how many were there."""
    writer = _writer(ix)
    with _cancelled_on_failure(ix, writer):
        deleted = sum(writer.delete_by_term("id", article_id) for article_id in ids)
        writer.commit(merge=False)
    return int(deleted)


def _writer(ix: Index) -> Any:
    try:
        return ix.writer(limitmb=LIMIT_MB, timeout=WRITER_TIMEOUT_SECONDS, delay=0.25,
                         codec=_codec())
    except index.LockError as exc:
        raise _locked(ix) from exc


@contextmanager
def _cancelled_on_failure(ix: Index, writer: Any) -> Iterator[None]:
    """Cancel WRITER if the block fails; an OSError is reported as IndexUnavailable."""
    try:
        yield
    except OSError as exc:
        _cancel(writer)
        raise IndexUnavailable(f"impossible d'écrire l'index {ix.storage.folder} : {exc}",
                               path=str(ix.storage.folder)) from exc
    except BaseException:
        _cancel(writer)
        raise


def _locked(ix: Index) -> IndexUnavailable:
    return IndexUnavailable(f"l'index {ix.storage.folder} est verrouillé par un processus qui "
                            "ne tient pas le verrou d'indexation ; un ancien indexeur "
                            "tourne-t-il encore ?", path=str(ix.storage.folder))


def _codec() -> ArchiveCodec:
    return ArchiveCodec(inlinelimit=INLINE_POSTINGS)


def _cancel(writer: Any) -> None:
    try:
        writer.cancel()
    except Exception as exc:  # noqa: BLE001 - the original error matters more than this one
        log.debug("cancelling the writer failed: %s", exc)


def _documents(articles: Iterable[StoredArticle], counts: _Counts,
               archive: Archive) -> Iterator[dict[str, Any]]:
    for article in articles:
        if article.hidden:  # withdrawn from the public on request: never indexed
            continue
        try:
            yield with_earlier_versions(document_for(article), article, archive)
        except InvalidInput as exc:
            counts.skip(exc.message)


def _count_new(document: dict[str, Any], counts: _Counts) -> None:
    if document["withdrawn"]:
        counts.flagged += 1
    else:
        counts.added += 1


def _writer_processes(articles: int) -> int:
    if articles < PARALLEL_MIN_ARTICLES:
        return 1
    try:
        cores = len(os.sched_getaffinity(0))
    except AttributeError:
        cores = os.cpu_count() or 1
    return max(1, min(2, cores))


def _now() -> str:
    return datetime.now(UTC).isoformat(timespec="seconds")
