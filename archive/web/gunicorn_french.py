"""gunicorn's own log lines in French: its start-up, workers, signals and shutdown.

gunicorn writes its error log (its own life: « Starting gunicorn », « Booting worker ») in
English. ``FrenchLogger`` (gunicorn's ``logger_class`` setting, named in ``gunicorn.conf.py``)
says each of its known messages in French, with the level names in French too. The access log
keeps gunicorn's format (``access_log_format``): a machine format that log tools read.

A gunicorn release that adds a message fails ``tests/test_gunicorn_french.py`` until the message
has its French here; a message missing from the catalogue is written as gunicorn wrote it.
"""

from __future__ import annotations

import copy
import logging
import re
from typing import Any

from gunicorn.glogging import Logger

from archive.french import OS_REASONS

MESSAGES: dict[str, str] = {
    # The arbiter (gunicorn's master process).
    "Starting gunicorn %s": "démarrage de gunicorn %s",
    "Listening at: %s (%s)": "à l'écoute sur %s (processus maître %s)",
    "Listening at: %s": "à l'écoute sur %s",
    "Using worker: %s": "processus web de type %s",
    "Booting worker with pid: %s": "démarrage d'un processus web (pid %s)",
    "Worker exiting (pid: %s)": "arrêt d'un processus web (pid %s)",
    "Handling signal: %s": "signal reçu : %s",
    "Hang up: %s": "signal HUP : %s recharge sa configuration",
    "Shutting down: %s": "arrêt : %s",
    "Reason: %s": "raison : %s",
    "graceful stop of workers": "arrêt en douceur des processus web",
    "Quick shutdown requested": "arrêt immédiat demandé",
    "Master has been promoted.": "le nouveau processus maître prend la relève",
    "USR2 signal ignored. Child exists.": "signal USR2 ignoré : un processus enfant existe déjà",
    "USR2 signal ignored. Parent exists.": "signal USR2 ignoré : un processus parent existe déjà",
    "Ignoring unknown signal: %s": "signal inconnu ignoré : %s",
    "Unhandled signal: %s": "signal non traité : %s",
    "Unhandled exception in main loop": "exception non traitée dans la boucle du processus maître",
    "WORKER TIMEOUT (pid:%s)": "PROCESSUS WEB BLOQUÉ : délai dépassé, il est arrêté (pid %s)",
    "Worker (pid:%s) exited with code %s.":
        "le processus web (pid %s) s'est arrêté avec le code %s",
    "Worker (pid:%s) was sent %s!": "le processus web (pid %s) a reçu le signal %s",
    "Worker (pid:%s) was sent %s! Perhaps out of memory?":
        "le processus web (pid %s) a reçu le signal %s : mémoire épuisée ?",
    "Exception in worker process": "exception dans un processus web",
    "Exception during worker exit:\n%s": "exception à l'arrêt d'un processus web :\n%s",
    "reloading the logger configuration failed, keeping the previous one":
        "le rechargement de la configuration du journal a échoué : l'ancienne est gardée",
    "Spawning dirty arbiter...": "lancement du processus annexe (dirty arbiter)…",
    "Spawned dirty arbiter (pid: %s) at %s": "processus annexe lancé (pid %s) sur %s",
    "Exception in dirty arbiter process": "exception dans le processus annexe",
    "Dirty arbiter (pid:%s) exited": "le processus annexe (pid %s) s'est arrêté",
    "Dirty arbiter (pid:%s) exited with code %s":
        "le processus annexe (pid %s) s'est arrêté avec le code %s",
    "Dirty arbiter (pid:%s) killed by signal %s":
        "le processus annexe (pid %s) a été tué par le signal %s",
    "Killing orphaned dirty arbiter (pid: %s)": "arrêt du processus annexe orphelin (pid %s)",
    "Ignoring dirty arbiter PID file %s: not a regular file owned by this user, or no valid "
    "PID in it": "fichier PID du processus annexe %s ignoré : ce n'est pas un fichier ordinaire "
                 "de cet utilisateur, ou il ne contient pas de PID valide",
    "Failed to start control socket: %s": "la socket de contrôle n'a pas démarré : %s",
    "Control socket listening at %s": "socket de contrôle à l'écoute sur %s",
    "control socket thread did not stop before fork":
        "le fil de la socket de contrôle ne s'est pas arrêté avant le fork",
    "Control server error: %s": "erreur du serveur de contrôle : %s",
    "Command error": "erreur d'une commande de contrôle",
    # Listening sockets.
    "Connection in use: %s": "adresse déjà utilisée : %s",
    "Invalid address: %s": "adresse invalide : %s",
    "Can't connect to %s": "impossible d'écouter sur %s : arrêt",
    "Error while closing socket %s": "erreur à la fermeture de la socket %s",
    # The workers.
    "Reloader is on. Use in development only!":
        "rechargement automatique actif : en développement seulement !",
    "Worker reloading: %s modified": "rechargement du processus web : %s a changé",
    "Error handling request": "erreur en traitant une requête",
    "Error handling request %s": "erreur en traitant la requête %s",
    "Error handling request %s %s": "erreur en traitant la requête %s %s",
    "Error handling request (no URI read)": "erreur en traitant une requête (adresse non lue)",
    "Socket error processing request.": "erreur de socket en traitant une requête",
    "Error handling HTTP/2 request": "erreur en traitant une requête HTTP/2",
    "HTTP/2 connection error": "erreur de connexion HTTP/2",
    "HTTP/2 socket error": "erreur de socket HTTP/2",
    "Autorestarting worker after current request.":
        "redémarrage du processus web après la requête en cours (max_requests)",
    "Parent changed, shutting down: %s": "le processus maître a changé, arrêt : %s",
    "Exception in post_request hook": "exception dans le crochet post_request",
    "No keepalived connections can be handled. Check the number of worker connections and "
    "threads.": "aucune connexion persistante ne peut être gardée : vérifiez le nombre de "
                "connexions et de fils d'exécution par processus web",
    "WSGI app sent body bytes on a no-body response (method=%s status=%s); dropping per "
    "RFC 9110.": "l'application a envoyé un corps dans une réponse qui n'en a pas (méthode %s, "
                 "statut %s) : corps ignoré (RFC 9110)",
}
"""gunicorn's messages (its format strings, as it logs them) and what the log says instead."""

