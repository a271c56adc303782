"""Keeping the index in step with the archive: incremental runs, full rebuilds, the lock, kills."""

from __future__ import annotations

import dataclasses
import json
import os
import random
import re
import signal
import subprocess
import sys
import threading
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from datetime import UTC, date, datetime, timedelta
from pathlib import Path
from typing import Any

import psutil
import pytest
from fork_interrupts import ctrl_c_at_next_fork
from hypothesis import given, settings
from hypothesis import strategies as st
from whoosh.index import Index
from whoosh.qparser import QueryParser

from archive.config import Settings
from archive.errors import IndexLocked, IndexUnavailable, InvalidInput, StoreError
from archive.models import Article
from archive.store import Archive, ReadQueries, StoredArticle
from indexer import documents, update
from indexer.associated import read_segment_words
from indexer.documents import document_for
from indexer.location import SYNC_FILE, current_build, open_current, read_sync
from indexer.lock import IndexLock
from indexer.schema import SCHEMA_VERSION
from indexer.update import update_index

WORDS = ("armée soldats nord-coréens Corée Séoul renforts Ukraine élections président "
         "gouvernement l'Afrique Dakar Sénégal presse journaliste citoyen").split()
NOW = datetime(2026, 11, 24, 12, 0, tzinfo=UTC)


def article(i: int, *, title: str | None = None, body: str | None = None) -> Article:
    rng = random.Random(i)
    return Article(
        url=f"https://sn.notrecontinent.com/2024/01/01/article-{i}/",
        title=title or f"Titre {i} {rng.choice(WORDS)}",
        body=body or " ".join(rng.choice(WORDS) for _ in range(40)),
        author=f"Auteur {i % 7}",
        published=date(2024, 1, 1) + timedelta(days=i % 700),
        edition="sn",
        categories=("Monde", "Afrique, Ouest"),
    )


def save(database: Path, numbers: range | list[int], **changes: str) -> None:
    with Archive.open(database) as archive:
        for i in numbers:
            archive.articles.save_article(article(i, **changes), capture_id=None, seen_at=NOW)


def withdraw(database: Path, i: int) -> None:
    with Archive.open(database) as archive:
        archive.articles.mark_withdrawn(article(i).url, when=NOW, reason="410")


def archive_ids(database: Path) -> set[str]:
    with Archive.open(database, readonly=True) as archive:
        return {str(a.id) for a in archive.reads.iter_articles()}


def max_seq(database: Path) -> int:
    with Archive.open(database, readonly=True) as archive:
        return int(archive.reads.max_change_seq())


def stored(ix: Index) -> list[dict[str, Any]]:
    with ix.searcher() as searcher:
        return list(searcher.all_stored_fields())


def assert_consistent(index_dir: Path, database: Path) -> int:
    """Check the served index: it opens, one readable record per document, no duplicate id."""
    ix = open_current(index_dir)
    try:
        records = stored(ix)
        ids = [r["id"] for r in records]
        assert ix.doc_count() == len(records) == len(set(ids))
        assert set(ids) <= archive_ids(database)
        with ix.searcher() as searcher:
            assert searcher.search(QueryParser("body", ix.schema).parse("armée"), limit=5)
    finally:
        ix.close()
    build = current_build(index_dir)
    assert build is not None
    state = read_sync(build)
    assert state is not None and state.change_seq <= max_seq(database)
    with IndexLock(index_dir):  # the lock is free again
        pass
    return len(ids)


@pytest.fixture
def paths(settings: Settings) -> Iterator[tuple[Path, Path]]:
    yield settings.database_path, settings.index_dir


def test_first_run_builds_the_whole_index(paths: tuple[Path, Path]) -> None:
    database, index_dir = paths
    save(database, range(20))
    calls: list[tuple[int, int]] = []
    report = update_index(database, index_dir, progress=lambda *call: calls.append(call))
    assert calls[-1] == (20, 20)
    assert report.full
    assert (report.added, report.updated, report.flagged, report.skipped_invalid) == (20, 0, 0, 0)
    assert report.documents == 20
    assert report.change_seq == max_seq(database)
    link = index_dir / "current"
    assert link.is_symlink() and not os.path.isabs(os.readlink(link))
    assert json.loads((link / SYNC_FILE).read_text())["change_seq"] == report.change_seq
    assert "20 ajoutés" in report.summary() and report.build in report.summary()
    ix = open_current(index_dir)
    try:
        assert sorted(r["id"] for r in stored(ix)) == sorted(archive_ids(database))
        record = stored(ix)[0]
        assert record["categories"] == "Monde,Afrique Ouest"
        assert record["author_key"] == "auteur " + str((int(record["id"]) - 1) % 7)
    finally:
        ix.close()


