"""Takedowns: articles hidden from every public surface on request, and the record of each
hide and unhide (time, reason). Nothing is deleted: versions, captures and WARC records stay."""

from __future__ import annotations

from datetime import datetime

from archive.errors import InvalidInput
from archive.store import rows
from archive.store.database import Database
from archive.store.records import Takedown


class Takedowns:
    """Hide and unhide articles, and read the record of it (``python -m archive hide``)."""

    def __init__(self, db: Database) -> None:
        self._db = db

    def hide(self, article_id: int, *, reason: str, when: datetime) -> None:
        """Withdraw article ARTICLE_ID from every public surface (its versions stay archived)."""
        self._record(article_id, "hide", reason, when)

    def unhide(self, article_id: int, *, reason: str, when: datetime) -> None:
        """Put a hidden article back on the public surfaces."""
        self._record(article_id, "unhide", reason, when)

    def records(self, article_id: int | None = None) -> list[Takedown]:
        """Return every hide and unhide (of ARTICLE_ID, or of all articles), oldest first."""
        where, params = ("WHERE article_id = ?", (article_id,)) if article_id else ("", ())
        with self._db.errors():
            found = self._db.conn.execute(
                f"SELECT * FROM takedowns {where} ORDER BY at, id", params).fetchall()
        return [rows.takedown(row) for row in found]

    def _record(self, article_id: int, action: str, reason: str, when: datetime) -> None:
        reason = reason.strip()
        if not reason:
            raise InvalidInput("donnez le motif de la demande avec --reason (il est consigné)")
        with self._db.transaction():
            conn = self._db.conn
            row = conn.execute("SELECT hidden_at FROM articles WHERE id = ?",
                               (article_id,)).fetchone()
            if row is None:
                raise InvalidInput(f"aucun article {article_id} dans {self._db.path}")
            if action == "hide" and row[0] is not None:
                raise InvalidInput(f"l'article {article_id} est déjà masqué (depuis le {row[0]})")
            if action == "unhide" and row[0] is None:
                raise InvalidInput(f"l'article {article_id} n'est pas masqué")
            at = rows.time_text(when)
            hidden = (at, reason) if action == "hide" else (None, None)
            seq = int(conn.execute(
                "SELECT coalesce(max(change_seq), 0) + 1 FROM articles").fetchone()[0])
            conn.execute("UPDATE articles SET hidden_at = ?, hidden_reason = ?, change_seq = ? "
                         "WHERE id = ?", (*hidden, seq, article_id))
            conn.execute(
                "INSERT INTO takedowns (article_id, at, action, reason) VALUES (?, ?, ?, ?)",
                (article_id, at, action, reason))
