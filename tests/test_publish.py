"""``python -m archive publish``: a release is a consistent read-only snapshot sent whole with
rsync, switched in by one rename, and served read-only by the web (``ARCHIVE_RELEASE_DIR``);
every failure is one French line, a documented exit code, and no half release live."""

from __future__ import annotations

import json
import os
import shutil
import sqlite3
import subprocess
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from publishing import add_article, current_release, require_tool, run_publish, tree
from web_archive import BuiltArchive, build_archive
from web_servers import free_port

from archive.config import load_settings
from archive.errors import InvalidInput, PublishFailed
from archive.publish.layout import INCOMING, MARKER, RELEASES
from archive.publish.publisher import PublishLock, publish
from archive.publish.release import stage_release
from archive.publish.replicas import Replica, parse_destination
from archive.store import Archive
from archive.web import create_app

T0 = datetime(2026, 3, 1, 6, 0, tzinfo=UTC)


@pytest.fixture
def built(tmp_path: Path) -> BuiltArchive:
    require_tool("rsync", "rsync")
    built = build_archive(tmp_path / "data", 12, edits=1)
    add_article(built.data_dir, 100, "aqueduc")
    return built


def _publish(built: BuiltArchive, *dests: Path, when: datetime = T0, keep: int = 3,
             grace: float = 3600.0, init: bool = True) -> str:
    settings = load_settings(data_dir=built.data_dir)
    report = publish(settings, [str(d) for d in dests], init=init, keep=keep,
                     grace_seconds=grace, clock=lambda: when)
    assert not report.failures, report.lines()
    return report.manifest.name


def test_publish_puts_a_whole_release_live_on_every_host(built: BuiltArchive,
                                                         tmp_path: Path) -> None:
    web1, web2 = tmp_path / "web1", tmp_path / "web2"
    done = run_publish(built.data_dir, "--init", str(web1), str(web2))
    assert done.returncode == 0, done.stderr
    assert "2 hôtes sur 2 à jour" in done.stdout
    for web in (web1, web2):
        release = web / "current"
        manifest = json.loads((release / "release.json").read_text(encoding="utf-8"))
        assert current_release(web) == manifest["name"]
        assert (web / MARKER).is_file() and not (web / RELEASES / INCOMING).exists()
        with Archive.open(release / "archive.sqlite3", readonly=True) as snapshot:
            assert snapshot.reads.max_change_seq() == manifest["change_seq"]
            record = snapshot.captures.capture_record(1)
            assert record is not None
            assert snapshot.captures.warc_record(record).startswith(b"\x1f\x8b")
        journal = sqlite3.connect(release / "archive.sqlite3").execute(
            "PRAGMA journal_mode").fetchone()[0]
        assert journal == "delete"
        assert (release / "index" / "current").resolve().parent.name == "builds"
        assert (release / "index" / "copies.sqlite3").is_file()


def test_leftovers_of_a_killed_indexing_run_are_not_published(built: BuiltArchive,
                                                              tmp_path: Path) -> None:
    live = (built.data_dir / "index" / "current").resolve()
    strays = ["_MAIN_9.toc.1717171717", ".sync.json.4242.tmp", "MAIN_x.words.npz.tmp"]
    for name in strays:
        (live / name).write_bytes(b"half written")
    web = tmp_path / "web"
    _publish(built, web)
    build = web / "current" / "index" / "builds" / live.name
    assert (build / "sync.json").is_file()
    assert not [name for name in strays if (build / name).exists()]


def test_a_second_release_hard_links_every_unchanged_file_to_the_first(
        built: BuiltArchive, tmp_path: Path) -> None:
    web = tmp_path / "web"
    first = _publish(built, web)
    add_article(built.data_dir, 101, "viaduc")
    second = _publish(built, web, when=T0 + timedelta(minutes=5))
    old, new = web / RELEASES / first, web / RELEASES / second
    assert current_release(web) == second
    build = next((old / "index" / "builds").iterdir()).name
    segments = [p.name for p in (old / "index" / "builds" / build).iterdir()
                if p.name.endswith(".seg")]
    assert segments
    for name in segments:  # the build's segments written before the first release
        assert (old / "index" / "builds" / build / name).stat().st_ino == \
               (new / "index" / "builds" / build / name).stat().st_ino
    assert (old / "archive.sqlite3").stat().st_ino != (new / "archive.sqlite3").stat().st_ino


