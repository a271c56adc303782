"""Whether the live index was built from this archive as it is now, and can be read at all.

An archive restored from an older backup (or replaced by another) keeps its file name, so the
index records the archive's fingerprint and high-water mark (``change_seq``) in its
``sync.json``: when the archive no longer matches them, the index must be rebuilt in full,
and ``/healthz`` must not say ok meanwhile (its hits would lead to missing articles).
"""

from __future__ import annotations

from pathlib import Path

from archive.store import ReadQueries
from indexer.location import SyncState, current_build, read_sync


def archive_mismatch(reads: ReadQueries, state: SyncState) -> str | None:
    """Say why the build whose sync state is STATE does not match the archive READS reads,
    or None if it does."""
    if reads.max_change_seq() < state.change_seq:
        return (f"les modifications de l'archive s'arrêtent à {reads.max_change_seq()} mais "
                f"l'index en a vu {state.change_seq} : l'archive a été restaurée d'une "
                "sauvegarde plus ancienne ou remplacée")
    if state.archive is not None and reads.fingerprint(state.change_seq) != state.archive:
        return ("l'archive n'est pas celle dont l'index a été construit (restaurée d'une "
                "sauvegarde ou remplacée)")
    return None


def index_disagreement(reads: ReadQueries, index_dir: Path) -> str | None:
    """Say why the live index under INDEX_DIR does not match the archive, or None if it does.

    READS is ``archive.reads`` of the archive open for reading.

    For health checks: None means the index was built from this archive and has not seen
    changes the archive no longer holds. A missing index is a disagreement too.
    """
    build = current_build(index_dir)
    if build is None:
        return f"aucun index de recherche dans {index_dir}"
    state = read_sync(build)
    if state is None:
        return f"la construction {build.name} de l'index n'a pas d'état de synchronisation"
    mismatch = archive_mismatch(reads, state)
    if mismatch is not None:
        return f"{mismatch} : lancez `python -m archive index` pour le reconstruire"
    return None