def test_incremental_run_adds_updates_and_flags_withdrawn(paths: tuple[Path, Path]) -> None:
    database, index_dir = paths
    save(database, range(10))
    first = update_index(database, index_dir)
    save(database, [10, 11])
    save(database, [3], title="Titre réécrit sur Séoul")
    withdraw(database, 5)
    report = update_index(database, index_dir)
    assert not report.full
    assert report.build == first.build
    assert (report.added, report.updated, report.flagged) == (2, 1, 1)
    assert report.documents == 12
    ix = open_current(index_dir)
    try:
        by_url = {r["url"]: r for r in stored(ix)}
        assert by_url[article(3).url]["title"] == "Titre réécrit sur Séoul"
        assert by_url[article(5).url]["withdrawn"] is True
        assert sum(r["withdrawn"] for r in by_url.values()) == 1
    finally:
        ix.close()


def test_run_with_nothing_new_changes_nothing(paths: tuple[Path, Path]) -> None:
    database, index_dir = paths
    save(database, range(5))
    first = update_index(database, index_dir)
    again = update_index(database, index_dir)
    assert (again.added, again.updated, again.flagged, again.full) == (0, 0, 0, False)
    assert again.change_seq == first.change_seq and again.build == first.build


def test_same_article_twice_in_one_batch_is_indexed_once(
        paths: tuple[Path, Path], monkeypatch: pytest.MonkeyPatch) -> None:
    database, index_dir = paths
    save(database, range(3))
    update_index(database, index_dir)
    save(database, [1], title="Dernière version")
    original = ReadQueries.changes_since

    def with_stale_copies(self: Any, seq: int, limit: int = 1000) -> list[Any]:
        changes = original(self, seq, limit)
        stale = [dataclasses.replace(a, title="Version périmée", change_seq=a.change_seq - 1)
                 for a in changes]
        return stale + changes

    monkeypatch.setattr(ReadQueries, "changes_since", with_stale_copies)
    report = update_index(database, index_dir)
    assert report.updated == 1
    ix = open_current(index_dir)
    try:
        titles = [r["title"] for r in stored(ix) if r["url"] == article(1).url]
        assert titles == ["Dernière version"]
        assert ix.doc_count() == 3
    finally:
        ix.close()


def _refusing(victim: str) -> Callable[[Any], dict[str, Any]]:
    """Return document_for, spoiled so that Whoosh refuses the VICTIM article's document."""

    def broken(stored_article: Any) -> dict[str, Any]:
        document = document_for(stored_article)
        if document["id"] == victim:
            document["published"] = "pas une date"
        return document

    return broken


def test_document_whoosh_refuses_is_skipped_and_the_rest_committed(
        paths: tuple[Path, Path], monkeypatch: pytest.MonkeyPatch) -> None:
    database, index_dir = paths
    save(database, range(4))
    update_index(database, index_dir)
    save(database, range(4, 10))
    with Archive.open(database, readonly=True) as archive:
        victim = str(archive.reads.get_article_by_url(article(6).url).id)

    monkeypatch.setattr(update, "document_for", _refusing(victim))
    report = update_index(database, index_dir)
    assert (report.added, report.skipped_invalid) == (5, 1)
    assert report.invalid[0].startswith(f"article {victim}:")
    ix = open_current(index_dir)
    try:
        records = stored(ix)
        assert ix.doc_count() == len(records) == 9
        assert victim not in {r["id"] for r in records}
    finally:
        ix.close()


def test_full_build_with_a_refused_document_is_redone_without_it(
        paths: tuple[Path, Path], monkeypatch: pytest.MonkeyPatch) -> None:
    database, index_dir = paths
    save(database, range(12))
    with Archive.open(database, readonly=True) as archive:
        victim = str(archive.reads.get_article_by_url(article(4).url).id)

    monkeypatch.setattr(update, "document_for", _refusing(victim))
    report = update_index(database, index_dir)
    assert report.full and (report.added, report.skipped_invalid) == (11, 1)
    assert len(list((index_dir / "builds").iterdir())) == 1
    ix = open_current(index_dir)
    try:
        records = stored(ix)
        assert ix.doc_count() == len(records) == 11
        assert victim not in {r["id"] for r in records}
    finally:
        ix.close()


def test_run_killed_before_recording_its_cursor_reapplies_the_batch(
        paths: tuple[Path, Path]) -> None:
    database, index_dir = paths
    save(database, range(5))
    update_index(database, index_dir)
    sync = index_dir / "current" / SYNC_FILE
    before = json.loads(sync.read_text())
    save(database, range(5), title="Nouveau titre")
    update_index(database, index_dir)
    sync.write_text(json.dumps(before))
    report = update_index(database, index_dir)
    assert (report.added, report.updated) == (0, 5)
    ix = open_current(index_dir)
    try:
        assert ix.doc_count() == 5
        assert {r["title"] for r in stored(ix)} == {"Nouveau titre"}
    finally:
        ix.close()


