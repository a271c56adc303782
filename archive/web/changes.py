"""What changed or vanished: the « Changements » page and its Atom feed.

Edits, withdrawals and reappearances come from the archive's event log, newest first, with
links to the diff an edit made or to the last copy of a withdrawn article. Both the page and
the feed take ``type`` (``modification``, ``retrait``, ``retour``; all when absent) and
``edition``; a journalist subscribes to ``/changements.atom?type=retrait`` to hear of
withdrawals.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any
from xml.etree import ElementTree as ET

from flask import Blueprint, Response, render_template, request, url_for

from archive.errors import InvalidInput
from archive.french import withdrawal_reason
from archive.store.records import ArchiveChange
from archive.web.feeds import ATOM, xml_text
from archive.web.formatting import date_fr, number_fr
from archive.web.pages import make_pager
from archive.web.params import parse_page
from archive.web.searching import services
from indexer.results import MAX_PAGE

bp = Blueprint("changes", __name__)

CHANGES_PAGE_SIZE = 50
FEED_ENTRIES = 30
KINDS = {"modification": "changed", "retrait": "withdrawn", "retour": "republished"}
"""The ``type`` values of the URL and the archive's event kinds they stand for."""
KIND_LABELS = {"changed": "Modifié", "withdrawn": "Retiré", "republished": "Revenu en ligne"}
TYPE_LABELS = {"modification": "Modifications", "retrait": "Retraits",
               "retour": "Retours en ligne"}


@dataclass(frozen=True)
class ChangesFilter:
    """Which events the reader asked for: one kind (or all) and one edition (or all)."""

    type: str | None = None
    edition: str | None = None

    @property
    def kinds(self) -> tuple[str, ...]:
        """Return the archive's event kinds this filter selects."""
        return (KINDS[self.type],) if self.type else tuple(KINDS.values())

    def args(self, **changes: Any) -> dict[str, Any]:
        """Return the URL parameters of this filter (empty ones left out), with CHANGES."""
        found = {"type": self.type, "edition": self.edition, **changes}
        return {key: value for key, value in found.items() if value}


def parse_filter(args: Mapping[str, str], editions: list[str]) -> ChangesFilter:
    """Return the filter of request ARGS, or raise InvalidInput saying what is wrong."""
    kind = (args.get("type") or "").strip() or None
    if kind is not None and kind not in KINDS:
        raise InvalidInput(
            f"Le type « {kind[:40]} » est inconnu : choisissez « modification », « retrait » "
            "ou « retour »."
        )
    edition = (args.get("edition") or "").strip() or None
    if edition is not None and edition not in editions:
        known = ", ".join(f"« {e} »" for e in editions) or "aucune"
        raise InvalidInput(f"L'édition « {edition[:40]} » est inconnue (éditions : {known}).")
    return ChangesFilter(kind, edition)


def change_link(change: ArchiveChange, *, external: bool = False) -> str:
    """Return where a change is shown: the diff of an edit, else the article's last copy."""
    number = change.version
    if number is not None and number > 1:
        return url_for("pages.diff", article_id=change.article_id, de=number - 1, a=number,
                       _external=external)
    return url_for("pages.article", article_id=change.article_id, _external=external)


def describe(change: ArchiveChange) -> str:
    """Return one French sentence saying what happened."""
    if change.kind == "changed":
        return f"Texte modifié (version {change.version or '?'})."
    if change.kind == "withdrawn":
        reason = f" ({withdrawal_reason(change.detail)})" if change.detail else ""
        if change.status == "published":
            return f"Retiré de la plateforme{reason}, revenu en ligne depuis."
        return f"Retiré de la plateforme{reason}. La dernière version reste consultable ici."
    return "De nouveau en ligne sur la plateforme."


def _editions() -> list[str]:
    return list(services().per_change("editions", lambda: services().archive().reads.editions()))


