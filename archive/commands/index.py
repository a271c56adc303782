"""``python -m archive index``: bring the search index in step with the archive."""

from __future__ import annotations

import sys

import click

from archive.cli import settings_from
from indexer.update import update_index


@click.command("index")
@click.option("--full", "--complet", "full", is_flag=True,
              help="Reconstruire tout l'index à côté, puis le mettre en service d'un coup.")
@click.option("--optimize", "--optimiser", "optimize", is_flag=True,
              help="Fusionner ensuite les segments de l'index en un seul.")
@click.pass_context
def command(ctx: click.Context, full: bool, optimize: bool) -> None:
    """Indexer les articles nouveaux et modifiés (la première fois, ou --full : tout).

    Une seule indexation à la fois : une seconde s'arrête aussitôt avec le code 8. Une
    indexation tuée laisse l'index servi tel qu'il était ; la suivante finit le travail.
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