def test_second_run_fails_at_once_while_the_lock_is_held(paths: tuple[Path, Path]) -> None:
    database, index_dir = paths
    save(database, range(2))
    outcome: list[BaseException] = []

    def second_run() -> None:
        try:
            update_index(database, index_dir)
        except BaseException as exc:  # noqa: BLE001 - handed to the test thread
            outcome.append(exc)

    with IndexLock(index_dir):
        # A run that waited for the lock would still be waiting when the join gives up.
        runner = threading.Thread(target=second_run)
        runner.start()
        runner.join(timeout=120)
        assert not runner.is_alive()
    assert len(outcome) == 1 and isinstance(outcome[0], IndexLocked)
    assert re.search(r"une autre indexation tient le verrou \(pid \d+", str(outcome[0]))
    assert update_index(database, index_dir).documents == 2


def test_cli_exits_with_code_8_when_another_run_holds_the_lock(
        paths: tuple[Path, Path], run_cli: Any) -> None:
    database, index_dir = paths
    save(database, range(2))
    with IndexLock(index_dir):
        code, out, err = run_cli("index")
    assert code == 8
    assert err.startswith("erreur : une autre indexation tient le verrou (pid ")
    assert len(err.strip().splitlines()) == 1


def test_cli_prints_a_summary(paths: tuple[Path, Path], run_cli: Any) -> None:
    database, _ = paths
    save(database, range(3))
    code, out, err = run_cli("index", "--optimize")
    assert code == 0, err
    assert out.startswith("index : reconstruction complète : 3 ajoutés, 0 mis à jour, "
                          "0 marqué retiré")
    assert "changement n° 3" in out


def test_missing_archive_is_reported_in_one_line(paths: tuple[Path, Path], run_cli: Any) -> None:
    database, index_dir = paths
    with pytest.raises(StoreError, match="`python -m archive crawl URL`"):
        update_index(database, index_dir)
    code, out, err = run_cli("index")
    assert code == 6
    assert err.startswith("erreur : aucune archive dans ") and len(err.strip().splitlines()) == 1


def test_empty_archive_gives_an_empty_index(paths: tuple[Path, Path]) -> None:
    database, index_dir = paths
    Archive.open(database).close()
    report = update_index(database, index_dir)
    assert (report.full, report.documents, report.change_seq) == (True, 0, 0)
    open_current(index_dir).close()


def test_open_current_without_a_build_says_how_to_make_one(paths: tuple[Path, Path]) -> None:
    with pytest.raises(IndexUnavailable, match="python -m archive index"):
        open_current(paths[1])


def test_full_rebuild_swaps_while_a_searcher_is_open(paths: tuple[Path, Path]) -> None:
    database, index_dir = paths
    save(database, range(6))
    first = update_index(database, index_dir)
    ix = open_current(index_dir)
    old = ix.searcher()
    save(database, range(6, 9))
    second = update_index(database, index_dir, full=True)
    try:
        assert second.full and second.build != first.build
        assert os.path.realpath(index_dir / "current").endswith(second.build)
        assert old.doc_count() == 6
        assert len(list(old.all_stored_fields())) == 6
        reopened = open_current(index_dir)
        with reopened.searcher() as new:
            assert new.doc_count() == 9
        reopened.close()
        assert (index_dir / "builds" / first.build).is_dir()
    finally:
        old.close()
        ix.close()


def test_superseded_builds_are_pruned_but_the_previous_is_kept(
        paths: tuple[Path, Path]) -> None:
    database, index_dir = paths
    save(database, range(3))
    builds = [update_index(database, index_dir, full=True).build for _ in range(3)]
    assert sorted(p.name for p in (index_dir / "builds").iterdir()) == builds[1:]


def test_stray_files_and_half_built_builds_are_cleaned(paths: tuple[Path, Path]) -> None:
    database, index_dir = paths
    save(database, range(3))
    update_index(database, index_dir)
    build = current_build(index_dir)
    assert build is not None
    old_stray, new_stray = build / "_MAIN_7.toc.1700000000.1", build / "_MAIN_8.toc.1800000000.2"
    for stray in (old_stray, new_stray):
        stray.write_bytes(b"x")
    two_hours_ago = time.time() - 7200
    os.utime(old_stray, (two_hours_ago, two_hours_ago))
    half_built = index_dir / "builds" / "20200101T000000Z-1"
    half_built.mkdir()
    (half_built / "MAIN_x.seg").write_bytes(b"x")
    update_index(database, index_dir)
    assert not old_stray.exists() and new_stray.exists()
    assert not half_built.exists()


