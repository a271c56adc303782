"""Every setting declared once (name, environment variable, default, help), read in one place.

The README's configuration table and the CLI's ``--help`` are derived from ``SETTINGS``;
a test fails when the README drifts from it.
"""

from __future__ import annotations

import os
from collections.abc import Callable, Mapping
from dataclasses import dataclass, fields
from pathlib import Path
from typing import Any

from archive.errors import InvalidInput


@dataclass(frozen=True)
class Setting:
    """One configurable value: its name, where it is read from, its default and what it does."""

    name: str
    env: str
    default: str
    help: str
    parse: Callable[[str], Any] = str


def _number(text: str) -> float:
    try:
        return float(text)
    except ValueError:
        raise ValueError(f"« {text} » n'est pas un nombre") from None


def _whole(text: str) -> int:
    try:
        return int(text)
    except ValueError:
        raise ValueError(f"« {text} » n'est pas un nombre entier") from None


def _positive_float(text: str) -> float:
    value = _number(text)
    if value < 0:
        raise ValueError("ne doit pas être négatif")
    return value


def _non_negative_int(text: str) -> int:
    value = _whole(text)
    if value < 0:
        raise ValueError("ne doit pas être négatif")
    return value


def _positive_int(text: str) -> int:
    value = _whole(text)
    if value < 1:
        raise ValueError("doit valoir au moins 1")
    return value


def _optional_positive_int(text: str) -> int | None:
    return _positive_int(text) if text.strip() else None


def _optional_path(text: str) -> Path | None:
    return Path(text) if text.strip() else None


def _host_patterns(text: str) -> tuple[str, ...]:
    patterns = tuple(part.strip().lower() for part in text.split(",") if part.strip())
    for pattern in patterns:
        if "/" in pattern or " " in pattern:
            raise ValueError(f"« {pattern} » n'est pas un motif d'hôte tel que "
                             "*.notrecontinent.com")
    return patterns


def _kernels_mode(text: str) -> str:
    mode = text.strip().lower()
    if mode not in ("", "jit"):
        raise ValueError(f"« {text} » : laissez vide (le module compilé) ou mettez « jit »")
    return mode


RevisitTiers = tuple[tuple[int | None, int], ...]
"""(articles up to AGE days old, re-checked every N days), the last tier's AGE being None."""


def _revisit_schedule(text: str) -> RevisitTiers:
    """Read ``7:1,60:7,30``: tiers AGE_DAYS:EVERY_DAYS by growing age, then the last interval."""
    parts = [part.strip() for part in text.split(",") if part.strip()]
    if not parts:
        raise ValueError("donnez au moins l'intervalle des articles anciens, par exemple 30")
    ages: list[int] = []
    intervals: list[int] = []
    for part in parts[:-1]:
        age, _, every = part.partition(":")
        ages.append(_whole(age))
        intervals.append(_whole(every))
    intervals.append(_whole(parts[-1]))
    if any(age < 1 for age in ages) or ages != sorted(set(ages)):
        raise ValueError("les âges doivent être positifs et croissants, par exemple "
                         "7:1,60:7,30")
    if any(every < 1 for every in intervals):
        raise ValueError("les intervalles valent au moins un jour")
    bounds: list[int | None] = [*ages, None]
    return tuple(zip(bounds, intervals, strict=True))