@bp.route("/changements")
def changes_page() -> str:
    """List the recent edits, withdrawals and reappearances, newest first."""
    editions = _editions()
    chosen = parse_filter(request.args, editions)
    page = parse_page(request.args, high=MAX_PAGE)
    archive = services().archive()
    total = archive.reads.count_changes(chosen.kinds, edition=chosen.edition)
    found = archive.reads.changes(chosen.kinds, edition=chosen.edition, limit=CHANGES_PAGE_SIZE,
                            offset=(page - 1) * CHANGES_PAGE_SIZE)
    pager = make_pager(page, total, CHANGES_PAGE_SIZE,
                       lambda n: url_for("changes.changes_page", **chosen.args(page=n)))
    return render_template(
        "changements.html", changes=found, total=total, chosen=chosen, editions=editions,
        pager=pager, kind_labels=KIND_LABELS, type_labels=TYPE_LABELS, link=change_link,
        describe=describe,
        feed_url=url_for("changes.changes_feed", **chosen.args()),
    )


def _stamp(moment: datetime) -> str:
    return moment.astimezone(UTC).isoformat(timespec="seconds").replace("+00:00", "Z")


def _sub(parent: ET.Element, tag: str, text: str | None = None, **attrs: str) -> ET.Element:
    element = ET.SubElement(parent, f"{{{ATOM}}}{tag}", attrs)
    if text is not None:
        element.text = xml_text(text)
    return element


def feed_title(chosen: ChangesFilter) -> str:
    """Return the feed's title, naming the kind and edition it follows."""
    what = TYPE_LABELS[chosen.type].lower() if chosen.type else "changements"
    where = f" (édition {chosen.edition})" if chosen.edition else ""
    return f"Archive Notre Continent : {what}{where}"


@bp.route("/changements.atom")
def changes_feed() -> Response:
    """Return the Atom feed of the newest changes of the kind and edition asked for."""
    chosen = parse_filter(request.args, _editions())
    archive = services().archive()
    found = archive.reads.changes(chosen.kinds, edition=chosen.edition, limit=FEED_ENTRIES)
    self_url = url_for("changes.changes_feed", _external=True, **chosen.args())
    feed = ET.Element(f"{{{ATOM}}}feed", {"xml:lang": "fr"})
    _sub(feed, "id", self_url)
    _sub(feed, "title", feed_title(chosen))
    total = archive.reads.count_changes(chosen.kinds, edition=chosen.edition)
    _sub(feed, "subtitle", f"Changements archivés : {number_fr(total)}.")
    _sub(feed, "link", rel="self", type="application/atom+xml", href=self_url)
    _sub(feed, "link", rel="alternate", type="text/html",
         href=url_for("changes.changes_page", _external=True, **chosen.args()))
    newest = found[0].at if found else datetime(1970, 1, 1, tzinfo=UTC)
    _sub(feed, "updated", _stamp(newest))
    _sub(_sub(feed, "author"), "name", "Archive Notre Continent")
    _sub(feed, "generator", "notrecontinent-archive")
    for change in found:
        entry = _sub(feed, "entry")
        link = change_link(change, external=True)
        article = url_for("pages.article", article_id=change.article_id, _external=True)
        _sub(entry, "id", f"{article}#{change.kind}-{_stamp(change.at)}")
        _sub(entry, "title", f"{KIND_LABELS[change.kind]} : {change.title}")
        _sub(entry, "link", rel="alternate", type="text/html", href=link)
        _sub(entry, "updated", _stamp(change.at))
        if change.author:
            _sub(_sub(entry, "author"), "name", change.author)
        _sub(entry, "category", term=change.kind, label=KIND_LABELS[change.kind])
        _sub(entry, "summary", f"{describe(change)} Constaté le {date_fr(change.at)}.")
    body = ET.tostring(feed, encoding="unicode", xml_declaration=False)
    return Response('<?xml version="1.0" encoding="utf-8"?>\n' + body,
                    mimetype="application/atom+xml")
