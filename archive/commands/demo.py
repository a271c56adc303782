"""``python -m archive demo``: the whole product on one machine, with no internet.

Serves the built-in replica of the platform on loopback, crawls it into the archive, indexes
it, and serves the front end under gunicorn until Ctrl-C.
"""

from __future__ import annotations

import os
import signal
import socket
import subprocess
import sys
import time
from pathlib import Path

import click

from archive.cli import settings_from
from archive.config import Settings
from archive.errors import InvalidInput
from archive.progress import terminal_progress

# The replica is our own server on loopback: a short delay keeps the demo quick while the
# crawler still goes through its real politeness scheduler.
DEMO_CRAWL_DELAY = 0.02
REPO_ROOT = Path(__file__).resolve().parents[2]


def _check_port_free(port: int) -> None:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as probe:
        probe.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        try:
            probe.bind(("127.0.0.1", port))
        except OSError:
            raise InvalidInput(
                f"port {port} on 127.0.0.1 is already in use; choose another with --port"
            ) from None


def _gunicorn_command(port: int) -> list[str]:
    command = [sys.executable, "-m", "gunicorn", "--bind", f"127.0.0.1:{port}"]
    if (REPO_ROOT / "gunicorn.conf.py").is_file() and (REPO_ROOT / "wsgi.py").is_file():
        return [*command, "-c", str(REPO_ROOT / "gunicorn.conf.py"),
                "--chdir", str(REPO_ROOT), "wsgi:app"]
    return [*command, "--workers", "2", "--threads", "4", "archive.web:create_app()"]


def _wait_until_serving(port: int, server: subprocess.Popen[bytes], timeout: float) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if server.poll() is not None:
            raise InvalidInput(f"gunicorn stopped at start-up (exit {server.returncode})")
        try:
            with socket.create_connection(("127.0.0.1", port), timeout=0.5):
                return
        except OSError:
            time.sleep(0.2)
    raise InvalidInput(f"gunicorn did not answer on port {port} within {timeout:.0f} s")


def run_demo(
    settings: Settings, *, port: int, articles: int, replica_port: int = 8101, serve: bool = True
) -> None:
    """Serve the replica, crawl it, index it and (if SERVE) serve the UI until interrupted."""
    from archive.crawler import crawl
    from archive.replica import Corpus, serve_replica
    from indexer.update import update_index

    if serve:
        _check_port_free(port)
    settings = settings.with_changes(crawl_delay=DEMO_CRAWL_DELAY)
    settings.data_dir.mkdir(parents=True, exist_ok=True)
    corpus = Corpus(size=articles)
    # Fixed replica ports make a second demo on the same data directory an incremental crawl.
    with serve_replica(corpus, port=replica_port) as replica:
        for edition, url in replica.urls.items():
            click.echo(f"réplique, édition {edition} : {url}")
        progress = terminal_progress("moisson")
        try:
            report = crawl(list(replica.urls.values()), settings, progress=progress)
        finally:
            if progress is not None:
                progress.close()
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
              help="Port of the web front end on 127.0.0.1.")
@click.option("--articles", default=60, show_default=True, type=click.IntRange(1, 100_000),
              help="Size of the replica's corpus.")
@click.option("--replica-port", default=8101, show_default=True, type=click.IntRange(1, 65533),
              help="First of the replica's ports (one per edition) on 127.0.0.1.")
@click.option("--no-serve", is_flag=True, help="Stop after crawling and indexing.")
@click.pass_context
def command(
    ctx: click.Context, port: int, articles: int, replica_port: int, no_serve: bool
) -> None:
    """Serve the built-in replica, crawl it, index it, and serve the front end."""
    run_demo(settings_from(ctx), port=port, articles=articles, replica_port=replica_port,
             serve=not no_serve)
