"""``python -m archive serve``: the web front end on Flask's development server.

Production runs ``gunicorn -c gunicorn.conf.py wsgi:app`` instead (see docs/operations.md); both
serve the application ``archive.web.create_app`` assembles from the same settings.
"""

from __future__ import annotations

import logging
import os
import re
from typing import TYPE_CHECKING

import click

from archive.cli import settings_from

if TYPE_CHECKING:
    from flask import Flask

DEVELOPMENT = " * serveur de développement (pas pour la production : gunicorn)"

_ADDRESS = re.compile(r"https?://[^\s\x1b]+")


DEBUG_LINES = (
    (re.compile(r" \* Restarting with (\w+)"), " * redémarrage (surveillance des fichiers : {0})"),
    (re.compile(r" \* Detected change in (.+), reloading"), " * {0} a changé : rechargement"),
    (re.compile(r" \* Debugger is active!"), " * débogueur actif"),
    (re.compile(r" \* Debugger PIN disabled\. DEBUGGER UNSECURED!"),
     " * code du débogueur désactivé : DÉBOGUEUR SANS PROTECTION !"),
    (re.compile(r" \* Debugger PIN: (.+)"), " * code du débogueur : {0}"),
    (re.compile(r" \* To enable the debugger you need to enter the security pin:"),
     " * pour activer le débogueur, saisissez son code :"),
    (re.compile(r" \* Debugger pin code: (.+)"), " * code du débogueur : {0}"),
)
"""werkzeug's reloader and debugger lines under ``--debug``, and what they say in French."""


class FrenchBanner(logging.Filter):
    """Say werkzeug's English start-up, reloader and debugger lines in French under ``--debug``
    (its request lines carry no words)."""

    def filter(self, record: logging.LogRecord) -> bool:
        """Rewrite RECORD when it is one of werkzeug's known lines; keep every record."""
        text = record.getMessage()
        if "development server" in text:
            addresses = " et ".join(dict.fromkeys(_ADDRESS.findall(text)))
            record.msg, record.args = f"{DEVELOPMENT} à l'écoute sur {addresses}", ()
        elif "CTRL+C" in text:
            record.msg, record.args = " * Ctrl-C pour arrêter", ()
        else:
            for english, french in DEBUG_LINES:
                found = english.fullmatch(text.rstrip())
                if found:
                    record.msg, record.args = french.format(*found.groups()), ()
                    break
        return True


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
    if debug:
        _serve_with_reloader(app, host, port)
        return
    from archive.web.devserver import DevelopmentServer

    server = DevelopmentServer(host, port, app)
    click.echo(f"{settings.data_dir} servi sur http://{host}:{server.port}/", err=True)
    click.echo(f"{DEVELOPMENT} à l'écoute sur http://{host}:{server.port} ; Ctrl-C pour "
               "arrêter", err=True)
    try:
        server.serve_forever()
    finally:
        server.server_close()


def _serve_with_reloader(app: Flask, host: str, port: int) -> None:
    """Serve APP with werkzeug's reloader and debugger, its banner said in French."""
    from werkzeug.serving import run_simple

    from archive.web.devserver import DevelopmentServer

    # Check the port once, in French, before werkzeug does (in English); the reloader's child
    # (WERKZEUG_RUN_MAIN) serves the socket its parent bound.
    if os.environ.get("WERKZEUG_RUN_MAIN") != "true":
        DevelopmentServer(host, port, app).server_close()
        click.echo(f"servi sur http://{host}:{port}/ (rechargement et débogueur)", err=True)
    app.debug = True
    logging.getLogger("werkzeug").addFilter(FrenchBanner())
    # run_simple rather than app.run: Flask's own banner is printed, in English, around it.
    run_simple(host, port, app, use_reloader=True, use_debugger=True, threaded=True)
