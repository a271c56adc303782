"""An unlucky operator: a foreign database, a damaged WARC record, a corrupt index, a restored
backup, a full disk, an IPv6 site, many rebuilds. Each gets its documented exit code and a
message that says what to do, never a traceback, and nothing stored is harmed."""

from __future__ import annotations

import hashlib
import shutil
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
    assert "pas une archive" in err and "Traceback" not in err
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
    assert err.startswith(f"erreur : capture {capture_id} ignorée : la capture en ")
    assert "endommagée" in err and "\x1b" not in err and "\x00" not in err
    assert out.startswith(f"relecture : {readable} captures relues, ")
    assert out.rstrip().endswith(", 1 erreur")


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
    assert err.startswith("erreur : ") and err.count("\n") == 1, err
    assert "disk" in err and "internal error" not in err
    code, _, err = run_cli("index", env=env)
    assert code in (6, 7), err
    assert err.startswith("erreur : ") and err.count("\n") == 1, err
    assert "disk" in err and "internal error" not in err


@pytest.fixture(scope="module")
def indexed_data(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A data directory with a 20-article archive and its index (copy it before damaging)."""
    from archive.config import load_settings
    from indexer.update import update_index

    data_dir = tmp_path_factory.mktemp("indexed") / "data"
    _crawl_replica(data_dir, size=20)
    settings = load_settings(environ={}, data_dir=data_dir)
    update_index(settings.database_path, settings.index_dir)
    return data_dir


def _damaged_copy(indexed_data: Path, tmp_path: Path, damage: str) -> Path:
    data_dir = tmp_path / "damaged"
    shutil.copytree(indexed_data, data_dir, symlinks=True)
    segment = max((data_dir / "index" / "current").glob("*.seg"),
                  key=lambda path: path.stat().st_size)
    size = segment.stat().st_size
    if damage == "truncated":
        with open(segment, "r+b") as handle:
            handle.truncate(size // 3)
    else:
        segment.write_bytes(b"\xff" * size)
    return data_dir


@pytest.mark.parametrize("damage", ["truncated", "garbled"])
def test_damaged_index_segment_is_reported_then_rebuilt_by_index(
    run_cli: RunCli, indexed_data: Path, tmp_path: Path, damage: str
) -> None:
    env = {"ARCHIVE_DATA_DIR": str(_damaged_copy(indexed_data, tmp_path, damage))}
    code, _, err = run_cli("search", "marché", env=env)
    assert code == 7, err
    assert err.startswith("erreur : la construction ") and "est illisible" in err
    assert "`python -m archive index" in err
    code, out, err = run_cli("index", env=env)
    assert code == 0, err
    assert out.startswith("index : reconstruction complète (la construction en service ")
    assert "est illisible" in out
    assert "20 documents" in out
    code, out, err = run_cli("search", "marché", env=env)
    assert code == 0, err


def test_archive_restored_from_an_older_backup_makes_index_rebuild_in_full(
    run_cli: RunCli, data_dir: Path, tmp_path: Path
) -> None:
    from archive.config import load_settings
    from archive.crawler import crawl
    from archive.replica import ReplicaState
    from archive.store import Archive
    from indexer.agreement import index_disagreement
    from indexer.update import update_index

    settings = load_settings(environ={}, data_dir=data_dir, crawl_delay=0.0)
    corpus = Corpus(30, editions=("sn",))
    state = ReplicaState(corpus, 20)
    served = serve_replica(corpus, state=state)
    backup = tmp_path / "backup.sqlite3"
    try:
        crawl([served.url + "/"], settings)
        with Archive.open(settings.database_path, readonly=True) as archive:
            archive_backup = archive.path
        shutil.copyfile(archive_backup, backup)  # WAL checkpointed when the crawl closed it
        update_index(settings.database_path, settings.index_dir)
        state.add_articles(10)
        crawl([served.url + "/"], settings)
    finally:
        served.stop()
    assert update_index(settings.database_path, settings.index_dir).documents == 30
    for leftover in data_dir.glob("archive.sqlite3-*"):
        leftover.unlink()
    shutil.copyfile(backup, settings.database_path)
    with Archive.open(settings.database_path, readonly=True) as archive:
        reason = index_disagreement(archive.reads, settings.index_dir)
    assert reason is not None and "restaurée d'une sauvegarde plus ancienne" in reason
    assert _health(data_dir) == 503  # its hits would lead to articles the archive lacks
    code, out, err = run_cli("index")
    assert code == 0, err
    assert out.startswith("index : reconstruction complète (les modifications de l'archive "
                          "s'arrêtent à ")
    assert out.rstrip().endswith("20 documents")
    with Archive.open(settings.database_path, readonly=True) as archive:
        assert index_disagreement(archive.reads, settings.index_dir) is None
    assert _health(data_dir) == 200


def _health(data_dir: Path) -> int:
    from archive.web import create_app

    application = create_app({"DATA_DIR": data_dir, "TESTING": True})
    try:
        return application.test_client().get("/healthz").status_code
    finally:
        application.extensions["archive"].close()


def test_five_rebuilds_leave_only_the_live_and_previous_builds_unless_a_reader_holds_one(
    indexed_data: Path, tmp_path: Path
) -> None:
    from indexer.search import SearchService
    from indexer.update import update_index

    data_dir = tmp_path / "copy"
    shutil.copytree(indexed_data, data_dir, symlinks=True)
    database, index_dir = data_dir / "archive.sqlite3", data_dir / "index"
    with SearchService.over_archive(index_dir, database) as reader:
        reader.search("marché")  # holds the first build while it is open
        held = (index_dir / "current").resolve()
        builds = [update_index(database, index_dir, full=True).build for _ in range(5)]
        left = sorted(path.name for path in (index_dir / "builds").iterdir())
        assert left == sorted([held.name, *builds[-2:]])
    update_index(database, index_dir)
    assert sorted(path.name for path in (index_dir / "builds").iterdir()) == builds[-2:]


def test_ipv6_seed_crawls_a_site_listening_on_ipv6_loopback(data_dir: Path) -> None:
    from hostile_site import HostileSite, ipv6_loopback_available, serve_hostile_site

    from archive.config import load_settings
    from archive.crawler import crawl

    if not ipv6_loopback_available():
        pytest.skip("this machine cannot listen on ::1")
    site = HostileSite(bomb_bytes=1 << 20)
    served = serve_hostile_site(site, host="::1")
    try:
        report = crawl([served.url + "/"],
                       load_settings(environ={}, data_dir=data_dir, crawl_delay=0.0))
    finally:
        served.stop()
    assert served.url.startswith("http://[::1]:")
    assert report.counts["new"] >= 5
    assert "unreachable" not in {error["kind"] for error in report.errors}
    assert all(path.startswith("/") for path in site.requests)


def test_archive_restored_then_crawled_past_the_index_is_still_noticed(tmp_path: Path) -> None:
    from search_fixtures import SEEN, archive_and_index, article

    from archive.store import Archive
    from indexer.update import update_index

    data_dir = tmp_path / "data"
    data_dir.mkdir()
    database = data_dir / "archive.sqlite3"
    archive_and_index(data_dir, [article(f"premier-{i}", f"Premier {i}",
                                         f"Texte du marché numéro {i}.") for i in range(3)])
    shutil.copyfile(database, tmp_path / "backup.sqlite3")
    archive_and_index(data_dir, [article("deuxieme", "Deuxième", "Texte du port.")])
    shutil.copyfile(tmp_path / "backup.sqlite3", database)
    # The restored archive moves past the index's high-water mark with other articles.
    with Archive.open(database) as archive:
        for i in range(3):
            later = article(f"autre-{i}", f"Autre {i}", f"Texte de la route {i}.")
            archive.articles.save_article(later, capture_id=None, seen_at=SEEN)
    report = update_index(database, data_dir / "index")
    assert report.full
    assert "pas celle dont l'index a été construit" in report.summary()
    assert report.documents == 6
