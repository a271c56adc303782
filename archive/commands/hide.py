"""``python -m archive hide`` (and ``unhide``): withdraw an article from every public surface on
request, or put it back, without destroying anything.

The article's versions, captures and WARC records stay in the archive; the web front end
answers 410 for it at once, and the search index drops it at its next update. Every hide and
unhide is recorded with its time and reason (``Archive.takedowns``).
"""

from __future__ import annotations

from datetime import UTC, datetime

import click

from archive.cli import settings_from
from archive.errors import InvalidInput, StoreError
from archive.french import count, moment
from archive.store import Archive

ACTIONS = {
    "hide": "Retirer un article de toutes les pages publiques (il reste archivé).",
    "unhide": "Rendre aux pages publiques un article retiré par `hide`.",
}


def run_takedown(ctx: click.Context, action: str, article: str, reason: str) -> None:
    """Hide or unhide ARTICLE (a number or a URL) for REASON, and say what was done."""
    settings = settings_from(ctx)
    if not settings.database_path.is_file():
        raise StoreError(f"aucune archive dans {settings.database_path} ; "
                         "vérifiez ARCHIVE_DATA_DIR",
                         path=str(settings.database_path))
    with Archive.open(settings.database_path, warc_dir=settings.warc_dir) as archive:
        stored = archive.reads.resolve_article(article)
        if stored is None:
            raise InvalidInput(f"aucun article archivé ne porte le numéro ou l'adresse "
                               f"{article!r} ; "
                               "donnez son numéro (comme dans /article/N) ou l'une de ses adresses")
        when = datetime.now(UTC)
        if action == "hide":
            archive.takedowns.hide(stored.id, reason=reason, when=when)
        else:
            archive.takedowns.unhide(stored.id, reason=reason, when=when)
        requests = len(archive.takedowns.records(stored.id))
    done = "masqué" if action == "hide" else "de nouveau public"
    said = "retrait" if action == "hide" else "retour"
    click.echo(f"{said} : l'article {stored.id} ({stored.url}) est {done} depuis le "
               f"{moment(when)}, motif consigné ({count(requests, 'demande')} de retrait le "
               "concernant) ; ses versions et ses captures restent dans l'archive ; l'index de "
               "recherche suit à sa prochaine mise à jour (python -m archive index)")


def make_command(action: str) -> click.Command:
    """Return the click command ACTION (``hide`` or ``unhide``)."""

    @click.command(action, help=ACTIONS[action] + "\n\nARTICLE est le numéro de l'article "
                   "(comme dans /article/N) ou l'une des adresses où il a été vu.")
    @click.argument("article", metavar="ARTICLE")
    @click.option("--reason", "--motif", "reason", required=True, metavar="MOTIF",
                  help="Pourquoi (une demande de retrait, une décision de justice, sa fin) ; "
                       "consigné tel quel.")
    @click.pass_context
    def takedown(ctx: click.Context, article: str, reason: str) -> None:
        run_takedown(ctx, action, article, reason)

    return takedown


command = make_command("hide")