def test_index_built_with_another_schema_version_is_rebuilt(paths: tuple[Path, Path]) -> None:
    database, index_dir = paths
    save(database, range(3))
    update_index(database, index_dir)
    sync = index_dir / "current" / SYNC_FILE
    state = json.loads(sync.read_text())
    state["schema_version"] = SCHEMA_VERSION - 1
    sync.write_text(json.dumps(state))
    report = update_index(database, index_dir)
    assert report.full and report.documents == 3


def test_live_build_that_cannot_be_opened_is_rebuilt(paths: tuple[Path, Path]) -> None:
    database, index_dir = paths
    save(database, range(3))
    first = update_index(database, index_dir)
    for toc in (index_dir / "current").glob("_MAIN_*.toc"):
        toc.unlink()
    report = update_index(database, index_dir)
    assert report.full and report.build != first.build and report.documents == 3


def test_optimize_merges_segments(paths: tuple[Path, Path]) -> None:
    database, index_dir = paths
    save(database, range(3))
    update_index(database, index_dir)
    for i in range(3, 6):
        save(database, [i])
        update_index(database, index_dir)

    def segments() -> int:
        ix = open_current(index_dir)
        try:
            return len(ix._segments())
        finally:
            ix.close()

    assert segments() > 1
    report = update_index(database, index_dir, optimize=True)
    assert report.optimized and segments() == 1 and report.documents == 6


# ---- documents are validated before any writer sees them


def stored_article(**changes: Any) -> Any:
    base = dict(id=7, url="https://sn.notrecontinent.com/2024/01/01/x/", canonical_url=None,
                title="Titre", author="Aïssatou N’Diaye", author_key=None, author_slug=None,
                published=date(2024, 1, 1), modified=None, body="Texte.", edition="sn",
                categories=("Monde",), language="fr", status="published", withdrawn_at=None,
                withdrawn_reason=None, first_seen=NOW, last_seen=NOW, captured_at=None,
                version_count=1, change_seq=1)
    base.update(changes)
    return StoredArticle(**base)


def test_document_keeps_character_offsets_of_the_archived_body() -> None:
    body = "Début\x00\ud800 " + "x" * 300 + " l'armée"
    document = document_for(stored_article(body=body))
    assert len(document["body"]) == len(body)
    assert document["body"].endswith(" l'armée") and "\x00" not in document["body"]
    assert "x" * 200 not in document["body"]


@settings(max_examples=200, deadline=None)
@given(pieces=st.lists(st.sampled_from(["é" * 120, "x" * 150, "_" * 90, "7" * 60, "ﬁ" * 70,
                                        " ", "\n", "\t", "\x00", "-", "'", "’", "\u00a0",
                                        "\u2003", "北京" * 40, "word"]), max_size=12))
def test_only_runs_of_word_characters_past_the_limit_are_blanked(pieces: list[str]) -> None:
    # Whatever stands between them (spaces of any kind, controls, punctuation, other scripts).
    body = "".join(pieces)
    blanked = documents._OVERLONG_WORD.sub(lambda match: " " * len(match.group()),
                                           documents._CONTROL.sub(" ", body))
    assert documents._text(body, "body", "article 7") == blanked


def test_document_is_coerced_for_whoosh() -> None:
    document = document_for(stored_article(categories=("Monde, Afrique", "  ")))
    assert document["id"] == "7"
    assert document["published"] == datetime(2024, 1, 1)
    assert document["author_key"] == "aissatou n'diaye"
    assert document["categories"] == "Monde Afrique"
    assert document["withdrawn"] is False


@pytest.mark.parametrize("changes", [
    {"id": 0}, {"url": ""}, {"title": 12}, {"title": "", "body": ""}, {"status": "draft"},
    {"published": "2024-01-01"}, {"published": date(1066, 10, 14)}, {"categories": "Monde"},
])
def test_document_that_cannot_be_made_safe_is_refused(changes: dict[str, Any]) -> None:
    with pytest.raises(InvalidInput):
        document_for(stored_article(**changes))


# ---- kill -9 at a random moment


def _kill_at_random(data_dir: Path, args: list[str], delay: float) -> int | None:
    env = dict(os.environ, ARCHIVE_DATA_DIR=str(data_dir))
    proc = subprocess.Popen([sys.executable, "-m", "archive", "index", *args], env=env,
                            stdout=subprocess.DEVNULL, stderr=subprocess.PIPE,
                            start_new_session=True)
    try:
        proc.wait(timeout=delay)
    except subprocess.TimeoutExpired:
        # The whole group: writer processes of a parallel build die with their parent.
        os.killpg(proc.pid, signal.SIGKILL)
        proc.wait(timeout=30)
    finally:
        assert proc.stderr is not None
        proc.stderr.close()
    return proc.returncode


