"""The request parameters of every search view, parsed and validated in one place.

Pages, the JSON API, the Atom feed and the exports all read ``q``, ``auteur``, ``edition``,
``categorie``, their negations ``sauf_auteur``, ``sauf_edition`` and ``sauf_categorie`` (each
may repeat), ``du``, ``au``, ``tri``, ``page``, ``taille``, ``statut``, ``anterieures`` and
``replier`` through ``parse_search``; a value that cannot be used raises ``InvalidInput`` with
a French reason, which becomes a 400.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass, fields
from datetime import date
from typing import Any

from werkzeug.routing import IntegerConverter
from werkzeug.routing.map import Map

from archive.errors import InvalidInput
from indexer.results import (
    DEFAULT_PAGE_SIZE,
    MAX_PAGE,
    MAX_PAGE_SIZE,
    MAX_QUERY_CHARS,
    SORT_NAMES,
    STATUS_NAMES,
)

MAX_AUTHOR_CHARS = 200
MAX_EDITION_CHARS = 20
MAX_CATEGORY_CHARS = 200
MAX_EXCLUSIONS = 20
# The longest address (path and query string) the application answers; longer ones get a
# French 414. gunicorn.conf.py lets request lines up to 8,190 bytes through to it.
MAX_URL_CHARS = 4096

_DATE = re.compile(r"(\d{4})-(\d{2})-(\d{2})")
CONTROL = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f\x7f]")


class RecordNumber(IntegerConverter):
    """An id or version number in a path: a number SQLite can hold, else the URL is a 404."""

    def __init__(self, url_map: Map) -> None:
        super().__init__(url_map, min=0, max=2**63 - 1)


@dataclass(frozen=True)
class SearchParams:
    """One search as the user asked for it, in the URL's own words."""

    q: str = ""
    auteur: str | None = None
    du: date | None = None
    au: date | None = None
    tri: str = "pertinence"
    page: int = 1
    taille: int = DEFAULT_PAGE_SIZE
    edition: str | None = None
    categorie: str | None = None
    sauf_auteur: tuple[str, ...] = ()
    sauf_edition: tuple[str, ...] = ()
    sauf_categorie: tuple[str, ...] = ()
    mots: bool = False   # the API also lists the associated words (the results page always does)
    statut: str | None = None       # modifie, retire or inchange
    anterieures: bool = False       # also search the earlier versions of edited articles
    replier: bool = False           # fold copies under their first publication known

    @property
    def sort(self) -> str:
        """Return the search service's name for the sort order."""
        return SORT_NAMES[self.tri]

    @property
    def status(self) -> str | None:
        """Return the search service's name for the « statut » filter, None for all."""
        return STATUS_NAMES[self.statut] if self.statut else None

    @property
    def is_empty(self) -> bool:
        """Return True when neither a query nor a filter was given."""
        return not (self.q or self.auteur or self.du or self.au or self.edition
                    or self.categorie or self.sauf_auteur or self.sauf_edition
                    or self.sauf_categorie or self.statut)

    def filters(self) -> dict[str, Any]:
        """Return the search service's filter arguments of this search."""
        return {"author": self.auteur, "since": self.du, "until": self.au,
                "edition": self.edition, "category": self.categorie,
                "not_authors": self.sauf_auteur, "not_editions": self.sauf_edition,
                "not_categories": self.sauf_categorie, "status": self.status,
                "earlier": self.anterieures, "fold": self.replier}

    def query_args(self, **changes: Any) -> dict[str, Any]:
        """Return the URL parameters of this search (defaults left out), with CHANGES applied.

        A negation that repeats is a list (``{"sauf_auteur": ["A", "B"]}``), as ``url_for`` and
        ``urlencode(..., doseq=True)`` take it. A results page asks for about a hundred such
        variants (one per facet link), so CHANGES are applied to a plain mapping of the fields
        rather than through ``dataclasses.replace`` (which checked and built a whole new object,
        a tenth of a page's cost).
        """
        values = self.__dict__
        if changes:
            unknown = changes.keys() - _FIELD_NAMES
            if unknown:
                raise TypeError(f"unknown search parameters: {', '.join(sorted(unknown))}")
            values = {**values, **changes}
        args: dict[str, Any] = {}
        for name, default, shown in _URL_FIELDS:
            value = values[name]
            if value and value != default:
                args[name] = shown(value)
        return args

    def varying_args(self, names: tuple[str, ...], **changes: Any,
                     ) -> list[list[tuple[str, Any]]]:
        """Return this search's URL parameters with CHANGES, cut where the fields NAMES go.

        The parameters (``query_args`` without NAMES) come as len(NAMES) + 1 runs of (name,
        URL value) pairs: the run before the first of NAMES in link order, then the run after
        each. ``url_value`` gives a value of NAMES its URL form: the many links of a page that
        vary only NAMES (one per facet value) are then built without redoing the rest.
        """
        ranks = [_URL_RANK[name] for name in names]
        if ranks != sorted(ranks):
            raise ValueError(f"fields out of link order: {', '.join(names)}")
        args = self.query_args(**{**changes, **dict.fromkeys(names)})
        runs: list[list[tuple[str, Any]]] = [[] for _ in range(len(names) + 1)]
        for name, value in args.items():
            runs[sum(rank < _URL_RANK[name] for rank in ranks)].append((name, value))
        return runs


