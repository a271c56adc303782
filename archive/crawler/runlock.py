"""The crawl's single-run lock: one crawl of an archive at a time, even without ``flock -n``.

A ``HolderLock`` on ``DATA_DIR/crawl.lock``, as the indexer has its own: a killed crawl's lock
dies with it, so the next crawl resumes the killed run.
"""

from __future__ import annotations

from pathlib import Path

from archive.errors import ArchiveError, CrawlLocked, StoreError
from archive.holderlock import HolderLock

LOCK_FILE = "crawl.lock"


class CrawlLock(HolderLock):
    """Hold the crawl lock of DATA_DIR for the life of a ``with`` block, or raise CrawlLocked."""

    def __init__(self, data_dir: Path) -> None:
        super().__init__(Path(data_dir) / LOCK_FILE)

    def cannot_create(self, reason: str) -> ArchiveError:
        """Return the error for a crawl lock that cannot be created."""
        return StoreError(f"impossible de créer le verrou de collecte {self.path} ({reason}) ; "
                          "choisissez un ARCHIVE_DATA_DIR accessible en écriture",
                          path=str(self.path))

    def held_by(self, holder: str) -> ArchiveError:
        """Return the error for a crawl lock another run holds."""
        return CrawlLocked(
            f"une autre collecte de cette archive est en cours ({holder}) ; rien n'a été fait : "
            "laissez-la finir, ou relancez la même commande plus tard pour poursuivre sa collecte",
            path=str(self.path))
