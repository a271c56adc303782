"""The HTML pages: home, results, article (versions, diff, citation), authors, date archives."""

from __future__ import annotations

import calendar
import functools
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from datetime import date
from typing import Any
from urllib.parse import urlencode

from flask import Blueprint, Response, abort, make_response, render_template, request, url_for

from archive.editions import edition_label
from archive.errors import ArchiveError, InvalidInput
from archive.web.addresses import fixed_address, numbered
from archive.web.caching import cached_search_answer
from archive.web.citation import citation_for
from archive.web.copies import copies_for
from archive.web.diff import diff_texts
from archive.web.formatting import date_fr, month_fr
from archive.web.limits import DIFF_SECONDS, Deadline
from archive.web.openapi import openapi_document
from archive.web.params import SearchParams, parse_page, parse_search, url_value
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
    """A filter in force, shown as a chip with a link that removes it and, for a filter that
    keeps one value, a link that turns it into its negation (« sauf cet auteur »)."""

    label: str
    remove_href: str
    negate_href: str | None = None
    negate_label: str | None = None
    negated: bool = False


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
    return query_href("pages.search", args)


def query_href(endpoint: str, args: dict[str, Any]) -> str:
    """Return ``url_for(endpoint, **args)`` for a page without path parameters: its fixed
    address and the parameters ARGS encoded as werkzeug encodes them (in order, a list
    value giving one parameter per item)."""
    base = fixed_address(endpoint)
    if not args:
        return base
    return base + "?" + "&".join(_pieces(args.items()))


def search_hrefs(params: SearchParams, *names: str, **changes: Any) -> Callable[..., str]:
    """Return a function of values for the fields NAMES (in link order) giving what
    ``search_href(params, **changes, **{name: value, ...})`` gives.

    A results page has a link per facet value (up to a hundred authors), per timeline bar and
    per page number, each differing from the others in one or two fields: the rest of the
    address is encoded once here instead of once per link.
    """
    if "page" not in names:
        changes.setdefault("page", 1)
    base = fixed_address("pages.search")
    # Each run of parameters between the varying fields, encoded and joined once.
    runs = ["&".join(_pieces(run)) for run in params.varying_args(names, **changes)]
    first, rest = runs[0], runs[1:]
    if len(names) == 1:
        return _one_field_hrefs(base, names[0], first, rest[0])

    def href(*values: Any) -> str:
        parts = [first] if first else []
        for name, value, run in zip(names, values, rest, strict=True):
            shown = url_value(name, value)
            if shown is not None:
                parts += _pieces([(name, shown)])
            if run:
                parts.append(run)
        return base + "?" + "&".join(parts) if parts else base

    return href


def _one_field_hrefs(base: str, name: str, before: str, after: str) -> Callable[[Any], str]:
    """Return ``search_hrefs``' function for the one field NAME, the parameters BEFORE and
    AFTER it already encoded: each link is then the two fixed ends around its one value."""
    head = f"{base}?{before}&" if before else f"{base}?"
    tail = f"&{after}" if after else ""
    without = "&".join(part for part in (before, after) if part)
    bare = f"{base}?{without}" if without else base

    def href(value: Any) -> str:
        shown = url_value(name, value)
        if shown is None:
            return bare
        if isinstance(shown, list | tuple):
            return head + "&".join(_pieces([(name, shown)])) + tail
        return head + _encoded(name, str(shown)) + tail

    return href


def article_hrefs(params: SearchParams) -> Callable[[int], str]:
    """Return a function giving the address of an article opened from the results of PARAMS
    (what ``url_for("pages.article", article_id=..., **params.query_args())`` gives: the
    article marks the searched words and links back), the parameters encoded once a page."""
    pieces = _pieces(params.query_args().items())
    query = "?" + "&".join(pieces) if pieces else ""
    address = numbered("pages.article")

    def href(article_id: int) -> str:
        return address(article_id) + query

    return href


def _pieces(args: Iterable[tuple[str, Any]]) -> list[str]:
    """Return the encoded ``name=value`` pieces of ARGS (a list value gives one per item)."""
    return [_encoded(name, str(item)) for name, value in args
            for item in (value if isinstance(value, list | tuple) else [value])]


@functools.lru_cache(maxsize=4096)
def _encoded(name: str, value: str) -> str:
    # A page repeats the same few parameters in every one of its links: each quoted once.
    return urlencode([(name, value)], safe=_QUERY_SAFE)


