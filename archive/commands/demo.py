"""``python -m archive demo``: the whole product on one machine, with no internet.

Serves the built-in replica of the platform on loopback (its readable stories first), crawls
it into the archive, has the platform edit a few articles, withdraw one and withdraw then
bring back another between crawl passes (so versions, diffs, withdrawals and the changes
page are there on first look), indexes it, and serves the front end under gunicorn until
Ctrl-C.
"""

from __future__ import annotations

import os
import signal
import socket
import subprocess
import sys
import time
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING

import click

from archive.cli import settings_from
from archive.config import Settings
from archive.errors import InvalidInput
from archive.progress import terminal_progress
from archive.replica.stories import STORIES

if TYPE_CHECKING:
    from archive.crawler.report import CrawlReport
    from archive.replica import ReplicaState

# The replica is our own server on loopback: a short delay keeps the demo quick while the
# crawler still goes through its real politeness scheduler.
DEMO_CRAWL_DELAY = 0.02
REPO_ROOT = Path(__file__).resolve().parents[2]


@dataclass(frozen=True)
class DemoChanges:
    """What the demo's platform does between crawl passes (post ids of its stories)."""

    edited: tuple[int, ...] = tuple(i + 1 for i, story in enumerate(STORIES) if story.edits)
    withdrawn: int = 13
    returning: int = 16

    def within(self, articles: int) -> DemoChanges:
        """Return the changes that concern a corpus of ARTICLES articles (0 for none)."""
        return DemoChanges(
            edited=tuple(post for post in self.edited if post <= articles),
            withdrawn=self.withdrawn if self.withdrawn <= articles else 0,
            returning=self.returning if self.returning <= articles else 0,
        )


DEMO_CHANGES = DemoChanges()


def _crawl_pass(settings: Settings, urls: list[str], label: str) -> CrawlReport:
    from archive.crawler import crawl

    progress = terminal_progress(label)
    try:
        return crawl(urls, settings, progress=progress)
    finally:
        if progress is not None:
            progress.close()


def _edit_and_withdraw(state: ReplicaState, changes: DemoChanges) -> None:
    for post in changes.edited:
        state.edit(post)
    for post in (changes.withdrawn, changes.returning):
        if post:
            state.withdraw(post, "404")


def crawl_with_changes(settings: Settings, state: ReplicaState, urls: list[str],
                       changes: DemoChanges) -> list[CrawlReport]:
    """Crawl the replica; then edit and withdraw, crawl; then bring one back, crawl.

    On a data directory that already holds an archive the platform is put straight into
    its final state and crawled once, so running the demo again changes nothing.
    """
    from archive.store import Archive

    earlier = False
    if settings.database_path.exists():
        with Archive.open(settings.database_path) as archive:
            earlier = archive.reads.stats().articles > 0
    if earlier:
        _edit_and_withdraw(state, changes)
        if changes.returning:
            state.restore(changes.returning)
        return [_crawl_pass(settings, urls, "collecte")]
    reports = [_crawl_pass(settings, urls, "collecte")]
    _edit_and_withdraw(state, changes)
    reports.append(_crawl_pass(settings, urls, "collecte après modifications et retraits"))
    if changes.returning:
        state.restore(changes.returning)
        reports.append(_crawl_pass(settings, urls, "collecte après un retour"))
    return reports


def _check_port_free(port: int) -> None:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as probe:
        probe.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        try:
            probe.bind(("127.0.0.1", port))
        except OSError:
            raise InvalidInput(
                f"le port {port} de 127.0.0.1 est déjà pris ; choisissez-en un autre avec --port"
            ) from None


def _gunicorn_command(port: int) -> list[str]:
    # The demo says in French where it serves; gunicorn's own lines (French too) are kept to
    # its warnings and errors.
    command = [sys.executable, "-m", "gunicorn", "--bind", f"127.0.0.1:{port}",
               "--log-level", "warning"]
    if (REPO_ROOT / "gunicorn.conf.py").is_file() and (REPO_ROOT / "wsgi.py").is_file():
        return [*command, "-c", str(REPO_ROOT / "gunicorn.conf.py"),
                "--chdir", str(REPO_ROOT), "wsgi:app"]
    return [*command, "--workers", "2", "--threads", "4",
            "--logger-class", "archive.web.gunicorn_french.FrenchLogger",
            "archive.web:create_app()"]


def _wait_until_serving(port: int, server: subprocess.Popen[bytes], timeout: float) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if server.poll() is not None:
            raise InvalidInput(f"gunicorn s'est arrêté au démarrage (code {server.returncode})")
        try:
            with socket.create_connection(("127.0.0.1", port), timeout=0.5):
                return
        except OSError:
            time.sleep(0.2)
    raise InvalidInput(f"gunicorn n'a pas répondu sur le port {port} en {timeout:.0f} s")


def run_demo(
    settings: Settings, *, port: int, articles: int, replica_port: int = 8101, serve: bool = True
) -> None:
    """Serve the replica, crawl it, index it and (if SERVE) serve the UI until interrupted."""
    from archive.replica import Corpus, serve_replica
    from indexer.update import update_index

    if serve:
        _check_port_free(port)
    settings = settings.with_changes(crawl_delay=DEMO_CRAWL_DELAY)
    settings.data_dir.mkdir(parents=True, exist_ok=True)
    corpus = Corpus(size=articles, stories=True)
    # Fixed replica ports make a second demo on the same data directory an incremental crawl.
    with serve_replica(corpus, port=replica_port) as replica:
        for edition, url in replica.urls.items():
            click.echo(f"réplique, édition {edition} : {url}")
        reports = crawl_with_changes(settings, replica.state, list(replica.urls.values()),
                                     DEMO_CHANGES.within(articles))
    for report in reports:
        click.echo(report.summary())
    index_report = update_index(settings.database_path, settings.index_dir,
                                build_mb=settings.index_build_mb)
    click.echo(index_report.summary())
    if not serve:
        return
    env = dict(os.environ, ARCHIVE_DATA_DIR=str(settings.data_dir.resolve()))
    server = subprocess.Popen(_gunicorn_command(port), env=env)
    try:
        _wait_until_serving(port, server, timeout=30)
        click.echo(f"\nL'archive est servie sur http://127.0.0.1:{port}/  (Ctrl-C pour arrêter)")
        server.wait()
    except KeyboardInterrupt:
        click.echo("\narrêt…")
    finally:
        if server.poll() is None:
            server.send_signal(signal.SIGTERM)
            try:
                server.wait(timeout=15)
            except subprocess.TimeoutExpired:
                server.kill()
                server.wait()


@click.command(name="demo")
@click.option("--port", default=8000, show_default=True, type=click.IntRange(1, 65535),
              metavar="PORT", help="Port du site web sur 127.0.0.1.")
@click.option("--articles", default=len(STORIES), show_default=True,
              type=click.IntRange(1, 100_000), metavar="N",
              help="Taille du corpus de la réplique : ses récits lisibles d'abord, puis du texte "
                   "généré.")
@click.option("--replica-port", default=8101, show_default=True, type=click.IntRange(1, 65533),
              metavar="PORT",
              help="Premier des ports de la réplique (un par édition) sur 127.0.0.1.")
@click.option("--no-serve", is_flag=True, help="S'arrêter après la collecte et l'indexation.")
@click.pass_context
def command(
    ctx: click.Context, port: int, articles: int, replica_port: int, no_serve: bool
) -> None:
    """Servir la réplique intégrée, la collecter, l'indexer, puis servir le site web."""
    run_demo(settings_from(ctx), port=port, articles=articles, replica_port=replica_port,
             serve=not no_serve)
