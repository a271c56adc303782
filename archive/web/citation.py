"""How a journalist cites an archived article: the fields, a plain-text form and an export row."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime
from typing import TYPE_CHECKING

from archive.web.formatting import date_fr
from archive.web.links import web_link

if TYPE_CHECKING:
    from archive.store.records import StoredArticle

EXPORT_FIELDS = (
    "id", "titre", "auteur", "date_publication", "edition", "url_originale", "url_archivee",
    "date_capture", "retire", "date_retrait", "citation",
)


@dataclass(frozen=True)
class Citation:
    """The facts a citation needs: who, what, when, where it was and where its copy is."""

    article_id: int
    author: str | None
    title: str
    published: date | None
    edition: str | None
    original_url: str
    archived_url: str
    captured_at: datetime | None
    withdrawn_at: datetime | None

    def text(self) -> str:
        """Return the citation as one line of French prose."""
        author = self.author or "Auteur inconnu"
        where = f"Notre Continent ({self.edition})" if self.edition else "Notre Continent"
        captured = date_fr(self.captured_at) if self.captured_at else "date inconnue"
        text = (
            f"{author}, « {self.title} », {where}, {date_fr(self.published)}. "
            f"URL originale : {self.original_url}. "
            f"Copie archivée (capturée le {captured}) : {self.archived_url}"
        )
        if self.withdrawn_at:
            text += f". Retiré de la plateforme le {date_fr(self.withdrawn_at)}"
        return text + "."

    def row(self) -> dict[str, str]:
        """Return the citation as one export row (every value a string, keys EXPORT_FIELDS)."""
        return {
            "id": str(self.article_id),
            "titre": self.title,
            "auteur": self.author or "",
            "date_publication": self.published.isoformat() if self.published else "",
            "edition": self.edition or "",
            "url_originale": web_link(self.original_url) or "",
            "url_archivee": self.archived_url,
            "date_capture": self.captured_at.isoformat() if self.captured_at else "",
            "retire": "oui" if self.withdrawn_at else "non",
            "date_retrait": self.withdrawn_at.isoformat() if self.withdrawn_at else "",
            "citation": self.text(),
        }


def citation_for(article: StoredArticle, archived_url: str) -> Citation:
    """Return the citation of ARTICLE, whose archived copy lives at ARCHIVED_URL."""
    return Citation(
        article_id=article.id,
        author=article.author,
        title=article.title,
        published=article.published,
        edition=article.edition,
        original_url=article.canonical_url or article.url,
        archived_url=archived_url,
        captured_at=article.captured_at or article.first_seen,
        withdrawn_at=article.withdrawn_at if article.status == "withdrawn" else None,
    )
