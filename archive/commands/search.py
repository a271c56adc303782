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
from archive.editions import edition_name
from archive.errors import InvalidInput
from archive.french import count, day
from indexer.results import (
    DEFAULT_PAGE_SIZE,
    MAX_PAGE,
    MAX_PAGE_SIZE,
    SORT_NAMES,
    SORTS,
    STATUS_NAMES,
    STATUSES,
    Hit,
    SearchResult,
)
from indexer.search import SearchService

_MARK = re.compile(r"<mark>(.*?)</mark>", re.S)


def _day(value: str | None, option: str) -> date | None:
    if value is None:
        return None
    try:
        return date.fromisoformat(value)
    except ValueError:
        raise InvalidInput(f"{option} « {value} » n'est pas une date : écrivez AAAA-MM-JJ "
                           "(par exemple 2024-03-15)") from None


def _plain(fragment: str, tty: bool) -> str:
    """Return an HTML snippet as one line of terminal text, the marked words emphasised."""
    if tty:
        marked = _MARK.sub(lambda m: click.style(html.unescape(m.group(1)), bold=True),
                           fragment)
    else:
        marked = _MARK.sub(lambda m: f"[{html.unescape(m.group(1))}]", fragment)
    return " ".join(html.unescape(marked).split())


def results_line(total: int) -> str:
    """Return « 0 résultat », « 1 résultat », « 2 résultats » (French: 0 and 1 are singular)."""
    return count(total, "résultat")


def why_nothing(service: SearchService, result: SearchResult, *, author: str | None,
                edition: str | None, category: str | None,
                filters: tuple[str, ...] = ()) -> str | None:
    """Return why a search found nothing to show, when a filter or the page explains it.

    FILTERS are the filter options as typed (« --since 2030-01-01 »): when no single filter
    names something unknown, the words alone are counted and the filters blamed together.
    """
    if result.total and not result.hits:
        pages = result.pages
        return (f"La page {result.page} est au-delà des résultats : {results_line(result.total)}"
                f", soit {count(pages, 'page')} de {result.page_size}.")
    if result.total:
        return None
    everything = service.search("", page_size=1).facets
    if edition and edition.strip().lower() not in {e for e, _ in everything.editions}:
        known = ", ".join(f"{e} ({edition_name(e)})" for e, _ in everything.editions)
        return f"Aucune édition « {edition} » dans l'archive ; éditions connues : {known}."
    if category and category.strip().lower() not in {c.lower() for c, _ in everything.categories}:
        known = ", ".join(c for c, _ in everything.categories[:12])
        return f"Aucune catégorie « {category} » dans l'archive ; par exemple : {known}."
    if author and not service.search("", author=author, page_size=1).total:
        return (f"Aucun article de l'auteur « {author} » dans l'archive "
                "(la liste : python -m archive search --json \"\" puis facets.authors).")
    if filters:
        alone = service.search(result.query, page_size=1).total if result.query else None
        if alone:
            return (f"Sans filtre, « {result.query} » donne {results_line(alone)} ; aucun ne "
                    f"passe les filtres {' '.join(filters)}.")
        if not result.query:
            return f"Aucun article de l'archive ne passe les filtres {' '.join(filters)}."
    return None


def _print_human(result: SearchResult, tty: bool, note: str | None) -> None:
    shown = f"« {result.query} »" if result.query else "tous les articles"
    click.echo(f"{results_line(result.total)} pour {shown} (page {result.page}, "
               f"{result.took_ms:.0f} ms)")
    if result.message:
        click.echo(result.message)
    if note:
        click.echo(note)
    if result.suggestion:
        click.echo(f"Vouliez-vous dire : {result.suggestion} ?")
    first = (result.page - 1) * result.page_size
    for rank, hit in enumerate(result.hits, start=first + 1):
        click.echo("")
        badges = "".join(f" [{badge}]" for badge in _badges(hit))
        click.echo(f"{rank:>3}. {_plain(hit.title_html, tty)}{badges}")
        meta = " · ".join(part for part in (
            hit.author, day(hit.published) if hit.published else None,
            edition_name(hit.edition) if hit.edition else None, hit.url) if part)
        click.echo(f"     {meta}")
        if hit.snippet:
            click.echo(f"     {_plain(hit.snippet, tty)}")
    if result.associated:
        click.echo("")
        click.echo("Mots associés : " + ", ".join(w.word for w in result.associated))


def _typed_filters(**options: str | tuple[str, ...] | None) -> tuple[str, ...]:
    """Return the filter options given, as typed: ``--since 2030-01-01``, one per value."""
    typed: list[str] = []
    for name, value in options.items():
        values = value if isinstance(value, tuple) else (value,) if value else ()
        flag = "--" + name.replace("_", "-")
        typed.extend(f"{flag} « {one} »" for one in values)
    return tuple(typed)


_SORTS = {**{sort: sort for sort in SORTS}, **SORT_NAMES}
"""Every --sort value, English (as scripts already write it) and French, and what it means."""

