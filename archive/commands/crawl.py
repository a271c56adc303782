"""``python -m archive crawl URL...``: harvest sites into the archive, then update the index."""

from __future__ import annotations

from pathlib import Path

import click

from archive.cli import settings_from
from archive.errors import IndexLocked
from archive.progress import terminal_progress

EPILOG = """\b
Codes de sortie :
  0   terminé (les problèmes page par page sont dans le rapport JSON de la collecte)
  2   adresse ou option invalide
  5   site injoignable : aucune adresse de départ n'a répondu
  6   erreur d'archive : l'archive SQLite ne peut être ouverte ou écrite
  8   index verrouillé : une autre indexation est en cours (la collecte est enregistrée) ;
      collecte verrouillée : une autre collecte de cette archive est en cours (rien n'est fait)
  130 interrompu : relancez la même commande pour reprendre où elle s'est arrêtée
"""


@click.command("crawl", epilog=EPILOG)
@click.argument("urls", nargs=-1, required=True, metavar="ADRESSES...")
@click.option("--delay", type=click.FloatRange(min=0), default=None, metavar="SECONDES",
              help="Secondes entre deux requêtes à un même hôte [variable ARCHIVE_CRAWL_DELAY ; "
                   "par défaut 1] ; le Crawl-delay de robots.txt l'emporte s'il est plus grand.")
@click.option("--max-articles", type=click.IntRange(min=1), default=None, metavar="N",
              help="S'arrêter après N pages demandées (la collecte est alors partielle).")
@click.option("--report", "report_path", type=click.Path(dir_okay=False, path_type=Path),
              default=None, metavar="FICHIER",
              help="Où écrire le rapport JSON de la collecte "
                   "[par défaut DATA_DIR/reports/crawl-NUMÉRO.json ; clés en anglais].")
@click.option("--no-index", is_flag=True,
              help="Ne pas mettre l'index de recherche à jour ensuite.")
@click.pass_context
def command(ctx: click.Context, urls: tuple[str, ...], delay: float | None,
            max_articles: int | None, report_path: Path | None, no_index: bool) -> None:
    """Découvrir et archiver les articles des sites ADRESSES (une par édition).

    Polie (robots.txt, délai par hôte, User-Agent identifié), incrémentale (seuls les
    articles nouveaux ou modifiés sont téléchargés) et reprenable (une collecte tuée
    reprend au lancement suivant). Finit par une mise à jour incrémentale de l'index :
    une ligne de cron garde tout à jour.
    """
    from archive.crawler import crawl

    settings = settings_from(ctx)
    if delay is not None:
        settings = settings.with_changes(crawl_delay=delay)
    progress = terminal_progress("collecte")
    try:
        report = crawl(list(urls), settings, progress=progress, max_articles=max_articles,
                       report_path=report_path)
    finally:
        if progress is not None:
            progress.close()
    click.echo(report.summary())
    if no_index:
        return
    _update_index(ctx)


def _update_index(ctx: click.Context) -> None:
    settings = settings_from(ctx)
    try:
        from indexer.update import update_index
    except ImportError as exc:
        click.echo(f"index non mis à jour : l'indexeur n'est pas disponible ({exc})", err=True)
        return
    try:
        index_report = update_index(settings.database_path, settings.index_dir,
                                    build_mb=settings.index_build_mb)
    except IndexLocked as exc:
        raise IndexLocked(f"{exc.message} (la collecte elle-même est enregistrée ; "
                          "lancez `python -m archive index` plus tard)") from None
    summary = getattr(index_report, "summary", None)
    click.echo(summary() if callable(summary) else f"index mis à jour : {index_report}")
