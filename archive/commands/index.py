"""``python -m archive index``: bring the search index in step with the archive."""

from __future__ import annotations

import sys

import click

from archive.cli import settings_from
from indexer.update import update_index


@click.command("index")
@click.option("--full", is_flag=True,
              help="Rebuild the whole index into a new build and swap it in atomically.")
@click.option("--optimize", is_flag=True, help="Merge the index's segments into one afterwards.")
@click.pass_context
def command(ctx: click.Context, full: bool, optimize: bool) -> None:
    """Index new and changed articles (the first run, or --full, builds everything).

    Only one run at a time: a second one exits at once with code 8. A run that is killed
    leaves the served index as it was; the next run completes the work.
    """
    settings = settings_from(ctx)
    shown = False

    def show_progress(done: int, total: int) -> None:
        nonlocal shown
        shown = True
        click.echo(f"\rindex : {done:,}/{total:,}", nl=False, err=True)

    try:
        report = update_index(settings.database_path, settings.index_dir, full=full,
                              optimize=optimize, build_mb=settings.index_build_mb,
                              progress=show_progress if sys.stderr.isatty() else None)
    finally:
        if shown:
            click.echo("", err=True)
    click.echo(report.summary())