_STATUSES = {**{status: status for status in STATUSES}, **STATUS_NAMES}
"""Every --status value, English (the API's) and French, and the status it means."""


def _badges(hit: Hit) -> list[str]:
    """Return what a reader should know about a hit's history, in French."""
    badges = []
    if hit.withdrawn:
        badges.append("retiré du site")
    if hit.versions > 1:
        badges.append(f"modifié {hit.versions - 1} fois")
    if hit.earlier_versions:
        numbers = ", ".join(str(n) for n in hit.earlier_versions)
        plural = "s" if len(hit.earlier_versions) > 1 else ""
        badges.append(f"trouvé dans la version{plural} antérieure{plural} {numbers}")
    if hit.copies:
        badges.append(count(hit.copies, "copie repliée", "copies repliées"))
    return badges


@click.command("search")
@click.argument("query", nargs=-1, metavar="[REQUÊTE]...")
@click.option("--author", "--auteur", "author", metavar="NOM",
              help="Seulement les articles de cet auteur (toute graphie).")
@click.option("--since", "--depuis", "since", metavar="AAAA-MM-JJ",
              help="Publiés ce jour-là ou après.")
@click.option("--until", "--jusqua", "until", metavar="AAAA-MM-JJ",
              help="Publiés ce jour-là ou avant.")
@click.option("--edition", metavar="CODE", help="Seulement cette édition (sn, ci, cm…).")
@click.option("--category", "--categorie", "category", metavar="NOM",
              help="Seulement cette catégorie.")
@click.option("--not-author", "--sauf-auteur", "not_authors", multiple=True, metavar="NOM",
              help="Sauf les articles de cet auteur (répétable).")
@click.option("--not-edition", "--sauf-edition", "not_editions", multiple=True, metavar="CODE",
              help="Sauf cette édition (répétable).")
@click.option("--not-category", "--sauf-categorie", "not_categories", multiple=True,
              metavar="NOM", help="Sauf cette catégorie (répétable).")
@click.option("--sort", "--tri", "sort", type=click.Choice(sorted(_SORTS)), default="pertinence",
              show_default=True,
              help="Pertinence (relevance), date (récents d'abord) ou anciens (oldest : anciens "
                   "d'abord).")
@click.option("--limit", "--nombre", "limit", type=click.IntRange(1, MAX_PAGE_SIZE),
              default=DEFAULT_PAGE_SIZE, show_default=True, metavar="N",
              help="Résultats par page.")
@click.option("--page", type=click.IntRange(1, MAX_PAGE), default=1, show_default=True,
              metavar="N", help="Page de résultats.")
@click.option("--status", "--statut", "status", type=click.Choice(sorted(_STATUSES)),
              help="Seulement les articles modifiés (modifie, changed), retirés (retire, "
              "withdrawn) ou ni l'un ni l'autre (inchange, unchanged).")
@click.option("--earlier", is_flag=True,
              help="Chercher aussi dans les versions antérieures (et dire lesquelles).")
@click.option("--fold", is_flag=True,
              help="Replier les copies d'un texte sous sa première publication connue.")
@click.option("--associated", "--mots-associes", "associated", is_flag=True,
              help="Ajouter les mots associés (les plus surreprésentés dans les résultats).")
@click.option("--json", "as_json", is_flag=True,
              help="Afficher le résultat en JSON (clés en anglais : des programmes les lisent).")
@click.pass_context
def command(ctx: click.Context, query: tuple[str, ...], author: str | None, since: str | None,
            until: str | None, edition: str | None, category: str | None,
            not_authors: tuple[str, ...], not_editions: tuple[str, ...],
            not_categories: tuple[str, ...], sort: str, limit: int, page: int,
            associated: bool, status: str | None, earlier: bool, fold: bool,
            as_json: bool) -> None:
    """Chercher dans l'archive : mots liés par ET ; OU, SAUF, -mot, "expression", titre:, auteur:.

    Les dates sont des filtres (--since/--until, jours inclus), pas de la syntaxe.
    """
    settings = settings_from(ctx)
    since_day, until_day = _day(since, "--since"), _day(until, "--until")
    with SearchService.over_archive(settings.index_dir, settings.database_path,
                                    check_seconds=settings.searcher_check_seconds) as service:
        result = service.search(" ".join(query), author=author, since=since_day,
                                until=until_day, edition=edition, sort=_SORTS[sort], page=page,
                                page_size=limit, category=category, not_authors=not_authors,
                                not_editions=not_editions, not_categories=not_categories,
                                associated=associated,
                                status=_STATUSES[status] if status else None, earlier=earlier,
                                fold=fold)
        typed = _typed_filters(author=author, since=since, until=until, edition=edition,
                               category=category, status=status, not_author=not_authors,
                               not_edition=not_editions, not_category=not_categories)
        note = None if as_json else why_nothing(service, result, author=author,
                                                edition=edition, category=category,
                                                filters=typed)
    if as_json:
        click.echo(json.dumps(result.to_json(), ensure_ascii=False, indent=2))
    else:
        _print_human(result, tty=sys.stdout.isatty(), note=note)
