"""Coverage over time: up to three searches compared month by month on one server-drawn SVG.

``/comparer?q=A&q=B&q=C`` shows each search's matches per month, as counts or (``mesure=part``)
as the share of every article the archive holds for that month; ``/comparer.csv`` is the same
series as CSV. The chart's geometry is computed here, so the template only writes attributes
(the Content-Security-Policy forbids inline style) and the page needs no JavaScript.
"""

from __future__ import annotations

import csv
import io
from dataclasses import dataclass
from typing import Any

from flask import Blueprint, Response, render_template, request, url_for

from archive.errors import InvalidInput
from archive.web.formatting import SHORT_MONTHS, month_fr, number_fr
from archive.web.params import SearchParams
from archive.web.searching import services
from indexer.results import MAX_QUERY_CHARS

bp = Blueprint("coverage", __name__)

MAX_SERIES = 3
MEASURES = {"nombre": "articles par mois", "part": "part des articles du mois (%)"}
WIDTH = 760
HEIGHT = 260
LEFT = 48
BOTTOM = 24
TOP = 10
RIGHT = 10


@dataclass(frozen=True)
class Series:
    """One search's value per month (same months for every series)."""

    query: str
    counts: list[int]
    values: list[float]
    total: int


@dataclass(frozen=True)
class Chart:
    """The chart ready to draw: one polyline per series, the axes' ticks and labels."""

    width: int
    height: int
    lines: list[str]                      # SVG ``points`` of each series
    dots: list[list[tuple[float, float, str]]]  # per series: x, y, tooltip of each month
    y_ticks: list[tuple[float, str]]      # y and label
    x_ticks: list[tuple[float, str]]      # x and label
    left: int
    bottom: float
    right: float


def parse_queries(args: Any) -> list[str]:
    """Return the non-empty searches of the request (``q``, repeated), three at most."""
    raw = args.getlist("q") if hasattr(args, "getlist") else [args.get("q") or ""]
    queries = []
    for value in raw:
        text = " ".join((value or "").split())
        if len(text) > MAX_QUERY_CHARS:
            raise InvalidInput(f"La recherche est trop longue ({len(text)} caractères ; "
                               f"{MAX_QUERY_CHARS} au plus).")
        if text:
            queries.append(text)
    if len(queries) > MAX_SERIES:
        raise InvalidInput(f"On compare {MAX_SERIES} recherches au plus, pas {len(queries)}.")
    return queries


def parse_measure(args: Any) -> str:
    """Return ``nombre`` (counts) or ``part`` (share of the month's articles)."""
    measure = (args.get("mesure") or "nombre").strip()
    if measure not in MEASURES:
        raise InvalidInput(f"La mesure « {measure[:40]} » est inconnue : choisissez « nombre » "
                           "ou « part ».")
    return measure


def month_series(queries: list[str], measure: str
                 ) -> tuple[list[tuple[int, int]], list[Series], dict[tuple[int, int], int]]:
    """Return the months covered, each search's series and the archive's monthly totals."""
    svc = services()
    archive_months = svc.per_change("month_counts", lambda: svc.archive().reads.month_counts())
    totals = {(y, m): c for y, m, c in archive_months}
    found = []
    for query in queries:
        months = svc.search().month_totals(query)
        found.append((query, {(y, m): c for y, m, c in months}))
    keys = set(totals)
    for _, counts in found:
        keys |= set(counts)
    months_list = _all_months(min(keys), max(keys)) if keys else []
    series = []
    for query, counts in found:
        values = [counts.get(k, 0) for k in months_list]
        if measure == "part":
            shares = [100.0 * c / totals[k] if totals.get(k) else 0.0
                      for c, k in zip(values, months_list, strict=True)]
        else:
            shares = [float(c) for c in values]
        series.append(Series(query, values, shares, sum(values)))
    return months_list, series, totals


def _all_months(first: tuple[int, int], last: tuple[int, int]) -> list[tuple[int, int]]:
    months = []
    year, month = first
    while (year, month) <= last:
        months.append((year, month))
        year, month = (year + 1, 1) if month == 12 else (year, month + 1)
    return months


