"""``python -m archive publish DEST...``: send a release of the archive and its index to web
hosts and switch each atomically (``archive.publish``)."""

from __future__ import annotations

import click

from archive.cli import settings_from
from archive.errors import PublishFailed
from archive.french import count
from archive.publish.publisher import DEFAULT_GRACE_SECONDS, DEFAULT_KEEP, publish


@click.command("publish")
@click.argument("destinations", nargs=-1, required=True, metavar="DESTINATION...")
@click.option("--init", is_flag=True,
              help="Créer DESTINATION comme répertoire de publication s'il est absent ou vide.")
@click.option("--keep", "--garder", "keep", type=click.IntRange(min=1), default=DEFAULT_KEEP,
              show_default=True, metavar="N",
              help="Versions que chaque hôte garde au moins, celle servie comprise.")
@click.option("--grace", "grace_seconds", type=click.FloatRange(min=0),
              default=DEFAULT_GRACE_SECONDS, show_default=True, metavar="SECONDES",
              help="Secondes qu'une version remplacée reste sur disque pour ses lecteurs.")
@click.option("--ssh", "ssh_command", default="ssh", show_default=True, metavar="COMMANDE",
              help="La commande ssh des destinations hôte:chemin (par exemple 'ssh -p 2222').")
@click.pass_context
def command(ctx: click.Context, destinations: tuple[str, ...], init: bool, keep: int,
            grace_seconds: float, ssh_command: str) -> None:
    """Publier l'archive et son index sur les hôtes web (chemins locaux ou hôte:chemin par ssh).

    Chaque DESTINATION est le répertoire de publication d'un hôte web (son
    ARCHIVE_RELEASE_DIR). La version est envoyée entière à chaque hôte avec rsync (les
    fichiers inchangés depuis sa version précédente ne coûtent rien), vérifiée, puis mise en
    service d'un seul renommage ; un hôte en échec continue de servir sa version précédente
    et la commande sort avec le code 9.
    """
    report = publish(settings_from(ctx), destinations, init=init, keep=keep,
                     grace_seconds=grace_seconds, ssh_command=ssh_command)
    for line in report.lines():
        click.echo(line)
    failures = report.failures
    if failures:
        verb = "n'a" if len(failures) < 2 else "n'ont"
        raise PublishFailed(
            f"{count(len(failures), 'hôte')} sur {len(report.replicas)} {verb} pas reçu la "
            f"version {report.manifest.name} : " + " ; ".join(f.error or "" for f in failures))
