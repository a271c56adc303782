"""Click's own words in French: usage lines, headings, help options and the errors click writes.

Click passes every message it prints through ``gettext`` (imported into its modules as ``_``
and ``ngettext``) but ships no French catalogue, and a catalogue file would only be read
under a French locale. This module is the one place that knows click's message ids:
``speak_french()`` points those names of click's modules at ``MESSAGES`` and ``PLURALS``, and
gives help screens French headings (« Options : »). A test fails when a click release adds a
message this catalogue lacks, or moves the names it replaces.
"""

from __future__ import annotations

import importlib
from types import ModuleType

import click

CLICK_MODULES = (
    "click.core", "click.decorators", "click.exceptions", "click.formatting", "click.parser",
    "click.shell_completion", "click.termui", "click.types", "click.utils",
    "click._termui_impl",
)
"""Click's modules that import ``gettext as _`` (and some ``ngettext``) at their top."""

MESSAGES: dict[str, str] = {
    # Help screens.
    "Usage:": "Utilisation :",
    "Options": "Options",
    "Positional arguments": "Arguments",
    "Commands": "Commandes",
    "Show this message and exit.": "Afficher cette aide et quitter.",
    "Show the version and exit.": "Afficher la version et quitter.",
    "%(prog)s, version %(version)s": "%(prog)s, version %(version)s",
    "env var: {var}": "variable d'environnement : {var}",
    "default: {default}": "par défaut : {default}",
    "required": "obligatoire",
    "(dynamic)": "(calculé)",
    "deprecated": "obsolète",
    "file": "fichier",
    "directory": "répertoire",
    "path": "chemin",
    "Choice({choices})": "Choix({choices})",
    "Choose from:\n\t{choices}": "Choisissez parmi :\n\t{choices}",
    # Errors in what the user typed.
    "Error: {message}": "erreur : {message}",
    "Try '{command} {option}' for help.": "Essayez « {command} {option} » pour l'aide.",
    "No such option {name!r}.": "L'option « {name} » n'existe pas.",
    "No such command {name!r}.": "La commande « {name} » n'existe pas.",
    "Missing command.": "Commande manquante.",
    "Missing argument": "Argument manquant",
    "Missing option": "Option manquante",
    "Missing parameter": "Paramètre manquant",
    "Missing {param_type}": "Paramètre manquant ({param_type})",
    "Missing parameter: {param_name}": "Paramètre manquant : {param_name}",
    "Invalid value for {param_hint}: {message}": "Valeur invalide pour {param_hint} : {message}",
    "Invalid value: {message}": "Valeur invalide : {message}",
    "Value must be an iterable.": "La valeur doit être une liste de valeurs.",
    "unknown error": "erreur inconnue",
    "Could not open file {filename!r}: {message}":
        "Impossible d'ouvrir le fichier « {filename} » : {message}",
    "Invalid start character for option ({option})":
        "Premier caractère invalide pour une option ({option})",
    "Option {name!r} does not take a value.": "L'option « {name} » ne prend pas de valeur.",
    "Argument {name!r} takes {nargs} values.": "L'argument « {name} » prend {nargs} valeurs.",
    "{value} is not in the range {range}.": "{value} n'est pas dans l'intervalle {range}.",
    "{value!r} is not a valid {number_type}.": "« {value} » n'est pas un nombre valide.",
    "{value!r} is not a valid boolean. Recognized values: {states}":
        "« {value} » n'est pas un booléen valide. Valeurs reconnues : {states}",
    "{value!r} is not a valid UUID.": "« {value} » n'est pas un UUID valide.",
    "{name} {filename!r} does not exist.": "{name} « {filename} » : introuvable.",
    "{name} {filename!r} is a file.": "{name} « {filename} » : c'est un fichier.",
    "{name} {filename!r} is a directory.": "{name} « {filename} » : c'est un répertoire.",
    "{name} {filename!r} is not readable.": "{name} « {filename} » : lecture interdite.",
    "{name} {filename!r} is not writable.": "{name} « {filename} » : écriture interdite.",
    "{name} {filename!r} is not executable.": "{name} « {filename} » : exécution interdite.",
    "Unknown standard stream '{name}'": "Flux standard inconnu « {name} »",
    # Prompts, the terminal and the shell.
    "Aborted!": "Interrompu.",
    "Do you want to continue?": "Voulez-vous continuer ?",
    "Confirm the action without prompting.": "Confirmer sans poser la question.",
    "Repeat for confirmation": "Répétez pour confirmer",
    "Error: The two entered values do not match.": "erreur : les deux saisies diffèrent.",
    "Error: invalid input": "erreur : saisie invalide",
    "Press any key to continue...": "Appuyez sur une touche pour continuer…",
    "Unknown color {colour!r}": "Couleur inconnue : « {colour} »",
    "d": "j",
    "{editor}: Editing failed": "{editor} : la modification a échoué",
    "{editor}: Editing failed: {e}": "{editor} : la modification a échoué : {e}",
    "Windows error: {error}": "Erreur Windows : {error}",
    "Shell completion is not supported for Bash versions older than 4.4.":
        "La complétion n'est pas prise en charge avant Bash 4.4.",
    "Couldn't detect Bash version, shell completion is not supported.":
        "Version de Bash inconnue : la complétion n'est pas prise en charge.",
    # Mistakes in declaring commands (a programmer's, never a user's).
    "DeprecationWarning: The command {name!r} is deprecated.{extra_message}":
        "Avertissement : la commande « {name} » est obsolète.{extra_message}",
    "DeprecationWarning: The {param_type} {name!r} is deprecated.{extra_message}":
        "Avertissement : le paramètre « {name} » est obsolète.{extra_message}",
    "Could not determine name for option with declarations {decls!r}":
        "Impossible de nommer l'option déclarée par {decls!r}",
    "No options defined but a name was passed ({name}). Did you mean to declare an argument "
    "instead? Did you mean to pass '--{name}'?":
        "Aucune option déclarée mais un nom donné ({name}) : vouliez-vous déclarer un argument, "
        "ou écrire « --{name} » ?",
    "Arguments take exactly one parameter declaration, got {length}: {decls}.":
        "Un argument se déclare par un seul nom, pas {length} : {decls}.",
    "Name '{name}' defined twice": "Nom « {name} » déclaré deux fois",
    "Boolean option {decl!r} cannot use the same flag for true/false.":
        "L'option booléenne {decl!r} ne peut pas avoir le même drapeau pour vrai et faux.",
}
"""Click's singular messages and their French (the braces are click's own format fields)."""

