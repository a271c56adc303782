"""The one exception hierarchy of the product, with messages a user can act on.

    ArchiveError                      exit 1  anything the product reports on purpose
    ├── InvalidInput                  exit 2  bad argument, option, date, query or file
    ├── NotAnArticle                  exit 3  the page is a listing, an archive or has no text
    │   └── PageRefused               exit 3  the page is beyond what the parser accepts
    ├── FetchFailed                   exit 4  a URL or file could not be read
    ├── SiteUnreachable               exit 5  a crawl could not start: nothing answered
    ├── StoreError                    exit 6  the SQLite archive cannot be opened or used
    │   └── SchemaTooNew              exit 6  the archive was written by a newer version
    ├── IndexUnavailable              exit 7  the search index is missing or unreadable
    │   └── IndexUnreadable           exit 7  the index exists but its files cannot be read
    ├── IndexLocked                   exit 8  another indexer holds the write lock
    ├── CrawlLocked                   exit 8  another crawl of this archive is running
    ├── PublishLocked                 exit 8  another publish of this data directory is running
    ├── PublishFailed                 exit 9  a replica could not receive or switch to a release
    │   └── PublishToolMissing        exit 10 rsync (or ssh) is not installed here
    ├── ServerBusy                    exit 1  the web worker's slots for costly pages are full
    └── ArticleHidden                 exit 1  the article was withdrawn from the public on request

Each error carries its context (the URL, the path) and knows its CLI exit code and HTTP
status, so the CLI prints one line on stderr and the web layer answers with a proper status.
"""

from __future__ import annotations


class ArchiveError(Exception):
    """Base of every error the product raises on purpose."""

    exit_code = 1
    http_status = 500

    def __init__(self, message: str, *, url: str | None = None, path: str | None = None):
        super().__init__(message)
        self.message = message
        self.url = url
        self.path = path

    def __str__(self) -> str:
        return self.message


class InvalidInput(ArchiveError):
    """A value given by the user cannot be used as it is."""

    exit_code = 2
    http_status = 400


class NotAnArticle(ArchiveError):
    """The page is not an article (a listing, an archive, or a page with no article text)."""

    exit_code = 3
    http_status = 422


class PageRefused(NotAnArticle):
    """The page may hold an article but is refused (nested too deep): the crawl reports it."""


class FetchFailed(ArchiveError):
    """A URL or a local file could not be read."""

    exit_code = 4
    http_status = 502


class SiteUnreachable(ArchiveError):
    """A crawl could not start because the site did not answer at all."""

    exit_code = 5
    http_status = 502


class StoreError(ArchiveError):
    """The SQLite archive cannot be opened, migrated or written."""

    exit_code = 6
    http_status = 503


class SchemaTooNew(StoreError):
    """The archive's schema is newer than this version of the program understands."""


class IndexUnavailable(ArchiveError):
    """The search index is missing, being built for the first time, or unreadable."""

    exit_code = 7
    http_status = 503


class IndexUnreadable(IndexUnavailable):
    """The live index exists but a file of it is corrupt, truncated or of an unknown format.

    The message names the repair (``python -m archive index --full``); the CLI's ``index``
    command rebuilds by itself, the web layer answers 503.
    """


REPAIR_INDEX_COMMAND = "python -m archive index --full"
"""The command that rebuilds an unreadable index from the archive."""


class IndexLocked(ArchiveError):
    """Another indexing run holds the single-writer lock."""

    exit_code = 8
    http_status = 409


class CrawlLocked(ArchiveError):
    """Another crawl of the same archive is running (the crawl's own single-run lock)."""

    exit_code = 8
    http_status = 409


class PublishLocked(ArchiveError):
    """Another ``publish`` of the same data directory is running."""

    exit_code = 8
    http_status = 409


class PublishFailed(ArchiveError):
    """A replica could not be reached, filled or switched; it still serves its previous release.

    The message names every replica that failed and why; the others were published.
    """

    exit_code = 9
    http_status = 502


class PublishToolMissing(PublishFailed):
    """``rsync`` (or ``ssh`` for a ``host:path`` replica) is not installed: nothing was sent."""

    exit_code = 10


class ServerBusy(ArchiveError):
    """Every slot a web worker keeps for costly pages is taken; the reader may retry soon."""

    http_status = 503


class ArticleHidden(ArchiveError):
    """The article was withdrawn from every public surface on request (it stays archived)."""

    http_status = 410


EXIT_CODES: dict[int, str] = {
    0: "succès",
    1: "erreur inattendue du programme (voir le message)",
    2: "saisie invalide : un argument, une option, une date, une requête ou un fichier est "
       "inutilisable",
    3: "pas un article : la page est une liste, une archive ou n'a pas de texte d'article",
    4: "lecture impossible : l'adresse ou le fichier n'a pas pu être lu",
    5: "site injoignable : la collecte n'a pas pu commencer",
    6: "erreur d'archive : l'archive SQLite ne peut être ouverte, migrée ou écrite",
    7: "index indisponible : l'index de recherche est absent ou illisible",
    8: "index, collecte ou publication verrouillé : une autre indexation, collecte ou "
       "publication est en cours",
    9: "publication échouée : un hôte web n'a pu être joint, rempli ou basculé (il garde sa "
       "version précédente ; les autres ont été publiés)",
    10: "publication impossible : rsync (ou ssh pour hôte:chemin) n'est pas installé ici",
    130: "interrompu (Ctrl-C)",
}
"""What each exit code of ``python -m archive`` means, as its ``--help`` says it."""
