"""``python -m archive publish DEST...``: send a release of the archive and its index to web
hosts and switch each atomically (``archive.publish``)."""

from __future__ import annotations

import click

from archive.cli import settings_from
from archive.errors import PublishFailed
from archive.publish.publisher import DEFAULT_GRACE_SECONDS, DEFAULT_KEEP, publish


@click.command("publish")
@click.argument("destinations", nargs=-1, required=True, metavar="DEST...")
@click.option("--init", is_flag=True,
              help="Create DEST as a publish directory when it is absent or empty.")
@click.option("--keep", type=click.IntRange(min=1), default=DEFAULT_KEEP, show_default=True,
              help="Releases each host keeps at least, the one served included.")
@click.option("--grace", "grace_seconds", type=click.FloatRange(min=0),
              default=DEFAULT_GRACE_SECONDS, show_default=True,
              help="Seconds a superseded release stays on disk for readers still on it.")
@click.option("--ssh", "ssh_command", default="ssh", show_default=True,
              help="The ssh command for host:path destinations (e.g. 'ssh -p 2222').")
@click.pass_context
def command(ctx: click.Context, destinations: tuple[str, ...], init: bool, keep: int,
            grace_seconds: float, ssh_command: str) -> None:
    """Publish the archive and its index to web hosts (local paths or host:path over ssh).

    Each DEST is a web host's publish directory (ARCHIVE_RELEASE_DIR there). The release is
    sent whole to every host with rsync (files unchanged since the host's previous release
    cost nothing), checked, and only then switched in with one rename; a host that fails
    keeps serving its previous release and the command exits with code 9.
    """
    report = publish(settings_from(ctx), destinations, init=init, keep=keep,
                     grace_seconds=grace_seconds, ssh_command=ssh_command)
    for line in report.lines():
        click.echo(line)
    failures = report.failures
    if failures:
        raise PublishFailed(
            f"{len(failures)} hôte(s) sur {len(report.replicas)} n'ont pas reçu la version "
            f"{report.manifest.name} : " + " ; ".join(f.error or "" for f in failures))
