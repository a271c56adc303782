"""``python -m archive serve``: the web front end on Flask's development server.

Production runs ``gunicorn -c gunicorn.conf.py wsgi:app`` instead (see docs/operations.md); both
serve the application ``archive.web.create_app`` assembles from the same settings.
"""

from __future__ import annotations

import click

from archive.cli import settings_from


@click.command()
@click.option("--host", default="127.0.0.1", show_default=True, metavar="ADRESSE",
              help="Interface d'écoute (gardez 127.0.0.1 sauf raison précise).")
@click.option("--port", default=8000, show_default=True, type=click.IntRange(1, 65535),
              metavar="PORT", help="Port TCP d'écoute.")
@click.option("--debug/--no-debug", default=False,
              help="Recharger au changement du code, traces dans le navigateur (jamais en "
                   "production).")
@click.pass_context
def command(ctx: click.Context, host: str, port: int, debug: bool) -> None:
    """Lancer le site web (serveur de développement ; gunicorn en production)."""
    from archive.web import create_app

    settings = settings_from(ctx)
    app = create_app({"SETTINGS": settings})
    click.echo(f"{settings.data_dir} servi sur http://{host}:{port}/ (Ctrl-C pour arrêter)",
               err=True)
    app.run(host=host, port=port, debug=debug, use_reloader=debug, threaded=True)
