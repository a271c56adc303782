"""The platform's country editions: the subdomain code and the country's name, declared once.

An edition is the subdomain a reader follows (``sn.notrecontinent.com``); the archive stores
its code and every page, facet, export and command shows the country's name beside it.
"""

from __future__ import annotations

# Codes are the ISO 3166-1 alpha-2 codes the platform uses as subdomains; names are French.
EDITION_NAMES: dict[str, str] = {
    "bf": "Burkina Faso",
    "bi": "Burundi",
    "bj": "Bénin",
    "cd": "RD Congo",
    "cf": "Centrafrique",
    "cg": "Congo",
    "ci": "Côte d'Ivoire",
    "cm": "Cameroun",
    "cv": "Cap-Vert",
    "dj": "Djibouti",
    "dz": "Algérie",
    "fr": "France",
    "ga": "Gabon",
    "gn": "Guinée",
    "gq": "Guinée équatoriale",
    "gw": "Guinée-Bissau",
    "ht": "Haïti",
    "km": "Comores",
    "ma": "Maroc",
    "mg": "Madagascar",
    "ml": "Mali",
    "mr": "Mauritanie",
    "mu": "Maurice",
    "ne": "Niger",
    "rw": "Rwanda",
    "sn": "Sénégal",
    "td": "Tchad",
    "tg": "Togo",
    "tn": "Tunisie",
}


def edition_name(code: str | None) -> str:
    """Return the country name of edition CODE (the code itself, upper case, when unknown)."""
    if not code:
        return ""
    return EDITION_NAMES.get(code.strip().lower(), code.strip().upper())


def edition_label(code: str | None) -> str:
    """Return « Sénégal (sn) »: the country's name with the code readers see in addresses."""
    if not code:
        return ""
    name = edition_name(code)
    return f"{name} ({code.strip().lower()})"
