"""The ``python -m archive`` command line: one group, commands loaded lazily from ``commands/``.

Every ``ArchiveError`` becomes one line on stderr and its documented exit code
(``archive.errors.EXIT_CODES``); no command ever prints a traceback unless ``ARCHIVE_DEBUG=1``.
"""

from __future__ import annotations

import importlib
import os
import sys
from pathlib import Path
from typing import Any

import click

from archive.click_french import speak_french
from archive.config import SETTINGS, Settings, load_settings
from archive.errors import EXIT_CODES, ArchiveError

# Before any option is declared: click names some types (« répertoire ») when they are built.
speak_french()

COMMANDS: dict[str, tuple[str, str]] = {
    "demo": ("archive.commands.demo", "Réplique, collecte, index et site web d'un seul coup."),
    "replica": ("archive.commands.replica", "Servir la réplique de la plateforme sur 127.0.0.1."),
    "parse": ("archive.commands.parse", "Lire une page d'article (fichier ou adresse) en JSON."),
    "crawl": ("archive.commands.crawl", "Collecter les articles d'un site dans l'archive."),
    "reparse": ("archive.commands.reparse", "Relire toutes les captures sans rien collecter."),
    "index": ("archive.commands.index", "Mettre l'index de recherche à jour de l'archive."),
    "search": ("archive.commands.search", "Chercher dans l'archive depuis le terminal."),
    "publish": ("archive.commands.publish", "Envoyer une version aux hôtes web et les basculer."),
    "serve": ("archive.commands.serve", "Lancer le site web (serveur de développement)."),
    "hide": ("archive.commands.hide", "Retirer un article du public sur demande."),
    "unhide": ("archive.commands.unhide", "Rendre public un article retiré sur demande."),
}
"""Each command's module and its one line in ``python -m archive --help``."""


class LazyGroup(click.Group):
    """A group whose commands are imported only when used, so each area owns its command."""

    def list_commands(self, ctx: click.Context) -> list[str]:
        return sorted(COMMANDS)

    def get_command(self, ctx: click.Context, cmd_name: str) -> click.Command | None:
        if cmd_name not in COMMANDS:
            return None
        module = importlib.import_module(COMMANDS[cmd_name][0])
        command: click.Command = module.command
        return command

    def invoke(self, ctx: click.Context) -> Any:
        """Run the command; an ``EOFError`` from a damaged file is not a Ctrl-D."""
        try:
            return super().invoke(ctx)
        except EOFError as exc:
            # click would take it for end of input at a prompt and say "interrupted" (130);
            # no command prompts, so it is an unexpected end of a file.
            raise RuntimeError(f"fin inattendue d'un fichier ({exc or 'sans détail'})") from exc

    def format_commands(self, ctx: click.Context, formatter: click.HelpFormatter) -> None:
        rows = [(name, help_text) for name, (_, help_text) in sorted(COMMANDS.items())]
        with formatter.section("Commandes"):
            formatter.write_dl(rows)


def _exit_code_epilog() -> str:
    return ("Codes de sortie :\n\n"
            + "\n\n".join(f"{code}  {text}" for code, text in EXIT_CODES.items())
            + "\n\nLes sorties --json gardent leurs clés en anglais (des programmes les lisent).")


_DATA_DIR = next(setting for setting in SETTINGS if setting.name == "data_dir")


@click.group(cls=LazyGroup, epilog=_exit_code_epilog(),
             subcommand_metavar="COMMANDE [ARGUMENTS]...")
@click.option(
    "--data-dir",
    type=click.Path(file_okay=False, path_type=Path),
    default=None,
    metavar="RÉPERTOIRE",
    help=f"{_DATA_DIR.help} [variable {_DATA_DIR.env} ; par défaut {_DATA_DIR.default}]",
)
@click.version_option(package_name="notrecontinent-archive")
@click.pass_context
def cli(ctx: click.Context, data_dir: Path | None) -> None:
    """Collecter, archiver, indexer et servir la plateforme Notre Continent."""
    ctx.obj = load_settings(data_dir=data_dir)


def settings_from(ctx: click.Context) -> Settings:
    """Return the settings resolved by the top-level group for this invocation."""
    root = ctx.find_root()
    settings = root.obj
    if not isinstance(settings, Settings):
        settings = load_settings()
        root.obj = settings
    return settings


def main(argv: list[str] | None = None) -> Any:
    """Run the CLI, turning product errors into one stderr line and an exit code."""
    try:
        return cli.main(args=argv, prog_name="python -m archive", standalone_mode=False)
    except click.exceptions.Abort:
        click.echo("interrompu", err=True)
        sys.exit(130)
    except click.ClickException as exc:
        exc.show()
        sys.exit(exc.exit_code)
    except click.exceptions.Exit as exc:
        sys.exit(exc.exit_code)
    except ArchiveError as exc:
        click.echo(f"erreur : {exc.message}", err=True)
        sys.exit(exc.exit_code)
    except KeyboardInterrupt:
        click.echo("interrompu", err=True)
        sys.exit(130)
    except Exception as exc:  # noqa: BLE001 - last line of defence: one line, never a traceback
        if os.environ.get("ARCHIVE_DEBUG") == "1":
            raise
        click.echo(
            f"erreur interne : {type(exc).__name__}: {exc} (relancez avec ARCHIVE_DEBUG=1 "
            "pour voir la trace, et signalez-la)",
            err=True,
        )
        sys.exit(1)
