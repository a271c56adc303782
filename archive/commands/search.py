"""``python -m archive search QUERY``: search the archive from the command line.

Human-readable by default (matched words in bold on a terminal, else between [ ]: « » are
French quotation marks, common in the text itself);
``--json`` prints the result's one JSON shape (``indexer.results``): the API's, without the
links and addresses the API adds. No hits is not an error (exit 0,
``total: 0``); a missing index exits 7, a bad date, sort or limit exits 2.
"""

from __future__ import annotations

import html
import json
import re
import sys
from datetime import date

import click

from archive.cli import settings_from
from archive.errors import InvalidInput
from indexer.results import DEFAULT_PAGE_SIZE, MAX_PAGE, MAX_PAGE_SIZE, SearchResult
from indexer.search import SearchService

_MARK = re.compile(r"<mark>(.*?)</mark>", re.S)


def _day(value: str | None, option: str) -> date | None:
    if value is None:
        return None
    try:
        return date.fromisoformat(value)
    except ValueError:
        raise InvalidInput(f"{option} {value!r} is not a date: use YYYY-MM-DD") from None


def _plain(fragment: str, tty: bool) -> str:
    """Return an HTML snippet as terminal text, with the marked words emphasised."""
    if tty:
        marked = _MARK.sub(lambda m: click.style(html.unescape(m.group(1)), bold=True),
                           fragment)
    else:
        marked = _MARK.sub(lambda m: f"[{html.unescape(m.group(1))}]", fragment)
    return html.unescape(marked)


def _print_human(result: SearchResult, tty: bool) -> None:
    shown = f"« {result.query} »" if result.query else "tous les articles"
    plural = "" if result.total == 1 else "s"
    total = f"{result.total:,}".replace(",", "\u202f")
    click.echo(f"{total} résultat{plural} pour {shown} (page {result.page}, "
               f"{result.took_ms:.0f} ms)")
    if result.message:
        click.echo(result.message)
    if result.suggestion:
        click.echo(f"Vouliez-vous dire : {result.suggestion} ?")
    first = (result.page - 1) * result.page_size
    for rank, hit in enumerate(result.hits, start=first + 1):
        click.echo("")
        withdrawn = " [retiré du site]" if hit.withdrawn else ""
        click.echo(f"{rank:>3}. {_plain(hit.title_html, tty)}{withdrawn}")
        meta = " · ".join(part for part in (
            hit.author, hit.published.isoformat() if hit.published else None, hit.url) if part)
        click.echo(f"     {meta}")
        if hit.snippet:
            click.echo(f"     {_plain(hit.snippet, tty)}")


@click.command("search")
@click.argument("query", nargs=-1)
@click.option("--author", help="Only articles by this author (any case, accents or apostrophe).")
@click.option("--since", metavar="YYYY-MM-DD", help="Published on or after this day.")
@click.option("--until", metavar="YYYY-MM-DD", help="Published on or before this day.")
@click.option("--edition", help="Only this edition (e.g. sn, ci, cm).")
@click.option("--sort", type=click.Choice(["relevance", "date"]), default="relevance",
              show_default=True, help="Order by relevance or by date (newest first).")
@click.option("--limit", type=click.IntRange(1, MAX_PAGE_SIZE), default=DEFAULT_PAGE_SIZE,
              show_default=True, help="Results per page.")
@click.option("--page", type=click.IntRange(1, MAX_PAGE), default=1, show_default=True,
              help="Page of results.")
@click.option("--json", "as_json", is_flag=True, help="Print the result as JSON.")
@click.pass_context
def command(ctx: click.Context, query: tuple[str, ...], author: str | None, since: str | None,
            until: str | None, edition: str | None, sort: str, limit: int, page: int,
            as_json: bool) -> None:
    """Search the archive: words are ANDed; OU, SAUF, -mot, "phrase", titre:, auteur:.

    Dates are filters (--since/--until, both days included), not query syntax.
    """
    settings = settings_from(ctx)
    since_day, until_day = _day(since, "--since"), _day(until, "--until")
    with SearchService.over_archive(settings.index_dir, settings.database_path,
                                    check_seconds=settings.searcher_check_seconds) as service:
        result = service.search(" ".join(query), author=author, since=since_day,
                                until=until_day, edition=edition, sort=sort, page=page,
                                page_size=limit)
    if as_json:
        click.echo(json.dumps(result.to_json(), ensure_ascii=False, indent=2))
    else:
        _print_human(result, tty=sys.stdout.isatty())
