"""Author names as shown, and the normalised key that makes spellings of one name one author."""

from __future__ import annotations

import re
import unicodedata

_APOSTROPHES = str.maketrans({"’": "'", "‘": "'", "ʼ": "'", "`": "'", "´": "'", "′": "'"})
_DASHES = str.maketrans({"‐": "-", "‑": "-", "‒": "-", "–": "-", "—": "-"})
_SPACES = re.compile(r"\s+")
_AROUND_PUNCT = re.compile(r"\s*([-'])\s*")
_NON_SLUG = re.compile(r"[^a-z0-9]+")


def display_name(name: str) -> str:
    """Return NAME as shown on the platform, with white space tidied (nothing else changed)."""
    return _SPACES.sub(" ", name.replace("\u00a0", " ")).strip()


def author_key(name: str) -> str:
    """Return the key that is equal for every spelling of one author (case, accents, spacing, ’).

    >>> author_key("Aïssatou N'Diaye") == author_key("aissatou  n’diaye")
    True
    """
    text = unicodedata.normalize("NFKD", name.translate(_APOSTROPHES).translate(_DASHES))
    text = "".join(ch for ch in text if not unicodedata.combining(ch)).casefold()
    text = _SPACES.sub(" ", text).strip()
    return _AROUND_PUNCT.sub(r"\1", text)


def author_match_key(name: str) -> str:
    """Return the forgiving form of a name typed in a filter: letters and digits of its key.

    ``Eric NGuessan``, ``eric n guessan`` and ``Éric N’Guessan`` all give ``ericnguessan``.
    """
    return "".join(ch for ch in author_key(name) if ch.isalnum())


def author_slug(name: str) -> str:
    """Return a URL slug for an author (ASCII, hyphen-separated), derived from its key."""
    return _NON_SLUG.sub("-", author_key(name)).strip("-") or "inconnu"
