"""Atom feeds of any search: a journalist subscribes to a query, an author, a period, or all three.

Entries are the newest matching articles (the search sorted by date). The XML is built with
ElementTree, which escapes everything; characters XML forbids are dropped from platform text.
"""

from __future__ import annotations

import re
from dataclasses import replace
from datetime import UTC, datetime, time
from html import unescape
from typing import TYPE_CHECKING
from xml.etree import ElementTree as ET

from flask import Blueprint, Response, request, url_for

from archive.web.formatting import number_fr
from archive.web.links import web_link
from archive.web.params import parse_search
from archive.web.searching import run_search, services

if TYPE_CHECKING:
    from indexer.results import Hit

bp = Blueprint("feeds", __name__)

ATOM = "http://www.w3.org/2005/Atom"
FEED_ENTRIES = 30
_NOT_XML = re.compile(r"[^\x09\x0a\x0d\x20-\ud7ff\ue000-\ufffd\U00010000-\U0010ffff]")
_TAGS = re.compile(r"<[^>]*>")

ET.register_namespace("", ATOM)


def xml_text(text: str | None) -> str:
    """Return TEXT without the characters an XML document may not contain."""
    return _NOT_XML.sub("", text or "")


def _stamp(moment: datetime) -> str:
    return moment.astimezone(UTC).isoformat(timespec="seconds").replace("+00:00", "Z")


def _published(hit: Hit) -> datetime:
    if hit.published is None:
        return datetime(1970, 1, 1, tzinfo=UTC)
    return datetime.combine(hit.published, time(0, 0), tzinfo=UTC)


def feed_title(q: str, auteur: str | None) -> str:
    """Return the feed's title, naming what it follows."""
    parts = []
    if q:
        parts.append(f"« {q} »")
    if auteur:
        parts.append(f"articles de {auteur}")
    return "Archive Notre Continent : " + (", ".join(parts) if parts else "derniers articles")


def _sub(parent: ET.Element, tag: str, text: str | None = None, **attrs: str) -> ET.Element:
    element = ET.SubElement(parent, f"{{{ATOM}}}{tag}", attrs)
    if text is not None:
        element.text = xml_text(text)
    return element


@bp.route("/recherche.atom")
def search() -> Response:
    """Return the Atom feed of a search: its newest matching articles."""
    params = parse_search(request.args)
    params = replace(params, tri="date", page=1, taille=FEED_ENTRIES)
    result = run_search(params)
    args = params.query_args(tri="pertinence", taille=10)
    self_url = url_for("feeds.search", _external=True, **args)
    feed = ET.Element(f"{{{ATOM}}}feed", {"xml:lang": "fr"})
    _sub(feed, "id", self_url)
    _sub(feed, "title", feed_title(params.q, params.auteur))
    _sub(feed, "subtitle", f"Articles correspondant à cette recherche : {number_fr(result.total)}.")
    _sub(feed, "link", rel="self", type="application/atom+xml", href=self_url)
    _sub(feed, "link", rel="alternate", type="text/html",
         href=url_for("pages.search", _external=True, **params.query_args(tri="date", taille=10)))
    newest = max((_published(hit) for hit in result.hits), default=None)
    if newest is None:
        last_run = services().stats().last_run
        newest = last_run.started_at if last_run else datetime(1970, 1, 1, tzinfo=UTC)
    _sub(feed, "updated", _stamp(newest))
    _sub(_sub(feed, "author"), "name", "Archive Notre Continent")
    _sub(feed, "generator", "notrecontinent-archive")
    for hit in result.hits:
        entry = _sub(feed, "entry")
        archived = url_for("pages.article", article_id=hit.id, _external=True)
        _sub(entry, "id", archived)
        _sub(entry, "title", hit.title)
        _sub(entry, "link", rel="alternate", type="text/html", href=archived)
        original = web_link(xml_text(hit.url))
        if original:
            _sub(entry, "link", rel="related", type="text/html", href=original)
        _sub(entry, "published", _stamp(_published(hit)))
        _sub(entry, "updated", _stamp(_published(hit)))
        if hit.author:
            _sub(_sub(entry, "author"), "name", hit.author)
        summary = _TAGS.sub("", hit.snippet)
        if hit.withdrawn:
            summary = "[Retiré de la plateforme] " + summary
        _sub(entry, "summary", unescape(summary))
    body = ET.tostring(feed, encoding="unicode", xml_declaration=False)
    return Response('<?xml version="1.0" encoding="utf-8"?>\n' + body,
                    mimetype="application/atom+xml")