def _kill_runs_then_finish(data_dir: Path, database: Path, index_dir: Path, args: list[str],
                           delays: list[float], more_work: Callable[[int], None]) -> None:
    """Kill runs at the given moments, then let one finish; a run that ended before its kill
    gets new work and a shorter fuse, so at least one run is really killed on any machine."""
    killed = 0
    fuses = list(delays)
    for attempt in range(1, 9):
        if not fuses:
            break
        delay = fuses.pop(0)
        code = _kill_at_random(data_dir, args, delay)
        if code == -signal.SIGKILL:
            killed += 1
        else:
            more_work(attempt)
            if not fuses and not killed:
                fuses.append(delay / 2)
        if current_build(index_dir) is None:
            with pytest.raises(IndexUnavailable):
                open_current(index_dir)
        else:
            assert_consistent(index_dir, database)
    assert killed >= 1
    report = update_index(database, index_dir)
    assert report.change_seq == max_seq(database)
    assert assert_consistent(index_dir, database) == len(archive_ids(database))


def test_full_rebuild_killed_at_any_moment_leaves_a_consistent_index(
        settings: Settings) -> None:
    database, index_dir = settings.database_path, settings.index_dir
    with _full_rebuild_running(settings, writers=1) as (proc, workers):
        assert workers, "the full build never started its writer processes"
        # Killed while its writers write: whatever the machine's speed, mid-build.
        os.killpg(proc.pid, signal.SIGKILL)
        assert proc.wait(timeout=30) == -signal.SIGKILL
    # A first build killed leaves no index at all, never a broken one.
    assert current_build(index_dir) is None
    with pytest.raises(IndexUnavailable):
        open_current(index_dir)
    update_index(database, index_dir)
    save(database, range(2500, 2600))
    rng = random.Random(20261124)
    delays = [rng.uniform(0.5, 4.0) for _ in range(3)]
    _kill_runs_then_finish(settings.data_dir, database, index_dir, ["--full"], delays,
                           lambda attempt: save(database, range(2600, 2600 + 50 * attempt)))


RunningBuild = tuple["subprocess.Popen[str]", list[psutil.Process]]


@contextmanager
def _full_rebuild_running(settings: Settings, writers: int) -> Iterator[RunningBuild]:
    """Run `index --full` over 2,500 articles in its own session; yield it and its writer
    processes once WRITERS of them have started; kill whatever is left afterwards."""
    save(settings.database_path, range(2500))
    env = dict(os.environ, ARCHIVE_DATA_DIR=str(settings.data_dir))
    proc = subprocess.Popen([sys.executable, "-m", "archive", "index", "--full"], env=env,
                            stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True,
                            start_new_session=True)
    workers: list[psutil.Process] = []
    try:
        deadline = time.monotonic() + 60
        while len(workers) < writers and proc.poll() is None and time.monotonic() < deadline:
            workers = psutil.Process(proc.pid).children()
            time.sleep(0.02)
        yield proc, workers
    finally:
        for worker in workers:
            if worker.is_running():
                worker.kill()
        if proc.poll() is None:
            proc.kill()
            proc.wait(timeout=30)
        # The writers inherited the index lock's descriptor: it is free once they are gone,
        # which a killed process group reaches a moment after its leader.
        psutil.wait_procs(workers, timeout=30)
        assert proc.stderr is not None
        proc.stderr.close()


@pytest.mark.slow
def test_writer_processes_do_not_outlive_a_killed_run_nor_keep_the_lock(
        settings: Settings) -> None:
    with _full_rebuild_running(settings, writers=2) as (proc, workers):
        assert len(workers) == 2, "the full build never started its two writer processes"
        os.kill(proc.pid, signal.SIGKILL)
        proc.wait(timeout=30)
        _, alive = psutil.wait_procs(workers, timeout=10)
        assert not alive
        with IndexLock(settings.index_dir):
            pass


@pytest.mark.slow
def test_interrupted_full_rebuild_exits_130_leaving_no_build_and_no_writer(
        settings: Settings) -> None:
    with _full_rebuild_running(settings, writers=2) as (proc, workers):
        assert len(workers) == 2, "the full build never started its two writer processes"
        os.killpg(proc.pid, signal.SIGINT)  # Ctrl-C reaches the whole foreground group
        _, err = proc.communicate(timeout=60)
        assert proc.returncode == 130
        assert err.strip().splitlines()[-1] == "interrompu"
        _, alive = psutil.wait_procs(workers, timeout=10)
        assert not alive
        builds = settings.index_dir / "builds"
        assert not builds.exists() or not list(builds.iterdir())
        with IndexLock(settings.index_dir):
            pass


