"""Turn a stored article into the Whoosh document of the index, validated and coerced.

Whoosh must never see a document it cannot take: an ``add_document`` that raises leaves the
segment corrupt in the forks (``docs/whoosh.md``, "A caught add_document failure corrupts the
segment"). So every value is checked and converted here,
and a document that cannot be made safe is refused with ``InvalidInput`` before it reaches a
writer.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from datetime import date, datetime
from typing import TYPE_CHECKING, Any

import numpy as np

from archive.authors import author_key as make_author_key
from archive.errors import InvalidInput

if TYPE_CHECKING:
    from archive.store import StoredArticle

# C0 controls (but tab and newlines), DEL and the C1 block; unpaired surrogates cannot be
# encoded as UTF-8 at all.
_CONTROL = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f\x7f-\x9f\ud800-\udfff]")
# The tokenizer keeps a run of word characters whole: a pasted blob (base64, a URL without
# separators) would otherwise become one huge term.
OVERLONG_WORD_CHARS = 200
_OVERLONG_WORD = re.compile(rf"\w{{{OVERLONG_WORD_CHARS},}}")
MAX_TEXT_CHARS = 2_000_000
# The space and the control characters before it: never in a word.
_LAST_BREAK = 32
# Between two superseded versions in the ``earlier`` field: a word ("_", which the query
# language never searches), so that no phrase runs from one version into the next.
_VERSION_GAP = "\n\n_\n\n"
MAX_SHORT_CHARS = 2_000
# The spelling field takes the title and the lead only: its words are what readers look for
# (names, places, topics), and the whole body would cost almost half of the indexing time.
SPELLING_LEAD_CHARS = 800


def document_for(article: StoredArticle) -> dict[str, Any]:
    """Return the index document of ARTICLE; raise InvalidInput if it cannot be indexed."""
    if not isinstance(article.id, int) or isinstance(article.id, bool) or article.id < 1:
        raise InvalidInput(f"le numéro d'article {article.id!r} n'est pas un entier positif")
    where = f"article {article.id}"
    url = _short_text(article.url, "url", where)
    if not url:
        raise InvalidInput(f"{where} n'a pas d'adresse")
    title = _short_text(article.title, "title", where)
    body = _text(_indexed_part(article.body), "body", where)
    if not title and not body:
        raise InvalidInput(f"{where} n'a ni titre ni texte")
    document: dict[str, Any] = {
        "id": str(article.id),
        "url": url,
        "title": title,
        "body": body,
        "withdrawn": _status_withdrawn(article.status, where),
        "status": str(article.status),
        "versions": _version_count(article.version_count, where),
        "spell": f"{title}\n{_lead(body)}",
    }
    # The same string objects: the pair fields reuse the words their text field just analysed.
    if title:
        document["title_pairs"] = title
        document["title_exact"] = title
        document["title_exact_pairs"] = title
    if body:
        document["body_pairs"] = body
        document["body_exact"] = body
        document["body_exact_pairs"] = body
    author = _short_text(article.author, "author", where) if article.author else ""
    if author:
        document["author"] = author
        key = article.author_key if isinstance(article.author_key, str) else ""
        document["author_key"] = _short_text(key, "author_key", where) or make_author_key(author)
    published = _published(article.published, where)
    if published is not None:
        document["published"] = published
    edition = _short_text(article.edition, "edition", where) if article.edition else ""
    if edition:
        document["edition"] = edition
    categories = _categories(article.categories, where)
    if categories:
        document["categories"] = categories
    return document


def _indexed_part(body: object) -> object:
    """Return the part of BODY the index holds: all of it, or its first MAX_TEXT_CHARS.

    A very long body is still stored whole; its beginning is what search finds (a prefix, so
    the index's character offsets still point into the text SQLite holds).
    """
    if isinstance(body, str) and len(body) > MAX_TEXT_CHARS:
        return body[:MAX_TEXT_CHARS]
    return body


def earlier_fields(article: StoredArticle, earlier: Sequence[tuple[str | None, str | None]],
                   ) -> dict[str, str]:
    """Return the fields of ARTICLE's superseded versions EARLIER ((title, body), oldest first).

    Empty when there is none. The texts are checked like the current one.
    """
    where = f"article {article.id}"
    texts = []
    for title, body in earlier:
        text = f"{_short_text(title, 'title', where)}\n{_text(body, 'body', where)}".strip()
        if text:
            texts.append(text)
    if not texts:
        return {}
    joined = _VERSION_GAP.join(texts)
    if len(joined) > MAX_TEXT_CHARS:
        joined = joined[:MAX_TEXT_CHARS]
    return {"earlier": joined, "earlier_exact": joined}


def version_document(key: str, title: str | None, body: str | None) -> dict[str, Any]:
    """Return the index document of one version's text alone (to test a query on it)."""
    where = f"version {key}"
    title_text = _short_text(title, "title", where)
    body_text = _text(body, "body", where)
    document: dict[str, Any] = {"id": key, "url": ""}
    for name, text in (("title", title_text), ("body", body_text)):
        if text:
            document.update({name: text, f"{name}_pairs": text, f"{name}_exact": text,
                             f"{name}_exact_pairs": text})
    return document


def with_earlier_versions(document: dict[str, Any], article: StoredArticle,
                          archive: Any) -> dict[str, Any]:
    """Add to DOCUMENT the text of ARTICLE's superseded versions, read from ARCHIVE."""
    if isinstance(article.version_count, int) and article.version_count > 1:
        superseded = archive.articles.versions(article.id)[:-1]
        document.update(earlier_fields(article, [(v.title, v.body) for v in superseded]))
    return document


def _version_count(value: object, where: str) -> int:
    if not isinstance(value, int) or isinstance(value, bool) or value < 0:
        raise InvalidInput(f"{where} : le nombre de versions {value!r} n'est pas un entier")
    return max(1, value)


def _text(value: object, name: str, where: str) -> str:
    if value is None:
        return ""
    if not isinstance(value, str):
        raise InvalidInput(f"{where} : {name} est de type {type(value).__name__}, pas du texte")
    if len(value) > MAX_TEXT_CHARS:
        raise InvalidInput(f"{where} : {name} a {len(value):,} caractères, plus que "
                           f"{MAX_TEXT_CHARS:,}")
    # Replacements keep the length: the index's character offsets must still point into the
    # text that SQLite holds, which highlighting reads back.
    text = _CONTROL.sub(" ", value)
    # A run of word characters never holds white space: without a long stretch between two
    # spaces there is none to blank, and the regex (slow: it starts at every character of
    # every word) need not run.
    if len(text) < OVERLONG_WORD_CHARS or _longest_stretch(text) < OVERLONG_WORD_CHARS:
        return text
    return _OVERLONG_WORD.sub(lambda match: " " * len(match.group()), text)


def _longest_stretch(text: str) -> int:
    """Return the most UTF-8 bytes of TEXT in a row without a space or a control character.

    No byte of a word character is one of those (a character beyond ASCII is all bytes of
    128 and more), so a run of N word characters is a stretch of N bytes at least. Counted
    with numpy: ``text.split()`` made a string of every word (half of ``document_for``).
    """
    data = np.frombuffer(text.encode("utf-8"), dtype=np.uint8)
    breaks = np.flatnonzero(data <= _LAST_BREAK)
    if not len(breaks):
        return len(data)
    return max(int(breaks[0]), int(np.diff(breaks).max(initial=1)) - 1,
               len(data) - 1 - int(breaks[-1]))


def _short_text(value: object, name: str, where: str) -> str:
    text = _text(value, name, where).strip()
    if len(text) > MAX_SHORT_CHARS:
        raise InvalidInput(f"{where} : {name} a {len(text):,} caractères, plus que "
                           f"{MAX_SHORT_CHARS:,}")
    return text


def _lead(body: str) -> str:
    if len(body) <= SPELLING_LEAD_CHARS:
        return body
    cut = body.rfind(" ", 0, SPELLING_LEAD_CHARS)
    return body[:cut if cut > 0 else SPELLING_LEAD_CHARS]


def _status_withdrawn(status: object, where: str) -> bool:
    if status not in ("published", "withdrawn"):
        raise InvalidInput(f"{where} : statut inconnu {status!r}")
    return status == "withdrawn"


def _published(value: object, where: str) -> datetime | None:
    # Midnight UTC of the publication day, naive, as Whoosh's DATETIME expects.
    if value is None:
        return None
    if isinstance(value, datetime):
        value = value.date()
    if not isinstance(value, date):
        raise InvalidInput(f"{where} : la date de publication {value!r} n'est pas une date")
    if not 1900 <= value.year <= 2200:
        raise InvalidInput(f"{where} : la date de publication {value.isoformat()} est hors limites")
    return datetime(value.year, value.month, value.day)


def _categories(value: object, where: str) -> str:
    if not value:
        return ""
    if isinstance(value, str) or not isinstance(value, tuple | list):
        raise InvalidInput(f"{where} : les catégories doivent être une suite de noms")
    names = []
    for name in value:
        # The KEYWORD field splits on commas: a comma inside one name would make two.
        text = " ".join(_short_text(name, "category", where).replace(",", " ").split())
        if text:
            names.append(text)
    return ",".join(names)
