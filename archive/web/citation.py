"""How a journalist cites an archived article: the fields, a plain-text form and an export row.

A citation names one version of the text: its number, the days it was seen on the platform
and its SHA-256, and its archived address is that version's permalink, which never changes.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime
from typing import TYPE_CHECKING, Any

from archive.web.formatting import date_fr
from archive.web.links import web_link

if TYPE_CHECKING:
    from archive.store.records import StoredArticle, Version

EXPORT_FIELDS = (
    "id", "titre", "auteur", "date_publication", "date_modification", "edition",
    "url_originale", "url_archivee", "date_capture", "version", "nombre_versions",
    "empreinte_sha256", "statut", "retire", "date_retrait", "citation",
)
TEXT_FIELD = "texte"
SITE = "Notre Continent"


@dataclass(frozen=True)
class Citation:
    """The facts a citation needs: who, what, when, which version, where its copy is."""

    article_id: int
    author: str | None
    title: str
    published: date | None
    edition: str | None
    original_url: str
    archived_url: str
    captured_at: datetime | None
    withdrawn_at: datetime | None
    modified: datetime | None = None
    version: int = 1
    version_count: int = 1
    content_hash: str = ""
    first_seen: datetime | None = None
    last_seen: datetime | None = None
    body: str = ""

    @property
    def site(self) -> str:
        """Return the platform's name with the edition: « Notre Continent (sn) »."""
        return f"{SITE} ({self.edition})" if self.edition else SITE

    @property
    def status(self) -> str:
        """Return "retiré", "modifié" or "inchangé"."""
        if self.withdrawn_at:
            return "retiré"
        return "modifié" if self.version_count > 1 else "inchangé"

    def text(self) -> str:
        """Return the citation as one line of French prose."""
        author = self.author or "Auteur inconnu"
        captured = date_fr(self.captured_at) if self.captured_at else "date inconnue"
        text = f"{author}, « {self.title} », {self.site}, {date_fr(self.published)}"
        if self.modified and (self.published is None or self.modified.date() != self.published):
            text += f" (modifié le {date_fr(self.modified)})"
        text += f". URL originale : {self.original_url}. "
        text += f"Copie archivée, version {self.version} sur {self.version_count}"
        if self.content_hash:
            text += f" (SHA-256 {self.content_hash})"
        text += f", capturée le {captured} : {self.archived_url}"
        if self.withdrawn_at:
            text += f". Retiré de la plateforme le {date_fr(self.withdrawn_at)}"
        return text + "."

    def record(self, *, with_text: bool = False) -> dict[str, Any]:
        """Return the citation as one export record (keys EXPORT_FIELDS; numbers stay numbers)."""
        found: dict[str, Any] = {
            "id": self.article_id,
            "titre": self.title,
            "auteur": self.author,
            "date_publication": _iso(self.published),
            "date_modification": _iso(self.modified),
            "edition": self.edition,
            "url_originale": web_link(self.original_url),  # only http(s) is a link
            "url_archivee": self.archived_url,
            "date_capture": _iso(self.captured_at),
            "version": self.version,
            "nombre_versions": self.version_count,
            "empreinte_sha256": self.content_hash,
            "statut": self.status,
            "retire": self.withdrawn_at is not None,
            "date_retrait": _iso(self.withdrawn_at),
            "citation": self.text(),
        }
        if with_text:
            found[TEXT_FIELD] = self.body
        return found

    def row(self, *, with_text: bool = False) -> dict[str, str]:
        """Return the citation as one CSV row (every value a string)."""
        return {key: _cell(value) for key, value in self.record(with_text=with_text).items()}


def _iso(value: date | None) -> str | None:
    return value.isoformat() if value is not None else None


def _cell(value: Any) -> str:
    if value is None:
        return ""
    if isinstance(value, bool):
        return "oui" if value else "non"
    return str(value)


def citation_for(article: StoredArticle, archived_url: str,
                 version: Version | None = None, modified: datetime | None = None,
                 captured_at: datetime | None = None) -> Citation:
    """Return the citation of VERSION of ARTICLE (default: its current text) at ARCHIVED_URL.

    MODIFIED and CAPTURED_AT are the platform's modification date and the capture time of
    that version when known; the current version's are the article's own.
    """
    current = version is None or version.number == article.version_count
    if current:
        modified = modified or article.modified
    return Citation(
        article_id=article.id,
        author=version.author if version else article.author,
        title=version.title if version else article.title,
        published=version.published if version else article.published,
        edition=article.edition,
        original_url=article.canonical_url or article.url,
        archived_url=archived_url,
        captured_at=captured_at or (version.first_seen if version and not current
                                    else article.captured_at or article.first_seen),
        withdrawn_at=article.withdrawn_at if article.status == "withdrawn" else None,
        modified=modified,
        version=version.number if version else article.version_count,
        version_count=article.version_count,
        content_hash=version.content_hash if version else article.content_hash,
        first_seen=version.first_seen if version else None,
        last_seen=version.last_seen if version else None,
        body=version.body if version else article.body,
    )