def test_ctrl_c_while_a_writer_is_forked_stops_the_full_build(
        paths: tuple[Path, Path], monkeypatch: pytest.MonkeyPatch) -> None:
    database, index_dir = paths
    save(database, range(60))
    monkeypatch.setattr(update, "_writer_processes", lambda articles: 2)
    before = set(psutil.Process().children())
    with ctrl_c_at_next_fork(), pytest.raises(KeyboardInterrupt):
        update_index(database, index_dir, full=True)
    assert current_build(index_dir) is None
    builds = index_dir / "builds"
    assert not builds.exists() or not list(builds.iterdir())
    assert set(psutil.Process().children()) <= before, "a writer outlived the interrupted build"
    with IndexLock(index_dir):
        pass


@pytest.mark.slow
def test_big_incremental_run_killed_at_any_moment_resumes(settings: Settings) -> None:
    database, index_dir = settings.database_path, settings.index_dir
    save(database, range(300))
    update_index(database, index_dir)
    save(database, range(300, 2300))
    save(database, range(0, 300), title="Titre modifié")
    rng = random.Random(42)
    delays = [rng.uniform(0.5, 3.5) for _ in range(3)]
    _kill_runs_then_finish(settings.data_dir, database, index_dir, [], delays,
                           lambda attempt: save(database, range(2300), title=f"Titre {attempt}"))


def test_incremental_run_writes_the_associated_words_of_its_segments(
        paths: tuple[Path, Path], monkeypatch: pytest.MonkeyPatch) -> None:
    from tests.test_index_bulk import assert_word_table_is_whoosh_s

    database, index_dir = paths
    rng = random.Random(3)
    vocabulary = ["".join(rng.choice("bcdfglmnprstv") + rng.choice("aeiou") for _ in range(3))
                  for _ in range(40)]

    def save_varied(numbers: range | list[int]) -> None:
        for i in numbers:  # each word in about one article out of five
            save(database, [i], body=" ".join(rng.sample(vocabulary, 8)))

    save_varied(range(30))
    update_index(database, index_dir)
    save_varied([30, 31, 3])
    written: list[int] = []
    real = update.write_missing_words
    monkeypatch.setattr(update, "write_missing_words",
                        lambda ix: written.append(real(ix)) or written[-1])
    update_index(database, index_dir)
    assert written == [0]  # the bulk writer wrote the new segment's with the segment
    ix = open_current(index_dir)
    try:
        assert len(ix._segments()) > 1 or ix.doc_count_all() == ix.doc_count()
        with ix.reader() as reader:
            assert all(read_segment_words(leaf) is not None for leaf, _ in reader.leaf_readers())
        assert_word_table_is_whoosh_s(ix)
    finally:
        ix.close()


def _contents_by_id(index_dir: Path) -> tuple[list[dict[str, Any]], list[Any]]:
    """The live documents' stored fields by id, and every term's postings by article id."""
    ix = open_current(index_dir)
    try:
        with ix.searcher() as searcher:
            reader = searcher.reader()
            ids = {docnum: fields["id"] for docnum, fields in reader.iter_docs()}
            terms = []
            for fieldname, term in reader.all_terms():
                postings = reader.postings(fieldname, term)
                items = []
                while postings.is_active():
                    items.append((ids[postings.id()], postings.weight(), postings.value() or b""))
                    postings.next()
                if items:
                    terms.append((fieldname, term, sorted(items)))
            return sorted(ids.values()), terms
    finally:
        ix.close()


def _segment_sizes(index_dir: Path) -> list[int]:
    ix = open_current(index_dir)
    try:
        return [segment.doc_count_all() for segment in ix._segments()]
    finally:
        ix.close()


