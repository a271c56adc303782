"""Articles hidden on request (``python -m archive hide``): the French 410 they answer."""

from __future__ import annotations

from typing import TYPE_CHECKING

from archive.errors import ArticleHidden
from archive.web.formatting import datetime_fr

if TYPE_CHECKING:
    from archive.store.records import StoredArticle


def check_public(article: StoredArticle) -> None:
    """Raise ArticleHidden (410) for an article withdrawn from the public on request."""
    if article.hidden_at is not None:
        raise ArticleHidden(
            f"Cet article a été retiré de l'archive publique à la demande, le "
            f"{datetime_fr(article.hidden_at)}. Il reste conservé, hors de la vue du public.")