def test_the_web_serves_a_release_read_only_and_follows_the_switch(
        built: BuiltArchive, tmp_path: Path) -> None:
    web = tmp_path / "web"
    first = _publish(built, web)
    settings = load_settings(data_dir=tmp_path / "unused", release_dir=web)
    app = create_app({"SETTINGS": settings.with_changes(searcher_check_seconds=0.0),
                      "TESTING": True})
    client = app.test_client()
    before = tree(web / RELEASES / first)
    answer = client.get("/api/search?q=aqueduc")
    assert answer.status_code == 200 and answer.get_json()["total"] == 1
    assert answer.headers["X-Archive-Release"] == first
    assert client.get("/api/search?q=viaduc").get_json()["total"] == 0
    add_article(built.data_dir, 101, "viaduc")
    second = _publish(built, web, when=T0 + timedelta(minutes=5))
    served = tree(web / RELEASES / second)
    found = client.get("/api/search?q=viaduc")
    assert found.get_json()["total"] == 1
    assert found.headers["X-Archive-Release"] == second
    hit = found.get_json()["hits"][0]
    assert client.get(f"/article/{hit['id']}").status_code == 200
    assert client.get(f"/article/{hit['id']}/version/1/capture").status_code == 200
    health = client.get("/healthz")
    assert health.status_code == 200 and health.get_json()["release"] == second
    app.extensions["archive"].close()
    assert tree(web / RELEASES / first) == before, "the web wrote into a release"
    assert tree(web / RELEASES / second) == served, "the web wrote into a release"


def test_a_destination_that_is_not_a_publish_directory_is_left_untouched(
        built: BuiltArchive, tmp_path: Path) -> None:
    other = tmp_path / "srv"
    other.mkdir()
    (other / "notes.txt").write_text("à garder", encoding="utf-8")
    web = tmp_path / "web"
    done = run_publish(built.data_dir, "--init", str(web), str(other))
    assert done.returncode == 2
    assert "n'est pas un répertoire de publication" in done.stderr
    assert "Traceback" not in done.stderr and len(done.stderr.splitlines()) == 1
    assert sorted(p.name for p in other.iterdir()) == ["notes.txt"]
    assert not (web / RELEASES).exists() or not any((web / RELEASES).iterdir())


def test_an_absent_destination_is_created_only_with_init(built: BuiltArchive,
                                                         tmp_path: Path) -> None:
    done = run_publish(built.data_dir, str(tmp_path / "web"))
    assert done.returncode == 2 and "--init" in done.stderr
    assert not (tmp_path / "web").exists()


def test_an_unreachable_host_fails_with_code_9_and_the_others_are_published(
        built: BuiltArchive, tmp_path: Path) -> None:
    require_tool("ssh", "openssh-client")
    web = tmp_path / "web"
    closed = free_port()  # nobody listens there: the connection is refused at once
    done = run_publish(built.data_dir, "--init", "--ssh", f"ssh -p {closed}", str(web),
                       "127.0.0.1:/srv/archive/publish")
    assert done.returncode == 9, done.stderr
    assert "127.0.0.1:/srv/archive/publish : hôte injoignable par ssh" in done.stdout
    assert done.stderr.startswith("erreur : 1 hôte sur 2 n'a pas reçu la version")
    assert (web / "current" / "release.json").is_file()


# Stands for ssh where no sshd runs: drops ssh's options and the host name, then runs the remote
# command line as sshd does, through the shell (`sh -c` of the words joined by spaces).
LOOPBACK_SSH = """#!/bin/sh
while [ $# -gt 0 ]; do
  case "$1" in -o|-p|-i|-l) shift 2 ;; -*) shift ;; *) break ;; esac
done
shift
exec sh -c "$*"
"""


def test_a_host_path_destination_takes_every_step_through_the_ssh_command(
        built: BuiltArchive, tmp_path: Path) -> None:
    ssh = tmp_path / "loopback-ssh"
    ssh.write_text(LOOPBACK_SSH, encoding="utf-8")
    ssh.chmod(0o755)
    web = tmp_path / "web host"  # a space: every remote word must be quoted
    first = run_publish(built.data_dir, "--init", "--ssh", str(ssh), f"web1:{web}")
    assert first.returncode == 0, first.stderr
    add_article(built.data_dir, 101, "viaduc")
    second = run_publish(built.data_dir, "--ssh", str(ssh), "--keep", "1", "--grace", "0",
                         f"web1:{web}")
    assert second.returncode == 0, second.stderr
    name = current_release(web)
    assert f"publication {name} : 1 hôte sur 1 à jour" in second.stdout
    assert [p.name for p in (web / RELEASES).iterdir()] == [name]
    with Archive.open(web / "current" / "archive.sqlite3", readonly=True) as snapshot:
        assert snapshot.reads.get_article_by_url(
            "https://sn.notrecontinent.com/2025/07/18/nouvelle-101/") is not None


