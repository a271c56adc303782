"""Raw captures: standard WARC records, readable whole or by offset, even after a crash."""

from __future__ import annotations

import base64
import hashlib
import random
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from warcio.archiveiterator import ArchiveIterator

from archive.models import Capture
from archive.store import Archive

FETCHED = datetime(2024, 3, 1, 8, 30, 15, 123456, tzinfo=UTC)


def _capture(i: int, *, status: int = 200, body: bytes | None = None) -> Capture:
    page = body if body is not None else (
        f"<html><body><article><h1>Article {i}</h1><p>Texte numéro {i}.</p></article>"
        "</body></html>").encode()
    return Capture(
        url=f"http://127.0.0.1:8001/2024/03/01/article-{i}/", status=status,
        headers=(("Content-Type", "text/html; charset=UTF-8"), ("ETag", f'"e{i}"'),
                 ("Content-Encoding", "gzip"), ("Content-Length", "3")),
        body=page, fetched_at=FETCHED + timedelta(seconds=i),
        final_url=f"https://sn.notrecontinent.com/2024/03/01/article-{i}/")


@pytest.fixture
def archive(tmp_path: Path) -> Iterator[Archive]:
    with Archive.open(tmp_path / "archive.sqlite3", warc_dir=tmp_path / "warc") as opened:
        yield opened


def test_capture_reads_back_exactly_as_stored(archive: Archive) -> None:
    capture = _capture(1, body=bytes(range(256)) * 10)
    capture_id = archive.captures.store_capture(capture)
    assert archive.captures.read_capture(capture_id) == capture
    assert archive.captures.read_capture(capture_id + 1) is None


def test_warc_file_is_standard_for_warcio_whole_and_by_offset(
        archive: Archive, tmp_path: Path) -> None:
    ids = [archive.captures.store_capture(_capture(i)) for i in range(3)]
    archive.close()
    files = list((tmp_path / "warc").iterdir())
    assert len(files) == 1
    assert files[0].name.startswith("notrecontinent-") and files[0].name.endswith(".warc.gz")
    with open(files[0], "rb") as handle:
        records = [(r.rec_type, r.rec_headers.get_header("WARC-Target-URI"),
                    r.rec_headers.get_header("WARC-Date"),
                    r.rec_headers.get_header("WARC-Payload-Digest"),
                    r.http_headers.get_header("Content-Encoding") if r.http_headers else None,
                    r.content_stream().read())
                   for r in ArchiveIterator(handle)]
    assert [r[0] for r in records] == ["warcinfo", "response", "response", "response"]
    assert records[1][1] == "https://sn.notrecontinent.com/2024/03/01/article-0/"
    assert records[2][2] == "2024-03-01T08:30:16Z"
    assert records[1][3] == "sha1:" + base64.b32encode(
        hashlib.sha1(_capture(0).body).digest()).decode()
    assert records[1][4] is None
    assert records[3][5] == _capture(2).body
    with Archive.open(tmp_path / "archive.sqlite3", readonly=True) as reader:
        row_offsets = [reader._db.conn.execute(
            "SELECT warc_offset FROM captures WHERE id = ?", (i,)).fetchone()[0] for i in ids]
    with open(files[0], "rb") as handle:
        handle.seek(row_offsets[1])
        record = next(iter(ArchiveIterator(handle)))
        assert record.rec_headers.get_header("WARC-Target-URI").endswith("article-1/")


def test_files_rotate_by_size(tmp_path: Path) -> None:
    with Archive.open(tmp_path / "archive.sqlite3", warc_max_bytes=2000) as archive:
        bodies = [random.Random(i).randbytes(1500) for i in range(6)]
        ids = [archive.captures.store_capture(_capture(i, body=body)) for i,
               body in enumerate(bodies)]
        names = sorted(p.name for p in (tmp_path / "warc").iterdir())
        assert len(names) >= 3
        assert [n.split("-")[-1] for n in names][:2] == ["00001.warc.gz", "00002.warc.gz"]
        assert [archive.captures.read_capture(i) for i in ids] == [
            _capture(i, body=body) for i, body in enumerate(bodies)]


def test_half_written_record_does_not_hide_the_others(tmp_path: Path) -> None:
    path = tmp_path / "archive.sqlite3"
    with Archive.open(path) as archive:
        first = archive.captures.store_capture(_capture(1))
    warc = next((tmp_path / "warc").iterdir())
    whole = warc.read_bytes()
    with open(warc, "ab") as handle:
        handle.write(whole[len(whole) // 2:len(whole) - 10])
    with Archive.open(path) as archive:
        second = archive.captures.store_capture(_capture(2))
        assert archive.captures.read_capture(first) == _capture(1)
        assert archive.captures.read_capture(second) == _capture(2)
    assert len(list((tmp_path / "warc").iterdir())) == 2


def test_iter_captures_filters_status_and_keeps_each_urls_newest(archive: Archive) -> None:
    old = archive.captures.store_capture(_capture(1))
    archive.captures.store_capture(_capture(2, status=404))
    newer = archive.captures.store_capture(_capture(1))
    later_gone = archive.captures.store_capture(_capture(3))
    archive.captures.store_capture(_capture(3, status=410))
    assert [i for i, _ in archive.captures.iter_captures()] == [1, 2, 3, 4, 5]
    assert [i for i, _ in archive.captures.iter_captures(status=200)] == [old, newer, later_gone]
    assert [i for i, _ in archive.captures.iter_captures(status=200, latest_only=True)] == [
        newer, later_gone]
