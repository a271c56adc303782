"""``python -m archive crawl``: summary line, report, index step and documented exit codes."""

from __future__ import annotations

import json
import socket
from collections.abc import Callable
from pathlib import Path

from archive.replica import Corpus, serve_replica

RunCli = Callable[..., tuple[int, str, str]]


def test_crawl_prints_a_summary_writes_the_report_and_updates_the_index(
    run_cli: RunCli, data_dir: Path, tmp_path: Path
) -> None:
    served = serve_replica(Corpus(12, editions=("sn", "ci")))
    try:
        report_path = tmp_path / "run.json"
        code, out, err = run_cli("crawl", *served.urls.values(), "--delay", "0",
                                 "--report", str(report_path))
    finally:
        served.stop()
    assert code == 0, err
    lines = out.splitlines()
    assert lines[0] == (f"12 articles archivés de 2 sites : 12 nouveaux, 0 modifié, 0 inchangé, "
                        f"0 retiré ; 0 erreur (rapport : {report_path})")
    assert json.loads(report_path.read_text(encoding="utf-8"))["counts"]["new"] == 12
    assert len(lines) == 2, "the index update reports on the second line"
    assert "collecte [" not in err  # no progress bar when stderr is not a terminal


def test_invalid_url_exits_2(run_cli: RunCli) -> None:
    code, _, err = run_cli("crawl", "ftp://example.org/", "--no-index")
    assert code == 2
    assert err.startswith("erreur : 'ftp://example.org/' n'est pas l'adresse d'un site")


def test_unreachable_site_exits_5_with_one_line(run_cli: RunCli) -> None:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    code, _, err = run_cli("crawl", f"http://127.0.0.1:{port}/", "--no-index")
    assert code == 5
    assert err.count("\n") == 1 and err.startswith("erreur : aucun site n'a répondu")


def test_help_documents_the_exit_codes(run_cli: RunCli) -> None:
    code, out, _ = run_cli("crawl", "--help")
    assert code == 0
    for line in ("0   terminé", "2   adresse ou option invalide", "5   site injoignable",
                 "6   erreur d'archive", "8   index verrouillé"):
        assert line in out


def test_locked_index_exits_8_after_saving_the_crawl(run_cli: RunCli, data_dir: Path) -> None:
    from archive.store import Archive
    from indexer.lock import IndexLock

    served = serve_replica(Corpus(5, editions=("sn",)))
    lock = IndexLock(data_dir / "index")
    lock.acquire()
    try:
        code, out, err = run_cli("crawl", served.url, "--delay", "0")
    finally:
        lock.release()
        served.stop()
    assert code == 8
    assert out.startswith("5 articles archivés")
    assert "la collecte elle-même est enregistrée" in err
    with Archive.open(data_dir / "archive.sqlite3", readonly=True) as archive:
        assert archive.reads.stats().articles == 5