def build_chart(months: list[tuple[int, int]], series: list[Series], measure: str) -> Chart | None:
    """Lay the series out as polylines over the months (None when nothing matched)."""
    if not months or not series or not any(s.total for s in series):
        return None
    peak = max(max(s.values) for s in series) or 1.0
    plot_w = WIDTH - LEFT - RIGHT
    plot_h = HEIGHT - TOP - BOTTOM
    step = plot_w / max(1, len(months) - 1)

    def x(i: int) -> float:
        return round(LEFT + i * step, 2)

    def y(value: float) -> float:
        return round(TOP + plot_h - plot_h * value / peak, 2)

    lines, dots = [], []
    for s in series:
        lines.append(" ".join(f"{x(i)},{y(v)}" for i, v in enumerate(s.values)))
        dots.append([(x(i), y(v), f"{month_fr(*months[i])} : {_value_text(v, c, measure)}")
                     for i, (v, c) in enumerate(zip(s.values, s.counts, strict=True))])
    y_ticks = []
    for k in range(5):
        value = peak * k / 4
        label = f"{value:.1f} %".replace(".", ",") if measure == "part" else number_fr(round(value))
        y_ticks.append((y(value), label))
    years = sorted({yr for yr, _ in months})
    x_ticks = []
    every = max(1, round(len(years) / 10 + 0.49))
    for i, (yr, mo) in enumerate(months):
        if mo == 1 and (yr - years[0]) % every == 0:
            x_ticks.append((x(i), str(yr)))
    if not x_ticks or x_ticks[0][0] > x(0) + 30:
        first_year, first_month = months[0]
        x_ticks.insert(0, (x(0), f"{SHORT_MONTHS[first_month - 1]} {first_year}"
                           if first_month != 1 else str(first_year)))
    return Chart(WIDTH, HEIGHT, lines, dots, y_ticks, x_ticks, LEFT, TOP + plot_h,
                 WIDTH - RIGHT)


def _value_text(value: float, count: int, measure: str) -> str:
    if measure == "part":
        return f"{value:.2f} %".replace(".", ",") + f" ({number_fr(count)})"
    return number_fr(count)


@bp.route("/comparer")
def compare() -> str:
    """Compare up to three searches month by month on one chart."""
    queries = parse_queries(request.args)
    measure = parse_measure(request.args)
    months, series, _ = month_series(queries, measure) if queries else ([], [], {})
    chart = build_chart(months, series, measure)
    slots = queries + [""] * (MAX_SERIES - len(queries))
    return render_template(
        "comparer.html", queries=queries, slots=slots, measure=measure, measures=MEASURES,
        series=series, chart=chart, chart_months=months,
        params=SearchParams(q=queries[0] if queries else ""),
        csv_href=url_for("coverage.compare_csv", q=queries, mesure=measure),
        other_measure_href=url_for("coverage.compare", q=queries,
                                   mesure="nombre" if measure == "part" else "part"),
        search_hrefs=[url_for("pages.search", q=q) for q in queries],
    )


@bp.route("/comparer.csv")
def compare_csv() -> Response:
    """Return the compared series as CSV: one row per month, counts and shares per search."""
    queries = parse_queries(request.args)
    if not queries:
        raise InvalidInput("Donnez au moins une recherche à comparer (paramètre « q »).")
    months, series, totals = month_series(queries, "part")
    buffer = io.StringIO()
    writer = csv.writer(buffer, lineterminator="\r\n")
    header = ["mois", "articles_du_mois"]
    for i in range(len(series)):
        header += [f"recherche_{i + 1}", f"nombre_{i + 1}", f"part_{i + 1}_pourcent"]
    writer.writerow(header)
    for k, (year, month) in enumerate(months):
        row: list[Any] = [f"{year:04d}-{month:02d}", totals.get((year, month), 0)]
        for s in series:
            row += [_safe_cell(s.query), s.counts[k], f"{s.values[k]:.4f}"]
        writer.writerow(row)
    headers = {"Content-Disposition": 'attachment; filename="notrecontinent-comparaison.csv"'}
    return Response("\ufeff" + buffer.getvalue(), mimetype="text/csv", headers=headers)


def _safe_cell(text: str) -> str:
    """Return TEXT so that a spreadsheet never reads it as a formula."""
    return "'" + text if text[:1] in ("=", "+", "-", "@", "\t", "\r") else text