SETTINGS: tuple[Setting, ...] = (
    Setting("data_dir", "ARCHIVE_DATA_DIR", "./archive-data",
            "Répertoire de tout ce que le produit conserve (SQLite, WARC, index, rapports).",
            Path),
    Setting("contact_url", "ARCHIVE_CONTACT_URL", "https://example.org/notrecontinent-archive",
            "Adresse de contact envoyée dans le User-Agent du collecteur, pour que les "
            "exploitants des sites puissent nous joindre."),
    Setting("crawl_delay", "ARCHIVE_CRAWL_DELAY", "1.0",
            "Secondes entre deux requêtes à un même hôte (le Crawl-delay de robots.txt "
            "l'emporte s'il est plus grand).",
            _positive_float),
    Setting("crawl_concurrency", "ARCHIVE_CRAWL_CONCURRENCY", "2",
            "Requêtes en cours à la fois, tous hôtes confondus.", _positive_int),
    Setting("withdraw_after_runs", "ARCHIVE_WITHDRAW_AFTER_RUNS", "3",
            "Collectes complètes où un article peut manquer de toutes les listes avant d'être "
            "marqué retiré.", _positive_int),
    Setting("edition_hosts", "ARCHIVE_EDITION_HOSTS", "*.notrecontinent.com",
            "Hôtes qui sont des éditions de la plateforme (motifs hôte[:port], * pour "
            "n'importe quoi, séparés par des virgules) : une collecte parcourt toute édition "
            "vers laquelle les sites donnés pointent ; vide : seulement les sites donnés.",
            _host_patterns),
    Setting("revisit_schedule", "ARCHIVE_REVISIT_SCHEDULE", "7:1,60:7,30",
            "Quand rien ne dit ce qui a changé (ni REST, ni dates de sitemap, ni validateurs) : "
            "revérifier un article archivé tous les N jours selon son âge, en paliers "
            "ÂGE_JOURS:TOUS_LES_JOURS puis l'intervalle des plus anciens (par défaut : chaque "
            "jour la première semaine, chaque semaine jusqu'à deux mois, puis chaque mois).",
            _revisit_schedule),
    Setting("revisit_budget", "ARCHIVE_REVISIT_BUDGET", "200",
            "Revérifications d'articles archivés qu'une collecte fait au plus selon ce "
            "calendrier, les plus en retard d'abord ; les nouveaux articles passent toujours "
            "avant et ne comptent pas.",
            _non_negative_int),
    Setting("max_page_bytes", "ARCHIVE_MAX_PAGE_BYTES", "5000000",
            "Plus grand corps de réponse que le collecteur accepte, en octets.", _positive_int),
    Setting("secret_key", "ARCHIVE_SECRET_KEY", "",
            "Clé secrète de Flask (aucune page n'utilise de session ; à définir quand même en "
            "production)."),
    Setting("searcher_check_seconds", "ARCHIVE_SEARCHER_CHECK_SECONDS", "2.0",
            "Secondes entre deux vérifications, par un processus web, d'une nouvelle "
            "génération de l'index.", _positive_float),
    Setting("web_bind", "ARCHIVE_WEB_BIND", "127.0.0.1:8000",
            "Adresse d'écoute de gunicorn (hôte:port) ; gardez 127.0.0.1 derrière un "
            "mandataire inverse."),
    Setting("web_workers", "ARCHIVE_WEB_WORKERS", "2",
            "Processus web de gunicorn (un par cœur) ; chacun ouvre l'index après le fork.",
            _positive_int),
    Setting("web_threads", "ARCHIVE_WEB_THREADS", "4",
            "Fils d'exécution par processus gunicorn ; chacun garde son propre lecteur "
            "d'index.", _positive_int),
    Setting("web_malloc_arenas", "ARCHIVE_WEB_MALLOC_ARENAS", "1",
            "Arènes de malloc (glibc) que les fils d'exécution d'un processus web se partagent "
            "au plus : chaque arène garde ce que ses fils ont libéré, moins d'arènes gardent "
            "moins de mémoire ; 0 : le défaut de glibc (huit par cœur).", _non_negative_int),
    Setting("trusted_proxies", "ARCHIVE_TRUSTED_PROXIES", "0",
            "Mandataires inverses devant l'application dont les en-têtes X-Forwarded-For et "
            "X-Forwarded-Proto sont crus (0 = aucun ; 1 derrière nginx).", _non_negative_int),
    Setting("export_max_rows", "ARCHIVE_EXPORT_MAX_ROWS", "10000",
            "Lignes au plus d'un export CSV ou JSON d'une recherche.", _positive_int),
    Setting("release_dir", "ARCHIVE_RELEASE_DIR", "",
            "Répertoire de publication d'un hôte web (ce que `python -m archive publish` "
            "remplit) : le site sert sa version courante en lecture seule et suit chaque "
            "bascule ; vide : servir ARCHIVE_DATA_DIR.", _optional_path),
    Setting("index_build_mb", "ARCHIVE_INDEX_BUILD_MB", "",
            "Mo de postings qu'un processus d'écriture d'une reconstruction complète de "
            "l'index accumule avant d'entamer un nouveau segment ; sa mémoire culmine vers "
            "deux fois cette valeur. Vide : selon la mémoire libre au départ (la moitié, "
            "partagée entre les processus, entre 256 et 8192 Mo chacun).",
            _optional_positive_int),
    Setting("kernels_dir", "ARCHIVE_KERNELS_DIR", "",
            "Répertoire du module compilé des noyaux de la recherche (construit une fois par "
            "installation, à la première recherche). Vide : le __pycache__ du paquet s'il est "
            "inscriptible, sinon ~/.cache/notrecontinent-archive.", _optional_path),
    Setting("kernels", "ARCHIVE_KERNELS", "",
            "« jit » : ne jamais construire ni charger le module compilé des noyaux ; numba "
            "les compile à la volée dans chaque processus (quelque 120 Mo de plus). Vide : le "
            "module compilé.", _kernels_mode),
)


@dataclass(frozen=True)
class Settings:
    """The resolved configuration of one process."""

    data_dir: Path
    contact_url: str
    crawl_delay: float
    crawl_concurrency: int
    withdraw_after_runs: int
    edition_hosts: tuple[str, ...]
    revisit_schedule: RevisitTiers
    revisit_budget: int
    max_page_bytes: int
    secret_key: str
    searcher_check_seconds: float
    web_bind: str
    web_workers: int
    web_threads: int
    web_malloc_arenas: int
    trusted_proxies: int
    export_max_rows: int
    index_build_mb: int | None
    release_dir: Path | None = None
    kernels_dir: Path | None = None  # read by indexer.compiled from the environment itself
    kernels: str = ""

    @property
    def database_path(self) -> Path:
        """The SQLite archive."""
        return self.data_dir / "archive.sqlite3"

    @property
    def warc_dir(self) -> Path:
        """Where raw captures are written as WARC files."""
        return self.data_dir / "warc"

    @property
    def index_dir(self) -> Path:
        """Parent of the Whoosh index builds and of the ``current`` symlink."""
        return self.data_dir / "index"

    @property
    def reports_dir(self) -> Path:
        """Where crawl runs write their JSON reports."""
        return self.data_dir / "reports"

    def with_changes(self, **changes: Any) -> Settings:
        """Return a copy with some values replaced."""
        values = {f.name: getattr(self, f.name) for f in fields(self)}
        values.update(changes)
        return Settings(**values)


def load_settings(
    environ: Mapping[str, str] | None = None, **overrides: Any
) -> Settings:
    """Read every setting from ENVIRON (default ``os.environ``), then apply OVERRIDES."""
    environ = os.environ if environ is None else environ
    values: dict[str, Any] = {}
    for setting in SETTINGS:
        if overrides.get(setting.name) is not None:
            values[setting.name] = overrides[setting.name]
            continue
        raw = environ.get(setting.env, setting.default)
        try:
            values[setting.name] = setting.parse(raw)
        except ValueError as exc:
            raise InvalidInput(
                f"{setting.env}={raw!r} n'est pas utilisable ({exc}) ; {setting.help}"
            ) from None
    return Settings(**values)