def url_value(name: str, value: Any) -> Any:
    """Return VALUE of the field NAME as a link carries it, None when links leave it out."""
    _, default, shown = _URL_FIELDS[_URL_RANK[name]]
    return shown(value) if value and value != default else None


def _one(_value: object) -> str:
    return "1"


# The URL parameters in the order links carry them: name, default (left out), URL form.
_URL_FIELDS: tuple[tuple[str, object, Any], ...] = (
    ("q", "", str), ("auteur", None, str), ("du", None, date.isoformat),
    ("au", None, date.isoformat), ("edition", None, str), ("categorie", None, str),
    ("sauf_auteur", (), list), ("sauf_edition", (), list), ("sauf_categorie", (), list),
    ("mots", False, _one), ("tri", "pertinence", str), ("page", 1, str),
    ("taille", DEFAULT_PAGE_SIZE, str), ("statut", None, str), ("anterieures", False, _one),
    ("replier", False, _one),
)
_URL_RANK = {name: rank for rank, (name, _, _) in enumerate(_URL_FIELDS)}
_FIELD_NAMES = frozenset(field.name for field in fields(SearchParams))


def _clean(raw: str, limit: int, label: str) -> str:
    text = " ".join(CONTROL.sub(" ", raw).split())
    if len(text) > limit:
        raise InvalidInput(f"{label} ({len(text)} caractères ; {limit} au plus).")
    return text


def _text(args: Mapping[str, str], name: str, limit: int, label: str) -> str:
    return _clean(args.get(name) or "", limit, label)


def _texts(args: Mapping[str, str], name: str, limit: int, label: str) -> tuple[str, ...]:
    """Return every non-empty value of a repeatable parameter, without duplicates."""
    getlist = getattr(args, "getlist", None)
    raw = getlist(name) if getlist is not None else [args.get(name) or ""]
    if len(raw) > MAX_EXCLUSIONS:
        raise InvalidInput(f"Le paramètre « {name} » est répété {len(raw)} fois "
                           f"({MAX_EXCLUSIONS} au plus).")
    found: list[str] = []
    for value in raw:
        text = _clean(value or "", limit, label)
        if text and text not in found:
            found.append(text)
    return tuple(found)


def parse_date(raw: str | None, name: str) -> date | None:
    """Return the inclusive date given as YYYY-MM-DD in parameter NAME, or None when empty."""
    text = (raw or "").strip()
    if not text:
        return None
    match = _DATE.fullmatch(text)
    if not match:
        raise InvalidInput(
            f"La date « {name} » doit s'écrire AAAA-MM-JJ (par exemple 2024-03-15), "
            f"pas « {text[:40]} »."
        )
    year, month, day = (int(part) for part in match.groups())
    try:
        return date(year, month, day)
    except ValueError:
        raise InvalidInput(
            f"La date « {name} » ({text}) n'existe pas : vérifiez le jour et le mois."
        ) from None


