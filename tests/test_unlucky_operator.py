"""An unlucky operator: a foreign database, a damaged WARC record, a corrupt index, a restored
backup, a full disk, an IPv6 site, many rebuilds. Each gets its documented exit code and a
message that says what to do, never a traceback, and nothing stored is harmed."""

from __future__ import annotations

import hashlib
import sqlite3
import subprocess
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest

from archive.replica import Corpus, serve_replica

RunCli = Callable[..., tuple[int, str, str]]


def _digest(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


def test_crawl_never_writes_a_foreign_sqlite_file(run_cli: RunCli, data_dir: Path) -> None:
    foreign = data_dir / "archive.sqlite3"
    with sqlite3.connect(foreign) as conn:
        conn.execute("CREATE TABLE notes (id INTEGER PRIMARY KEY, text TEXT)")
        conn.execute("INSERT INTO notes (text) VALUES ('à garder')")
    conn.close()
    before = _digest(foreign)
    served = serve_replica(Corpus(3, editions=("sn",)))
    try:
        code, _, err = run_cli("crawl", served.url + "/", "--delay", "0", "--no-index")
    finally:
        served.stop()
    assert code == 6, err
    assert "not an archive" in err and "Traceback" not in err
    assert _digest(foreign) == before
    assert not (data_dir / "archive.sqlite3-wal").exists()
    with sqlite3.connect(foreign) as conn:
        assert conn.execute("PRAGMA journal_mode").fetchone()[0] == "delete"
    conn.close()


def _crawl_replica(data_dir: Path, size: int = 3) -> None:
    from archive.config import load_settings
    from archive.crawler import crawl

    served = serve_replica(Corpus(size, editions=("sn",)))
    try:
        crawl([served.url + "/"], load_settings(environ={}, data_dir=data_dir, crawl_delay=0.0))
    finally:
        served.stop()


def test_reparse_skips_and_reports_a_damaged_warc_record(run_cli: RunCli, data_dir: Path) -> None:
    _crawl_replica(data_dir)
    with sqlite3.connect(data_dir / "archive.sqlite3") as conn:
        capture_id, name, offset, length = conn.execute(
            """SELECT id, warc_file, warc_offset, warc_length FROM captures
               WHERE status = 200 AND url LIKE '%/20__/%' ORDER BY id LIMIT 1""").fetchone()
        readable = conn.execute(
            "SELECT count(DISTINCT url) FROM captures WHERE status = 200").fetchone()[0]
    conn.close()
    with open(data_dir / "warc" / name, "r+b") as warc:
        warc.seek(offset + length // 2)
        warc.write(b"\x00\xff\x1b[31m" * 8)
    code, out, err = run_cli("reparse")
    assert code == 0, err
    assert err.startswith(f"error: capture {capture_id} skipped: the capture at ")
    assert "damaged" in err and "\x1b" not in err and "\x00" not in err
    assert out.startswith(f"reparse: {readable} captures read, ")
    assert out.rstrip().endswith(", 1 errors")


@pytest.fixture
def small_disk(tmp_path: Path) -> Iterator[Path]:
    """A 400 KB tmpfs mounted for the test (root only; skipped where it cannot be mounted)."""
    mount_point = tmp_path / "small-disk"
    mount_point.mkdir()
    done = subprocess.run(["mount", "-t", "tmpfs", "-o", "size=400k", "tmpfs",
                           str(mount_point)], capture_output=True, text=True, check=False)
    if done.returncode != 0:
        pytest.skip(f"cannot mount a small tmpfs here: {done.stderr.strip() or 'not root'}")
    try:
        yield mount_point
    finally:
        subprocess.run(["umount", "-l", str(mount_point)], check=False)


def test_full_disk_makes_crawl_then_index_exit_with_their_codes(
    run_cli: RunCli, small_disk: Path
) -> None:
    served = serve_replica(Corpus(150, editions=("sn",)))
    env = {"ARCHIVE_DATA_DIR": str(small_disk / "data")}
    try:
        code, _, err = run_cli("crawl", served.url + "/", "--delay", "0", "--no-index",
                               env=env)
    finally:
        served.stop()
    assert code == 6, err
    assert err.startswith("error: ") and err.count("\n") == 1, err
    assert "disk" in err and "internal error" not in err
    code, _, err = run_cli("index", env=env)
    assert code in (6, 7), err
    assert err.startswith("error: ") and err.count("\n") == 1, err
    assert "disk" in err and "internal error" not in err