PLURALS: dict[tuple[str, str], tuple[str, str]] = {
    ("Got unexpected extra argument ({args})", "Got unexpected extra arguments ({args})"):
        ("Argument en trop ({args})", "Arguments en trop ({args})"),
    ("Takes {nargs} values but 1 was given.", "Takes {nargs} values but {len} were given."):
        ("Attend {nargs} valeurs, {len} donnée.", "Attend {nargs} valeurs, {len} données."),
    ("Did you mean {possibility}?", "(Did you mean one of: {possibilities}?)"):
        ("Vouliez-vous dire {possibility} ?", "(Vouliez-vous dire l'une de : {possibilities} ?)"),
    ("Option {name!r} requires an argument.", "Option {name!r} requires {nargs} arguments."):
        ("L'option « {name} » attend une valeur.", "L'option « {name} » attend {nargs} valeurs."),
    ("{value!r} is not {choice}.", "{value!r} is not one of {choices}."):
        ("« {value} » n'est pas {choice}.", "« {value} » n'est pas l'une des valeurs {choices}."),
    ("{value!r} does not match the format {format}.",
     "{value!r} does not match the formats {formats}."):
        ("« {value} » ne suit pas le format {format}.",
         "« {value} » ne suit aucun des formats {formats}."),
    ("{len_type} values are required, but {len_value} was given.",
     "{len_type} values are required, but {len_value} were given."):
        ("{len_type} valeurs attendues, {len_value} donnée.",
         "{len_type} valeurs attendues, {len_value} données."),
}
"""Click's (singular, plural) messages and their French forms (French: 0 and 1 are singular)."""


class MissingFrench(RuntimeError):
    """Click printed a message this catalogue does not have (a click release added it)."""


def gettext(message: str) -> str:
    """Return the French of click's MESSAGE (the English itself if unknown, never an error)."""
    return MESSAGES.get(message, message)


def ngettext(singular: str, plural: str, count: int) -> str:
    """Return the French of click's message for COUNT things: singular for 0 and 1."""
    french = PLURALS.get((singular, plural))
    if french is None:
        return singular if count == 1 else plural
    return french[0] if count < 2 else french[1]


class FrenchHelpFormatter(click.HelpFormatter):
    """Click's help formatter with French typography: a space before the heading's colon."""

    def write_heading(self, heading: str) -> None:
        """Write HEADING as « Heading : »."""
        self.write(f"{'':>{self.current_indent}}{heading} :\n")


def speak_french() -> None:
    """Make every click command of this process speak French (idempotent)."""
    for name in CLICK_MODULES:
        module: ModuleType = importlib.import_module(name)
        if not callable(getattr(module, "_", None)):
            raise MissingFrench(f"{name} n'importe plus « _ » : click a changé, revoir "
                                "archive/click_french.py")
        module._ = gettext  # type: ignore[attr-defined]
        if hasattr(module, "ngettext"):
            module.ngettext = ngettext  # type: ignore[attr-defined]
    click.Context.formatter_class = FrenchHelpFormatter