def _bounded_int(raw: str | None, name: str, default: int, high: int) -> int:
    text = (raw or "").strip()
    if not text:
        return default
    if not text.isascii() or not text.isdigit() or len(text) > 7:
        raise InvalidInput(f"Le paramètre « {name} » doit être un nombre entier entre 1 et {high}.")
    value = int(text)
    if not 1 <= value <= high:
        raise InvalidInput(f"Le paramètre « {name} » doit être compris entre 1 et {high}.")
    return value


def parse_page(args: Mapping[str, str], high: int = MAX_PAGE) -> int:
    """Return the page number asked for (1 when absent)."""
    return _bounded_int(args.get("page"), "page", 1, high)


def parse_search(args: Mapping[str, str], *, default_size: int = DEFAULT_PAGE_SIZE) -> SearchParams:
    """Return the search described by request ARGS, or raise InvalidInput saying what is wrong."""
    q = _text(args, "q", MAX_QUERY_CHARS, "La recherche est trop longue")
    auteur = _text(args, "auteur", MAX_AUTHOR_CHARS, "Le nom d'auteur est trop long") or None
    edition = _text(args, "edition", MAX_EDITION_CHARS, "L'édition est trop longue") or None
    categorie = _text(args, "categorie", MAX_CATEGORY_CHARS,
                      "La catégorie est trop longue") or None
    sauf_auteur = _texts(args, "sauf_auteur", MAX_AUTHOR_CHARS, "Le nom d'auteur est trop long")
    sauf_edition = _texts(args, "sauf_edition", MAX_EDITION_CHARS, "L'édition est trop longue")
    sauf_categorie = _texts(args, "sauf_categorie", MAX_CATEGORY_CHARS,
                            "La catégorie est trop longue")
    du = parse_date(args.get("du"), "du")
    au = parse_date(args.get("au"), "au")
    if du and au and du > au:
        raise InvalidInput(
            f"La date de début ({du.isoformat()}) est postérieure à la date de fin "
            f"({au.isoformat()})."
        )
    tri = (args.get("tri") or "pertinence").strip()
    if tri not in SORT_NAMES:
        raise InvalidInput(
            f"Le tri « {tri[:40]} » est inconnu : choisissez « pertinence », « date » "
            "(récents d'abord) ou « anciens »."
        )
    page = parse_page(args)
    taille = _bounded_int(args.get("taille"), "taille", default_size, MAX_PAGE_SIZE)
    mots = (args.get("mots") or "0").strip()
    if mots not in ("0", "1"):
        raise InvalidInput(f"Le paramètre « mots » vaut 1 (avec les mots associés) ou 0, "
                           f"pas « {mots[:40]} ».")
    return SearchParams(q=q, auteur=auteur, du=du, au=au, tri=tri, page=page, taille=taille,
                        mots=mots == "1", edition=edition, categorie=categorie,
                        sauf_auteur=sauf_auteur,
                        sauf_edition=sauf_edition, sauf_categorie=sauf_categorie,
                        statut=parse_status(args.get("statut")),
                        anterieures=parse_flag(args.get("anterieures"), "anterieures"),
                        replier=parse_flag(args.get("replier"), "replier"))


_UNACCENTED = str.maketrans("éèêÉÈÊ", "eeeeee")
_YES = frozenset({"1", "oui", "on", "true"})
_NO = frozenset({"", "0", "non", "off", "false"})


def parse_status(raw: str | None) -> str | None:
    """Return the « statut » filter (modifie, retire, inchange; accents allowed), or None."""
    text = (raw or "").strip().lower().translate(_UNACCENTED)
    if not text or text == "tous":
        return None
    if text not in STATUS_NAMES:
        raise InvalidInput(
            f"Le statut « {text[:40]} » est inconnu : choisissez « modifié », « retiré » ou "
            "« inchangé »."
        )
    return text


def parse_flag(raw: str | None, name: str) -> bool:
    """Return a yes/no parameter (1, oui, on / 0, non, off, or absent)."""
    text = (raw or "").strip().lower()
    if text in _YES:
        return True
    if text in _NO:
        return False
    raise InvalidInput(f"Le paramètre « {name} » vaut « 1 » ou « 0 », pas « {text[:40]} ».")
