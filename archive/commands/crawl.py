"""``python -m archive crawl URL...``: harvest sites into the archive, then update the index."""

from __future__ import annotations

from pathlib import Path

import click

from archive.cli import settings_from
from archive.errors import IndexLocked
from archive.progress import terminal_progress

EPILOG = """\b
Exit codes:
  0  done (page-level problems are listed in the JSON run report)
  2  invalid URL or option
  5  site unreachable: no seed answered at all
  6  archive error: the SQLite archive cannot be opened or written
  8  index locked: another indexing run is busy (the crawl itself was saved);
     crawl locked: another crawl of this archive is running (nothing was done)
  130 interrupted: run the same command again to resume where it stopped
"""


@click.command("crawl", epilog=EPILOG)
@click.argument("urls", nargs=-1, required=True)
@click.option("--delay", type=click.FloatRange(min=0), default=None,
              help="Seconds between two requests to one host [env ARCHIVE_CRAWL_DELAY; "
                   "default 1]; robots.txt Crawl-delay wins when larger.")
@click.option("--max-articles", type=click.IntRange(min=1), default=None,
              help="Stop after requesting this many pages (the run is then partial).")
@click.option("--report", "report_path", type=click.Path(dir_okay=False, path_type=Path),
              default=None, help="Where to write the JSON run report "
                                 "[default DATA_DIR/reports/crawl-RUN.json].")
@click.option("--no-index", is_flag=True, help="Do not update the search index afterwards.")
@click.pass_context
def command(ctx: click.Context, urls: tuple[str, ...], delay: float | None,
            max_articles: int | None, report_path: Path | None, no_index: bool) -> None:
    """Discover and archive the articles of the sites at URLS (one per edition).

    Polite (robots.txt, per-host delay, identified User-Agent), incremental (only new or
    changed articles are fetched) and resumable (a killed run continues on the next start).
    Ends with an incremental index update, so one cron line keeps everything current.
    """
    from archive.crawler import crawl

    settings = settings_from(ctx)
    if delay is not None:
        settings = settings.with_changes(crawl_delay=delay)
    progress = terminal_progress("moisson")
    try:
        report = crawl(list(urls), settings, progress=progress, max_articles=max_articles,
                       report_path=report_path)
    finally:
        if progress is not None:
            progress.close()
    click.echo(report.summary())
    if no_index:
        return
    _update_index(ctx)


def _update_index(ctx: click.Context) -> None:
    settings = settings_from(ctx)
    try:
        from indexer.update import update_index
    except ImportError as exc:
        click.echo(f"index non mis à jour : l'indexeur n'est pas disponible ({exc})", err=True)
        return
    try:
        index_report = update_index(settings.database_path, settings.index_dir,
                                    build_mb=settings.index_build_mb)
    except IndexLocked as exc:
        raise IndexLocked(f"{exc.message} (la collecte elle-même est enregistrée ; "
                          "lancez `python -m archive index` plus tard)") from None
    summary = getattr(index_report, "summary", None)
    click.echo(summary() if callable(summary) else f"index mis à jour : {index_report}")
