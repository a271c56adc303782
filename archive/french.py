"""How the command line writes counts, decimals, dates and the system's reasons in French.

« 0 article », « 1 article », « 2 articles » (0 and 1 take the singular in French), « 0,6 s »,
« 3 mars 2024 », « 6 décembre 2026 à 9 h 36 UTC », « permission refusée ». No Flask here: the
crawler, the indexer and the commands use it.
"""

from __future__ import annotations

import errno
import re
import socket
from datetime import UTC, date, datetime

MONTHS = (
    "janvier", "février", "mars", "avril", "mai", "juin",
    "juillet", "août", "septembre", "octobre", "novembre", "décembre",
)


def number(value: int) -> str:
    """Return a whole number with French thousands separators (narrow no-break spaces)."""
    return f"{value:,}".replace(",", "\u202f")


def decimal(value: float, digits: int = 1) -> str:
    """Return « 0,6 » for 0.6: a decimal comma, thousands separated."""
    whole, _, fraction = f"{value:,.{digits}f}".partition(".")
    text = whole.replace(",", "\u202f")
    return f"{text},{fraction}" if fraction else text


def agree(count: int, singular: str, plural: str | None = None) -> str:
    """Return the word for COUNT things: singular for 0 and 1, else PLURAL (or SINGULAR + s)."""
    return singular if count < 2 else (plural or singular + "s")


def count(value: int, singular: str, plural: str | None = None) -> str:
    """Return « 0 erreur », « 1 erreur », « 2 erreurs », « 12 345 articles »."""
    return f"{number(value)} {agree(value, singular, plural)}"


def day(value: date | datetime) -> str:
    """Return a date as French readers write it: « 3 mars 2024 », « 1er mars 2024 »."""
    if isinstance(value, datetime):
        value = value.astimezone(UTC).date() if value.tzinfo else value.date()
    first = "1er" if value.day == 1 else str(value.day)
    return f"{first} {MONTHS[value.month - 1]} {value.year}"


def moment(value: datetime) -> str:
    """Return a moment in French with its UTC time: « 3 mars 2024 à 14 h 05 UTC »."""
    utc = value.astimezone(UTC) if value.tzinfo else value
    return f"{day(utc.date())} à {utc.hour} h {utc.minute:02d} UTC"


OS_REASONS = {
    errno.ENOENT: "fichier ou répertoire introuvable",
    errno.EACCES: "permission refusée",
    errno.EPERM: "opération non permise",
    errno.EISDIR: "c'est un répertoire",
    errno.ENOTDIR: "ce n'est pas un répertoire",
    errno.ENOSPC: "plus de place sur le disque",
    errno.EDQUOT: "quota de disque dépassé",
    errno.EROFS: "système de fichiers en lecture seule",
    errno.EEXIST: "existe déjà",
    errno.ENOTEMPTY: "répertoire non vide",
    errno.EIO: "erreur d'entrée-sortie",
    errno.EMFILE: "trop de fichiers ouverts",
    errno.ENAMETOOLONG: "nom trop long",
    errno.ELOOP: "trop de liens symboliques",
    errno.EADDRINUSE: "adresse déjà utilisée",
    errno.EADDRNOTAVAIL: "adresse indisponible sur cette machine",
    errno.ECONNREFUSED: "connexion refusée",
    errno.ETIMEDOUT: "délai de connexion dépassé",
    errno.EXDEV: "lien impossible entre deux systèmes de fichiers",
}
"""The system's reasons for a failed file or socket operation, as French users read them."""


def technical(detail: object) -> str:
    """Return a library's own (English) text as the expert reads it after a French lead."""
    return f"(détail technique : {detail})"


def os_reason(error: OSError) -> str:
    """Return why ERROR happened, in French when the reason is a common one."""
    if isinstance(error, socket.gaierror):
        return "nom d'hôte inconnu"
    if error.errno in OS_REASONS:
        return OS_REASONS[error.errno]
    code = errno.errorcode.get(error.errno or 0)
    what = f"erreur du système {code}" if code else "erreur du système"
    return f"{what}, détail technique : {error.strerror or error}"


