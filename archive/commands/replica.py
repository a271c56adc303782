"""``python -m archive replica``: serve the replica platform on 127.0.0.1 until Ctrl-C."""

from __future__ import annotations

import signal
import sys
import time
from types import FrameType

import click

from archive.errors import InvalidInput
from archive.replica.corpus import DEFAULT_SEED, Corpus
from archive.replica.faults import Faults
from archive.replica.server import serve_replica

DEFAULT_PORT = 8800


def _stop_on_terminate(signum: int, frame: FrameType | None) -> None:
    raise KeyboardInterrupt


@click.command(name="replica")
@click.option("--port", type=int, default=DEFAULT_PORT, show_default=True, metavar="PORT",
              help="Port de la première édition ; les autres prennent les suivants (0 : des "
                   "ports libres).")
@click.option("--articles", type=int, default=60, show_default=True, metavar="N",
              help="Nombre d'articles du corpus (jusqu'à 100000 et plus).")
@click.option("--faults", "--pannes", "with_faults", is_flag=True,
              help="Activer toutes les pannes simulées sur quelques articles (voir le README).")
@click.option("--no-rest-api", is_flag=True, help="Répondre 401 à toute adresse /wp-json/.")
@click.option("--seed", type=int, default=DEFAULT_SEED, show_default=True, metavar="N",
              help="Graine du corpus : la même graine donne toujours les mêmes articles.")
@click.option("--crawl-delay", type=float, default=None, metavar="SECONDES",
              help="Crawl-delay annoncé dans robots.txt (aucun par défaut).")
def command(port: int, articles: int, with_faults: bool, no_rest_api: bool, seed: int,
            crawl_delay: float | None) -> None:
    """Servir la réplique de la plateforme sur 127.0.0.1, un port par édition, jusqu'à Ctrl-C.

    Affiche une ligne par édition : son code et son adresse.
    """
    if articles < 1:
        raise InvalidInput("--articles vaut au moins 1")
    if port != 0 and not 1 <= port <= 65535 - 2:
        raise InvalidInput(f"--port {port} est hors limites : choisissez un port entre 1024 et "
                           "65533, ou 0 pour des ports libres")
    corpus = Corpus(size=articles, seed=seed)
    replica = serve_replica(corpus, port=port, faults=Faults.all() if with_faults else None,
                            rest_api=not no_rest_api, crawl_delay=crawl_delay)
    signal.signal(signal.SIGTERM, _stop_on_terminate)
    try:
        for edition, url in replica.urls.items():
            click.echo(f"{edition} {url}/")
        click.echo(f"{articles} articles, graine {seed} ; Ctrl-C pour arrêter.", err=True)
        sys.stdout.flush()
        while True:
            time.sleep(0.5)
    except KeyboardInterrupt:
        click.echo("réplique arrêtée", err=True)
    finally:
        replica.stop()
