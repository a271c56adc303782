"""Raw captures: each HTTP response as a WARC record, and its row saying where it lives."""

from __future__ import annotations

import sqlite3
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

from archive.errors import StoreError
from archive.models import Capture
from archive.store import rows
from archive.store.database import BATCH, Database, rowid
from archive.store.records import CaptureRecord
from archive.store.warc import DEFAULT_MAX_BYTES, WarcWriter, read_record, read_response


class Captures:
    """Writes captures to WARC files (rows in SQLite) and reads them back."""

    def __init__(self, db: Database, warc_dir: Path, *,
                 warc_max_bytes: int = DEFAULT_MAX_BYTES) -> None:
        self._db = db
        self.warc_dir = warc_dir
        self._warc = WarcWriter(warc_dir, max_bytes=warc_max_bytes)

    def close(self) -> None:
        """Close the current WARC file."""
        self._warc.close()

    def store_capture(self, capture: Capture, run_id: int | None = None) -> int:
        """Write CAPTURE to the current WARC file, then its row; return the capture id."""
        self._db.check_writable()
        location = self._warc.write(capture)
        with self._db.transaction():
            cursor = self._db.conn.execute(
                """INSERT INTO captures (url, final_url, status, content_type, fetched_at,
                       run_id, warc_file, warc_offset, warc_length, payload_digest, body_length)
                   VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)""",
                (capture.url, capture.final_url, capture.status, capture.header("Content-Type"),
                 rows.time_text(capture.fetched_at), run_id, location.file, location.offset,
                 location.length, location.payload_digest, len(capture.body)))
            return rowid(cursor)

    def read_capture(self, capture_id: int) -> Capture | None:
        """Return capture CAPTURE_ID read back from its WARC record, or None."""
        with self._db.errors():
            row = self._db.conn.execute("SELECT * FROM captures WHERE id = ?",
                                     (capture_id,)).fetchone()
        return self._capture(row) if row else None

    def iter_captures(self, *, status: int | None = None, latest_only: bool = False,
                      damaged: Callable[[int, StoreError], None] | None = None,
                      ) -> Iterator[tuple[int, Capture]]:
        """Yield (id, capture) by id; only STATUS if given; only each URL's newest if LATEST_ONLY.

        Reads in batches, so the archive may be written while iterating. A capture whose WARC
        record cannot be read raises StoreError, or, when DAMAGED is given, is passed to it
        (with the error) and skipped.
        """
        conditions = ["id > ?"]
        params: list[Any] = []
        if status is not None:
            conditions.append("status = ?")
            params.append(status)
        if latest_only:
            newer = "SELECT 1 FROM captures n WHERE n.url = c.url AND n.id > c.id"
            if status is not None:
                newer += " AND n.status = c.status"
            conditions.append(f"NOT EXISTS ({newer})")
        query = (f"SELECT * FROM captures c WHERE {' AND '.join(conditions)} "
                 f"ORDER BY id LIMIT {BATCH}")
        last = 0
        while True:
            with self._db.errors():
                batch = self._db.conn.execute(query, (last, *params)).fetchall()
            for row in batch:
                try:
                    capture = self._capture(row)
                except StoreError as exc:
                    if damaged is None:
                        raise
                    damaged(row["id"], exc)
                    continue
                yield row["id"], capture
            if len(batch) < BATCH:
                return
            last = batch[-1]["id"]

    def capture_record(self, capture_id: int) -> CaptureRecord | None:
        """Return where and how capture CAPTURE_ID was taken (no body read), or None."""
        with self._db.errors():
            row = self._db.conn.execute("SELECT * FROM captures WHERE id = ?",
                                        (capture_id,)).fetchone()
        return rows.capture_record(row) if row else None

    def warc_record(self, record: CaptureRecord) -> bytes:
        """Return RECORD's WARC record exactly as stored (a gzip member: a valid .warc.gz)."""
        return read_record(self.warc_dir / record.warc_file, record.warc_offset,
                           record.warc_length)

    def _capture(self, row: sqlite3.Row) -> Capture:
        response = read_response(self.warc_dir / row["warc_file"], row["warc_offset"],
                                 row["warc_length"])
        fetched_at = rows.time_value(row["fetched_at"])
        assert fetched_at is not None
        return Capture(url=row["url"], status=response.status, headers=response.headers,
                       body=response.body, fetched_at=fetched_at, final_url=row["final_url"])