WORDS: dict[str, str] = {
    "Master": "processus maître",
    "Master.2": "nouveau processus maître",
    "Old Master": "ancien processus maître",
    "Worker failed to boot.": "un processus web n'a pas pu démarrer",
    "App failed to load.": "l'application n'a pas pu être chargée",
}
"""The English values gunicorn puts into its messages (the master's name, a halt's reason)."""

LEVELS = {"DEBUG": "DÉBOGAGE", "INFO": "INFO", "WARNING": "ATTENTION", "ERROR": "ERREUR",
          "CRITICAL": "CRITIQUE"}

_FORMATTED: list[tuple[re.Pattern[str], str]] = [
    # gunicorn formats these two itself before logging them.
    (re.compile(r"connection to (?P<address>.+) failed: (?P<error>.+)", re.S),
     "écoute sur {address} impossible ({reason})"),
    (re.compile(r"Invalid request from ip=(?P<address>[^:]*): (?P<error>.+)", re.S),
     "requête refusée de {address} (détail technique : {error})"),
]
_ERRNO = re.compile(r"\[Errno (\d+)\] .+")


def _reason(error: str) -> str:
    """Return an OS error's text (« [Errno 98] Address already in use ») in French."""
    found = _ERRNO.fullmatch(error)
    if found and int(found.group(1)) in OS_REASONS:
        return OS_REASONS[int(found.group(1))]
    return f"détail technique : {error}"


def in_french(msg: object, args: tuple[Any, ...]) -> tuple[object, tuple[Any, ...]]:
    """Return gunicorn's message MSG and its ARGS as the French log says them."""
    if not isinstance(msg, str):
        return msg, args
    said = MESSAGES.get(msg)
    if said is not None:
        return said, tuple(WORDS.get(arg, arg) if isinstance(arg, str) else arg for arg in args)
    if not args:
        for pattern, template in _FORMATTED:
            found = pattern.fullmatch(msg)
            if found:
                parts = found.groupdict()
                return template.format(reason=_reason(parts["error"]), **parts), args
    return msg, args


class FrenchLevels(logging.Formatter):
    """gunicorn's error-log format with the level names in French."""

    def formatMessage(self, record: logging.LogRecord) -> str:  # noqa: N802 - logging's name
        """Format RECORD with its level name in French (the record itself is left as it is)."""
        shown = copy.copy(record)
        shown.levelname = LEVELS.get(record.levelname, record.levelname)
        return super().formatMessage(shown)


class InFrench(logging.Filter):
    """Says each record of gunicorn's error log in French (``in_french``) before it is written."""

    def filter(self, record: logging.LogRecord) -> bool:
        """Translate RECORD's message and arguments in place; never drop it."""
        if isinstance(record.args, tuple):
            record.msg, record.args = in_french(record.msg, record.args)
        return True


# gunicorn ships no type information, so its Logger is Any to mypy.
class FrenchLogger(Logger):  # type: ignore[misc]
    """gunicorn's logger, writing its error log in French (``logger_class`` setting).

    Every one of its logging methods writes through ``error_log``: one filter there says them
    all in French.
    """

    def setup(self, cfg: Any) -> None:
        """Set gunicorn's handlers up, then give its error log French words and level names."""
        super().setup(cfg)
        if not any(isinstance(known, InFrench) for known in self.error_log.filters):
            self.error_log.addFilter(InFrench())
        for handler in self.error_log.handlers:
            if type(handler.formatter) is logging.Formatter:
                handler.setFormatter(FrenchLevels(self.error_fmt, self.datefmt))
