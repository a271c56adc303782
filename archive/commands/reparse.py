"""``python -m archive reparse``: re-run the parser over the stored captures, without crawling.

Each URL's newest successful capture is parsed again and saved: an article whose parse now
differs gets a new version, the others only have their last-seen time refreshed.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import click

from archive.cli import settings_from
from archive.errors import NotAnArticle, StoreError
from archive.french import count
from archive.store import Archive

_COMMIT_EVERY = 200
_ERRORS_SHOWN = 10


@dataclass
class ReparseSummary:
    """What a reparse did, capture by capture."""

    captures: int = 0
    new: int = 0
    changed: int = 0
    unchanged: int = 0
    not_articles: int = 0
    errors: list[str] = field(default_factory=list)

    def line(self) -> str:
        """Return the one-line summary printed at the end."""
        n = count
        return (f"relecture : {n(self.captures, 'capture relue', 'captures relues')}, "
                f"{n(self.new, 'nouveau', 'nouveaux')}, {n(self.changed, 'modifié')}, "
                f"{n(self.unchanged, 'inchangé')}, {n(self.not_articles, 'non-article')}, "
                f"{n(len(self.errors), 'erreur')}")


def reparse_archive(archive: Archive) -> ReparseSummary:
    """Parse each URL's newest 200 capture again and save the article it holds."""
    from archive.crawler.rest_facts import apply_rest_facts
    from archive.parser import parse_page

    summary = ReparseSummary()

    def skip_damaged(capture_id: int, error: StoreError) -> None:
        summary.captures += 1
        summary.errors.append(f"capture {capture_id} ignorée : {error.message}")

    captures = archive.captures.iter_captures(status=200, latest_only=True,
                                              damaged=skip_damaged)
    while True:
        with archive.transaction():
            for capture_id, capture in captures:
                summary.captures += 1
                url = capture.final_url or capture.url
                try:
                    article = parse_page(capture.body, url, capture.header("Content-Type"))
                except NotAnArticle:
                    summary.not_articles += 1
                    continue
                except Exception as exc:  # noqa: BLE001 - one bad page must not stop the rest
                    summary.errors.append(f"capture {capture_id} ({url}): "
                                          f"{type(exc).__name__}: {exc}")
                    continue
                facts = archive.crawl_state.rest_facts(capture.url)
                if facts is not None:
                    article, _ = apply_rest_facts(article, facts)
                result = archive.articles.save_article(article, capture_id=capture_id,
                                              seen_at=capture.fetched_at)
                setattr(summary, result.outcome, getattr(summary, result.outcome) + 1)
                if summary.captures % _COMMIT_EVERY == 0:
                    break
            else:
                return summary


@click.command(help="Relire toutes les captures enregistrées (après un changement du lecteur de "
                    "pages), sans rien collecter, et résumer en une ligne.")
@click.pass_context
def command(ctx: click.Context) -> None:
    """Re-parse the stored captures and print a one-line summary."""
    settings = settings_from(ctx)
    if not settings.database_path.is_file():
        raise StoreError(
            f"aucune archive dans {settings.database_path} ; lancez d'abord `python -m archive "
            "crawl` ou donnez à ARCHIVE_DATA_DIR le répertoire qui contient archive.sqlite3",
            path=str(settings.database_path))
    with Archive.open(settings.database_path, warc_dir=settings.warc_dir) as archive:
        summary = reparse_archive(archive)
    for error in summary.errors[:_ERRORS_SHOWN]:
        click.echo(f"erreur : {error}", err=True)
    if len(summary.errors) > _ERRORS_SHOWN:
        more = len(summary.errors) - _ERRORS_SHOWN
        click.echo(f"… et {count(more, 'autre erreur', 'autres erreurs')}", err=True)
    click.echo(summary.line())
