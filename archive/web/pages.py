"""The HTML pages: home, results, article (versions, diff, citation), authors, date archives."""

from __future__ import annotations

import calendar
from dataclasses import dataclass
from datetime import date
from typing import Any
from urllib.parse import urlencode

from flask import Blueprint, abort, g, render_template, request, url_for

from archive.errors import ArchiveError, InvalidInput
from archive.web.citation import citation_for
from archive.web.diff import diff_texts
from archive.web.formatting import date_fr, month_fr
from archive.web.limits import DIFF_SECONDS, Deadline
from archive.web.params import SearchParams, parse_page, parse_search
from archive.web.references import highwire
from archive.web.searching import edit_counts, reading_index, run_search, services, version_url
from archive.web.takedown import check_public
from archive.web.timeline import Period, build_timeline, choose_periods
from archive.web.versions import version_page
from indexer.results import MAX_PAGE

bp = Blueprint("pages", __name__)

LATEST = 10
LIST_SIZE = 50
PAGE_WINDOW = 2
# The characters werkzeug leaves unescaped in a query string (url.spec.whatwg.org).
_QUERY_SAFE = "!$'()*,/:;?@"


@dataclass(frozen=True)
class ActiveFilter:
    """A filter in force, shown with a link that removes it."""

    label: str
    remove_href: str


@dataclass(frozen=True)
class Pager:
    """Page links of a long list: previous, next and a window of numbers around the current one."""

    page: int
    pages: int
    prev_href: str | None
    next_href: str | None
    numbers: list[tuple[int | None, str | None]]