def test_small_segments_are_folded_tier_by_tier_with_the_same_contents(
        paths: tuple[Path, Path], tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    database, index_dir = paths
    unfolded_dir = tmp_path / "unfolded"
    save(database, range(10))
    update_index(database, index_dir, copies=False)
    update_index(database, unfolded_dir, copies=False)
    monkeypatch.setattr(update, "SMALL_SEGMENT_DOCS", 10)  # the build's 10 are not small
    monkeypatch.setattr(update, "FOLD_DOCS", 5)  # tiers: under 5 documents, 5-9, 10 and more
    monkeypatch.setattr(update, "FOLD_FACTOR", 2)
    sizes = []
    for run, edited in enumerate([0, 1, 2, 10, 4]):  # article 10 is in a small segment
        save(database, [10 + 2 * run, 11 + 2 * run])  # each run: two new articles, one edit
        save(database, [edited], body=f"armée édition {run} Dakar")
        update_index(database, index_dir, copies=False)
        sizes.append(_segment_sizes(index_dir))
        with monkeypatch.context() as never:
            never.setattr(update, "_segments_to_fold", lambda segments: [])
            update_index(database, unfolded_dir, copies=False)
    # Each run's segment of 3 is folded into the previous small one while that is under 5;
    # the fourth run's fold makes a second segment of the 5-9 tier, so both are folded again,
    # into one of their 11 live documents (the first version of article 10 left out): no
    # longer small, and the next run starts a small segment again.
    assert sizes == [[10, 3], [10, 6], [10, 6, 3], [10, 11], [10, 11, 3]]
    assert len(_segment_sizes(unfolded_dir)) == 6
    assert _contents_by_id(index_dir) == _contents_by_id(unfolded_dir)
    assert assert_consistent(index_dir, database) == 20


def test_an_index_of_small_segments_only_folds_them_once_enough_exist(
        paths: tuple[Path, Path], monkeypatch: pytest.MonkeyPatch) -> None:
    # Tiers would fold such an index whole at most runs: it waits for MERGE_SMALL_SEGMENTS.
    database, index_dir = paths
    save(database, range(3))
    update_index(database, index_dir, copies=False)
    monkeypatch.setattr(update, "MERGE_SMALL_SEGMENTS", 3)
    sizes = []
    for run in range(3):
        save(database, [3 + run])
        update_index(database, index_dir, copies=False)
        sizes.append(_segment_sizes(index_dir))
    assert sizes == [[3, 1], [5], [5, 1]]
    assert assert_consistent(index_dir, database) == 6


def _failing_for(victim: str, how: str) -> Callable[[Any], dict[str, Any]]:
    """Return document_for, failing for VICTIM: refused by Whoosh, or by our own validation."""
    if how == "whoosh":
        return _refusing(victim)

    def invalid(stored_article: Any) -> dict[str, Any]:
        if str(stored_article.id) == victim:
            raise InvalidInput("texte illisible")
        return document_for(stored_article)

    return invalid


@pytest.mark.parametrize("how", ["whoosh", "validation"])
def test_a_fold_that_cannot_write_an_article_again_is_given_up_without_losing_it(
        paths: tuple[Path, Path], monkeypatch: pytest.MonkeyPatch,
        caplog: pytest.LogCaptureFixture, how: str) -> None:
    database, index_dir = paths
    save(database, range(10))
    update_index(database, index_dir, copies=False)
    monkeypatch.setattr(update, "SMALL_SEGMENT_DOCS", 10)
    monkeypatch.setattr(update, "FOLD_DOCS", 5)
    monkeypatch.setattr(update, "FOLD_FACTOR", 2)
    save(database, [10, 11], body="tirailleurs du premier lot Dakar")
    update_index(database, index_dir, copies=False)
    with Archive.open(database, readonly=True) as archive:
        victim = str(archive.reads.get_article_by_url(article(10).url).id)
    before = _contents_by_id(index_dir)
    save(database, [12, 13])  # a second small segment of the lowest tier: a fold is due
    monkeypatch.setattr(update, "document_for", _failing_for(victim, how))
    report = update_index(database, index_dir, copies=False)
    assert report.added == 2 and report.skipped_invalid == 0  # the run's own articles went in
    assert _segment_sizes(index_dir) == [10, 2, 2]  # the small segments stay as they were
    given_up = [r.getMessage() for r in caplog.records if "fusion" in r.getMessage()]
    assert len(given_up) == 1 and f"({victim})" in given_up[0]
    ids, terms = _contents_by_id(index_dir)
    assert victim in ids and len(ids) == 14

    def tirailleurs(terms: list[Any]) -> list[Any]:  # the victim's postings, as first written
        return [postings for name, term, postings in terms
                if (name, term) == ("body", b"tirailleur")]

    assert tirailleurs(terms) == tirailleurs(before[1]) and len(tirailleurs(terms)[0]) == 2
    monkeypatch.setattr(update, "document_for", document_for)  # the code is mended
    save(database, [14])
    update_index(database, index_dir, copies=False)
    assert _segment_sizes(index_dir) == [10, 5]
    assert victim in _contents_by_id(index_dir)[0]
    assert assert_consistent(index_dir, database) == 15


def test_an_edit_the_writer_refuses_keeps_the_article_s_previous_version(
        paths: tuple[Path, Path], monkeypatch: pytest.MonkeyPatch) -> None:
    database, index_dir = paths
    save(database, range(6))
    update_index(database, index_dir, copies=False)
    save(database, [2], body="une version que l'index refuse")
    save(database, [3], body="une version acceptée Dakar")
    with Archive.open(database, readonly=True) as archive:
        victim = str(archive.reads.get_article_by_url(article(2).url).id)
        edited = str(archive.reads.get_article_by_url(article(3).url).id)
    monkeypatch.setattr(update, "document_for", _refusing(victim))
    report = update_index(database, index_dir, copies=False)
    assert (report.updated, report.skipped_invalid) == (1, 1)
    ix = open_current(index_dir)
    try:
        records = {r["id"]: r for r in stored(ix)}
        assert ix.doc_count() == len(records) == 6
        with ix.searcher() as searcher:
            body = QueryParser("body", ix.schema)
            assert [hit["id"] for hit in searcher.search(body.parse("acceptée"))] == [edited]
            assert not searcher.search(body.parse("refuse"))
            assert victim in records
    finally:
        ix.close()


def _count_in_memory_copies(monkeypatch: pytest.MonkeyPatch) -> list[str | None]:
    """Return the list Whoosh appends a name to each time it copies a file into memory."""
    from whoosh.filedb import structfile

    copied: list[str | None] = []
    copy = structfile.BufferFile.__init__

    def counted(self: Any, buf: Any, name: str | None = None, onclose: Any = None) -> None:
        copied.append(name)
        copy(self, buf, name=name, onclose=onclose)

    monkeypatch.setattr(structfile.BufferFile, "__init__", counted)
    return copied


@pytest.mark.parametrize("way", ["fast", "careful"])
def test_a_full_build_never_copies_its_segments_into_memory(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch, way: str) -> None:
    # Whoosh wraps each file of a memory-mapped compound segment in a BytesIO copy: a build
    # whose index was created through mmap held about the whole new index in memory when it
    # counted its documents at the end (1.7 GB at 100,000 articles), and the careful way's
    # writers copied every segment already written at each batch.
    from indexer.rebuild import BuildFailed

    database, index_dir = tmp_path / "archive.sqlite3", tmp_path / "index"
    save(database, range(update.BATCH_SIZE + 50))  # the careful way writes two batches
    if way == "careful":
        def refuse(*args: Any, **kwargs: Any) -> Any:
            raise BuildFailed("the fast way is refused in this test")
        monkeypatch.setattr(update, "write_archive", refuse)
    copied = _count_in_memory_copies(monkeypatch)
    report = update_index(database, index_dir, full=True, copies=False)
    assert report.full and report.documents == update.BATCH_SIZE + 50
    assert copied == []
    assert_consistent(index_dir, database)


@pytest.mark.parametrize(("build_mb", "expected_mb"), [(None, 768), (64, 64)])
def test_a_full_builds_writers_buffer_what_the_free_memory_allows_unless_told(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch, build_mb: int | None,
        expected_mb: int) -> None:
    # Every segment costs every query a read per term: a fixed 1 GB buffer made 37 segments
    # at a million articles. 3 GiB free, one writer: half of it, two bytes of peak memory per
    # byte of postings.
    database, index_dir = tmp_path / "archive.sqlite3", tmp_path / "index"
    save(database, range(30))
    monkeypatch.setattr(update, "available_bytes", lambda: 3 * 2**30)
    limits: list[int] = []
    write_archive = update.write_archive

    def noted(*args: Any, limit_bytes: int, **kwargs: Any) -> Any:
        limits.append(limit_bytes)
        return write_archive(*args, limit_bytes=limit_bytes, **kwargs)

    monkeypatch.setattr(update, "write_archive", noted)
    report = update_index(database, index_dir, full=True, copies=False, build_mb=build_mb)
    assert report.documents == 30
    assert limits == [expected_mb * 2**20]


def test_opening_the_live_build_never_copies_its_segments_into_memory(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    # Opened through mmap, every segment was copied into the opener (a million-article index of
    # 8.2 GB: 15.7 GB of RSS in the benchmark's query sampling, the index pushed out of the
    # file cache); `open_current` reads its files instead.
    database, index_dir = tmp_path / "archive.sqlite3", tmp_path / "index"
    save(database, range(40))
    update_index(database, index_dir, full=True, copies=False)
    copied = _count_in_memory_copies(monkeypatch)
    ix = open_current(index_dir)
    try:
        with ix.searcher() as searcher:
            assert searcher.doc_count() == 40
            assert searcher.doc_frequency("body", next(iter(searcher.lexicon("body")))) > 0
    finally:
        ix.close()
    assert copied == []
