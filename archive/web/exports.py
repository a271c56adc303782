"""CSV and JSON exports of every result of a search, streamed, one row per article with its
citation fields, capped at ``ARCHIVE_EXPORT_MAX_ROWS`` rows.

``texte=1`` adds each article's text; ``sep=;`` makes the CSV use semicolons, as French
spreadsheets expect. JSON keeps numbers as numbers and ``retire`` as a boolean.
"""

from __future__ import annotations

import csv
import io
import json
from collections.abc import Iterator
from datetime import date

from flask import Blueprint, Response, current_app, request, stream_with_context

from archive.errors import InvalidInput
from archive.web.citation import EXPORT_FIELDS, TEXT_FIELD, Citation
from archive.web.params import SearchParams, parse_search
from archive.web.searching import all_citations, run_search

bp = Blueprint("exports", __name__)

# What makes a spreadsheet read a cell as a formula (OWASP's CSV injection list), also after
# leading spaces, and the full-width forms some spreadsheets accept too.
FORMULA_STARTS = frozenset("=+-@\t\r\uff1d\uff0b\uff0d\uff20")


def spreadsheet_cell(value: str) -> str:
    """Return VALUE as a spreadsheet shows it as text: a formula-like cell gets a leading ``'``."""
    stripped = value.lstrip(" ")
    if stripped and stripped[0] in FORMULA_STARTS:
        return "'" + value
    return value


def export_limit() -> int:
    """Return the most rows one export may hold."""
    limit: int = current_app.config["ARCHIVE_SETTINGS"].export_max_rows
    return limit


def filename(params: SearchParams, extension: str) -> str:
    """Return a download name that says what was searched and when (ASCII only)."""
    words = "".join(ch if ch.isascii() and ch.isalnum() else "-" for ch in params.q.lower())
    words = "-".join(part for part in words.split("-") if part)[:40] or "tout"
    return f"notrecontinent-{words}-{date.today().isoformat()}.{extension}"


def _prepare(extension: str) -> tuple[SearchParams, int, dict[str, str]]:
    params = parse_search(request.args)
    limit = export_limit()
    # Run the first page now, so a broken index or a bad query is a clean error, not a cut stream.
    total = run_search(params, page=1, page_size=1).total
    headers = {
        "Content-Disposition": f'attachment; filename="{filename(params, extension)}"',
        "X-Total-Count": str(total),
        "X-Export-Limit": str(limit),
    }
    return params, limit, headers


SEPARATORS = {",": ",", ";": ";"}


def with_text() -> bool:
    """Return True when the export was asked to carry each article's text (``texte=1``)."""
    raw = (request.args.get("texte") or "").strip()
    if raw not in ("", "0", "1"):
        raise InvalidInput("Le paramètre « texte » vaut 1 (avec le texte) ou 0 (sans).")
    return raw == "1"


def separator() -> str:
    """Return the CSV separator asked for with ``sep`` (a comma unless ``;``)."""
    raw = request.args.get("sep") or ","
    if raw not in SEPARATORS:
        raise InvalidInput("Le séparateur « sep » vaut « , » ou « ; » (tableurs en français).")
    return SEPARATORS[raw]


def csv_rows(citations: Iterator[Citation], *, text: bool = False,
             delimiter: str = ",") -> Iterator[str]:
    """Yield the CSV text of CITATIONS, a header line first (TEXT adds the article's text).

    Every cell is spreadsheet-safe (``spreadsheet_cell``).
    """
    buffer = io.StringIO()
    fields = (*EXPORT_FIELDS, TEXT_FIELD) if text else EXPORT_FIELDS
    writer = csv.DictWriter(buffer, fieldnames=fields, lineterminator="\r\n",
                            delimiter=delimiter)
    writer.writeheader()
    for citation in citations:
        writer.writerow({name: spreadsheet_cell(cell)
                         for name, cell in citation.row(with_text=text).items()})
        if buffer.tell() > 16384:
            yield buffer.getvalue()
            buffer.seek(0)
            buffer.truncate()
    yield buffer.getvalue()


@bp.route("/recherche.csv")
def export_csv() -> Response:
    """Stream every result of a search as CSV (UTF-8 with a BOM, so spreadsheets read accents)."""
    text, delimiter = with_text(), separator()
    params, limit, headers = _prepare("csv")

    def generate() -> Iterator[str]:
        yield "\ufeff"
        yield from csv_rows(all_citations(params, limit), text=text, delimiter=delimiter)

    return Response(stream_with_context(generate()), mimetype="text/csv", headers=headers)


@bp.route("/recherche.json")
def export_json() -> Response:
    """Stream every result of a search as one JSON document of citations."""
    text = with_text()
    params, limit, headers = _prepare("json")
    query = {k: v for k, v in params.query_args(page=1).items() if k not in ("page", "taille")}

    def generate() -> Iterator[str]:
        yield '{"query": ' + json.dumps(query, ensure_ascii=False)
        yield ', "limit": ' + str(limit) + ', "articles": ['
        for i, citation in enumerate(all_citations(params, limit)):
            record = citation.record(with_text=text)
            yield ("," if i else "") + "\n" + json.dumps(record, ensure_ascii=False)
        yield "\n]}\n"

    return Response(stream_with_context(generate()), mimetype="application/json", headers=headers)