TRANSPORT_REASONS = {
    "TooManyRedirects": "trop de redirections",
    "ConnectTimeout": "pas de connexion dans le délai",
    "ReadTimeout": "pas de réponse dans le délai",
    "WriteTimeout": "envoi de la requête trop lent",
    "PoolTimeout": "aucune connexion libre dans le délai",
    "TimeoutException": "délai dépassé",
    "ConnectError": "connexion impossible (hôte introuvable ou connexion refusée)",
    "ReadError": "connexion coupée par le serveur pendant la réponse",
    "WriteError": "connexion coupée pendant l'envoi de la requête",
    "RemoteProtocolError": "réponse hors du protocole HTTP (illisible ou coupée avant la fin)",
    "LocalProtocolError": "requête refusée par le client HTTP",
    "ProxyError": "le mandataire a refusé la connexion",
    "UnsupportedProtocol": "protocole non pris en charge (http ou https seulement)",
    "DecodingError": "corps de réponse impossible à décoder",
    "InvalidURL": "adresse invalide",
    "TransportError": "échange impossible avec le serveur",
    "HTTPError": "échange impossible avec le serveur",
}
"""Why an HTTP exchange failed, by the HTTP client's exception class (httpx's names; the
most specific class first), as French users read it."""


def transport_reason(error: Exception) -> str:
    """Return why an HTTP exchange failed with ERROR, in French, with its technical detail."""
    names = [cls.__name__ for cls in type(error).__mro__]
    reason = next((TRANSPORT_REASONS[name] for name in names if name in TRANSPORT_REASONS),
                  "échange impossible avec le serveur")
    detail = f"{type(error).__name__}: {error}" if str(error) else type(error).__name__
    return f"{reason} {technical(detail)}"


_WHERE = re.compile(r",? line (\d+), column (\d+)")


def xml_problem(error: Exception) -> str:
    """Return what an XML parser (lxml) found wrong, in French, with its own words as detail."""
    message = str(getattr(error, "msg", "") or error)
    position = getattr(error, "position", None)
    found = _WHERE.search(message)
    if found:
        message = message[:found.start()] + message[found.end():]
        line, column = found.groups()
    elif isinstance(position, tuple) and len(position) == 2:
        line, column = str(position[0]), str(position[1])
    else:
        return f"XML mal formé {technical(message)}"
    return f"XML mal formé ligne {line}, colonne {column} {technical(message.strip())}"


_UNLISTED = re.compile(r"unlisted: absent from every listing in (\d+) complete runs")


def withdrawal_reason(reason: str) -> str:
    """Return what an archive recorded of a withdrawal (« HTTP 404 », or the crawler's English
    note on an article no listing names any more, in archives written before) in French."""
    found = _UNLISTED.fullmatch(reason)
    if found:
        runs = int(found.group(1))
        return (f"absent de toutes les listes de la plateforme pendant "
                f"{count(runs, 'collecte complète', 'collectes complètes')}")
    return reason


SQLITE_REASONS = {
    "file is not a database": "ce n'est pas une base SQLite",
    "database disk image is malformed": "la base est endommagée",
    "disk I/O error": "erreur d'entrée-sortie du disque",
    "database or disk is full": "la base ou le disque est plein",
    "unable to open database file": "le fichier de la base ne s'ouvre pas",
    "attempt to write a readonly database": "la base est en lecture seule",
    "database is locked": "la base est verrouillée",
}
"""SQLite's usual complaints, as French users read them."""


def sqlite_reason(error: Exception) -> str:
    """Return SQLite's complaint ERROR in French when it is a usual one."""
    text = str(error)
    return SQLITE_REASONS.get(text) or f"erreur de SQLite, détail technique : {text}"
