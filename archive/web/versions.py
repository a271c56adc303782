"""Each version as evidence: its permalink page, its references and the capture it came from.

A version page shows that text with its dates, its SHA-256 and its own citation. The capture
page shows the platform's page as it was received, inside a sandboxed frame whose content is
served with ``Content-Security-Policy: sandbox`` and nothing allowed to load, so a captured
page never runs a script nor calls anyone; its WARC record can be downloaded as stored.
"""

from __future__ import annotations

import hashlib
import logging
from dataclasses import dataclass
from datetime import datetime
from typing import TYPE_CHECKING

from flask import Blueprint, Response, abort, render_template

from archive.errors import ArchiveError
from archive.web.citation import Citation, citation_for
from archive.web.references import bibtex, highwire, ris
from archive.web.searching import services, version_url
from archive.web.takedown import check_public

if TYPE_CHECKING:
    from archive.store.records import CaptureRecord, StoredArticle, Version

bp = Blueprint("versions", __name__)
log = logging.getLogger(__name__)

CAPTURE_POLICY = (
    "sandbox; default-src 'none'; style-src 'unsafe-inline'; base-uri 'none'; "
    "form-action 'none'; frame-ancestors 'self'"
)
"""The captured page may show its inline styles and nothing else: no script, no request."""
RENDERED_TYPES = ("text/html", "application/xhtml+xml", "text/plain")
WARC_MIMETYPE = "application/warc"


@dataclass(frozen=True)
class VersionEvidence:
    """One version of an article with everything that proves it: capture, dates, citation."""

    article: StoredArticle
    versions: list[Version]
    version: Version
    capture: CaptureRecord | None
    modified: datetime | None
    citation: Citation


def _platform_modified(article: StoredArticle, version: Version) -> datetime | None:
    """Return the platform's modification date of VERSION, read back from its capture."""
    if version.number == article.version_count:
        return article.modified
    if version.capture_id is None:
        return None
    from archive.errors import NotAnArticle
    from archive.parser import parse_page

    try:
        capture = services().archive().captures.read_capture(version.capture_id)
        if capture is None:
            return None
        return parse_page(capture.body, capture.final_url or capture.url,
                          capture.header("Content-Type")).modified
    except (NotAnArticle, ArchiveError) as exc:
        log.warning("pas de date de modification pour l'article %s, version %s : %s",
                    article.id, version.number, exc)
        return None


def evidence(article_id: int, number: int) -> VersionEvidence:
    """Return version NUMBER of article ARTICLE_ID with its proofs (404 when either is unknown)."""
    archive = services().archive()
    article = archive.reads.get_article(article_id)
    if article is None:
        abort(404)
    check_public(article)
    versions = archive.articles.versions(article_id)
    chosen = next((v for v in versions if v.number == number), None)
    if chosen is None:
        abort(404)
    capture = archive.captures.capture_record(chosen.capture_id) if chosen.capture_id else None
    modified = _platform_modified(article, chosen)
    citation = citation_for(article, version_url(article_id, number), chosen, modified,
                            captured_at=capture.fetched_at if capture else None)
    return VersionEvidence(article, versions, chosen, capture, modified, citation)


def version_page(article_id: int, number: int) -> str:
    """Render the permalink page of one version (the ``pages.version`` route)."""
    found = evidence(article_id, number)
    return render_template(
        "version.html", article=found.article, versions=found.versions, version=found.version,
        capture=found.capture, modified=found.modified, citation=found.citation,
        meta_tags=highwire(found.citation),
    )


def _download(body: str, mimetype: str, name: str) -> Response:
    return Response(body, mimetype=mimetype,
                    headers={"Content-Disposition": f'attachment; filename="{name}"'})


@bp.route("/article/<number:article_id>/version/<number:number>.bib")
def version_bibtex(article_id: int, number: int) -> Response:
    """Return the citation of one version as a BibTeX file."""
    found = evidence(article_id, number)
    return _download(bibtex(found.citation), "application/x-bibtex",
                     f"notrecontinent-{article_id}-v{number}.bib")


@bp.route("/article/<number:article_id>/version/<number:number>.ris")
def version_ris(article_id: int, number: int) -> Response:
    """Return the citation of one version as a RIS file."""
    found = evidence(article_id, number)
    return _download(ris(found.citation), "application/x-research-info-systems",
                     f"notrecontinent-{article_id}-v{number}.ris")


def _capture_or_404(article_id: int, number: int) -> VersionEvidence:
    found = evidence(article_id, number)
    if found.capture is None:
        abort(404)
    return found


@bp.route("/article/<number:article_id>/version/<number:number>/capture")
def capture_page(article_id: int, number: int) -> str:
    """Show the page as captured, inert, with the capture's facts and its WARC record."""
    found = _capture_or_404(article_id, number)
    assert found.capture is not None
    record = services().archive().captures.warc_record(found.capture)
    return render_template(
        "capture.html", article=found.article, version=found.version, versions=found.versions,
        capture=found.capture, record_sha256=hashlib.sha256(record).hexdigest(),
        record_id=_record_id(record), rendered=_renders(found.capture.content_type),
        citation=found.citation,
    )


def _renders(content_type: str | None) -> bool:
    kind = (content_type or "").split(";")[0].strip().lower()
    return kind in RENDERED_TYPES


def _record_id(record: bytes) -> str | None:
    """Return the WARC-Record-ID of a stored record, read with warcio."""
    import io

    from warcio.archiveiterator import ArchiveIterator

    try:
        for entry in ArchiveIterator(io.BytesIO(record)):
            found = entry.rec_headers.get_header("WARC-Record-ID")
            return str(found) if found else None
    except Exception:  # warcio raises several unrelated types on damaged data
        log.warning("un enregistrement WARC conservé n'a pas pu être relu", exc_info=True)
    return None


@bp.route("/article/<number:article_id>/version/<number:number>/capture/contenu")
def capture_content(article_id: int, number: int) -> Response:
    """Return the captured body, sandboxed: no script runs, nothing loads, no form submits."""
    found = _capture_or_404(article_id, number)
    assert found.capture is not None
    captured = services().archive().captures.read_capture(found.capture.id)
    if captured is None:
        abort(404)
    content_type = found.capture.content_type or "text/html"
    if not _renders(content_type):
        content_type = "text/plain; charset=utf-8"
    response = Response(captured.body, content_type=content_type)
    response.headers["Content-Security-Policy"] = CAPTURE_POLICY
    response.headers["X-Frame-Options"] = "SAMEORIGIN"
    response.headers["Cross-Origin-Resource-Policy"] = "same-origin"
    response.headers["Referrer-Policy"] = "no-referrer"
    return response


@bp.route("/article/<number:article_id>/version/<number:number>/capture.warc.gz")
def capture_warc(article_id: int, number: int) -> Response:
    """Return the capture's WARC record as stored, for checking with standard tools."""
    found = _capture_or_404(article_id, number)
    assert found.capture is not None
    record = services().archive().captures.warc_record(found.capture)
    name = f"notrecontinent-{article_id}-v{number}-capture{found.capture.id}.warc.gz"
    return Response(record, mimetype=WARC_MIMETYPE,
                    headers={"Content-Disposition": f'attachment; filename="{name}"'})
