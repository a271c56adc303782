"""``python -m archive serve``: the web front end on Flask's development server.

Production runs ``gunicorn -c gunicorn.conf.py wsgi:app`` instead (see docs/operations.md); both
serve the application ``archive.web.create_app`` assembles from the same settings.
"""

from __future__ import annotations

import click

from archive.cli import settings_from


@click.command()
@click.option("--host", default="127.0.0.1", show_default=True,
              help="Interface to listen on (keep loopback unless you know why).")
@click.option("--port", default=8000, show_default=True, type=click.IntRange(1, 65535),
              help="TCP port to listen on.")
@click.option("--debug/--no-debug", default=False,
              help="Reload on code changes, tracebacks in the browser (never in production).")
@click.pass_context
def command(ctx: click.Context, host: str, port: int, debug: bool) -> None:
    """Run the web front end (development server; use gunicorn in production)."""
    from archive.web import create_app

    settings = settings_from(ctx)
    app = create_app({"SETTINGS": settings})
    click.echo(f"{settings.data_dir} servi sur http://{host}:{port}/ (Ctrl-C pour arrêter)",
               err=True)
    app.run(host=host, port=port, debug=debug, use_reloader=debug, threaded=True)