def test_a_host_whose_transfer_fails_keeps_its_release_while_the_others_switch(
        built: BuiltArchive, tmp_path: Path) -> None:
    web1, web2 = tmp_path / "web1", tmp_path / "web2"
    first = _publish(built, web1, web2)
    (web2 / RELEASES / INCOMING).write_text("not a directory", encoding="utf-8")
    add_article(built.data_dir, 101, "viaduc")
    done = run_publish(built.data_dir, str(web1), str(web2))
    assert done.returncode == 9, done.stderr
    assert f"{web2} : ÉCHEC, garde sa version précédente (" in done.stdout
    assert done.stderr.startswith("erreur : 1 hôte sur 2 n'a pas reçu la version")
    assert current_release(web1) != first and current_release(web2) == first
    assert not (web2 / RELEASES / INCOMING).exists()  # the failed transfer was cleared away
    again = run_publish(built.data_dir, str(web1), str(web2))
    assert again.returncode == 0, again.stderr
    assert current_release(web1) == current_release(web2)


def test_a_second_publish_of_the_same_data_directory_exits_with_code_8(
        built: BuiltArchive, tmp_path: Path) -> None:
    with PublishLock(built.data_dir / "publish" / ".lock"):
        done = run_publish(built.data_dir, "--init", str(tmp_path / "web"))
    assert done.returncode == 8
    assert done.stderr.startswith("erreur : une autre publication est en cours (pid ")
    assert not (tmp_path / "web").exists()


def test_a_release_that_did_not_arrive_whole_is_never_switched_in(
        built: BuiltArchive, tmp_path: Path) -> None:
    web = tmp_path / "web"
    first = _publish(built, web)
    staging = tmp_path / "staging"
    stage_release(load_settings(data_dir=built.data_dir), staging, "20260301T070000Z-1",
                  now=T0)
    replica = Replica(parse_destination(str(web)))
    replica.receive(str(staging), [first])
    (web / RELEASES / INCOMING / "archive.sqlite3").unlink()
    with pytest.raises(PublishFailed, match="diffère de la source"):
        replica.check(str(staging))
    assert current_release(web) == first


def test_old_releases_go_after_the_grace_period_beyond_the_last_kept(
        built: BuiltArchive, tmp_path: Path) -> None:
    web = tmp_path / "web"
    names = [_publish(built, web, when=T0 + timedelta(minutes=i), keep=2, grace=3600.0)
             for i in range(3)]
    assert sorted(p.name for p in (web / RELEASES).iterdir()) == names  # within the grace
    later = _publish(built, web, when=T0 + timedelta(hours=2), keep=2, grace=3600.0)
    assert sorted(p.name for p in (web / RELEASES).iterdir()) == [names[2], later]
    assert current_release(web) == later


def test_without_rsync_nothing_is_published_and_the_code_is_10(built: BuiltArchive,
                                                               tmp_path: Path) -> None:
    bin_dir = tmp_path / "bin"
    bin_dir.mkdir()
    for tool in ("sh", "mv", "ln", "mkdir", "ls", "rm"):
        found = shutil.which(tool)
        assert found is not None
        (bin_dir / tool).symlink_to(found)
    done = run_publish(built.data_dir, "--init", str(tmp_path / "web"),
                       env={**os.environ, "PATH": str(bin_dir)})
    assert done.returncode == 10, done.stderr
    assert done.stderr == ("erreur : rsync est introuvable sur cette machine : installez-le "
                           "(paquet Debian rsync) ; rien n'a été publié\n")
    assert not (tmp_path / "web").exists()


def test_a_full_disk_on_a_host_is_named_as_such() -> None:
    replica = Replica(parse_destination("web1:/srv/archive/publish"))
    said = ('rsync: [receiver] write failed on "/srv/archive/publish/releases/.incoming/'
            'archive.sqlite3": No space left on device (28)\nrsync error: error in file IO '
            '(code 11) at receiver.c(380) [receiver=3.2.7]\n')
    error = replica._failure("transfert", subprocess.CompletedProcess([], 11, "", said))
    assert error.message == ("web1:/srv/archive/publish : plus de place sur son disque "
                             "(transfert) ; libérez de la place (ou baissez --keep) et relancez")


@pytest.mark.parametrize(("text", "host", "path"), [
    ("web1:/srv/archive/publish", "web1", "/srv/archive/publish"),
    ("archive@web2:publish", "archive@web2", "publish"),
    ("/srv/a:b", None, "/srv/a:b"),
    ("./web:1", None, "./web:1"),
])
def test_destinations_are_read_as_rsync_reads_them(text: str, host: str | None,
                                                   path: str) -> None:
    destination = parse_destination(text)
    assert (destination.host, destination.path) == (host, path)


@pytest.mark.parametrize("text", ["rsync://web1/archive", "web1::archive", "web1:", ""])
def test_unusable_destinations_are_refused(text: str) -> None:
    with pytest.raises(InvalidInput):
        parse_destination(text)