def make_pager(page: int, total: int, size: int, href: Any, limit: int = 1000) -> Pager | None:
    """Return the pager of a list of TOTAL items shown SIZE at a time (None for a single page)."""
    pages = min(max(1, -(-total // size)), limit)
    if pages <= 1 and page <= 1:
        return None
    window = range(max(1, page - PAGE_WINDOW), min(pages, page + PAGE_WINDOW) + 1)
    shown = sorted({1, pages, *window})
    numbers: list[tuple[int | None, str | None]] = []
    previous = 0
    for number in shown:
        if number - previous > 1:
            numbers.append((None, None))
        numbers.append((number, href(number)))
        previous = number
    return Pager(
        page=page,
        pages=pages,
        prev_href=href(page - 1) if page > 1 else None,
        next_href=href(page + 1) if page < pages else None,
        numbers=numbers,
    )


def search_href(params: SearchParams, **changes: Any) -> str:
    """Return the results page of PARAMS with CHANGES (any change of filter goes to page 1)."""
    changes.setdefault("page", 1)
    return results_href(params.query_args(**changes))


def results_href(args: dict[str, Any]) -> str:
    """Return the address of the results page with the URL parameters ARGS.

    What ``url_for`` would build, built without the routing map: a results page holds some
    fifty such links (facets, timeline, pager), and ``url_for`` made a fifth of its cost.
    """
    base: str | None = g.get("results_base")
    if base is None:
        base = g.results_base = url_for("pages.search")
    return f"{base}?{urlencode(list(args.items()), safe=_QUERY_SAFE)}" if args else base


def active_filters(params: SearchParams) -> list[ActiveFilter]:
    """Return the filters in force, each with the link that removes it."""
    found = []
    if params.q:
        found.append(ActiveFilter(f"Recherche : « {params.q} »", search_href(params, q="")))
    if params.auteur:
        found.append(ActiveFilter(f"Auteur : {params.auteur}", search_href(params, auteur=None)))
    if params.du:
        found.append(ActiveFilter(f"Depuis le {date_fr(params.du)}", search_href(params, du=None)))
    if params.au:
        found.append(ActiveFilter(f"Jusqu'au {date_fr(params.au)}", search_href(params, au=None)))
    return found


@bp.route("/")
def home() -> str:
    """Show the search box, the latest archived articles and the archive's figures."""
    svc = services()
    archive = svc.archive()
    return render_template(
        "accueil.html",
        stats=svc.stats(),
        latest=archive.reads.latest(LATEST),
        authors_datalist=svc.datalist_authors(),
        params=SearchParams(),
    )


@bp.route("/recherche")
def search() -> str:
    """Show one page of results with facets, timeline, filters and paging."""
    params = parse_search(request.args)
    svc = services()
    datalist = svc.datalist_authors()
    if params.is_empty:
        return render_template(
            "recherche.html", params=params, result=None, authors_datalist=datalist,
            filters=[], timeline=None, pager=None,
        )
    result = run_search(params)
    periods, unit = choose_periods(result.facets.years, result.facets.months)
    timeline = build_timeline(
        periods, unit, lambda p: search_href(params, du=p.start, au=p.end)
    )
    pager = make_pager(
        params.page, result.total, params.taille,
        lambda n: results_href(params.query_args(page=n)),
        limit=MAX_PAGE,
    )
    return render_template(
        "recherche.html",
        params=params,
        result=result,
        authors_datalist=datalist,
        filters=active_filters(params),
        timeline=timeline,
        pager=pager,
        search_href=search_href,
        edit_counts=edit_counts(result.hits),
    )


@bp.route("/aide")
def help_page() -> str:
    """Explain the query syntax and the filters."""
    return render_template("aide.html")


def _article_or_404(article_id: int) -> Any:
    article = services().archive().reads.get_article(article_id)
    if article is None:
        abort(404)
    check_public(article)
    return article



@bp.route("/article/<number:article_id>")
def article(article_id: int) -> str:
    """Show an archived article with its versions, withdrawal notice, citation and related ones."""
    stored = _article_or_404(article_id)
    versions = services().archive().articles.versions(article_id)
    # The article lives in the archive: an index that is missing or damaged costs only the
    # related articles (a damaged one is logged and reported by /healthz).
    try:
        with reading_index():
            related = services().search().more_like(article_id, limit=5)
    except ArchiveError:
        related = []
    hidden = services().hidden_ids()
    related = [hit for hit in related if hit.id not in hidden]
    current = versions[-1] if versions else None
    citation = citation_for(stored, version_url(article_id, stored.version_count), current)
    return render_template(
        "article.html",
        article=stored,
        versions=versions,
        related=related,
        citation=citation,
        meta_tags=highwire(citation),
    )


def _version_number(name: str, default: int, count: int) -> int:
    raw = (request.args.get(name) or "").strip()
    if not raw:
        return default
    if not raw.isascii() or not raw.isdigit() or not 1 <= int(raw[:6]) <= count:
        raise InvalidInput(
            f"La version « {name} » doit être un numéro entre 1 et {count} "
            f"(cet article a {count} version{'s' if count > 1 else ''})."
        )
    return int(raw)


@bp.route("/article/<number:article_id>/version/<number:number>")
def version(article_id: int, number: int) -> str:
    """Show one earlier (or the current) text of an article: its permalink, to cite."""
    return version_page(article_id, number)


@bp.route("/article/<number:article_id>/diff")
def diff(article_id: int) -> str:
    """Show what changed between two versions of an article (``de`` and ``a``)."""
    stored = _article_or_404(article_id)
    versions = services().archive().articles.versions(article_id)
    count = len(versions)
    if count == 0:
        abort(404)
    old_n = _version_number("de", max(1, count - 1), count)
    new_n = _version_number("a", count, count)
    by_number = {v.number: v for v in versions}
    old, new = by_number[old_n], by_number[new_n]
    # A comparison's cost is in the hands of whoever wrote the article: it gets a deadline,
    # and only some of a worker's threads may compare at once (the others stay free).
    with services().expensive.slot():
        return render_template(
            "diff.html",
            article=stored,
            versions=versions,
            old=old,
            new=new,
            comparison=diff_texts(old.body, new.body, deadline=Deadline(DIFF_SECONDS)),
            title_changed=old.title != new.title,
        )


@bp.route("/auteurs")
def authors() -> str:
    """Show the A-Z index of authors with their article counts."""
    letters: dict[str, list[Any]] = {}
    for author in sorted(services().authors(), key=lambda a: a.key):
        first = author.key[:1].upper()
        letter = first if "A" <= first <= "Z" else "#"
        letters.setdefault(letter, []).append(author)
    return render_template("auteurs.html", letters=letters, total=sum(map(len, letters.values())))


def _month_timeline(months: list[tuple[int, int, int]], link: Any) -> Any:
    years: dict[int, int] = {}
    for y, _, c in months:
        years[y] = years.get(y, 0) + c
    periods, unit = choose_periods(sorted(years.items()), months)
    return build_timeline(periods, unit, link)


@bp.route("/auteur/<slug>")
def author(slug: str) -> str:
    """Show an author's articles (newest first), their date span and their timeline."""
    svc = services()
    archive = svc.archive()
    summary = archive.reads.author_by_slug(slug)
    if summary is None:
        abort(404)
    page = parse_page(request.args, high=MAX_PAGE)
    articles = archive.reads.articles_by_author(
        summary.key, limit=LIST_SIZE, offset=(page - 1) * LIST_SIZE
    )
    params = SearchParams(auteur=summary.name)

    def period_link(period: Period) -> str:
        return search_href(params, du=period.start, au=period.end)

    timeline = _month_timeline(archive.reads.month_counts(summary.key), period_link)
    pager = make_pager(page, summary.count, LIST_SIZE,
                       lambda n: url_for("pages.author", slug=slug, page=n))
    return render_template(
        "auteur.html", author=summary, articles=articles, timeline=timeline, pager=pager,
        params=params,
    )


@bp.route("/archives/")
def archives() -> str:
    """Show every year and month of the archive with its article count."""
    months = services().per_change("month_counts",
                                   lambda: services().archive().reads.month_counts())
    years: dict[int, list[tuple[int, int]]] = {}
    for y, m, c in months:
        years.setdefault(y, []).append((m, c))
    timeline = _month_timeline(
        months, lambda p: url_for("pages.archive_year", year=p.start.year)
        if p.start.month == 1 and p.end.month == 12
        else url_for("pages.archive_month", year=p.start.year, month=p.start.month),
    )
    return render_template("archives.html", years=sorted(years.items(), reverse=True),
                           timeline=timeline)


def _period_page(start: date, end: date, title: str, endpoint: str, **kwargs: Any) -> str:
    page = parse_page(request.args)
    archive = services().archive()
    total = archive.reads.count_between(start, end)
    articles = archive.reads.articles_between(start, end, limit=LIST_SIZE,
                                              offset=(page - 1) * LIST_SIZE)
    pager = make_pager(page, total, LIST_SIZE, lambda n: url_for(endpoint, page=n, **kwargs))
    months = []
    if endpoint == "pages.archive_year":
        months = [(m, c) for y, m, c in archive.reads.month_counts() if y == start.year]
    return render_template(
        "periode.html", title=title, start=start, end=end, total=total, articles=articles,
        pager=pager, months=months, search_params=SearchParams(du=start, au=end),
    )


def _check_year(year: int) -> None:
    if not 1 <= year <= 9999:
        raise InvalidInput(f"L'année {year} n'existe pas dans le calendrier.")


@bp.route("/archives/<int(fixed_digits=4):year>/")
def archive_year(year: int) -> str:
    """List the articles published in YEAR, with its months."""
    _check_year(year)
    return _period_page(date(year, 1, 1), date(year, 12, 31), f"Articles de {year}",
                        "pages.archive_year", year=year)


@bp.route("/archives/<int(fixed_digits=4):year>/<int(fixed_digits=2):month>/")
def archive_month(year: int, month: int) -> str:
    """List the articles published in one month."""
    _check_year(year)
    if not 1 <= month <= 12:
        raise InvalidInput(f"Le mois {month:02d} n'existe pas : les mois vont de 01 à 12.")
    last = calendar.monthrange(year, month)[1]
    return _period_page(date(year, month, 1), date(year, month, last),
                        f"Articles de {month_fr(year, month)}", "pages.archive_month",
                        year=year, month=month)