def active_filters(params: SearchParams) -> list[ActiveFilter]:
    """Return the filters in force, each with the link that removes it (and negates it)."""
    found = []
    if params.q:
        found.append(ActiveFilter(f"Recherche : « {params.q} »", search_href(params, q="")))
    kept = (
        ("auteur", "sauf_auteur", "Auteur", "Sauf l'auteur", "sauf cet auteur", str),
        ("edition", "sauf_edition", "Édition", "Sauf l'édition", "sauf cette édition",
         edition_label),
        ("categorie", "sauf_categorie", "Catégorie", "Sauf la catégorie",
         "sauf cette catégorie", str),
    )
    for name, negation, label, negated_label, negate_text, shown in kept:
        value = getattr(params, name)
        excluded: tuple[str, ...] = getattr(params, negation)
        if value:
            found.append(ActiveFilter(
                f"{label} : {shown(value)}", search_href(params, **{name: None}),
                negate_href=search_href(params, **{name: None, negation: (*excluded, value)}),
                negate_label=negate_text,
            ))
        for other in excluded:
            rest = tuple(v for v in excluded if v != other)
            found.append(ActiveFilter(f"{negated_label} : {shown(other)}",
                                      search_href(params, **{negation: rest}), negated=True))
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
def search() -> Response:
    """Show one page of results with facets, timeline, filters and paging (HTTP-cached)."""
    return cached_search_answer(lambda: parse_search(request.args),
                                lambda params: make_response(results_page(params)))


def results_page(params: SearchParams) -> str:
    """Draw the results page of PARAMS."""
    svc = services()
    datalist = svc.datalist_authors()
    if params.is_empty:
        return render_template(
            "recherche.html", params=params, result=None, authors_datalist=datalist,
            filters=[], timeline=None, pager=None,
        )
    result = run_search(params, associated=True, wait_for_words=False)
    periods, unit = choose_periods(result.facets.years, result.facets.months)
    span_href = search_hrefs(params, "du", "au")
    timeline = build_timeline(periods, unit, lambda p: span_href(p.start, p.end))
    pager = make_pager(params.page, result.total, params.taille,
                       search_hrefs(params, "page"), limit=MAX_PAGE)
    return render_template(
        "recherche.html",
        params=params,
        result=result,
        authors_datalist=datalist,
        filters=active_filters(params),
        timeline=timeline,
        pager=pager,
        search_href=search_href,
        facets=facet_lists(params, result, span_href),
        author_href=search_hrefs(params, "auteur"),
        shown=shown_range(params, result.total),
        range_href=search_href(params, du=None, au=None),
        article_href=article_hrefs(params),
        edit_counts=edit_counts(result.hits),
        take_away=take_away(params),
    )


@dataclass(frozen=True)
class TakeAway:
    """Where a search's results can be taken: its Atom feed, its exports, its comparison in
    time (the addresses ``url_for`` would give, built without the routing map)."""

    feed: str
    csv: str
    json: str
    compare: str


def take_away(params: SearchParams) -> TakeAway:
    """Return the feed, export and comparison links of the search PARAMS."""
    exported = params.query_args(page=1, taille=10)
    return TakeAway(
        feed=query_href("feeds.search", params.query_args(page=1, tri="pertinence", taille=10)),
        csv=query_href("exports.export_csv", exported),
        json=query_href("exports.export_json", exported),
        compare=query_href("coverage.compare", {"q": params.q}),
    )


@dataclass(slots=True)
class FacetLink:
    """One value of a facet: its label, its count, the link that filters on it.

    Not frozen: a frozen dataclass sets each field through ``object.__setattr__``, and a
    results page makes a hundred or more of these.
    """

    label: str
    count: int
    href: str
    current: bool = False


@dataclass(frozen=True)
class FacetLists:
    """The facets of a results page, ready to show."""

    authors: list[FacetLink]
    editions: list[FacetLink]
    categories: list[FacetLink]
    years: list[FacetLink]
    words: list[FacetLink]


def facet_lists(params: SearchParams, result: Any,
                span_href: Callable[..., str] | None = None) -> FacetLists:
    """Return the links of every facet of RESULT (each adds or replaces one filter).

    SPAN_HREF: the page's ``search_hrefs(params, "du", "au")``, when it already has one.
    """
    facets = result.facets
    author = (params.auteur or "").casefold()
    author_href = search_hrefs(params, "auteur")
    authors = [FacetLink(a.name, a.count, author_href(a.name), a.name.casefold() == author)
               for a in facets.authors]
    edition_href = search_hrefs(params, "edition")
    editions = [FacetLink(edition_label(code), count, edition_href(code),
                          code == params.edition) for code, count in facets.editions]
    category = (params.categorie or "").casefold()
    category_href = search_hrefs(params, "categorie")
    categories = [FacetLink(name, count, category_href(name), name.casefold() == category)
                  for name, count in facets.categories]
    span_href = span_href or search_hrefs(params, "du", "au")
    years = [FacetLink(str(year), count, span_href(date(year, 1, 1), date(year, 12, 31)),
                       params.du == date(year, 1, 1) and params.au == date(year, 12, 31))
             for year, count in facets.years]
    words_href = search_hrefs(params, "q")
    words = [FacetLink(w.word, w.count, words_href(f"{params.q} {w.word}".strip()))
             for w in result.associated]
    return FacetLists(authors, editions, categories, years, words)


