"""The layout of a web host's publish directory, shared by the publisher and the web front end.

::

    DEST/
      .notrecontinent-publish      marks DEST as a publish directory (``publish --init``)
      releases/<release>/          one complete, read-only data directory per release:
          archive.sqlite3            a consistent snapshot of the archive (SQLite's backup API)
          warc/                      the WARC files, each cut where the snapshot's captures end
          index/builds/<build>/      the index build, as it was when the release was made
          index/current -> builds/<build>
          index/copies.sqlite3       a snapshot of the copies index
          release.json               what the release holds (``Manifest``)
      releases/.incoming/          a release being received; never served
      current -> releases/<release>  the release served, switched by one ``rename(2)``

A release is never written once it is in ``releases/``: the web serves it read-only
(``ARCHIVE_RELEASE_DIR``), and a replica switches by renaming a new ``current`` symlink over the
old one, so a reader sees the old release or the new one, never a mixture.
"""

from __future__ import annotations

import re
from datetime import UTC, datetime
from pathlib import Path

MARKER = ".notrecontinent-publish"
RELEASES = "releases"
INCOMING = ".incoming"
CURRENT = "current"
MANIFEST = "release.json"
RELEASE_PATTERN = re.compile(r"^(\d{8}T\d{6}Z)-(\d+)$")
_STAMP = "%Y%m%dT%H%M%SZ"


def release_name(when: datetime, n: int) -> str:
    """Return the name of the Nth release made in the second WHEN (names sort by time)."""
    return f"{when.astimezone(UTC).strftime(_STAMP)}-{n}"


def release_time(name: str) -> datetime | None:
    """Return when the release NAME was made, or None if NAME is not a release's name."""
    found = RELEASE_PATTERN.match(name)
    if found is None:
        return None
    return datetime.strptime(found.group(1), _STAMP).replace(tzinfo=UTC)


def release_order(name: str) -> tuple[str, int]:
    """Return the sort key of a release name: its time, then its number within that second."""
    found = RELEASE_PATTERN.match(name)
    return (found.group(1), int(found.group(2))) if found else ("", 0)


def served_release(publish_dir: Path) -> Path:
    """Return the path the web serves in PUBLISH_DIR: its ``current`` symlink (followed at
    every use, so a switch is seen at once)."""
    return publish_dir / CURRENT