def shown_range(params: SearchParams, total: int) -> tuple[int, int] | None:
    """Return the ranks of the first and last result of this page (None past the end)."""
    first = (params.page - 1) * params.taille + 1
    if first > total:
        return None
    return first, min(total, params.page * params.taille)


@bp.route("/aide")
def help_page() -> str:
    """Explain the query syntax and the filters."""
    return render_template("aide.html")


@bp.route("/aide/api")
def api_reference() -> str:
    """Show the JSON API's reference, generated from its OpenAPI document."""
    document = openapi_document(request.host_url.rstrip("/"))
    operations = [
        {"path": path, "method": method.upper(), **operation,
         "rows": [_parameter_row(p) for p in operation.get("parameters", [])]}
        for path, methods in document["paths"].items()
        for method, operation in methods.items()
    ]
    return render_template("api.html", document=document, operations=operations)


def _parameter_row(parameter: dict[str, Any]) -> dict[str, str]:
    """Return one parameter of the OpenAPI document as a row of the reference: name, where,
    what it takes and what it means."""
    schema = parameter.get("schema", {})
    kind = schema.get("type", "")
    if kind == "array":
        items = schema.get("items", {})
        kind = f"liste de {items.get('type', 'valeurs')} (répétable)"
    details = []
    if "enum" in schema:
        details.append("valeurs : " + ", ".join(f"« {v} »" for v in schema["enum"]))
    if "maxLength" in schema:
        details.append(f"{schema['maxLength']} caractères au plus")
    if "minimum" in schema and "maximum" in schema:
        details.append(f"de {schema['minimum']} à {schema['maximum']}")
    if schema.get("format") == "date":
        details.append("AAAA-MM-JJ")
    if "default" in schema:
        details.append(f"par défaut « {schema['default']} »")
    return {"name": parameter["name"], "where": "chemin" if parameter["in"] == "path" else
            "adresse", "type": kind, "details": " ; ".join(details),
            "description": parameter.get("description", ""),
            "required": "oui" if parameter.get("required") else "non"}


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
    came_from, marked_title, marked_body = _from_results(stored)
    return render_template(
        "article.html",
        article=stored,
        versions=versions,
        related=related,
        citation=citation,
        meta_tags=highwire(citation),
        back_href=came_from,
        marked_title=marked_title,
        marked_body=marked_body,
        copies=copies_for(article_id),
    )


def _from_results(stored: Any) -> tuple[str | None, str | None, list[str] | None]:
    """Return the results page an article was opened from and its text with the searched
    words marked, when the address carries that search (``/article/7?q=...``)."""
    if not request.args:
        return None, None, None
    try:
        params = parse_search(request.args)
    except InvalidInput:
        return None, None, None
    if params.is_empty:
        return None, None, None
    back = results_href(params.query_args())
    if not params.q:
        return back, None, None
    try:
        title, body = services().search().highlight(params.q, stored.title or "",
                                                    stored.body or "")
    except ArchiveError:
        return back, None, None
    return back, title, body


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
    all_months = services().per_change("month_counts", lambda: archive.reads.month_counts())
    months = []
    if endpoint == "pages.archive_year":
        months = [(m, c) for y, m, c in all_months if y == start.year]
    previous, following = _neighbours(start, endpoint == "pages.archive_year", all_months)
    return render_template(
        "periode.html", title=title, start=start, end=end, total=total, articles=articles,
        pager=pager, months=months, search_params=SearchParams(du=start, au=end),
        previous=previous, following=following,
    )


def _neighbours(start: date, whole_year: bool, months: list[tuple[int, int, int]]
                ) -> tuple[tuple[str, str] | None, tuple[str, str] | None]:
    """Return (label, link) of the period before and after START's year or month, within the
    archive's span (None past its first or last month)."""
    if not months:
        return None, None
    first, last = min(months)[:2], max(months)[:2]
    if whole_year:
        before = (str(start.year - 1), url_for("pages.archive_year", year=start.year - 1)) \
            if start.year - 1 >= first[0] else None
        after = (str(start.year + 1), url_for("pages.archive_year", year=start.year + 1)) \
            if start.year + 1 <= last[0] else None
        return before, after
    y, m = start.year, start.month
    prev_ym = (y - 1, 12) if m == 1 else (y, m - 1)
    next_ym = (y + 1, 1) if m == 12 else (y, m + 1)
    before = (month_fr(*prev_ym), url_for("pages.archive_month", year=prev_ym[0],
                                          month=prev_ym[1])) if prev_ym >= first else None
    after = (month_fr(*next_ym), url_for("pages.archive_month", year=next_ym[0],
                                         month=next_ym[1])) if next_ym <= last else None
    return before, after


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
